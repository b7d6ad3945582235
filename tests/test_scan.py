"""Reading ticks back from scanned and photographed pages: the right verdict, or "unsure", never a guess."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from pypdf import PdfReader

pytest.importorskip("cv2", reason="the scanning extra (pip install -e '.[scan]')")

from kit.scan import UNSURE, Box, Layout, Unreadable, layout, read_page, written  # noqa: E402
from tests.scans import by_field, degrade, mark_page, render, tick, write  # noqa: E402


@pytest.fixture(scope="module")
def packet(senior_kit: Path) -> tuple[Path, list[tuple[float, float]], dict[int, list[Box]], Layout]:
    pdf = senior_kit / "interviewer.pdf"
    found = layout(pdf)
    return pdf, found.sizes, found.boxes, found


def test_the_kits_own_pdf_says_where_every_box_is(packet) -> None:
    _, sizes, boxes, _ = packet
    scorecard = max(boxes, key=lambda page: len(boxes[page]))
    assert any(field.startswith("c:") for field in by_field(boxes[scorecard]))  # competency ratings
    for page, page_boxes in boxes.items():
        width, height = sizes[page - 1]
        assert all(0 < b.rect[0] < b.rect[2] < width and 0 < b.rect[1] < b.rect[3] < height for b in page_boxes)
    question = by_field(boxes[min(boxes)])
    assert [b.value for b in next(v for k, v in question.items() if k.startswith("q:"))] == ["1", "2", "3", "4"]


@pytest.mark.parametrize("dpi, photo, seed", [(150, False, 1), (200, True, 4),
                                              *(pytest.param(*p, marks=pytest.mark.slow) for p in [(200, False, 2), (300, False, 3), (150, True, 5)])])
def test_a_marked_page_reads_back_through_a_scanner_or_a_phone(packet, dpi: int, photo: bool, seed: int) -> None:
    pdf, sizes, boxes, printed = packet
    rng = random.Random(seed)
    page = rng.choice(sorted(boxes))
    image = render(pdf, page, dpi)
    truth = mark_page(image, boxes[page], sizes[page - 1][1], dpi, rng)
    reading = read_page(degrade(image, rng, photo=photo), lambda code: printed)
    assert reading.code.page == page and reading.code.document == 0
    assert reading.answers() == truth


@pytest.mark.parametrize("turns", [1, 2, 3], ids=["quarter", "upside-down", "three-quarters"])
def test_a_page_fed_turned_reads_as_upright(packet, turns: int) -> None:
    pdf, sizes, boxes, printed = packet
    page = min(boxes)
    question = next(v for k, v in by_field(boxes[page]).items() if k.startswith("q:"))
    image = render(pdf, page, 150)
    tick(image, question[1], sizes[page - 1][1], 150)
    turned = np.ascontiguousarray(np.rot90(degrade(image, random.Random(turns)), turns))
    assert read_page(turned, lambda code: printed).answers()[question[1].field] == question[1].value


def test_two_ticks_go_to_a_person_and_a_faint_tick_is_never_passed_over(packet) -> None:
    pdf, sizes, boxes, printed = packet
    page = min(boxes)
    question = next(v for k, v in by_field(boxes[page]).items() if k.startswith("q:"))
    image = render(pdf, page, 200)
    height = sizes[page - 1][1]
    tick(image, question[0], height, 200)
    tick(image, question[2], height, 200)
    answers = read_page(np.array(image), lambda code: printed).answers()
    assert answers[question[0].field] == UNSURE
    image = render(pdf, page, 200)
    tick(image, question[1], height, 200, "faint")
    answer = read_page(np.array(image), lambda code: printed).answers()[question[1].field]
    assert answer in (question[1].value, UNSURE)  # a faint tick is never passed over as no tick


@pytest.mark.parametrize("photo", [False, True], ids=["scanner", "phone"])
def test_a_notes_area_reads_as_written_only_when_written_in(packet, photo: bool) -> None:
    pdf, sizes, _, printed = packet
    page = next(page for page in sorted(printed.areas) if page in printed.boxes)
    area = printed.areas[page][0]
    for words, seed in (("", 1), ("", 2), ("ok", 3), ("Strong on data leakage", 4)):
        image = render(pdf, page, 200)
        if words:
            write(image, area, sizes[page - 1][1], 200, words)
        reading = read_page(degrade(image, random.Random(seed), photo=photo), lambda code: printed)
        assert written(reading.crop(area.rect, 150)) == bool(words), (words, seed)


def test_a_scanners_16_bit_grey_image_reads_as_its_8_bit_one(packet, tmp_path: Path) -> None:
    from kit.scan import images

    pdf, _, boxes, printed = packet
    page = np.array(render(pdf, min(boxes), 150))
    deep = tmp_path / "deep.png"
    Image.fromarray(page.astype(np.uint16) * 257).save(deep)  # 16 bits a pixel, as many scanners write
    assert Image.open(deep).mode.startswith("I;16")
    (_, read), = list(images(deep))
    assert np.abs(read.astype(int) - page).max() <= 1
    assert read_page(read, lambda code: printed).code.page == min(boxes)


def test_a_page_without_its_code_or_corners_is_unreadable(packet) -> None:
    pdf, sizes, boxes, printed = packet
    image = np.array(render(pdf, min(boxes), 150))
    with pytest.raises(Unreadable, match="no kitgen page code"):
        read_page(image[: image.shape[0] // 2], lambda code: printed)  # the code is at the foot of the page
    covered = image.copy()
    covered[: image.shape[0] // 8, : image.shape[1] // 8] = 255  # a corner torn off
    with pytest.raises(Unreadable, match="corner squares"):
        read_page(covered, lambda code: printed)


@pytest.mark.slow
def test_a_scanned_packet_scores_as_the_same_ratings_typed_in_a_sheet(run, tmp_path: Path) -> None:
    """End to end: a packet scanned in any order, one question ticked twice; score writes the review and
    its corrections file instead of scores; with the person's correction, the same scores as typed."""
    assert run("--role", "cv-engineer", "--level", "senior", "--interviewer", "Grace Hopper", "--out", tmp_path).exit_code == 0
    kit = tmp_path / "cv-engineer-senior"
    pdf = kit / "interviewer.pdf"
    sizes, boxes, areas, _ = layout(pdf)
    rng = random.Random(7)
    ratings, pages, twice = {}, [], None
    noted = [area for page in sorted(boxes) for area in areas.get(page, [])][:2]  # two areas written in, the rest blank
    for page in sorted(boxes):
        image = render(pdf, page, 200)
        for area in areas.get(page, []):
            if area in noted:
                write(image, area, sizes[page - 1][1], 200, "Spotted the leak between splits")
        for field, options in by_field(boxes[page]).items():
            if not field.startswith("flag:"):
                chosen = rng.choice(options)
                tick(image, chosen, sizes[page - 1][1], 200, rng.choice(["tick", "cross", "filled"]), rng)
                ratings[field] = int(chosen.value)
                if twice is None and field.startswith("q:"):  # changed their mind, and ticked another box too
                    twice = (field, chosen.value, options[(options.index(chosen) + 2) % 4].value)
                    tick(image, options[(options.index(chosen) + 2) % 4], sizes[page - 1][1], 200, "tick", rng)
        pages.append(Image.fromarray(degrade(image, rng)))
    scan = tmp_path / "scan.pdf"
    pages.reverse()  # a stack scanned in any order
    pages[0].save(scan, save_all=True, append_images=pages[1:], resolution=200)

    unsettled = run("score", "--kit", kit, scan, "--out", tmp_path / "from-scan")
    assert unsettled.exit_code == 2 and "Traceback" not in unsettled.output
    field, value, other = twice
    assert f"{field}: 2 boxes look ticked ({', '.join(sorted((value, other)))})" in unsettled.stderr
    review, corrections = tmp_path / "from-scan" / "review.pdf", tmp_path / "from-scan" / "corrections.yaml"
    assert sorted(p.name for p in review.parent.iterdir()) == ["corrections.yaml", "review.pdf"]  # no scores
    shown = "".join(page.extract_text() for page in PdfReader(review).pages)
    assert f"interviewer.pdf page {min(boxes)} · {field}" in shown  # the page the double tick is on
    assert field in shown and "1 answer to decide" in shown
    template = yaml.safe_load(corrections.read_text())
    assert template == {"kit_id": yaml.safe_load((kit / "kit.yaml").read_text())["kit_id"],
                        "answers": {"interviewer.pdf": {field: None}}}
    corrections.write_text(corrections.read_text().replace(f'"{field}":', f'"{field}": {value}'))

    scanned = run("score", "--kit", kit, scan, "--corrections", corrections, "--out", tmp_path / "from-scan")
    assert scanned.exit_code == 0, scanned.output
    sheet = tmp_path / "typed.yaml"
    sheet.write_text(yaml.safe_dump({
        "kit_id": yaml.safe_load((kit / "kit.yaml").read_text())["kit_id"], "interviewer": "Grace Hopper",
        "recommendation": ratings.pop("recommendation"), "ratings": {k[2:]: v for k, v in ratings.items()}}))
    typed = run("score", "--kit", kit, sheet, "--out", tmp_path / "typed")
    assert typed.exit_code == 0, typed.output
    from_scan = json.loads((tmp_path / "from-scan" / "scores.json").read_text())
    from_sheet = json.loads((tmp_path / "typed" / "scores.json").read_text())
    assert [i.pop("source") for i in from_scan["interviewers"]] == [str(scan)]  # what differs: the source,
    assert [i.pop("source") for i in from_sheet["interviewers"]] == [str(sheet)]
    assert [i.pop("corrected") for i in from_scan["interviewers"]] == [[field]]  # and the answer a person settled
    assert [i.pop("corrected") for i in from_sheet["interviewers"]] == [[]]
    assert from_scan == from_sheet and from_scan["interviewers"][0]["name"] == "Grace Hopper"
    debrief = PdfReader(tmp_path / "from-scan" / "debrief.pdf")
    text = "".join(page.extract_text() for page in debrief.pages)
    assert "Handwritten notes, as scanned" in text and all(area.field.removeprefix("notes:") in text for area in noted)
    pictures = {image.name for page in debrief.pages for image in page.images}  # pages share one resource list
    assert len(pictures) == len(noted)  # blank areas are left out


@pytest.mark.slow
def test_an_unsure_scan_is_listed_page_by_page_and_scores_nothing(run, tmp_path: Path) -> None:
    assert run("--role", "nlp-engineer", "--level", "junior", "--out", tmp_path).exit_code == 0
    kit = tmp_path / "nlp-engineer-junior"
    sizes, boxes, *_ = layout(kit / "interviewer.pdf")
    page = min(boxes)
    image = render(kit / "interviewer.pdf", page, 200)
    question = next(v for k, v in by_field(boxes[page]).items() if k.startswith("q:"))
    tick(image, question[0], sizes[page - 1][1], 200)
    tick(image, question[3], sizes[page - 1][1], 200)
    photo = tmp_path / "photo.jpg"
    Image.fromarray(degrade(image, random.Random(3), photo=True)).save(photo)
    result = run("score", "--kit", kit, photo, "--out", tmp_path / "out")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{photo}: {question[0].field}: 2 boxes look ticked (1, 4)" in result.stderr
    missing = sorted(boxes)[1]  # one photo of one page: the packet's other pages with boxes are not passed over
    assert f"{photo}: page {missing} of interviewer.pdf has boxes to tick but is not among the scans" in result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["corrections.yaml", "review.pdf"]


def test_a_file_that_is_no_scan_is_refused_in_one_line(run, senior_kit: Path, tmp_path: Path) -> None:
    import pikepdf

    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image at all")
    huge = tmp_path / "huge.pdf"
    with pikepdf.new() as pdf:
        pdf.add_blank_page(page_size=(14000, 14000))  # 194 inches: rendering it would take gigabytes
        pdf.save(huge)
    bomb = tmp_path / "bomb.pdf"  # a letter-sized page holding a 9000 x 9000 image: 3 kB on disk, 81 MB drawn
    with pikepdf.new() as pdf:
        pdf.add_blank_page(page_size=(612, 792))
        image = pikepdf.Stream(pdf, __import__("zlib").compress(bytes(9000 * 9000)), Type=pikepdf.Name.XObject,
                               Subtype=pikepdf.Name.Image, Width=9000, Height=9000, ColorSpace=pikepdf.Name.DeviceGray,
                               BitsPerComponent=8, Filter=pikepdf.Name.FlateDecode)
        pdf.pages[0].add_resource(image, pikepdf.Name.XObject, pikepdf.Name.Im0)
        pdf.save(bomb)
    for path, message in ((junk, "not an image that can be read"), (huge, "194 inches long"),
                          (bomb, "an image of 9000 x 9000 pixels"), (Path("/dev/zero"), "not a file")):
        result = run("score", "--kit", senior_kit, path, "--out", tmp_path / "out")
        assert result.exit_code == 2 and message in result.stderr and len(result.stderr.splitlines()) == 1
        assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_scanned_screener_key_gives_the_points_typed_in_a_sheet(run, tmp_path: Path) -> None:
    assert run("--role", "nlp-engineer", "--level", "junior", "--out", tmp_path).exit_code == 0
    kit = tmp_path / "nlp-engineer-junior"
    sizes, boxes, *_ = layout(kit / "screener.pdf")
    rng, points, photos = random.Random(11), {}, []
    for page in sorted(boxes):
        image = render(kit / "screener.pdf", page, 200)
        for field, options in by_field(boxes[page]).items():
            chosen = rng.choice(options)
            tick(image, chosen, sizes[page - 1][1], 200, "tick", rng)
            points[field[2:]] = int(chosen.value)
        photos.append(tmp_path / f"key-{page}.jpg")
        Image.fromarray(degrade(image, rng, photo=True)).save(photos[-1])
    scanned = run("score", "--kit", kit, *photos, "--out", tmp_path / "from-scan")
    assert scanned.exit_code == 0, scanned.output
    sheet = tmp_path / "points.yaml"
    sheet.write_text(yaml.safe_dump({"kit_id": yaml.safe_load((kit / "kit.yaml").read_text())["kit_id"],
                                     "interviewer": "Screener", "points": points}))
    typed = run("score", "--kit", kit, sheet, "--out", tmp_path / "typed")
    assert typed.exit_code == 0, typed.output
    from_scan = json.loads((tmp_path / "from-scan" / "scores.json").read_text())["prescreen"]
    from_sheet = json.loads((tmp_path / "typed" / "scores.json").read_text())["prescreen"]
    assert (from_scan.pop("source"), from_sheet.pop("source")) == (str(photos[0]), str(sheet))
    assert from_scan == from_sheet and from_scan["points"] == points  # one key, photographed page by page


@pytest.mark.slow
def test_a_loop_printed_as_separate_kits_is_scanned_together_and_a_foreign_pdf_is_refused(run, tmp_path: Path) -> None:
    """Stages printed as kits of their own, side by side: one stack of scans scores the loop; a kit
    folder holding another kit's PDF cannot place a page's boxes and says so."""
    for stage in ("technical", "coding"):
        made = run("--role", "cv-engineer", "--level", "senior", "--stage", stage, "--interviewer", f"Ada {stage}",
                   "--out", tmp_path / "kits")
        assert made.exit_code == 0, made.output
    rng, pages = random.Random(5), []
    for stage in ("technical", "coding"):
        pdf = tmp_path / "kits" / f"cv-engineer-senior-{stage}" / f"interviewer-{stage}.pdf"
        sizes, boxes, *_ = layout(pdf)
        for page in sorted(boxes):
            image = render(pdf, page, 150)
            for options in by_field(boxes[page]).values():
                tick(image, options[0], sizes[page - 1][1], 150, "tick", rng)  # every row: the first box
            pages.append(Image.fromarray(degrade(image, rng)))
    scan = tmp_path / "day.pdf"
    rng.shuffle(pages)
    pages[0].save(scan, save_all=True, append_images=pages[1:], resolution=150)
    technical = tmp_path / "kits" / "cv-engineer-senior-technical"
    scored = run("score", "--kit", technical, scan, "--out", tmp_path / "out")
    assert scored.exit_code == 0, scored.output
    found = json.loads((tmp_path / "out" / "scores.json").read_text())
    assert sorted((i["name"], i["stage"]) for i in found["interviewers"]) == [("Ada coding", "coding"),
                                                                              ("Ada technical", "technical")]
    assert {row["id"]: row["mean"] for row in found["competencies"]}["coding"] == 1.0  # rated in the coding kit

    own = technical / "screener.pdf"
    key = tmp_path / "key.png"
    Image.fromarray(degrade(render(own, min(layout(own).boxes), 150), rng)).save(key)  # a page of the technical kit
    own.write_bytes((tmp_path / "kits" / "cv-engineer-senior-coding" / "screener.pdf").read_bytes())  # swapped
    refused = run("score", "--kit", technical, key, "--out", tmp_path / "out2")
    assert refused.exit_code == 2
    assert f"{own} is not kit {yaml.safe_load((technical / 'kit.yaml').read_text())['kit_id']}'s own" in refused.stderr
