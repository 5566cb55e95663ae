"""The embedding backends: ONNX Runtime gives torch's vectors, so either can serve the same index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index import DEFAULT_MODEL, Embedder, FolderStore, ModelRuntime
from index.settings import SharedSettings

TEXTS = [
    "How does Alipay survive Double 11?",
    "Capacity planning: we load-test every payment path at three times last year's peak.",
    "x " * 400,  # longer than the model's window: truncated the same way by both backends
]


@pytest.fixture(scope="session")
def torch_embedder() -> Embedder:
    return Embedder(DEFAULT_MODEL, ModelRuntime(backend="torch"))


@pytest.fixture(scope="session")
def onnx_embedder(tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    return Embedder(DEFAULT_MODEL, ModelRuntime(cache_dir=tmp_path_factory.mktemp("models")))


def test_onnx_vectors_match_torch(torch_embedder: Embedder, onnx_embedder: Embedder) -> None:
    cosine = (torch_embedder.encode(TEXTS) * onnx_embedder.encode(TEXTS)).sum(axis=1)
    assert cosine.min() > 0.999


def test_onnx_counts_tokens_like_torch(torch_embedder: Embedder, onnx_embedder: Embedder) -> None:
    assert onnx_embedder.count_tokens(TEXTS) == torch_embedder.count_tokens(TEXTS)
    assert (onnx_embedder.dim, onnx_embedder.max_tokens) == (torch_embedder.dim, torch_embedder.max_tokens)


def test_onnx_vectors_are_unit_length_in_input_order(onnx_embedder: Embedder) -> None:
    vectors = onnx_embedder.encode(TEXTS, batch_size=2)
    assert vectors.shape == (3, onnx_embedder.dim) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[0], onnx_embedder.encode(TEXTS[:1])[0], atol=1e-5)


def test_onnx_export_is_cached(onnx_embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> None:
    folders = [p for p in Path(tmp_path_factory.getbasetemp()).glob("models[0-9]*") if not p.is_symlink()]
    (exported,) = [f for folder in folders for f in folder.glob("*.onnx")]
    written = exported.stat().st_mtime_ns
    again = Embedder(DEFAULT_MODEL, ModelRuntime(cache_dir=exported.parent))
    assert exported.stat().st_mtime_ns == written  # the second load reused the file instead of exporting
    assert np.allclose(again.encode(TEXTS[:1]), onnx_embedder.encode(TEXTS[:1]), atol=1e-6)


def test_the_model_copy_ingest_keeps_in_the_index_runs_without_the_cache(index_dir: Path, onnx_embedder: Embedder,
                                                                         tmp_path: Path) -> None:
    copy = FolderStore(index_dir).model_path(DEFAULT_MODEL)
    served = Embedder(DEFAULT_MODEL, ModelRuntime(cache_dir=tmp_path / "empty"), exported=copy)
    assert not (tmp_path / "empty").exists()  # nothing exported: a server without PyTorch can do this
    assert np.allclose(served.encode(TEXTS), onnx_embedder.encode(TEXTS), atol=1e-6)
    assert served.count_tokens(TEXTS) == onnx_embedder.count_tokens(TEXTS)


def test_unknown_backend_is_refused_with_the_variable_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEBOOK_EMBED_BACKEND", "tensorflow")
    with pytest.raises(ValueError, match="CASEBOOK_EMBED_BACKEND has value 'tensorflow'. Not one of torch, onnx."):
        SharedSettings.from_env()
