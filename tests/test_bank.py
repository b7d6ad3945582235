"""The built-in banks and rubrics: structure, reach and depth (not the prose)."""

from __future__ import annotations

import re

import pytest

from kit.models import LEVELS
from kit.select import eligible, rounds, select_kit
from kit.library import Library
from kit.validate import load_library

ROLES = ("cv-engineer", "nlp-engineer", "dl-engineer", "dl-scientist")
PAIRS = [(role, level) for role in ROLES for level in LEVELS]

@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


@pytest.mark.parametrize(("role", "level"), PAIRS)
def test_every_role_and_level_makes_three_kits_without_a_repeat(library: Library, role: str, level: str) -> None:
    assert rounds(library, role, level, limit=3) == 3


@pytest.mark.parametrize(("role", "level"), PAIRS)
def test_every_weighted_competency_is_reachable(library: Library, role: str, level: str) -> None:
    kit = select_kit(library, role, level)
    weighed = {c.id for c in library.roles[role].competencies}
    assert {q.competency for q in kit.questions} == weighed
    assert {q.competency for q in kit.prescreen} <= weighed


def test_roles_weigh_competencies_differently(library: Library) -> None:
    def top(role: str) -> str:
        return max(library.roles[role].competencies, key=lambda c: c.weight).id

    assert [top(r) for r in ROLES] == ["vision", "nlp", "training", "research"]
    weights = {r: {c.id: c.weight for c in library.roles[r].competencies} for r in ROLES}
    assert weights["dl-engineer"]["production"] > weights["dl-scientist"].get("production", 0)
    assert weights["dl-scientist"]["fundamentals"] > weights["dl-engineer"]["fundamentals"]


def test_questions_carry_what_an_interviewer_needs(library: Library) -> None:
    for question in library.questions.values():
        assert question.level_note and question.minutes >= 1, question.id
        if question.kind == "prescreen":
            assert question.answer_key and question.minutes <= 5, question.id
            continue
        minimum = 1 if question.kind == "behavioural" else 3
        assert len(question.guidance) + len(question.strong) >= minimum, question.id
        assert question.follow_ups and question.red_flags, question.id
        if question.anchors:
            assert sorted(question.anchors) == [1, 2, 3, 4], question.id


def test_all_kinds_are_present_and_coding_questions_show_code(library: Library) -> None:
    kinds = {q.kind for q in library.questions.values()}
    assert kinds == {"technical", "hypothetical", "behavioural", "coding", "project", "prescreen"}
    coding = [q for q in library.questions.values() if q.kind == "coding"]
    assert all("`" in q.text for q in coding)  # a snippet to read, or the signature to write
    assert sum("```python" in q.text for q in coding) >= len(coding) // 2


@pytest.mark.parametrize("level", LEVELS)
def test_each_competency_has_anchored_core_questions_at_each_level(library: Library, level: str) -> None:
    for competency in library.rubric.competencies:
        anchored = [q for q in library.questions.values()
                    if q.competency == competency.id and level in q.levels and q.anchors and q.kind != "prescreen"]
        assert anchored, (competency.id, level)


def test_rubric_has_anchors_and_a_bar_for_every_level(library: Library) -> None:
    ratings = [step.rating for step in library.rubric.scale]
    assert ratings == [1, 2, 3, 4]
    for competency in library.rubric.competencies:
        assert sorted(competency.anchors) == ratings
        assert list(competency.bar) == list(LEVELS), competency.id
    assert [r.label for r in library.rubric.recommendation] == ["Strong hire", "Hire", "No hire", "Strong no hire"]


def test_prescreen_questions_fit_on_paper(library: Library) -> None:
    for role in ROLES:
        for level in LEVELS:
            assert len(eligible(library, role, level, prescreen=True)) >= 3 * library.roles[role].levels[level].prescreen


def test_no_question_touches_protected_characteristics(library: Library) -> None:
    """kitgen's own fairness lint (the one `kitgen check` runs, measured in bench/fairness.py) passes the banks."""
    from kit.check import unfair

    assert list(unfair(library)) == []


def test_reference_card_matches_each_role(library: Library) -> None:
    def sections(role: str) -> set[str]:
        return {s.id for s in library.reference.sections if role in s.roles}

    common = {"activations", "losses", "bias-variance"}
    assert all(common <= sections(role) for role in ROLES)
    assert "detectors" in sections("cv-engineer") and "detectors" not in sections("nlp-engineer")
    assert "nlp-architectures" in sections("nlp-engineer") and "nlp-architectures" not in sections("cv-engineer")


def test_weights_may_change_by_level(library: Library) -> None:
    """Leading others counts more at staff: the staff scorecard and the manifest (which scoring uses) say so."""
    from kit.manifest import People, manifest

    role = library.roles["cv-engineer"]
    base = {w.id: w.weight for w in role.competencies}
    staff = {w.id: w.weight for w in role.weights_for("staff")}
    assert staff["behavioural"] > base["behavioural"] and {k: v for k, v in staff.items() if k != "behavioural"} == \
        {k: v for k, v in base.items() if k != "behavioural"}
    kit = select_kit(library, "cv-engineer", "staff")
    assert {w.id: w.weight for w in kit.weights} == staff
    assert manifest([kit], People()).weights == staff


INTERVIEW = ("technical", "hypothetical", "behavioural", "coding", "project")
CHECKLIST = re.compile(r"\b(all|everything) (of |in |at )?(level )?3\b|\blevel 3 plus\b", re.IGNORECASE)
VAGUE = re.compile(r"\b(crisp|crisply|clearly|cleanly|solid|nice|elegant|confidently|sensibl[ey]|correct and quick)\b", re.IGNORECASE)


def every_anchor(library: Library):
    for comp in library.rubric.competencies:
        for level in LEVELS:
            yield comp.id, comp.anchors_for(level)
    for question in library.questions.values():
        for level in question.levels:
            yield question.id, question.anchors_for(level) or {}


def test_guidance_separates_the_bar_from_what_a_strong_answer_adds(library: Library) -> None:
    missing = [q.id for q in library.questions.values() if q.kind in INTERVIEW and not (q.guidance and q.strong)]
    assert missing == []


def test_anchors_describe_quality_not_checklists(library: Library) -> None:
    found = [(where, rating, text) for where, anchors in every_anchor(library) for rating, text in anchors.items()
             if CHECKLIST.search(text) or VAGUE.search(text)]
    assert found == []


def test_every_competency_is_anchored_at_every_level(library: Library) -> None:
    for comp in library.rubric.competencies:
        assert list(comp.level_anchors) == list(LEVELS), comp.id
        assert all(sorted(anchors) == [1, 2, 3, 4] for anchors in comp.level_anchors.values()), comp.id


def test_every_interview_question_has_a_sample_answer_at_every_rating_for_each_of_its_levels(library: Library) -> None:
    gaps = [(q.id, level) for q in library.questions.values() if q.kind in INTERVIEW
            for level in q.levels if sorted(q.samples_for(level)) != [1, 2, 3, 4]]
    assert gaps == []


@pytest.mark.parametrize(("role", "level"), PAIRS)
def test_the_top_weighted_competency_is_deep(library: Library, role: str, level: str) -> None:
    """At least 12 questions at each level for the competency a role weighs most, and 6 kits' worth."""
    from kit.select import top_rounds

    top, kits = top_rounds(library, role, level)
    pool = [q for q in eligible(library, role, level, prescreen=False) if q.competency == top and q.kind != "project"]
    assert len(pool) >= 12 and kits >= 6, (top, len(pool), kits)
    assert rounds(library, role, level, limit=4) == 4
