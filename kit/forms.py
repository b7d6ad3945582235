"""Make WeasyPrint's form fields the way the PDF specification (ISO 32000-1, 12.7) intends.

WeasyPrint 70 gives every radio widget a name and type of its own and lists the widgets in
/AcroForm /Fields beside their group, so viewers store a tick on the widget, not the group, and
Poppler draws none. Here each radio group becomes one field whose widgets are plain /Kids, each
widget gets an "off" appearance beside its "on" one, states are named after the value printed
(the rating, or the recommendation's row), and /Fields lists only root fields.
"""

from __future__ import annotations

import io

import pikepdf
from pikepdf import Array, Dictionary, Name

_WIDGET_ONLY = ("/T", "/TU", "/FT", "/Ff", "/V", "/Opt")


def conform(pdf_bytes: bytes) -> bytes:
    """The PDF with its form fields restructured; a PDF without fields is returned as it is."""
    pdf = pikepdf.open(io.BytesIO(pdf_bytes))
    acro = pdf.Root.get("/AcroForm")
    if acro is None or not len(acro.get("/Fields", [])):
        return pdf_bytes
    roots: dict[tuple[int, int], pikepdf.Object] = {}
    for field in acro.Fields:
        parent = field.get("/Parent")
        root = parent if parent is not None else field
        roots.setdefault(root.objgen, root)
    for root in roots.values():
        if "/Kids" in root:
            _radio_group(pdf, root)
        elif root.get("/FT") == Name.Btn and "/AP" in root and "/Off" not in root.AP.N:  # a checkbox
            root.AP.N.Off = _blank(pdf, next(iter(root.AP.N.values())))
    acro.Fields = Array(list(roots.values()))
    _helvetica(pdf, acro)
    buffer = io.BytesIO()
    pdf.save(buffer, deterministic_id=True)  # the same kit gives the same bytes
    return buffer.getvalue()


def _radio_group(pdf: pikepdf.Pdf, group: pikepdf.Object) -> None:
    options = [str(option) for option in group.get("/Opt", [])]
    for kid in group.Kids:
        for key in _WIDGET_ONLY:
            if key in kid:
                del kid[key]
        normal = kid.AP.N
        (index, on), = [(str(k)[1:], normal[k]) for k in normal.keys() if k != "/Off"]
        value = options[int(index)] if index.isdigit() and int(index) < len(options) else index
        kid.AP.N = Dictionary({f"/{value}": on, "/Off": _blank(pdf, on)})
        kid.AS = Name.Off
    if "/Opt" in group:
        del group["/Opt"]
    group.V = Name.Off


def _blank(pdf: pikepdf.Pdf, like: pikepdf.Stream) -> pikepdf.Stream:
    return pikepdf.Stream(pdf, b"", Type=Name.XObject, Subtype=Name.Form, BBox=like.BBox)


def _helvetica(pdf: pikepdf.Pdf, acro: pikepdf.Object) -> None:
    """/Helv in the form's resources: some editors (MuPDF) name it when they retype a field's value."""
    resources = acro.get("/DR")
    if resources is None:
        acro.DR = resources = Dictionary()
    if "/Font" not in resources:
        resources.Font = Dictionary()
    if "/Helv" not in resources.Font:
        resources.Font.Helv = pdf.make_indirect(Dictionary(
            Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica, Encoding=Name.WinAnsiEncoding))
