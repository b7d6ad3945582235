"""Fill a kitgen packet's form fields the way a PDF reader would, for tests (pypdf)."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, TextStringObject


def fill(packet: Path, target: Path, radios: dict[str, int], texts: dict[str, str] | None = None) -> None:
    """Tick option ``rating`` (1-based) of each radio group and type into text fields.

    WeasyPrint stores a radio group's choice as the option index, in the parent's /V and in the
    chosen kid's /AS; pypdf's form helpers do not set those, so they are set here.
    """
    writer = PdfWriter(clone_from=PdfReader(packet))
    texts = texts or {}
    for page in writer.pages:
        for ref in page.get("/Annots", []):
            widget = ref.get_object()
            parent = widget.get("/Parent")
            field = parent.get_object() if parent is not None else widget
            name = str(field.get("/T"))
            if name in radios:
                on = NameObject(f"/{radios[name] - 1}")
                field[NameObject("/V")] = on
                states = list(widget["/AP"]["/N"].keys())
                widget[NameObject("/AS")] = on if on in states else NameObject("/Off")
            elif name in texts:
                field[NameObject("/V")] = TextStringObject(texts[name])
    writer.write(target)
