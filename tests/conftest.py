"""Shared fixtures: a CLI runner, kits made once per session, and PDF readers."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest
from click.testing import CliRunner, Result
from pypdf import PdfReader

from kit.cli import cli
from kit.layers import find_layers
from kit.library import Library
from kit.validate import load_library

QUICK_START = ["--role", "cv-engineer", "--level", "senior"]


@pytest.fixture(autouse=True)
def _fixed_clock_and_own_cache(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Pin the PDF timestamps so two runs can be compared, and keep kitgen's cache in the test tree."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    monkeypatch.setenv("KITGEN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture
def run() -> Callable[..., Result]:
    """Run ``kitgen`` with arguments; stderr is kept apart from stdout."""

    def invoke(*args: str | Path) -> Result:
        return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.fixture(scope="session")
def senior_kit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's quick-start kit with names filled in, made once for the session."""
    out = tmp_path_factory.mktemp("kits")
    result = CliRunner().invoke(
        cli, [*QUICK_START, "--candidate", "Ada Lovelace", "--interviewer", "Grace Hopper",
              "--date", "2026-12-01", "--format", "html", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out / "cv-engineer-senior-ada-lovelace"


class Team:
    """A team layer in a temporary folder: a kitgen.yaml naming questions/, rubric.yaml, roles/, ..."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir()
        self.config = root / "kitgen.yaml"
        self.config.write_text(
            "banks: [questions]\nrubrics: [rubric.yaml]\nroles: [roles]\nreference: [reference.yaml]\n"
            "fairness: [fairness.yaml]\ntemplates: templates\n"
        )
        for folder in ("questions", "roles", "templates"):
            (root / folder).mkdir()
        for name, text in (("rubric.yaml", "competencies: []\n"), ("reference.yaml", "sections: []\n"),
                           ("fairness.yaml", "protected: []\n")):
            (root / name).write_text(text)

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.write_text(text)
        return path

    def library(self) -> Library:
        return load_library(find_layers(self.config))


@pytest.fixture
def team(tmp_path: Path) -> Team:
    return Team(tmp_path / "team")


def pdf_text(path: Path) -> str:
    """All text of a PDF with whitespace removed, so line breaks cannot hide a match."""
    return squash(" ".join(page.extract_text() for page in PdfReader(path).pages))


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def until(stream: IO[str], line: str) -> list[str]:
    """The lines ``stream`` gives up to and including ``line``; the read blocks, nothing polls."""
    seen = []
    for seen_line in stream:
        seen.append(seen_line.rstrip("\n"))
        if seen[-1] == line:
            return seen
    pytest.fail(f"never printed {line!r}: {seen}")
