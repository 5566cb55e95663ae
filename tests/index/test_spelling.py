"""Spelling correction against an index's own words: what is corrected, what is never touched."""

from __future__ import annotations

import pytest

from index.lexical import LexicalSearch
from index.spelling import Speller, max_edits
from index.text import spellable_words

TEXTS = [
    "Kubernetes runs the ingress controller; the migration to Kubernetes took a quarter.",
    "PayPay scaled its payment core on TiDB and Kafka during the cashback campaign.",
    "Sharding the ledger by account keeps every shard small. Sharding needs a routing table.",
    "Each journal entry has a debit and a credit; an entry is never edited. Entry ids are unique.",
    "An entity owns its accounts.",
    "The stream processor pauses a partition when the sink falls behind.",
    "Set max_retries in config.yaml; v1.5 added --dry-run and the useEffect hook.",
]


@pytest.fixture(scope="module")
def speller() -> Speller:
    """A speller over a real BM25 index of the texts above (the index's vocabulary decides what is known)."""
    return Speller.build(TEXTS, LexicalSearch.build(TEXTS).knows)


@pytest.mark.parametrize(("typed", "expected"), [
    ("kubernnetes ingres migration", "kubernetes ingress migration"),  # a doubled and a dropped letter
    ("shardnig the ledger", "sharding the ledger"),  # two neighbouring letters swapped: one edit
    ("how does PyaPay scale", "how does PayPay scale"),  # typed with capitals: the blog's own spelling
    ("Kubernetees?", "Kubernetes?"),  # punctuation around a word stays where it was
    ("KUBERNNETES", "KUBERNETES"),
    ("procesor pauses", "processor pauses"),
    ("kbernetess", "kubernetes"),  # ten letters: two edits allowed
])
def test_an_unknown_word_becomes_the_closest_word_of_the_index(speller: Speller, typed: str, expected: str) -> None:
    spelling = speller.correct(typed)
    assert spelling.text == expected
    assert spelling.corrected == expected
    assert spelling.typed == typed


@pytest.mark.parametrize("typed", [
    "kubernetes ingress migration",  # every word is in the texts
    "migrations sharded",  # not written so, but their stems are indexed
    "should the whole thing",  # stop words are never corrected
    "thundering hred",  # under five letters: too many neighbours one edit away
    "shrdnig",  # seven letters, two edits from "sharding": one is the most allowed
    "nubank quokka",  # nothing in the index is close
])
def test_known_short_and_far_words_are_left_as_typed(speller: Speller, typed: str) -> None:
    spelling = speller.correct(typed)
    assert spelling.text == typed
    assert spelling.corrected is None
    assert spelling.corrections == ()


@pytest.mark.parametrize("typed", [
    "kubernnetes2", "v1.5", "2019", "c10m", "iso20022",  # numbers and words with digits
    "max_retriess", "config.yamll", "--dry-runn", "usseEffect", "`kubernnetes`", "path/to/migrasion",  # code
])
def test_numbers_and_code_like_tokens_are_never_corrected(speller: Speller, typed: str) -> None:
    assert speller.correct(f"why does {typed} break").text == f"why does {typed} break"


def test_among_words_as_close_the_more_frequent_one_wins(speller: Speller) -> None:
    # "entiy" is one edit from "entry" (three times in the texts) and from "entity" (once).
    assert speller.suggest("entiy") == "entry"


def test_each_correction_is_reported_with_the_word_as_typed(speller: Speller) -> None:
    spelling = speller.correct("kubernnetes ingres, then shardnig")
    assert [(c.typed, c.word) for c in spelling.corrections] == [
        ("kubernnetes", "kubernetes"), ("ingres", "ingress"), ("shardnig", "sharding")]
    assert spelling.text == "kubernetes ingress, then sharding"


@pytest.mark.parametrize(("word", "edits"), [("hred", 0), ("strem", 1), ("shardnig", 1), ("migeation", 2)])
def test_edits_allowed_grow_with_word_length(word: str, edits: int) -> None:
    assert max_edits(word) == edits


def test_only_plain_words_are_offered_for_correction() -> None:
    text = 'Is "double-entry" in v2.0 of max_retries, useEffect or PayPay\'s core?'
    assert [text[a:b] for a, b in spellable_words(text)] == ["Is", "double", "entry", "in", "of", "or", "PayPay",
                                                             "s", "core"]


def test_an_empty_index_corrects_nothing() -> None:
    speller = Speller.build([], LexicalSearch.build([]).knows)
    assert speller.correct("kubernnetes").corrected is None


def test_at_most_max_lookups_unknown_words_are_searched_and_the_rest_left_as_typed(speller: Speller) -> None:
    # each lookup scans the blog's words; a question of letter soup must not cost a scan per word
    spelling = speller.correct("shardnig kubernnetes procesor the ledger", max_lookups=2)
    assert spelling.text == "sharding kubernetes procesor the ledger"
    assert speller.correct("shardnig kubernnetes procesor").text == "sharding kubernetes processor"
