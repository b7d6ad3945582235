"""``kitgen score``: read filled packets and typed-up score sheets, decide, and write the debrief.

Inputs are only read, never changed or overwritten. Each input holds one or more interviewers'
verdicts; an interviewer's rating of a competency is the one ticked on the scorecard, or where
that is blank, the mean of their question ratings for it (marked as derived). Packets of one
interview plan (``--plan`` or ``--stage``) share a loop id and are scored together.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, StrictInt, StringConstraints, model_validator

from kit import output
from kit.errors import InputError, KitgenError, Problem
from kit.library import Library
from kit.manifest import Manifest, read_manifest
from kit.models import Model, Rubric

NOT_ENOUGH = "Not enough evidence"
OUTPUTS = ("debrief.pdf", "scores.json", "scores.csv")
MAX_SHEET_BYTES = 4 * 1024 * 1024
Words = Annotated[str, StringConstraints(max_length=20_000)]


# --- What an input says ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """One interviewer's ratings and words, from one packet or one entry of a score sheet."""

    source: Path
    name: str
    group: str  # the loop or kit id it scores
    stage: str | None = None
    competencies: dict[str, int] = field(default_factory=dict)
    questions: dict[str, int] = field(default_factory=dict)
    recommendation: str | None = None
    justification: str | None = None
    red_flags: tuple[str, ...] = ()
    label: str = ""  # the name, told apart from others of the same name


@dataclass(frozen=True)
class Screen:
    """The prescreen marked on the screener key: points per prescreen question."""

    source: Path
    group: str
    points: dict[str, int]


@dataclass(frozen=True)
class Prescreen:
    """The prescreen's result, reported apart from the interview."""

    source: str
    points: dict[str, int | None]  # every prescreen question; None: not marked
    total: int
    most: int
    pass_mark: int
    passed: bool


class SheetEntry(Model):
    """One interviewer on a typed-up score sheet."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    recommendation: Words | StrictInt | None = None
    justification: Words | None = None
    red_flags: list[str] = []
    ratings: dict[str, StrictInt | None] = {}


class SheetFile(Model):
    """A YAML score sheet: one interviewer at the top level, or several under ``interviewers``."""

    kit_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8}$")]
    interviewer: str | None = None
    recommendation: Words | StrictInt | None = None
    justification: Words | None = None
    red_flags: list[str] = []
    ratings: dict[str, StrictInt | None] = {}
    interviewers: list[SheetEntry] = []
    points: dict[str, StrictInt | None] = Field({}, description="Prescreen points, typed up from the screener key.")

    @model_validator(mode="after")
    def _one_form(self) -> SheetFile:
        if self.points and (self.ratings or self.interviewers):
            raise ValueError("a sheet holds either prescreen `points` or interview `ratings`; use two sheets")
        if self.interviewers and (self.interviewer or self.ratings):
            raise ValueError("give either `interviewer` and `ratings`, or a list of `interviewers`, not both")
        if not self.interviewers and not (self.interviewer or "").strip():
            raise ValueError("name the interviewer: `interviewer: <name>`")
        return self

    def entries(self) -> list[SheetEntry]:
        if self.interviewers:
            return list(self.interviewers)
        return [SheetEntry(name=self.interviewer or "", recommendation=self.recommendation,
                           justification=self.justification, red_flags=self.red_flags, ratings=self.ratings)]


class Reader:
    """Turns inputs into verdicts against the kit (or loop) being scored."""

    def __init__(self, manifest: Manifest, library: Library) -> None:
        self.manifest, self.library, self.rubric = manifest, library, library.rubric
        self.scale = len(library.rubric.scale)
        self.manifests: dict[str, Manifest] = {manifest.kit_id: manifest}  # kits of the loop seen so far

    def read(self, path: Path) -> list[Verdict | Screen]:
        suffix = path.suffix.lower()
        if suffix == ".pdf":
            return [self.packet(path)]
        if suffix in (".yaml", ".yml"):
            return self.yaml_sheet(path)
        if suffix == ".csv":
            return self.csv_sheet(path)
        raise KitgenError(f"{path}: expected a filled packet (.pdf) or a score sheet (.yaml, .csv)")

    def packet(self, path: Path) -> Verdict | Screen:
        """Ratings, recommendation, justification and red flags from a filled packet's form fields,
        or the points ticked on a screener key."""
        from kit.pdfread import form_values, printed_id  # noqa: PLC0415 - only packets need pypdf

        attached = read_manifest(path)
        if printed_id(path) != attached.kit_id:
            raise KitgenError(f"{path}: the attached manifest's kit id {attached.kit_id} is not the one printed "
                              "on the packet; score with the kit folder's own kit.yaml (--kit)")
        if attached.group != self.manifest.group:
            return Verdict(path, "", attached.group)
        if attached.kit_id in self.manifests and self.manifests[attached.kit_id] != attached:
            raise KitgenError(f"{path}: its manifest differs from kit {attached.kit_id}'s; it was edited")
        self.manifests[attached.kit_id] = attached
        values = form_values(path)
        if any(name.startswith("p:") for name in values):
            return self._screen(path, attached.group, {k[2:]: v for k, v in values.items() if k.startswith("p:")},
                                _raising(path))
        ratings = {name: self._rating(path, name, value) for name, value in values.items() if name[:2] in ("q:", "c:")}
        stage = self._stage(path, attached, ratings)
        if not ratings:
            raise KitgenError(f"{path}: no ratings are filled in; tick at least the scorecard "
                              "(or, on a screener key, the points)")
        name = (values.get("interviewer") or attached.interviewer or path.stem).strip()
        if len(name) > 200:
            raise KitgenError(f"{path}: the interviewer's name is {len(name)} characters long; shorten it to 200")
        choice = values.get("recommendation")
        return Verdict(
            source=path, name=name,
            group=attached.group, stage=stage,
            competencies={k[2:]: v for k, v in ratings.items() if k.startswith("c:")},
            questions={k[2:]: v for k, v in ratings.items() if k.startswith("q:")},
            recommendation=self._recommendation(path, choice) if choice else None,
            justification=(values.get("justification") or "").strip() or None,
            red_flags=tuple(sorted(name[5:] for name, value in values.items() if name.startswith("flag:") and value)),
        )

    def yaml_sheet(self, path: Path) -> list[Verdict | Screen]:
        from kit.parse import parse_yaml  # noqa: PLC0415

        text = _text(path)
        sheet = parse_yaml(path, text, SheetFile)
        if sheet.kit_id != self.manifest.kit_id and sheet.kit_id not in self.manifests:
            return [Verdict(path, "", sheet.kit_id)]
        problems: list[Problem] = []
        verdicts: list[Verdict | Screen] = []
        if sheet.points:
            def report(loc: tuple[Any, ...], msg: str) -> None:
                problems.append(_at(path, text, loc, msg))
            verdicts.append(self._screen(path, self.manifest.group, sheet.points, report))
        for index, entry in enumerate(sheet.entries() if not sheet.points else []):
            base = ("interviewers", index) if sheet.interviewers else ()
            verdict = self._entry(path, entry, lambda loc, msg: problems.append(_at(path, text, (*base, *loc), msg)))
            verdicts.append(verdict)
        if problems:
            raise InputError(problems)
        return verdicts

    def csv_sheet(self, path: Path) -> list[Verdict]:
        """Rows ``interviewer,id,rating[,text]``: one interviewer or several; every bad row reported at once.

        ``id`` is a competency or question id (rating 1..scale), ``recommendation`` (its label or row),
        ``justification`` (the text column, or the rating column), or ``red_flag`` (a question id).
        """
        reader = csv.DictReader(io.StringIO(_text(path)))
        columns = [c.strip().lower() for c in reader.fieldnames or []]
        if not {"interviewer", "id", "rating"} <= set(columns):
            raise KitgenError(f"{path}:1: a score sheet needs the columns interviewer,id,rating[,text]")
        reader.fieldnames = columns
        entries: dict[str, dict[str, Any]] = {}
        lines: dict[tuple[str, tuple[str, ...]], int] = {}
        try:
            for row in reader:
                values = {k: (v or "").strip() for k, v in row.items() if isinstance(k, str)}
                name, key, rating = values.get("interviewer", ""), values.get("id", ""), values.get("rating", "")
                if not any(values.values()):
                    continue
                entry = entries.setdefault(name, {"name": name, "ratings": {}, "red_flags": []})
                if key == "recommendation":
                    entry["recommendation"], loc = rating, ("recommendation",)
                elif key == "justification":
                    entry["justification"], loc = values.get("text") or rating, ("justification",)
                elif key == "red_flag":
                    entry["red_flags"].append(rating)
                    loc = ("red_flags", len(entry["red_flags"]) - 1)
                else:
                    entry["ratings"][key] = int(rating) if rating.isdigit() else (rating or None)
                    loc = ("ratings", key)
                lines[(name, loc)] = reader.line_num
        except csv.Error as exc:
            raise KitgenError(f"{path}:{reader.line_num}: not valid CSV ({exc})") from None
        problems: list[Problem] = []
        verdicts = []
        for name, data in entries.items():
            def report(loc: tuple[Any, ...], message: str, name: str = name) -> None:
                line = lines.get((name, loc[:2])) or lines.get((name, loc[:1]))
                problems.append(Problem(path, (line, 1) if line else None, message))
            if not name:
                report(("ratings",), "a row without an interviewer; fill in the interviewer column")
                continue
            try:
                entry = SheetEntry.model_validate(data)
            except ValueError as exc:
                report(("ratings",), f"{name}: {str(exc).splitlines()[-1].strip()}")
                continue
            verdicts.append(self._entry(path, entry, report))
        if problems:
            raise InputError(problems)
        if not verdicts:
            raise KitgenError(f"{path}: no ratings are filled in")
        return verdicts

    def _entry(self, path: Path, entry: SheetEntry, report: Any) -> Verdict:
        """One interviewer's sheet entry checked against the kit: ids, scale, labels."""
        competencies = set(self.manifest.weights)
        questions = {q for m in self.manifests.values() for q in m.questions}
        found: dict[str, dict[str, int]] = {"c": {}, "q": {}}
        given = [value for value in entry.ratings.values() if value is not None]
        for key, value in entry.ratings.items():
            if value is None:
                continue
            kind = "c" if key in competencies else "q" if key in questions else None
            if kind is None:
                report(("ratings", key), f"unknown id {key!r}; use the competency and question ids of kit "
                                         f"{self.manifest.kit_id}")
            elif not isinstance(value, int) or not 1 <= value <= self.scale:
                report(("ratings", key), f"rating {value!r} for {key!r} is outside the scale 1–{self.scale}")
            else:
                found[kind][key] = value
        for index, flag in enumerate(entry.red_flags):
            if flag not in questions:
                report(("red_flags", index), f"red flag for unknown question {flag!r}; use a question id of the kit")
        recommendation = None
        if entry.recommendation is not None and str(entry.recommendation).strip():
            recommendation = self._label(str(entry.recommendation))
            if recommendation is None:
                report(("recommendation",), f"unknown recommendation {entry.recommendation!r}; use one of "
                                            + ", ".join(rec.label for rec in self.rubric.recommendation))
        if not given:
            report(("ratings",), f"{entry.name}: no ratings are filled in")
        return Verdict(path, entry.name, self.manifest.group, None, found["c"], found["q"], recommendation,
                       (entry.justification or "").strip() or None, tuple(entry.red_flags))

    def _screen(self, path: Path, group: str, points: dict[str, Any], report: Any) -> Screen:
        """Prescreen points checked against the kit's prescreen questions and the screening scale."""
        most = self.rubric.screening.points
        found = {}
        for qid, value in points.items():
            if value is None:
                continue
            if qid not in self.manifest.prescreen:
                report(("points", qid), f"unknown prescreen question {qid!r}; use the ids on the screener key")
            elif not str(value).isdigit() or not 0 <= int(value) <= most:
                report(("points", qid), f"points {value!r} for {qid!r} are outside 0–{most}")
            else:
                found[qid] = int(value)
        if not found:
            report(("points",), "no prescreen points are filled in")
        return Screen(path, group, found)

    def _rating(self, path: Path, name: str, value: str) -> int:
        if not value.isdigit() or not 1 <= int(value) <= self.scale:
            raise KitgenError(f"{path}: field {name!r} holds {value[:20]!r}, not a rating 1–{self.scale}")
        return int(value)

    def _recommendation(self, path: Path, choice: str) -> str:
        label = self._label(choice)
        if label is None:
            raise KitgenError(f"{path}: the recommendation field holds {choice[:20]!r}, which is not one of its rows")
        return label

    def _label(self, value: str) -> str | None:
        """A recommendation given as its label (any case) or its row number."""
        recs = self.rubric.recommendation
        if value.strip().isdigit():
            row = int(value)
            return recs[row - 1].label if 1 <= row <= len(recs) else None
        found = self.rubric.label(value)
        return found.label if found else None

    def _stage(self, path: Path, attached: Manifest, ratings: dict[str, int]) -> str | None:
        """The stage of a plan's packet, found from the questions it rates (a plan prints one packet per stage)."""
        if not attached.packets:
            return None
        if len(attached.packets) == 1:
            return attached.packets[0].stage
        rated = {name[2:] for name in ratings}
        stages = {p.stage for p in attached.packets if rated & {*p.questions, *p.competencies}}
        if len(stages) > 1:
            raise KitgenError(f"{path}: ratings from {len(stages)} stages in one packet file; give each stage's packet")
        return stages.pop() if stages else None


def _raising(path: Path) -> Callable[[tuple[Any, ...], str], None]:
    """A problem reporter for packets: the first problem ends the run (a PDF has no lines to list)."""
    def report(_loc: tuple[Any, ...], message: str) -> None:
        raise KitgenError(f"{path}: {message}")
    return report


def _text(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_SHEET_BYTES:
            raise KitgenError(f"{path}: larger than {MAX_SHEET_BYTES // 2**20} MB; not a score sheet")
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise KitgenError(f"{path}: cannot read this score sheet ({getattr(exc, 'strerror', None) or exc})") from None


def _at(path: Path, text: str, loc: tuple[Any, ...], message: str) -> Problem:
    from kit.load import position_in  # noqa: PLC0415

    return Problem(path, position_in(text, loc), message)


# --- The decision ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One competency of the debrief: each interviewer's rating and the committee's view."""

    id: str
    title: str
    weight: float
    ratings: dict[str, float | None]  # interviewer label → rating (None: not rated)
    derived: list[str]  # labels whose rating is the mean of their question ratings
    mean: float | None
    spread: float | None
    disagreement: bool


@dataclass(frozen=True)
class Debrief:
    manifest: Manifest
    verdicts: list[Verdict]
    rows: list[Row]
    weighted_total: float | None
    rated_share: float
    by_total: str | None  # the recommendation the thresholds alone give
    recommendation: str  # after caps, red flags and the evidence threshold
    reasons: list[str]  # why the recommendation differs from by_total
    unrated: list[str]
    foreign: list[str]  # inputs that belong to another kit, left out
    prescreen: Prescreen | None = None

    @property
    def interviewers(self) -> list[str]:
        return [v.label for v in self.verdicts]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kit_id": self.manifest.kit_id, "loop": self.manifest.loop, "role": self.manifest.role,
            "level": self.manifest.level, "candidate": self.manifest.candidate,
            "interviewers": [{"label": v.label, "name": v.name, "source": str(v.source), "stage": v.stage,
                              "recommendation": v.recommendation, "justification": v.justification,
                              "red_flags": list(v.red_flags)} for v in self.verdicts],
            "competencies": [asdict(row) for row in self.rows],
            "weighted_total": self.weighted_total, "rated_share": self.rated_share,
            "by_total": self.by_total, "recommendation": self.recommendation, "reasons": self.reasons,
            "unrated": self.unrated, "foreign": self.foreign,
            "prescreen": asdict(self.prescreen) if self.prescreen else None,
        }

    def summary(self) -> str:
        """A short terminal table of the debrief."""
        labels = self.interviewers
        width = max(len(r.id) for r in self.rows)
        lines = [f"{'competency':<{width}}  weight  " + "  ".join(f"{_cell(n)[:10]:>10}" for n in labels) + "    mean"]
        for row in self.rows:
            cells = "  ".join(f"{_fmt(row.ratings[n]) + ('*' if n in row.derived else ''):>10}" for n in labels)
            mean = "-" if row.mean is None else f"{row.mean:.2f}"
            flag = "  ! ratings 2+ apart" if row.disagreement else "  ! nobody rated it" if row.mean is None else ""
            lines.append(f"{row.id:<{width}}  {row.weight:>6g}  {cells}  {mean:>6}{flag}")
        total = "-" if self.weighted_total is None else f"{self.weighted_total:.2f}"
        lines.append(f"weighted total {total}, {self.rated_share:.0%} of the weight rated → {self.recommendation}")
        lines += [f"  because: {reason}" for reason in self.reasons]
        lines += [f"{_cell(v.label)}: {v.recommendation or 'no recommendation'}" for v in self.verdicts]
        if any(n in row.derived for row in self.rows for n in labels):
            lines.append("* the mean of the interviewer's question ratings (scorecard left blank)")
        lines += [f"left out (another kit): {_cell(source)}" for source in self.foreign]
        if self.prescreen:
            result = "passed" if self.prescreen.passed else "not passed"
            lines.append(f"prescreen {self.prescreen.total} of {self.prescreen.most} points "
                         f"(pass line {self.prescreen.pass_mark}): {result}")
        return "\n".join(lines)


def decide(manifest: Manifest, library: Library, inputs: list[Verdict | Screen]) -> Debrief:
    """The committee's view of one kit or loop, with the weights it was printed with and the rubric's rules."""
    foreign = [str(v.source) for v in inputs if v.group != manifest.group]
    ours = [v for v in inputs if v.group == manifest.group]
    verdicts = _labelled([v for v in ours if isinstance(v, Verdict)])
    screens = [v for v in ours if isinstance(v, Screen)]
    if not ours:
        raise KitgenError(f"no packet or score sheet belongs to kit {manifest.kit_id}")
    if len(screens) > 1:
        raise KitgenError(f"{screens[1].source}: a second marked prescreen for the candidate (the first is "
                          f"{screens[0].source}); give one")
    rubric = library.rubric
    rows = []
    for cid, weight in manifest.weights.items():
        ratings = {v.label: _rating(v, cid, library) for v in verdicts}
        given = [r for r in ratings.values() if r is not None]
        rows.append(Row(cid, library.competency(cid).title, weight, ratings,
                        [v.label for v in verdicts if cid not in v.competencies and ratings[v.label] is not None],
                        statistics.fmean(given) if given else None, max(given) - min(given) if given else None,
                        bool(given) and max(given) - min(given) >= 2))
    rated = [row for row in rows if row.mean is not None]
    weight = sum(row.weight for row in rows)
    share = sum(row.weight for row in rated) / weight
    total = sum(r.weight * r.mean for r in rated) / sum(r.weight for r in rated) if rated else None  # type: ignore[operator]
    by_total, recommendation, reasons = verdict(rubric, rated, total, share, any(v.red_flags for v in verdicts))
    return Debrief(manifest, verdicts, rows, total, share, by_total, recommendation, reasons,
                   [r.id for r in rows if r.mean is None], foreign,
                   _prescreen(screens[0], manifest, library.rubric) if screens else None)


def _prescreen(screen: Screen, manifest: Manifest, rubric: Rubric) -> Prescreen:
    total = sum(screen.points.values())
    mark = rubric.screening.pass_mark(len(manifest.prescreen))
    return Prescreen(str(screen.source), {qid: screen.points.get(qid) for qid in manifest.prescreen}, total,
                     rubric.screening.points * len(manifest.prescreen), mark, total >= mark)


def verdict(rubric: Rubric, rated: list[Row], total: float | None, share: float, red_flag: bool
            ) -> tuple[str | None, str, list[str]]:
    """(the thresholds' label, the recommendation, the reasons they differ), by the rubric's rules in order:
    thresholds and floors, caps, red flags, then the evidence threshold."""
    labels = [rec.label for rec in rubric.recommendation]
    lowest = min((row.mean for row in rated), default=None)  # type: ignore[type-var]
    by_total = next((rec.label for rec in rubric.recommendation if total is not None and total >= rec.min), None)
    chosen = next((rec.label for rec in rubric.recommendation if total is not None and total >= rec.min
                   and (rec.floor is None or (lowest is not None and lowest >= rec.floor))), None)
    reasons = []
    if chosen != by_total:
        rec = rubric.label(by_total or "")
        reasons.append(f"{by_total} needs every competency at {rec.floor:g} or more" if rec and rec.floor else "")
    for cap in rubric.decision.caps:
        hit = [row for row in rated if row.weight >= cap.weight and row.mean < cap.below]  # type: ignore[operator]
        if hit and chosen is not None and labels.index(chosen) < labels.index(cap.cap):
            chosen = cap.cap
            reasons.append(f"{cap.reason} ({', '.join(f'{row.title} {row.mean:.2f}' for row in hit)})")
    if red_flag and rubric.decision.red_flag:
        reasons.append("an interviewer marked a red flag")
        return by_total, rubric.decision.red_flag, [r for r in reasons if r]
    if share < rubric.decision.evidence:
        reasons.append(f"only {share:.0%} of the scorecard weight was rated; the rubric asks for "
                       f"{rubric.decision.evidence:.0%}")
        return by_total, NOT_ENOUGH, [r for r in reasons if r]
    return by_total, chosen or NOT_ENOUGH, [r for r in reasons if r]


def rules_in_words(rubric: Rubric) -> list[str]:
    """The decision rules beyond the thresholds on the weighted total, as sentences for the
    scorecard and the debrief (both print the thresholds in their recommendation table)."""
    words = [f"{rec.label} also needs every competency at {rec.floor:g} or more."
             for rec in rubric.recommendation if rec.floor is not None]
    words += [cap.reason for cap in rubric.decision.caps]
    if rubric.decision.red_flag:
        words.append(f"Any red flag ticked by any interviewer: {rubric.decision.red_flag}.")
    words.append(f"With less than {rubric.decision.evidence:.0%} of the scorecard weight rated: "
                 f"{NOT_ENOUGH.lower()}, no verdict.")
    return words


def _rating(verdict: Verdict, competency: str, library: Library) -> float | None:
    if competency in verdict.competencies:
        return float(verdict.competencies[competency])
    asked = [r for qid, r in verdict.questions.items()
             if qid in library.questions and library.questions[qid].competency == competency]
    return statistics.fmean(asked) if asked else None


def _labelled(verdicts: list[Verdict]) -> list[Verdict]:
    """Each verdict labelled by its interviewer's name and stage (a loop's column per stage); names given
    twice are told apart by file, never merged."""
    bases = [f"{v.name} · {v.stage}" if v.stage else v.name for v in verdicts]
    counts = Counter(bases)
    labelled = [replace(v, label=base if counts[base] == 1 else f"{base} ({v.source.name})")
                for v, base in zip(verdicts, bases)]
    repeats = [label for label, n in Counter(v.label for v in labelled).items() if n > 1]
    if repeats:
        raise KitgenError(f"interviewer {repeats[0]!r} appears twice in one score sheet; give each interviewer a "
                          "distinct name there")
    return labelled


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:g}" if value == int(value) else f"{value:.2f}"


def _cell(text: str) -> str:
    """Text safe for a terminal: no control or escape characters."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


# --- The command -----------------------------------------------------------------------------------------


def score_command(kit_path: Path | None, inputs: list[Path], library: Library, out: Path | None, force: bool
                  ) -> tuple[Debrief, list[Path]]:
    """Score filled packets and score sheets of one kit or loop; write debrief.pdf, scores.json and scores.csv."""
    if not inputs:
        raise KitgenError("give the filled packets (.pdf) or score sheets (.yaml, .csv) to score")
    _refuse_repeats(inputs)
    if kit_path is None and inputs[0].suffix.lower() != ".pdf":
        raise KitgenError(f"{inputs[0]}: a score sheet does not carry its kit; pass --kit with the kit folder")
    manifest = read_manifest(kit_path or inputs[0])
    if manifest.role not in library.roles:
        raise KitgenError(f"kit {manifest.kit_id} is for role {manifest.role!r}, which this library lacks; "
                          "pass the --config the kit was made with")
    reader = Reader(manifest, library)
    pdfs_first = sorted(inputs, key=lambda p: p.suffix.lower() != ".pdf")  # packets name the loop's kits
    order = {path: index for index, path in enumerate(inputs)}
    read = {path: reader.read(path) for path in pdfs_first}
    debrief = decide(manifest, library, [v for path in sorted(read, key=order.__getitem__) for v in read[path]])
    folder = out or (kit_path if kit_path and kit_path.is_dir() else (kit_path or inputs[0]).parent)
    _refuse_inputs_as_outputs(folder, inputs)
    output.prepare(folder, list(OUTPUTS), force)
    from kit.pdf import print_pdf  # noqa: PLC0415 - WeasyPrint costs a second to import
    from kit.manifest import MANIFEST_NAME, dump  # noqa: PLC0415
    from kit.render import render_debrief, template_folders  # noqa: PLC0415

    files = {"debrief.pdf": print_pdf(render_debrief(library, debrief), template_folders(library),
                                      attach=(MANIFEST_NAME, dump(manifest))),
             "scores.json": (json.dumps(debrief.as_dict(), indent=2, ensure_ascii=False) + "\n").encode(),
             "scores.csv": scores_csv(debrief)}
    return debrief, output.write_files(folder, files, force)


def scores_csv(debrief: Debrief) -> bytes:
    """The debrief as CSV; every cell a spreadsheet would run as a formula is quoted as text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    labels = debrief.interviewers
    writer.writerow([_safe(c) for c in ["competency", "weight", *labels, "mean", "spread", "disagreement"]])
    for row in debrief.rows:
        writer.writerow([row.id, row.weight, *("" if row.ratings[n] is None else row.ratings[n] for n in labels),
                         "" if row.mean is None else round(row.mean, 3), "" if row.spread is None else row.spread,
                         "yes" if row.disagreement else ""])
    writer.writerow(["recommendation", "", *(_safe(v.recommendation or "") for v in debrief.verdicts), "", "", ""])
    writer.writerow(["weighted_total", "", *([""] * len(labels)),
                     "" if debrief.weighted_total is None else round(debrief.weighted_total, 3), "",
                     _safe(debrief.recommendation)])
    return buffer.getvalue().encode()


def _safe(text: str) -> str:
    """A cell a spreadsheet shows as text, not a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _refuse_repeats(inputs: list[Path]) -> None:
    seen: dict[str, Path] = {}
    for path in inputs:
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            raise KitgenError(f"{path}: cannot read it ({exc.strerror or exc})") from None
        if digest in seen:
            raise KitgenError(f"{path}: the same file as {seen[digest]}; give each interviewer's packet or sheet once")
        seen[digest] = path


def _refuse_inputs_as_outputs(folder: Path, inputs: list[Path]) -> None:
    for name in OUTPUTS:
        target = folder / name
        if any(target.exists() and path.exists() and target.samefile(path) for path in inputs):
            raise KitgenError(f"{target} is one of the inputs; kitgen never writes over an input "
                              "(move it, or write the debrief elsewhere with --out)")


def write_blank_sheet(kit_path: Path, library: Library, out: Path | None, force: bool) -> Path:
    """The YAML score sheet a paper packet's ratings are typed into, written beside the kit."""
    manifest = read_manifest(kit_path)
    folder = out or (kit_path if kit_path.is_dir() else kit_path.parent)
    output.prepare(folder, ["score-sheet.yaml"], force)
    return output.write_files(folder, {"score-sheet.yaml": blank_sheet(manifest, library).encode()}, force)[0]


def blank_sheet(manifest: Manifest, library: Library) -> str:
    """The YAML score sheet for one interviewer's paper packet of this kit."""
    rubric = library.rubric
    lines = [
        f"# kitgen score sheet for kit {manifest.kit_id}: {manifest.role}, {manifest.level}",
        f"# Ratings 1-{len(rubric.scale)} ({', '.join(f'{s.rating} {s.label}' for s in rubric.scale)}).",
        "# Fill in the scorecard's competency ratings; question ratings are optional. Leave blank what",
        "# you did not rate. Then: kitgen score --kit <kit folder> this-file.yaml [other interviewers...]",
        f"kit_id: {manifest.kit_id}",
        "interviewer: ",
        f"recommendation:    # one of: {', '.join(rec.label for rec in rubric.recommendation)}",
        "justification: |",
        "  ",
        "red_flags: []    # ids of questions where you saw a red flag, e.g. [" + (manifest.questions or ["q-id"])[0] + "]",
        "ratings:",
        "  # scorecard",
        *(f"  {cid}:    # {library.competency(cid).title}" for cid in manifest.weights),
        "  # questions",
        *(f"  {qid}:" for qid in manifest.questions),
    ]
    return "\n".join(lines) + "\n"
