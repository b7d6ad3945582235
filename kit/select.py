"""Step 3, select: choose a kit's questions from the bank, deterministically.

The same role, level and seed give the same kit on any machine: randomness comes from a
``random.Random`` seeded with a string, which does not depend on hash randomisation.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from kit.errors import KitgenError, unknown
from kit.models import LEVELS, Level, LevelPlan, Question, Role, Stage, Weight
from kit.library import Library


@dataclass(frozen=True)
class Kit:
    """What goes on one interviewer's pages: the questions, their timing and what is scored."""

    role: Role
    level: Level
    seed: int
    questions: tuple[Question, ...]
    prescreen: tuple[Question, ...]
    plan: LevelPlan  # the timing of this interview
    weights: tuple[Weight, ...]  # the competencies this interviewer scores
    stage: Stage | None = None  # the stage of a hiring loop, for --plan
    member: tuple[int, int] | None = None  # (k, n): interviewer k of a panel of n

    @property
    def name(self) -> str:
        """``interviewer``, or ``interviewer-<stage>[-<k>]`` for the packets of a plan."""
        parts = ["interviewer", self.stage.id if self.stage else None, str(self.member[0]) if self.member else None]
        return "-".join(p for p in parts if p)


class SelectionError(KitgenError):
    """The bank cannot fill the requested kit."""


def find_role(library: Library, role_id: str, level: str) -> Role:
    """The role profile for ``role_id``, checked to have a plan for ``level``."""
    if role_id not in library.roles:
        raise KitgenError(unknown("role", role_id, sorted(library.roles)))
    if level not in LEVELS:
        raise KitgenError(unknown("level", level, list(LEVELS)))
    role = library.roles[role_id]
    if level not in role.levels:
        raise KitgenError(f"role {role_id!r} has no plan for level {level!r} (it has: {', '.join(role.levels)})")
    return role


def eligible(
    library: Library, role_id: str, level: str, prescreen: bool | None = None, exclude: Collection[str] = ()
) -> list[Question]:
    """Questions tagged for this role (or a role it extends) and level; only prescreen ones, or none, if asked."""
    lineage = library.lineage(role_id)
    return [
        q for q in library.questions.values()
        if not lineage.isdisjoint(q.roles) and level in q.levels and q.id not in exclude
        and (prescreen is None or (q.kind == "prescreen") == prescreen)
    ]


def rounds(library: Library, role_id: str, level: str, limit: int = 9) -> int:
    """How many full kits the bank makes for a role and level with no question asked twice.

    Measured, not estimated: kits are selected one after another, each excluding the
    questions of the ones before, until the bank cannot fill another (or ``limit`` is reached).
    """
    used: set[str] = set()
    for made in range(limit):
        try:
            kit = select_kit(library, role_id, level, exclude=used)
        except SelectionError:
            return made
        used.update(q.id for q in kit.questions + kit.prescreen)
    return limit


def top_rounds(library: Library, role_id: str, level: str) -> tuple[str, int]:
    """The role's most heavily weighted competency at ``level`` and how many kits its questions fill with no
    question asked twice (its share of each kit, less a project deep dive that takes one of its places)."""
    role = find_role(library, role_id, level)
    weights = role.weights_for(level)
    top = max(weights, key=lambda w: w.weight).id
    pool = [q for q in eligible(library, role_id, level, prescreen=False) if q.competency == top]
    per_kit = allocate(weights, role.levels[level].questions)[top] - any(q.kind == "project" for q in pool)  # type: ignore[index]
    return top, sum(q.kind != "project" for q in pool) // max(per_kit, 1)


def select_kit(library: Library, role_id: str, level: str, seed: int = 1, exclude: Collection[str] = ()) -> Kit:
    """Choose the interview and prescreen questions for one kit.

    Interview questions cover every competency of the role, in proportion to its weights, and
    fit the level's time budget; each competency's first question is one of current practice
    (``modern``) where it has any, then questions written for exactly this level come before ones that
    span several. A project deep dive (``kind: project``) for the role opens the kit. Questions in
    ``exclude`` (earlier rounds) are never chosen. Raises
    :class:`SelectionError` naming what is missing rather than a thinner kit.
    """
    role = find_role(library, role_id, level)
    plan = role.levels[level]  # type: ignore[index]
    picker = _Picker(library, role, level, seed, exclude)
    weights = role.weights_for(level)
    counts = allocate(weights, plan.questions, f"role {role.id!r}")
    chosen = picker.interview(counts, plan.question_minutes, "interview")
    return Kit(role, level, seed, chosen, picker.prescreen(plan), plan, tuple(weights))  # type: ignore[arg-type]


def select_plan(
    library: Library, role_id: str, level: str, seed: int = 1, exclude: Collection[str] = (), panel: int = 1
) -> list[Kit]:
    """One kit per stage of the role's hiring loop (per interviewer with ``panel``), no question twice.

    Each stage's questions go to its competencies by weight; a panel splits a stage's
    competencies between its interviewers, who sit together for the whole stage and share its
    question time in proportion.
    """
    role = find_role(library, role_id, level)
    if not role.plan:
        raise KitgenError(f"role {role.id!r} has no interview plan; add `plan:` stages to its profile")
    level_plan = role.levels[level]  # type: ignore[index]
    picker = _Picker(library, role, level, seed, exclude)
    screen = picker.prescreen(level_plan)
    kits = []
    for stage in (stage.at(level) for stage in role.plan):
        weights = [w for w in role.weights_for(level) if w.id in stage.competencies]
        counts = allocate(weights, stage.questions, f"{role.id} stage {stage.id}")
        # The panel sits together, so its questions share the stage's time: the member who opens with the
        # deep dive goes first and has its minutes on top of a fair share; the others split what is left.
        members = sorted(_split(counts, min(panel, len(counts))),
                         key=lambda m: picker.deep_dive_for({cid: counts[cid] for cid in m}) is None)
        left, asked = stage.question_minutes, 0
        for number, member in enumerate(members, 1):
            share = {cid: counts[cid] for cid in member}
            count, rest = sum(share.values()), stage.questions - asked
            fixed = picker.deep_dive_for(share)
            budget = (fixed.minutes + (left - fixed.minutes) * (count - 1) // max(rest - 1, 1) if fixed
                      else left * count // rest)
            chosen = picker.interview(share, budget, f"stage {stage.id!r}")
            left, asked = left - sum(q.minutes for q in chosen), asked + len(chosen)
            timing = LevelPlan.model_construct(minutes=stage.minutes, questions=len(chosen),  # the panel sits together
                                               opening=stage.opening, closing=stage.closing,
                                               prescreen=level_plan.prescreen, prescreen_minutes=level_plan.prescreen_minutes)
            kits.append(Kit(role, level, seed, chosen, screen, timing,  # type: ignore[arg-type]
                            tuple(w for w in weights if w.id in member), stage,
                            (number, len(members)) if len(members) > 1 else None))
    return kits


class _Picker:
    """Draws questions for one role and level, never the same one twice."""

    def __init__(self, library: Library, role: Role, level: str, seed: int, exclude: Collection[str]) -> None:
        self.library, self.role, self.level = library, role, level
        self.rng = random.Random(f"{role.id}/{level}/{seed}")
        self.order = [c.id for c in library.rubric.competencies]
        self.used = set(exclude)
        self.avoided = len(self.used)
        self.families: set[str] = set()  # of the questions chosen so far: one question per family
        self.deep_dive = False  # whether this kit or loop has its project deep dive yet

    def interview(self, counts: dict[str, int], budget: int, what: str) -> tuple[Question, ...]:
        """Questions for ``counts`` within ``budget`` minutes, opening with the kit's (or loop's) one project
        deep dive when the role has one at this level and it measures one of ``counts``' competencies."""
        pool = self._pool(prescreen=False)
        project = self.deep_dive_for(counts, pool)
        pinned = [project] if project else []
        counts = {cid: n - sum(q.competency == cid for q in pinned) for cid, n in counts.items()}
        groups = {cid: [q for q in pool if q.competency == cid and q.kind != "project"]
                  for cid in sorted(counts, key=self.order.index)}
        self._check_supply(groups, counts, what)
        chosen = pinned + _fit(groups, counts, budget, f"the {self.role.id} {self.level} {what}",
                               sum(q.minutes for q in pinned))
        self.deep_dive = self.deep_dive or bool(pinned)
        self._take(chosen)
        return tuple(chosen)

    def deep_dive_for(self, counts: dict[str, int], pool: list[Question] | None = None) -> Question | None:
        """The project deep dive an interview of ``counts`` would open with, if the kit or loop lacks one."""
        if self.deep_dive:
            return None
        pool = self._pool(prescreen=False) if pool is None else pool
        return next((q for q in pool if q.kind == "project" and counts.get(q.competency)), None)

    def prescreen(self, plan: LevelPlan) -> tuple[Question, ...]:
        pool = self._pool(prescreen=True)
        self._check_supply({"prescreen": pool}, {"prescreen": plan.prescreen}, "prescreen")
        chosen = _fit({"prescreen": _spread(pool, self.order)}, {"prescreen": plan.prescreen}, plan.prescreen_minutes,
                      f"the {self.role.id} {self.level} prescreen")
        self._take(chosen)
        return tuple(sorted(chosen, key=lambda q: self.order.index(q.competency)))

    def _pool(self, prescreen: bool) -> list[Question]:
        """Eligible questions, ranked, keeping only the best-ranked one of each family not yet used."""
        taken = set(self.families)
        pool = []
        for q in _modern_first(_ranked(eligible(self.library, self.role.id, self.level, prescreen, self.used), self.rng)):
            if taken.isdisjoint(q.families):
                pool.append(q)
                taken.update(q.families)
        return pool

    def _take(self, chosen: list[Question]) -> None:
        self.used.update(q.id for q in chosen)
        self.families.update(f for q in chosen for f in q.families)

    def _check_supply(self, groups: dict[str, list[Question]], counts: dict[str, int], what: str) -> None:
        short = [(cid, counts[cid], len(groups[cid])) for cid in groups if len(groups[cid]) < counts[cid]]
        if short:
            detail = "; ".join(f"{cid} needs {need}, has {have} ({need - have} short)" for cid, need, have in short)
            ran_out = f" after leaving out {self.avoided} questions of earlier kits" if self.avoided else ""
            kind = "prescreen" if what == "prescreen" else "interview"
            raise SelectionError(
                f"the bank cannot fill the {self.role.id} {self.level} {what}{ran_out}: {detail}; "
                f"add {kind} questions tagged with this role and level"
            )


def _split(counts: dict[str, int], members: int) -> list[list[str]]:
    """Competencies shared between panel members, heaviest first, to even out their questions."""
    groups: list[list[str]] = [[] for _ in range(members)]
    load = [0] * members
    for cid in sorted(counts, key=lambda c: -counts[c]):
        k = load.index(min(load))
        groups[k].append(cid)
        load[k] += counts[cid]
    return groups


def _ranked(questions: Iterable[Question], rng: random.Random) -> list[Question]:
    """Shuffle, then put questions tagged for fewer levels (written for this one) first."""
    shuffled = sorted(questions, key=lambda q: q.id)
    rng.shuffle(shuffled)
    return sorted(shuffled, key=lambda q: len(q.levels))


def _modern_first(ranked: list[Question]) -> list[Question]:
    """Each competency's best-ranked question of current practice moved to the front, so every competency
    asked draws on one where it can (and wins a family over an older question)."""
    firsts: dict[str, Question] = {}
    families: set[str] = set()  # two competencies' firsts never share a family, or one would lose it
    for q in ranked:
        if q.modern and q.competency not in firsts and families.isdisjoint(q.families):
            firsts[q.competency] = q
            families.update(q.families)
    ids = {q.id for q in firsts.values()}
    return [*firsts.values(), *(q for q in ranked if q.id not in ids)]


def _keeps_modern(picked: list[Question], out: Question, alt: Question) -> bool:
    """Whether swapping ``out`` for ``alt`` leaves the group a question of current practice, if it had one."""
    return alt.modern or not out.modern or any(q.modern for q in picked if q is not out)


def allocate(competencies: Iterable[Weight], total: int, who: str = "the role") -> dict[str, int]:
    """Questions per competency: one each, the rest by largest remainder of the weights."""
    weights = {c.id: c.weight for c in competencies}
    if total < len(weights):
        raise SelectionError(
            f"{who} weighs {len(weights)} competencies but asks for {total} questions; "
            f"raise `questions` to at least {len(weights)} in its profile"
        )
    whole = sum(weights.values())
    share = {cid: total * w / whole for cid, w in weights.items()}
    counts = {cid: max(1, int(s)) for cid, s in share.items()}
    by_remainder = sorted(weights, key=lambda cid: (counts[cid] - share[cid], -weights[cid]))
    for cid in by_remainder[: total - sum(counts.values())]:
        counts[cid] += 1
    while sum(counts.values()) > total:  # the minimum of one each overshot: take from the most over-served
        cid = max((c for c in counts if counts[c] > 1), key=lambda c: counts[c] - share[c])
        counts[cid] -= 1
    return counts


def _spread(ranked: list[Question], order: list[str]) -> list[Question]:
    """Re-rank so consecutive picks come from different competencies (round-robin)."""
    rounds: dict[str, list[Question]] = {}
    for q in ranked:
        rounds.setdefault(q.competency, []).append(q)
    spread: list[Question] = []
    depth = 0
    while len(spread) < len(ranked):
        spread += [qs[depth] for cid, qs in sorted(rounds.items(), key=lambda kv: order.index(kv[0])) if depth < len(qs)]
        depth += 1
    return spread


def _fit(groups: dict[str, list[Question]], counts: dict[str, int], budget: int, what: str,
         reserved: int = 0) -> list[Question]:
    """Take the top questions of each group, then swap long ones for shorter ones until they fit ``budget``
    (of which ``reserved`` minutes are already taken), keeping each group's question of current practice
    where another swap will do, and the most-asked group's before the others'."""
    picked = {cid: list(groups[cid][: counts[cid]]) for cid in groups}
    while (total := reserved + sum(q.minutes for qs in picked.values() for q in qs)) > budget:
        swaps = [
            (q.minutes - alt.minutes, cid, q, alt)
            for cid, qs in picked.items() for q in qs
            for alt in groups[cid] if alt not in qs and alt.minutes < q.minutes
        ]
        heaviest = max(counts, key=counts.__getitem__, default=None)
        swaps = ([s for s in swaps if _keeps_modern(picked[s[1]], s[2], s[3])]
                 or [s for s in swaps if s[1] != heaviest or _keeps_modern(picked[s[1]], s[2], s[3])] or swaps)
        if not swaps:
            shortest = reserved + sum(sum(sorted(q.minutes for q in groups[cid])[: counts[cid]]) for cid in groups)
            raise SelectionError(
                f"{what} needs at least {shortest} minutes of questions but its plan allows {budget} "
                f"(now {total}); raise the level's minutes in the role profile or add shorter questions"
            )
        _, cid, out, alt = max(swaps, key=lambda s: s[0])
        picked[cid][picked[cid].index(out)] = alt
    return [q for qs in picked.values() for q in qs]
