"""Hostile and broken input, and faults mid-run: nothing executes, fetches, escapes --out or is lost."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from kit import load, output
from kit.errors import InputError, KitgenError
from kit.load import read_yaml
from tests.conftest import QUICK_START, Team, pdf_text, squash

LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))


@pytest.mark.parametrize(("content", "message"), [
    (LAUGHS, "aliases expand this document past"),
    ("a: " + "[" * 100 + "]" * 100 + "\n", "nested more than 64 deep"),
    (bytes(range(256)) * 8, "cannot read this file"),
    ("questions:\n  - id: x\n\x00\n", "not valid YAML"),
])
def test_hostile_yaml_ends_quickly_with_one_line(tmp_path: Path, content: str | bytes, message: str) -> None:
    path = tmp_path / "bank.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InputError) as caught:  # quickly by construction: the loader counts, it never expands
        read_yaml(path)
    (problem,) = caught.value.problems
    assert message in problem.message and "\n" not in str(problem)


def test_huge_file_is_refused_before_it_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "MAX_BYTES", 1000)
    path = tmp_path / "bank.yaml"
    path.write_text("questions: []\n" + "# padding\n" * 200)
    with pytest.raises(InputError, match="larger than"):
        read_yaml(path)


HOSTILE_TEXT = (
    "<script>alert(1)</script> <img src=x onerror=alert(1)> {{ 7*7 }} {% include 'x' %} "
    "<style>body{background:url(http://127.0.0.1:9/x)}</style> [l](javascript:alert(1)) ![i](file:///etc/passwd) "
    "Ünïcödé: שלום مرحبا e\u0301 \u0007bell\u001b[31m "
    + "Pneumonoultramicroscopicsilicovolcanoconiosis" * 6
)


@pytest.mark.slow
def test_hostile_team_question_and_names_print_literally(run, team: Team, tmp_path: Path) -> None:
    from kit.validate import load_library

    vision = [q.id for q in load_library().questions.values() if q.competency == "vision" and q.kind != "prescreen"]
    patches = [{"id": qid, "text": HOSTILE_TEXT, "guidance": ["<b>bold</b> {{ config }}", "second", "third"]}
               for qid in vision]  # whichever vision questions the kit takes, they are hostile
    team.write("questions/evil.yaml", yaml.safe_dump({"questions": patches}, allow_unicode=True))  # escapes \a
    team.write("rubric.yaml", "competencies:\n  - id: vision\n    title: 'Vision <i>&amp;</i> {{ 1+1 }}'\n")
    result = run("--config", team.config, "--role", "cv-engineer", "--level", "senior", "--seed", "1",
                 "--candidate", "../../etc/<b>Eve</b> {{ 7*7 }}\u0007", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    (folder,) = (tmp_path / "out").iterdir()
    assert folder.name == "cv-engineer-senior-etc-b-eve-b-7-7"  # no dots, no slashes: inside --out
    manifest = yaml.safe_load((folder / "kit.yaml").read_text())
    text = pdf_text(folder / "interviewer.pdf")
    assert squash("<b>Eve</b> {{ 7*7 }}") in text and "\u0007" not in text
    assert squash("Vision <i>&amp;</i> {{ 1+1 }}") in text
    assert any(q.startswith("vis-") for q in manifest["questions"])
    assert squash("<script>alert(1)</script> <img src=x onerror=alert(1)> {{ 7*7 }}") in text
    assert squash("![i](file:///etc/passwd)") in text and squash("<b>bold</b> {{ config }}") in text
    assert "Pneumonoultramicroscopicsilicovolcanoconiosis" * 2 in text
    assert PdfReader(folder / "interviewer.pdf").attachments.keys() == {"kit.yaml"}


def test_long_words_and_long_questions_stay_on_the_page(team: Team) -> None:
    from weasyprint import HTML

    from kit.manifest import People
    from kit.render import render_documents
    from kit.select import select_kit

    long_text = " ".join(["A" * 400] + ["word"] * 2500)
    team.write("questions/long.yaml", f"questions:\n  - id: vis-iou-nms\n    text: '{long_text}'\n")
    library = team.library()
    kit = select_kit(library, "cv-engineer", "senior")
    kit = kit.__class__(**{**kit.__dict__, "questions": (library.questions["vis-iou-nms"],)})
    html = render_documents(library, [kit], People(), ("x", "y"))["interviewer"]
    document = HTML(string=html).render()
    assert len(document.pages) > 4  # the long question broke across pages

    def boxes(box):
        yield box
        for child in getattr(box, "children", []):
            yield from boxes(child)

    for page in document.pages:
        right = page._page_box.margin_width()
        assert all(b.position_x + b.margin_width() <= right + 1 for b in boxes(page._page_box))


def test_candidate_names_make_safe_folders() -> None:
    assert output.slug("../../etc/passwd") == "etc-passwd"
    assert output.slug("CON") == "con-" and output.slug("lpt1") == "lpt1-"
    assert output.slug("a/b\\c:d") == "a-b-c-d"
    assert output.slug("Zoë O'Neil") == "zoë-o-neil"


@pytest.mark.parametrize("a, b", [
    ("Ada Lovelace", "ADA  lovelace"),
    ("Jos\u00e9 D\u00edaz", "Jose\u0301 Di\u0301az"),  # composed and decomposed accents
    ("Ada Lovelace", "Ada, Lovelace!"),
    ("｡Ａｄａ", "ada"),  # full-width letters
])
def test_names_that_read_alike_give_one_folder_name(a: str, b: str) -> None:
    assert output.slug(a) == output.slug(b)


def test_long_names_stay_apart_and_names_without_letters_are_refused() -> None:
    a, b = "Ada " * 20 + "Lovelace", "Ada " * 20 + "Byron"
    assert output.slug(a) != output.slug(b) and len(output.slug(a).encode()) <= output.MAX_NAME
    wide, wider = "\U00020000" * 60, "\U00020000" * 61  # four bytes a letter
    assert output.slug(wide) != output.slug(wider) and len(output.slug(wide).encode()) <= output.MAX_NAME
    for name in ("...", "---", "!!!", "\u200b"):
        with pytest.raises(KitgenError, match="no letters or digits"):
            output.slug(name)


def test_symlinked_kit_folder_is_not_followed(run, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine")
    out = tmp_path / "out"
    out.mkdir()
    (out / "cv-engineer-senior").symlink_to(elsewhere)
    result = run(*QUICK_START, "--out", out, "--force")
    assert result.exit_code == 2 and "is a symbolic link" in result.stderr
    assert sorted(p.name for p in elsewhere.iterdir()) == ["keep.txt"]


def test_symlinked_file_is_replaced_not_written_through(tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("precious")
    folder = tmp_path / "kit"
    folder.mkdir()
    (folder / "kit.yaml").symlink_to(target)
    with pytest.raises(KitgenError, match="symbolic link"):
        output.write_files(folder, {"kit.yaml": b"new"}, force=True)
    assert target.read_text() == "precious"


def test_disk_full_mid_write_leaves_the_old_kit_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "kit"
    output.prepare(folder, ["a.pdf", "b.pdf"], force=False)
    output.write_files(folder, {"a.pdf": b"old a", "b.pdf": b"old b"})

    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(KitgenError, match="No space left on device; nothing was written"):
        output.write_files(folder, {"a.pdf": b"new a", "b.pdf": b"new b"})
    assert (folder / "a.pdf").read_bytes() == b"old a" and (folder / "b.pdf").read_bytes() == b"old b"
    assert sorted(p.name for p in folder.iterdir()) == ["a.pdf", "b.pdf"]
    kit = tmp_path / "out" / "kit"
    monkeypatch.undo()
    output.prepare_kit(kit, force=False)
    output.write_kit(kit, {"interviewer.pdf": b"old", "kit.yaml": b"old"}, force=False)
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(KitgenError, match="No space left on device; the kit was not written"):
        output.write_kit(kit, {"interviewer.pdf": b"new", "kit.yaml": b"new"}, force=True)
    assert sorted(p.name for p in kit.parent.iterdir()) == ["kit"]
    assert (kit / "interviewer.pdf").read_bytes() == b"old" and (kit / "kit.yaml").read_bytes() == b"old"


def test_a_second_writer_waits_its_turn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fcntl

    folder = tmp_path / "kit"
    folder.mkdir()
    monkeypatch.setattr(output, "LOCK_WAIT", 0.0)
    held = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(KitgenError, match="another kitgen has been writing"):
            output.write_files(folder, {"a.pdf": b"x"})
        with pytest.raises(KitgenError, match="another kitgen has been writing"):
            output.write_kit(folder / "k", {"a.pdf": b"x"}, force=False)
    finally:
        os.close(held)
    assert sorted(p.name for p in folder.iterdir()) == []


@pytest.mark.slow
def test_two_runs_on_one_folder_never_mix_their_kits(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "kit", *QUICK_START, "--out", str(tmp_path), "--force"]
    runs = [subprocess.Popen([*command, "--seed", str(seed)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for seed in (1, 2)]
    for process in runs:
        process.wait(timeout=300)
    assert any(p.returncode == 0 for p in runs)
    assert all(p.returncode in (0, 2) for p in runs)
    folder = tmp_path / "cv-engineer-senior"
    manifest = yaml.safe_load((folder / "kit.yaml").read_text())
    for name in ("interviewer.pdf", "screener.pdf"):
        attached = yaml.safe_load(PdfReader(folder / name).attachments["kit.yaml"][0])
        assert attached["kit_id"] == manifest["kit_id"], name
    sheet = yaml.safe_load(PdfReader(folder / "prescreen.pdf").attachments["prescreen.yaml"][0])
    assert sheet["prescreen"] == manifest["prescreen"]
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


@pytest.mark.skipif(not subprocess.run(["fc-list", ":lang=ja"], capture_output=True, text=True).stdout.strip(),
                    reason="no CJK font installed (CI installs Debian's fonts-noto-cjk)")
@pytest.mark.slow
def test_missing_glyphs_fall_back_to_a_font_that_has_them(run, tmp_path: Path) -> None:
    result = run(*QUICK_START, "--candidate", "山田 花子 Ζωή Øyvind", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    (folder,) = tmp_path.iterdir()
    reader = PdfReader(folder / "prescreen.pdf")
    assert "山田花子ΖωήØyvind" in squash(reader.pages[0].extract_text())
    fonts = {str(f.get_object()["/BaseFont"]) for p in reader.pages for f in p["/Resources"]["/Font"].values()}
    assert any("CJK" in font for font in fonts), fonts


def test_the_terminal_gets_no_escape_sequences_or_bidi_overrides(run, tmp_path: Path) -> None:
    """File names and names are the user's text: what kitgen prints drops control characters and
    bidirectional overrides, so it cannot recolour, clear or reorder a terminal."""
    evil = tmp_path / "\x1b[2J\x1b[31mred\u202egnp.csv"
    evil.write_text("interviewer,id,rating\n\x1b]0;title\x07Grace\u202e,vision,3\n")
    result = run("score", evil)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and "red" in result.stderr
    for text in (result.stdout, result.stderr):
        assert not any(ch in text for ch in "\x1b\x07\u202e\u2066"), repr(text)


def test_folder_names_fit_every_file_system(tmp_path: Path) -> None:
    folder = output.kit_folder(tmp_path, "cv-engineer", "senior", "\U00020000" * 200, "coding")
    assert len(folder.name.encode()) <= output.MAX_FOLDER
    output.write_kit(folder, {"kit.yaml": b"x"}, force=False)  # its temporary sibling's name fits too
    with pytest.raises(KitgenError, match="more than file systems allow"):
        output.kit_folder(tmp_path, "r" * 250, "senior", "Ada")
