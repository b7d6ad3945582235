"""Packets filled by the engines of real PDF viewers read back exactly as ticked, and show the ticks.

Each engine in tests/engines.py fills the interviewer packet the way its viewer does on a click
(PDFium for Chrome, MuPDF, pdf.js for Firefox, and pypdf for scripts) and saves the way that
viewer saves; kitgen must read every rating and text back, a change of mind must leave one tick,
and MuPDF and Poppler must draw the tick where it was made.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import pikepdf
import pytest
from click.testing import CliRunner

from kit.cli import cli
from kit.manifest import read_manifest
from kit.pdfread import form_values
from tests.engines import ENGINES

TEXTS = {"justification": "Strong on detection; “mAP” unclear — ask again.", "interviewer": "Grace Hopper"}
SCALE = 3  # pixels per point when rendering: a radio button is 7.6 pt, so 23 px wide


@pytest.fixture(scope="module")
def packet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("packet")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SOURCE_DATE_EPOCH", "1767225600")
        env.setenv("KITGEN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
        result = CliRunner().invoke(
            cli, ["--role", "cv-engineer", "--level", "senior", "--candidate", "Ada Lovelace", "--out", str(out)],
            catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out / "cv-engineer-senior-ada-lovelace" / "interviewer.pdf"


@pytest.fixture(scope="module")
def radios(packet: Path) -> dict[str, int]:
    """Every scorecard group, two question groups and the recommendation, rated 1 to 4 in turn."""
    groups = sorted(radio_widgets(packet))
    scorecard = [name for name in groups if name.startswith("c:")]
    questions = [name for name in groups if name.startswith("q:")][:2]
    assert len(scorecard) >= 4 and len(questions) == 2 and "recommendation" in groups
    ratings = {name: i % 4 + 1 for i, name in enumerate(scorecard + questions)}
    return {**ratings, "recommendation": 2}


@pytest.fixture(scope="module", params=list(ENGINES))
def filled(request: pytest.FixtureRequest, packet: Path, radios: dict[str, int],
           tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packet filled and saved by one engine."""
    target = tmp_path_factory.mktemp(request.param) / "filled.pdf"
    ENGINES[request.param](packet, target, radios, TEXTS)
    return target


def test_every_value_reads_back_as_ticked(filled: Path, radios: dict[str, int]) -> None:
    assert form_values(filled) == {**{name: str(rating) for name, rating in radios.items()}, **TEXTS}


@pytest.mark.slow
def test_kitgen_score_gives_the_hand_computed_numbers(filled: Path, radios: dict[str, int], tmp_path: Path) -> None:
    manifest = read_manifest(filled)
    scorecard = {name[2:]: r for name, r in radios.items() if name.startswith("c:")}
    expected = sum(manifest.weights[c] * r for c, r in scorecard.items()) / sum(manifest.weights[c] for c in scorecard)
    result = CliRunner().invoke(cli, ["score", str(filled), "--out", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert scores["weighted_total"] == pytest.approx(expected)
    assert {row["id"]: row["mean"] for row in scores["competencies"] if row["mean"] is not None} == scorecard
    person = scores["interviewers"][0]
    assert (person["name"], person["recommendation"], person["justification"]) == (
        TEXTS["interviewer"], "Hire", TEXTS["justification"])


@pytest.mark.parametrize("engine", list(ENGINES))
def test_a_change_of_mind_leaves_one_tick(engine: str, packet: Path, tmp_path: Path) -> None:
    """Tick 2, save, reopen in the same engine, tick 3, save: 3 is read, and only its widget is on."""
    first, second = tmp_path / "first.pdf", tmp_path / "second.pdf"
    ENGINES[engine](packet, first, {"c:vision": 2}, {})
    ENGINES[engine](first, second, {"c:vision": 3}, {})
    assert form_values(second) == {"c:vision": "3"}
    shown = [widget.state for widget in radio_widgets(second)["c:vision"] if widget.shown != "/Off"]
    assert shown == ["3"]


def test_mupdf_draws_the_ticks(filled: Path, radios: dict[str, int]) -> None:
    pymupdf = pytest.importorskip("pymupdf", reason="PyMuPDF (MuPDF) is not installed")

    def render(page: int) -> tuple[int, int, bytes]:
        with pymupdf.open(filled) as doc:
            pixmap = doc[page].get_pixmap(matrix=pymupdf.Matrix(SCALE, SCALE), colorspace=pymupdf.csGRAY)
            return pixmap.width, pixmap.height, pixmap.samples

    assert_ticks_drawn(filled, radios, render)


def test_poppler_draws_the_ticks(filled: Path, radios: dict[str, int]) -> None:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("pdftoppm (Poppler) is not installed: apt-get install poppler-utils")

    def render(page: int) -> tuple[int, int, bytes]:
        number = str(page + 1)  # with no output name, the page goes to stdout as a PGM
        pgm = subprocess.run([pdftoppm, "-f", number, "-l", number, "-r", str(72 * SCALE), "-gray", "-singlefile",
                              str(filled)], capture_output=True, check=True, timeout=60).stdout
        magic, width, height, depth, pixels = pgm.split(maxsplit=4)
        assert magic == b"P5" and depth == b"255"
        return int(width), int(height), pixels

    assert_ticks_drawn(filled, radios, render)


def test_pdfium_draws_the_ticks(filled: Path, radios: dict[str, int]) -> None:
    pdfium = pytest.importorskip("pypdfium2", reason="pypdfium2 (PDFium) is not installed")

    def render(page: int) -> tuple[int, int, bytes]:
        document = pdfium.PdfDocument(filled)
        try:
            document.init_forms()  # draw the form fields as Chrome does
            image = document[page].render(scale=SCALE, grayscale=True, may_draw_forms=True).to_pil().convert("L")
            return image.width, image.height, image.tobytes()
        finally:
            document.close()

    assert_ticks_drawn(filled, radios, render)


def assert_ticks_drawn(path: Path, radios: dict[str, int], render) -> None:
    """In each rated group, the ticked widget's area is clearly darker than every other's."""
    groups = radio_widgets(path)
    pages: dict[int, tuple[int, int, bytes]] = {}
    for name, rating in radios.items():
        shades = {}
        for widget in groups[name]:
            if widget.page not in pages:
                pages[widget.page] = render(widget.page)
            shades[widget.state] = mean_shade(*pages[widget.page], widget.box)
        ticked = shades.pop(str(rating))
        assert shades and all(ticked < other - 100 for other in shades.values()), (name, ticked, shades)


def mean_shade(width: int, height: int, pixels: bytes, box: tuple[float, float, float, float]) -> float:
    """Mean grey level (0 black, 255 white) of the middle of a box given as fractions of the page.

    Only the middle 40 % counts: every viewer's tick puts ink there (kitgen's own appearance is a
    full disc; Poppler and MuPDF, asked by /NeedAppearances to draw their own, draw a smaller dot),
    and an empty button's ring does not reach it.
    """
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half_w, half_h = (box[2] - box[0]) / 5, (box[3] - box[1]) / 5
    left, top = round((cx - half_w) * width), round((cy - half_h) * height)
    right, bottom = round((cx + half_w) * width), round((cy + half_h) * height)
    values = [pixels[y * width + x] for y in range(top, bottom) for x in range(left, right)]
    return sum(values) / len(values)


class Widget(NamedTuple):
    state: str  # the on state, e.g. "3"
    page: int  # page index
    box: tuple[float, float, float, float]  # left, top, right, bottom as fractions of the page
    shown: str  # the appearance state /AS, e.g. "/Off"


def radio_widgets(path: Path) -> dict[str, list[Widget]]:
    """Each radio group's widgets, by the group's name."""
    groups: dict[str, list[Widget]] = {}
    with pikepdf.open(path) as pdf:
        for index, page in enumerate(pdf.pages):
            x0, y0, x1, y1 = (float(v) for v in page.MediaBox)
            for annot in page.get("/Annots", []):
                parent = annot.get("/Parent")
                if annot.get("/Subtype") != "/Widget" or parent is None or "/AP" not in annot:
                    continue
                (state,) = [str(key)[1:] for key in annot.AP.N.keys() if key != "/Off"]
                xs, ys = sorted(float(v) for v in annot.Rect[::2]), sorted(float(v) for v in annot.Rect[1::2])
                box = ((xs[0] - x0) / (x1 - x0), (y1 - ys[1]) / (y1 - y0), (xs[1] - x0) / (x1 - x0),
                       (y1 - ys[0]) / (y1 - y0))
                shown = str(annot.get("/AS", "/Off"))
                groups.setdefault(str(parent.T), []).append(Widget(state, index, box, shown))
    return groups
