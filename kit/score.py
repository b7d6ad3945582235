"""``kitgen score``: from the interviewers' verdicts (sheets.py) to the committee's decision and the debrief.

Inputs are only read, never changed or overwritten. An interviewer's rating of a competency is
the one ticked on the scorecard, or where that is blank, the mean of their question ratings for
it (marked as derived). Packets of one interview plan (``--plan`` or ``--stage``) share a loop id
and are scored together. The rubric's decision rules turn the numbers into a recommendation.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import statistics
from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from kit import output
from kit.text import plain
from kit.errors import InputError, KitgenError
from kit.library import Library
from kit.manifest import Manifest, read_manifest
from kit.models import Rubric
from kit.review import Unsettled, read_corrections, write_review
from kit.sheets import Reader, Screen, Verdict, blank_sheet

NOT_ENOUGH = "Not enough evidence"
OUTPUTS = ("debrief.pdf", "scores.json", "scores.csv")
MAX_INTERVIEWERS = 50  # a loop has a dozen; more means the wrong inputs, and a debrief no one can read


# --- The decision ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prescreen:
    """The prescreen's result, reported apart from the interview."""

    source: str
    points: dict[str, int | None]  # every prescreen question; None: not marked
    total: int
    most: int
    pass_mark: int
    passed: bool
    corrected: list[str]  # points a scan left undecided and a person settled


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
                              "red_flags": list(v.red_flags), "corrected": list(v.corrected)} for v in self.verdicts],
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
    if len(verdicts) > MAX_INTERVIEWERS:
        raise KitgenError(f"{len(verdicts)} interviewers for one candidate (at most {MAX_INTERVIEWERS}); "
                          "give only this candidate's packets and sheets")
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
                     rubric.screening.points * len(manifest.prescreen), mark, total >= mark, list(screen.corrected))


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
    """One table cell of the summary: plain text on one line."""
    return plain(text).replace("\n", " ").replace("\t", " ")


# --- The command -----------------------------------------------------------------------------------------


def score_command(kit_path: Path | None, inputs: list[Path], library: Library, out: Path | None, force: bool,
                  corrections: Path | None = None) -> tuple[Debrief, list[Path]]:
    """Score filled packets, scans and score sheets of one kit or loop; write debrief.pdf, scores.json and
    scores.csv. Scans with answers a person must settle write review.pdf and corrections.yaml instead."""
    if not inputs:
        raise KitgenError("give the filled packets (.pdf) or score sheets (.yaml, .csv) to score")
    given = [*inputs, *([corrections] if corrections else [])]  # every file read, never one written
    _refuse_repeats(given)
    if kit_path is None and inputs[0].suffix.lower() != ".pdf":
        raise KitgenError(f"{inputs[0]}: a score sheet or a scan does not carry its kit; pass --kit with the kit folder")
    try:
        manifest = read_manifest(kit_path or inputs[0])
    except KitgenError as exc:
        if kit_path is not None:
            raise
        raise KitgenError(f"{exc.message}; if it is a scan, pass --kit with the kit folder it was printed from") from None
    known = {c.id for c in library.rubric.competencies}
    lacking = [f"role {manifest.role!r}"] if manifest.role not in library.roles else []
    lacking += [f"competency {cid!r}" for cid in manifest.weights if cid not in known]
    if lacking:
        raise KitgenError(f"kit {manifest.kit_id} scores {lacking[0]}, which this library lacks; "
                          "pass the --config the kit was made with")
    folder = out or (kit_path if kit_path and kit_path.is_dir() else (kit_path or inputs[0]).parent)
    reader = Reader(manifest, library, None if kit_path is None else kit_path if kit_path.is_dir() else kit_path.parent,
                    read_corrections(corrections, manifest) if corrections else None)
    pdfs_first = sorted(inputs, key=lambda p: p.suffix.lower() != ".pdf")  # packets name the loop's kits
    order = {path: index for index, path in enumerate(inputs)}
    read = {path: reader.read(path) for path in pdfs_first}
    try:
        scanned = reader.scanned()
    except Unsettled as exc:
        if not (exc.undecided or exc.unread):
            raise
        written = write_review(folder, manifest, library, exc, force, given)
        raise InputError([written, *exc.problems]) from None
    debrief = decide(manifest, library, [v for path in sorted(read, key=order.__getitem__) for v in read[path]] + scanned)
    _refuse_inputs_as_outputs(folder, given)
    output.prepare(folder, list(OUTPUTS), force)
    from kit.pdf import print_with_pictures  # noqa: PLC0415 - WeasyPrint costs a second to import
    from kit.manifest import MANIFEST_NAME, dump  # noqa: PLC0415
    from kit.render import asset_roots, render_debrief  # noqa: PLC0415

    notes = [picture for v in debrief.verdicts for picture in v.notes.values()]  # in render_debrief's order
    files = {"debrief.pdf": print_with_pictures(lambda urls: render_debrief(library, debrief, urls), notes,
                                                asset_roots(library), attach=(MANIFEST_NAME, dump(manifest))),
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


_FORMULA = frozenset("=+-@\t\r\n＝＋－＠")  # what starts a formula, full-width forms included


def _safe(text: str) -> str:
    """A cell a spreadsheet shows as text, not a formula (OWASP's CSV-injection rule), even once an
    import trims leading spaces."""
    return f"'{text}" if text[:1] in _FORMULA or text.lstrip()[:1] in _FORMULA else text


MAX_INPUT_BYTES = 500 * 2**20  # a scanned stack at 300 dpi is tens of MB; more is not one candidate's paper


def _refuse_repeats(inputs: list[Path]) -> None:
    """Each input once, each an ordinary file of bounded size (never a device or a pipe, which would not end)."""
    seen: dict[str, Path] = {}
    for path in inputs:
        try:
            if not path.is_file():
                raise KitgenError(f"{path}: not a file; give packets, sheets and scans as files")
            if path.stat().st_size > MAX_INPUT_BYTES:
                raise KitgenError(f"{path}: larger than {MAX_INPUT_BYTES // 2**20} MB; not one candidate's packet or scan")
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
