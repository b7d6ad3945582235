"""The content-addressed cache: a hit gives what a fresh parse gives, an edit is never served stale."""

from __future__ import annotations

import errno
import marshal
import os
import stat
from pathlib import Path

import pytest

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


# A hostile corpus: whatever is planted in or done to the cache folder, kitgen prints what its files say
# and runs nothing.

BANK = "questions:\n  - id: a\n    text: What is a convolution?\n"


def _entry(path: Path) -> Path:
    return cache.folder() / f"yaml-{cache.key(path.read_bytes())}.marshal"


def _bank(tmp_path: Path) -> Path:
    path = tmp_path / "bank.yaml"
    path.write_text(BANK)
    assert read_yaml(path)["questions"][0]["text"] == "What is a convolution?"  # now cached
    return path


@pytest.mark.parametrize("plant", [
    pytest.param(lambda data: marshal.dumps({"questions": [{"id": "a", "text": "PLANTED"}]}), id="unsigned-entry"),
    pytest.param(lambda data: data[:32] + data[32:].replace(b"convolution", b"PLANTEDxxxx"), id="edited-payload"),
    pytest.param(lambda data: bytes(32) + data[32:], id="zero-tag"),
    pytest.param(lambda data: data[:-5], id="truncated"),
    pytest.param(lambda data: b"", id="empty"),
    pytest.param(lambda data: data[:32] + marshal.dumps(compile("1", "x", "eval")), id="code-object"),
])
def test_a_planted_or_damaged_yaml_entry_is_ignored(tmp_path: Path, plant) -> None:
    path = _bank(tmp_path)
    entry = _entry(path)
    entry.write_bytes(plant(entry.read_bytes()))
    assert read_yaml(path)["questions"][0]["text"] == "What is a convolution?"


def test_an_entry_signed_by_another_users_cache_is_ignored(tmp_path: Path, monkeypatch) -> None:
    path = _bank(tmp_path)
    theirs = tmp_path / "theirs"
    monkeypatch.setenv("KITGEN_CACHE_DIR", str(theirs))
    cache.write(_entry(path).name, marshal.dumps({"questions": [{"id": "a", "text": "PLANTED"}]}))
    monkeypatch.undo()
    conftest_cache = _entry(path)
    conftest_cache.write_bytes((theirs / conftest_cache.name).read_bytes())
    assert read_yaml(path)["questions"][0]["text"] == "What is a convolution?"


def test_a_cache_that_is_not_private_is_not_used(tmp_path: Path, monkeypatch) -> None:
    where = tmp_path / "shared"
    monkeypatch.setenv("KITGEN_CACHE_DIR", str(where))
    cache.write("x.txt", b"1")
    assert stat.S_IMODE(where.stat().st_mode) == 0o700 and stat.S_IMODE((where / "key").stat().st_mode) == 0o600
    where.chmod(0o777)  # opened up by someone: kitgen closes its own folder again
    assert cache.read("x.txt") == b"1" and stat.S_IMODE(where.stat().st_mode) == 0o700
    link = tmp_path / "link"
    link.symlink_to(where)
    monkeypatch.setenv("KITGEN_CACHE_DIR", str(link))
    assert cache.read("x.txt") is None  # a link could be pointed anywhere
    monkeypatch.setenv("KITGEN_CACHE_DIR", str(where))
    (where / "key").write_bytes(b"short")
    assert cache.read("x.txt") is None


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to give a folder away")
def test_a_cache_folder_owned_by_someone_else_is_not_used(tmp_path: Path, monkeypatch) -> None:
    where = tmp_path / "theirs"
    monkeypatch.setenv("KITGEN_CACHE_DIR", str(where))
    path = _bank(tmp_path)
    os.chown(where, 12345, 12345)
    _entry(path).write_bytes(b"x" * 40)  # they could write anything here
    assert read_yaml(path)["questions"][0]["text"] == "What is a convolution?"
    os.chown(where, os.getuid(), os.getgid())
    os.chown(where / "key", 12345, 12345)
    assert cache.read(_entry(path).name) is None


def test_a_full_or_broken_cache_folder_is_worked_around(tmp_path: Path, monkeypatch) -> None:
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache.tempfile, "mkstemp", full)
    path = tmp_path / "bank.yaml"
    path.write_text(BANK)
    assert read_yaml(path)["questions"][0]["id"] == "a"
    monkeypatch.undo()
    monkeypatch.setenv("KITGEN_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "key").mkdir()  # not a file
    assert read_yaml(path)["questions"][0]["id"] == "a"
    huge = tmp_path / "cache2"
    monkeypatch.setenv("KITGEN_CACHE_DIR", str(huge))
    cache.write("big", b"")
    with open(huge / "big", "r+b") as handle:
        handle.truncate(cache.MAX_ENTRY + 1)
    assert cache.read("big") is None


@pytest.mark.slow
def test_planted_compiled_templates_do_not_run(tmp_path: Path, run) -> None:
    """Compiled Jinja templates are code, so kitgen keeps none: a bytecode file planted where Jinja's
    cache would look is never loaded."""
    from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader
    from jinja2.bccache import Bucket

    from kit.assets import asset_dir

    marker = tmp_path / "ran"
    folders = [cache.folder() / "jinja", cache.folder()]
    for where in folders:
        where.mkdir(parents=True, exist_ok=True)
        bytecode = FileSystemBytecodeCache(str(where))
        env = Environment(loader=FileSystemLoader(str(asset_dir("templates"))), bytecode_cache=bytecode)
        for name in env.list_templates(extensions=["html", "css"]):
            source, filename, _ = env.loader.get_source(env, name)
            bucket: Bucket = bytecode.get_bucket(env, name, filename, source)
            bucket.code = compile(f"open({str(marker)!r}, 'w')", filename, "exec")
            bytecode.set_bucket(bucket)
    result = run("--role", "cv-engineer", "--level", "senior", "--out", tmp_path / "out")
    assert result.exit_code == 0 and not marker.exists()
