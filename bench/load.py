"""Throughput under load: wrk against `casebook serve` on 127.0.0.1, for a bounded time, two query mixes."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

from bench.common import Json, Row, Served

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
    threads = 2
    paths = ",".join('"/api/search?q=' + quote(t) + '"' for t in texts)
    script = script_dir / "mix.lua"
    script.write_text(LUA % (paths, threads))
    result = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
         "--latency", "-s", str(script), served.url],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    )
    return parse_wrk(result.stdout)


def parse_wrk(out: str) -> Json:
    """Requests/s, total requests, errors and latency percentiles from wrk's --latency output."""
    def ms(text: str) -> float:
        value, unit = _groups(r"([\d.]+)(us|ms|s)", text)
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    latency = {p: ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M)}
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(_groups(r"Requests/sec:\s+([\d.]+)", out)[0]),
        "requests": int(_groups(r"(\d+) requests in", out)[0]),
        "errors": errors + (int(non2xx.group(1)) if non2xx else 0),
        "p50": latency.get("50", 0.0), "p99": latency.get("99", 0.0),
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
