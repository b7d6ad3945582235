"""Team templates run in Jinja's sandbox: they change layout and words, never reach Python, files or
the data's methods; whatever they try ends in one line naming the template's file and line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kit.check import run_checks
from kit.layers import find_layers
from kit.scaffold import scaffold

MARKER = "kitgen-sandbox-marker"
ESCAPES = {
    "subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "cycler-globals": "{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}",
    "lipsum-globals": "{{ lipsum.__globals__['os'].system('touch MARKER') }}",
    "joiner-globals": "{{ joiner.__init__.__globals__ }}",
    "namespace-init": "{{ namespace.__init__.__globals__ }}",
    "template-context": "{{ self._TemplateReference__context }}",
    "bound-method-self": "{{ competency.__self__.layers }}",
    "method-globals": "{{ rubric.screening.pass_mark.__func__.__globals__ }}",
    "pydantic-api": "{{ rubric.model_copy(update={'competencies': []}) }}",
    "pydantic-fields": "{{ kit.role.model_fields }}",
    "dunder-dict": "{{ people.__dict__ }}",
    "format-escape": "{{ '{0.__class__.__init__.__globals__}'.format(rubric) }}",
    "mutate-list": "{{ kit.questions.append(1) }}",
    "mutate-dict": "{% set d = {} %}{{ d.update(a=1) }}",
    "clear-list": "{{ kit.questions.clear() }}",
    "huge-string": "{{ 'x' * 1000000000 }}",
    "huge-power": "{{ 9 ** 99999999 }}",
    "huge-range": "{{ range(10 ** 9) | list }}",
    "huge-base": "{{ ((9 ** 999) ** 999) ** 999 }}",
    "huge-center": "{{ 'x'.center(1500000000) }}",
    "huge-ljust": "{{ 'x'.ljust(1500000000) }}",
    "huge-zfill": "{{ '1'.zfill(1500000000) }}",
    "huge-percent": "{{ '%01500000000d' % 1 }}",
    "huge-format": "{{ '{:>1500000000}'.format(1) }}",
    "huge-center-filter": "{{ 'x' | center(1500000000) }}",
    "huge-format-filter": "{{ '%01500000000d' | format(1) }}",
    "huge-replace": "{{ ('ab' * 50000).replace('a', 'b' * 30000) }}",
    "huge-replace-filter": "{{ ('ab' * 50000) | replace('a', 'b' * 30000) }}",
    "huge-join": "{{ ('x' * 90000).join(['a'] * 90000) }}",
    "huge-join-filter": "{{ ['x' * 90000] * 90000 | join }}",
    "pydantic-v1-pickle": "{{ kit.role.parse_raw('x', content_type='application/pickle', allow_pickle=True) }}",
    "pydantic-v1-file": "{{ kit.role.parse_file('/etc/hostname') }}",
    "pydantic-v1-attr-filter": "{{ kit.role | attr('parse_file') }}",
    "pydantic-copy": "{{ rubric.copy(update={}) }}",
    "pydantic-json": "{{ rubric.json() }}",
    "pydantic-class-schema": "{{ kit.role.schema() }}",
    "lipsum": "{{ lipsum(200000) }}",
    "undefined": "{{ config.SECRET }}",
    "include-outside": "{% include '../../../../../../etc/passwd' %}",
    "include-absolute": "{% include '/etc/passwd' %}",
    "include-link-out": "{% include 'link.html' %}",
    "import-os": "{% from 'os' import system %}{{ system('touch MARKER') }}",
}


@pytest.fixture
def team_folder(tmp_path: Path) -> Path:
    scaffold(tmp_path / "team")
    (tmp_path / "team" / "templates" / "link.html").symlink_to("/etc/hostname")
    return tmp_path / "team"


def _plant(team_folder: Path, payload: str) -> Path:
    path = team_folder / "templates" / "interviewer.html"
    path.write_text('{% extends "kitgen/interviewer.html" %}\n{% block howto %}\n<p>ok</p>\n'
                    + payload.replace("MARKER", str(team_folder / MARKER)) + "\n{% endblock %}\n")
    return path


@pytest.mark.parametrize("payload", ESCAPES.values(), ids=ESCAPES.keys())
def test_a_team_template_cannot_escape_and_is_placed_by_line(team_folder: Path, payload: str, run, tmp_path: Path) -> None:
    template = _plant(team_folder, payload)
    out = tmp_path / "out"
    result = run("--config", team_folder / "kitgen.yaml", "--role", "cv-engineer", "--level", "senior", "--out", out)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"Error: {template}:4:1: template error"), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (team_folder / MARKER).exists() and not os.path.exists(f"{os.getcwd()}/{MARKER}")
    assert not out.exists() or not any(out.iterdir())


def test_check_finds_what_a_team_template_tries(team_folder: Path) -> None:
    template = _plant(team_folder, ESCAPES["cycler-globals"])
    report = run_checks(find_layers(team_folder / "kitgen.yaml"))
    findings = [(f.check, f.problem.file, f.problem.line) for f in report.findings]
    assert ("template", template, 4) in findings
    assert not (team_folder / MARKER).exists()


@pytest.mark.slow
def test_a_team_template_can_still_use_the_kits_data(team_folder: Path, run, tmp_path: Path) -> None:
    _plant(team_folder, "<p>{{ kit.questions | length }} questions; pass mark {{ rubric.screening.pass_mark(10) }};"
                        " {{ 'ab' * 3 }} {{ 2 ** 10 }} {{ kit.questions | map(attribute='id') | join(',') }}</p>")
    out = tmp_path / "out"
    result = run("--config", team_folder / "kitgen.yaml", "--role", "cv-engineer", "--level", "senior", "--out", out,
                 "--format", "html")
    assert result.exit_code == 0, result.output
    html = (out / "cv-engineer-senior" / "interviewer.html").read_text()
    assert "ababab 1024" in html and " questions; pass mark " in html


def test_a_kitgen_yaml_in_the_current_folder_is_announced(team_folder: Path, run, monkeypatch) -> None:
    monkeypatch.chdir(team_folder)
    result = run("list")
    assert result.exit_code == 0
    assert result.stderr.startswith(f"kitgen: using team ({team_folder / 'kitgen.yaml'}), found in the current folder")
    assert "cv-platform-engineer" in result.stdout


@pytest.mark.slow
def test_check_renders_a_debrief_through_a_team_template(team_folder: Path) -> None:
    template = team_folder / "templates" / "debrief.html"
    template.write_text('{% extends "kitgen/debrief.html" %}\n{% block content %}\n{{ debrief.verdicts[0].source.read_text() }}\n'
                        "{% endblock %}\n")
    report = run_checks(find_layers(team_folder / "kitgen.yaml"))
    assert ("template", template, 3) in [(f.check, f.problem.file, f.problem.line) for f in report.findings]


@pytest.mark.parametrize("condition", ["kit.level == 'staff'", "not forms", "not people.candidate",
                                       "paper.size == 'letter'", "kit.stage"])
@pytest.mark.slow
def test_check_finds_a_failure_hidden_behind_a_condition(team_folder: Path, condition: str) -> None:
    template = _plant(team_folder, f"{{% if {condition} %}}{{{{ ''.__class__ }}}}{{% endif %}}")
    report = run_checks(find_layers(team_folder / "kitgen.yaml"))
    assert ("template", template, 4) in [(f.check, f.problem.file, f.problem.line) for f in report.findings]
