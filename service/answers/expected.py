"""What a question asks for (a number with a unit, a date, a version, a name) and whether a sentence holds it.

"How many Kafka brokers does PayPay run?" wants a count of brokers that the question does not already
state; a sentence about PayPay's Kafka producers without one answers beside the question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from index.text import is_stopword, query_terms, stem
from service.search.query import Query

Kind = Literal["number", "date", "version", "name", "open"]
Unit = Literal["money", "ratio", "duration", "speed", "frequency", "size", "count", "any"]

FOCUS_WINDOW = 5  # words between a number and what it counts: "18 enhancements", "fraud rate: about 0.0015%"

# A wh-word that opens a question of its own: at the start, or after "and" or a comma or dash. "How many
# replicas are added when CPU is high?" is one question; "how are readings cleaned, and which format ..." two.
_WH = re.compile(r"(?:^\W*|[,;:—–]\s*(?:and\s+)?|\band\s+)(?:how|what|which|when|why|where|who)\b", re.IGNORECASE)
AUX = r"(?:do|does|did|is|are|was|were|will|would|can|could|should|must|has|have|had)"
_HOW = re.compile(r"\b(?:by )?how (many|much|fast|long|often|big|large|quickly|far|high|low)\b", re.IGNORECASE)
_MORE = re.compile(r"\bhow much (?:more|less|faster|slower|smaller|bigger|larger|cheaper|better|lower|higher)\b|"
                   r"\bby how much\b", re.IGNORECASE)
_MONEY_WORDS = re.compile(r"\b(?:cost|costs|price|pricing|pay|spend|charge|budget|bill|fee|fees|salary|revenue)\b",
                          re.IGNORECASE)
_WHAT_MEASURE = re.compile(r"\b(?:what|which)(?: (\w+))? (rate|percentage|percent|share|fraction|ratio|proportion|"
                           r"tps|qps|throughput|latency|cost|price|bill|fee|fees|allowance|salary)\b", re.IGNORECASE)
# "When did/was/will ..." asks for a date; "when is X worth it" does not, unless it asks about a release or an end.
_WHEN = re.compile(r"^\s*when (?:did|was|were|will)\b|\b(?:what|which) (?:year|date|month|day)\b|"
                   r"^\s*when (?:is|are|does|do)\b.*\b(?:release|released|ship|ships|launch|end|ends|expire|"
                   r"expires|eol|end[- ]of[- ]life|due|deadline|retire|retired|deprecated|available|support)\b",
                   re.IGNORECASE)
_WHICH_VERSION = re.compile(r"\b(?:what|which) (?:\w+ )?(?:version|release)\b", re.IGNORECASE)
# "Who led ...": a name asked for beside what the person did (service/answers/attribute.py ties the two).
DEEDS = ("led", "built", "founded", "wrote", "created", "designed")
# "Which X ...", or "what X did ..." with a noun before the verb: "what goes into a prompt" asks for prose.
_WHICH_NAME = re.compile(rf"^\W*who (?:{AUX}|{'|'.join(DEEDS)}|runs|ran)\b|"
                         rf"\bwhich (?!{AUX}\b|one\b|ones\b|of\b)[\w-]+|\bwhat (?!{AUX}\b)(?:[\w-]+ ){{1,3}}{AUX}\b",
                         re.IGNORECASE)

# "What is PayPay's merchant fee per QR payment?", "which HSM vendor does ...": the attribute asked about, whose
# last word (the head: "fee", "vendor") an answer must say, or it answers beside the question.
_DETAIL = re.compile(rf"\b(?:what|which) (?!{AUX}\b)(?P<phrase>[\w'’@.+-]+(?: [\w'’@.+-]+){{0,2}}) {AUX}\b|"
                     rf"\bwhat (?:is|are|was|were)(?: (?:the|a|an))? (?P<attribute>[\w'’@.+-]+(?: [\w'’@.+-]+){{0,3}}?)"
                     rf"(?: (?:of|for|per|in|on)\b|\s*[?.!]?\s*$)", re.IGNORECASE)
# Heads that name no detail of their own ("the difference between", "the best way to") or whose value the answer
# type already checks (a version, a date).
_GENERAL_HEADS = frozenset({"difference", "best", "way", "ways", "point", "role", "purpose", "reason", "reasons",
                            "problem", "problems", "benefit", "benefits", "advantage", "advantages", "tradeoff",
                            "tradeoffs", "trade-off", "trade-offs", "idea", "deal", "catch", "story", "thing",
                            "things", "answer", "alternative", "approach", "happens", "happened", "goes", "matters",
                            "version", "release", "year", "date", "month", "day", "time", "kind", "type", "sort",
                            "part", "parts", "steps", "step", "options", "option", "rule", "rules", "mistake",
                            "mistakes", "risk", "risks", "limits", "cost", "costs", "price", "wrong", "right", "cause",
                            "causes", "number", "numbers", "rate", "percentage", "percent", "share", "fraction",
                            "ratio", "proportion"})

_NUMBER = re.compile(
    r"(?<![\w.])(?P<currency>[$€£¥]|US\$|USD ?)?(?P<value>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?!\.\d)"
    r"(?P<plus>\+)?"
    r"(?P<space>[ -]?)(?P<unit>%|percent\b|x\b|×|times\b|fold\b|k\b|m\b|b\b|million\b|billion\b|thousand\b|"
    r"trillion\b|ms\b|milliseconds?\b|µs\b|microseconds?\b|ns\b|s\b|secs?\b|seconds?\b|minutes?\b|mins?\b|"
    r"hours?\b|hrs?\b|h\b|days?\b|weeks?\b|months?\b|years?\b|gb\b|mb\b|kb\b|tb\b|gib\b|mib\b|bytes?\b|"
    r"tps\b|qps\b|rps\b|ops\b|req/s\b|/s\b|per\b|usd\b|dollars?\b|yen\b|eur\b|euros?\b)?",
    re.IGNORECASE)
VERSION = re.compile(r"\bv?(\d+\.\d+(?:\.\d+)?)\b|\bv(\d+)\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_MONTH = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d|\bq[1-4] \d{4}\b|"
                    r"\b\d{4}-\d{2}-\d{2}\b|\b(?:january|february|march|april|june|july|august|september|october|"
                    r"november|december)\b", re.IGNORECASE)
_TOKEN = re.compile(r"[\w$€£¥%.+/-]+")
_POSSESSIVE = re.compile(r"['’]s$")
_NAMED = re.compile(r"[A-Za-z][\w.+'’-]*")
# A name: a capitalised word ("Kratos"), an identifier ("gen_ai.tool.name"), or camel case ("gRPC").
_NAME = re.compile(r"^(?:[A-Z][\w.+-]*|\w+[._]\w[\w._-]*|\w*[a-z][A-Z]\w*)$")

_HOW_UNITS: dict[str, Unit] = {"fast": "speed", "quickly": "speed", "long": "duration", "often": "frequency",
                               "big": "size", "large": "size"}
UNITS: dict[Unit, tuple[str, ...]] = {
    "money": ("usd", "dollar", "dollars", "yen", "eur", "euro", "euros"),
    "ratio": ("%", "percent", "x", "×", "times", "fold"),
    "duration": ("ms", "millisecond", "milliseconds", "µs", "microsecond", "microseconds", "ns", "s", "sec",
                 "secs", "second", "seconds", "minute", "minutes", "min", "mins", "hour", "hours", "hr", "hrs",
                 "h", "day", "days", "week", "weeks", "month", "months", "year", "years"),
    "size": ("gb", "mb", "kb", "tb", "gib", "mib", "byte", "bytes", "k", "m", "b", "million", "billion",
             "thousand", "trillion", "x", "×", "%", "percent", "times", "fold"),
}
UNITS["speed"] = UNITS["duration"] + UNITS["ratio"] + ("tps", "qps", "rps", "ops", "req/s", "/s", "per")
UNITS["frequency"] = UNITS["duration"] + ("per", "times", "/s")


@dataclass(frozen=True)
class Expected:
    """The kind of span a question wants, with what the question already says."""

    kind: Kind
    unit: Unit = "any"
    focus: frozenset[str] = frozenset()  # what the number is of: {"broker"} in "how many Kafka brokers"
    numbers: frozenset[str] = frozenset()  # numbers the question already holds: not an answer
    versions: frozenset[str] = frozenset()  # versions the question names ("1.36")
    terms: frozenset[str] = frozenset()  # the question's stems: a name it already uses is not an answer
    names: frozenset[str] = frozenset()  # stems of what the question names ("PayPay", "EKS"): the answer is about them
    form: frozenset[str] = frozenset()  # stems of the asking words ("how many"): the kind of answer, not its topic
    detail: frozenset[str] = frozenset()  # stems of the attribute asked about ("fee", "vendor"): the answer says it


def expected(query: Query) -> Expected:
    """What kind of answer the question asks for; "open" when any relevant prose will do."""
    text = query.text
    how = _HOW.search(text)
    kind, unit, focus = _asked(text, how)
    return Expected(
        kind, unit, focus,
        numbers=frozenset(_plain(m.group("value")) for m in _NUMBER.finditer(text)),
        versions=frozenset(_versions(text)),
        terms=query.stems,
        names=frozenset(names(text)),
        form=frozenset(query_terms(how.group(0))) if how else frozenset(),
        detail=detail(text),
    )


def detail(question: str) -> frozenset[str]:
    """Stems of the head of the attribute a "what is the X of Y" or "which X" question asks about ("merchant fee"
    -> {"fee"}); empty when the question names no such attribute, or a general one ("the difference between")."""
    words = attribute_words(question)
    if not words:
        return frozenset()
    head = without_possessive(words[-1])
    if head.lower() in _GENERAL_HEADS or head[:1].isupper() or is_stopword(head.lower()):
        return frozenset()
    return frozenset(query_terms(head))


def attribute_words(question: str) -> list[str] | None:
    """The words of the attribute a "what is the X of Y" or "which X" question asks about ("storage limit");
    None when it names none, or asks about several things ("what is X, and what did it replace")."""
    match = _DETAIL.search(question)
    if match is None or len(_WH.findall(question)) > 1:
        return None
    return (match.group("phrase") or match.group("attribute")).split()


def _asked(query: str, how: re.Match[str] | None) -> tuple[Kind, Unit, frozenset[str]]:
    """The kind of span, its unit, and what a number must be of."""
    if len(_WH.findall(query)) > 1:
        return "open", "any", frozenset()  # "how are readings cleaned, and which format ...": several aspects
    if how:
        word = how.group(1).lower()
        if word == "many":
            return "number", "count", _focus(query[how.end():])
        if _MORE.search(query):
            return "number", "ratio", frozenset()
        if word == "much":
            return "number", "money" if _MONEY_WORDS.search(query) else "any", frozenset()
        return "number", _HOW_UNITS.get(word, "any"), frozenset()
    measure = _WHAT_MEASURE.search(query)
    if measure:
        word = measure.group(2).lower()
        unit: Unit = ("money" if word in ("cost", "price", "bill", "fee", "fees", "allowance", "salary")
                      else "any" if word in ("tps", "qps", "throughput", "latency") else "ratio")
        # "what fraud rate": the rate must be the fraud rate, not any percentage near the company's name
        return "number", unit, frozenset(query_terms(measure.group(1))) if measure.group(1) else frozenset()
    if _WHICH_VERSION.search(query):
        return "version", "any", frozenset()
    if _WHEN.search(query):
        return "date", "any", frozenset()
    if _WHICH_NAME.search(query):
        return "name", "any", frozenset()
    return "open", "any", frozenset()


def holds(expected_: Expected, sentence: str) -> bool:
    """Whether the sentence holds a span of the kind the question asks for (always, for open questions)."""
    if expected_.kind == "number":
        return bool(new_numbers(expected_, sentence))
    if expected_.kind == "date":  # a date, or a time from an event: "keys expire after 24 hours"
        timed = bool(new_numbers(replace(expected_, kind="number", unit="duration"), sentence))
        dated = bool(_MONTH.search(sentence) or _YEAR.search(sentence)) or timed
        return dated and (not expected_.versions or bool(expected_.versions & _versions(sentence)))
    if expected_.kind == "version":
        return bool(_versions(sentence))
    if expected_.kind == "name":
        return any(_NAME.match(t) and stem(t.strip(".")) not in expected_.terms for t in _TOKEN.findall(sentence)[1:])
    return True


def names(query: str) -> set[str]:
    """Stems of what a question names: capitalised words past the first ("PayPay", "EKS"), and any word
    with a digit, an inner capital or a "+" ("TLA+", "G1", "gRPC"), wherever it stands."""
    found: set[str] = set()
    for i, match in enumerate(_NAMED.finditer(query)):
        word = match.group(0).rstrip(".'’+")
        word = without_possessive(word)
        marked = any(c.isdigit() for c in word) or any(c.isupper() for c in word[1:]) or "+" in match.group(0)
        if (marked or (i > 0 and word[:1].isupper())) and not VERSION.fullmatch(word):
            found.update(query_terms(word))
    return found


def without_possessive(word: str) -> str:
    """The word without its possessive "'s" ("PayPay's" -> "PayPay")."""
    return _POSSESSIVE.sub("", word)


def names_other_versions(expected_: Expected, sentence: str) -> bool:
    """The question names a version and the sentence names only others ("1.33" for "Kubernetes 1.36")."""
    found = _versions(sentence)
    return bool(expected_.versions) and bool(found) and not found & expected_.versions


def new_numbers(expected_: Expected, sentence: str) -> list[str]:
    """Numbers of the wanted unit in the sentence that the question does not already hold."""
    words = [w.lower().strip(".,;:()") for w in sentence.split()]
    out = []
    for match in _NUMBER.finditer(sentence):
        value = _plain(match.group("value"))
        if value in expected_.numbers or value in expected_.versions or _is_version_or_year(match, sentence):
            continue
        unit = (match.group("unit") or "").lower()
        if not _unit_fits(expected_.unit, unit, bool(match.group("currency")), sentence, match.end()):
            continue
        if expected_.focus and not _near_focus(expected_.focus, words, sentence, match.start()):
            continue
        out.append(match.group(0).strip())
    return out


def _unit_fits(wanted: Unit, unit: str, currency: bool, sentence: str, end: int) -> bool:
    if wanted == "count":
        return unit not in UNITS["duration"] and unit not in ("%", "percent")
    if wanted == "money":
        return currency or unit in UNITS["money"] or sentence[end:].startswith("/")  # "0.10/hr"
    if wanted == "any":
        return bool(unit) or currency
    return unit in UNITS[wanted]


def _near_focus(focus: frozenset[str], words: list[str], sentence: str, start: int) -> bool:
    position = len(sentence[:start].split())
    nearby = words[max(0, position - FOCUS_WINDOW): position + FOCUS_WINDOW + 1]
    return any(stem(w) in focus for w in nearby)


def _focus(rest: str) -> frozenset[str]:
    """Stems of the lower-case words counted, up to the verb: "Kafka brokers does PayPay run" → {broker}.

    A rate's unit is not what is counted: "orders per second" counts orders.
    """
    words = re.split(rf"\b{AUX}\b|\b(?:per|each|every|a|an)\b|[?,;/]", rest, maxsplit=1)[0].split()
    return frozenset(stem(w.strip(".")) for w in words if w[:1].islower() and query_terms(w))


def _versions(text: str) -> set[str]:
    return {v for m in VERSION.finditer(text) if (v := m.group(1) or m.group(2))}


def _is_version_or_year(match: re.Match[str], sentence: str) -> bool:
    before = sentence[max(0, match.start() - 1): match.start()]
    value = match.group("value")
    if match.group("currency"):
        return False
    if before.lower() == "v" or (value.count(".") == 1 and not match.group("unit")
                                 and VERSION.fullmatch(value) and len(value.split(".")[1]) >= 2):
        return True  # "v1.36", "Go 1.26" (two decimals without a unit read as a version)
    return bool(_YEAR.fullmatch(value)) and not match.group("unit")


def _plain(value: str) -> str:
    return value.replace(",", "")


# A throughput figure: "544,000 TPS", "610,000 peak TPS", "583,000 orders/sec", "1.25 million writes per second".
_RATE = re.compile(r"^[\s-]*(?:(?:peak|sustained|average|avg|concurrent|total|about|over|~)\s+){0,2}"
                   r"(?:(?P<acronym>tps|qps|rps)\b|(?P<what>[a-z]+(?:\s[a-z]+)?)\s*(?:/\s*s(?:ec(?:ond)?)?\b|per\s+second\b))",
                   re.IGNORECASE)
_RATE_WORD = re.compile(r"\b(?:tps|qps|rps)\b|/\s*s|\bper\s+second\b", re.IGNORECASE)
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "b": 1e9, "billion": 1e9}


def rates(sentence: str) -> dict[str, float]:
    """The throughput figures a sentence states, by what they count ("tps", "orders/s"): two sentences that
    give different figures for the same one contradict each other, whichever is right."""
    out: dict[str, float] = {}
    if not _RATE_WORD.search(sentence):
        return out  # most sentences: no rate word at all, so no regex pass over their numbers
    for match in _NUMBER.finditer(sentence):
        unit = (match.group("unit") or "").lower()
        rest = sentence[match.end():match.end() + 40]
        if unit in ("tps", "qps", "rps"):
            key = unit
        elif unit and unit not in _SCALE:
            continue
        elif (rate := _RATE.match(rest)) is not None:
            key = (rate.group("acronym") or stem(rate.group("what").split()[-1]) + "/s").lower()
        else:
            continue
        out.setdefault(key, float(_plain(match.group("value"))) * _SCALE.get(unit, 1.0))
    return out


def contradicts(a: dict[str, float], b: dict[str, float]) -> bool:
    """Whether two sentences' throughput figures (see `rates`) differ for the same thing counted."""
    return any(abs(a[key] - b[key]) > 0.01 * max(a[key], b[key]) for key in a.keys() & b.keys())
