"""Reading a scanned or photographed page back: which kit page it is, where it lies, and what is ticked.

The page says which it is (its QR code, marks.py); the four corner squares give the homography from the
printed page to the image, which undoes rotation, scale and perspective; the kit's own PDF says where
every tick box is (its form fields). Each box is measured against the paper around it, never against a
fixed grey level nor against other boxes (a page may hold few, all marked), and a box that is neither
clearly empty nor clearly ticked, a faint mark among them, is ``unsure``: it goes to a person, never
into a score.

Needs the scanning extra (``pip install -e '.[scan]'``): OpenCV and NumPy for the geometry, zxing-cpp
for the code.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
import pikepdf
import zxingcpp
from PIL import Image, ImageOps
from pypdf import PdfReader

from kit.marks import CORNER, MM, PageCode, code_centre, corners, fingerprint

INK = 0.6  # a pixel darker than this share of the paper around its box is ink
FAINT = 0.85  # ...and one darker than this share is at least a faint mark (pencil, a pen running dry)
SMOOTH = 1.0  # pixels: the grain smoothed away before a box is measured
INNER = 0.3  # the radius of the disc measured at a box's centre, as a share of its side: clear of its
# printed outline, a circle (radio) or a square (check box), by a fifth of the side
TICKED = 0.10  # ink on at least this share of a box's inner area is a tick...
EMPTY = 0.04  # ...and ink, faint marks included, on at most this share is empty; anything else is unsure
UNSURE = "unsure"
MAX_PAGE = 20 * 72  # points: no paper a packet is printed on is longer than 20 inches
MAX_PAGES = 500  # pages of one scanned file: a whole loop's packets are a few dozen
MAX_PIXELS = 60_000_000  # of one image: a Letter page at 600 dpi is 34 million
WRITTEN = 30  # pixels of ink at 150 dpi, rules aside: less is a speck, more is writing (a letter is 70 and up)
MULTILINE = 1 << 12  # a text field's flag: written in over several lines (a textarea)


@dataclass(frozen=True)
class Box:
    """A tick box of the printed page: its field and the value it stands for, in PDF points from the
    bottom left (x0, y0, x1, y1)."""

    field: str
    value: str
    rect: tuple[float, float, float, float]


@dataclass(frozen=True)
class Area:
    """An area of the printed page written in by hand (a question's notes, the justification)."""

    field: str
    rect: tuple[float, float, float, float]


@dataclass(frozen=True)
class Mark:
    box: Box
    ink: float  # share of the inner area that is ink
    faint: float  # share of the inner area marked at all, faint marks included
    verdict: str  # "ticked", "empty" or "unsure"


@dataclass(frozen=True)
class Reading:
    code: PageCode
    marks: list[Mark]
    image: np.ndarray = dataclasses.field(repr=False)  # the page upright, as scanned
    to_image: np.ndarray = dataclasses.field(repr=False)  # printed-page points (y down) to its pixels
    height: float  # the printed page's height, in points

    def crop(self, rect: tuple[float, float, float, float], dpi: int = 150, margin: float = 0) -> np.ndarray:
        """The printed area ``rect`` (PDF points, from the bottom left), grown by ``margin`` points on every
        side, as it looks on the scan: flattened to the printed page's geometry at ``dpi``."""
        x0, y0, x1, y1 = rect[0] - margin, rect[1] - margin, rect[2] + margin, rect[3] + margin
        scale = dpi / 72
        to_crop = np.float64([[scale, 0, -x0 * scale], [0, scale, -(self.height - y1) * scale], [0, 0, 1]])
        size = (round((x1 - x0) * scale), round((y1 - y0) * scale))
        return cv2.warpPerspective(self.image, to_crop @ np.linalg.inv(self.to_image), size, borderValue=255)

    def groups(self) -> dict[str, list[Mark]]:
        """The page's marks by the field they answer (a question's options, or one check box)."""
        found: dict[str, list[Mark]] = defaultdict(list)
        for mark in self.marks:
            found[mark.box.field].append(mark)
        return dict(found)

    def answers(self) -> dict[str, str | None]:
        """Each field's answer (see :func:`answer`)."""
        return {field: answer(marks) for field, marks in self.groups().items()}


def answer(marks: list[Mark]) -> str | None:
    """A field's value from its boxes' marks: the one ticked box's, None when none is ticked, and
    ``"unsure"`` when a box is unsure or more than one is ticked (a person decides)."""
    ticked = [m.box.value for m in marks if m.verdict == "ticked"]
    if any(m.verdict == "unsure" for m in marks) or len(ticked) > 1:
        return UNSURE
    return ticked[0] if ticked else None


class Layout(NamedTuple):
    """Where a printed document's pages put what is read back, by 1-based page."""

    sizes: list[tuple[float, float]]  # each page's width and height, in points
    boxes: dict[int, list[Box]]  # tick boxes
    areas: dict[int, list[Area]]  # areas written in
    fingerprint: str  # of where they all are: what a page's code must carry (marks.fingerprint)


class Unreadable(Exception):
    """A page that cannot be read: no kitgen code, or corner squares that cannot be found."""


class NoCode(Unreadable):
    """A page without a kitgen page code: not a kitgen page, or one too damaged to say which."""


def layout(pdf: Path) -> Layout:
    """Each page's size, its tick boxes (radio options and check boxes) and its areas written in, from
    the kit's own fillable PDF: the positions the page was printed with."""
    reader = PdfReader(pdf)
    sizes, boxes, areas = [], defaultdict(list), defaultdict(list)
    for number, page in enumerate(reader.pages, 1):
        sizes.append((float(page.mediabox.width), float(page.mediabox.height)))
        for annotation in page.get("/Annots", []):
            widget = annotation.get_object()
            parent = widget.get("/Parent", widget).get_object() if "/Parent" in widget else widget
            states = [str(state)[1:] for state in widget.get("/AP", {}).get("/N", {}) if state != "/Off"]
            x0, y0, x1, y1 = (float(v) for v in widget["/Rect"])
            rect = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
            if parent.get("/FT") == "/Btn" and len(states) == 1:
                boxes[number].append(Box(str(parent["/T"]), states[0], rect))
            elif parent.get("/FT") == "/Tx" and int(parent.get("/Ff", 0)) & MULTILINE:
                areas[number].append(Area(str(parent["/T"]), rect))
    with pikepdf.open(pdf) as document:
        stamp = fingerprint(document)
    return Layout(sizes, dict(boxes), dict(areas), stamp)


def images(path: Path, dpi: int = 200) -> Iterator[tuple[str, np.ndarray]]:
    """Each page of a scan as a grey image, labelled for messages: a PDF's pages rasterised at ``dpi``,
    or one photo or scanned image. Bounded before anything is decoded: pages, paper size, pixels."""
    if path.suffix.lower() == ".pdf":
        yield from _pdf_pages(path, dpi)
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # a bomb is refused, never decoded
            with Image.open(path) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise Unreadable(f"{image.width} x {image.height} pixels: larger than any photo of a page")
                yield "", _grey(ImageOps.exif_transpose(image))
    except (OSError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Unreadable(f"not an image that can be read ({exc})") from None


def _pdf_pages(path: Path, dpi: int) -> Iterator[tuple[str, np.ndarray]]:
    import pypdfium2 as pdfium  # noqa: PLC0415

    try:
        document = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise Unreadable(f"not a PDF that can be read ({exc})") from None
    if not 1 <= len(document) <= MAX_PAGES:
        raise Unreadable(f"{len(document)} pages; a scan of one candidate's packets has 1 to {MAX_PAGES}")
    _refuse_huge_images(path)
    for number in range(1, len(document) + 1):
        try:
            page = document[number - 1]
            if max(page.get_size()) > MAX_PAGE:
                raise Unreadable(f"page {number} is {max(page.get_size()) / 72:.0f} inches long; a scan is of paper")
            drawn = page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
        except pdfium.PdfiumError as exc:
            raise Unreadable(f"page {number} cannot be drawn ({exc}); scan it again") from None
        yield f"page {number}", np.array(drawn)


def _refuse_huge_images(path: Path) -> None:
    """A scanned PDF's pages are images; one larger than any scanner makes would take gigabytes to draw."""
    try:
        with pikepdf.open(path) as pdf:
            for number, page in enumerate(pdf.pages, 1):
                for image in page.get_images().values():
                    if int(image.get("/Width", 0)) * int(image.get("/Height", 0)) > MAX_PIXELS:
                        raise Unreadable(f"page {number} holds an image of {image.get('/Width')} x "
                                         f"{image.get('/Height')} pixels, larger than any scan of a page")
    except pikepdf.PdfError:
        return  # pdfium, which draws the pages, may still read what pikepdf cannot (it says so if not)


def _grey(image: Image.Image) -> np.ndarray:
    """A grey image of 8 bits a pixel, from any mode a scanner writes (16-bit grey included: scaled, not clipped)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        wide = np.array(image, dtype=np.uint32)
        return (wide >> 8 if wide.max() > 255 else wide).astype(np.uint8)
    return np.array(image.convert("L"))


def read_page(image: np.ndarray, layout_of: Callable[[PageCode], Layout]) -> Reading:
    """What a grey image of one printed page shows: its code and a verdict for each of its tick boxes;
    ``layout_of`` gives the printed document's layout for the code found (or raises Unreadable)."""
    code, image, centre = _upright(image)
    printed = layout_of(code)
    if code.layout != printed.fingerprint:
        raise Unreadable("this page was printed from another print of its kit (other paper, or another template), "
                         "whose boxes lie elsewhere; score it with the kit folder it was printed from")
    if not 1 <= code.page <= len(printed.sizes):
        raise Unreadable(f"page {code.page} is not a page of that document")
    width, height = printed.sizes[code.page - 1]
    to_image = _homography(image, width, height)
    x, y = code_centre(width, height, code)
    code_at = cv2.perspectiveTransform(np.float32([[(x, height - y)]]), to_image)[0, 0]
    if np.linalg.norm(code_at - centre) > 5 * MM * image.shape[1] / width:  # a wrong corner matched: never read on
        raise Unreadable("the corner squares and the page's code do not agree on where the page lies; scan it again")
    page_boxes = printed.boxes.get(code.page, [])
    measured = [_ink(image, to_image, box, height) for box in page_boxes]
    if page_boxes and sum(outline >= OUTLINE for _, _, outline in measured) < 0.9 * len(page_boxes):
        raise Unreadable("its boxes are not where the kit's PDF puts them: the kit was made again (another paper "
                         "or template) after this page was printed; score it with the kit it was printed from")
    marks = [Mark(box, ink, faint, _verdict(ink, faint)) for box, (ink, faint, _) in zip(page_boxes, measured, strict=True)]
    return Reading(code, marks, image, to_image, height)


def _upright(image: np.ndarray) -> tuple[PageCode, np.ndarray, np.ndarray]:
    """The page's code, the image turned by quarter turns so that the code (and so the page) is
    upright, and the code's centre in that image."""
    code, orientation, centre = _find_code(image)
    turns = round(orientation / 90) % 4
    if turns:
        image = np.ascontiguousarray(np.rot90(image, turns))
        code, _, centre = _find_code(image)
    return code, image, centre


def _find_code(image: np.ndarray) -> tuple[PageCode, int, np.ndarray]:
    """The page's code, its orientation in degrees and its centre; looked for again at twice the size
    when not found, as a small, soft photo's modules may be too few pixels for the decoder."""
    for scale in (1, 2):
        view = image if scale == 1 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        for found in zxingcpp.read_barcodes(view, formats=zxingcpp.BarcodeFormat.QRCode):
            if code := PageCode.parse(found.text):
                at = found.position
                points = [at.top_left, at.top_right, at.bottom_right, at.bottom_left]
                return code, found.orientation, np.float32([(p.x, p.y) for p in points]).mean(axis=0) / scale
    raise NoCode("no kitgen page code found")


def _homography(image: np.ndarray, width: float, height: float) -> np.ndarray:
    """The map from printed-page points (origin top left, y down) to image pixels, from the corner squares."""
    side = CORNER * MM
    printed = np.float32([(x + side / 2, height - y - side / 2) for x, y, _, _ in corners(width, height)])
    found = _squares(image, printed, width)
    return cv2.getPerspectiveTransform(printed, found)


def _squares(image: np.ndarray, printed: np.ndarray, width: float) -> np.ndarray:
    """The centres of the four corner squares in the image, in the order of ``printed``: of the solid,
    square dark blobs of about the right size, the one nearest each corner of the image; refused
    unless the four lie as a page's corners do."""
    scale = image.shape[1] / width  # pixels per point if the page fills the image: sizes the search
    block = 2 * round(CORNER * MM * scale * 1.5) + 1  # dark against its own surroundings: uneven light is fine
    dark = cv2.adaptiveThreshold(image, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 25)
    contours, _ = cv2.findContours(dark, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    expected = (CORNER * MM * scale) ** 2
    blobs = []
    for contour in contours:
        area = cv2.contourArea(contour)
        _, (w, h), _ = cv2.minAreaRect(contour)  # turned with the page, unlike an upright bounding box
        if 0.2 * expected < area < 3 * expected and 0.6 < w / max(h, 1) < 1.6 and area > 0.8 * w * h:
            moments = cv2.moments(contour)
            blobs.append((moments["m10"] / moments["m00"], moments["m01"] / moments["m00"], area))
    height_px, width_px = image.shape
    image_corners = [(0, 0), (width_px, 0), (0, height_px), (width_px, height_px)]  # the order of corners()
    chosen = [min(blobs, key=lambda b, c=c: (b[0] - c[0]) ** 2 + (b[1] - c[1]) ** 2) for c in image_corners] if blobs else []
    if len(set(chosen)) < 4:
        raise Unreadable(f"found {len(set(chosen))} of the 4 corner squares")
    found = np.float32([(x, y) for x, y, _ in chosen])
    if not _like(found, printed, [area for _, _, area in chosen]):
        raise Unreadable("the corner squares found do not lie as a page's corners do")
    return found


def _like(found: np.ndarray, printed: np.ndarray, areas: list[float]) -> bool:
    """Whether four points found lie as the printed corner squares do: a convex quadrilateral whose sides
    keep the page's proportions (within perspective a hand-held photo has), made of alike squares."""
    if not cv2.isContourConvex(found[[0, 1, 3, 2]].reshape(-1, 1, 2)) or max(areas) > 3 * min(areas):
        return False

    def sides(points: np.ndarray) -> np.ndarray:
        return np.float32([np.linalg.norm(points[a] - points[b]) for a, b in ((0, 1), (2, 3), (0, 2), (1, 3))])

    ratio = sides(found) / sides(printed)
    return bool(ratio.max() < 1.35 * ratio.min())


def _ink(image: np.ndarray, to_image: np.ndarray, box: Box, height: float) -> tuple[float, float, float]:
    """The shares of the disc at the box's centre that are ink and that are marked at all, and of the ring
    where its printed outline is that is ink (the box is where the layout says), against the paper
    around the box (whatever the light there), never against other boxes: a page may have few. The
    patch is smoothed first, so a noisy photo's grain is not taken for a faint mark; a pen stroke is
    wider than the smoothing."""
    x0, y0, x1, y1 = box.rect
    cx, cy = (x0 + x1) / 2, height - (y0 + y1) / 2
    polygon, outer, inner = (cv2.perspectiveTransform(np.float32(
        [(cx + (x1 - x0) * r * np.cos(a), cy + (y1 - y0) * r * np.sin(a)) for a in _ANGLES]).reshape(-1, 1, 2),
        to_image).reshape(-1, 2) for r in (INNER, RING[1], RING[0]))
    (left, top), (right, bottom) = polygon.min(axis=0), polygon.max(axis=0)
    margin = 2 * max(right - left, bottom - top)  # the paper around the box (and its outline), whatever the light
    top_px, left_px = max(0, int(top - margin)), max(0, int(left - margin))
    around = image[top_px:int(bottom + margin) + 1, left_px:int(right + margin) + 1]
    mask = np.zeros(around.shape, np.uint8)
    cv2.fillConvexPoly(mask, np.int32(np.round(polygon - (left_px, top_px))), 255)
    inside = cv2.GaussianBlur(around, (0, 0), SMOOTH)[mask > 0] if around.size else around
    if inside.size == 0:
        raise Unreadable(f"box {box.field}={box.value} falls outside the image")
    paper = float(np.percentile(around, 90))
    ring = np.zeros(around.shape, np.uint8)
    cv2.fillConvexPoly(ring, np.int32(np.round(outer - (left_px, top_px))), 255)
    cv2.fillConvexPoly(ring, np.int32(np.round(inner - (left_px, top_px))), 0)
    outline = around[ring > 0]
    return (float(np.mean(inside < INK * paper)), float(np.mean(inside < FAINT * paper)),
            float(np.mean(outline < INK * paper)) if outline.size else 0.0)


_ANGLES = np.linspace(0, 2 * np.pi, 24, endpoint=False)
RING = (0.4, 0.75)  # radii, as shares of the side, between which a box's printed outline lies (a circle at 0.5,
# a square's sides at 0.5 to its corners at 0.71)
OUTLINE = 0.15  # at least this share of that ring is ink where a box is printed; 90% of a page's boxes must show it


def _verdict(ink: float, faint: float) -> str:
    return "ticked" if ink >= TICKED else "empty" if max(ink, faint) <= EMPTY else UNSURE


def group_picture(reading: Reading, marks: list[Mark], dpi: int = 200) -> bytes:
    """A PNG of one question's (or check box's) row of boxes as scanned, each box outlined by its verdict
    (ticked blue, unsure orange, empty grey): what a person looks at to settle an unsure answer."""
    rects = [mark.box.rect for mark in marks]
    row = (min(r[0] for r in rects), min(r[1] for r in rects), max(r[2] for r in rects), max(r[3] for r in rects))
    margin, scale = 8.0, dpi / 72
    wide = (row[0], row[1], row[2] + 110, row[3])  # the options' labels print to the right of each box
    picture = cv2.cvtColor(reading.crop(wide, dpi, margin), cv2.COLOR_GRAY2BGR)
    colours = {"ticked": (200, 90, 0), UNSURE: (0, 140, 255), "empty": (150, 150, 150)}
    for mark in marks:
        x0, y0, x1, y1 = mark.box.rect
        top_left = (round((x0 - wide[0] + margin) * scale) - 4, round((wide[3] + margin - y1) * scale) - 4)
        bottom_right = (round((x1 - wide[0] + margin) * scale) + 4, round((wide[3] + margin - y0) * scale) + 4)
        cv2.rectangle(picture, top_left, bottom_right, colours[mark.verdict], 2)
    return cv2.imencode(".png", picture)[1].tobytes()


def written(crop: np.ndarray) -> bool:
    """Whether a 150-dpi crop of an area written in holds writing: dark marks, against the paper's own
    light around them, left once its printed rules and outline (rows and columns dark along much of
    their length) are taken away, more than a speck of them."""
    paper = cv2.morphologyEx(crop, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8)).astype(np.float32) + 1
    dark = (crop < INK * paper).astype(np.uint8)
    rules = np.zeros_like(dark)
    rules[dark.mean(axis=1) > 0.25, :] = 1
    rules[:, dark.mean(axis=0) > 0.5] = 1
    left = dark & (1 - cv2.dilate(rules, np.ones((11, 7), np.uint8)))  # a rule blurred or JPEG-ringed is wide
    return int(cv2.morphologyEx(left, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)).sum()) > WRITTEN  # specks gone


def notes(reading: Reading, areas: list[Area]) -> dict[str, bytes]:
    """A 150-dpi PNG of each area written in on the page, as scanned, by field; blank areas are left out."""
    crops = {area.field: reading.crop(area.rect, 150) for area in areas}
    return {name: cv2.imencode(".png", crop)[1].tobytes() for name, crop in crops.items() if written(crop)}


def thumbnail(image: np.ndarray, width: int = 900) -> bytes:
    """A small PNG of a page as scanned, to show which page could not be read."""
    scale = min(1.0, width / image.shape[1])
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return cv2.imencode(".png", small)[1].tobytes()
