"""One kit, end to end: load → validate → select → render → print → write.

Each step is a single call into the module named for it; only the last touches the disk.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kit import output
from kit.manifest import (MANIFEST_NAME, SHEET_NAME, Manifest, People, dump, manifest, sheet_record, used_questions,
                          verify_kit)
from kit.errors import KitgenError, unknown
from kit.render import CALIBRATION, asset_roots, render_documents, standalone
from kit.select import Kit, select_kit, select_plan
from kit.library import Library

if TYPE_CHECKING:
    from kit.reuse import Layouts  # imports WeasyPrint


@dataclass(frozen=True)
class Request:
    """Everything the command line says about the kit to make."""

    role: str
    level: str
    seed: int = 1
    people: People = People()
    paper: str = "a4"
    html: bool = False
    out: Path = Path("output")
    force: bool = False
    forms: bool = True
    pdf_variant: str | None = None
    calibration: bool = False
    duplex: bool = False  # each PDF an even number of pages, for two-sided printing
    plan: bool = False  # one packet per stage of the role's interview plan
    stage: str | None = None  # only this stage of the plan
    panel: int = 1  # interviewers per stage
    avoid: tuple[Path, ...] = ()  # earlier kits whose questions are not asked again


Progress = Callable[[int, int], None]  # (documents printed, documents in all)


def choose_kits(request: Request, library: Library) -> tuple[list[Kit], list[Kit]]:
    """The kits to print (one, or a plan's packets: one per stage and panel member) and the whole
    plan they belong to (empty for a single kit), leaving out earlier kits' questions."""
    exclude = used_questions(request.avoid)
    if not (request.plan or request.stage or request.panel > 1):
        return [select_kit(library, request.role, request.level, request.seed, exclude)], []
    plan = select_plan(library, request.role, request.level, request.seed, exclude, request.panel)
    if not request.stage:
        return plan, plan
    kits = [k for k in plan if k.stage and k.stage.id == request.stage]
    if not kits:
        raise KitgenError(unknown("stage", request.stage, list(dict.fromkeys(k.stage.id for k in plan if k.stage))))
    return kits, plan


def _planned(request: Request, library: Library) -> tuple[list[Kit], Manifest, Path]:
    """The kits to print, their manifest and the folder they go to."""
    kits, plan = choose_kits(request, library)
    folder = output.kit_folder(request.out, kits[0].role.id, kits[0].level, request.people.candidate, request.stage)
    return kits, manifest(kits, request.people, plan), folder


def existing_kit(request: Request, library: Library) -> Path | None:
    """The kit's folder if it already holds this very kit, whole; None if it holds no kit or a damaged one.

    A folder holding another kit (other names, seed or questions) is refused, never replaced.
    """
    _, record, folder = _planned(request, library)
    try:
        found = verify_kit(folder)
    except KitgenError:
        return None
    if found.kit_id != record.kit_id:
        raise KitgenError(f"{folder} holds another kit ({found.kit_id}: {found.candidate}, seed {found.seed}) than "
                          f"this row makes ({record.kit_id}); move it away or use another --out")
    return folder


def make_kit(request: Request, library: Library, progress: Progress = lambda done, total: None,
             layouts: Layouts | None = None) -> list[Path]:
    """Make one kit (or a plan's packets) from ``library`` and return the paths written.

    The interviewer's documents carry the kit manifest; the candidate's prescreen sheet only
    its own record (what is printed on it), so nothing of the interview reaches the candidate.
    A batch worker passes its ``layouts``, so that pages its kits share are laid out once.
    """
    kits, record, folder = _planned(request, library)
    sheet = sheet_record(record)
    manifest_bytes = dump(record)
    pages = render_documents(library, kits, request.people, (record.kit_id, sheet.sheet_id), request.paper,
                             forms=request.forms, calibration=request.calibration)

    output.prepare_kit(folder, request.force)
    from kit.pdf import print_pdf  # noqa: PLC0415 - WeasyPrint costs a second to import
    from kit.printjob import pad_for_duplex  # noqa: PLC0415
    from kit.marks import PageCode  # noqa: PLC0415

    files: dict[str, bytes] = {}
    for done, (doc, html) in enumerate(pages.items(), 1):
        attach = (SHEET_NAME, dump(sheet)) if doc == "prescreen" else (MANIFEST_NAME, manifest_bytes)
        scored = doc not in ("prescreen", CALIBRATION)  # the candidate's sheet and the practice sheet are not read back
        pdf = print_pdf(html, asset_roots(library), attach=attach, variant=request.pdf_variant, layouts=layouts,
                        per_kit=(record.kit_id, sheet.sheet_id, *astuple(request.people)),
                        code=partial(PageCode, record.kit_id, record.documents.index(doc)) if scored else None)
        files[f"{doc}.pdf"] = pad_for_duplex(pdf) if request.duplex else pdf
        if request.html:
            files[f"{doc}.html"] = standalone(html, asset_roots(library)).encode()
        progress(done, len(pages))
    files[MANIFEST_NAME] = manifest_bytes
    return output.write_kit(folder, files, request.force)
