"""Front matter: YAML, TOML and JSON fields, their types, and errors with the file line."""

from __future__ import annotations

import time

import pytest

from ingest.errors import PostError
from ingest.frontmatter import split_front_matter


def test_yaml_front_matter_is_split_from_the_body_with_the_body_line():
    text = '---\ntitle: "Cells"\ndate: 2024-03-05T10:00:00+07:00\nTags: routing\n---\n\nBody\n'
    fields, body, line = split_front_matter(text, "posts/a.md")
    assert fields == {"title": "Cells", "date": "2024-03-05", "tags": ["routing"]}
    assert body == "\nBody\n"
    assert line == 6


def test_toml_front_matter_reads_dates_lists_and_draft():
    text = '+++\ntitle = "Cells"\ndate = 2024-03-05\ndraft = true\nseries = ["x"]\n+++\nBody\n'
    fields, body, line = split_front_matter(text, "posts/a.md")
    assert fields == {"title": "Cells", "date": "2024-03-05", "draft": True, "series": ["x"]}
    assert (body, line) == ("Body\n", 7)


def test_json_front_matter_ends_at_its_closing_brace():
    text = '{\n  "title": "Cells",\n  "weight": "3"\n}\nBody\n'
    fields, body, line = split_front_matter(text, "posts/a.md")
    assert fields == {"title": "Cells", "weight": 3}
    assert (body, line) == ("Body\n", 5)


def test_no_front_matter_gives_the_whole_text_from_line_one():
    assert split_front_matter("# Hello\n", "a.md") == ({}, "# Hello\n", 1)


def test_field_names_are_matched_case_insensitively_and_others_kept():
    fields, _, _ = split_front_matter("---\nCanonicalurl: https://x/\nShowToc: true\n---\n", "a.md")
    assert fields == {"canonicalURL": "https://x/", "ShowToc": True}


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("---\ntitle: ok\ntags: [a\n---\n", 4, "front matter: "),
        ("---\ntitle: ok\n", 1, "front matter: no closing '---'"),
        ("---\n- a\n- b\n---\n", 1, "front matter: expected a mapping, got list"),
        ("+++\ntitle = \n+++\n", 2, "front matter: "),
        ('{\n "title": "x",\n "tags": [1,,]\n}\n', 3, "front matter: "),
        (
            "---\ntitle: x\nseries:\n  a: b\n---\n",
            3,
            "front matter: expected 'series' to be a list of strings",
        ),
        ("---\ndraft: maybe\n---\n", 2, "front matter: expected 'draft' to be true or false"),
        ("---\ntitle: x\n\ndate: soon\n---\n", 4, "front matter: cannot read 'date' as a date: 'soon'"),
        ("---\nweight: heavy\n---\n", 2, "front matter: expected 'weight' to be a whole number"),
    ],
)
def test_bad_front_matter_is_reported_at_its_file_line(text, line, reason):
    with pytest.raises(PostError) as caught:
        split_front_matter(text, "content/posts/x.md")
    assert caught.value.line == line
    assert caught.value.reason.startswith(reason)
    assert str(caught.value).startswith(f"content/posts/x.md:{line}: front matter:")


def test_yaml_alias_bomb_is_refused_quickly():
    rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    rows += [
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}" + f",*{chr(97 + i)}" * 8 + "]" for i in range(9)
    ]
    start = time.perf_counter()
    with pytest.raises(PostError, match="aliases are not allowed") as caught:
        split_front_matter("---\n" + "\n".join(rows) + "\n---\n", "a.md")
    assert time.perf_counter() - start < 0.5
    assert caught.value.line == 3


@pytest.mark.parametrize(
    "text",
    ["---\nx: " + "[" * 30 + "]" * 30 + "\n---\n", "+++\nx = " + "[" * 30 + "]" * 30 + "\n+++\n"],
)
def test_deep_nesting_is_refused(text):
    with pytest.raises(PostError, match="nested deeper than 20 levels"):
        split_front_matter(text, "a.md")


def test_front_matter_over_64_kib_is_refused():
    text = "---\n" + "# filler\n" * 8000 + "---\n"
    with pytest.raises(PostError, match="larger than 64 KiB"):
        split_front_matter(text, "a.md")


def test_single_strings_become_lists_and_dates_of_all_shapes_become_iso():
    text = '---\naliases: /old/\ncategories: Go\ndate: "May 2, 2026"\nlastmod: 2026-05-03\n---\n'
    fields, _, _ = split_front_matter(text, "a.md")
    assert fields == {
        "aliases": ["/old/"],
        "categories": ["Go"],
        "date": "2026-05-02",
        "lastmod": "2026-05-03",
    }
