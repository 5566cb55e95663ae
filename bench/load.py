"""Throughput under load: wrk against `casebook serve` on 127.0.0.1, for a bounded time, two query mixes."""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

from bench.common import Json, Row, Served, cpu_seconds

LUA = """
local paths = {%s}
local threads_seen = 0
function setup(thread)
  thread:set("offset", threads_seen)
  threads_seen = threads_seen + 1
end
local counter = 0
function request()
  -- thread t sends paths t, t + threads, ... so no two threads replay the same sequence
  counter = counter + 1
  return wrk.format("GET", paths[(offset + counter * %d) %% #paths + 1])
end
function done(summary, latency, requests)
  io.write(string.format("p95 %%d us\\n", latency:percentile(95)))
end
"""


def have_wrk() -> bool:
    """Whether the wrk binary is installed."""
    return shutil.which("wrk") is not None


def query_mix(queries: list[Json], words: list[str], n: int, repeat: float, seed: int = 7) -> list[str]:
    """n query strings: with probability `repeat` a dev question drawn Zipf-like, else a never-seen query.

    A search box sees a few popular queries over and over; Zipf(1.1) over the dev questions models
    that head, and the fresh queries (a dev question plus two words of our own content) the long tail.
    """
    rng = random.Random(seed)
    head = [q["query"] for q in queries]
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(head))]
    mix = []
    for i in range(n):
        if rng.random() < repeat:
            mix.append(rng.choices(head, weights)[0])
        else:
            mix.append(f"{rng.choice(head)} {rng.choice(words)} {rng.choice(words)} {i}")
    return mix


def run_wrk(served: Served, texts: list[str], seconds: int, connections: int, script_dir: Path) -> Json:
    """Run wrk with one URL per request taken in turn from `texts`; parse requests/s, errors and latency."""
    return run_paths(served, ["/api/search?q=" + quote(t) for t in texts], seconds, connections, script_dir)


def run_paths(served: Served, paths: list[str], seconds: int, connections: int, script_dir: Path) -> Json:
    """Run wrk with one request per path of `paths`, taken in turn; requests/s, errors, latency, wrk's CPU seconds."""
    threads = min(2, connections)
    script = script_dir / "mix.lua"
    script.write_text(LUA % (",".join(f'"{p}"' for p in paths), threads))
    with open(script_dir / "wrk.out", "w+", encoding="utf-8") as out:
        process = subprocess.Popen(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
             "--latency", "-s", str(script), served.url], stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    if process.returncode != 0:
        raise RuntimeError(f"wrk exited with {process.returncode}: {text}")
    return {**parse_wrk(text), "wrk_cpu_seconds": usage.ru_utime + usage.ru_stime}


def parse_wrk(out: str) -> Json:
    """Requests/s, total requests, errors and latency percentiles from wrk's --latency output."""
    def ms(text: str) -> float:
        value, unit = _groups(r"([\d.]+)(us|ms|s)", text)
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    latency = {p: ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M)}
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p95 = re.search(r"^p95 (\d+) us", out, re.M)
    return {
        "rps": float(_groups(r"Requests/sec:\s+([\d.]+)", out)[0]),
        "requests": int(_groups(r"(\d+) requests in", out)[0]),
        "errors": errors + (int(non2xx.group(1)) if non2xx else 0),
        "p50": latency.get("50", 0.0), "p99": latency.get("99", 0.0),
        "p95": int(p95.group(1)) / 1000 if p95 else 0.0,
    }


def _groups(pattern: str, text: str) -> tuple[str, ...]:
    """The groups of the first match, or a ValueError naming what wrk's output lacked."""
    found = re.search(pattern, text)
    if found is None:
        raise ValueError(f"wrk's output has no match for {pattern!r}:\n{text}")
    return found.groups()


def rows_for(label: str, mix: str, r: Json, seconds: int, connections: int) -> Row:
    """One table row for a wrk run."""
    return Row("load", f"[{label}] {mix}, {connections} conns, {seconds} s",
               f"{r['rps']:.0f} req/s, {r['requests']} requests, {r['errors']} errors, "
               f"p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms", "0 errors", r["errors"] == 0)


# Issue 27: what one 2-core machine serves with the production profile, at p95 <= 50 ms.
THROUGHPUT_P95_MS = 50.0
# The page asks /api/ask once per query and reading a post asks /api/related; /api/search is what other clients
# and the search box's own pages use.
MIX = (("search", 0.5), ("ask", 0.35), ("related", 0.15))


def mixed_paths(queries: list[Json], words: list[str], posts: list[str], n: int, seed: int = 11) -> list[str]:
    """n requests: search and ask with the search-box mix of queries (80 % repeats), related posts of dev posts."""
    rng = random.Random(seed)
    texts = query_mix(queries, words, n, 0.8, seed)
    kinds = rng.choices([k for k, _ in MIX], [w for _, w in MIX], k=n)
    return [f"/api/related?path={quote(rng.choice(posts))}" if kind == "related" else f"/api/{kind}?q={quote(text)}"
            for kind, text in zip(kinds, texts, strict=True)]


def throughput(served: Served, paths: list[str], seconds: int, script_dir: Path,
               connections: tuple[int, ...] = (1, 2, 3, 4, 6, 8)) -> tuple[list[Json], Json | None]:
    """wrk at each connection count in turn (closed loop), with the server's CPU use; the run serving most
    requests per second at p95 <= THROUGHPUT_P95_MS, or None when even one connection misses it."""
    runs = []
    for c in connections:
        before, started = cpu_seconds(served.process.pid), time.perf_counter()
        result = run_paths(served, paths, seconds, c, script_dir)
        wall = time.perf_counter() - started
        result.update(connections=c, server_cores=(cpu_seconds(served.process.pid) - before) / wall,
                      wrk_cores=result["wrk_cpu_seconds"] / wall)
        runs.append(result)
        if result["p95"] > 2 * THROUGHPUT_P95_MS:
            break  # past the knee: more connections only queue
    fitting = [r for r in runs if r["p95"] <= THROUGHPUT_P95_MS and r["errors"] == 0]
    return runs, max(fitting, key=lambda r: r["rps"]) if fitting else None
