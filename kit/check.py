"""``kitgen check``: everything wrong with a team's layered YAML, found before anything is printed.

Each finding names its check, file, line and column. The built-in layer must come out clean.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from kit.errors import InputError, Problem
from kit.layers import Layer
from kit.merge import problem_at
from kit.models import LEVELS, Question
from kit.select import Kit, SelectionError, allocate, eligible, select_kit, select_plan
from kit.library import Library
from kit.manifest import People, manifest
from kit.validate import load_library

NEAR_DUPLICATE = 0.55  # cosine similarity of question wording above which two questions are flagged
_STOP = frozenset(
    "a an and are as at be by can do does for from how i if in is it its of on or so that the this to was what "
    "when where which why will with would you your".split()
)


@dataclass(frozen=True)
class Finding:
    check: str
    problem: Problem

    def as_dict(self) -> dict[str, object]:
        line, column = self.problem.where or (None, None)
        return {"check": self.check, "file": str(self.problem.file), "line": line, "column": column,
                "message": self.problem.message}


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    coverage: dict[str, dict[str, dict[str, tuple[int, int]]]] = field(default_factory=dict)  # (have, per kit)

    @property
    def ok(self) -> bool:
        return not self.findings


def run_checks(layers: list[Layer]) -> Report:
    """Load every layer and run every check; loading problems end the run as schema findings."""
    try:
        library = load_library(layers)
    except InputError as exc:
        return Report([Finding("schema", problem) for problem in exc.problems])
    findings = [
        *(Finding("fill", p) for p in unfillable(library)),
        *(Finding("unmeasured", p) for p in unmeasured(library)),
        *(Finding("untied", p) for p in untied(library)),
        *(Finding("near-duplicate", p) for p in near_duplicates(library)),
        *(Finding("fairness", p) for p in unfair(library)),
        *(Finding("template", p) for p in broken_templates(library)),
    ]
    return Report(findings, coverage(library))


def _at(library: Library, kind: str, key: str, loc: tuple[str | int, ...], message: str) -> Problem:
    return problem_at(library.sources[f"{kind}:{key}"], loc, message)


def unfillable(library: Library) -> Iterator[Problem]:
    """Role × level pairs the bank cannot make a kit for, with how many questions are short."""
    for role in library.roles.values():
        for level in role.levels:
            try:
                select_kit(library, role.id, level)
            except SelectionError as exc:
                yield _at(library, "role", role.id, ("levels", level), exc.format_message())
            try:
                if role.plan:
                    select_plan(library, role.id, level)
            except SelectionError as exc:
                yield _at(library, "role", role.id, ("plan",), f"plan at {level}: {exc.format_message()}")


def unmeasured(library: Library) -> Iterator[Problem]:
    """Competencies that no question measures."""
    measured = {q.competency for q in library.questions.values()}
    for comp in library.rubric.competencies:
        if comp.id not in measured:
            yield _at(library, "competency", comp.id, ("id",), f"competency {comp.id!r}: no question measures it; "
                      "add questions or remove it")


def untied(library: Library) -> Iterator[Problem]:
    """Questions tagged for a role that does not weigh their competency: they can never be asked there."""
    for q in library.questions.values():
        for role_id in q.roles:
            weighed = {w.id for r in library.roles.values() if role_id in library.lineage(r.id) for w in r.competencies}
            if q.competency not in weighed:
                yield _at(library, "question", q.id, ("roles",),
                          f"question {q.id!r}: role {role_id!r} does not weigh {q.competency!r}, so the question "
                          "is never asked there; untag the role or weigh the competency")


def near_duplicates(library: Library, threshold: float = NEAR_DUPLICATE) -> Iterator[Problem]:
    """Pairs of questions that ask the same thing in other words (TF-IDF cosine of their wording)."""
    questions = list(library.questions.values())
    bags = [Counter(_terms(q.text)) for q in questions]
    documents = Counter(term for bag in bags for term in bag)
    vectors = [_unit({t: n * math.log(len(bags) / documents[t]) for t, n in bag.items()}) for bag in bags]
    for (i, a), (j, b) in combinations(enumerate(questions), 2):
        similarity = sum(w * vectors[j].get(t, 0.0) for t, w in vectors[i].items())
        if similarity >= threshold:
            yield _at(library, "question", b.id, ("text",),
                      f"question {b.id!r} reads like {a.id!r} ({similarity:.0%} alike); merge them or make them differ")


def _terms(text: str) -> list[str]:
    words = [w.rstrip("s") for w in re.findall(r"[a-z][a-z0-9]+", text.lower()) if w not in _STOP]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
    return {t: w / norm for t, w in vector.items()}


def unfair(library: Library) -> Iterator[Problem]:
    """Questions whose wording steers towards a protected characteristic."""
    from kit.fairness import flagged, rules  # noqa: PLC0415

    compiled = rules(library.fairness)
    for q in library.questions.values():
        for loc, text in [(("text",), q.text), *((("follow_ups", i), f) for i, f in enumerate(q.follow_ups))]:
            for term, words in flagged(compiled, text):
                yield _at(library, "question", q.id, loc,
                          f"question {q.id!r}: {words!r} touches {term.reason}; ask only about the job")


def broken_templates(library: Library) -> Iterator[Problem]:
    """Team templates that do not compile, or that fail (an unsafe attribute, a missing value) when the
    kits of every role and level, and their debriefs, are rendered through them: with names, forms and
    A4, and as a plan (where the role has one) blank, flat and on Letter. A failure that hangs on other
    data still stops a kit with one line naming the template's file and line."""
    from kit.render import environment, template, template_folders  # noqa: PLC0415
    from jinja2 import TemplateNotFound  # noqa: PLC0415

    from kit.sandbox import TemplateError  # noqa: PLC0415

    folders = template_folders(library)
    if len(folders) < 2:
        return
    env = environment(folders)
    failures: dict[str, Problem] = {}
    for folder in folders[:-1]:
        for path in sorted(folder.rglob("*.html")):
            try:
                template(env, path.relative_to(folder).as_posix())
            except TemplateError as exc:
                failures.setdefault(str(exc.problem), exc.problem)
            except TemplateNotFound:  # a file there that the confined loader refuses
                failures[str(path)] = Problem(path, None, "template error: it leads outside the template folders; "
                                                          "copy the file in instead of linking it")
    named, blank = People("Candidate", "Interviewer", "2026-01-01"), People()
    for role in library.roles.values():
        for level in role.levels:
            try:
                plans = [[select_kit(library, role.id, level)]] + ([select_plan(library, role.id, level)] if role.plan else [])
            except SelectionError:
                continue  # reported by unfillable()
            for kits, people, forms, paper in ((plans[0], named, True, "a4"), (plans[-1], blank, False, "letter")):
                try:
                    _render_all(library, kits, people, forms, paper)
                except TemplateError as exc:
                    failures.setdefault(str(exc.problem), exc.problem)
    yield from failures.values()


def _render_all(library: Library, kits: list[Kit], people: People, forms: bool, paper: str) -> None:
    """Render every document of ``kits`` and a debrief of them, as a kit and a scoring would."""
    from kit.render import render_debrief, render_documents  # noqa: PLC0415
    from kit.score import decide  # noqa: PLC0415
    from kit.sheets import Verdict  # noqa: PLC0415

    record = manifest(kits, people, kits if kits[0].stage else None)
    render_documents(library, kits, people, (record.kit_id, "0" * 8), paper, forms=forms, calibration=True)
    rated = Verdict(Path("check"), "Interviewer", record.group, competencies={w.id: 3 for w in kits[0].role.competencies})
    render_debrief(library, decide(record, library, [rated]))


def coverage(library: Library) -> dict[str, dict[str, dict[str, tuple[int, int]]]]:
    """Role → level → competency → (questions tagged, questions one kit needs)."""
    table: dict[str, dict[str, dict[str, tuple[int, int]]]] = {}
    for role in library.roles.values():
        table[role.id] = {}
        for level in LEVELS:
            plan = role.levels.get(level)  # type: ignore[call-overload]
            need = allocate(role.weights_for(level), plan.questions, role.id) if plan else {}
            pool: list[Question] = eligible(library, role.id, level, prescreen=False)
            table[role.id][level] = {w.id: (sum(q.competency == w.id for q in pool), need.get(w.id, 0))
                                     for w in role.competencies}
    return table


def render_text(report: Report) -> str:
    """Findings one per line, then the coverage table with holes marked."""
    lines = [f"{f.problem}  [{f.check}]" for f in report.findings]
    for role, levels in report.coverage.items():
        lines += ["", f"{role}: questions per competency and level (! fewer than one kit needs)",
                  f"  {'competency':<14}" + "".join(f"{level:>8}" for level in LEVELS)]
        for comp in next(iter(levels.values())):
            cells = "".join(f"{have:>7}{'!' if have < need else ' '}" for have, need in (levels[lv][comp] for lv in LEVELS))
            lines.append(f"  {comp:<14}{cells}")
    count = len(report.findings)
    lines += ["", "clean: no problems found" if report.ok else f"{count} problem{'s' * (count != 1)} found"]
    return "\n".join(lines).lstrip("\n")
