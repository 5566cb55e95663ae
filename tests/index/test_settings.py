"""Settings: one definition of the CASEBOOK_* variables, read the same by ingest, the service and the tools."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.embedder import ModelRuntime
from index.settings import SharedSettings
from ingest.settings import IngestSettings
from service.settings import ServiceSettings


def test_shared_variables_mean_the_same_to_every_stage(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CASEBOOK_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("CASEBOOK_EMBED_BACKEND", "torch")
    monkeypatch.setenv("CASEBOOK_EMBED_THREADS", "1")
    monkeypatch.setenv("CASEBOOK_MODEL_CACHE", str(tmp_path / "models"))
    expected = ModelRuntime(backend="torch", cache_dir=tmp_path / "models", threads=1)
    for settings in (SharedSettings.from_env(), IngestSettings.from_env(content_dir=tmp_path),
                     ServiceSettings.from_env()):
        assert settings.index_dir == tmp_path / "index"
        assert settings.runtime == expected
        assert settings.store().root == tmp_path / "index"


def test_flags_beat_variables_and_variables_beat_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert ServiceSettings.from_env().index_dir == Path("var/index")
    monkeypatch.setenv("CASEBOOK_INDEX", "from-env")
    monkeypatch.setenv("CASEBOOK_CHUNK_OVERLAP", "20")
    assert ServiceSettings.from_env().index_dir == Path("from-env")
    assert ServiceSettings.from_env(index_dir=tmp_path, default_k=None).index_dir == tmp_path
    ingest = IngestSettings.from_env(content_dir=tmp_path, overlap_tokens=10)
    assert (ingest.overlap_tokens, ingest.chunk_tokens) == (10, 180)
    assert IngestSettings.from_env(content_dir=tmp_path).overlap_tokens == 20


def test_lists_are_comma_separated_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEBOOK_CORS_ORIGINS", "https://blog.example, https://www.blog.example,")
    assert ServiceSettings.from_env().cors_origins == ("https://blog.example", "https://www.blog.example")


@pytest.mark.parametrize(("name", "value", "message"), [
    ("CASEBOOK_EMBED_THREADS", "two", "CASEBOOK_EMBED_THREADS has value 'two'. Not a valid int."),
    ("CASEBOOK_INDEX_KIND", "annoy", "CASEBOOK_INDEX_KIND has value 'annoy'. Not one of auto, flat, hnsw, ivf."),
    ("CASEBOOK_CHUNK_TOKENS", "8", "CASEBOOK_CHUNK_TOKENS has value '8'. Not 16 or more."),
    ("CASEBOOK_CHUNK_OVERLAP", "500", "CASEBOOK_CHUNK_OVERLAP has value 500. Not below the passage size 180."),
])
def test_bad_ingest_settings_name_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str,
                                               value: str, message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError) as error:
        IngestSettings.from_env(content_dir=tmp_path)
    assert str(error.value) == message


def test_default_k_above_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEBOOK_TOP_K", "80")
    with pytest.raises(ValueError, match=r"CASEBOOK_TOP_K has value 80. Not within 1..50."):
        ServiceSettings.from_env()
