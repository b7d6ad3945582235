"""``kitgen batch``: every candidate's kit from a roster, on all cores, resumable, plus one print file.

Each kit is written atomically, so an interrupted batch leaves only complete kits; the next run
skips them. A row that fails is reported with its line number and the rest are still made.
"""

from __future__ import annotations

import csv
import io
import signal
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated
from multiprocessing import get_context
from pathlib import Path

from kit import output
from pydantic import StringConstraints, ValidationError

from kit.errors import InputError, KitgenError, Problem
from kit.layers import Layer
from kit.manifest import MANIFEST_NAME, People
from kit.models import Model
from kit.parse import message

REQUIRED = ("candidate", "role", "level")
OPTIONAL = ("interviewer", "seed", "stage")


class Row(Model):
    """One roster row; role, level and stage are checked against the library when its kit is made."""

    line: int
    candidate: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    role: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    level: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    interviewer: Annotated[str, StringConstraints(max_length=200)] | None = None
    seed: int | None = None
    stage: Annotated[str, StringConstraints(max_length=100)] | None = None


@dataclass(frozen=True)
class Outcome:
    line: int
    folder: Path | None
    error: str | None = None
    skipped: bool = False


def read_roster(path: Path) -> list[Row]:
    """The roster's rows; every row with a missing value or a bad seed is reported at once, by line."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = [c.strip().lower() for c in reader.fieldnames or []]
            missing = [c for c in REQUIRED if c not in columns]
            if missing:
                raise KitgenError(f"{path}:1: the roster needs columns {', '.join(REQUIRED)} (missing: {', '.join(missing)})")
            reader.fieldnames = columns
            rows, problems = [], []
            for record in reader:
                values = {k: (v or "").strip() for k, v in record.items() if k in (*REQUIRED, *OPTIONAL)}
                if not any(values.values()):
                    continue
                blank = [c for c in REQUIRED if not values.get(c)]
                if blank:
                    problems.append(Problem(path, (reader.line_num, 1), f"no {' or '.join(blank)}; fill in the row or delete it"))
                    continue
                try:
                    rows.append(Row.model_validate({**{k: v or None for k, v in values.items()}, "line": reader.line_num}))
                except ValidationError as exc:
                    problems += [Problem(path, (reader.line_num, 1), message(err, "")) for err in exc.errors()]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise KitgenError(f"{path}: cannot read the roster ({exc})") from None
    if problems:
        raise InputError(problems)
    if not rows:
        raise KitgenError(f"{path}: the roster has no candidates")
    return rows


def seeds(rows: list[Row], vary: bool) -> list[Row]:
    """Same role and level, same questions; with ``vary``, each candidate an equivalent rotation."""
    count: Counter[tuple[str, str]] = Counter()
    seeded = []
    for row in rows:
        count[(row.role, row.level)] += 1
        seeded.append(row if row.seed is not None else row.model_copy(update={"seed": count[(row.role, row.level)] if vary else 1}))
    return seeded


def run_batch(rows: list[Row], layers: list[Layer], out: Path, workers: int, options: dict[str, object],
              progress: Callable[[int, int], None]) -> list[Outcome]:
    """Make every row's kit on ``workers`` processes; complete kits already in ``out`` are skipped."""
    outcomes: list[Outcome] = []
    todo = []
    for row in rows:
        folder = output.kit_folder(out, row.role, row.level, row.candidate)
        if complete(folder):
            outcomes.append(Outcome(row.line, folder, skipped=True))
        else:
            todo.append(row)
    progress(len(outcomes), len(rows))
    if not todo:
        return outcomes
    with _terminate_as_interrupt(), ProcessPoolExecutor(
        max_workers=min(workers, len(todo)), mp_context=get_context("spawn"),
        initializer=_start_worker, initargs=(layers, out, options),
    ) as pool:
        futures = [pool.submit(_make, row) for row in todo]
        try:
            for future in as_completed(futures):
                outcomes.append(future.result())
                progress(len(outcomes), len(rows))
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)  # let running kits finish: only whole kits remain
            raise
    return sorted(outcomes, key=lambda o: o.line)


def complete(folder: Path) -> bool:
    """A kit is complete when its manifest and PDFs are all there (the manifest is renamed last)."""
    return (folder / MANIFEST_NAME).is_file() and (folder / "prescreen.pdf").is_file() \
        and any(folder.glob("interviewer*.pdf"))


def merge_for_print(folders: list[Path], target: Path) -> Path:
    """One PDF of every kit's packets and prescreen sheets, in roster order, for one print job.

    Form fields are flattened into the pages: a print job needs their look, not their fields
    (which, named alike in every packet, would be linked across candidates in one file).
    """
    import warnings  # noqa: PLC0415

    import pikepdf  # noqa: PLC0415 - qpdf copies pages about 14 times faster than pure Python

    merged = pikepdf.Pdf.new()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
        for folder in folders:
            for pdf in sorted(folder.glob("interviewer*.pdf")) + [folder / "prescreen.pdf"]:
                source = pikepdf.Pdf.open(pdf)
                source.flatten_annotations("all")
                merged.pages.extend(source.pages)
        buffer = io.BytesIO()
        merged.save(buffer)
    output.prepare(target.parent, [target.name], force=True)
    return output.write_files(target.parent, {target.name: buffer.getvalue()})[0]


# Worker side: each process loads the library and WeasyPrint once, then makes kits.
_state: dict[str, object] = {}


def _start_worker(layers: list[Layer], out: Path, options: dict[str, object]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; running kits finish
    from kit.pdf import print_pdf  # noqa: F401, PLC0415 - pay for WeasyPrint once per worker
    from kit.validate import load_library  # noqa: PLC0415

    _state.update(library=load_library(layers), out=out, options=options)


def _make(row: Row) -> Outcome:
    from kit.pipeline import Request, make_kit  # noqa: PLC0415

    request = Request(row.role, row.level, row.seed or 1, People(row.candidate, row.interviewer),
                      out=_state["out"], stage=row.stage, force=True, **_state["options"])  # type: ignore[arg-type]
    try:
        paths = make_kit(request, _state["library"])  # type: ignore[arg-type]
    except KitgenError as exc:
        return Outcome(row.line, None, exc.format_message())
    return Outcome(row.line, paths[0].parent)


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Treat ``kill`` (SIGTERM) like Ctrl-C, so the batch stops cleanly between kits."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
