"""The answer builder's parts on hand-made text: which lines are answer text, what a question asks for, and
how sentences are picked, ordered and cited."""

from __future__ import annotations

import re

import pytest

from index import Passage
from index.text import opening, repeated_openings
from service.answers.compose import (
    Candidate,
    asks_how,
    candidates,
    cite,
    compose,
    parse,
    reading_order,
    section,
    unmatched,
)
from service.answers.expected import Expected, contradicts, expected, holds, names_other_versions, new_numbers, rates
from service.answers.sentences import answer_sentences
from service.search.query import as_typed
from service.search.ranking import ScoredPassage

PASSAGE = """Answer-first: Harbor routes each tenant to its own shard, so one noisy tenant cannot slow the others.
It keeps a routing table in memory and refreshes it every 30 seconds.
Shard | Tenants | Region
s-1 | 120 | eu-west
[code]
    route := table.Lookup(tenantID)
    if route == nil {
Phase 3: Operations Playbook
- Fast
- A tenant that outgrows its shard is moved during the nightly window without downtime.
Continue reading: the next part covers rebalancing in detail.
The diagram below shows the flow.
What happens when a shard fails?
Every request carries the tenant id in its first header (e.g."""


def asked(question: str) -> Expected:
    """What a question typed as it is asks for."""
    return expected(as_typed(question))


def texts(text: str) -> list[str]:
    return [s.text for s in answer_sentences(text)]


def test_prose_and_full_list_items_are_answer_text_and_the_summary_label_is_dropped() -> None:
    sentences = answer_sentences(PASSAGE)
    assert [s.text for s in sentences] == [
        "Harbor routes each tenant to its own shard, so one noisy tenant cannot slow the others.",
        "It keeps a routing table in memory and refreshes it every 30 seconds.",
        "A tenant that outgrows its shard is moved during the nightly window without downtime.",
    ]
    assert [(s.summary, s.list_item, s.position) for s in sentences] == [(True, False, 0), (False, False, 1),
                                                                         (False, True, 2)]


@pytest.mark.parametrize("line", [
    "Shard | Tenants | Region",  # table header
    "s-1 | 120 | eu-west",  # table row
    "# Calling the routing service (very expensive)",  # a code comment, or a heading left in text
    "- Fast",  # list stub
    "Phase 3: Operations Playbook",  # title-like line
    "← Series hub ← Prev • Next →",  # navigation
    "Prerequisite: Part 2, Routing Tables",
    "Continue reading: the next part covers rebalancing in detail.",
    "This series analyzes how Harbor scaled its routing layer from one shard to many.",
    "The diagram below shows the flow.",
    "Familiarity with basic queueing theory and Go syntax is assumed.",
    "What happens when a shard fails?",
    "Each tenant is looked up in the routing table before the request reaches a shard and",  # cut short
])
def test_lines_that_are_not_answer_text(line: str) -> None:
    assert [s for s in answer_sentences(line) if not s.about_writing] == []


def test_code_after_its_marker_is_skipped_until_prose_resumes() -> None:
    text = "[code]\nfunc main() {\n    run()\n}\nThe loop above retries each request three times before it gives up."
    assert texts(text) == ["The loop above retries each request three times before it gives up."]


@pytest.mark.parametrize(("question", "kind", "unit"), [
    ("how many Kafka brokers does Harbor run?", "number", "count"),
    ("how much does the control plane cost per month?", "number", "money"),
    ("how much faster are cgo calls in Go 1.26?", "number", "ratio"),
    ("what fraud rate does Harbor report?", "number", "ratio"),
    ("how long do idempotency keys live?", "number", "duration"),
    ("when did Harbor move to cell routing?", "date", "any"),
    ("when do idempotency keys expire?", "date", "any"),
    ("which version of Go added synctest?", "version", "any"),
    ("which Go framework did the team choose over Gin?", "name", "any"),
    ("when is a graph database worth it?", "open", "any"),
    ("how does Harbor route tenants?", "open", "any"),
    ("how many replicas does the autoscaler add when CPU is high?", "number", "count"),
    ("how are readings cleaned up on the phone, and which format keeps data use low?", "open", "any"),
])
def test_what_a_question_asks_for(question: str, kind: str, unit: str) -> None:
    wanted = asked(question)
    assert (wanted.kind, wanted.unit) == (kind, unit)


def test_a_count_must_be_of_the_thing_asked_and_not_already_in_the_question() -> None:
    brokers = asked("how many Kafka brokers does Harbor run?")
    assert new_numbers(brokers, "Harbor runs 12 Kafka brokers across three zones.") == ["12"]
    assert not holds(brokers, "Harbor serves 70 million users and sets acks=all on every producer.")
    updates = asked("if 5 million drivers ping every 4 seconds, how many location updates per second arrive?")
    assert new_numbers(updates, "That is 1.25 million location updates per second.") == ["1.25 million"]
    assert not holds(updates, "Each of the 5 million drivers pings every 4 seconds.")


def test_money_ratio_and_version_numbers_are_told_apart() -> None:
    cost = asked("how much does the control plane cost per month?")
    assert new_numbers(cost, "The control plane costs $0.10/hr, about $73/month per cluster.") == ["$0.10", "$73"]
    assert not holds(cost, "Version 1.33 of the control plane shipped with 18 features.")
    faster = asked("how much faster are cgo calls in Go 1.26?")
    assert new_numbers(faster, "Go 1.26 makes cgo calls about 30% faster.") == ["30%"]


def test_a_date_question_about_a_version_needs_that_version() -> None:
    upgrade = asked("when does Kubernetes 1.36 reach end of life?")
    assert holds(upgrade, "Kubernetes 1.36 reaches end of life on June 28, 2027.")
    assert not holds(upgrade, "Kubernetes 1.33 reaches end of life on June 28, 2026.")
    assert names_other_versions(upgrade, "Kubernetes 1.33 reaches end of life on June 28, 2026.")


def test_a_name_question_wants_a_name_the_question_does_not_hold() -> None:
    framework = asked("which Go framework did the team choose over Gin and Echo?")
    assert holds(framework, "The team picked Kratos for its dual transport.")
    assert not holds(framework, "The team compared Gin and Echo for a week.")


def test_names_of_the_question_match_longer_words_of_the_evidence() -> None:
    assert asked("how should I design a ledger in Postgres for Harbor?").names == {"postgr", "harbor"}
    assert unmatched(frozenset({"postgr", "nubank"}), frozenset({"postgresql", "ledger"})) == {"nubank"}


def scored(pid: int, post: str, text: str, score: float) -> ScoredPassage:
    return ScoredPassage(Passage(pid, post, "Routing", "routing", text, "text", 10), score, 0.5, 1.0)


EVIDENCE = [
    scored(0, "posts/harbor.md", "Harbor routes each tenant to its own shard by tenant id. "
           "The routing table is refreshed every 30 seconds from the control plane.", 1.0),
    scored(1, "posts/harbor.md", "A tenant that outgrows its shard is moved to a new shard overnight. "
           "Moving a tenant copies its rows first, then flips the routing table entry.", 0.8),
    scored(2, "posts/other.md", "Harbor routes each tenant to its own shard by tenant id.", 0.6),
]


def pool(question: str) -> list[Candidate]:
    contexts = {s.passage.id: frozenset({"harbor", "tenant", "shard", "rout"}) for s in EVIDENCE}
    parsed = {s.passage.id: parse(s.passage.text) for s in EVIDENCE}
    return candidates(EVIDENCE, parsed, asked(question), {"harbor": 1.0}, contexts)


def test_compose_picks_sentences_that_add_something_and_cites_each_to_its_passage() -> None:
    question = {"tenant": 2.0, "shard": 2.0, "move": 1.0}
    composed = compose(pool("how does Harbor move tenants between shards?"), {"rout": 1.0, "tabl": 1.0},
                       question, asked("how does Harbor move tenants between shards?"))
    assert composed is not None
    assert 2 <= len(composed.chosen) <= 4
    sentences = [c.sentence.text for c in composed.chosen]
    assert len(set(sentences)) == len(sentences)
    for i, later in enumerate(composed.chosen[1:], 1):  # each sentence adds a concept the ones before lack
        assert later.stems - frozenset().union(*(c.stems for c in composed.chosen[:i])), later.sentence.text
    sections = [section(s) for s in composed.cited]
    assert len(set(sections)) == len(sections), "one citation per section"
    for c in composed.chosen:
        n = sections.index(section(c.source)) + 1
        assert cite(c.sentence.text, n) in composed.text
    assert composed.text.endswith("].")


def test_a_number_question_without_a_number_of_its_kind_gets_no_answer() -> None:
    question = "how many Kafka brokers does Harbor run?"
    assert compose(pool(question), {}, {"broker": 3.0, "harbor": 1.0}, asked(question)) is None


def test_reading_order_keeps_the_best_first_then_each_passage_in_the_blogs_order() -> None:
    chosen = pool("how does Harbor route tenants?")
    order = reading_order([chosen[3], chosen[1], chosen[0]])
    assert [c.sentence.text for c in order] == [chosen[3].sentence.text, chosen[0].sentence.text,
                                                chosen[1].sentence.text]


def test_citation_markers_go_before_the_full_stop() -> None:
    assert cite("Keys expire after a day.", 2) == "Keys expire after a day [2]."
    assert cite("A list item without a stop", 1) == "A list item without a stop [1]."


def test_an_opening_several_posts_share_is_boilerplate_and_never_a_candidate() -> None:
    stock = "Implementing this design keeps tail latency under fifty milliseconds in {} region."
    said = "Harbor routes each tenant to a shard by id."  # in two overlapping passages of one post
    passages = [Passage(i, "posts/harbor.md" if i < 2 else f"posts/p{i}.md", "", "",
                        f"{said if i < 2 else ''} {stock.format(word)}", "text", 20)
                for i, word in enumerate(["every", "each", "any", "one", "a"])]
    template = repeated_openings(passages)
    assert template == {opening(stock)}, "a template is known by its opening, whatever its ending"
    assert repeated_openings(passages[2:]) == frozenset(), "three posts may share an opening by chance"
    evidence = [ScoredPassage(p, 1.0, 0.5, 1.0) for p in passages[:2]]
    parsed = {s.passage.id: parse(s.passage.text) for s in evidence}
    contexts = {s.passage.id: frozenset({"harbor"}) for s in evidence}
    texts = [c.sentence.text for c in candidates(evidence, parsed, asked("how does Harbor route?"), {"harbor": 1.0},
                                                 contexts, template)]
    assert texts == [said], "the template is left out, the repeated sentence kept once"


def test_two_figures_for_one_rate_contradict_and_the_answer_states_one() -> None:
    assert rates("Harbor peaked at 610,000 peak TPS in 2019.") == {"tps": 610000.0}
    assert rates("It handled 1.25 million writes per second.") == {"write/s": 1250000.0}
    assert contradicts(rates("It handles 544,000 TPS."), rates("It serves 610,000 peak TPS."))
    assert not contradicts(rates("It handles 544,000 TPS."), rates("It handles 544k TPS at peak."))
    assert not contradicts(rates("It handles 544,000 TPS."), rates("Latency stays under 50 ms."))
    evidence = [scored(0, "posts/harbor.md", "Harbor's ledger handles 544,000 TPS at peak across its shards. "
                       "Each shard keeps its own write-ahead log on local disks.", 1.0),
                scored(1, "posts/other.md", "Harbor's ledger handles 610,000 TPS at peak across shards.", 0.9)]
    parsed = {s.passage.id: parse(s.passage.text) for s in evidence}
    contexts = {s.passage.id: frozenset({"harbor", "ledger"}) for s in evidence}
    question = "how does Harbor's ledger handle its peak?"
    found = candidates(evidence, parsed, asked(question), {"harbor": 1.0}, contexts)
    composed = compose(found, {"ledger": 2.0, "shard": 2.0, "peak": 2.0}, {"ledger": 2.0, "harbor": 1.0},
                       asked(question))
    assert composed is not None
    assert ("544,000" in composed.text) != ("610,000" in composed.text), composed.text


def test_the_answer_opens_with_the_sentence_that_names_what_its_post_is_about() -> None:
    evidence = [scored(0, "posts/harbor.md", "Moving a tenant copies its rows first, then flips its routing entry. "
                       "Harbor shards tenants by id so one noisy tenant cannot slow the others.", 1.0)]
    parsed = {s.passage.id: parse(s.passage.text) for s in evidence}
    contexts = {0: frozenset({"harbor", "tenant", "shard"})}
    titles = {0: frozenset({"harbor", "shard", "tenant"})}  # "Harbor: sharding tenants"
    found = candidates(evidence, parsed, asked("how does Harbor move tenants?"), {"tenant": 1.0}, contexts,
                       titles=titles)
    assert [round(c.topic, 2) for c in found] == [0.33, 1.0]
    question = {"tenant": 1.0, "move": 1.0}
    assert [c.sentence.text for c in reading_order(found, question)] == [found[1].sentence.text,
                                                                         found[0].sentence.text]
    assert reading_order(found, question, opener=False)[0] is found[0], "a typed answer opens with its span"
    assert reading_order(found, {"move": 1.0, "copi": 1.0})[0] is found[0], "not a title line beside the question"


def test_sentences_of_the_best_post_weigh_more() -> None:
    evidence = [scored(0, "posts/other.md", "Harbor moves a tenant by copying its rows to the new shard first.", 1.0),
                scored(1, "posts/harbor.md", "Harbor moves a tenant by flipping its routing entry at night.", 1.0)]
    parsed = {s.passage.id: parse(s.passage.text) for s in evidence}
    contexts = {s.passage.id: frozenset({"harbor", "tenant"}) for s in evidence}
    question = "how does Harbor move a tenant?"
    found = candidates(evidence, parsed, asked(question), {"tenant": 1.0}, contexts, top_post="posts/harbor.md")
    assert [c.factor for c in found] == [1.0, 1.5]
    composed = compose(found, {"harbor": 1.0, "tenant": 1.0, "move": 1.0}, {"tenant": 1.0}, asked(question))
    assert composed is not None and composed.chosen[0].source.passage.post_path == "posts/harbor.md"


@pytest.mark.parametrize("text", [
    "Welcome to the world of moving tenants between Harbor shards without downtime.",
    "Imagine a tenant whose traffic doubles overnight while its shard is already full.",
    "This keeps a tenant on one shard while its rows are copied to the next one.",
])
def test_scene_setting_and_dangling_openers_weigh_half(text: str) -> None:
    evidence = [scored(0, "posts/harbor.md", f"{text} Harbor moves a tenant by copying its rows to a new shard first.",
                       1.0)]
    parsed = {s.passage.id: parse(s.passage.text) for s in evidence}
    found = candidates(evidence, parsed, asked("how does Harbor move a tenant?"), {"tenant": 1.0},
                       {0: frozenset({"harbor", "tenant"})})
    assert [c.factor for c in found] == [0.5, 1.0]


@pytest.mark.parametrize(("line", "read"), [
    ("- Harbor: Routes each tenant to its own shard by tenant id.",
     "Harbor routes each tenant to its own shard by tenant id."),
    ("- Mechanism: Rather than locking rows, the router appends versions and settles conflicts later.",
     "Rather than locking rows, the router appends versions and settles conflicts later."),
    ("- Sub-Second Moves: Because rows are copied first, a tenant moves between shards in under a second.",
     "Because rows are copied first, a tenant moves between shards in under a second."),
])
def test_a_bullet_label_is_folded_in_as_the_subject_or_dropped(line: str, read: str) -> None:
    assert texts(line) == [read]


def test_a_bullet_label_is_never_an_answers_opener() -> None:
    text = ("- Placement: Harbor routes each tenant to its own shard by tenant id.\n"
            "- Harbor: Moves a tenant that outgrows its shard during the nightly window.\n"
            "- Refresh Cadence: The routing table is refreshed every 30 seconds from the control plane.")
    evidence = [scored(0, "posts/harbor.md", text, 1.0)]
    parsed = {0: parse(text)}
    found = candidates(evidence, parsed, asked("how does Harbor place tenants?"), {"harbor": 1.0, "tenant": 1.0},
                       {0: frozenset({"harbor", "tenant", "shard"})})
    composed = compose(found, {"harbor": 1.0, "tenant": 1.0, "shard": 1.0}, {"harbor": 1.0, "tenant": 1.0},
                       asked("how does Harbor place tenants?"))
    assert composed is not None
    for c in composed.chosen:
        assert not re.match(r"^[A-Z][\w -]{0,40}: ", c.sentence.text), c.sentence.text
    assert [c.sentence.label for c in found] == ["Placement", "", "Refresh Cadence"], "what each sentence is about"


@pytest.mark.parametrize("line", [
    "Key takeaways highlight the trade-offs between routing tables and consistent hashing.",
    "The sections below cover the routing table, the mover and the control plane.",
    "This is Part 3 of the Harbor series, building on the routing table from Part 2.",
    "Familiarity with the concepts introduced in Part 2, Routing Tables, helps here.",
    "Addressing common operator questions about Harbor's shards, moves and failover gives a quick reference.",
    "To explore how these routing rules hold up under load, we turn to the mover.",
])
def test_sentences_about_the_posts_own_structure_are_no_answer_text(line: str) -> None:
    assert texts(line) == []


def test_a_how_question_prefers_the_sentence_that_says_how() -> None:
    text = ("Harbor served 2.4 million tenants at its busiest hour last year.\n"
            "Harbor keeps tenants apart by routing each one to its own shard through a table in memory.")
    evidence = [scored(0, "posts/harbor.md", text, 1.0)]
    found = candidates(evidence, {0: parse(text)}, asked("how does Harbor keep tenants apart?"),
                       {"harbor": 1.0, "tenant": 1.0}, {0: frozenset({"harbor", "tenant"})},
                       mechanism=asks_how("how does Harbor keep tenants apart?"))
    assert [c.factor for c in found] == [1.0, 1.5]
    assert asks_how("why does Harbor copy rows first?") and not asks_how("how many tenants does Harbor serve?")


def test_a_second_posts_sentence_joins_only_when_it_adds_to_the_question() -> None:
    evidence = [scored(0, "posts/harbor.md", "Harbor routes each tenant to its own shard by tenant id. "
                       "Moving a tenant copies its rows first, then flips its routing entry.", 1.0),
                scored(1, "posts/other.md", "Harbor routes every tenant to a shard chosen by tenant id.", 0.9),
                scored(2, "posts/third.md", "Harbor's mover throttles copies so that a move never slows reads.", 0.9)]
    parsed = {s.passage.id: parse(s.passage.text) for s in evidence}
    contexts = {s.passage.id: frozenset({"harbor", "tenant", "shard", "rout", "move"}) for s in evidence}
    question = {"harbor": 0.5, "tenant": 0.5, "rout": 0.5, "throttl": 3.0}
    found = candidates(evidence, parsed, asked("how does Harbor route and throttle tenants?"), question, contexts)
    composed = compose(found, {"harbor": 1.0, "tenant": 2.0, "shard": 2.0}, question,
                       asked("how does Harbor route and throttle tenants?"))
    assert composed is not None
    posts = [c.source.passage.post_path for c in composed.chosen]
    assert "posts/other.md" not in posts, "it repeats the question's light words the answer already holds"
    assert "posts/third.md" in posts, "it adds 'throttle'"


@pytest.mark.parametrize("line", [
    "Research dossier on routing tenants to shards with a table kept in memory.",
    "Learn how Harbor routes each tenant to its shard without a lookup service.",
    "Understand the trade-offs between a routing table and consistent hashing.",
])
def test_a_description_that_addresses_the_reader_reads_as_writing(line: str) -> None:
    assert [s.about_writing for s in answer_sentences(line)] == [True]


def test_a_sentence_adding_a_little_still_joins_while_the_answer_has_room() -> None:
    text = ("Harbor keeps each tenant on its own shard behind a routing table.\n"
            "A tenant that outgrows its shard is copied to a larger one overnight.\n"
            "Copies run in the maintenance window agreed with operators.")
    evidence = [scored(0, "posts/harbor.md", text, 1.0)]
    question = "how does Harbor place tenants?"
    found = candidates(evidence, {0: parse(text)}, asked(question), {"tenant": 1.0},
                       {0: frozenset({"harbor", "tenant"})})
    concepts = {"tenant": 10.0, "shard": 10.0, "rout": 3.0, "overnight": 1.0, "window": 1.0}  # 1/23 of the first
    composed = compose(found, concepts, {}, asked(question))
    assert composed is not None and len(composed.chosen) == 3, [c.sentence.text for c in composed.chosen]
