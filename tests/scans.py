"""Paper, simulated: a kit page rendered as a scanner or a phone would see it, with pen marks on its
boxes, then degraded (rotation, scale, perspective, blur, noise, uneven light, JPEG). Used by the
scanning tests; the benchmark's corpus is made with the same functions."""

from __future__ import annotations

import io
import random
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageDraw

from kit.scan import Area, Box


def render(pdf: Path, page: int, dpi: int) -> Image.Image:
    """Page ``page`` (1-based) as a grey image at ``dpi``, as printed (form fields drawn as on paper)."""
    document = pdfium.PdfDocument(pdf)
    return document[page - 1].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")


def by_field(boxes: list[Box]) -> dict[str, list[Box]]:
    """A page's boxes by the field they answer (a radio group's options, or one check box)."""
    found: dict[str, list[Box]] = defaultdict(list)
    for box in boxes:
        found[box.field].append(box)
    return found


def mark_page(image: Image.Image, boxes: list[Box], page_height: float, dpi: int, rng: random.Random,
              blank: float = 0.3) -> dict[str, str | None]:
    """Mark one box of each field with a tick, a cross or a filled circle, leaving a ``blank`` share of
    fields empty; the answer each field should read as."""
    truth = {}
    for field, options in by_field(boxes).items():
        chosen = rng.choice(options) if rng.random() < 1 - blank else None
        if chosen:
            tick(image, chosen, page_height, dpi, rng.choice(["tick", "cross", "filled"]), rng)
        truth[field] = chosen.value if chosen else None
    return truth


def tick(image: Image.Image, box: Box, page_height: float, dpi: int, kind: str = "tick", rng: random.Random | None = None) -> None:
    """A pen mark on ``box``: a tick, a cross, a filled circle, a partial (small, off-centre) tick, a
    scribble (a tick crossed out) or a faint tick."""
    rng = rng or random.Random(0)
    scale = dpi / 72
    x0, y0, x1, y1 = box.rect
    cx, cy = (x0 + x1) / 2 * scale, (page_height - (y0 + y1) / 2) * scale
    side = (x1 - x0) * scale
    draw = ImageDraw.Draw(image)
    pen = max(2, round(side * rng.uniform(0.12, 0.2)))
    ink = rng.randint(10, 60)
    jitter = [rng.uniform(-0.08, 0.08) * side for _ in range(6)]
    if kind == "tick":
        draw.line([(cx - 0.45 * side + jitter[0], cy + jitter[1]), (cx - 0.1 * side, cy + 0.4 * side + jitter[2]),
                   (cx + 0.55 * side + jitter[3], cy - 0.55 * side + jitter[4])], fill=ink, width=pen, joint="curve")
    elif kind == "cross":
        draw.line([(cx - 0.5 * side, cy - 0.5 * side), (cx + 0.5 * side, cy + 0.5 * side)], fill=ink, width=pen)
        draw.line([(cx - 0.5 * side, cy + 0.5 * side), (cx + 0.5 * side, cy - 0.5 * side)], fill=ink, width=pen)
    elif kind == "filled":
        draw.ellipse([cx - 0.45 * side, cy - 0.45 * side, cx + 0.45 * side, cy + 0.45 * side], fill=ink)
    elif kind == "partial":
        dx, dy = rng.uniform(-0.12, 0.12) * side, rng.uniform(-0.12, 0.12) * side
        draw.line([(cx - 0.25 * side + dx, cy + dy), (cx - 0.05 * side + dx, cy + 0.25 * side + dy),
                   (cx + 0.3 * side + dx, cy - 0.3 * side + dy)], fill=ink, width=pen, joint="curve")
    elif kind == "scribble":
        for step in range(7):
            y = cy - 0.5 * side + step * side / 6
            draw.line([(cx - 0.55 * side, y + jitter[step % 6]), (cx + 0.55 * side, y - jitter[(step + 1) % 6])],
                      fill=ink, width=pen)
    elif kind == "faint":  # a light pencil, or a pen running dry
        draw.line([(cx - 0.45 * side, cy), (cx - 0.1 * side, cy + 0.4 * side), (cx + 0.55 * side, cy - 0.55 * side)],
                  fill=rng.randint(120, 175), width=max(2, pen // 2), joint="curve")
    else:
        raise ValueError(kind)


def write(image: Image.Image, area: Area, page_height: float, dpi: int, words: str) -> None:
    """``words`` written on the first line of a notes ``area``, in pen-dark ink."""
    scale = dpi / 72
    x0, _, _, y1 = area.rect
    ImageDraw.Draw(image).text(((x0 + 10) * scale, (page_height - y1 + 12) * scale), words, fill=40,
                               font_size=round(11 * scale))


def stray(image: Image.Image, boxes: list[Box], page_height: float, dpi: int, rng: random.Random, near: bool = False) -> None:
    """A stray pen stroke on the page that touches no box: anywhere, or (``near``) just beside one box."""
    scale = dpi / 72
    draw = ImageDraw.Draw(image)
    if near and boxes:
        x0, y0, x1, y1 = rng.choice(boxes).rect
        gap = rng.uniform(1.5, 3.0)  # points clear of the box's edge
        x = x1 + gap if rng.random() < 0.5 else x0 - gap
        draw.line([(x * scale, (page_height - y1) * scale), (x * scale, (page_height - y0) * scale)], fill=30,
                  width=max(2, round(0.6 * scale)))
        return
    width, height = image.size
    for _ in range(50):  # a place clear of every box
        x, y = rng.uniform(0.1, 0.9) * width, rng.uniform(0.1, 0.9) * height
        dx, dy = rng.uniform(-0.15, 0.15) * width, rng.uniform(-0.05, 0.05) * height
        left, right, top, bottom = min(x, x + dx), max(x, x + dx), min(y, y + dy), max(y, y + dy)
        clear = 6 * scale
        if all(right < b.rect[0] * scale - clear or left > b.rect[2] * scale + clear
               or bottom < (page_height - b.rect[3]) * scale - clear or top > (page_height - b.rect[1]) * scale + clear
               for b in boxes):
            draw.line([(x, y), (x + dx, y + dy)], fill=rng.randint(20, 90), width=max(2, round(0.5 * scale)))
            return


def degrade(image: Image.Image, rng: random.Random, *, photo: bool = False, rotate: float = 5.0,
            bilevel: bool = False) -> np.ndarray:
    """``image`` as a scanner (or, with ``photo``, a phone) returns it: turned up to ``rotate`` degrees,
    scaled by up to 3%, with perspective for photos, blurred, noisy, unevenly lit and JPEG-compressed;
    with ``bilevel``, as a scanner's black-and-white mode returns it instead of JPEG: every pixel black
    or white."""
    grey = np.array(image, dtype=np.float32)
    h, w = grey.shape
    angle, scale = rng.uniform(-rotate, rotate), rng.uniform(0.97, 1.03)
    matrix = np.vstack([cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale), [0, 0, 1]])
    if photo:
        shift = 0.04 * min(w, h)
        source = np.float32([(0, 0), (w, 0), (w, h), (0, h)])
        target = source + np.float32([(rng.uniform(-shift, shift), rng.uniform(-shift, shift)) for _ in range(4)])
        matrix = cv2.getPerspectiveTransform(source, target) @ matrix
    pad = int(0.06 * max(w, h))
    matrix = np.array([[1, 0, pad], [0, 1, pad], [0, 0, 1]]) @ matrix
    out = cv2.warpPerspective(grey, matrix, (w + 2 * pad, h + 2 * pad), borderValue=rng.uniform(200, 255))
    out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 1.2 if photo else 0.8))
    if photo:  # light falling off across the page
        ys, xs = np.mgrid[0:out.shape[0], 0:out.shape[1]]
        out = out * (0.75 + 0.25 * (xs / out.shape[1] * rng.uniform(0.5, 1) + ys / out.shape[0] * rng.uniform(0, 0.5)))
    out = out + np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(2, 8), out.shape)
    if bilevel:
        return np.where(out < rng.uniform(120, 170), 0, 255).astype(np.uint8)
    encoded = io.BytesIO()
    Image.fromarray(np.clip(out, 0, 255).astype(np.uint8)).save(encoded, "JPEG", quality=rng.randint(40, 90))
    return np.array(Image.open(encoded).convert("L"))
