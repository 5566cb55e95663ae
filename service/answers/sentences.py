"""The sentences of a passage that may be answer text; table rows, code, navigation and stubs left out.

A stored passage is its section's units joined by line breaks: one prose sentence or list item per
line, one line per table row, and code after a `[code]` or `[diagram]` marker line (ingest/chunk.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.text import split_sentences

MIN_WORDS = 6  # shorter lines are list stubs, labels or fragments, not something to read as an answer
MAX_WORDS = 60  # longer "sentences" are run-on lists or text that lost its punctuation
MIN_WORDS_UNPUNCTUATED = 10  # a list item without a full stop is a stub unless it says a whole thing
_CODE_MARKERS = ("[code]", "[diagram]")
# The blog's own summary of a section: "Answer-first: ...", "TL;DR: ...". The label is not answer text.
_SUMMARY_LABEL = re.compile(
    r"^(?:answer[- ]first|answer|short answer|tl;?dr|bottom line|in short|in a nutshell|summary|key takeaways?|"
    r"verdict)\s*[:—–-]\s*", re.IGNORECASE)
# Lines that point elsewhere or talk about the page itself rather than the subject.
_NAVIGATION_LABEL = re.compile(
    r"^(?:prerequisites?|continue reading|related(?: reading| posts| articles)?|read next|next|previous|"
    r"sources?|references?|see also|further reading|up next)\s*:", re.IGNORECASE)
_ABOUT_THE_PAGE = re.compile(
    r"\b(?:this|the following|the next|the previous|our|next|previous) (?:post|article|series|guide|phase|"
    r"section|chapter|tutorial|part|diagram|table|figure|chart|radar|deep[- ]dive|piece|page|handbook|"
    r"playbook|briefing|digest|write-?up|sequence diagram)\b|^(?:see|click|subscribe)\b|"
    r"^(?:read|continue|proceed) (?:the|our|more|on|next|part|phase|this)\b|"
    r"\b(?:proceed to|continue to|read on|covered (?:in|below|above)|as (?:shown|discussed|described) "
    r"(?:below|above|earlier|later)|in this (?:post|article|guide)|the following|is assumed|assumes familiarity)\b|"
    r"\b(?:below|above)[.:]?$|\b(?:everything|details?|code|snippets?|examples?|steps|implementation|diagram|"
    r"table|matrix|figure|chart|list|flow|script|test case) (?:below|above)\b",
    re.IGNORECASE)
# Sentences that describe a piece of writing ("The August radar analyzes ...") rather than the subject.
_ABOUT_WRITING = re.compile(
    r"\b(?:analy[sz]es|explores|examines|walks through|presents|outlines|introduces|breaks down|aggregates|"
    r"writes about|wrote about|"
    r"surveys|documents how|^research dossier|^(?:learn|understand|discover)\b|"
    r"is an? (?:[\w-]+ ){0,3}(?:series|guide|blueprint|playbook|masterclass|handbook|"
    r"overview|reference|index|deep[- ]dive|collection)|"
    r"(?:guide|tutorial|walkthrough|deep[- ]dive|primer|handbook|playbook|blueprint|masterclass) (?:to|for|on|of)|"
    r"with (?:a |an )?(?:short |full )?(?:faq|checklist|code|examples?|diagrams?))\b", re.IGNORECASE)
# A bullet's label: "CockroachDB: Uses Hybrid Logical Clocks ...", "Mechanism: Rather than ...". A label of one
# or two names followed by a verb is the sentence's subject and folds in ("CockroachDB uses ..."); any other
# label is dropped, and the sentence must read alone.
_LABEL = re.compile(r"^(?P<label>[A-Z0-9][^:.!?;]{0,40}?)\s*:\s+(?P<rest>[A-Za-z0-9\"'(].*)$")
_NAME_LABEL = re.compile(r"^[A-Z][\w.+#-]*(?: [A-Z][\w.+#-]*)?$")
_VERB = re.compile(r"^[A-Z][a-z]{2,}(?:es|s)$")
_PARTICIPLE = re.compile(r"^[A-Z][a-z]{2,}ed$")
_NOT_VERBS = frozenset({"kubernetes", "series", "sales", "ops", "pros", "cons", "details", "items", "results",
                        "notes", "costs", "steps", "rules", "orders", "events", "users", "services", "teams",
                        "this", "its", "has", "was", "is", "does", "always", "thus", "tps", "qps", "aws"})
# Sentences about the page's own structure rather than the subject ("Key takeaways highlight ...").
_META = re.compile(r"^this is (?:part|phase|chapter|step|episode) \w+ of\b|"
                   r"^familiarity with\b|\bconcepts introduced in\b|"  # a post's prerequisites line
                   r"^addressing (?:common|frequently asked|key) [^.]{0,60}\b(?:questions|inquiries)\b|"  # FAQ preface
                   r"^to (?:understand|explore|see|learn) how (?:these|this)\b|"
                   r"^(?:the |these |our )?(?:key )?(?:takeaways?|lessons?|highlights?|sections?|headings?|"
                   r"bullets?|points? below|summary|summaries)\b[^.]{0,30}\b(?:highlight|show|cover|summari[sz]e|"
                   r"list|include|capture|outline|recap)s?\b", re.IGNORECASE)
_ARROWS = re.compile(r"[←→↑↓•»«]|-->|->|=>|<-")
# Code keeps its symbols: a prose line has few of these, and a code line ends or starts with them.
_CODE_CHARS = re.compile(r"[{}();=<>\[\]$\\`|]")
_CODE_START = re.compile(r"^(?:#|//|/\*|--|\$ |>>>|func |def |class |import |package |return |if |for |"
                         r"const |var |let |select |insert |update |from |kubectl |curl |go |npm |pip |docker )")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


@dataclass(frozen=True)
class Sentence:
    """One line of prose a reader could take as (part of) an answer."""

    text: str  # as it reads, summary label and list dash removed
    position: int  # its place among the passage's prose lines; 0 is the section's lead
    summary: bool  # the blog's own summary line ("Answer-first:", "TL;DR:")
    list_item: bool
    about_writing: bool  # describes a post or series rather than the subject ("This series analyzes ...")
    label: str = ""  # a bullet's label dropped from its front ("Fraud rate"): what the sentence is about


def answer_sentences(text: str) -> list[Sentence]:
    """The prose sentences of a passage's text, in order, with their summary flag."""
    out: list[Sentence] = []
    in_code = False
    for raw in text.split("\n"):
        line = raw.strip()
        if line in _CODE_MARKERS:
            in_code = True
            continue
        if in_code and not _reads_as_prose(line):
            continue  # code runs from its marker until the text reads as prose again
        in_code = False
        if _is_table_row(line) or _is_code(raw):
            continue
        list_item = line.startswith(("- ", "* ", "+ "))
        line = line.lstrip("-*+ ").strip()
        for piece in split_sentences(line):
            sentence = _sentence(piece, len(out), list_item)
            if sentence is not None:
                out.append(sentence)
    return out


def _sentence(piece: str, position: int, list_item: bool) -> Sentence | None:
    label = _SUMMARY_LABEL.match(piece)
    text = piece[label.end():].strip() if label else piece
    text, dropped = unlabelled(text)
    if not is_answer_text(text):
        return None
    if not (list_item or _ends_sentence(text)):
        return None  # prose that stops mid-sentence was cut short
    return Sentence(text[:1].upper() + text[1:], position, label is not None, list_item,
                    bool(_ABOUT_WRITING.search(text)), dropped)


def unlabelled(text: str) -> tuple[str, str]:
    """The sentence without its bullet label, and the label dropped ("" when none was). The label folds in when it
    is the subject of the verb that follows: a name before a verb ("CockroachDB: Uses HLC" -> "CockroachDB uses
    HLC"), or a short label before a participle ("Fraud rate: Reported at 0.0015%" -> "Fraud rate reported at
    0.0015%"). Otherwise it is dropped ("Mechanism: Rather than ..." -> "Rather than ...")."""
    match = _LABEL.match(text)
    if match is None:
        return text, ""
    label, rest = match.group("label"), match.group("rest")
    first, _, after = rest.partition(" ")
    verb = _VERB.match(first) and first.lower() not in _NOT_VERBS and _NAME_LABEL.match(label)
    participle = _PARTICIPLE.match(first) and len(label.split()) <= 4
    if (verb or participle) and after:
        return f"{label} {first.lower()} {after}", ""
    return rest[:1].upper() + rest[1:], label


def is_answer_text(text: str) -> bool:
    """Whether a sentence can be read as answer text: prose of a fair length, about the subject, not a question."""
    words = _WORD.findall(text)
    if not MIN_WORDS <= len(words) <= MAX_WORDS or len(text.split()) > MAX_WORDS:
        return False
    if text.endswith(("?", ":")) or _NAVIGATION_LABEL.match(text) or _ABOUT_THE_PAGE.search(text) or _META.match(text):
        return False
    if not _ends_sentence(text) and len(words) < MIN_WORDS_UNPUNCTUATED:
        return False
    if text.count("(") != text.count(")") or text.endswith(("e.g.", "i.e.", "etc.", "vs.")):
        return False  # cut inside a parenthesis or after an abbreviation
    if _ARROWS.search(text) or _is_table_row(text) or _is_code(text):
        return False
    # Title-like lines ("Phase 3: Operations Playbook") capitalise nearly every word; prose does not.
    lower = sum(w[0].islower() for w in words)
    return bool(lower >= len(words) / 3)


def _ends_sentence(text: str) -> bool:
    return text.rstrip("\"')”’").endswith((".", "!"))


def _is_table_row(line: str) -> bool:
    return " | " in line or line.startswith("|") or line.endswith("|")


def _is_code(raw: str) -> bool:
    line = raw.strip()
    if raw.startswith(("    ", "\t")) and not line.startswith(("- ", "* ")):
        return True  # indented beyond a nested list item's two spaces
    if line.endswith(("{", "(", ",", ";")):
        return True
    if _CODE_START.match(line.lower()) and not _reads_as_prose(line):
        return True
    symbols = len(_CODE_CHARS.findall(line))
    return symbols >= 4 and symbols > len(_WORD.findall(line)) / 3


def _reads_as_prose(line: str) -> bool:
    line = line.lstrip("-*+ ")
    words = _WORD.findall(line)
    return (len(words) >= MIN_WORDS and line[:1].isupper() and line.endswith((".", "!", "?", ":", '"', ")"))
            and len(_CODE_CHARS.findall(line)) <= 2)
