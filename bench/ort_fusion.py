"""ONNX Runtime's fp32 BERT fusions against the exported model, on the service's own query path.

    python -m bench.ort_fusion --index /work/real-index            # 2 threads (the default runtime)
    python -m bench.ort_fusion --index /work/real-index --threads 1

The index's exported model (what `casebook serve` loads; ONNX Runtime applies its own ORT_ENABLE_ALL
rewrites when it opens it) against the same model passed first through
`onnxruntime.transformers.optimizer.optimize_model(model_type="bert")`, fp32: attention, embedding,
skip-LayerNorm and bias-GELU fused, no float16 and no quantization. Both run as an `Embedder`, each dev
question (and its lower-cased twin) embedded by both in turn, the order alternating, the way a search
embeds its query (one text, QUERY_TOKENS). Prints wall time per query, the process's CPU time per query
(ONNX Runtime's spinning threads included), graph sizes, and the largest difference between the two
vectors of a question. Not a section of `make bench`: it answered one question (bench/QUALITY.md, issue 27).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from collections import Counter
from pathlib import Path

import numpy as np
import onnx

from bench.common import load_average, read_queries
from bench.query import cold_texts
from index import DEFAULT_MODEL, Embedder, FolderStore, ModelRuntime
from index.embedder import ONNX_FILE, SERVING_FILES
from service.search.live import QUERY_TOKENS

ROOT = Path(__file__).resolve().parent.parent


def fused_copy(exported: Path, target: Path) -> Path:
    """A folder of the exported model's serving files whose ONNX graph is the fp32 BERT-fused one."""
    from onnxruntime.transformers.optimizer import optimize_model

    for name in SERVING_FILES:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(exported / name, target / name)
    config = json.loads((exported / "config.json").read_text(encoding="utf-8"))
    # The attention fusion needs the model's shape (it fails to read it from this export's graph). opt_level 0:
    # only the fusions; ONNX Runtime's own rewrites run when a session opens the file, as for the export.
    model = optimize_model(str(exported / ONNX_FILE), model_type="bert", num_heads=config["num_attention_heads"],
                           hidden_size=config["hidden_size"], opt_level=0, use_gpu=False)
    print("fused operators:", {k: v for k, v in model.get_fused_operator_statistics().items() if v})
    model.save_model_to_file(str(target / ONNX_FILE))
    return target


def graph_size(folder: Path) -> str:
    """How many nodes the ONNX file holds, and its commonest operators."""
    ops = Counter(node.op_type for node in onnx.load(str(folder / ONNX_FILE), load_external_data=False).graph.node)
    return f"{sum(ops.values())} nodes ({', '.join(f'{op} {n}' for op, n in ops.most_common(4))})"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--index", type=Path, required=True, help="a folder store holding the exported model (models/)")
    p.add_argument("--queries", type=Path, default=ROOT.parent / "shared" / "eval" / "dev.jsonl")
    p.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads (0: all cores)")
    p.add_argument("--rounds", type=int, default=2, help="times over the questions")
    p.add_argument("--work", type=Path, default=ROOT / "var" / "bench" / "ort-fusion")
    args = p.parse_args()

    exported = FolderStore(args.index).model_path(DEFAULT_MODEL)
    if exported is None:
        raise SystemExit(f"{args.index}: no exported model under models/ (an ingest with the full install writes one)")
    runtime = ModelRuntime(threads=args.threads)
    folders = {"exported": exported, "fused": fused_copy(exported, args.work / "fused")}
    models = {name: Embedder(DEFAULT_MODEL, runtime, folder) for name, folder in folders.items()}
    texts = cold_texts(read_queries(args.queries))
    for model in models.values():  # first calls allocate
        model.encode(texts[:5], max_tokens=QUERY_TOKENS)
    wall: dict[str, list[float]] = {name: [] for name in models}
    cpu: dict[str, list[float]] = {name: [] for name in models}
    largest = 0.0
    started = load_average()
    for turn in range(args.rounds * len(texts)):
        text = texts[turn % len(texts)]
        vectors = {}
        for name in sorted(models, reverse=turn % 2 == 1):
            clock, process = time.perf_counter(), time.process_time()
            vectors[name] = models[name].encode([text], max_tokens=QUERY_TOKENS)[0]
            wall[name].append(time.perf_counter() - clock)
            cpu[name].append(time.process_time() - process)
        largest = max(largest, float(np.abs(vectors["exported"] - vectors["fused"]).max()))
    print(f"load {started} at start, {load_average()} at end; {args.threads or os.cpu_count()} threads; "
          f"n={len(wall['exported'])} per model")
    for name, folder in folders.items():
        w, c = np.array(wall[name]) * 1000, np.array(cpu[name]) * 1000
        print(f"{name:8s} {graph_size(folder)}\n         wall p50 {np.median(w):.2f} ms, mean {w.mean():.2f} ms; "
              f"process CPU p50 {np.median(c):.2f} ms")
    print(f"largest |exported - fused| over the questions' vectors: {largest:.1e} (the bar: 1e-5)")


if __name__ == "__main__":
    main()
