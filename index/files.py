"""Files written whole or not at all (a temporary name, fsync, one rename), and the model's folder name."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from index.embedder import Precision


def model_folder(model: str, precision: Precision) -> str:
    """A model's name (or path) and precision as one folder name: "all-MiniLM-L6-v2", "org_model-int8"."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("._") or "model"
    return name if precision == "fp32" else f"{name}-{precision}"


def unpack_model(folder: Path, files: Mapping[str, bytes]) -> None:
    """Write a model's files (name -> content) as `folder`, whole or not at all, even with workers racing."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".tmp-{folder.name}.{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    for name, data in files.items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_bytes(data)
    fsync_tree(tmp)
    try:
        os.rename(tmp, folder)
    except OSError:  # another process unpacked it first
        shutil.rmtree(tmp, ignore_errors=True)
        if not folder.is_dir():
            raise


def link_or_copy(source: str | Path, target: str | Path) -> None:
    # A hard link costs nothing, and safe here: the model cache and the versions are replaced, never rewritten.
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
