"""kitgen check: each class of problem is caught on a fixture, at its line; the built-in layer is clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit.check import run_checks
from kit.layers import find_layers

FIXTURES = Path(__file__).parent / "fixtures"


def findings(team: str) -> set[tuple[str, str, int | None, int | None]]:
    report = run_checks(find_layers(FIXTURES / team / "kitgen.yaml"))
    return {(f.check, str(f.problem.file.relative_to(FIXTURES / team)), *(f.problem.where or (None, None)))
            for f in report.findings}


def test_built_in_layer_is_clean(run) -> None:
    result = run("check")
    assert result.exit_code == 0, result.stdout
    assert result.stdout.strip().endswith("clean: no problems found")
    assert "cv-engineer: questions per competency and level" in result.stdout


def test_schema_problems_in_a_team_layer() -> None:
    assert findings("schema-team") == {
        ("schema", "questions/b.yaml", 2, 5),    # duplicate id across the layer's files
        ("schema", "questions/a.yaml", 10, 5),   # gudiance
        ("schema", "questions/a.yaml", 15, 5),   # unknown competency visoin
    }


def test_every_lint_class_is_caught_at_its_line() -> None:
    assert findings("lint-team") == {
        ("fill", "roles/speech-engineer.yaml", 8, 3),          # speech needs 3, has 1
        ("unmeasured", "rubric.yaml", 6, 5),                   # mlops: no question measures it
        ("untied", "questions/team.yaml", 17, 5),              # tagged for a role that does not weigh vision
        ("near-duplicate", "questions/team.yaml", 21, 5),      # reads like vis-pooling-role
        ("fairness", "questions/team.yaml", 36, 5),            # "How old" in the text
        ("fairness", "questions/team.yaml", 38, 18),           # religious holidays in a follow-up
        ("template", "templates/interviewer.html", 3, 1),      # Jinja syntax error
    }


def test_messages_say_what_and_how_to_fix() -> None:
    report = run_checks(find_layers(FIXTURES / "lint-team" / "kitgen.yaml"))
    messages = {f.check: f.problem.message for f in report.findings}
    assert "speech needs 3, has 1 (2 short)" in messages["fill"]
    assert "reads like 'vis-pooling-role'" in messages["near-duplicate"]
    assert "touches age" in messages["fairness"] or "touches religion" in messages["fairness"]
    assert "template error" in messages["template"]


def test_check_json_and_exit_code(run) -> None:
    result = run("--config", FIXTURES / "lint-team" / "kitgen.yaml", "check", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and len(report["problems"]) == 7
    assert {"check", "file", "line", "column", "message"} <= set(report["problems"][0])
    assert report["coverage"]["speech-engineer"]["senior"]["speech"] == [1, 3]


@pytest.mark.slow
def test_team_fairness_terms_extend_the_list(team) -> None:
    team.write("fairness.yaml", "protected:\n  - id: salary\n    pattern: current salary\n    reason: salary history\n")
    team.write("questions/q.yaml", (FIXTURES / "lint-team" / "questions" / "team.yaml").read_text()
               .replace("How old were you when you first trained", "What is your current salary, and when did you first train")
               .replace("[speech-engineer]", "[cv-engineer]").replace("competency: speech", "competency: vision"))
    report = run_checks(find_layers(team.config))
    assert any("salary history" in f.problem.message for f in report.findings if f.check == "fairness")


def test_template_error_stops_a_kit_with_file_and_line(run, tmp_path: Path) -> None:
    config = FIXTURES / "lint-team" / "kitgen.yaml"
    result = run("--config", config, "--role", "cv-engineer", "--level", "senior", "--out", tmp_path)
    assert result.exit_code == 2
    template = FIXTURES / "lint-team" / "templates" / "interviewer.html"
    assert result.stderr.startswith(f"Error: {template}:3:1: template error")
    assert list(tmp_path.iterdir()) == []


def test_schema_command_writes_json_schema(run, tmp_path: Path) -> None:
    result = run("schema", "--out", tmp_path)
    assert result.exit_code == 0
    bank = json.loads((tmp_path / "question-bank.schema.json").read_text())
    question = bank["$defs"]["Question"]
    assert question["required"] == ["id"] and question["additionalProperties"] is False
    assert {"guidance", "follow_ups", "red_flags", "retired"} <= set(question["properties"])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{n}.schema.json" for n in ("question-bank", "rubric", "role", "reference", "fairness", "kitgen"))


@pytest.mark.slow
def test_a_fairness_pattern_that_would_backtrack_for_ever_is_matched_in_linear_time(team) -> None:
    """Python's re takes longer than the universe's age on (a+)+b against a long run of a's; RE2 does not."""
    team.write("fairness.yaml", "protected:\n  - id: trap\n    pattern: '(a+)+b'\n    reason: a trap\n")
    team.write("questions/q.yaml", (FIXTURES / "lint-team" / "questions" / "team.yaml").read_text()
               .replace("How old were you when you first trained", "Say " + "a" * 5000 + "c, then first trained")
               .replace("[speech-engineer]", "[cv-engineer]").replace("competency: speech", "competency: vision"))
    report = run_checks(find_layers(team.config))
    assert not any(f.check == "fairness" and "a trap" in f.problem.message for f in report.findings)


@pytest.mark.parametrize("pattern", [r"(a)\1", "(?=age)age", "(?<!x)age", "[unclosed"])
def test_a_fairness_pattern_re2_cannot_match_safely_is_refused_by_line(team, pattern: str) -> None:
    path = team.write("fairness.yaml", f"protected:\n  - id: trap\n    pattern: '{pattern}'\n    reason: x\n")
    report = run_checks(find_layers(team.config))
    found = [f.problem for f in report.findings if f.check == "schema"]
    assert found and found[0].file == path and found[0].line == 3
    assert "not a pattern kitgen can match safely" in found[0].message
