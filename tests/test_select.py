"""Selection: deterministic, proportional to weights, within the time budget, never thinner."""

from __future__ import annotations

from collections import Counter

import pytest

from kit.models import LEVELS
from kit.select import SelectionError, allocate, eligible, select_kit
from kit.library import Library
from kit.validate import load_library


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


@pytest.mark.parametrize("level", LEVELS)
def test_every_cv_engineer_level_makes_a_full_kit(library: Library, level: str) -> None:
    kit = select_kit(library, "cv-engineer", level)
    plan = kit.plan
    ids = [q.id for q in kit.questions]
    assert len(ids) == plan.questions == len(set(ids))
    assert sum(q.minutes for q in kit.questions) <= plan.question_minutes
    assert len(kit.prescreen) == plan.prescreen
    assert sum(q.minutes for q in kit.prescreen) <= plan.prescreen_minutes
    assert all("cv-engineer" in q.roles and level in q.levels for q in kit.questions + kit.prescreen)
    assert all(q.kind == "prescreen" for q in kit.prescreen)
    assert not any(q.kind == "prescreen" for q in kit.questions)
    assert Counter(q.competency for q in kit.questions) == allocate(kit.role.competencies, plan.questions)


def test_same_seed_same_kit_and_seeds_vary(library: Library) -> None:
    first = select_kit(library, "cv-engineer", "senior", seed=5)
    assert select_kit(library, "cv-engineer", "senior", seed=5) == first
    others = {tuple(q.id for q in select_kit(library, "cv-engineer", "senior", seed=s).questions) for s in range(6)}
    assert len(others) > 1


def test_allocation_follows_weights(library: Library) -> None:
    counts = allocate(library.roles["cv-engineer"].competencies, 9)
    assert sum(counts.values()) == 9 and min(counts.values()) >= 1
    assert counts["vision"] == max(counts.values())
    with pytest.raises(SelectionError, match="weighs 7 competencies but asks for 5 questions"):
        allocate(library.roles["cv-engineer"].competencies, 5)


def test_prefers_questions_written_for_the_exact_level(library: Library) -> None:
    """After each competency's one question of current practice, questions written for fewer levels come first."""
    from kit.select import _Picker

    pool = _Picker(library, library.roles["cv-engineer"], "senior", 1, ())._pool(prescreen=False)
    for competency in {q.competency for q in pool}:
        group = [q for q in pool if q.competency == competency]
        rest = group[1:] if group[0].modern else group
        assert [len(q.levels) for q in rest] == sorted(len(q.levels) for q in rest), competency


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_every_kit_draws_on_current_practice(library: Library, seed: int) -> None:
    """An NLP kit at any level asks about today's practice (LLMs), not only the 2015 canon: the top-weighted
    competency always holds a question of current practice where it has one, and every kit at least two.
    (Other competencies give theirs up only when the time budget leaves no other swap.)"""
    from kit.select import top_rounds

    for role in library.roles.values():
        for level in role.levels:
            kit = select_kit(library, role.id, level, seed)
            top, _ = top_rounds(library, role.id, level)
            current = [q for q in eligible(library, role.id, level, prescreen=False)
                       if q.competency == top and q.modern and q.kind != "project"]
            assert not current or any(q.modern for q in kit.questions if q.competency == top), (role.id, level)
            assert sum(q.modern for q in kit.questions) >= 2, (role.id, level)


def test_a_bank_that_cannot_fill_the_kit_says_what_is_missing(library: Library) -> None:
    def for_mid_vision(q) -> bool:  # the project deep dive stays: it takes one of vision's two places
        return q.competency == "vision" and "mid" in q.levels and "cv-engineer" in q.roles and q.kind not in (
            "prescreen", "project")

    thin = {k: q for k, q in library.questions.items() if not for_mid_vision(q)}
    with pytest.raises(SelectionError) as caught:
        select_kit(Library(library.rubric, library.roles, thin), "cv-engineer", "mid")
    assert caught.value.format_message() == (
        "the bank cannot fill the cv-engineer mid interview: vision needs 1, has 0 (1 short); "
        "add interview questions tagged with this role and level"
    )


def test_too_little_time_is_an_error(library: Library) -> None:
    role = library.roles["cv-engineer"]
    tight = role.model_copy(update={"levels": {"senior": role.levels["senior"].model_copy(update={"minutes": 30})}})
    squeezed = Library(library.rubric, {**library.roles, "cv-engineer": tight}, library.questions)
    with pytest.raises(SelectionError, match=r"the cv-engineer senior interview needs at least \d+ minutes of questions but its plan allows 15"):
        select_kit(squeezed, "cv-engineer", "senior")


def test_a_kit_or_loop_never_holds_two_questions_of_one_family() -> None:
    """Questions that test the same thing (the mixed-precision ones, the missing zero_grad, the conv output shape)
    declare a family; selection takes at most one of each into a kit's interview and prescreen, or a loop."""
    from kit.select import select_plan

    library = load_library()
    families = {f for q in library.questions.values() for f in q.families}
    assert {"mixed-precision", "zero-grad", "conv-output-shape"} <= families
    for role in library.roles.values():
        for level in role.levels:
            for seed in range(1, 16):
                kits = [select_kit(library, role.id, level, seed)]
                if role.plan:
                    kits.append(select_plan(library, role.id, level, seed))
                for kit in kits:
                    chosen = [q for k in (kit if isinstance(kit, list) else [kit]) for q in k.questions]
                    chosen += list((kit[0] if isinstance(kit, list) else kit).prescreen)
                    tags = [f for q in chosen for f in q.families]
                    assert len(tags) == len(set(tags)), (role.id, level, seed, tags)


def test_every_kit_and_loop_opens_with_one_project_deep_dive() -> None:
    """The project deep dive, the highest-signal part of a loop: one per kit (first) or per loop, anchored
    for the kit's level."""
    from kit.select import select_plan

    library = load_library()
    for role in library.roles.values():
        for level in role.levels:
            kit = select_kit(library, role.id, level)
            assert kit.questions[0].kind == "project" and sum(q.kind == "project" for q in kit.questions) == 1
            anchors = kit.questions[0].anchors_for(level)
            assert anchors == kit.questions[0].level_anchors[level] and sorted(anchors) == [1, 2, 3, 4]
            if role.plan:
                loop = [q for k in select_plan(library, role.id, level) for q in k.questions]
                assert sum(q.kind == "project" for q in loop) == 1, (role.id, level)
