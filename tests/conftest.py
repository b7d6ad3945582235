"""Shared fixtures: a CLI runner, kits made once per session, and PDF readers."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pypdf import PdfReader

from kit.assets import asset_dir
from kit.cli import cli

QUICK_START = ["--role", "cv-engineer", "--level", "senior"]


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin the PDF timestamps so two runs can be compared."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")


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


@pytest.fixture
def bank_copy(tmp_path: Path) -> tuple[Path, Path]:
    """A writable copy of the built-in bank and rubrics, for tests that break them."""
    bank, rubrics = tmp_path / "questions", tmp_path / "rubrics"
    shutil.copytree(asset_dir("questions"), bank)
    shutil.copytree(asset_dir("rubrics"), rubrics)
    return bank, rubrics


def pdf_text(path: Path) -> str:
    """All text of a PDF with whitespace removed, so line breaks cannot hide a match."""
    return squash(" ".join(page.extract_text() for page in PdfReader(path).pages))


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)
