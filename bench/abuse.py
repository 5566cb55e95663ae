"""Section `abuse`: the production profile on the real blog under a hostile client, over real HTTP.

One client (wrk, 127.0.0.1) holds 50 connections of the most expensive request the API allows while an
ordinary reader searches from another address (127.0.0.2: Linux routes all of 127/8 to the loopback); a client
rotates X-Forwarded-For to buy new rate-limit buckets; one client floods the gap log with junk while a reader
asks real questions the blog cannot answer.
"""

from __future__ import annotations

import http.client
import random
import re
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import numpy as np

from bench.common import ROOT, Json, Row, Served, load_average, percentiles, read_queries, serve
from service.authors.gap_log import ROWS_PER_HOUR, read_unanswered

READER = "127.0.0.2"  # the reader's own address, beside the abuser's 127.0.0.1
SPOOFER = "127.0.0.3"
READER_EVERY = 0.7  # seconds between the reader's searches
ABUSE_SECONDS = 20
ABUSE_CONNECTIONS = 50
READER_P95_MS = 250.0
JUNK_QUESTIONS = 10_000
SPOOFED = 400
RATE_LIMIT = 120  # the production profile's, per minute
SETTLED = 8  # seconds: the gap log writes a question once it has settled (5 s)
# Status counts per wrk thread, summed in done(); `request` is the script's own when it builds its URLs.
WRK_STATUSES = """
local threads = {}
limit = 0  -- responses per thread after which it stops (0: run for the duration)
function setup(thread) table.insert(threads, thread) end
function init(args)
  statuses = {}
  local seed = tonumber(tostring({}):match("0x(%x+)"), 16) or os.time()
  math.randomseed(seed)
end
local answered = 0
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  answered = answered + 1
  if limit > 0 and answered >= limit then wrk.thread:stop() end
end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do total[k] = (total[k] or 0) + v end
  end
  for k, v in pairs(total) do io.write(string.format("status %d %d\\n", k, v)) end
end
"""
# The costliest request the API allows: 500 characters of letters no dictionary has (every word sent to the
# spelling corrector, the model fed its whole window), k=50, on /api/ask; new text each time (no cache helps).
WRK_HEAVY = WRK_STATUSES + """
local letters = "qwrtzpsdfghjklxcvbnm"
function request()
  local words, n = {}, 0
  while n < 480 do
    local w = {}
    for i = 1, math.random(6, 10) do local j = math.random(1, #letters); w[i] = letters:sub(j, j) end
    words[#words + 1] = table.concat(w); n = n + #w + 1
  end
  return wrk.format("GET", "/api/ask?k=50&q=" .. table.concat(words, "+"))
end
"""
# Junk for the gap log: half keyboard mash, half salad of real words; short, so 10,000 take a minute or two.
WRK_JUNK = WRK_STATUSES + """
local letters = "qwrtzpsdfghjklxcvbnm"
local salad = {"cheap", "pills", "casino", "bonus", "crypto", "win", "free", "click", "here", "best", "offer",
               "replica", "watches", "loan", "fast", "online", "deal", "promo", "lottery", "prize"}
local sent = 0
function request()
  sent = sent + 1
  local words = {}
  for k = 1, 4 do
    if sent % 2 == 0 then
      words[k] = salad[math.random(1, #salad)]
    else
      local w = {}
      for i = 1, math.random(5, 9) do local j = math.random(1, #letters); w[i] = letters:sub(j, j) end
      words[k] = table.concat(w)
    end
  end
  return wrk.format("GET", "/api/search?q=" .. table.concat(words, "+") .. "+" .. sent)
end
"""


def run(index_dir: Path, queries: list[Json], work: Path, workers: int = 2) -> list[Row]:
    """What requests cost in process, then three attacks against `casebook serve` in the production profile,
    each on a fresh server."""
    rows = _costs(index_dir, queries)
    rows.append(_abused_reader(index_dir, queries, work, workers))
    rows += _spoofed_forwarded_for(index_dir, work, workers)
    rows.append(_junk_flood(index_dir, work, workers))
    return rows


def _costs(index_dir: Path, queries: list[Json]) -> list[Row]:
    """CPU time of the request's thread (what a worker spends, whatever else the machine runs) for an ordinary
    search and ask and for the costliest requests, caches off, beside the rate-limit tokens each is charged."""
    from service.answers.answer import ask
    from service.http.admission import request_cost
    from service.search.holder import open_live
    from service.search.live import Filters
    from service.search.results import search
    from service.settings import ServiceSettings

    live = open_live(ServiceSettings(index_dir=index_dir, gap_log=None, embed_threads=1))
    live.query_vectors.size = 0  # every question embedded, as a new one would be
    rng = random.Random(11)
    rare = [w for w, n in live.version.vocabulary().items() if n == 1 and w.isalpha() and len(w) > 4]
    texts = [q["query"] for q in queries]

    def soup(chars: int, letters: bool) -> str:
        words: list[str] = []
        while len(" ".join(words)) < chars:
            words.append("".join(rng.choice("qwrtzpsdfghjklxcvbnm") for _ in range(rng.randint(6, 10)))
                         if letters else rng.choice(rare))
        return " ".join(words)[:chars].strip()

    cases: list[tuple[str, Callable[..., object], Callable[[int], str], int]] = [
        ("ordinary search (a judged question), k 10", search, lambda n: texts[n % len(texts)], 10),
        ("ordinary ask, k 10", ask, lambda n: texts[n % len(texts)], 10),
        ("500 characters of rare words, search, k 50", search, lambda n: soup(500, False), 50),
        ("500 characters of letter soup, ask, k 50 (the costliest)", ask, lambda n: soup(500, True), 50)]
    for _ in range(5):  # warm the model and the caches of the index
        search(live, texts[0], Filters(), 10)
    rows, base = [], 0.0
    for label, run_one, text, k in cases:
        spent = []
        for n in range(30):
            question = text(n)
            started = time.thread_time()
            run_one(live, question, Filters(), k)
            spent.append((time.thread_time() - started) * 1000)
        ms = float(np.median(spent))
        base = base or ms
        tokens = request_cost("ask" if run_one is ask else "search", len(question), k)
        rows.append(Row("abuse", f"CPU per request: {label}", f"{ms:.1f} ms ({ms / base:.2f}x the ordinary "
                        f"search), charged {tokens:g} tokens"))
    return rows


def _env(work: Path, **more: str) -> dict[str, str]:
    gaps = work / "abuse-gaps.sqlite"  # the real index is read-only; its gap log goes here
    for path in gaps.parent.glob(f"{gaps.name}*"):
        path.unlink()
    return {"CASEBOOK_PROFILE": "production", "CASEBOOK_EMBED_THREADS": "1", "CASEBOOK_GAP_LOG": str(gaps),
            "CASEBOOK_MODEL_CACHE": str(ROOT / "var" / "models"), **more}


def _abused_reader(index_dir: Path, queries: list[Json], work: Path, workers: int) -> Row:
    """The reader's latency with and without the abuser, and what the abuser got."""
    texts = [q["query"] for q in queries]
    with serve(index_dir, work / "serve-abuse.log", workers, _env(work)) as served:
        before = load_average()
        alone = _Reader(served, texts[: len(texts) // 2], READER)
        alone.run_for(10)
        reader = _Reader(served, texts[len(texts) // 2 :], READER)
        thread = threading.Thread(target=reader.run_for, args=(ABUSE_SECONDS,))
        thread.start()
        abuser = _wrk(served, WRK_HEAVY, ABUSE_SECONDS, ABUSE_CONNECTIONS, work)
        thread.join()
    quiet, busy = percentiles(alone.seconds), percentiles(reader.seconds) if reader.seconds else None
    refused = abuser["statuses"].get(429, 0) + abuser["statuses"].get(503, 0)
    p95 = busy["p95"] if busy else float("inf")
    value = (f"reader alone p50 {quiet['p50']:.0f} / p95 {quiet['p95']:.0f} ms; beside the abuser p50 "
             f"{busy['p50'] if busy else float('nan'):.0f} / p95 {p95:.0f} / max "
             f"{max(reader.seconds, default=0) * 1000:.0f} ms, {len(reader.errors)} reader errors of "
             f"{len(reader.seconds) + len(reader.errors)}; abuser {_statuses(abuser)}, "
             f"{abuser['requests'] / ABUSE_SECONDS:.0f} req/s; {workers} workers; load {before}")
    ok = p95 <= READER_P95_MS and not reader.errors and refused > 0
    return Row("abuse", f"one client, {ABUSE_CONNECTIONS} connections of max-cost /api/ask for {ABUSE_SECONDS} s, "
               f"a reader searching every {READER_EVERY} s", value,
               f"reader p95 <= {READER_P95_MS:.0f} ms, no reader errors, abuser 429/503", ok)


def _spoofed_forwarded_for(index_dir: Path, work: Path, workers: int) -> list[Row]:
    """A client sending a new X-Forwarded-For each time: from the loopback, as the default profile sees a proxy
    that passes the client's header through, and from an untrusted address when the loopback is trusted."""
    rows = []
    for label, peer, env in (("nothing trusted (the default), from 127.0.0.1", "127.0.0.1", {}),
                             (f"127.0.0.1 trusted, from {SPOOFER}", SPOOFER,
                              {"CASEBOOK_TRUSTED_PROXIES": "127.0.0.1"})):
        with serve(index_dir, work / "serve-abuse.log", workers, _env(work, **env)) as served:
            started = time.perf_counter()
            statuses = _spoof(served, peer, SPOOFED)
            seconds = time.perf_counter() - started
        # One bucket a worker: a minute's worth of tokens at once, then refilled at a minute's worth a minute.
        allowed = int(workers * RATE_LIMIT * (1 + seconds / 60))
        answered = statuses.get(200, 0)
        rows.append(Row("abuse", f"spoofed X-Forwarded-For, {SPOOFED} cheap searches, {label}",
                        f"{answered} answered, {statuses.get(429, 0)} refused with 429 (others "
                        f"{sum(v for s, v in statuses.items() if s not in (200, 429))}) in {seconds:.0f} s; "
                        f"one client's allowance {allowed}; load {load_average()}",
                        "answered <= one client's allowance", answered <= allowed))
    return rows


def _spoof(served: Served, peer: str, n: int) -> dict[int, int]:
    address = urlsplit(served.url)
    statuses: dict[int, int] = {}
    rng = random.Random(5)
    for i in range(n):
        forged = f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        conn = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30,
                                          source_address=(peer, 0))
        try:
            conn.request("GET", "/api/search?" + urlencode({"q": f"ledger {i}", "k": 3}),
                         headers={"X-Forwarded-For": forged})
            response = conn.getresponse()
            response.read()
            statuses[response.status] = statuses.get(response.status, 0) + 1
        finally:
            conn.close()
    return statuses


def _junk_flood(index_dir: Path, work: Path, workers: int) -> Row:
    """10,000 junk questions from one client while a reader asks the blog's unanswerable questions: the
    reader's questions logged during the flood, against those logged when the reader asked alone."""
    real = [q["query"] for q in read_queries(ROOT / "bench" / "unanswerable.jsonl")]
    env = _env(work)
    gaps = Path(env["CASEBOOK_GAP_LOG"])
    with serve(index_dir, work / "serve-abuse.log", workers, env) as served:
        _Reader(served, real, READER, every=0.5, path="/api/ask").run_for(len(real) * 0.5)
        time.sleep(SETTLED)
        alone = {r.query for r in read_unanswered(gaps)}
        flooded_from = len(read_unanswered(gaps))
        reader = _Reader(served, real, READER, every=0.5, path="/api/ask")
        thread = threading.Thread(target=reader.run_for, args=(len(real) * 0.5,))
        thread.start()
        flood = _wrk(served, WRK_JUNK, 0, 8, work, requests=JUNK_QUESTIONS)
        thread.join()
        time.sleep(SETTLED)
    logged = read_unanswered(gaps)[flooded_from:]
    kept = {r.query for r in logged} & alone
    junk = len([r for r in logged if r.query not in set(real)])
    return Row("abuse", f"gap log: {JUNK_QUESTIONS:,} junk questions from one client, {len(real)} unanswerable "
               "questions from a reader meanwhile",
               f"{len(kept)} of the {len(alone)} the reader's questions log alone are logged, {junk} junk rows; "
               f"flood {_statuses(flood)}; load {load_average()}",
               f"all of the reader's logged, junk rows <= {ROWS_PER_HOUR * workers} (a client's hourly cap a worker)",
               kept == alone and junk <= ROWS_PER_HOUR * workers)


class _Reader:
    """A reader on its own address: one question every `every` seconds on a kept-alive connection."""

    def __init__(self, served: Served, texts: list[str], source: str, every: float = READER_EVERY,
                 path: str = "/api/search") -> None:
        self.address = urlsplit(served.url)
        self.path = path
        self.texts = texts
        self.source = source
        self.every = every
        self.seconds: list[float] = []
        self.errors: list[str] = []

    def run_for(self, seconds: float) -> None:
        """Ask until `seconds` have passed, on a fixed beat (a slow answer does not delay the next question)."""
        conn = self._connect()
        started = time.perf_counter()
        n = 0
        while time.perf_counter() - started < seconds:
            text = self.texts[n % len(self.texts)] + ("" if n < len(self.texts) else f" {n}")
            sent = time.perf_counter()
            try:
                conn.request("GET", f"{self.path}?" + urlencode({"q": text}))
                response = conn.getresponse()
                body = response.read()
                if response.status == 200:
                    self.seconds.append(time.perf_counter() - sent)
                else:
                    self.errors.append(f"{response.status}: {body[:120]!r}")
            except (OSError, http.client.HTTPException) as e:
                self.errors.append(repr(e))
                conn.close()
                conn = self._connect()
            n += 1
            time.sleep(max(0.0, started + n * self.every - time.perf_counter()))
        conn.close()

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.address.hostname or "", self.address.port, timeout=60,
                                          source_address=(self.source, 0))


def _wrk(served: Served, script: str, seconds: int, connections: int, work: Path, requests: int = 0) -> Json:
    """Run wrk with a Lua script for `seconds` (or until about `requests` were sent); its status counts."""
    path = work / "abuse.lua"
    # wrk runs for a duration; with `requests`, each of its two threads stops after its half
    path.write_text(script.replace("limit = 0", f"limit = {requests // 2}", 1), encoding="utf-8")
    duration = seconds or 600
    out = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--timeout", "30s",
                          "-s", str(path), served.url], capture_output=True, text=True, timeout=duration + 120,
                         check=True).stdout
    statuses = {int(s): int(n) for s, n in re.findall(r"^status (\d+) (\d+)$", out, re.M)}
    total = re.search(r"(\d+) requests in", out)
    return {"statuses": statuses, "requests": int(total.group(1)) if total else sum(statuses.values())}


def _statuses(result: Json) -> str:
    return ", ".join(f"{n} x {s}" for s, n in sorted(result["statuses"].items())) or "no responses"
