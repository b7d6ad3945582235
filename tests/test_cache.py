"""The content-addressed cache: a hit gives what a fresh parse gives, an edit is never served stale."""

from __future__ import annotations

from pathlib import Path

from kit import cache
from kit.load import read_yaml


def test_parsed_yaml_is_cached_by_content(tmp_path: Path) -> None:
    path = tmp_path / "bank.yaml"
    path.write_text("questions:\n  - id: a\n    anchors: {1: x, 4: y}\n")
    first = read_yaml(path)
    assert read_yaml(path) == first == {"questions": [{"id": "a", "anchors": {1: "x", 4: "y"}}]}
    assert any(p.name.startswith("yaml-") for p in cache.folder().iterdir())
    path.write_text("questions:\n  - id: b\n")
    assert read_yaml(path) == {"questions": [{"id": "b"}]}


def test_memo_text_recomputes_when_a_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "roles.yaml"
    path.write_text("one")
    calls = []

    def compute() -> str:
        calls.append(1)
        return path.read_text()

    assert cache.memo_text("t", [path], compute) == "one"
    assert cache.memo_text("t", [path], compute) == "one" and len(calls) == 1
    path.write_text("two")
    assert cache.memo_text("t", [path], compute) == "two" and len(calls) == 2


def test_cache_off_and_unwritable_cache_are_ignored(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\n")
    monkeypatch.setenv("KITGEN_CACHE", "off")
    assert cache.folder() is None and read_yaml(path) == {"a": 1}
    monkeypatch.delenv("KITGEN_CACHE")
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("KITGEN_CACHE_DIR", str(blocker / "cache"))
    assert read_yaml(path) == {"a": 1}
