"""The YAML shapes as strict models: the one source of truth for what a bank, rubric or role holds.

Unknown keys are errors (``extra="forbid"``), so a typo like ``gudiance`` is caught, not ignored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal


from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

Level = Literal["junior", "mid", "senior", "staff"]
LEVELS: tuple[Level, ...] = ("junior", "mid", "senior", "staff")
Kind = Literal["technical", "hypothetical", "behavioural", "coding", "project", "prescreen"]
Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Rating = Annotated[int, Field(ge=1)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class Question(Model):
    """One interview or prescreen question."""

    id: Id = Field(description="Stable unique id, e.g. vis-receptive-field.")
    competency: Id = Field(description="The rubric competency this question measures.")
    kind: Kind
    roles: list[Id] = Field(min_length=1, description="Roles the question suits.")
    levels: list[Level] = Field(min_length=1, description="Levels the question suits.")
    level_note: Text = Field(description="Why the question fits these levels.")
    minutes: int = Field(ge=1, le=60)
    text: Text = Field(description="Markdown: paragraphs, lists, inline code, fenced code blocks.")
    guidance: list[Text] = Field([], description="What a passing answer must contain (meets the bar).")
    strong: list[Text] = Field([], description="What a strong answer adds beyond the passing bar.")
    follow_ups: list[Text] = []
    red_flags: list[Text] = []
    anchors: dict[Rating, Text] | None = Field(None, description="What an answer at each rating sounds like.")
    level_anchors: dict[Level, dict[Rating, Text]] = Field(
        {}, description="Anchors for one level, over `anchors` (a project deep dive needs them for each of its levels).")
    samples: dict[Rating, Text] = Field({}, description="For calibration: a written sample answer at each rating.")
    level_samples: dict[Level, dict[Rating, Text]] = Field(
        {}, description="Sample answers for one level, over `samples` (a project deep dive's differ by level).")
    modern: bool = Field(False, description="A topic of current practice: each competency's first pick in a kit is "
                                            "one of these where its pool has any.")
    stack: Id | None = Field(None, description="The framework whose API the question depends on (its text says so), "
                                               "e.g. pytorch; none for a framework-neutral question.")
    answer_key: Text | None = Field(None, description="Prescreen only: what the screener hopes to read.")
    retired: bool = Field(False, description="A later layer sets this to take the question out of every kit.")
    families: list[Id] = Field([], description="Questions that test the same thing share a family; a kit or a "
                                               "loop never holds two questions of one family.")

    @model_validator(mode="after")
    def _fits_kind(self) -> Question:
        if self.kind == "project" and set(self.levels) - set(self.level_anchors):
            raise ValueError("a project deep dive needs level_anchors for each of its levels: the bar differs by level")
        if self.kind == "prescreen":
            if not self.answer_key:
                raise ValueError("a prescreen question needs an answer_key for the screener")
            if self.strong or self.samples or self.level_samples:
                raise ValueError("strong, samples and level_samples are for interview questions, not the prescreen")
        else:
            if self.answer_key:
                raise ValueError("answer_key is only for prescreen questions")
            for field in ("guidance", "follow_ups", "red_flags"):
                if not getattr(self, field):
                    raise ValueError(f"an interview question needs at least one entry in {field}")
        return self

    def anchors_for(self, level: str) -> dict[int, str] | None:
        """The question's own anchors at ``level`` (its level's over its general ones), if it has any."""
        return _at_level(self.anchors or {}, self.level_anchors, level) or None

    def samples_for(self, level: str) -> dict[int, str]:
        """The sample answers at ``level``: its level's over the general ones."""
        return _at_level(self.samples, self.level_samples, level)


def _at_level(general: dict[int, str], by_level: dict[Level, dict[int, str]], level: str) -> dict[int, str]:
    return {**general, **by_level.get(level, {})}  # type: ignore[call-overload]


class QuestionFile(Model):
    questions: list[Question]


class ScaleStep(Model):
    rating: Rating
    label: Text
    meaning: Text


class Recommendation(Model):
    label: Text
    min: float = Field(description="Lowest weighted total (on the rating scale) that earns this label.")
    floor: float | None = Field(None, description="Lowest mean any rated competency may have for this label "
                                                   "(\"across the board\").")
    meaning: Text


class Cap(Model):
    """A knock-out: a competency weighted at least ``weight`` whose mean is below ``below`` caps the verdict."""

    weight: float = Field(0, ge=0, description="Applies to competencies weighted at least this (0: every one).")
    below: float = Field(description="A competency mean under this triggers the cap.")
    cap: Text = Field(description="The best recommendation label the candidate can then get.")
    reason: Text = Field(description="The rule in words, printed on the scorecard and the debrief.")


class Decision(Model):
    """How the scores become a recommendation, besides the thresholds on the weighted total."""

    evidence: float = Field(ge=0, le=1, description="Share of the scorecard weight that must be rated for a verdict.")
    caps: list[Cap] = []
    red_flag: Text | None = Field(None, description="The verdict when any interviewer marks a red flag, e.g. Review.")


class Screening(Model):
    """How the screener key marks the prescreen: points per question and the pass line."""

    points: int = Field(3, ge=1, le=10, description="Most points a question earns (0 = nothing of the key).")
    pass_share: float = Field(gt=0, le=1, description="Share of all points needed to pass the prescreen.")

    def pass_mark(self, questions: int) -> int:
        """Points needed to pass with ``questions`` questions (rounded up)."""
        return -(-round(self.pass_share * self.points * questions * 100) // 100)


class Competency(Model):
    id: Id
    title: Text
    measures: Text = Field(description="What the competency measures.")
    anchors: dict[Rating, Text] = Field(description="Behavioural anchor for every rating of the scale.")
    bar: dict[Level, Text] = Field({}, description='What "meets the bar" means at each level.')
    level_anchors: dict[Level, dict[Rating, Text]] = Field(
        {}, description="Anchors that differ at one level; the others inherit `anchors`."
    )

    def anchors_for(self, level: str) -> dict[int, str]:
        return _at_level(self.anchors, self.level_anchors, level)


class Weight(Model):
    id: Id
    weight: float = Field(1.0, gt=0, description="Relative weight on the scorecard (equal unless stated).")


class Timing(Model):
    """An interview's length and question count; its questions get what opening and closing leave."""

    minutes: int = Field(ge=10, description="The whole interview, opening and closing included.")
    questions: int = Field(ge=1, description="Interview questions asked.")
    opening: int = Field(5, ge=0, description="Minutes for welcome and introductions.")
    closing: int = Field(5, ge=0, description="Minutes for the candidate's questions and close.")

    @model_validator(mode="after")
    def _room_for_questions(self) -> Timing:
        if self.minutes <= self.opening + self.closing:
            raise ValueError("minutes must leave time for questions after the opening and closing")
        return self

    @property
    def question_minutes(self) -> int:
        return self.minutes - self.opening - self.closing


class LevelPlan(Timing):
    """How one level's interview runs: its length, question count and prescreen."""

    closing: int = Field(10, ge=0, description="Minutes for the candidate's questions and close.")
    prescreen: int = Field(ge=1, description="Questions on the candidate prescreen sheet.")
    prescreen_minutes: int = Field(ge=1)
    weights: dict[Id, Annotated[float, Field(gt=0, le=100)]] = Field(
        {}, description="This level's weights where they differ from the role's, e.g. behavioural counts more at staff.")


class StageLevel(Model):
    """A stage's length and question count at one level, where they differ from the stage's own."""

    minutes: int | None = Field(None, ge=10)
    questions: int | None = Field(None, ge=1)


class Stage(Timing):
    """One interview of a hiring loop: the competencies it focuses on and its length."""

    id: Id
    title: Text
    competencies: list[Id] = Field(min_length=1)
    levels: dict[Level, StageLevel] = Field({}, description="Length and question count by level, e.g. a longer "
                                                            "systems interview at staff.")

    def at(self, level: str) -> Stage:
        """The stage as it runs at ``level``."""
        change = self.levels.get(level)  # type: ignore[call-overload]
        if change is None:
            return self
        return Stage.model_validate({**self.model_dump(exclude={"levels"}), **change.model_dump(exclude_none=True)})


class Role(Model):
    """A role profile: what the role does, the competencies it weighs, and each level's plan."""

    id: Id
    extends: Id | None = Field(None, description="A role whose profile this one starts from.")
    title: Text
    summary: Text
    competencies: list[Weight] = Field(min_length=1)
    levels: dict[Level, LevelPlan]
    plan: list[Stage] = Field([], description="The interviews of the hiring loop (kitgen --plan), in order.")

    def weights_for(self, level: str) -> list[Weight]:
        """The role's weights at ``level``: its own, changed where that level's plan says."""
        changes = self.levels[level].weights if level in self.levels else {}  # type: ignore[index]
        return [w.model_copy(update={"weight": changes[w.id]}) if w.id in changes else w for w in self.competencies]


class ReferenceSection(Model):
    """One table of the interviewer reference card."""

    id: Id
    title: Text
    roles: list[Id] = Field(min_length=1, description="Roles whose packets show this table.")
    columns: list[Text] = Field(min_length=2)
    rows: list[list[Text]] = Field(min_length=1)

    @model_validator(mode="after")
    def _rectangular(self) -> ReferenceSection:
        for number, row in enumerate(self.rows, 1):
            if len(row) != len(self.columns):
                raise ValueError(f"row {number} has {len(row)} cells but there are {len(self.columns)} columns")
        return self


class ReferenceCard(Model):
    """Facts an interviewer checks answers against, printed as the packet's appendix."""

    sections: list[ReferenceSection]


class FairnessTerm(Model):
    """Wording that steers an interview towards a protected characteristic.

    A question is flagged where ``pattern`` matches and that match does not touch (share a character
    with) a match of any ``unless`` pattern: ``pattern: race`` with ``unless: [race conditions?]``
    flags "what is your race?" but not "a race condition in the loader". A plain ``pattern`` works
    as before. Both are RE2 (linear time): no backreferences or lookarounds; write context as
    bounded gaps instead, e.g. ``(you|your)\\W+(\\w+\\W+){0,3}children`` for "your two children".
    """

    id: Id
    pattern: Text = Field(description="Case-insensitive regular expression (RE2), matched on word boundaries. "
                                      "To flag only questions put to the candidate, make the context part of it: "
                                      "`(you|your)\\W+(\\w+\\W+){0,3}kids` is \"you\" or \"your\" then up to "
                                      "three words then \"kids\".")
    unless: list[Text] = Field([], description="Technical contexts that excuse a match: case-insensitive RE2 "
                                                "patterns on word boundaries; a match of `pattern` that overlaps "
                                                "a match of any of them is not flagged (e.g. `race conditions?`, "
                                                "`medical imag\\w*`). A team's override of the term by id "
                                                "replaces the whole list.")
    reason: Text = Field(description="What it touches, e.g. age or family status.")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        return _safe_pattern(pattern)

    @field_validator("unless")
    @classmethod
    def _all_compile(cls, unless: list[str]) -> list[str]:
        return [_safe_pattern(pattern) for pattern in unless]


def _safe_pattern(pattern: str) -> str:
    import re2  # noqa: PLC0415

    try:
        fairness_regex(pattern)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(f"not a pattern kitgen can match safely ({reason}); write words and phrases "
                         "joined by |, without backreferences or lookarounds") from None
    return pattern


def fairness_regex(pattern: str) -> Any:
    """``pattern`` as whole words, case-insensitive, compiled by RE2: its matching time is linear in the
    text whatever the pattern, where Python's re can backtrack for ever (``(a+)+b``)."""
    import re2  # noqa: PLC0415 - only loading fairness terms needs it

    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    return re2.compile(rf"\b(?:{pattern})\b", options)


class FairnessFile(Model):
    protected: list[FairnessTerm]


class RubricFile(Model):
    """A rubric file: kitgen's own is complete; a team's may hold only what it changes."""

    scale: list[ScaleStep] | None = Field(None, min_length=2)
    recommendation: list[Recommendation] | None = Field(None, min_length=2)
    decision: Decision | None = None
    screening: Screening | None = None
    competencies: list[Competency] = []

    @field_validator("scale")
    @classmethod
    def _no_middle(cls, scale: list[ScaleStep] | None) -> list[ScaleStep] | None:
        ratings = [step.rating for step in scale or []]
        if ratings != list(range(1, len(ratings) + 1)):
            raise ValueError("scale ratings must run 1, 2, 3, ... in order")
        if len(ratings) % 2:
            raise ValueError("the scale needs an even number of points: no neutral middle")
        return scale

    @field_validator("recommendation")
    @classmethod
    def _ordered(cls, recommendation: list[Recommendation] | None) -> list[Recommendation] | None:
        mins = [rec.min for rec in recommendation or []]
        if mins != sorted(mins, reverse=True):
            raise ValueError("recommendation entries must be ordered from the highest min to the lowest")
        return recommendation


class Rubric(RubricFile):
    """The merged rubric: the rating scale, the competencies and the overall recommendation."""

    scale: list[ScaleStep]
    recommendation: list[Recommendation]
    decision: Decision
    screening: Screening
    competencies: list[Competency]

    def label(self, label: str) -> Recommendation | None:
        """The recommendation with this label (any case), or None."""
        return next((rec for rec in self.recommendation if rec.label.casefold() == label.strip().casefold()), None)


class BrandSettings(Model):
    """The company a team's documents carry: in every page header, the candidate's sheet included."""

    company: Text = Field(description="The company name, printed at the top right of every page.")
    logo: str | None = Field(None, description="An SVG or PNG file inside the team folder, printed beside the name.")
    accent: Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")] | None = Field(
        None, description="A colour for the header rules, as #rrggbb.")


class TeamConfig(Model):
    """A team's ``kitgen.yaml``: the files of its layer, relative to the config file."""

    banks: list[str] = Field([], description="Question bank folders or files.")
    rubrics: list[str] = Field([], description="Rubric files: competencies to add or change, a new scale.")
    roles: list[str] = Field([], description="Role profile folders or files.")
    reference: list[str] = Field([], description="Reference card files.")
    fairness: list[str] = Field([], description="Extra protected-characteristic terms for `kitgen check`.")
    templates: str | None = Field(None, description="Folder of templates that override kitgen's.")
    stack: list[Id] | None = Field(None, description="The frameworks the team uses, e.g. [jax]: a question tied to "
                                                     "another framework (its `stack`) is left out of every kit.")
    brand: BrandSettings | None = Field(None, description="The company name, logo and accent colour on every page.")
