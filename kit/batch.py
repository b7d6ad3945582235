"""``kitgen batch``: every candidate's kit from a roster, on all cores, resumable, plus one print file.

The roster is checked whole before anything is made. Each kit folder is written whole (output.py),
so an interrupted batch leaves only whole kits, and the next run keeps each one that holds what its
row makes. A row that fails is reported with its line number and the rest are still made.
"""

from __future__ import annotations

import csv
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from multiprocessing import get_context
from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator, Field, StringConstraints, ValidationError

from kit import output
from kit.errors import InputError, KitgenError, Problem, unknown
from kit.layers import Layer
from kit.library import Library
from kit.manifest import NAME_LENGTH, Name, People
from kit.models import Id, Model
from kit.parse import message

REQUIRED = ("candidate", "role", "level")
OPTIONAL = ("interviewer", "seed", "stage")


MAX_SEED = 2**31 - 1


def _digits(value: object) -> object:
    """A seed is written in the digits 0-9 only (no sign, point, underscore or other script)."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit() and len(value) <= 10):
        raise ValueError(f"write the seed as a whole number from 0 to {MAX_SEED}, in the digits 0-9")
    return value


class Row(Model):
    """One roster row: role, level and stage are names (never paths), the seed a bounded number."""

    line: int
    candidate: Annotated[str, StringConstraints(min_length=1, max_length=NAME_LENGTH)]
    role: Id
    level: Id
    interviewer: Name | None = None
    seed: Annotated[int, BeforeValidator(_digits), Field(ge=0, le=MAX_SEED)] | None = None
    stage: Id | None = None

    def folder(self, out: Path) -> Path:
        return output.kit_folder(out, self.role, self.level, self.candidate, self.stage)


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


def check_roster(path: Path, rows: list[Row], library: Library, out: Path) -> None:
    """Refuse the roster, every problem by line and before anything is made, if a row names a role,
    level or stage the library lacks, repeats another row, or would share another row's folder."""
    problems: list[Problem] = []
    taken: dict[Path, Row] = {}
    for row in rows:
        try:
            _check_names(row, library)
            folder = row.folder(out)
        except KitgenError as exc:
            problems.append(Problem(path, (row.line, 1), exc.format_message()))
            continue
        if (first := taken.setdefault(folder, row)) is not row:
            same = first.model_dump(exclude={"line"}) == row.model_dump(exclude={"line"})
            problems.append(Problem(path, (row.line, 1), f"repeats line {first.line}; delete one of them" if same else
                                    f"{row.candidate!r} would share the folder {folder.name} with {first.candidate!r} "
                                    f"of line {first.line}; write the names so that they differ"))
    if problems:
        raise InputError(problems)


def _check_names(row: Row, library: Library) -> None:
    role = library.roles.get(row.role)
    if role is None:
        raise KitgenError(unknown("role", row.role, sorted(library.roles)))
    if row.level not in role.levels:
        raise KitgenError(unknown("level", row.level, list(role.levels)))
    stages = [stage.id for stage in role.plan]
    if row.stage and row.stage not in stages:
        raise KitgenError(unknown("stage", row.stage, stages))


def seeds(rows: list[Row], vary: bool) -> list[Row]:
    """Same role and level, same questions; with ``vary``, each candidate an equivalent rotation."""
    count: Counter[tuple[str, str]] = Counter()
    seeded = []
    for row in rows:
        count[(row.role, row.level)] += 1
        seeded.append(row if row.seed is not None else row.model_copy(update={"seed": count[(row.role, row.level)] if vary else 1}))
    return seeded


class BatchInterrupted(Exception):
    """Ctrl-C or ``kill`` stopped the batch; ``outcomes`` are the kits finished before it ended."""

    def __init__(self, outcomes: list[Outcome], total: int) -> None:
        super().__init__(f"interrupted after {len(outcomes)} of {total} rows")
        self.outcomes, self.total = outcomes, total


def run_batch(rows: list[Row], layers: list[Layer], out: Path, workers: int, options: dict[str, object],
              progress: Callable[[int, int], None]) -> list[Outcome]:
    """Make every row's kit on ``workers`` processes; a kit already whole in ``out`` is kept.

    Kits of one selection are handed out one after another, so that a worker lays out the pages they
    share once (reuse.py); and only as many at a time as there are workers, so an interrupt starts
    nothing new: the running kits finish (only whole kits remain) and ``BatchInterrupted`` says which.
    """
    waiting = iter(sorted(rows, key=lambda r: (r.role, r.level, r.stage or "", r.seed or 0)))  # alike kits in a row share pages
    submitted: list[Future[Outcome]] = []
    progress(0, len(rows))
    with _terminate_as_interrupt(), ProcessPoolExecutor(
        max_workers=min(workers, len(rows)), mp_context=get_context("spawn"),
        initializer=_start_worker, initargs=(layers, out, options, os.getpid()),
    ) as pool:

        def hand_out(count: int) -> set[Future[Outcome]]:
            new = {pool.submit(_make, row) for row in islice(waiting, count)}
            submitted.extend(new)
            return new

        try:
            with _ignoring_interrupts():  # workers start with Ctrl-C ignored: the parent decides
                running = hand_out(workers)
            finished = 0
            while running:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for _ in done:
                    finished += 1
                    progress(finished, len(rows))
                running |= hand_out(len(done))
        except KeyboardInterrupt:
            wait(submitted)
            raise BatchInterrupted(_sorted(submitted), len(rows)) from None
    return _sorted(submitted)


def _sorted(futures: list[Future[Outcome]]) -> list[Outcome]:
    return sorted((f.result() for f in futures), key=lambda o: o.line)


def merge_for_print(folders: list[Path], target: Path) -> Path:
    """One PDF of every kit's packets and prescreen sheets, in roster order, for one print job, streamed
    (printjob.py) so that memory stays flat whatever the number of kits; each document starts on a front
    page when printed on both sides."""
    from kit.printjob import write_print_pdf  # noqa: PLC0415

    sources = [pdf for folder in folders for pdf in (*sorted(folder.glob("interviewer*.pdf")), folder / "prescreen.pdf")]
    output.prepare(target.parent, [target.name], force=True)
    return output.write_files(target.parent, {target.name: lambda handle: write_print_pdf(sources, handle, duplex=True)})[0]


# Worker side: each process loads the library and WeasyPrint once, then makes kits.
_state: dict[str, object] = {}


def _start_worker(layers: list[Layer], out: Path, options: dict[str, object], parent: int) -> None:
    threading.Thread(target=_end_with, args=(parent,), daemon=True).start()
    from kit.pdf import print_pdf  # noqa: F401, PLC0415 - pay for WeasyPrint once per worker
    from kit.validate import load_library  # noqa: PLC0415

    from kit.reuse import Layouts  # noqa: PLC0415

    _state.update(library=load_library(layers), out=out, options=options, layouts=Layouts())


def _end_with(parent: int) -> None:
    """End this worker when the batch that spawned it is gone (killed, even with SIGKILL): an unfinished
    kit is only a hidden folder, which the next run clears."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _make(row: Row) -> Outcome:
    """Make one row's kit, unless its folder already holds exactly that kit, whole."""
    from kit.pipeline import Request, existing_kit, make_kit  # noqa: PLC0415

    request = Request(row.role, row.level, row.seed or 1, People(row.candidate, row.interviewer),
                      out=_state["out"], stage=row.stage, force=True, **_state["options"])  # type: ignore[arg-type]
    try:
        if folder := existing_kit(request, _state["library"]):  # type: ignore[arg-type]
            return Outcome(row.line, folder, skipped=True)
        paths = make_kit(request, _state["library"], layouts=_state["layouts"])  # type: ignore[arg-type]
    except KitgenError as exc:
        return Outcome(row.line, None, exc.format_message())
    return Outcome(row.line, paths[0].parent)


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Treat ``kill`` (SIGTERM) like Ctrl-C, so the batch stops cleanly between kits."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():  # kitgen serve: its own Ctrl-C stops it
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _ignoring_interrupts() -> Iterator[None]:
    """Ignore Ctrl-C while workers are spawned: they inherit it (across exec, too), so a Ctrl-C that
    reaches the whole process group never kills a worker in the middle of a kit. Only the main thread
    sets signal handlers; a batch run by kitgen serve's thread leaves them (its kits are written whole)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
