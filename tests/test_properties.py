"""Property-based: any bank, rubric, role or name either makes complete PDFs that show it verbatim
or exits 2 with one line per problem, never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from kit.cli import cli
from tests.conftest import squash

# Printable text DejaVu can draw, with the characters HTML, CSS, Jinja and YAML treat specially.
SAFE = st.characters(min_codepoint=0x20, max_codepoint=0x24F, blacklist_categories=("Cc", "Cf", "Cs", "Mn", "Zs"))
NAME = st.text(SAFE | st.sampled_from(list("<>&\"'{}%#*[]()!/\\:;|`~")), min_size=1, max_size=40).filter(str.strip)
# Question text is Markdown: keep away from the characters that are Markdown syntax, to compare verbatim.
PLAIN = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x24F, blacklist_categories=("Cc", "Cf", "Cs", "Mn"),
                              blacklist_characters="*_`#>[]!\\-+=~|0123456789.<&"), min_size=3, max_size=120)
WEIGHT = st.floats(min_value=0.1, max_value=10, allow_nan=False).map(lambda w: round(w, 2))


def team(root: Path, text: str, title: str, weight: float) -> Path:
    (root / "questions").mkdir(parents=True)
    question = {"id": "fuzz-q", "competency": "fuzz", "kind": "technical", "roles": ["fuzz-role"], "levels": ["senior"],
                "level_note": "Generated.", "minutes": 5, "text": text, "guidance": [title, "b", "c"],
                "follow_ups": ["f"], "red_flags": ["r"]}
    screen = {**question, "id": "fuzz-p", "kind": "prescreen", "answer_key": "k", "minutes": 2}
    for key in ("guidance", "follow_ups", "red_flags"):
        screen.pop(key)
    (root / "questions" / "q.yaml").write_text(yaml.safe_dump({"questions": [question, screen]}, allow_unicode=True))
    (root / "rubric.yaml").write_text(yaml.safe_dump({"competencies": [{
        "id": "fuzz", "title": title, "measures": title, "anchors": {n: f"{title} {n}" for n in (1, 2, 3, 4)}}]},
        allow_unicode=True))
    (root / "role.yaml").write_text(yaml.safe_dump({
        "id": "fuzz-role", "title": title, "summary": title, "competencies": [{"id": "fuzz", "weight": weight}],
        "levels": {"senior": {"minutes": 30, "questions": 1, "opening": 5, "closing": 5, "prescreen": 1,
                              "prescreen_minutes": 5}}}, allow_unicode=True))
    config = root / "kitgen.yaml"
    config.write_text("banks: [questions]\nrubrics: [rubric.yaml]\nroles: [role.yaml]\n")
    return config


@pytest.mark.slow
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=PLAIN, title=NAME, name=NAME, weight=WEIGHT)
def test_any_content_prints_verbatim(tmp_path_factory, text: str, title: str, name: str, weight: float) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    config = team(root / "team", text, title, weight)
    result = CliRunner().invoke(cli, ["--config", str(config), "--role", "fuzz-role", "--level", "senior",
                                      "--candidate", name, "--out", str(root / "out")])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code == 2:
        assert "Traceback" not in result.output and result.stderr.startswith("Error: ")
        return
    assert result.exit_code == 0, result.output
    (folder,) = (root / "out").iterdir()
    assert folder.resolve().parent == (root / "out").resolve()
    packet = " ".join(page.extract_text() for page in PdfReader(folder / "interviewer.pdf").pages)
    sheet = " ".join(page.extract_text() for page in PdfReader(folder / "prescreen.pdf").pages)
    for value in (text, title, name):
        assert squash(value) in squash(packet), value
    assert squash(text) in squash(sheet) and squash(name) in squash(sheet)
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


KEY = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters=":#{}[],&*!|>'\"%@`-?"),
              min_size=1, max_size=20).filter(lambda k: k not in {"id", "text", "kind"})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=KEY, value=NAME)
def test_unknown_keys_are_one_line_errors(tmp_path_factory, key: str, value: str) -> None:
    root = tmp_path_factory.mktemp("keys")
    config = team(root / "team", "What is a tensor?", "Fuzz", 1.0)
    bank = root / "team" / "questions" / "q.yaml"
    data = yaml.safe_load(bank.read_text())
    data["questions"][0][key] = value
    bank.write_text(yaml.safe_dump(data, allow_unicode=True))
    result = CliRunner().invoke(cli, ["--config", str(config), "check"])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if key in {"competency", "roles", "levels", "minutes", "guidance", "follow_ups", "red_flags", "anchors",
               "answer_key", "retired", "level_note"}:
        return  # a real field with a wrong value: reported or accepted, never a traceback
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if line.endswith("[schema]")]
    assert len(lines) == 1 and re.search(r"q\.yaml:\d+:\d+: question 'fuzz-q': unknown key", lines[0])
