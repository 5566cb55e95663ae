"""Response models: the public JSON contract, kept apart from the internal records."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class FoundByOut(BaseModel):
    """One retriever that returned the passage, and where."""

    retriever: Literal["lexical", "semantic", "whole_post", "feedback"] = Field(
        description="lexical: BM25 over passages; semantic: the passage's meaning (its vector); whole_post: BM25 "
                    "over whole posts; feedback: the same with words borrowed from the best semantic passages")
    rank: int = Field(description="1-based place in that retriever's list (of posts, for whole_post and feedback)")


class WhyOut(BaseModel):
    """Why a passage is in the results."""

    matched: list[str] = Field(description="the query's words (after spelling correction) found in the passage, "
                                           "its heading or its post's title, lower-case")
    found_by: list[FoundByOut] = Field(description="the retrievers that found it: lexical, semantic, then "
                                                   "whole_post or feedback")


class PassageOut(BaseModel):
    """One ranked passage with a deep link to its heading."""

    rank: int = Field(description="1-based position in this result list")
    score: float = Field(description="fused relevance score; higher is better, comparable within one query")
    path: str = Field(description="source path of the post, relative to the content folder")
    title: str = Field(description="post title")
    url: str = Field(description="public URL of the post with #heading-id of the passage's section")
    heading: str = Field(description="heading path of the section, 'H2 > H3'; empty before the first heading")
    series: list[str] = Field(description="slugs of the series the post belongs to")
    text: str = Field(description="passage text, plain (not HTML)")
    snippet: str = Field(description="HTML-escaped excerpt with matched words in <mark>")
    why: WhyOut = Field(description="the words it matched and the retrievers that found it")


class PostOut(BaseModel):
    """A post ranked by its passages."""

    path: str = Field(description="source path relative to the content folder")
    title: str
    url: str = Field(description="public URL of the post")
    series: list[str]
    score: float
    date: str | None = Field(description="publication date, YYYY-MM-DD")
    section: str = Field(default="", description="first folder under content/: posts, series, radar, ...")


class SeriesOut(BaseModel):
    """A series ranked by its matching posts."""

    slug: str
    title: str
    url: str
    score: float
    posts: list[str] = Field(description="paths of the series' matching posts, in reading order")


class SearchResponse(BaseModel):
    """Result of /api/search."""

    query: str
    corrected_query: str | None = Field(
        default=None, description="the query as searched, with misspelt words corrected against the blog's own "
                                  "words; null when nothing was corrected (or exact=true)")
    took_ms: float = Field(description="server time spent on this request, in milliseconds")
    passages: list[PassageOut]
    posts: list[PostOut]
    series: list[SeriesOut]


class SeriesPostOut(BaseModel):
    """A part of a series."""

    path: str
    title: str
    url: str
    date: str | None = None


class SeriesDetail(BaseModel):
    """A series with its description and posts in reading order."""

    slug: str
    title: str
    url: str
    description: str
    posts: list[SeriesPostOut]


class SeriesList(BaseModel):
    """Result of /api/series."""

    series: list[SeriesDetail]
    count: int


class HeadingOut(BaseModel):
    """A section of a post that holds passages."""

    heading: str
    anchor: str
    url: str
    passages: int


class PostDetail(BaseModel):
    """Result of /api/posts/{path}."""

    path: str
    title: str
    url: str
    section: str
    series: list[str]
    tags: list[str]
    categories: list[str]
    date: str | None
    lastmod: str | None
    description: str
    aliases: list[str]
    duplicate_of: str | None = Field(description="the post this one nearly copies, if any")
    headings: list[HeadingOut]


class ReadyOut(BaseModel):
    """Result of /readyz."""

    ready: bool
    version: str | None = None
    model: str | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    built_at: str | None = None
    detail: str | None = None


class CitationOut(BaseModel):
    """A source an answer rests on: the post and the section, deep-linked."""

    path: str = Field(description="source path of the post, relative to the content folder")
    title: str = Field(description="post title")
    url: str = Field(description="public URL of the post with #heading-id of the cited section")
    heading: str = Field(description="heading path of the cited section; empty before the first heading")
    sentences: list[str] = Field(default_factory=list,
                                 description="the sentences of this section the answer quotes, as it quotes them")


class AnswerResponse(SearchResponse):
    """Result of /api/ask: the search result and, from the same ranking, an answer or found=false."""

    found: bool = Field(description="false when the blog's evidence is too weak to answer; see passages")
    answer: str | None = Field(description="2-4 sentences of the blog that answer, each ending in [n] for "
                               "citations[n-1]; null when not found")
    confidence: float = Field(description="0..1, how strongly the evidence answers; below the calibrated threshold "
                              "found is false, and 0 when the evidence names nothing of the kind asked")
    citations: list[CitationOut] = Field(description="sources of the answer, best first; [1] is the first")
    note: str | None = Field(default=None, description="why the answer is extractive when a model was asked")


class RelatedOut(BaseModel):
    """A post worth linking from the source post."""

    path: str
    title: str
    url: str
    series: list[str]
    score: float = Field(description="0..1: the chance that the author would link this post, from passage "
                         "overlap, series order, shared tags and names, description and links from other posts")
    linked: bool = Field(description="the source post already links to this one (reported, not ranked on)")
    reason: str = Field(description="the best matching pair of sections (never a series template): "
                        "'source heading' ↔ 'target heading'")


class RelatedResponse(BaseModel):
    """Result of /api/related."""

    path: str = Field(description="the source post")
    title: str
    url: str
    related: list[RelatedOut]
    count: int
    took_ms: float
