"""Fuzz kitgen's readers of filled packets, score sheets and kit manifests with hostile inputs.

Run:  .venv/bin/python bench/fuzz_readers.py [--count 3000] [--seed 1] [--jobs 2] [--keep DIR]
      .venv/bin/python bench/fuzz_readers.py --seed 1 --only 123     # replay one case, print its traceback

Every input is a real seed mutated. The seeds are made first: a kit (``kitgen --role cv-engineer
--level senior --candidate Ada``), its packet filled as a PDF reader would (tests/filling.py), a YAML
score sheet and a CSV score sheet for it. Then each case mutates one of them:

* ``pdf-bytes``: byte flips, truncation, chunks duplicated or deleted, PDF tokens spliced in (on the
  packet as printed, and on an uncompressed copy so the flips land on the structure);
* ``pdf-struct``: pikepdf edits: wrong types for /V, /AS, /T, /FT, /Kids, /Fields and /AcroForm,
  /Kids and /Parent loops, huge /Kids arrays, missing /AP, ratings out of the scale or written in other
  digits, the page's text and contents, the page tree, encryption;
* ``pdf-attach``: the attached kit.yaml replaced with garbage, huge or deeply nested YAML, "billion
  laughs" aliases, wrong types, an edited manifest (kit id kept or recomputed), a broken name tree;
* ``yaml``: a score sheet with keys and values edited, wrong types, raw YAML (tags, aliases, huge
  integers, unhashable keys), deep nesting, control and other Unicode characters, huge strings, bytes;
* ``csv``: a score sheet with columns added, dropped or renamed, quotes, NULs, huge fields, bad ratings;
* ``manifest``: the kit's kit.yaml edited (kit id kept or recomputed) and scored with a sheet for it.

Each case is scored end to end (``kitgen score --kit KIT INPUT... --out OUT``, through click's
CliRunner) and read by each reader on its own (``read_manifest``, ``form_values``, ``attachment``,
``printed_id``, ``Reader.read``). Allowed: exit 0 (scored), or exit 2 with every line on stderr starting
"Error:" (refused); a reader returns or raises KitgenError. Failures: tracebacks (any other exception),
malformed errors, files left in --out by a refusal, inputs changed, cases over --timeout seconds (slow)
and worker processes that died (crashed). Each failing case's files are kept under --keep with its
traceback; the exit status is 1 if anything failed.
"""

from __future__ import annotations

import argparse
import copy
import csv
import hashlib
import io
import json
import os
import random
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests/filling.py fills the seed packet

KINDS = {"pdf-bytes": 3, "pdf-struct": 5, "pdf-attach": 2, "yaml": 4, "csv": 3, "manifest": 3}
MANIFEST = "kit.yaml"
GENERATION_TIMEOUT = 120  # seconds to make one case (not counted against kitgen)

# --- Hostile pieces ---------------------------------------------------------------------------------------

TEXTS = [
    "", " ", "\t", "\n", "x", "Grace", "Grace Hopper", "grace", "Grace\n", "Ada\nError: forged", "a\rb", "\x00", "\x07",
    "\x1b[31mred\x1b[0m", "\u202eevil", "\u200b", "\ufeff", "e\u0301", "漢字かな", "שלום", "مرحبا", "👩‍💻🚀", "\uffff",
    "{{ 7*7 }}", "{% raw %}", "<script>alert(1)</script>", "<b>bold</b>", "&amp;", "=cmd|'/C calc'!A0", "+1+1",
    "-2", "@SUM(A1)", "'", '"', "\\", "%s%n", "../../etc/passwd", "C:\\con", "kit.yaml", "Kit 00000000",
    "W" * 200, "W" * 201, "x" * 20_000, "x" * 20_001, "y " * 60_000,
]
DIGITS = ["0", "1", "2", "3", "4", "5", "9", "99", "-1", "+3", "3.0", "2.5", " 3", "3 ", "03", "1e0", "0x3", "²", "①", "٣",
          "３", "3\u200b", "9" * 50, "9" * 4301, "9" * 5000, "1" * 100_000, "", "three", "Hire", "hire", " HIRE "]
VALUES: list[Any] = [
    None, True, False, 0, 1, 2, 3, 4, 5, -1, 99, 2**31, 2**63, -(2**63), 10**30, 3.0, 2.5, -0.0, float("inf"),
    float("-inf"), float("nan"), [], [1], [[[]]], {}, {"a": 1}, {"": None}, b"\xff\x00bytes", {1, 2},
    *TEXTS, *DIGITS,
]
RAW_VALUES = [  # written into the YAML text as they are
    "*undefined", "&a 3", "!!python/object/apply:os.system ['true']", "!!python/name:os.system", "!!binary aGVsbG8=",
    "!!set {a, b}", "!!omap [a: 1, b: 2]", "!!pairs [a: 1]", "!!timestamp 2020-01-01", "2020-01-01",
    "2020-01-01T00:00:00Z", "12:30:00", "0x3", "0o3", "0b11", "+3", "3e0", "1_0", ".inf", "-.inf", ".nan", "~", "null",
    "yes", "on", "'3'", '"\\u00b2"', '"\\x00"', '"\\ud800"', '"\\U0010ffff"', '"\\e[31m"', "9" * 4301, "-" + "9" * 5000,
    "0." + "9" * 5000, "1e999", "[" * 63 + "]" * 63, "[" * 64 + "]" * 64, "[" * 65 + "]" * 65, "[" * 999 + "]" * 999,
    "{a: " * 70 + "1" + "}" * 70, "!!int '3'", "!!str 3", "!!float 3", "!!bool yes", "!!null ''", "!custom 3",
    "!<tag:yaml.org,2002:int> 3", "!!map {a: 1}", "!!seq [1]", "!!int 99999999999999999999999", "!!int 0x" + "f" * 4000,
    "!!float '1e99999'", "{? [a] : 1}", "{? {a: 1} : 1}", "[*a, *a]", "{<<: {a: 1}}", "|-\n  block", "@reserved", "`tick",
    "%TAG", "- a", "? x", "a: b: c", "'unclosed", '"unclosed', "[unclosed", "\t3", "!!binary ===",
]
RAW_KEYS = ["[a, b]", "{a: 1}", "? [x]\n ", "<<", "~", "3", "true", "2020-01-01", "'ratings'", "!!binary aGk=", "*undefined",
            "&k key", "[" * 70 + "]" * 70, '"\\u00b2"', "9" * 5000]
LAUGHS = "lol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"lol{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]\n" for n in range(1, 9))
PDF_TOKENS = [b"obj", b"endobj", b"stream\n", b"endstream", b"xref", b"trailer", b"startxref", b"%%EOF", b"<<", b">>",
              b"[", b"]", b"(", b")", b"<", b">", b"/Kids [", b"/V /2", b"/AS /Off", b"/Length 999999999",
              b"/Length -1", b"1 0 R", b"99999999 0 R", b"0 0 R", b"/Filter /FlateDecode", b"/Type /Pages",
              b"/Count 99999999", b"(" * 5000, b"[" * 5000, b"<<" * 5000, b"\x00" * 64, b"\\", b"%", b"/#00"]
PDF_HOT = [b"/V", b"/Kids", b"/AS", b"/T ", b"/T(", b"/Fields", b"/AP", b"/Parent", b"/FT", b"/Opt", b"obj", b"stream",
           b"/Length", b"xref", b"startxref", b"/Names", b"/EmbeddedFiles", b"/EF", b"/Count", b"/Root", b"/Size",
           b"/Filter", b"/Contents", b"/AcroForm", b"/N ", b"R"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252"]


# --- The seeds --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeds:
    """The real inputs every case mutates, and what the library knows (for plausible edits)."""

    kit: Path  # the kit folder: interviewer.pdf, prescreen.pdf, kit.yaml
    manifest: dict[str, Any]  # its kit.yaml
    packet: Path  # interviewer.pdf filled in
    screen: Path  # screener.pdf (the prescreen's answer key) with points ticked
    plain: Path  # the same, uncompressed and without object streams (byte flips hit the structure)
    blank: Path  # interviewer.pdf as printed
    prescreen: Path
    sheet_yaml: Path
    sheet_csv: Path
    points_yaml: Path  # a YAML sheet of prescreen points
    scale: int
    most: int  # the most points a prescreen question earns
    labels: tuple[str, ...]  # recommendation labels
    competencies: tuple[str, ...]  # all of the library's
    questions: tuple[str, ...]  # all of the library's
    roles: tuple[str, ...]


def make_seeds(root: Path) -> Seeds:
    """Print a real kit, fill its packet, write score sheets for it; each must score (exit 0)."""
    import pikepdf
    from click.testing import CliRunner

    from kit.cli import cli
    from kit.validate import load_library
    from tests.filling import fill

    root.mkdir(parents=True, exist_ok=True)
    result = CliRunner().invoke(cli, ["--role", "cv-engineer", "--level", "senior", "--candidate", "Ada",
                                      "--force", "--out", str(root / "kits")])
    if result.exit_code != 0:
        raise RuntimeError(f"cannot print the seed kit:\n{result.output}")
    kit = root / "kits" / "cv-engineer-senior-ada"
    data = yaml.safe_load((kit / MANIFEST).read_text(encoding="utf-8"))
    library = load_library()
    scale = len(library.rubric.scale)
    competencies, questions = list(data["weights"]), list(data["questions"])
    radios = {f"c:{c}": 1 + n % scale for n, c in enumerate(competencies)}
    radios |= {f"q:{q}": 1 + (n + 1) % scale for n, q in enumerate(questions[:4])}
    packet = root / "filled.pdf"
    fill(kit / "interviewer.pdf", packet, {**radios, "recommendation": 2},
         {"interviewer": "Grace", "justification": "Solid on detection metrics; weaker on deployment."},
         checks=(f"flag:{questions[-1]}",) if len(questions) > 1 else ())
    most = library.rubric.screening.points
    screen = root / "screen.pdf"
    fill(kit / "screener.pdf", screen, {f"p:{q}": n % (most + 1) for n, q in enumerate(data["prescreen"])})
    plain = root / "filled-plain.pdf"
    with pikepdf.open(packet) as pdf:
        pdf.save(plain, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    sheet_yaml = root / "sheet.yaml"
    sheet_yaml.write_text(yaml.safe_dump(_sheet(data, library.rubric.recommendation[0].label, scale, random.Random(0)),
                                         sort_keys=False, allow_unicode=True), encoding="utf-8")
    sheet_csv = root / "sheet.csv"
    sheet_csv.write_text(_csv_text(_csv_rows(data, [r.label for r in library.rubric.recommendation], scale,
                                             random.Random(0)), random.Random(0), plain=True), encoding="utf-8")
    points_yaml = root / "points.yaml"
    points_yaml.write_text(yaml.safe_dump(_points(data, most, random.Random(0)), sort_keys=False), encoding="utf-8")
    seeds = Seeds(kit, data, packet, screen, plain, kit / "interviewer.pdf", kit / "prescreen.pdf", sheet_yaml,
                  sheet_csv, points_yaml, scale, most, tuple(r.label for r in library.rubric.recommendation),
                  tuple(c.id for c in library.rubric.competencies), tuple(library.questions), tuple(library.roles))
    for n, source in enumerate((packet, plain, sheet_yaml, sheet_csv, screen, points_yaml)):
        result = CliRunner().invoke(cli, ["score", "--kit", str(kit), str(source), "--out", str(root / f"check{n}")])
        if result.exit_code != 0:
            raise RuntimeError(f"the unmutated seed {source.name} does not score:\n{result.output}")
    return seeds


def _sheet(data: dict[str, Any], label: str, scale: int, rng: random.Random) -> dict[str, Any]:
    questions = _ids(data, "questions")
    ratings: dict[str, Any] = {c: rng.randint(1, scale) for c in _ids(data, "weights")}
    ratings |= {q: rng.randint(1, scale) for q in rng.sample(questions, min(3, len(questions)))}
    return {"kit_id": data.get("kit_id"), "interviewer": "Grace", "recommendation": label,
            "justification": "Clear on detection metrics.", "red_flags": [], "ratings": ratings}


def _points(data: dict[str, Any], most: int, rng: random.Random) -> dict[str, Any]:
    return {"kit_id": data.get("kit_id"), "interviewer": "Screener",
            "points": {q: rng.randint(0, most) for q in _ids(data, "prescreen")}}


def _ids(data: dict[str, Any], key: str) -> list[str]:
    """The ids listed under ``key`` of a (possibly mangled) manifest."""
    value = data.get(key)
    return [item for item in value if isinstance(item, str)] if isinstance(value, (list, dict)) else []


def _csv_rows(data: dict[str, Any], labels: list[str], scale: int, rng: random.Random,
              names: tuple[str, ...] = ("Grace",)) -> list[list[str]]:
    rows = [["interviewer", "id", "rating", "text"]]
    for name in names:
        rows += [[name, c, str(rng.randint(1, scale)), ""] for c in _ids(data, "weights")]
        rows += [[name, q, str(rng.randint(1, scale)), ""] for q in _ids(data, "questions")[:3]]
        rows += [[name, "recommendation", rng.choice(labels), ""], [name, "justification", "", "Clear, careful."]]
    return rows


# --- Generators: one case of each kind ---------------------------------------------------------------------


@dataclass
class Case:
    """One hostile input (or a few), where it lives, and how to score it."""

    index: int
    kind: str
    folder: Path
    inputs: list[Path]
    kit: Path | None  # --kit (None: the manifest attached to the first packet)
    steps: list[str] = field(default_factory=list)  # what was done to the seed
    template: bool = False  # score --template (the blank sheet) instead

    @property
    def out(self) -> Path:
        return self.folder / "out"

    def args(self) -> list[str]:
        kit = ["--kit", str(self.kit)] if self.kit is not None else []
        if self.template:
            return ["score", "--template", *kit, "--out", str(self.out)]
        return ["score", *kit, *map(str, self.inputs), "--out", str(self.out)]


def generate(index: int, seed: int, seeds: Seeds, folder: Path) -> Case:
    """Case ``index`` of run ``seed``: the same pair always makes the same files."""
    rng = random.Random(f"{seed}:{index}")
    kind = rng.choices(list(KINDS), weights=list(KINDS.values()))[0]  # kind_of(seed, index)
    folder.mkdir(parents=True, exist_ok=True)
    case = GENERATORS[kind](rng, seeds, folder)
    case.index, case.kind = index, kind
    if kind != "manifest" and rng.random() < 0.15:  # now and then beside a good sheet of another interviewer
        other = folder / "other.yaml"
        sheet = yaml.safe_load(seeds.sheet_yaml.read_text(encoding="utf-8"))
        other.write_text(yaml.safe_dump({**sheet, "interviewer": "Alan"}), encoding="utf-8")
        case.inputs.append(other)
        case.steps.append("+ a good sheet by Alan")
    return case


def kind_of(seed: int, index: int) -> str:
    return random.Random(f"{seed}:{index}").choices(list(KINDS), weights=list(KINDS.values()))[0]


def gen_pdf_bytes(rng: random.Random, seeds: Seeds, folder: Path) -> Case:
    source = rng.choice([seeds.packet, seeds.plain, seeds.plain, seeds.screen])
    data = bytearray(source.read_bytes())
    steps = [f"bytes of {source.name}"]
    for _ in range(rng.randint(1, 4)):
        steps.append(rng.choice(BYTE_OPS)(rng, data))
    return _pdf_case(rng, seeds, folder, bytes(data), steps)


def _pdf_case(rng: random.Random, seeds: Seeds, folder: Path, data: bytes, steps: list[str]) -> Case:
    name = "packet.pdf"
    if rng.random() < 0.03:
        name = rng.choice(["packet.yaml", "packet.csv", "packet.PDF", "packet.txt"])
        steps.append(f"named {name}")
    path = folder / name
    path.write_bytes(data)
    kit = seeds.kit if rng.random() < 0.8 else None
    return Case(0, "pdf", folder, [path], kit, steps)


def _flip(rng: random.Random, data: bytearray) -> str:
    n = rng.choice([1, 1, 2, 8, 64])
    for _ in range(n):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    return f"flip {n} bytes"


def _flip_hot(rng: random.Random, data: bytearray) -> str:
    token = rng.choice(PDF_HOT)
    spots = [i for i in _find_all(data, token)]
    if not spots:
        return _flip(rng, data)
    at = rng.choice(spots) + rng.randint(0, len(token) + 12)
    for i in range(at, min(len(data), at + rng.randint(1, 4))):
        data[i] = rng.choice([rng.randrange(256), *b"0129/[]<>()R -"])
    return f"flip near {token.decode('latin-1')!r} at {at}"


def _find_all(data: bytearray, token: bytes, limit: int = 2000) -> list[int]:
    found, start = [], 0
    while len(found) < limit and (at := data.find(token, start)) >= 0:
        found.append(at)
        start = at + 1
    return found


def _truncate(rng: random.Random, data: bytearray) -> str:
    at = rng.choice([0, 1, 8, rng.randrange(len(data) + 1), len(data) - rng.randint(1, 2000)])
    at = max(0, min(at, len(data)))
    if rng.random() < 0.2:
        del data[:at]
        return f"drop the first {at} bytes"
    del data[at:]
    return f"truncate at {at}"


def _duplicate(rng: random.Random, data: bytearray) -> str:
    a = rng.randrange(len(data) + 1)
    b = min(len(data), a + rng.choice([1, 16, 500, 20_000, 200_000]))
    at = rng.randrange(len(data) + 1)
    data[at:at] = data[a:b] * rng.choice([1, 1, 2, 50])
    return f"duplicate [{a}:{b}] at {at}"


def _delete(rng: random.Random, data: bytearray) -> str:
    a = rng.randrange(len(data) + 1)
    b = min(len(data), a + rng.choice([1, 16, 500, 20_000]))
    del data[a:b]
    return f"delete [{a}:{b}]"


def _insert(rng: random.Random, data: bytearray) -> str:
    token = rng.choice(PDF_TOKENS)
    spots = _find_all(data, rng.choice(PDF_HOT))
    at = rng.choice(spots) if spots and rng.random() < 0.7 else rng.randrange(len(data) + 1)
    data[at:at] = token
    return f"insert {token[:20]!r} at {at}"


def _number(rng: random.Random, data: bytearray) -> str:
    spots = _find_all(data, rng.choice([b" 0 R", b"/Length ", b"/Count ", b"/Size ", b"startxref\n", b"/N "]))
    if not spots:
        return _flip(rng, data)
    at = rng.choice(spots)
    start = at + 1 if data[at:at + 4] == b" 0 R" else at + data[at:].find(b" ") + 1
    while start > 0 and data[start - 1:start].isdigit():
        start -= 1
    end = start
    while end < len(data) and data[end:end + 1].isdigit():
        end += 1
    value = rng.choice([b"0", b"-1", b"1", b"99999999999", b"9" * 30, b"2147483648", b"4294967296", b"3.5", b"1e9"])
    data[start:end] = value
    return f"number at {start} -> {value.decode()[:12]}"


BYTE_OPS = [_flip, _flip_hot, _flip_hot, _truncate, _duplicate, _delete, _insert, _insert, _number]


# PDF structure (pikepdf)

def gen_pdf_struct(rng: random.Random, seeds: Seeds, folder: Path) -> Case:
    import pikepdf

    source = rng.choices([seeds.packet, seeds.screen, seeds.blank, seeds.prescreen], weights=[12, 4, 1, 1])[0]
    steps = [f"structure of {source.name}"]
    with pikepdf.open(source) as pdf:
        for _ in range(rng.randint(1, 3)):
            _apply(rng, pdf, seeds, rng.choice(STRUCT_OPS), steps)
        data = _save(rng, pdf, steps)
    return _pdf_case(rng, seeds, folder, data, steps)


def _apply(rng: random.Random, pdf: Any, seeds: Seeds, op: Any, steps: list[str]) -> None:
    try:
        steps.append(op(rng, pdf, seeds))
    except Exception as exc:  # noqa: BLE001 - an earlier edit left nothing for this one (or pikepdf refused it)
        steps.append(f"{op.__name__}: skipped ({type(exc).__name__})")


def _save(rng: random.Random, pdf: Any, steps: list[str]) -> bytes:
    import pikepdf

    options: dict[str, Any] = {}
    roll = rng.random()
    if roll < 0.15:
        options = {"compress_streams": False, "object_stream_mode": pikepdf.ObjectStreamMode.disable}
    elif roll < 0.25:
        options = {"object_stream_mode": pikepdf.ObjectStreamMode.generate}
    elif roll < 0.3:
        options = {"linearize": True}
    elif roll < 0.36:
        user = rng.choice(["", "", "secret"])
        options = {"encryption": pikepdf.Encryption(user=user, owner="owner", R=rng.choice([4, 6]))}
        steps.append(f"encrypted (user password {user!r})")
    buffer = io.BytesIO()
    for attempt in (options, {}):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # widgets cut off from the form: on purpose
                pdf.save(buffer, **attempt)
            return buffer.getvalue()
        except Exception as exc:  # noqa: BLE001 - an edit qpdf cannot write; try plainly
            steps.append(f"save {attempt or 'plain'} failed ({type(exc).__name__})")
            buffer = io.BytesIO()
    raise RuntimeError("pikepdf cannot save this mutation")


def _fields(pdf: Any) -> list[Any]:
    return list(pdf.Root.AcroForm.Fields)


def _field(rng: random.Random, pdf: Any, prefix: str | None = None) -> Any:
    fields = _fields(pdf)
    chosen = [f for f in fields if prefix is None or str(f.get("/T", "")).startswith(prefix)] or fields
    return rng.choice(chosen)


def _name_of(field: Any) -> str:
    return str(field.get("/T", "?"))[:40]


def _hostile_name(rng: random.Random) -> str:
    return "/" + rng.choice(["0", "1", "2", "3", "4", "5", "9", "99", "-1", "1.5", "²", "①", "٣", "３", "9" * 4301,
                             "9" * 30, "Off", "Yes", "On", "", " 2", "2 ", "02", "Hire", "\u00e9", "a" * 5000])


def _hostile_object(rng: random.Random, pdf: Any, near: Any = None) -> Any:
    import pikepdf

    pick = rng.randrange(22)
    if pick < 5:
        return pikepdf.Name(_hostile_name(rng))
    options: list[Any] = [
        lambda: pikepdf.String(rng.choice(TEXTS + DIGITS)), lambda: pikepdf.String(b"\xfe\xff\xd8\x00\x00a"),
        lambda: pikepdf.String(b"\xff\xfe\x00\xd8"), lambda: pikepdf.String(b"\xfe\xff\x00"),
        lambda: pikepdf.String(bytes(range(256))), lambda: rng.choice([0, 3, -1, 2**31, 2**63 - 1]),
        lambda: rng.choice([2.5, -0.0, 3.0]), lambda: rng.choice([True, False]),
        lambda: pikepdf.Array([pikepdf.Name("/2"), pikepdf.Name("/3")]), lambda: pikepdf.Array([]),
        lambda: pikepdf.Dictionary(V=pikepdf.Name("/2")), lambda: pikepdf.Stream(pdf, b"/2"),
        lambda: near if near is not None else pdf.Root, lambda: pdf.Root,
        lambda: pikepdf.String("x" * rng.choice([1000, 200_000])),
    ]
    return rng.choice(options)()


def op_value_type(rng: random.Random, pdf: Any, seeds: Seeds) -> str:
    import pikepdf

    target = _field(rng, pdf, rng.choice(["c:", "q:", "p:", "recommendation", "justification", "interviewer", "flag:", None]))
    value = _hostile_object(rng, pdf, target)
    if value is target:
        target[pikepdf.Name("/V")] = target  # an indirect reference to itself
    else:
        target[pikepdf.Name("/V")] = value
    return f"/V of {_name_of(target)} = {_short(value)}"


def op_kid_value(rng: random.Random, pdf: Any, seeds: Seeds) -> str:
    import pikepdf

    target = _field(rng, pdf, rng.choice(["c:", "q:", "p:", "recommendation"]))
    kids = list(target.get("/Kids", []))
    if not kids:
        return op_value_type(rng, pdf, seeds)
    kid = rng.choice(kids)
    if rng.random() < 0.5:
        state = pikepdf.Name(f"/{rng.randint(1, seeds.scale)}")
        kid[pikepdf.Name(rng.choice(["/V", "/AS"]))] = state
        return f"a widget of {_name_of(target)} shows {state} (the group may disagree)"
    kid[pikepdf.Name("/V")] = _hostile_object(rng, pdf, kid)
    return f"/V on a widget of {_name_of(target)}"


def op_as(rng: random.Random, pdf: Any, seeds: Seeds) -> str:
    import pikepdf

    target = _field(rng, pdf, rng.choice(["c:", "q:", "p:", "recommendation", "flag:"]))
    widgets = list(target.get("/Kids", [])) or [target]
    value = _hostile_object(rng, pdf)
    for widget in rng.sample(widgets, rng.randint(1, len(widgets))):
        widget[pikepdf.Name("/AS")] = value
    if rng.random() < 0.5 and "/V" in target:
        del target["/V"]
    return f"/AS of {_name_of(target)} = {_short(value)}"


def op_ap(rng: random.Random, pdf: Any, seeds: Seeds) -> str:
    import pikepdf

    target = _field(rng, pdf, rng.choice(["c:", "q:", "p:", "recommendation", "flag:"]))
    widgets = list(target.get("/Kids", [])) or [target]
    how = rng.choice(["delete", "int", "array", "no /N", "/N array", "/N name"])
    for widget in widgets:
        if how == "delete":
            if "/AP" in widget:
                del widget["/AP"]
        else:
            widget[pikepdf.Name("/AP")] = {"int": 3, "array": pikepdf.Array([1, 2]), "no /N": pikepdf.Dictionary(),
                                           "/N array": pikepdf.Dictionary(N=pikepdf.Array([1])),
                                           "/N name": pikepdf.Dictionary(N=pikepdf.Name("/2"))}[how]
        if rng.random() < 0.5:
            widget[pikepdf.Name("/AS")] = pikepdf.Name(f"/{rng.randint(1, seeds.scale)}")
    return f"/AP of {_name_of(target)}: {how}"


def op_kids_loop(rng: random.Random, pdf: Any, seeds: Seeds) -> str:
    import pikepdf

    fields = _fields(pdf)
    target = _field(rng, pdf, rng.choice(["c:", "q:", None]))
    how = rng.randrange(6)
    kids = target.get("/Kids")
    if how == 0:
        target[pikepdf.Name("/Kids")] = pikepdf.Array([*(kids or []), target])
        return f"{_name_of(target)} is its own kid"
    if how == 1 and kids:
        kid = kids[0]
        kid[pikepdf.Name("/Kids")] = pikepdf.Array([target])
        kid[pikepdf.Name("/T")] = pikepdf.String("loop")
        return f"a kid of {_name_of(target)} has it as its kid (named, so it is followed)"
    if how == 2:
        other = rng.choice(fields)
        target[pikepdf.Name("/Kids")] = pikepdf.Array([*(kids or []), other])
        other[pikepdf.Name("/Kids")] = pikepdf.Array([*other.get("/Kids", []), target])
        return f"{_name_of(target)} and {_name_of(other)} are each other's kids"
    if how == 3 and kids:
        for kid in kids:
            kid[pikepdf.Name("/Parent")] = kid
        return f"widgets of {_name_of(target)} are their own parents"
    if how == 4:
        knot = pdf.make_indirect(pikepdf.Dictionary(T=pikepdf.String("knot")))
        knot[pikepdf.Name("/Kids")] = pikepdf.Array([knot, knot])
        pdf.Root.AcroForm[pikepdf.Name("/Fields")] = pikepdf.Array([*fields, *fields, knot])
        return "/Fields lists every field twice, and a field that is its own kid"
    chain = target
    for n in range(rng.choice([10, 100, 4000, 6000])):
        link = pdf.make_indirect(pikepdf.Dictionary(T=pikepdf.String(f"k{n}"), V=pikepdf.Name("/2")))
        chain[pikepdf.Name("/Kids")] = pikepdf.Array([link])
        chain = link
    chain[pikepdf.Name("/Kids")] = pikepdf.Array([target])
    return f"{_name_of(target)} leads a long chain of named kids back to itself"


def op_huge_kids(rng: random.Random, pdf: Any, seeds: Seeds) -> str:
    import pikepdf

    target = _field(rng, pdf, rng.choice(["c:", "q:", "p:", "recommendation", None]))
    kids = list(target.get("/Kids", [])) or [pdf.make_indirect(pikepdf.Dictionary(AS=pikepdf.Name("/2")))]
    n = rng.choice([1000, 50_000, 300_000])
    how = rng.randrange(3)
    if how == 0:
        target[pikepdf.Name("/Kids")] = pikepdf.Array(kids * (n // len(kids)))
        return f"/Kids of {_name_of(target)}: its kids repeated to {n}"
    if how == 1:
        n = min(n, 20_000)
        made = [pdf.make_indirect(pikepdf.Dictionary(T=pikepdf.String(f"x{i}"), V=pikepdf.String("v")))
                for i in range(n)]
        target[pikepdf.Name("/Kids")] = pikepdf.Array(made)
        return f"/Kids of {_name_of(target)}: {n} distinct named fields"
    n = min(n, 50_000)
    made = [pdf.make_indirect(pikepdf.Dictionary(AS=pikepdf.Name(f"/{1 + i % seeds.scale}"), AP=pikepdf.Dictionary()))
            for i in range(n)]
    target[pikepdf.Name("/Kids")] = pikepdf.Array(made)
    return f"/Kids of {_name_of(target)}: {n} widgets showing different states"


def op_kids_type(rng: random.Random, pdf: Any, seeds: Seeds) -> str:
    import pikepdf

    target = _field(rng, pdf, rng.choice(["c:", "q:", "p:", "recommendation", None]))
    value = rng.choice([3, pikepdf.Name("/Kids"), pikepdf.Dictionary(T=pikepdf.String("x")), pikepdf.String("kids"),
                        pikepdf.Array([3, pikepdf.Name("/x"), None]), pikepdf.Array([pikepdf.Array([])]), None])
    target[pikepdf.Name("/Kids")] = value
    return f"/Kids of {_name_of(target)} = {_short(value)}"


def op_fields_type(rng: random.Random, pdf: Any, seeds: Seeds) -> str:
    import pikepdf

    how = rng.randrange(6)
    form = pdf.Root.AcroForm
    if how == 0:
        del pdf.Root["/AcroForm"]
        return "no /AcroForm"
    if how == 1:
        pdf.Root[pikepdf.Name("/AcroForm")] = rng.choice([3, pikepdf.Array([]), pikepdf.Name("/x"), None])
        return "/AcroForm of a wrong type"
    if how == 2:
        form[pikepdf.Name("/Fields")] = rng.choice([3, pikepdf.Name("/x"), pikepdf.Dictionary(), pikepdf.String("f"), None])
        return "/Fields of a wrong type"
    if how == 3:
        form[pikepdf.Name("/Fields")] = pikepdf.Array([3, None, pikepdf.Name("/x"), pikepdf.Array([]), *_fields(pdf)])
        return "/Fields holds non-dictionaries"
    if how == 4:
        form[pikepdf.Name("/Fields")] = pikepdf.Array([])
        return "/Fields empty"
    form[pikepdf.Name("/Fields")] = pikepdf.Array(_fields(pdf)[: rng.randrange(len(_fields(pdf)))])
    return "/Fields cut short"


def op_title(rng: random.Random, pdf: Any, seeds: Seeds) -> str:
    import pikepdf

    fields = _fields(pdf)
    target = rng.choice(fields)
    how = rng.randrange(5)
    if how == 0:
        value: Any = rng.choice([3, pikepdf.Array([pikepdf.String("c:vision")]), pikepdf.Name("/c:vision"),
                                 pikepdf.Dictionary(), None, pikepdf.String(b"\xfe\xff\xd8\x00")])
    elif how == 1:
        value = pikepdf.String(str(rng.choice(fields).get("/T", "x")))  # a name given twice
    elif how == 2:
        value = pikepdf.String(rng.choice(["c:" + rng.choice(seeds.competencies), "q:" + rng.choice(seeds.questions),
                                           "c:unknown", "q:unknown", "c:", "q:", "flag:", "flag:unknown", "recommendation",
                                           "interviewer", "justification", "c:vision.c:vision", "a.b", ""]))
    elif how == 3:
        value = pikepdf.String(rng.choice(TEXTS))
    else:
        del target["/T"]
        return f"{_name_of(target)} loses /T"
    target[pikepdf.Name("/T")] = value
    return f"/T of a field = {_short(value)}"


def op_field_type(rng: random.Random, pdf: Any, seeds: Seeds) -> str:
    import pikepdf

    target = _field(rng, pdf, rng.choice(["c:", "justification", "interviewer", "recommendation"]))
    value = rng.choice([pikepdf.Name("/Tx"), pikepdf.Name("/Btn"), pikepdf.Name("/Ch"), pikepdf.Name("/Sig"), 3, None])
    target[pikepdf.Name("/FT")] = value
    if rng.random() < 0.5:
        target[pikepdf.Name("/V")] = rng.choice([pikepdf.String("3"), pikepdf.Name("/3"), pikepdf.String("²")])
    return f"/FT of {_name_of(target)} = {_short(value)}"


def op_opt(rng: random.Random, pdf: Any, seeds: Seeds) -> str:
    import pikepdf

    target = _field(rng, pdf, rng.choice(["c:", "q:", "p:", "recommendation"]))
    value = rng.choice([pikepdf.Array([pikepdf.String(s) for s in ("1", "2", "3", "4")]),
                        pikepdf.Array([pikepdf.String("Hire")]), pikepdf.Array([]), 3, pikepdf.Dictionary(),
                        pikepdf.Array([pikepdf.Array([pikepdf.String("a"), pikepdf.String("b")])] * 5),
                        pikepdf.Array([pikepdf.String("x" * 100)] * 10_000), pikepdf.String("opt")])
    target[pikepdf.Name("/Opt")] = value
    state = rng.choice(["/0", "/1", "/3", "/9", "/99999999999999999999", "/²", "/-1"])
    target[pikepdf.Name("/V")] = pikepdf.Name(state)
    return f"/Opt of {_name_of(target)} = {_short(value)}, /V {state[:20]}"


def op_rating(rng: random.Random, pdf: Any, seeds: Seeds) -> str:
    """Plausible values a viewer might save: a state out of the scale, other digits, a string for a name."""
    import pikepdf

    target = _field(rng, pdf, rng.choice(["c:", "q:", "p:", "recommendation"]))
    text = rng.choice(DIGITS)[:6000]
    value = pikepdf.Name("/" + text) if text and rng.random() < 0.7 else pikepdf.String(("/" if rng.random() < 0.5 else "")
                                                                                      + text)
    target[pikepdf.Name("/V")] = value
    for kid in target.get("/Kids", []):
        if rng.random() < 0.3:
            kid[pikepdf.Name("/AS")] = value if isinstance(value, pikepdf.Name) else pikepdf.Name("/Off")
    return f"{_name_of(target)} holds {_short(value)}"


def op_text(rng: random.Random, pdf: Any, seeds: Seeds) -> str:
    import pikepdf

    target = _field(rng, pdf, rng.choice(["justification", "interviewer", "notes:"]))
    raw = rng.choice([
        pikepdf.String(rng.choice(TEXTS)), pikepdf.String("J" * rng.choice([20_000, 1_000_000])),
        pikepdf.String("word " * rng.choice([4_000, 200_000])),
        pikepdf.String(b"\xfe\xff" + "\ud800".encode("utf-16-be", "surrogatepass")),
        pikepdf.String(b"\xfe\xff\xdc\x00\x00A"), pikepdf.String(b"\xff\xfe" + "Grace".encode("utf-16-le")),
        pikepdf.String(b"\xef\xbb\xbfGrace\xff"), pikepdf.String(bytes(range(1, 32))), pikepdf.String("Ada\x00Error: x"),
    ])
    target[pikepdf.Name("/V")] = raw
    return f"text of {_name_of(target)} = {_short(raw)}"


def op_new_field(rng: random.Random, pdf: Any, seeds: Seeds) -> str:
    import pikepdf

    name = rng.choice(["c:unknown", "q:unknown", "flag:unknown", "flag:" + rng.choice(seeds.questions),
                       "c:" + rng.choice(seeds.competencies), "q:" + rng.choice(seeds.questions), "recommendation",
                       "interviewer", "c:" + seeds.manifest["questions"][0], "q:" + next(iter(seeds.manifest["weights"])),
                       "p:" + seeds.manifest["prescreen"][0], "p:unknown", "screener", "p:" + seeds.manifest["questions"][0]])
    value = rng.choice([pikepdf.Name(f"/{rng.randint(1, seeds.scale)}"), pikepdf.Name("/Yes"), pikepdf.String("2"),
                        _hostile_object(rng, pdf)])
    made = pdf.make_indirect(pikepdf.Dictionary(T=pikepdf.String(name), FT=pikepdf.Name("/Btn"), V=value))
    pdf.Root.AcroForm.Fields.append(made)
    return f"new field {name} = {_short(value)}"


def op_contents(rng: random.Random, pdf: Any, seeds: Seeds) -> str:
    import pikepdf

    page = pdf.pages[0].obj
    how = rng.randrange(7)
    if how == 0:
        del page["/Contents"]
        return "page 1 has no /Contents"
    if how == 1:
        page[pikepdf.Name("/Contents")] = pikepdf.Stream(pdf, bytes(rng.randrange(256) for _ in range(4000)))
        return "page 1 contents are garbage"
    if how == 2:
        kit_id = rng.choice(["00000000", seeds.manifest["kit_id"], "ffffffff"])
        text = f"BT /F1 12 Tf 72 72 Td (Kit {kit_id}) Tj ET".encode()
        font = pikepdf.Dictionary(Type=pikepdf.Name("/Font"), Subtype=pikepdf.Name("/Type1"),
                                  BaseFont=pikepdf.Name("/Helvetica"))
        page[pikepdf.Name("/Resources")] = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page[pikepdf.Name("/Contents")] = pikepdf.Stream(pdf, text)
        return f"page 1 prints only 'Kit {kit_id}'"
    if how == 3:
        stream = pdf.make_indirect(pikepdf.Stream(pdf, b"BT /F1 1 Tf (x) Tj ET " * 200))
        page[pikepdf.Name("/Contents")] = pikepdf.Array([stream] * rng.choice([1000, 20_000]))
        return "page 1 /Contents repeats one stream many times"
    if how == 4:  # a form XObject drawn twice by each of 30 levels of forms
        inner = pdf.make_indirect(pikepdf.Stream(pdf, b"BT (lol) Tj ET"))
        for level in range(30):
            outer = pikepdf.Stream(pdf, b"/X0 Do /X0 Do")
            outer[pikepdf.Name("/Type")] = pikepdf.Name("/XObject")
            outer[pikepdf.Name("/Subtype")] = pikepdf.Name("/Form")
            outer[pikepdf.Name("/BBox")] = pikepdf.Array([0, 0, 10, 10])
            outer[pikepdf.Name("/Resources")] = pikepdf.Dictionary(XObject=pikepdf.Dictionary(X0=inner))
            inner = pdf.make_indirect(outer)
            _ = level
        page[pikepdf.Name("/Resources")] = pikepdf.Dictionary(XObject=pikepdf.Dictionary(X0=inner))
        page[pikepdf.Name("/Contents")] = pikepdf.Stream(pdf, b"/X0 Do")
        return "page 1 draws a form XObject bomb (2^30 draws)"
    if how == 5:  # a form XObject that draws itself
        form = pdf.make_indirect(pikepdf.Stream(pdf, b"/X0 Do"))
        form[pikepdf.Name("/Type")] = pikepdf.Name("/XObject")
        form[pikepdf.Name("/Subtype")] = pikepdf.Name("/Form")
        form[pikepdf.Name("/BBox")] = pikepdf.Array([0, 0, 10, 10])
        form[pikepdf.Name("/Resources")] = pikepdf.Dictionary(XObject=pikepdf.Dictionary(X0=form))
        page[pikepdf.Name("/Resources")] = pikepdf.Dictionary(XObject=pikepdf.Dictionary(X0=form))
        page[pikepdf.Name("/Contents")] = pikepdf.Stream(pdf, b"/X0 Do")
        return "page 1 draws a form XObject that draws itself"
    page[pikepdf.Name("/Contents")] = pikepdf.Stream(pdf, b"BT " + b"(x) Tj " * rng.choice([10_000, 500_000]) + b"ET")
    return "page 1 shows a great many strings"


def op_pages(rng: random.Random, pdf: Any, seeds: Seeds) -> str:
    import pikepdf

    pages = pdf.Root.Pages
    how = rng.randrange(5)
    if how == 0:
        pages[pikepdf.Name("/Kids")] = pikepdf.Array([*pages.Kids, pages])
        return "the page tree holds itself"
    if how == 1:
        pages[pikepdf.Name("/Count")] = rng.choice([0, -1, 2**40, 1])
        return "a wrong page /Count"
    if how == 2:
        pages[pikepdf.Name("/Kids")] = pikepdf.Array([])
        pages[pikepdf.Name("/Count")] = 0
        return "no pages"
    if how == 3:
        pages.Kids[0][pikepdf.Name("/Type")] = rng.choice([pikepdf.Name("/Pages"), pikepdf.Name("/Font"), 3])
        return "page 1 has a wrong /Type"
    pages[pikepdf.Name("/Kids")] = pikepdf.Array([pages.Kids[0]] * 5000)
    pages[pikepdf.Name("/Count")] = 5000
    return "page 1 repeated 5000 times"


def op_attachment(rng: random.Random, pdf: Any, seeds: Seeds) -> str:
    payload, step = attachment_payload(rng, seeds)
    _set_attachment(pdf, payload)
    return f"attachment: {step}"


def _set_attachment(pdf: Any, payload: bytes) -> None:
    names = pdf.Root.Names.EmbeddedFiles.Names
    for n in range(0, len(names), 2):
        if str(names[n]) == MANIFEST:
            names[n + 1].EF.F.write(payload)


def op_name_tree(rng: random.Random, pdf: Any, seeds: Seeds) -> str:
    import pikepdf

    tree = pdf.Root.Names.EmbeddedFiles
    names = tree.Names
    spec = names[1]
    how = rng.randrange(9)
    if how == 0:
        del spec["/EF"]
        return "the file spec has no /EF"
    if how == 1:
        spec.EF[pikepdf.Name("/F")] = rng.choice([3, pikepdf.String("kit"), pikepdf.Dictionary(), None])
        return "/EF /F is not a stream"
    if how == 2:
        tree[pikepdf.Name("/Names")] = pikepdf.Array([names[0]])
        return "/Names has a key without a value"
    if how == 3:
        tree[pikepdf.Name("/Names")] = pikepdf.Array([3, spec, pikepdf.Name("/kit.yaml"), spec, None, None])
        return "/Names keys of wrong types"
    if how == 4:
        tree[pikepdf.Name("/Kids")] = pikepdf.Array([tree])
        del tree["/Names"]
        return "the name tree is its own kid"
    if how == 5:
        copy_spec = pikepdf.Dictionary(spec)
        stream = pikepdf.Stream(pdf, yaml.safe_dump({**seeds.manifest, "candidate": "Eve"}).encode())
        copy_spec[pikepdf.Name("/EF")] = pikepdf.Dictionary(F=stream)
        tree[pikepdf.Name("/Names")] = pikepdf.Array([pikepdf.String(MANIFEST), spec, pikepdf.String(MANIFEST), copy_spec])
        return "two attachments named kit.yaml"
    if how == 6:
        tree[pikepdf.Name("/Names")] = pikepdf.Array([x for n in range(20_000) for x in (pikepdf.String(f"f{n}"), spec)]
                                                     + [names[0], spec])
        return "20000 attachments before kit.yaml"
    if how == 7:
        spec.EF.F[pikepdf.Name("/Filter")] = rng.choice([pikepdf.Name("/LZWDecode"), pikepdf.Name("/Crypt"),
                                                         pikepdf.Name("/Nonsense"), pikepdf.Array([pikepdf.Name("/FlateDecode")] * 3)])
        return "the attachment's /Filter is wrong"
    pdf.Root.Names[pikepdf.Name("/EmbeddedFiles")] = rng.choice([3, pikepdf.Array([]), pikepdf.Dictionary(), None])
    return "/EmbeddedFiles of a wrong type"


STRUCT_OPS = [op_value_type, op_value_type, op_kid_value, op_as, op_ap, op_kids_loop, op_huge_kids, op_kids_type,
              op_fields_type, op_title, op_field_type, op_opt, op_rating, op_rating, op_text, op_new_field, op_contents,
              op_pages, op_attachment, op_name_tree]


def gen_pdf_attach(rng: random.Random, seeds: Seeds, folder: Path) -> Case:
    import pikepdf

    source = rng.choice([seeds.packet, seeds.packet, seeds.screen])
    steps = [f"attachment of {source.name}"]
    with pikepdf.open(source) as pdf:
        steps.append(op_attachment(rng, pdf, seeds))
        if rng.random() < 0.3:
            _apply(rng, pdf, seeds, rng.choice([op_rating, op_value_type, op_name_tree]), steps)
        data = _save(rng, pdf, steps)
    return _pdf_case(rng, seeds, folder, data, steps)


def attachment_payload(rng: random.Random, seeds: Seeds) -> tuple[bytes, str]:
    """A replacement for an attached kit.yaml."""
    roll = rng.randrange(10)
    if roll == 0:
        size = rng.choice([0, 1, 100, 100_000])
        return bytes(rng.randrange(256) for _ in range(size)), f"{size} random bytes"
    if roll == 1:
        size = rng.choice([2, 10, 31]) * 1024 * 1024
        line = rng.choice(["# padding\n", "- x\n", "a" * 1000 + "\n"])
        head = "questions: [" + "1, " * (size // 3) + "1]\n" if rng.random() < 0.4 else line * (size // len(line))
        return head.encode(), f"{len(head) // 2**20} MB of YAML"
    if roll == 2:
        return (LAUGHS + "kit_id: *a8\n").encode(), "billion laughs"
    if roll == 3:
        depth = rng.choice([60, 65, 999, 5000])
        return ("kit_id: " + "[" * depth + "]" * depth + "\n").encode(), f"nested {depth} deep"
    if roll == 4:
        text = rng.choice(["[]", "- a\n- b", "'text'", "3", "~", "", "---\n---\n", "kit_id: 1a2b3c4d\n---\nb: 2"])
        return text.encode(), f"top level {text[:12]!r}"
    data, step = edit_manifest(rng, seeds)
    text, more = yaml_text(rng, data, mutate=rng.random() < 0.4)
    return text, f"{step}; {more}"


# YAML: sheets and manifests

def edit_manifest(rng: random.Random, seeds: Seeds) -> tuple[dict[str, Any], str]:
    """The seed manifest with one to three fields edited; its kit id kept (often refused) or recomputed."""
    from kit.manifest import digest

    data = copy.deepcopy(seeds.manifest)
    steps = []
    for _ in range(rng.randint(1, 3)):
        key = rng.choice([*data.keys(), "weights", "weights", "questions", "packets", "extra"])
        data, step = _edit_manifest_field(rng, seeds, data, key)
        steps.append(step)
    if rng.random() < 0.7:
        record = {k: v for k, v in data.items() if k != "kit_id"}
        try:
            data["kit_id"] = digest(_canonical(record))
            steps.append("kit id recomputed")
        except (TypeError, ValueError):
            steps.append("kit id kept (cannot recompute)")
    else:
        steps.append("kit id kept")
    return data, ", ".join(steps)


def _canonical(record: dict[str, Any]) -> dict[str, Any]:
    """What the strict model would dump, where it can: the id a printer would have written."""
    from kit.manifest import Manifest

    try:
        dumped = Manifest.model_validate({"kit_id": "00000000", **record}).model_dump(mode="json")
        dumped.pop("kit_id")
        return dumped
    except Exception:  # noqa: BLE001 - not a valid manifest: hash it as it is
        return record


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return list(value) if isinstance(value, list) else []


def _competency(rng: random.Random, seeds: Seeds) -> str:
    """A competency id: one the library lacks half the time, else one of the library's."""
    return rng.choice(["unknown-comp", "Vision", "vision-x"]) if rng.random() < 0.5 else rng.choice(seeds.competencies)


def _edit_manifest_field(rng: random.Random, seeds: Seeds, data: dict[str, Any], key: str
                         ) -> tuple[dict[str, Any], str]:
    weights = data.get("weights") if isinstance(data.get("weights"), dict) else {}
    if key == "extra":
        data[rng.choice(["extra", "kit-id", "Weights", "loop_id"])] = rng.choice(VALUES)
        return data, "an unknown key"
    if rng.random() < 0.25:
        if rng.random() < 0.2:
            data.pop(key, None)
            return data, f"no {key}"
        data[key] = rng.choice(VALUES)
        return data, f"{key} = {_short(data[key])}"
    if key == "weights":
        how = rng.randrange(8)
        if how == 0:
            data["weights"] = {**weights, _competency(rng, seeds): rng.choice([1, 2.5])}
        elif how == 1:
            data["weights"] = {_competency(rng, seeds): 1}
        elif how == 2:
            data["weights"] = {}
        elif how == 3 and weights:
            data["weights"] = {**weights, rng.choice(list(weights)): rng.choice([0, -1, 1000, 1001, 1e308, 1e-300, "3",
                                                                                  float("nan"), float("inf"), None, True])}
        elif how == 4:
            data["weights"] = {f"c{n}": 1 for n in range(rng.choice([100, 5000]))}
        elif how == 5 and weights:
            data["weights"] = {k.upper() if rng.random() < 0.5 else k: v for k, v in weights.items()}
        elif how == 6:
            data["weights"] = {c: 1.0 for c in rng.sample(seeds.competencies, min(3, len(seeds.competencies)))}
        else:
            data["weights"] = dict(reversed(list(weights.items())))
        return data, f"weights {_short(data['weights'])}"
    if key in ("questions", "prescreen"):
        current = _list(data, key)
        options = [[], ["unknown-q"], current + current[:1], list(seeds.questions[:40]), [f"q{n}" for n in range(10_000)],
                   [1] * rng.choice([10, 30_000]), current[:1], _list(data, "prescreen")]
        data[key] = rng.choice(options)
        return data, f"{key} {_short(data[key])}"
    if key == "packets":
        questions = _list(data, "questions")
        comps = list(weights)
        half = len(questions) // 2
        options = [
            [{"name": "interviewer", "stage": None, "competencies": comps, "questions": questions}],
            [{"name": "interviewer-1", "stage": "technical", "competencies": comps[:3], "questions": questions[:half]},
             {"name": "interviewer-2", "stage": "system-design", "competencies": comps[3:], "questions": questions[half:]}],
            [{"name": "interviewer-1", "stage": "a", "competencies": comps, "questions": questions},
             {"name": "interviewer-1", "stage": "a", "competencies": comps, "questions": questions}],
            [{"name": "bad name", "stage": "Stage!", "competencies": ["x"], "questions": ["y"]}],
            [{"name": "interviewer"}], [3], "packets",
        ]
        data["packets"] = rng.choice(options)
        if rng.random() < 0.5:
            data["loop"] = rng.choice(["1a2b3c4d", "ABCDEFGH", None, 3])
        return data, f"packets {_short(data['packets'])}"
    if key == "role":
        data["role"] = rng.choice([*seeds.roles, "unknown-role", "", "CV", "a" * 300])
    elif key == "level":
        data["level"] = rng.choice(["junior", "mid", "staff", "principal", "Senior", 3, ""])
    elif key == "seed":
        data["seed"] = rng.choice([-1, 0, 2**70, "1", 1.5, True])
    elif key in ("candidate", "interviewer", "date"):
        data[key] = rng.choice(TEXTS)
    elif key == "kit_id":
        data["kit_id"] = rng.choice(["00000000", "1a2b3c4d", "1A2B3C4D", "1a2b3c4", "1a2b3c4d0", 12345678, "zzzzzzzz"])
    elif key == "loop":
        data["loop"] = rng.choice(["1a2b3c4d", "ABCDEFGH", 3, ""])
    elif key == "kitgen":
        data["kitgen"] = rng.choice(["99.0", "", "0.0.0", None, 1.0])
    else:
        data[key] = rng.choice(VALUES)
    return data, f"{key} = {_short(data.get(key))}"


def gen_yaml(rng: random.Random, seeds: Seeds, folder: Path) -> Case:
    data = sheet_data(rng, seeds, seeds.manifest)
    steps = []
    for _ in range(rng.randint(0, 3)):
        steps.append(_edit_sheet(rng, seeds, data))
    text, more = yaml_text(rng, data, mutate=rng.random() < 0.5)
    steps.append(more)
    path = folder / rng.choice(["sheet.yaml", "sheet.yaml", "sheet.yml", "sheet.YAML"])
    path.write_bytes(text)
    return Case(0, "yaml", folder, [path], seeds.kit, steps)


def sheet_data(rng: random.Random, seeds: Seeds, manifest: dict[str, Any]) -> dict[str, Any]:
    """A good YAML score sheet for ``manifest``: one interviewer, or several under ``interviewers``."""
    if rng.random() < 0.15:
        return _points(manifest, seeds.most, rng)
    one = _sheet(manifest, rng.choice(seeds.labels), seeds.scale, rng)
    if rng.random() < 0.35:
        entries = []
        for name in rng.sample(["Grace", "Alan", "Kate", "Barbara"], rng.randint(1, 3)):
            entry = _sheet(manifest, rng.choice(seeds.labels), seeds.scale, rng)
            entries.append({"name": name, "recommendation": entry["recommendation"],
                            "justification": entry["justification"], "red_flags": [], "ratings": entry["ratings"]})
        return {"kit_id": one["kit_id"], "interviewers": entries}
    return one


def _edit_sheet(rng: random.Random, seeds: Seeds, data: dict[str, Any]) -> str:
    """One edit at a random place of the sheet: a value replaced, a key added, dropped or renamed."""
    holders = list(_holders(data))
    holder, key = rng.choice(holders)
    how = rng.randrange(10)
    if how < 3:
        holder[key] = rng.choice(VALUES)
        return f"{_path(key)} = {_short(holder[key])}"
    if how == 3 and isinstance(holder, dict):
        holder.pop(key, None)
        return f"drop {_path(key)}"
    if how == 4 and isinstance(holder, dict):
        new = rng.choice(["Interviewer", "rating", "ratings ", "red-flags", "kit-id", "name", "extra", "\u0430ratings",
                          "interviewer\x00", 3, None, True, 2.5])
        holder[new] = holder.pop(key) if rng.random() < 0.5 else rng.choice(VALUES)
        return f"key {_short(key)} -> {_short(new)}"
    if how == 5:
        target = data.get("points") if "points" in data else data.get("ratings")
        entries = data.get("interviewers")
        if isinstance(entries, list) and entries and isinstance(entries[0], dict):
            target = entries[0].get("ratings")
        if isinstance(target, dict):
            rid = rng.choice(["unknown-id", "Vision", "vision ", *seeds.questions[:5], *seeds.competencies, "", "c:vision",
                              *seeds.manifest["prescreen"][:2],
                              "x" * 300, "a\nb", "\x1b[31m", 3, None])
            target[rid] = rng.choice([rng.randint(-2, 7), *VALUES[:25]])
            if rng.random() < 0.15:
                for n in range(rng.choice([1000, 20_000])):
                    target[f"unknown-{n}"] = rng.choice([3, "x", None, 99])
            return f"rating {_short(rid)} = {_short(target[rid])}"
    if how == 6:
        data["recommendation"] = rng.choice([*seeds.labels, *(s.upper() for s in seeds.labels), *DIGITS, 0, 1, 4, 5, -1,
                                             10**30, 3.0, True, [], {}])
        return f"recommendation = {_short(data['recommendation'])}"
    if how == 7:
        data["red_flags"] = rng.choice([[seeds.manifest["questions"][0]], ["unknown-q"], "vis-x", 3, [3], [[]], [None],
                                        [0] * rng.choice([10, 20_000]), {"a": 1}, seeds.manifest["questions"]])
        return f"red_flags = {_short(data['red_flags'])}"
    if how == 8:
        data["kit_id"] = rng.choice(["00000000", seeds.manifest["kit_id"].upper(), seeds.manifest["kit_id"] + " ",
                                     12345678, int(seeds.manifest["kit_id"], 16), None, [], "1a2b3c4d"])
        return f"kit_id = {_short(data['kit_id'])}"
    entries = data.setdefault("interviewers", [])
    if not isinstance(entries, list):
        return "interviewers is not a list"
    choice = rng.randrange(6)
    if choice == 0 and entries:
        entries.append(copy.deepcopy(entries[0]))
        return "an interviewer given twice"
    if choice == 1:
        entries.append(rng.choice(VALUES))
        return "an interviewer of a wrong type"
    if choice == 2:
        entries.extend({"name": f"I{n}", "ratings": {"vision": 3}} for n in range(rng.choice([50, 5000])))
        return "many interviewers"
    if choice == 3:
        entries.append({"name": rng.choice(TEXTS), "ratings": {"vision": 2}})
        return "an interviewer with a hostile name"
    if choice == 4:
        data["interviewer"] = rng.choice(TEXTS)
        return "both forms"
    data["interviewers"] = []
    return "an empty interviewers list"


def _holders(data: Any, depth: int = 0) -> list[tuple[Any, Any]]:
    found: list[tuple[Any, Any]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            found.append((data, key))
            if depth < 3:
                found += _holders(value, depth + 1)
    elif isinstance(data, list):
        for n, value in enumerate(data[:20]):
            found.append((data, n))
            if depth < 3:
                found += _holders(value, depth + 1)
    if not found and isinstance(data, dict):
        return [(data, None)]
    return found


def _path(key: Any) -> str:
    return _short(key)


def yaml_text(rng: random.Random, data: Any, mutate: bool) -> tuple[bytes, str]:
    """``data`` as YAML text; with ``mutate``, with raw YAML, aliases, characters or bytes spliced in."""
    raw: dict[str, str] = {}
    steps = []
    block = rng.random() < 0.8
    if mutate:
        holders = [h for h in _holders(data) if isinstance(h[0], (dict, list)) and h[1] is not None]
        for _ in range(rng.randint(1, 3)):
            if not holders:
                break
            holder, key = rng.choice(holders)
            if rng.random() < 0.75 or not isinstance(holder, dict):
                snippet = rng.choice(RAW_VALUES)
                if "\n" in snippet and not block:
                    snippet = "'x'"
                mark = f"RAW{len(raw)}MARK"
                raw[mark] = snippet
                holder[key] = mark
                steps.append(f"raw value {snippet[:30]!r}")
            else:
                snippet = rng.choice(RAW_KEYS)
                mark = f"RAW{len(raw)}MARK"
                raw[mark] = snippet
                holder[mark] = holder.pop(key)
                steps.append(f"raw key {snippet[:30]!r}")
    try:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=rng.random() < 0.7,
                              default_flow_style=None if block else True, width=rng.choice([80, 10**6]))
    except yaml.YAMLError:  # a value PyYAML cannot write (a set inside a flow): write it with repr
        text = json.dumps(data, default=repr)
    for mark, snippet in raw.items():
        text = text.replace(mark, snippet)
    if mutate:
        for _ in range(rng.randint(0, 2)):
            text, step = rng.choice(TEXT_OPS)(rng, text)
            steps.append(step)
    encoding = "utf-8" if not mutate or rng.random() < 0.85 else rng.choice(ENCODINGS)
    body = text.encode(encoding, errors="surrogatepass" if encoding.startswith("utf") else "replace")
    if mutate and rng.random() < 0.2:
        body, step = _bytes_op(rng, body)
        steps.append(step)
    if encoding != "utf-8":
        steps.append(f"encoded {encoding}")
    return body, "; ".join(steps) or "as written"


def _laughs(rng: random.Random, text: str) -> tuple[str, str]:
    depth = rng.choice([4, 6, 7, 9])
    lines = text.splitlines(keepends=True)
    targets = [n for n, line in enumerate(lines) if ": " in line and not line.rstrip().endswith(":")]
    anchors = LAUGHS.splitlines(keepends=True)[:depth + 1]
    if targets:
        n = rng.choice(targets)
        head, _, _ = lines[n].partition(": ")
        lines[n] = f"{head}: *a{depth}\n"
    return "".join(anchors) + "".join(lines), f"aliases 9^{depth + 1} values"


def _nest(rng: random.Random, text: str) -> tuple[str, str]:
    depth = rng.choice([60, 64, 65, 200, 2000])
    lines = text.splitlines(keepends=True)
    targets = [n for n, line in enumerate(lines) if ": " in line]
    if not targets:
        return text + "deep: " + "[" * depth + "]" * depth + "\n", f"nested {depth} deep"
    n = rng.choice(targets)
    head, _, _ = lines[n].partition(": ")
    lines[n] = f"{head}: " + "[" * depth + "]" * depth + "\n"
    if rng.random() < 0.3:  # in block style: each level on its own line
        indent = "".join(f"{' ' * (2 * i)}- \n" for i in range(min(depth, 500)))
        lines[n] = f"{head}:\n{indent}"
    return "".join(lines), f"nested {depth} deep"


def _chars(rng: random.Random, text: str) -> tuple[str, str]:
    piece = rng.choice(["\x00", "\x07", "\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\ufeff", "\ud800", "\uffff", "\ue000",
                        "\t", "\r", "\r\n", "\\", "'", '"', "#", ":", "- ", "&", "*", "!", "|", ">", "%", "@", "`"])
    at = rng.randrange(len(text) + 1)
    return text[:at] + piece + text[at:], f"character {piece!r} at {at}"


def _huge(rng: random.Random, text: str) -> tuple[str, str]:
    size = rng.choice([20_001, 100_000, 3_900_000, 4 * 1024 * 1024 + 1, 40_000_000])
    how = rng.randrange(4)
    if how == 0:
        return text + "justification: " + "x" * size + "\n", f"justification of {size} characters"
    if how == 1:
        return text + "#" * size + "\n", f"a comment of {size} characters"
    if how == 2:
        return "x" * min(size, 5_000_000) + ": 1\n" + text, "a huge key"
    return text + "\n" * min(size, 5_000_000), "many blank lines"


def _duplicate_line(rng: random.Random, text: str) -> tuple[str, str]:
    lines = text.splitlines(keepends=True)
    if not lines:
        return text, "empty"
    n = rng.randrange(len(lines))
    lines.insert(n, lines[n])
    return "".join(lines), f"line {n + 1} given twice"


def _line_ending(rng: random.Random, text: str) -> tuple[str, str]:
    ending = rng.choice(["\r\n", "\r", "\u2028", "\x85", "\n\n"])
    return text.replace("\n", ending), f"line endings {ending!r}"


def _tabs(rng: random.Random, text: str) -> tuple[str, str]:
    return text.replace("  ", "\t", rng.randint(1, 3)), "tabs for indents"


def _documents(rng: random.Random, text: str) -> tuple[str, str]:
    return rng.choice(["---\n" + text + "...\n---\n" + text, "%YAML 1.1\n---\n" + text, "%YAML 9.9\n---\n" + text,
                       "%TAG ! tag:evil.com,2000:\n---\n" + text, text + "---\n", "", "---\n", "~\n", "# only a comment\n"]), \
        "document markers"


def _truncate_text(rng: random.Random, text: str) -> tuple[str, str]:
    at = rng.randrange(len(text) + 1)
    return text[:at], f"cut at {at}"


TEXT_OPS = [_laughs, _nest, _chars, _chars, _huge, _duplicate_line, _line_ending, _tabs, _documents, _truncate_text]


def _bytes_op(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    body = bytearray(data)
    how = rng.randrange(4)
    if how == 0:
        step = _flip(rng, body)
    elif how == 1:
        at = rng.randrange(len(body) + 1)
        body[at:at] = rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\x00"])
        step = f"invalid UTF-8 at {at}"
    elif how == 2:
        body[0:0] = rng.choice([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf\xef\xbb\xbf"])
        step = "a byte order mark"
    else:
        step = _truncate(rng, body)
    return bytes(body), step


# CSV

def gen_csv(rng: random.Random, seeds: Seeds, folder: Path) -> Case:
    names = tuple(rng.sample(["Grace", "Alan", "Kate"], rng.randint(1, 3)))
    rows = _csv_rows(seeds.manifest, list(seeds.labels), seeds.scale, rng, names)
    if rng.random() < 0.3:
        rows = [row[:3] for row in rows]
    steps = []
    for _ in range(rng.randint(1, 4)):
        steps.append(rng.choice(CSV_OPS)(rng, seeds, rows))
    text = _csv_text(rows, rng)
    body = text.encode("utf-8", errors="surrogatepass")
    if rng.random() < 0.15:
        encoding = rng.choice(ENCODINGS)
        body = text.encode(encoding, errors="surrogatepass" if encoding.startswith("utf") else "replace")
        steps.append(f"encoded {encoding}")
    if rng.random() < 0.15:
        body, step = _bytes_op(rng, body)
        steps.append(step)
    path = folder / rng.choice(["sheet.csv", "sheet.csv", "sheet.CSV"])
    path.write_bytes(body)
    return Case(0, "csv", folder, [path], seeds.kit, steps)


def _csv_text(rows: list[list[str]], rng: random.Random, plain: bool = False) -> str:
    if plain or rng.random() < 0.8:
        buffer = io.StringIO()
        quoting = csv.QUOTE_MINIMAL if plain else rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC])
        writer = csv.writer(buffer, quoting=quoting, lineterminator="\n" if plain else rng.choice(["\n", "\r\n", "\r"]))
        for row in rows:
            writer.writerow(row)
        return buffer.getvalue()
    separator = rng.choice([",", ";", "\t", ", ", "|"])
    return "".join(separator.join(row) + rng.choice(["\n", "\r\n"]) for row in rows)


def _csv_header(rng: random.Random, seeds: Seeds, rows: list[list[str]]) -> str:
    how = rng.randrange(7)
    if not rows or not rows[0]:
        rows.insert(0, ["interviewer", "id", "rating"])
    header = rows[0]
    if how == 0:
        rows[0] = [h.upper() for h in header]
    elif how == 1:
        rows[0] = [f" {h} " for h in header]
    elif how == 2:
        del header[rng.randrange(len(header))]
    elif how == 3:
        header.append(rng.choice(["interviewer", "id", "extra", "", "rating"]))
    elif how == 4:
        rng.shuffle(header)
    elif how == 5:
        del rows[0]
    else:
        rows[0] = ["\ufeffinterviewer", *header[1:]]
    return f"header {rows[0][:5] if rows else []}"


def _csv_row(rng: random.Random, seeds: Seeds, rows: list[list[str]]) -> str:
    if len(rows) < 2:
        rows.append(["Grace", "vision", "3"])
    row = rows[rng.randrange(1, len(rows))]
    if not row:
        row.extend(["Grace", "vision", "3"])
    how = rng.randrange(6)
    if how == 0:
        row.extend(rng.choice(TEXTS) for _ in range(rng.randint(1, 5)))
        return "a row with extra fields"
    if how == 1:
        del row[rng.randrange(len(row)):]
        return "a row with missing fields"
    if how == 2:
        rows.insert(rng.randrange(1, len(rows) + 1), [])
        return "an empty row"
    if how == 3:
        row[0] = rng.choice(["", " ", "\x00", "Grace\n", "=cmd", "x" * 300, "Grace ", "grace"])
        return f"interviewer {row[0][:12]!r}"
    if how == 4:
        row[rng.randrange(len(row))] = rng.choice(TEXTS + DIGITS)
        return "a hostile cell"
    rows.insert(rng.randrange(1, len(rows) + 1), [r for r in row])
    return "a row given twice"


def _csv_rating(rng: random.Random, seeds: Seeds, rows: list[list[str]]) -> str:
    targets = [row for row in rows[1:] if len(row) >= 3]
    if not targets:
        return "no rating to edit"
    row = rng.choice(targets)
    row[2] = rng.choice(DIGITS + [str(n) for n in range(-1, 7)])
    if rng.random() < 0.3:
        row[1] = rng.choice(["recommendation", "justification", "red_flag", "unknown-id", "Vision", "c:vision", "",
                             *seeds.questions[:3], *seeds.competencies])
    return f"{row[1][:20]} rated {row[2][:12]!r}"


def _csv_huge(rng: random.Random, seeds: Seeds, rows: list[list[str]]) -> str:
    how = rng.randrange(4)
    if how == 0:
        size = rng.choice([20_001, 131_072, 131_073, 1_000_000])
        rows.append(["Grace", "justification", "x" * size if rng.random() < 0.5 else "", "y" * size])
        return f"a field of {size} characters"
    if how == 1:
        rows.extend(["Grace", f"unknown-{n}", "3"] for n in range(rng.choice([1000, 50_000])))
        return "many unknown ids"
    if how == 2:
        rows.extend([f"I{n}", "vision", "3"] for n in range(rng.choice([100, 5000])))
        return "many interviewers"
    rows.extend(["Grace", "red_flag", "unknown-q"] for _ in range(rng.choice([100, 10_000])))
    return "many red flags"


def _csv_quote(rng: random.Random, seeds: Seeds, rows: list[list[str]]) -> str:
    if len(rows) < 2:
        rows.append(["Grace", "vision", "3"])
    row = rows[rng.randrange(len(rows))]
    if not row:
        row.append("")
    row[rng.randrange(len(row))] = rng.choice(['"unclosed', 'a"b', '"', '""', '"3"', "\x00", "a\x00b", "\r", "a\nb",
                                               "\u2028", "'3'"])
    return f"quote or control characters in row {rows.index(row) + 1}"


CSV_OPS = [_csv_header, _csv_row, _csv_row, _csv_rating, _csv_rating, _csv_rating, _csv_huge, _csv_quote]


# Manifests

def gen_manifest(rng: random.Random, seeds: Seeds, folder: Path) -> Case:
    data, step = edit_manifest(rng, seeds)
    text, more = yaml_text(rng, copy.deepcopy(data), mutate=rng.random() < 0.3)
    steps = [f"kit.yaml: {step}; {more}"]
    kit_folder = folder / "kit"
    kit_folder.mkdir()
    (kit_folder / MANIFEST).write_bytes(text)
    kit: Path = kit_folder if rng.random() < 0.6 else kit_folder / MANIFEST
    roll = rng.random()
    if roll < 0.03:
        (kit_folder / MANIFEST).unlink()
        (kit_folder / MANIFEST).mkdir()
        steps.append("kit.yaml is a folder")
    elif roll < 0.06:
        kit = folder / "missing"
        steps.append("--kit names nothing")
    inputs: list[Path] = []
    template = rng.random() < 0.2  # score --template: the blank sheet of the edited manifest
    which = rng.choice(["yaml", "yaml", "yaml", "csv", "pdf"])
    if which == "yaml":
        sheet = sheet_data(rng, seeds, data if isinstance(data, dict) else seeds.manifest)
        path = folder / "sheet.yaml"
        path.write_text(yaml.safe_dump(sheet, sort_keys=False, allow_unicode=True), encoding="utf-8")
    elif which == "csv":
        path = folder / "sheet.csv"
        path.write_text(_csv_text(_csv_rows(data if isinstance(data, dict) else seeds.manifest, list(seeds.labels),
                                            seeds.scale, rng), rng, plain=True), encoding="utf-8")
    else:
        path = folder / "packet.pdf"
        shutil.copyfile(seeds.packet, path)
    inputs.append(path)
    steps.append("--template" if template else f"scored with a {which} input")
    return Case(0, "manifest", folder, inputs, kit, steps, template)


GENERATORS = {"pdf-bytes": gen_pdf_bytes, "pdf-struct": gen_pdf_struct, "pdf-attach": gen_pdf_attach, "yaml": gen_yaml,
              "csv": gen_csv, "manifest": gen_manifest}


def _short(value: Any, limit: int = 40) -> str:
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in repr(value))  # pikepdf's repr keeps controls
    return text if len(text) <= limit else f"{text[:limit]}...({len(text)} chars)"


# --- Running a case ---------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one case did: end to end, and reader by reader."""

    index: int
    kind: str
    steps: list[str]
    args: list[str] = field(default_factory=list)
    status: str = ""  # scored | refused | traceback | malformed | slow | crashed | generator
    seconds: float = 0.0
    score_seconds: float = 0.0  # of which end to end (the rest: each reader on its own)
    error_lines: int = 0
    longest_line: int = 0
    partial: list[str] = field(default_factory=list)  # files left in --out by a refusal, or temporary files
    changed: list[str] = field(default_factory=list)  # inputs that were changed
    failures: list[dict[str, str]] = field(default_factory=list)  # {where, signature, detail}

    @property
    def failed(self) -> bool:
        return bool(self.failures or self.partial or self.changed)


def run_case(case: Case, library: Any, manifest: Any, scored: Any = None) -> Outcome:
    """Score ``case`` end to end, then read it with each reader; everything that went wrong is in the outcome."""
    from click.testing import CliRunner

    from kit.cli import cli

    outcome = Outcome(case.index, case.kind, case.steps, case.args())
    before = {str(p): _hash(p) for p in case.inputs}
    start = time.perf_counter()
    result = CliRunner().invoke(cli, case.args())
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        outcome.status = "traceback"
        outcome.failures.append(_traceback("score", result.exc_info))
    elif result.exit_code == 0:
        outcome.status = "scored"
    else:
        lines = result.stderr.splitlines()
        outcome.error_lines = len(lines)
        outcome.longest_line = max((len(line) for line in lines), default=0)
        if result.exit_code == 2 and lines and all(line.startswith("Error: ") for line in lines):
            outcome.status = "refused"
        else:
            outcome.status = "malformed"
            outcome.failures.append({"where": "score", "kind": "malformed", "signature": f"exit {result.exit_code}: "
                                     f"{_first_bad(lines)[:100]}", "detail": result.stderr[-3000:]})
    outcome.score_seconds = time.perf_counter() - start
    if scored is not None:
        scored()  # the readers on their own get a time cap of their own
    if case.out.exists():
        left = sorted(str(p.relative_to(case.out)) for p in case.out.rglob("*") if p.is_file())
        temporary = [name for name in left if Path(name).name.startswith(".") or name.endswith(".part")]
        outcome.partial = left if outcome.status != "scored" else temporary
    outcome.changed = [name for name, digest in before.items() if _hash(Path(name)) != digest]
    outcome.failures += read_each(case, library, manifest)
    outcome.seconds = time.perf_counter() - start
    return outcome


def read_each(case: Case, library: Any, manifest: Any) -> list[dict[str, str]]:
    """Each reader on its own: it returns or raises KitgenError (with a well-formed message)."""
    from kit import pdfread
    from kit.manifest import read_manifest
    from kit.sheets import Reader

    failures: list[dict[str, str]] = []

    def attempt(where: str, call: Any) -> Any:
        from kit.errors import KitgenError

        try:
            return call()
        except KitgenError as exc:
            lines = exc.format_message().splitlines()
            if not lines or any(not line.strip() for line in lines):
                failures.append({"where": where, "kind": "malformed", "signature": f"{where}: malformed error",
                                 "detail": exc.format_message()})
        except Exception:  # noqa: BLE001 - these are what the fuzzer is looking for
            failures.append(_traceback(where, sys.exc_info()))
        return None

    if case.kit is not None:
        manifest = attempt("read_manifest(--kit)", lambda: read_manifest(case.kit)) or manifest
    for path in case.inputs:
        if path.suffix.lower() == ".pdf":
            attempt("read_manifest(pdf)", lambda path=path: read_manifest(path))
            attempt("form_values", lambda path=path: pdfread.form_values(path))
            attempt("attachment", lambda path=path: pdfread.attachment(path, MANIFEST))
            attempt("printed_id", lambda path=path: pdfread.printed_id(path))
        attempt("Reader.read", lambda path=path: Reader(manifest, library).read(path))
    return failures


def _traceback(where: str, exc_info: Any) -> dict[str, str]:
    kind, value, tb = exc_info
    frames = traceback.extract_tb(tb)
    own = [f for f in frames if f"{os.sep}kit{os.sep}" in f.filename]
    place = own[-1] if own else frames[-1] if frames else None
    at = f"{Path(place.filename).name}:{place.lineno} in {place.name}" if place else "?"
    inner = f" (raised in {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames and place is not frames[-1] else ""
    return {"where": where, "kind": "traceback", "signature": f"{kind.__name__} at {at}{inner}",
            "detail": "".join(traceback.format_exception(kind, value, tb))[-6000:]}


def _first_bad(lines: list[str]) -> str:
    return next((line for line in lines if not line.startswith("Error: ")), "(no message)")


def _hash(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "-"
    except OSError:
        return "?"


# --- Workers: each case in a process of its own, killed when it is too slow ----------------------------------


def _quiet() -> None:
    import logging
    import warnings

    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)


def make_case(index: int, seed: int, seeds: Seeds, work: Path) -> Case | Outcome:
    """Case ``index`` in its folder under ``work``, or the outcome of a generator that failed."""
    folder = work / "cases" / str(index)
    shutil.rmtree(folder, ignore_errors=True)
    try:
        return generate(index, seed, seeds, folder)
    except Exception:  # noqa: BLE001 - a bug in the fuzzer, not in kitgen
        outcome = Outcome(index, kind_of(seed, index), [], status="generator")
        outcome.failures.append(_traceback("generate", sys.exc_info()))
        return outcome


def fuzz_one(index: int, seed: int, seeds: Seeds, work: Path, library: Any, manifest: Any) -> Outcome:
    """Make case ``index`` and run it, in this process (no time cap)."""
    case = make_case(index, seed, seeds, work)
    return case if isinstance(case, Outcome) else run_case(case, library, manifest)


def _worker(conn: Any, seed: int, seeds: Seeds, work: Path, memory_mb: int) -> None:
    os.chdir(work)  # no ./kitgen.yaml of the caller's is picked up
    log = os.open(work / "worker-stderr.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(log, 2)  # C libraries' warnings
    if memory_mb:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
    _quiet()
    from kit.manifest import read_manifest
    from kit.validate import load_library

    library = load_library()
    manifest = read_manifest(seeds.kit)
    conn.send("ready")
    while (index := conn.recv()) is not None:
        case = make_case(index, seed, seeds, work)
        if isinstance(case, Case):
            conn.send(("generated", case.steps, case.args()))  # the time cap starts now: making a case is not kitgen's
            case = run_case(case, library, manifest, lambda: conn.send(("scored",)))
        conn.send(case)


class Pool:
    """``jobs`` worker processes; a case that runs past ``timeout`` has its worker killed and replaced."""

    def __init__(self, jobs: int, seed: int, seeds: Seeds, work: Path, timeout: float, memory_mb: int) -> None:
        import multiprocessing

        self.context = multiprocessing.get_context("spawn")
        self.args = (seed, seeds, work, memory_mb)
        self.timeout = timeout
        self.todo: list[int] = []
        self.retried: set[int] = set()  # cases whose worker died once: run again in a fresh worker
        self.workers = [self._start() for _ in range(jobs)]

    def _start(self) -> dict[str, Any]:
        parent, child = self.context.Pipe()
        process = self.context.Process(target=_worker, args=(child, *self.args), daemon=True)
        process.start()
        child.close()
        return {"process": process, "conn": parent, "ready": False, "index": None, "deadline": 0.0, "started": 0.0,
                "phase": "generator"}

    def run(self, indexes: list[int], done: Any) -> None:
        from multiprocessing.connection import wait

        self.todo = todo = list(reversed(indexes))
        while todo or any(w["index"] is not None for w in self.workers):
            for worker in self.workers:
                if worker["ready"] and worker["index"] is None and todo:
                    worker["index"] = todo.pop()
                    worker["started"] = time.perf_counter()
                    worker["deadline"] = worker["started"] + GENERATION_TIMEOUT
                    worker["phase"] = "generator"
                    worker["steps"], worker["args"] = [], []
                    worker["conn"].send(worker["index"])
            busy = [w for w in self.workers if w["index"] is not None]
            limit = min((w["deadline"] for w in busy), default=time.perf_counter() + 60) - time.perf_counter()
            ready = wait([w["conn"] for w in self.workers], timeout=max(0.0, limit))
            for n, worker in enumerate(self.workers):
                if worker["conn"] in ready:
                    try:
                        message = worker["conn"].recv()
                    except Exception as exc:  # noqa: BLE001 - the worker died, or its message is unreadable
                        worker["error"] = repr(exc)[:200]
                        self._replace(n, "crashed", done)
                        continue
                    if message == "ready":
                        worker["ready"] = True
                    elif isinstance(message, tuple) and message[0] == "generated":
                        worker["steps"], worker["args"] = message[1], message[2]
                        worker["started"] = time.perf_counter()
                        worker["deadline"] = worker["started"] + self.timeout
                        worker["phase"] = "slow"
                    elif isinstance(message, tuple):  # scored: now the readers, one by one
                        worker["deadline"] = time.perf_counter() + self.timeout
                        worker["phase"] = "slow readers"
                    else:
                        worker["index"] = None
                        done(message)
                elif worker["index"] is not None and time.perf_counter() > worker["deadline"]:
                    self._replace(n, worker["phase"], done)

    def _replace(self, n: int, status: str, done: Any) -> None:
        worker = self.workers[n]
        process = worker["process"]
        if process.is_alive():
            process.kill()  # this pool's own worker, by its process id
        process.join()
        if status == "crashed" and worker["phase"] == "generator":
            status = "generator"  # pikepdf died making the case: not kitgen's doing
        where = "the readers on their own" if status == "slow readers" else "kitgen score"
        status = "slow" if status == "slow readers" else status
        if status == "crashed" and worker["index"] is not None and worker["index"] not in self.retried:
            self.retried.add(worker["index"])  # once more, alone in a fresh worker: was it the input?
            self.todo.append(worker["index"])
            worker["index"] = None
        if worker["index"] is not None:
            outcome = Outcome(worker["index"], kind_of(self.args[0], worker["index"]), worker.get("steps", []),
                              worker.get("args", []), status=status, seconds=time.perf_counter() - worker["started"])
            detail = (f"{where} over {self.timeout:g} s" if status == "slow" else
                      f"making the case failed or took over {GENERATION_TIMEOUT} s" if status == "generator" else
                      f"worker died twice (exit code {process.exitcode}, {worker.get('error')})")
            outcome.failures.append({"where": "worker", "kind": status, "signature": f"{status}: {detail}", "detail": detail})
            done(outcome)
        elif status == "crashed":
            raise RuntimeError(f"a fuzz worker died before its first case (exit code {process.exitcode}); "
                               "see worker-stderr.log in the work folder")
        self.workers[n] = self._start()

    def close(self) -> None:
        for worker in self.workers:
            try:
                worker["conn"].send(None)
            except (BrokenPipeError, OSError):
                pass
        for worker in self.workers:
            worker["process"].join(timeout=10)
            if worker["process"].is_alive():
                worker["process"].kill()


# --- The run ------------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """Counts over a run, and the failing outcomes."""

    count: int = 0
    status: Counter[str] = field(default_factory=Counter)
    by_kind: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    partial: int = 0
    changed: int = 0
    reader_tracebacks: int = 0
    long_errors: int = 0  # refusals of more than 20 lines, or a line over 1000 characters
    failed: list[Outcome] = field(default_factory=list)
    retried: int = 0  # cases run again because their worker died (the count of crashed is of the second deaths)
    every: list[Outcome] | None = None  # every outcome, when asked for (--only)
    slowest: list[tuple[float, int, str]] = field(default_factory=list)
    seconds: Counter[str] = field(default_factory=Counter)  # per kind

    def add(self, outcome: Outcome) -> None:
        self.count += 1
        if self.every is not None:
            self.every.append(outcome)
        traceback_here = any(f["kind"] == "traceback" and f["where"] not in ("score", "generate") for f in outcome.failures)
        self.status[outcome.status] += 1
        self.by_kind[outcome.kind][outcome.status] += 1
        self.seconds[outcome.kind] += outcome.seconds
        self.partial += bool(outcome.partial)
        self.changed += bool(outcome.changed)
        self.reader_tracebacks += traceback_here
        self.long_errors += outcome.status == "refused" and (outcome.error_lines > 20 or outcome.longest_line > 1000)
        if outcome.failed or outcome.status in ("slow", "crashed", "generator"):
            self.failed.append(outcome)
        self.slowest = sorted([*self.slowest, (outcome.seconds, outcome.index, outcome.kind)], reverse=True)[:5]

    @property
    def tracebacks(self) -> int:
        """Cases with any exception other than kitgen's own error, end to end or from a reader."""
        return sum(1 for o in self.failed if any(f["kind"] == "traceback" and f["where"] != "generate" for f in o.failures))

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (f"{self.count} inputs: {self.status['scored']} scored, {self.status['refused']} refused with an error, "
                f"{self.tracebacks} tracebacks, {self.partial} partial outputs")

    def details(self) -> str:
        return (f"  end to end: {self.status['traceback']} tracebacks, {self.status['malformed']} malformed errors; "
                f"{self.reader_tracebacks} cases with a reader's traceback; {self.status['slow']} slow, "
                f"{self.status['crashed']} crashed ({self.retried} retried), {self.changed} inputs changed, {self.status['generator']} generator "
                f"errors; {self.long_errors} refusals over 20 lines or 1000 characters")


def fuzz(count: int, seed: int, work: Path, keep: Path | None = None, jobs: int = 2, timeout: float = 10.0,
         memory_mb: int = 6000, only: list[int] | None = None, progress: Any = None, seeds: Seeds | None = None
         ) -> Tally:
    """Make the seeds in ``work`` (unless given), run cases ``0..count-1`` (or ``only``) of run ``seed``, and
    tally them."""
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KITGEN_CACHE_DIR", str(work / "cache"))
    seeds = seeds or make_seeds(work / "seeds")
    tally = Tally(every=[] if only is not None else None)
    started = time.perf_counter()
    indexes = only if only is not None else list(range(count))

    def done(outcome: Outcome) -> None:
        tally.add(outcome)
        folder = work / "cases" / str(outcome.index)
        if keep is not None and (outcome.failed or outcome.status in ("slow", "crashed")):
            kept = keep / f"{outcome.index:05d}-{outcome.kind}"
            shutil.rmtree(kept, ignore_errors=True)
            if folder.exists():
                shutil.copytree(folder, kept, ignore=shutil.ignore_patterns("out"))
            kept.mkdir(parents=True, exist_ok=True)
            (kept / "case.json").write_text(json.dumps({**asdict(outcome), "seed": seed}, indent=2, default=str) + "\n")
            (kept / "traceback.txt").write_text("\n\n".join(f"[{f['where']}] {f['signature']}\n{f['detail']}"
                                                            for f in outcome.failures) + "\n")
        shutil.rmtree(folder, ignore_errors=True)
        if progress and tally.count % 100 == 0:
            progress(f"  {tally.count}/{len(indexes)} in {time.perf_counter() - started:.0f} s: {tally.summary()}")

    pool = Pool(max(1, jobs), seed, seeds, work, timeout, memory_mb)
    try:
        pool.run(indexes, done)
        tally.retried = len(pool.retried)
    finally:
        pool.close()
    return tally


def report(tally: Tally, keep: Path | None, shown: int = 5) -> str:
    """The failures grouped by where they were raised: how many, which cases, the first traceback."""
    groups: dict[str, list[tuple[Outcome, dict[str, str]]]] = defaultdict(list)
    for outcome in tally.failed:
        for failure in outcome.failures:
            groups[failure["signature"]].append((outcome, failure))
        if outcome.partial:
            groups["partial output"].append((outcome, {"where": "score", "signature": "partial output",
                                                       "detail": ", ".join(outcome.partial[:10])}))
        if outcome.changed:
            groups["input changed"].append((outcome, {"where": "score", "signature": "input changed",
                                                      "detail": ", ".join(outcome.changed)}))
    lines = []
    for n, (signature, hits) in enumerate(sorted(groups.items(), key=lambda item: -len(item[1]))):
        cases = sorted({o.index for o, _ in hits})
        wheres = sorted({f["where"] for _, f in hits})
        lines.append(f"\n== {signature}: {len(cases)} cases (in {', '.join(wheres)}); cases {cases[:8]}")
        if n < shown:
            outcome, failure = hits[0]
            lines.append(f"   case {outcome.index} ({outcome.kind}): {'; '.join(outcome.steps)[:400]}")
            lines.append(f"   kitgen {' '.join(outcome.args)[:300]}")
            if keep is not None:
                lines.append(f"   kept in {keep / f'{outcome.index:05d}-{outcome.kind}'}")
            lines += ["   " + line for line in failure["detail"].rstrip().splitlines()[-14:]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds a case may take before it counts as slow")
    parser.add_argument("--memory", type=int, default=6000, help="MB of address space for each worker (0: no limit)")
    parser.add_argument("--keep", type=Path, default=Path(tempfile.gettempdir()) / "kitgen-fuzz-failures",
                        help="where the inputs of failing cases are kept")
    parser.add_argument("--only", type=int, action="append", help="run only this case (repeatable)")
    options = parser.parse_args()

    options.keep.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kitgen-fuzz-") as tmp:
        started = time.perf_counter()
        tally = fuzz(options.count, options.seed, Path(tmp), options.keep, options.jobs, options.timeout, options.memory,
                     options.only, progress=lambda line: print(line, file=sys.stderr, flush=True))
        elapsed = time.perf_counter() - started
    print(tally.summary())
    print(tally.details())
    print(f"  seed {options.seed}, {elapsed:.0f} s; by kind: " + ", ".join(
        f"{kind} {sum(c.values())} ({c['scored']} scored, {tally.seconds[kind] / sum(c.values()):.2f} s each)"
        for kind, c in sorted(tally.by_kind.items())))
    print("  slowest: " + ", ".join(f"case {i} ({k}) {s:.1f} s" for s, i, k in tally.slowest))
    for outcome in tally.every or []:
        print(f"  case {outcome.index} ({outcome.kind}): {outcome.status} in {outcome.seconds:.1f} s "
              f"(kitgen score {outcome.score_seconds:.1f} s): {'; '.join(outcome.steps)[:600]}")
    if tally.failed:
        print(report(tally, options.keep, shown=50 if options.only else 8))
        print(f"\nfailing inputs kept in {options.keep}; replay one with --seed {options.seed} --only N")
    raise SystemExit(0 if tally.ok else 1)


if __name__ == "__main__":
    main()
