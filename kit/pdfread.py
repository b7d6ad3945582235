"""Read kitgen's PDFs back: attachments and form values, from any viewer's way of saving them.

Every PDF is untrusted input: it is size-bounded, and anything that goes wrong inside pypdf
while reading one becomes one line naming the file.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ByteStringObject, TextStringObject

from kit.errors import KitgenError

MAX_BYTES = 64 * 1024 * 1024  # a filled packet is well under 5 MB
MAX_FIELDS = 5000  # a packet has under 100
MAX_ATTACHMENT = 1024 * 1024  # a manifest is a few kB
MAX_PAGE_CONTENT = 512 * 1024  # a packet's first page draws about 40 kB


def open_pdf(path: Path) -> PdfReader:
    """A reader for the PDF at ``path``, refused early if it is too large or not a PDF."""
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)  # malformed input is reported by kitgen, once
    try:
        if path.stat().st_size > MAX_BYTES:
            raise KitgenError(f"{path}: larger than {MAX_BYTES // 2**20} MB; not a kitgen document")
        return PdfReader(path)
    except KitgenError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever pypdf raises on a malformed file is the file's fault
        raise _unreadable(path, exc) from None


def attachment(path: Path, name: str) -> str | None:
    """The text of the file attached to the PDF at ``path`` under ``name``, or None."""
    reader = open_pdf(path)
    try:
        found = reader.attachments.get(name)
        if found and len(found[0]) > MAX_ATTACHMENT:
            raise KitgenError(f"{path}: its attached {name} is over {MAX_ATTACHMENT // 1024} kB; not a kitgen manifest")
        return found[0].decode("utf-8") if found else None
    except KitgenError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _unreadable(path, exc) from None


def printed_id(path: Path) -> str | None:
    """The kit id printed in the first page's footer ("Kit 1a2b3c4d"), or None."""
    reader = open_pdf(path)
    try:
        if not reader.pages:
            return None
        contents = reader.pages[0].get_contents()
        if contents is not None and len(contents.get_data()) > MAX_PAGE_CONTENT:
            raise KitgenError(f"{path}: its first page draws over {MAX_PAGE_CONTENT // 1024} kB; not a kitgen packet")
        found = re.search(r"Kit ([0-9a-f]{8})\b", reader.pages[0].extract_text())
    except KitgenError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _unreadable(path, exc) from None
    return found.group(1) if found else None


def form_values(path: Path) -> dict[str, str]:
    """Each form field's value by its full name, as text (a radio group's value is its state name).

    Viewers save radio groups differently: the group's /V (the specification), a /V on the
    clicked widget (pypdf, older kitgen packets whose widgets had names of their own), or only
    the shown state /AS of a widget; pypdf also writes the group's /V as a string ("/2"), which
    names a state all the same. All are read; a group whose widgets disagree is an error, never
    a guess.
    """
    reader = open_pdf(path)
    try:
        root = reader.trailer["/Root"]
        fields = root.get("/AcroForm", {}).get("/Fields", [])
        values: dict[str, str] = {}
        seen = 0
        stack = [(ref, "") for ref in fields]
        visited: set[object] = set()
        while stack:
            ref, prefix = stack.pop()
            field = ref.get_object()
            where = getattr(field.indirect_reference, "idnum", None) or id(field)
            if where in visited:
                continue
            visited.add(where)
            kids = list(field.get("/Kids", []))
            seen += 1 + len(kids)
            if seen > MAX_FIELDS:
                raise KitgenError(f"{path}: more than {MAX_FIELDS} form fields and widgets; not a kitgen packet")
            name = _name(field, prefix)
            _collect(path, name, field, kids, values)
            stack += [(kid, name) for kid in kids if "/T" in kid.get_object()]
        return values
    except KitgenError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _unreadable(path, exc) from None


def _name(field: Any, prefix: str) -> str:
    own = field.get("/T")
    if own is None:
        return prefix
    own = str(own)
    return own if not prefix or own == prefix else f"{prefix}.{own}"


def _collect(path: Path, name: str, field: Any, kids: list[Any], values: dict[str, str]) -> None:
    """The value of field ``name``: its /V, a kid's /V, or the state a widget shows."""
    widgets = [kid.get_object() for kid in kids] or [field]
    states = {_state(w.get("/V")) for w in widgets} | {_state(w.get("/AS")) for w in widgets if "/AP" in w}
    states.discard(None)
    own = field.get("/V")
    if isinstance(own, (TextStringObject, ByteStringObject)) and field.get("/FT") != "/Btn":  # a text field
        text = own if isinstance(own, str) else own.decode("latin-1")
        if text.strip():
            values[name] = str(text)
        return
    if (state := _state(own)) is not None:
        states.add(state)
    if len(states) > 1:
        raise KitgenError(f"{path}: field {name!r} has {len(states)} ticks ({', '.join(sorted(states))}); "
                          "untick all but one and save again")
    if states:
        values[name] = _option(field, states.pop())


def _state(value: Any) -> str | None:
    """A name object's state without its slash; /Off and anything else count as no tick."""
    text = str(value) if value is not None else ""
    return text[1:] if text.startswith("/") and text != "/Off" else None


def _option(field: Any, state: str) -> str:
    """Older packets named states by option index and listed the values in /Opt."""
    options = field.get("/Opt")
    if options is not None and state.isascii() and state.isdigit() and len(state) <= 4 and int(state) < len(options):
        return str(options[int(state)])
    return state


def _unreadable(path: Path, exc: BaseException) -> KitgenError:
    detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
    return KitgenError(f"{path}: cannot read this PDF ({detail}); is it a kitgen document, saved whole?")
