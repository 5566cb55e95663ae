"""The question's own subject: which words make a question specific, when a spelling correction is evidence, and
how the support the abstain threshold reads falls when the cited passages lack those words."""

from __future__ import annotations

from dataclasses import replace

from index.spelling import Correction
from index.text import query_words
from service.answers.confidence import RULE, Rule, calibrated, missing_share, specific_words, support
from service.answers.subject import (
    RARE,
    Subject,
    Word,
    compound_names,
    held,
    is_name,
    typed_capitalised,
    typed_upper,
    typo_aliases,
)
from service.search.query import Query

BLOG = 10_000  # passages


def word(typed: str, *, name: bool = False, rank: int = 3000, passages: int = 500, literal: bool = False,
         in_post: bool = False, closeness: float = 0.0) -> Word:
    return Word(typed, typed, name, rank, passages, literal, in_post, closeness)


def query(typed: str, searched: str, *corrections: tuple[str, str]) -> Query:
    return Query(typed, searched, query_words(searched), tuple(Correction(t, w) for t, w in corrections))


def test_a_word_is_specific_when_it_is_a_name_rare_in_english_or_an_uncommon_word_the_blog_rarely_uses() -> None:
    rule = replace(RULE, rare_share=0.005, rare_rank=20_000)
    words = Subject((
        word("paypay", name=True, passages=200),  # a name, whatever its counts
        word("kubernetes", rank=RARE, passages=800),  # not a whole word of the model: rare in English
        word("electrical", rank=5992, passages=6),  # an ordinary English word the blog hardly uses
        word("wrong", rank=3308, passages=6),  # one of the commonest English words: never specific alone
        word("database", rank=7809, passages=900),  # ordinary, and common in the blog
    ), BLOG)
    assert [w.typed for w in specific_words(words, rule)] == ["paypay", "kubernetes", "electrical"]


def test_a_correction_is_evidence_for_a_lower_case_typo_but_not_for_a_name_or_another_word() -> None:
    typo = query("how do I capture a profile inide a pod", "how do I capture a profile inside a pod",
                 ("inide", "inside"))
    names = {"paypay"}.__contains__  # what the blog writes capitalised

    def blog_name(word: str) -> bool:
        return names(word.lower())

    assert typo_aliases(typo, blog_name) == {"inide": ("insid",)}
    name = query("how does Inngest run steps", "how does Ingest run steps", ("Inngest", "Ingest"))
    assert typo_aliases(name, blog_name) == {}, "a capitalised word read as an ordinary one is a name the blog lacks"
    other = query("how do I find geocaches", "how do I find gocache", ("geocaches", "gocache"))
    assert typo_aliases(other, blog_name) == {}, "two edits away is another word"
    misspelt = query("how many users does PaPay have", "how many users does PayPay have", ("PaPay", "PayPay"))
    assert typo_aliases(misspelt, blog_name) == {"papay": ("paypay",)}, "a misspelt name the blog writes"


def test_a_name_matches_a_longer_word_it_begins() -> None:
    assert held("postgr", frozenset({"postgresql", "ledger"}))
    assert not held("nubank", frozenset({"postgresql", "ledger"}))
    assert not held("go", frozenset({"golang"})), "too short to match a prefix"


def test_a_name_is_held_in_the_forms_the_blog_writes_it() -> None:
    assert held("dba", frozenset({"dbas", "root"})), "its plural"
    assert held("x86", frozenset({"x86_64", "arm64"})), "a longer token it begins before a separator"
    assert not held("x86", frozenset({"x860"})), "a short name does not begin a longer word"
    assert held("connmaxlifetim", frozenset({"setconnmaxlifetim"}), code=True), "a code token inside a setter"
    assert not held("connmaxlifetim", frozenset({"setconnmaxlifetim"})), "only a code token is read inside others"
    assert not held("pool", frozenset({"setpool"}), code=True), "too short to be read inside another token"


def test_support_falls_with_the_weight_of_specific_words_the_cited_passages_lack() -> None:
    rule = replace(RULE, rare_share=0.005, rare_rank=20_000, judges=("word",))
    found = Subject((word("paypay", name=True, passages=200, literal=True),
                     word("kafka", rank=RARE, passages=300, literal=True)), BLOG)
    assert missing_share(found, rule) == 0.0 and support(0.6, found, rule) == 0.6
    lacking = Subject((word("deliveroo", name=True, passages=0), word("dispatch", passages=200, literal=True),
                       word("riders", rank=9000, passages=30, literal=True)), BLOG)
    assert 0.3 < missing_share(lacking, rule) < 1.0
    assert support(0.6, lacking, rule) < 0.6 * (1 - 0.3)


def test_one_shared_ordinary_word_never_carries_an_answer() -> None:
    rule = replace(RULE, rare_share=0.005, rare_rank=20_000, judges=("word",))
    one = Subject((word("stock", rank=4000, passages=186, literal=True), word("broth", rank=RARE, passages=0)),
                  BLOG)
    assert support(0.9, one, rule) == 0.0
    two = Subject((word("circuit", rank=4000, passages=129, literal=True),
                   word("breaker", rank=9000, passages=123, literal=True)), BLOG)
    assert support(0.5, two, rule) == 0.5, "two shared words and no specific word missing"


def test_each_judge_can_find_a_word_the_cited_text_does_not_spell() -> None:
    elsewhere = Subject((word("kafka", rank=RARE, passages=300, literal=True),
                         word("offsets", rank=RARE, passages=40, in_post=True, closeness=0.2)), BLOG)
    words_only = Rule(**{**RULE.__dict__, "judges": ("word",)})
    assert missing_share(elsewhere, words_only) > 0.0
    assert missing_share(elsewhere, replace(words_only, judges=("word", "post"))) == 0.0
    assert missing_share(elsewhere, replace(words_only, judges=("word", "model"), model_close=0.15)) == 0.0


def test_calibrated_confidence_rises_with_support_and_stays_within_0_and_1() -> None:
    values = [calibrated(s) for s in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)]
    assert values == sorted(values) and 0.0 < values[0] and values[-1] < 1.0


def test_a_name_is_a_word_with_a_digit_or_a_capitalised_word_past_the_commonest_english() -> None:
    assert is_name("2021", capitalised=False, rank=RARE) and is_name("s3", capitalised=False, rank=RARE)
    assert is_name("deliveroo", capitalised=True, rank=RARE) and is_name("netflix", capitalised=True, rank=20907)
    assert not is_name("written", capitalised=True, rank=2517), "'Written in Go' names no subject"
    assert not is_name("kafka", capitalised=False, rank=RARE), "lower case: a specific word, not a name"
    assert not is_name("ok", capitalised=True, rank=7929, upper=True), "a common word in capitals is no name"
    assert is_name("bi", capitalised=True, rank=12170, upper=True) and is_name("dba", True, RARE, upper=True)
    assert typed_upper("ok", "is it OK to share a table") and not typed_upper("paypay", "does PayPay use it")


def test_only_a_word_the_reader_capitalised_can_be_a_name() -> None:
    assert typed_capitalised("paypay", "how many users does PayPay have")
    assert not typed_capitalised("dirven", "a roadmap into AI-dirven engineering"), "a lower-case part of a compound"


def test_a_name_of_several_words_is_a_run_of_capitals_ending_in_a_common_english_word() -> None:
    ranks = {"ai": 9932, "drive": 3298, "google": 8000, "pay": 3477, "team": 2136}  # the model's token ids
    assert compound_names("how does Pydantic AI inject dependencies?", ranks) == ["pydantic ai"]
    assert compound_names("how do I back up chats to Google Drive?", ranks) == ["google drive"]
    assert compound_names("why does Alipay LDC route by user id?", ranks) == [], "two names side by side"
    assert compound_names("how can Shopee's Team run reports?", ranks) == [], "a possessive ends the name"
    assert compound_names("Google Pay or cash?", ranks) == [], "the first word is capitalised anyway"


def test_support_is_zero_when_no_cited_post_writes_a_name_of_several_words() -> None:
    words = (word("pydantic", name=True, passages=3, literal=True), word("ai", name=True, passages=900, literal=True))
    assert support(0.7, Subject(words, BLOG), RULE) == 0.7
    assert support(0.7, Subject(words, BLOG, compounds_held=False), RULE) == 0.0
