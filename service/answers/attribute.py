"""The attribute a question asks about, tied to its value inside one sentence of the answer.

A covered topic whose asked detail is missing still gets sentences that say the attribute's word next to a value
of something else: "how many user accounts were affected?" answered by "1 million new users", "which Kubernetes
version ..." by "Go 1.26", "what is the monthly AWS bill?" by a heading that says "AWS bill" and a line that
costs S3 calls. The value the question wants must stand in the same sentence as what it is the value of.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from index.text import is_stopword, query_terms, stem
from service.answers.expected import (
    AUX,
    DEEDS,
    UNITS,
    VERSION,
    Expected,
    Unit,
    attribute_words,
    holds,
    new_numbers,
    without_possessive,
)

# "what is the (maximum) number of tools ..." counts tools, as "how many tools" does.
_NUMBER_OF = re.compile(r"\bwhat (?:is|was|are|were) the (?:(?:maximum|minimum|max|min|total|average|typical|exact) )?"
                        r"number of ([\w-]+)", re.IGNORECASE)
_HOW_MANY = re.compile(r"\bhow many\b(.*)", re.IGNORECASE)
_COUNT_ENDS = re.compile(rf"\b{AUX}\b|\b(?:per|each|every|a|an|may|might)\b|[?,;/]", re.IGNORECASE)
# "... save in dollars per year": the question names the unit of the value it wants.
_IN_UNIT = re.compile(r"\bin (dollars|usd|euros?|yen|milliseconds|seconds|minutes|hours|gb|mb|tb|bytes)\b",
                      re.IGNORECASE)
# "who led PayPay's migration": a name beside "led", not any name in a sentence about the migration.
_WHO = re.compile(rf"^\W*who ({'|'.join(DEEDS)})\b", re.IGNORECASE)
_DEEDS = {"led": r"\b(?:led|leads?|leading)\b", "built": r"\bbuil(?:t|ds?|ding)\b",
          "founded": r"\bfound(?:ed|ers?)\b", "wrote": r"\b(?:wrote|writes?|written|author)\b",
          "created": r"\bcreat(?:ed|es?|ors?)\b", "designed": r"\bdesign(?:ed|s|ers?)?\b"}
_WHICH_VERSION = re.compile(r"\b(?:what|which) ((?:[\w.+-]+ ){1,2})(?:version|release)\b", re.IGNORECASE)
OWNER_WORDS = 2  # "Kubernetes 1.35", "Argo CD 3.4": the version follows its product's name
# Heads whose value is a number ("the storage limit", "the monthly bill") or a date ("the end-of-life date").
_MEASURES = frozenset({"limit", "size", "bill", "fee", "capacity", "budget", "salary", "allowance", "port",
                       "timeout", "ttl", "latency", "throughput", "maximum", "minimum", "length", "retention",
                       "quota", "count", "total"})
_DATES = frozenset({"date", "year", "month", "day"})
_VAGUE = frozenset({"exact", "precise", "actual", "official", "current", "latest", "planned", "expected", "final"})
_ONCE = frozenset({"time", "times"})  # "how many times may it retry": an answer says "twice", "up to three"


@dataclass(frozen=True)
class Attribute:
    """What the value a question asks for must stand beside, in one sentence of the answer."""

    counted: frozenset[str] = frozenset()  # a count must be of this: {"account"} in "how many user accounts"
    head: frozenset[str] = frozenset()  # the sentence with the asked name says this: {"model"} in "what GPU model"
    measure: frozenset[str] = frozenset()  # a number stands beside this: {"limit"} in "what is the storage limit"
    dated: frozenset[str] | None = None  # a date stands beside these: {"end", "life"} in "the exact end-of-life date"
    unit: Unit | None = None  # a value in this unit: "money" for "in dollars"
    deed: str = ""  # a name stands beside this verb: "led" in "who led ..."
    owner: str = ""  # a version follows this name: "kubernetes" in "which Kubernetes version"


def asked(question: str, expected_: Expected) -> Attribute:
    """The attribute the question asks about, read from its wording and the kind of answer it wants."""
    counted = _counted(question) if expected_.kind == "number" else None
    if counted is None and (number_of := _NUMBER_OF.search(question)):
        counted = stem(number_of.group(1).lower())
    words = attribute_words(question) or []
    head = without_possessive(words[-1]).lower() if words else ""
    unit = _IN_UNIT.search(question)
    who = _WHO.search(question)
    version = _WHICH_VERSION.search(question) if expected_.kind == "version" else None
    return Attribute(
        counted=frozenset({counted}) if counted else frozenset(),
        # A plural asks for several things ("which anti-patterns"), whose sentences seldom repeat the word.
        head=frozenset(query_terms(head)) if expected_.detail and expected_.kind != "open" and not _plural(head)
        else frozenset(),
        measure=frozenset(query_terms(head)) if head in _MEASURES else frozenset(),
        dated=frozenset().union(*(query_terms(w) for w in words[:-1] if w.lower() not in _VAGUE))
        if head in _DATES and expected_.kind == "open" else None,
        unit=("money" if unit.group(1).lower() in UNITS["money"] else "any") if unit else None,
        deed=who.group(1).lower() if who else "",
        owner=version.group(1).split()[-1].lower() if version else "",
    )


def tied(attribute: Attribute, expected_: Expected, sentences: Sequence[tuple[str, frozenset[str], bool]]) -> bool:
    """Whether one of the answer's sentences (text, stems, holds the kind of value asked) states the value
    beside what it is the value of, for each tie the question makes."""
    plain = replace(expected_, kind="number", unit="count", focus=frozenset())
    checks: list[Callable[[str, frozenset[str], bool], bool]] = []
    if attribute.counted:
        of = replace(plain, focus=attribute.counted)
        checks.append(lambda text, stems, typed: bool(new_numbers(of, text)))
    if attribute.head:
        checks.append(lambda text, stems, typed: typed and attribute.head <= stems)
    if attribute.measure:
        checks.append(lambda text, stems, typed: attribute.measure <= stems and bool(
            new_numbers(plain, text) or new_numbers(replace(plain, unit="any"), text)))
    if attribute.dated is not None:
        dated, date = attribute.dated, replace(expected_, kind="date")
        checks.append(lambda text, stems, typed: dated <= stems and holds(date, text))
    if attribute.unit:
        valued = replace(plain, unit=attribute.unit)
        checks.append(lambda text, stems, typed: bool(new_numbers(valued, text)))
    if attribute.deed:
        deed, named = re.compile(_DEEDS[attribute.deed], re.IGNORECASE), replace(expected_, kind="name")
        checks.append(lambda text, stems, typed: bool(deed.search(text)) and holds(named, text))
    if attribute.owner:
        checks.append(lambda text, stems, typed: _owned(attribute.owner, text))
    return all(any(check(*s) for s in sentences) for check in checks)


def _counted(question: str) -> str | None:
    """Stem of what "how many" counts: the first plural among the lower-case words up to the verb
    ("how many user accounts were" -> "account", "how many pickers work in the warehouse" -> "picker")."""
    how = _HOW_MANY.search(question)
    if how is None:
        return None
    words = [w for w in _COUNT_ENDS.split(how.group(1), maxsplit=1)[0].split()
             if w[:1].islower() and not is_stopword(w.lower())]
    if not words or words[0].lower() in _ONCE:
        return None
    plural = [w for w in words if _plural(w)]
    return stem((plural or words)[0].lower())


def _plural(word: str) -> bool:
    return word.endswith("s") and not word.endswith("ss")


def _owned(owner: str, sentence: str) -> bool:
    """A version in the sentence follows the asked product's name ("Kubernetes v1.35", not "Go 1.26")."""
    return any(any(owner in w for w in sentence[:m.start()].lower().split()[-OWNER_WORDS:])
               for m in VERSION.finditer(sentence))
