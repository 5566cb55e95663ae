"""What every benchmark shares: result rows, percentiles, machine load, memory, sizes and a served app."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CASEBOOK = [sys.executable, "-m", "casebook"]
Json = dict[str, Any]  # a judged question as read from JSONL, or a bag of measured facts


@dataclass(frozen=True)
class Row:
    """One figure of the final table; `ok` is None when the figure has no target."""

    section: str
    metric: str
    value: str
    target: str = ""
    ok: bool | None = None


def percentiles(seconds: list[float]) -> dict[str, float]:
    """p50/p95/p99 and mean of a list of durations, in milliseconds."""
    ms = np.asarray(seconds, dtype=np.float64) * 1000
    return {"p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)),
            "p99": float(np.percentile(ms, 99)), "mean": float(ms.mean()), "n": int(len(ms))}


def fmt_ms(p: dict[str, float]) -> str:
    """`p50 / p95 / p99 ms (n)` as one cell."""
    return f"{p['p50']:.1f} / {p['p95']:.1f} / {p['p99']:.1f} ms (n={p['n']})"


def load_average() -> str:
    """The 1-minute load average over the core count, e.g. `3.2 on 2 cores`."""
    return f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MiB."""
    total = 0
    for p in [pid, *_descendants(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process and all its descendants have used so far, in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in [pid, *_descendants(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def _descendants(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return children + [d for c in children for d in _descendants(c)]


def dir_mb(path: Path) -> float:
    """Bytes under a folder (or one file), in MiB."""
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def read_queries(path: Path) -> list[Json]:
    """The judged dev questions (one JSON object a line)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """A running `casebook serve` on 127.0.0.1: its base URL, process and time to ready."""

    url: str
    process: subprocess.Popen[bytes]
    ready_seconds: float


@contextmanager
def serve(index: Path | None, log: Path, workers: int = 1, env: dict[str, str] | None = None,
          timeout: float = 180.0, store: str | None = None) -> Iterator[Served]:
    """Start `casebook serve` (over `store`, a database URL, when given; else the `index` folder), wait for
    /readyz, yield it, and always stop it (SIGTERM, then SIGKILL)."""
    import httpx

    port = free_port()
    started = time.perf_counter()
    # The server's log goes to a file: a pipe nobody reads fills up and blocks the event loop.
    log_file = open(log, "w", encoding="utf-8")  # noqa: SIM115
    process = subprocess.Popen(
        [*CASEBOOK, "serve", *(["--store", store] if store else ["--index", str(index)]), "--port", str(port),
         "--workers", str(workers),
         "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=log_file,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = started + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"casebook serve exited with {process.returncode}: "
                                   f"{log.read_text(encoding='utf-8')[-2000:]}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() > deadline:
                raise RuntimeError(f"casebook serve not ready after {timeout:.0f} s")
            time.sleep(0.05)
        ready = time.perf_counter() - started
        if workers > 1:  # /readyz answered from one worker; give the others time to load too
            _wait_for_workers(process.pid, workers, deadline)
        yield Served(url, process, ready)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log_file.close()


def _wait_for_workers(pid: int, workers: int, deadline: float) -> None:
    # Each worker's RSS climbs while it loads the model and index; wait until the total settles.
    last = -1.0
    while time.perf_counter() < deadline:
        time.sleep(1.0)
        now = rss_mb(pid)
        if len(_descendants(pid)) >= workers and abs(now - last) < 5:
            return
        last = now
