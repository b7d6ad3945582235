"""Fill a kitgen packet's form fields as the PDF specification says a reader stores them, for tests.

The group field holds the value in /V and the chosen widget shows it in /AS; the engines of real
viewers fill packets in tests/engines.py.
"""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, TextStringObject


def fill(packet: Path, target: Path, radios: dict[str, int], texts: dict[str, str] | None = None,
         checks: tuple[str, ...] = ()) -> None:
    """Tick option ``rating`` of each radio group, tick the named checkboxes, type into text fields."""
    writer = PdfWriter(clone_from=PdfReader(packet))
    texts = texts or {}
    for page in writer.pages:
        for ref in page.get("/Annots", []):
            widget = ref.get_object()
            parent = widget.get("/Parent")
            field = parent.get_object() if parent is not None else widget
            name = str(field.get("/T"))
            states = list(widget["/AP"]["/N"].keys()) if "/AP" in widget else []
            if name in radios:
                on = NameObject(f"/{radios[name]}")
                field[NameObject("/V")] = on
                widget[NameObject("/AS")] = on if on in states else NameObject("/Off")
            elif name in checks:
                on = next(NameObject(s) for s in states if s != "/Off")
                field[NameObject("/V")] = widget[NameObject("/AS")] = on
            elif name in texts:
                field[NameObject("/V")] = TextStringObject(texts[name])
    writer.write(target)
