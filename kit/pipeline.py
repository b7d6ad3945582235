"""One kit, end to end: load → validate → select → render → print → write.

Each step is a single call into the module named for it; only the last touches the disk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from kit import output
from kit.manifest import People, manifest
from kit.render import DOCUMENTS, render_documents, template_folders
from kit.select import select_kit
from kit.validate import Library


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


def steps(request: Request) -> int:
    """How many times :func:`make_kit` reports progress."""
    return 3 + len(DOCUMENTS)


def make_kit(request: Request, library: Library, progress: Callable[[], None] = lambda: None) -> list[Path]:
    """Make one kit from ``library`` and return the paths written."""
    kit = select_kit(library, request.role, request.level, request.seed)
    record = manifest(kit, request.people)
    pages = render_documents(library, kit, request.people, record["kit_id"], request.paper)
    progress()

    folder = output.kit_folder(request.out, kit.role.id, kit.level, request.people.candidate)
    extensions = ("pdf", "html") if request.html else ("pdf",)
    names = [f"{doc}.{ext}" for doc in DOCUMENTS for ext in extensions] + ["kit.yaml"]
    output.prepare(folder, names, request.force)
    progress()
    from kit.pdf import print_pdf  # noqa: PLC0415 - WeasyPrint costs a second to import

    files: dict[str, bytes] = {}
    for doc, html in pages.items():
        files[f"{doc}.pdf"] = print_pdf(html, template_folders(library))
        if request.html:
            files[f"{doc}.html"] = html.encode()
        progress()
    files["kit.yaml"] = yaml.safe_dump(record, sort_keys=False, allow_unicode=True).encode()
    paths = output.write_files(folder, files)
    progress()
    return paths
