"""What the bank holds, for people and machines: the ``list`` and ``questions`` commands."""

from __future__ import annotations

import json

import yaml

from kit.models import LEVELS
from kit.select import eligible, find_role, rounds, top_rounds
from kit.library import Library


TOP = 15  # width of the top-competency column


def overview(library: Library) -> str:
    """Per role and level: interview + prescreen questions, how many full kits they make without a repeat,
    and how many kits' worth of questions the role's top-weighted competency holds."""
    width = max(len(r) for r in library.roles)
    lines = [
        "Roles: questions per level (interview + prescreen) and, in brackets, the full kits the bank",
        "makes for that role and level with no question asked twice, then the kits the role's",
        "top-weighted competency alone could fill",
        f"  {'role':<{width}}  " + "".join(f"{level:<16}" for level in LEVELS) + f"{'top':<{TOP}}title",
    ]
    for role in sorted(library.roles.values(), key=lambda r: r.id):
        tops = {level: top_rounds(library, role.id, level) for level in role.levels}
        cells = "".join(
            f"{len(eligible(library, role.id, level, False))}+{len(eligible(library, role.id, level, True))}"
            f" ({rounds(library, role.id, level)}, {tops[level][1]})".ljust(16) if level in role.levels else "-".ljust(16)
            for level in LEVELS
        )
        top = ",".join(sorted({t for t, _ in tops.values()}))
        lines.append(f"  {role.id:<{width}}  {cells}{top:<{TOP}}{role.title}")
    lines += ["", "Competencies (questions in the bank)"]
    width = max(len(c.id) for c in library.rubric.competencies)
    for comp in library.rubric.competencies:
        count = sum(q.competency == comp.id for q in library.questions.values())
        lines.append(f"  {comp.id:<{width}}  {count:>4}  {comp.title}")
    return "\n".join(lines)


def export(library: Library, role: str, level: str, fmt: str) -> str:
    """Every question for ``role`` and ``level`` as a table, JSON or YAML."""
    find_role(library, role, level)
    questions = eligible(library, role, level)
    if fmt == "json":
        return json.dumps([q.model_dump(mode="json") for q in questions], indent=2, ensure_ascii=False)
    if fmt == "yaml":
        data = {"questions": [q.model_dump(mode="json", exclude_none=True) for q in questions]}
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    rows = [f"{'id':<32} {'competency':<13} {'kind':<12} {'min':>3}  text"]
    for q in questions:
        first = " ".join(q.text.split())
        rows.append(f"{q.id:<32} {q.competency:<13} {q.kind:<12} {q.minutes:>3}  {first[:60]}{'…' if len(first) > 60 else ''}")
    rows.append(f"{len(questions)} questions for {role} {level}")
    return "\n".join(rows)
