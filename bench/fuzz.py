"""Fuzz kitgen as an attacker would, one figure per surface: what went wrong, counted.

Run:  .venv/bin/python bench/fuzz.py [--surfaces roster,cache,templates,layers] [--count 1000] [--seed 1]
      .venv/bin/python bench/fuzz.py --surfaces templates --seed 1 --only 123   # replay one case

Surfaces (each gets ``--count`` generated cases, made alike from ``--seed`` and the case's number):

* ``roster``: roster CSVs for ``kitgen batch`` (names alike but for case, punctuation, NFC/NFD
  accents or what follows the 60th character; names without letters, with control or bidi
  characters, 4-byte letters, formulas; exact repeats; roles, levels and stages that are paths or
  unknown; seeds of thousands of digits, other scripts' digits, negatives; missing, extra and renamed
  columns, BOMs, latin-1 and UTF-16 bytes, empty files, huge fields, broken quoting) through
  ``read_roster`` and ``check_roster``. A roster must give rows or raise KitgenError with one line per
  problem, each starting with the roster's path (and ``:LINE:`` when a row is at fault). Every accepted
  roster's folders are written once by ``output.write_kit`` (what a batch does with them), and every
  ``--batch-every``-th accepted roster (cut to two rows) runs a real ``kitgen batch --workers 1`` into a
  folder of sentinels (another candidate's kit where a row's kit goes, a folder with a foreign file, a
  file, symbolic links out, someone's files named like kitgen's temporary ones) whose bytes must not
  change and where no hidden leftover may remain.
* ``cache``: ``KITGEN_CACHE_DIR`` filled by one load, then hostile files planted (random bytes, altered
  marshal data with the old tag, no tag or another cache's key, entries copied from a cache with another
  key or under another name, truncated and oversized entries, folders, FIFOs and symbolic links where an
  entry or the ``key`` should be, wrong keys, world-writable and foreign-owned files, Jinja bytecode
  files that would create MARKER) and the library reloaded, ``kitgen list`` run and a kit rendered:
  everything must equal an uncached run and MARKER must never appear.
* ``templates``: a team layer (``kit.scaffold``) whose ``interviewer.html`` extends kitgen's and fills
  ``{% block howto %}`` with generated payloads (sandbox escapes through dunders, ``attr``, ``format``,
  globals such as ``cycler`` and ``lipsum``, pydantic's API, mutation, huge values, includes of files
  outside the folders and through links, syntax errors; some only under a condition) that try to create
  MARKER. Rendering must give pages or a KitgenError naming the template's file and line; every
  ``--check-every``-th case runs ``kitgen check``, which must report a template whose render fails, and
  every ``--cli-every``-th runs ``kitgen --format html`` through the CLI.
* ``layers``: a small hostile team layer (bank, rubric, role) and candidate name through load →
  validate → select → render; every ``--pdf-every``-th is printed and written too.

Counted per surface: tracebacks (any exception but KitgenError, or a worker that died), code run
(MARKER created), files overwritten or lost (sentinels changed), partial files (hidden leftovers), and
other failures, broken down below the table: malformed error messages, an accepted roster whose rows
share a folder or name one outside ``--out`` (unsafe folder), a cached load that differs from an uncached
one (stale data), a template that reads a file outside its folders (file read), ``kitgen check`` calling
a template clean whose render fails (check missed), fetch attempts, and cases over their time budget
(slow) or using over ``--huge-mb`` of memory (huge). All but ``cases`` must be 0; the exit status is 1
otherwise. The first failures of each kind are printed with the input that caused them.

Each surface runs in its own process (``--jobs`` at a time, default 2); a case that hangs is killed after
its timeout and counted as slow, and the surface goes on from the next case. ``--count 1000`` takes about
two minutes on two cores.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import marshal
import os
import random
import re
import shutil
import signal
import stat
import sys
import tempfile
import time
import traceback
import unicodedata
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SURFACES = ("roster", "cache", "templates", "layers")
COLUMNS = {"traceback": "tracebacks", "code run": "code run", "overwritten": "overwritten/lost",
           "partial": "partial files"}  # every other failure kind goes to "other"
LEFTOVER = re.compile(r"\..+\.(new|old)-\w{8}|.*\.part|\.kitgen-probe-\w{8}|\.kitgen\.lock")


@dataclass
class Options:
    count: int = 1000
    seed: int = 1
    jobs: int = 2
    batch_every: int = 50  # accepted rosters per real ``kitgen batch`` (0: never)
    check_every: int = 20  # template cases per ``kitgen check``
    cli_every: int = 100  # template cases per ``kitgen --format html`` through the CLI (0: never)
    pdf_every: int = 100  # layer cases per printed kit
    huge_mb: int = 1024  # memory one case may add before it counts as huge
    memory_mb: int = 4096  # address space of a worker (a runaway allocation becomes MemoryError)
    work: str | None = None  # folder for the cases (default: a temporary one)


# --- Outcomes and tallies ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one case did: its status, and each failure with the text that shows it."""

    status: str = "?"
    failures: list[tuple[str, str]] = field(default_factory=list)  # (kind, detail)
    notes: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    memory_mb: int = 0

    def fail(self, kind: str, detail: str, times: int = 1) -> None:
        self.failures += [(kind, detail)] * times

    def traceback(self, step: str, input_text: str = "") -> None:
        self.fail("traceback", f"in {step}:\n{_clip(traceback.format_exc(limit=-8), 3000)}"
                               + (f"\n(also: {input_text})" if input_text else ""))


@dataclass
class Tally:
    surface: str
    cases: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    notes: Counter = field(default_factory=Counter)
    examples: dict[str, list[tuple[int, str, str]]] = field(default_factory=dict)
    seconds: float = 0.0
    slowest: list[tuple[float, int, str]] = field(default_factory=list)

    def add(self, index: int, described: str, outcome: Outcome) -> None:
        self.cases += 1
        self.statuses[outcome.status] += 1
        self.slowest = sorted([*self.slowest, (outcome.seconds, index, described)], reverse=True)[:5]
        self.notes.update(outcome.notes)
        for kind, detail in outcome.failures:
            self.failures[kind] += 1
            shown = self.examples.setdefault(kind, [])
            if len(shown) < 10 and all(i != index for i, _, _ in shown):
                shown.append((index, described, detail))

    def column(self, name: str) -> int:
        if name == "other":
            return sum(n for kind, n in self.failures.items() if kind not in COLUMNS)
        return sum(n for kind, n in self.failures.items() if COLUMNS.get(kind) == name)

    @property
    def failed(self) -> int:
        return sum(self.failures.values())


@dataclass
class Case:
    index: int
    described: str  # the input, as shown in the report (truncated)
    data: Any
    timeout: float = 30.0  # seconds before the worker is killed and the case counted as slow
    budget: float | None = 10.0  # seconds before the case counts as slow (None: not timed)


def _clip(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… [{len(text) - limit} more characters]"


def _shown(value: Any, limit: int = 600) -> str:
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return _clip(repr(value), limit)


# --- Files: hashes, sentinels and leftovers ----------------------------------------------------------------


def fingerprint(path: Path) -> Any:
    """What ``path`` holds, without following links: bytes' hash, a link's target, a folder's entries."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        return ("link", os.readlink(path))
    if stat.S_ISDIR(info.st_mode):
        return ("dir", tuple((child.name, fingerprint(child)) for child in sorted(path.iterdir())))
    if stat.S_ISREG(info.st_mode):
        return ("file", hashlib.sha256(path.read_bytes()).hexdigest())
    return ("other", stat.S_IFMT(info.st_mode))


def changed(sentinels: dict[Path, Any]) -> list[str]:
    """The sentinels whose contents changed or that are gone, each as a line."""
    found = []
    for path, before in sentinels.items():
        after = fingerprint(path)
        if after != before:
            found.append(f"{path}: {'lost' if after is None else 'changed'} ({_clip(str(before), 120)} → "
                         f"{_clip(str(after), 120)})")
    return found


def leftovers(folder: Path, planted: set[Path] = frozenset()) -> list[Path]:  # type: ignore[assignment]
    """Hidden temporary files and folders kitgen names (``.X.new-*``, ``.X.part``...) under ``folder``."""
    if not folder.is_dir() or folder.is_symlink():
        return []
    found = []
    for root, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            path = Path(root) / name
            if LEFTOVER.fullmatch(name) and path not in planted:
                found.append(path)
    return found


def remove(path: Path) -> None:
    """Delete a case's folder whatever was planted in it (modes, links, FIFOs)."""
    if not os.path.lexists(path):
        return
    for root, dirs, _ in os.walk(path):
        for name in dirs:
            try:
                os.chmod(Path(root) / name, 0o700, follow_symlinks=False)
            except (OSError, NotImplementedError):
                pass
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def one_line_errors(text: str) -> list[str]:
    """The lines of a KitgenError's message with click's ``Error: `` prefix taken off."""
    return [line.removeprefix("Error: ") for line in text.split("\n")]


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# --- Memory -------------------------------------------------------------------------------------------------


def _reset_peak() -> int:
    """Reset the process's peak resident memory (Linux); the resident memory now, in MB."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    return _memory("VmRSS")


def _memory(key: str = "VmHWM") -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def _limit_memory(megabytes: int) -> None:
    try:
        import resource

        limit = megabytes * 1024 * 1024
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    except (ImportError, ValueError, OSError):
        pass


# =========================================================================================================
# Surface 1: roster
# =========================================================================================================

ROLES = ["cv-engineer", "nlp-engineer", "dl-engineer", "dl-scientist"]
LEVELS = ["junior", "mid", "senior", "staff"]
STAGES = ["technical", "coding", "systems", "behavioural", "research"]
BAD_NAMES = [  # roles, levels and stages that are paths, unknown, or alike but not equal
    "../x", "/etc", "..\\x", "../../etc/passwd", "cv-engineer/../x", "/tmp/../etc", "C:\\Windows", "~", ".", "..",
    "CV-Engineer", "Senior", " staff ", "cv\u2010engineer", "\uff43\uff56-engineer", "cv-enginer", "principal", "lead",
    "cv_engineer", "cv-engineer\x00", "\u202ecv-engineer", "con", "$HOME", "%2e%2e%2fx", "cv-engineer;rm -rf /",
    "x" * 300, "-", "cv--engineer", "junior\n", "ﬁ", "١", "0",
]
BASE_NAMES = ["Ada Lovelace", "Grace Hopper", "José Núñez", "Zoë Ørsted", "李小龙", "Ólafur Arnalds", "O'Brien",
              "Anne-Marie Smith", "Nguyễn Thị Minh Khai", "Σωκράτης Ξ", "Дмитрий", "محمد علي", "דוד", "Å", "ß",
              "ǅemal", "İlkay", "Straße", "ﬁona", "Ｆｕｌｌ", "𝐁𝐨𝐥𝐝"]
NO_LETTERS = ["---", "!!!", "🚀🚀🚀", "\u200b", "\u0301\u0301", "…", "—", " . ", "_", "__", "-_-", "()", "\u202e",
              "\x00", "\x1b[31m", "💩", "\u3000", "'", '"', "%", "😀👩‍💻"]
FORMULAS = ["=cmd|' /C calc'!A0", "+1", "-1+2", "@SUM(1+1)*cmd|' /C calc'!A0", '=HYPERLINK("http://x","y")',
            "\t=1", "=1+1", "+cmd|' /C notepad'!'A1'", "@SUM(A1:A9)", "=2+5+cmd|' /C calc'!A0"]
ODD_NAMES = ["../../etc/passwd", "/etc/passwd", "C:\\Windows\\System32", "..", ".", "~", "kit.yaml", "print.pdf",
             ".hidden", "CON", "nul", "com1", "LPT9", "aux.txt", "a/b", "a\\b", "W" * 201, "w" * 200, "Ada\nLovelace",
             'He said "hi"', "a,b", "Ada\rLovelace", "Ada\x1b[2JLovelace", "\u202eecalevoL adA", "Ada\u2066x\u2069",
             "{{ 7*7 }}", "<script>", "%s%n", "\ufeffAda", "Ada\x85", "Ada\u2028B", "x" * 61, "é" * 61]
SEEDS = ["", "", "", "1", "0", "7", "-1", "-0", "2147483647", "2147483648", "9" * 5000, "1" * 4301, "1" * 4300,
         "\u0661\u0662", "\uff11\uff12", "\u0663", "1e3", "3.0", "3_0", " 7 ", "0x10", "+5", "NaN", "inf", "1\u200b",
         "²", "①", "12 34", "0007", "-" + "9" * 3000, "3.5", "True"]
CJK_B = [chr(c) for c in range(0x20000, 0x20100)]  # 4-byte letters
HANGUL = [chr(c) for c in range(0xAC00, 0xAD00)]  # 3-byte letters


def name_variant(rng: random.Random, name: str) -> str:
    """A name that reads like ``name`` (case, punctuation, composition, width) or differs only late."""
    ops: list[Callable[[str], str]] = [
        str.upper, str.lower, str.swapcase, str.title,
        lambda s: unicodedata.normalize("NFD", s), lambda s: unicodedata.normalize("NFC", s),
        lambda s: unicodedata.normalize("NFKD", s),
        lambda s: s.replace(" ", "-"), lambda s: s.replace(" ", "  "), lambda s: s.replace("-", " "),
        lambda s: s.replace(" ", "."), lambda s: s.replace(" ", "_"), lambda s: f"{s}.", lambda s: f" {s} ",
        lambda s: s.replace("'", ""), lambda s: s.replace("'", "\u2019"), lambda s: f"{s}!", lambda s: f"({s})",
        lambda s: "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s),  # full width
        lambda s: s + "\u200b", lambda s: "\u202e" + s, lambda s: s + "\x07",
        lambda s: (s * 20)[:60] + rng.choice("xyz") * rng.randint(1, 30),  # differs past the 60th character
        lambda s: (s * 20)[:rng.randint(55, 75)],
    ]
    for _ in range(rng.randint(1, 2)):
        name = rng.choice(ops)(name)
    return name


def candidate_name(rng: random.Random, earlier: list[str], clean: bool = False) -> str:
    roll = rng.random()
    if earlier and roll < (0.08 if clean else 0.3):
        return name_variant(rng, rng.choice(earlier))
    if clean and roll < 0.5:
        roll = 0.81 + rng.random() * 0.19  # a long name of 3- or 4-byte letters, or a variant of a plain one
    elif clean and roll < 0.6:
        roll = 0.6 + rng.random() * 0.2  # a formula or an odd name
    if roll < 0.5:
        return rng.choice(BASE_NAMES)
    if roll < 0.6:
        return rng.choice(NO_LETTERS) * rng.randint(1, 3)
    if roll < 0.68:
        return rng.choice(FORMULAS)
    if roll < 0.8:
        return rng.choice(ODD_NAMES)
    if roll < 0.9:  # long names in letters of 3 or 4 bytes: folder names past 255 bytes
        alphabet = rng.choice([CJK_B, HANGUL])
        return "".join(rng.choice(alphabet) for _ in range(rng.choice([rng.randint(40, 70), rng.randint(50, 200)])))
    return name_variant(rng, rng.choice(BASE_NAMES))


def choose(rng: random.Random, valid: list[str], bad: float = 0.12, blank: float = 0.0) -> str:
    roll = rng.random()
    if roll < blank:
        return ""
    if roll < blank + bad:
        return rng.choice(BAD_NAMES)
    return rng.choice(valid)


def gen_roster(rng: random.Random, index: int) -> Case:
    """A roster CSV as bytes, and how it was made."""
    clean = rng.random() < 0.5  # only the names are hostile (so that many rosters get through to a batch)
    steps: list[str] = [] if clean else ["hostile"]
    header = ["candidate", "role", "level"] + rng.sample(["interviewer", "seed", "stage"], rng.randint(0, 3))
    rng.shuffle(header)
    roll = 1.0 if clean else rng.random()
    if roll < 0.06:
        header.remove(rng.choice(["candidate", "role", "level"]))
        steps.append("missing column")
    elif roll < 0.14:
        header.insert(rng.randrange(len(header) + 1), rng.choice(["notes", "", "candidate", "email", "ROLE", "x" * 99]))
        steps.append("extra column")
    if rng.random() < 0.15:
        header = [rng.choice([h.upper(), f" {h} ", h.title(), h]) for h in header]
        steps.append("column case and spaces")
    rows: list[list[str]] = []
    names: list[str] = []
    for _ in range(rng.choice([1, 1, 2, 2, 3, 4, 6])):
        if rows and rng.random() < (0.02 if clean else 0.1):
            rows.append(list(rng.choice(rows)))
            steps.append("exact repeat")
            continue
        name = candidate_name(rng, names, clean)
        names.append(name)
        bad = 0.0 if clean else 0.15
        values = {"candidate": name, "role": choose(rng, ROLES, bad), "level": choose(rng, LEVELS, bad),
                  "interviewer": rng.choice(["", "", "Grace Hopper", rng.choice(ODD_NAMES), "x" * 201][:4 if clean else 5]),
                  "seed": rng.choice(SEEDS[:9] if clean else SEEDS),
                  "stage": choose(rng, STAGES[:4], bad=0.0, blank=0.8) if clean else choose(rng, STAGES, 0.2, 0.6)}
        row = [values.get(h.strip().lower(), rng.choice(["", "note", "=1+1"])) for h in header]
        if not clean and rng.random() < 0.05:
            row.append(rng.choice(["extra", "", "x" * 50]))
            steps.append("extra field")
        elif not clean and rng.random() < 0.05 and len(row) > 1:
            row = row[:rng.randrange(1, len(row))]
            steps.append("missing field")
        rows.append(row)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=rng.choice(["\n", "\r\n", "\n", "\r"]))
    writer.writerow(header)
    if rng.random() < 0.05:
        buffer.write(rng.choice(["\n", ",,,\n"] if clean else ["\n", ",,,\n", " \n"]))
        steps.append("blank line")
    writer.writerows(rows)
    text = buffer.getvalue()
    roll = 1.0 if clean else rng.random()
    if roll < 0.04:
        text, steps = "", [*steps, "empty file"]
    elif roll < 0.07:
        text = text.split("\n")[0] + "\n"
        steps.append("header only")
    elif roll < 0.11:
        at = rng.randrange(len(text) + 1)
        text = text[:at] + '"' + text[at:]
        steps.append(f"stray quote at {at}")
    elif roll < 0.13:
        text = text[:rng.randrange(len(text) + 1)]
        steps.append("cut short")
    elif roll < 0.16:
        text += f"{'x' * rng.choice([131_072, 200_000, 1_000_000])},cv-engineer,junior\n"
        steps.append("huge field")
    elif roll < 0.18:
        at = rng.randrange(len(text) + 1)
        text = text[:at] + "\x00" + text[at:]
        steps.append("NUL byte")
    elif roll < 0.2:
        text += "\n" * 5000
        steps.append("many blank lines")
    encoding = rng.choices(["utf-8", "utf-8-sig", "latin-1", "utf-16", "cp1252", "utf-8 twice-bom"],
                           [80, 20, 0, 0, 0, 0] if clean else [70, 10, 8, 3, 3, 2])[0]
    if encoding == "utf-8 twice-bom":
        data = ("\ufeff\ufeff" + text).encode("utf-8", "surrogatepass")
    else:
        data = text.encode(encoding, "replace")
    if encoding != "utf-8":
        steps.append(encoding)
    return Case(index, f"{'; '.join(steps) or 'plain'}: {_shown(data, 700)}", data, timeout=240, budget=5)


def setup_roster(work: Path, options: Options) -> dict[str, Any]:
    from kit.validate import load_library

    return {"library": load_library(), "work": work, "options": options, "accepted": 0, "sentinel_kit": None}


def run_roster(case: Case, state: dict[str, Any]) -> Outcome:
    from kit.batch import check_roster, read_roster
    from kit.errors import KitgenError

    outcome = Outcome()
    folder = state["work"] / f"case-{case.index}"
    folder.mkdir(parents=True)
    path = folder / "roster.csv"
    path.write_bytes(case.data)
    lines = case.data.count(b"\n") + case.data.count(b"\r") + 2
    out = folder / "out"
    try:
        try:
            rows = read_roster(path)
            check_roster(path, rows, state["library"], out)
        except KitgenError as exc:
            outcome.status = "refused"
            check_message(outcome, exc, path, lines)
            return outcome
        except Exception:  # noqa: BLE001 - counting exactly these is the point
            outcome.status = "traceback"
            outcome.traceback("read_roster/check_roster")
            return outcome
        outcome.status = "accepted"
        write_folders(outcome, rows, out)
        state["accepted"] += 1
        every = state["options"].batch_every
        if every and state["accepted"] % every == 1 % every:
            outcome.notes["batch runs"] += 1
            run_batch_case(outcome, rows[:2], folder / "batch", state)
    finally:
        remove(folder)
    return outcome


def check_message(outcome: Outcome, exc: Any, path: Path, lines: int) -> None:
    """One line per problem, each starting with the roster's path; a row's problem with ``path:LINE:COL:``."""
    from kit.errors import InputError

    text = exc.format_message()
    bad = []
    for line in one_line_errors(text):
        if not line.startswith(str(path)):
            bad.append(f"does not start with the roster's path: {line!r}")
        elif _CONTROL.search(line):
            bad.append(f"holds control or bidi characters: {line!r}")
    if isinstance(exc, InputError):
        for problem in exc.problems:
            if problem.file != path or problem.where is None or not 1 <= problem.where[0] <= lines:
                bad.append(f"a row's problem not placed on a line of the roster: {str(problem)!r}")
    if bad:
        outcome.fail("malformed", "\n".join(_clip(b, 400) for b in bad[:5]))


def write_folders(outcome: Outcome, rows: list[Any], out: Path) -> None:
    """Each accepted row's folder as a batch would use it: looked up (verify_kit), then written whole
    (output.write_kit). An OSError escaping here is a batch that dies on this roster."""
    from kit import output
    from kit.errors import KitgenError
    from kit.manifest import verify_kit

    out.mkdir(parents=True, exist_ok=True)
    folders = [row.folder(out) for row in rows]
    for row, folder in zip(rows, folders):
        if folder.parent != out or folder.name.startswith(".") or LEFTOVER.fullmatch(folder.name) \
                or folders.count(folder) > 1 or any(c in folder.name for c in "/\\\0"):
            outcome.fail("unsafe folder", f"line {row.line}'s kit folder is {str(folder.relative_to(out))!r}")
    for row in rows:
        folder = row.folder(out)
        for step, call in (("verify_kit", lambda f=folder: verify_kit(f)),
                           ("output.prepare_kit", lambda f=folder: output.prepare_kit(f, True)),
                           ("output.write_kit", lambda f=folder: output.write_kit(f, {"kit.yaml": b"probe\n"}, True))):
            try:
                call()
            except KitgenError:
                if step != "verify_kit":
                    outcome.notes["accepted rows whose folder kitgen refuses to write"] += 1
                    break
            except Exception:  # noqa: BLE001
                outcome.traceback(f"{step} of line {row.line}'s folder ({len(folder.name.encode())} bytes: "
                                  f"{_clip(folder.name, 120)!r})")
                break
    for path in leftovers(out):
        outcome.fail("partial", f"left behind by write_kit: {path}")


def sentinel_kit(state: dict[str, Any]) -> Path:
    """A whole kit of another candidate, made once, to be copied where a row's kit would go."""
    if state["sentinel_kit"] is None:
        from kit.manifest import People
        from kit.pipeline import Request, make_kit

        paths = make_kit(Request("cv-engineer", "junior", 99, People("Sentinel Person", "Sentinel"),
                                 out=state["work"] / "sentinel-kit"), state["library"])
        state["sentinel_kit"] = paths[0].parent
    return state["sentinel_kit"]


def run_batch_case(outcome: Outcome, rows: list[Any], folder: Path, state: dict[str, Any]) -> None:
    """A real ``kitgen batch`` of ``rows`` into a folder of sentinels that must come out unchanged."""
    from click.testing import CliRunner

    from kit.cli import cli

    rng = random.Random(f"batch:{rows!r}")
    out, outside = folder / "out", folder / "outside"
    out.mkdir(parents=True)
    outside.mkdir()
    roster = folder / "roster.csv"
    with roster.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["candidate", "role", "level", "interviewer", "seed", "stage"])
        for row in rows:
            writer.writerow([row.candidate, row.role, row.level, row.interviewer or "",
                             "" if row.seed is None else row.seed, row.stage or ""])
    (out / "notes.txt").write_bytes(os.urandom(64))
    (out / ".hidden-notes").write_text("mine\n")
    (outside / "precious.txt").write_text("precious\n")
    (outside / "folder").mkdir()
    (outside / "folder" / "kit.yaml").write_text("not a kit\n")
    kit = sentinel_kit(state)
    shutil.copytree(kit, out / kit.name)  # a kit of its own, beside the batch's
    targets = [row.folder(out) for row in rows]
    for target in targets:
        if os.path.lexists(target) or len(target.name.encode()) > 240:
            continue
        plant = rng.choice(["other kit", "foreign file", "file", "link out", "nothing", "nothing"])
        if plant == "other kit":
            shutil.copytree(kit, target)
        elif plant == "foreign file":
            shutil.copytree(kit, target)
            (target / "my-notes.txt").write_text("mine\n")
        elif plant == "file":
            target.write_text("a file where a kit folder would go\n")
        elif plant == "link out":
            target.symlink_to(outside / "folder")
        outcome.notes[f"batch sentinel: {plant}"] += 1
    if rng.random() < 0.3:
        (out / "print.pdf").symlink_to(outside / "precious.txt")
        outcome.notes["batch sentinel: print.pdf link out"] += 1
    if rng.random() < 0.3:  # someone's files whose names happen to look like kitgen's temporary ones
        (out / ".thesis.old-20240101").mkdir()
        (out / ".thesis.old-20240101" / "chapter1.tex").write_text("three months of work\n")
        (out / ".draft.20240101.part").write_text("a download in progress\n")
        (out / ".photos.new-2024_jan").mkdir()
        (out / ".photos.new-2024_jan" / "a.jpg").write_bytes(os.urandom(32))
        outcome.notes["batch sentinel: names like kitgen's temporary ones"] += 1
    sentinels = {path: fingerprint(path) for path in [*out.iterdir(), outside]}
    result = CliRunner().invoke(cli, ["batch", str(roster), "--out", str(out), "--workers", "1"])
    shown = f"batch of {roster.read_text(encoding='utf-8')!r}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        outcome.fail("traceback", f"in kitgen batch ({shown}):\n" + _clip(
            "".join(traceback.format_exception(*result.exc_info)), 3000))  # type: ignore[misc]
    elif result.exit_code not in (0, 1, 2):
        outcome.fail("traceback", f"kitgen batch exit {result.exit_code} ({shown})")
    else:
        outcome.notes[f"batch exit {result.exit_code}"] += 1
        odd = [line for line in result.stderr.splitlines()
               if line and not line.startswith(("Error: ", f"{roster}:", "Making kits: "))]
        if odd:
            outcome.fail("malformed", f"kitgen batch stderr ({shown}): {_clip(chr(10).join(odd), 600)}")
    for line in changed(sentinels):
        outcome.fail("overwritten", f"kitgen batch ({shown}): {line}")
    for path in leftovers(out, set(sentinels)):
        outcome.fail("partial", f"kitgen batch ({shown}) left {path}")


# =========================================================================================================
# Surface 2: cache
# =========================================================================================================

PICKLE_CODE = "cos\nsystem\n(S'touch {marker}'\ntR."


def library_print(library: Any) -> str:
    """A digest of everything a kit is made from."""
    parts = [
        sorted((key, q.model_dump(mode="json")) for key, q in library.questions.items()),
        sorted((key, r.model_dump(mode="json")) for key, r in library.roles.items()),
        library.rubric.model_dump(mode="json"), library.reference.model_dump(mode="json"),
        [t.model_dump(mode="json") for t in library.fairness],
    ]
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _rendered(library: Any) -> dict[str, str]:
    from kit.manifest import People
    from kit.render import render_documents
    from kit.select import select_kit

    kit = select_kit(library, "nlp-engineer", "mid", 3)
    return render_documents(library, [kit], People("Ada", "Grace"), ("0" * 8, "1" * 8))


def _listed(library: Any) -> str:
    """``kitgen list``'s text, through its cache entry (cache.memo_text, as the command reads it)."""
    from kit.cache import memo_text
    from kit.catalogue import overview

    return memo_text("list", [path for layer in library.layers for path in layer.files], lambda: overview(library))


def setup_cache(work: Path, options: Options) -> dict[str, Any]:
    from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader

    from kit.assets import asset_dir
    from kit.validate import load_library

    marker = work / "ran-marker"
    os.environ["KITGEN_CACHE"] = "off"
    library = load_library()
    reference = {"library": library_print(library), "list": _listed(library), "pages": _rendered(library)}
    del os.environ["KITGEN_CACHE"]
    folders = {}
    for name in ("base", "other"):  # two caches of the same files under different keys
        folders[name] = work / f"{name}-cache"
        os.environ["KITGEN_CACHE_DIR"] = str(folders[name])
        library = load_library()
        if library_print(library) != reference["library"] or _listed(library) != reference["list"]:
            raise RuntimeError("a freshly filled cache does not give what no cache gives")
    entries = sorted(p.name for p in folders["base"].iterdir() if p.name != "key")
    # Jinja bytecode files for every kitgen template, as Jinja's FileSystemBytecodeCache would name them
    jinja = work / "jinja-bytecode"
    jinja.mkdir()
    bytecode = FileSystemBytecodeCache(str(jinja))
    env = Environment(loader=FileSystemLoader(str(asset_dir("templates"))), bytecode_cache=bytecode)
    for template in env.list_templates(extensions=["html", "css"]):
        source, filename, _ = env.loader.get_source(env, template)  # type: ignore[union-attr]
        bucket = bytecode.get_bucket(env, template, filename, source)
        bucket.code = compile(f"open({str(marker)!r}, 'w').write('ran')", filename, "exec")
        bytecode.set_bucket(bucket)
    return {"work": work, "marker": marker, "reference": reference, "folders": folders, "entries": entries,
            "jinja": sorted(jinja.iterdir()), "options": options}


CACHE_MUTATIONS = [
    "random-bytes", "altered-keep-tag", "altered-no-tag", "altered-other-key", "code-other-key", "copied-from-other",
    "other-key-file", "swapped-names", "truncated", "huge-entry", "dir-at-entry", "symlink-at-entry",
    "fifo-at-entry", "dir-at-key", "symlink-at-key", "fifo-at-key", "key-wrong-length", "key-missing",
    "key-random", "world-writable", "foreign-owner", "jinja-bytecode", "list-altered", "list-other-key",
    "part-files", "many-files", "empty-entry", "entry-mode-000", "hardlink-at-entry", "dir-is-file", "dir-is-symlink", "dir-under-file",
    "dir-missing",
]


WHOLE_CACHE = {"other-key-file", "dir-at-key", "symlink-at-key", "fifo-at-key", "key-wrong-length", "key-missing",
               "key-random", "foreign-owner", "dir-is-file", "dir-is-symlink", "dir-under-file", "dir-missing"}


def gen_cache(rng: random.Random, index: int) -> Case:
    # a change that makes the whole cache unusable costs a full parse of every file: those are a sixth
    weights = [1 if m in WHOLE_CACHE else 5 for m in CACHE_MUTATIONS]
    mutations: list[str] = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        if (mutation := rng.choices(CACHE_MUTATIONS, weights)[0]) not in mutations:
            mutations.append(mutation)
    if "other-key-file" in mutations:  # whoever can write the key holds the cache: entries they sign are out of scope
        mutations = [m for m in mutations if m not in ("altered-other-key", "code-other-key", "list-other-key")]
    mutations.sort(key=lambda m: m.startswith("dir-"))  # moving the folder comes last
    picks = [rng.random() for _ in range(8)]
    return Case(index, ", ".join(mutations), {"mutations": mutations, "picks": picks, "seed": rng.random()},
                timeout=60, budget=10)


def _sign(secret: bytes, name: str, data: bytes) -> bytes:
    import hmac

    return hmac.new(secret, name.encode() + b"\0" + data, hashlib.sha256).digest()


def _alter(value: Any) -> Any:
    """The same shape with every string changed (what an attacker would plant as question text)."""
    if isinstance(value, str):
        return "PLANTED " + value[:20]
    if isinstance(value, list):
        return [_alter(v) for v in value]
    if isinstance(value, dict):
        return {k: _alter(v) for k, v in value.items()}
    return value


def plant(mutation: str, rng: random.Random, where: Path, state: dict[str, Any], sentinels: dict[Path, Any],
          planted: set[Path]) -> Path:
    """Apply one hostile change to the cache folder ``where``; the folder kitgen is to be pointed at."""
    entries = [n for n in state["entries"] if (where / n).is_file() and not (where / n).is_symlink()] or state["entries"]
    name = rng.choice(entries)
    entry = where / name
    other = state["folders"]["other"]
    secret = (other / "key").read_bytes()
    outside = where.parent / "outside"
    outside.mkdir(exist_ok=True)

    def payload() -> bytes:
        data = (state["folders"]["base"] / name).read_bytes()
        return data[32:]

    def replace(data: bytes) -> None:
        remove(entry)
        entry.write_bytes(data)
        os.chmod(entry, 0o600)

    if mutation == "random-bytes":
        replace(rng.randbytes(rng.choice([0, 1, 31, 32, 33, 500, 5000])))
    elif mutation in ("altered-keep-tag", "altered-no-tag", "altered-other-key", "list-altered", "list-other-key"):
        if mutation.startswith("list"):
            lists = [n for n in state["entries"] if n.startswith("list-")]
            if lists:
                name, entry = lists[0], where / lists[0]
            original = (state["folders"]["base"] / name).read_bytes()
            data = original[32:].replace(b"cv-engineer", b"pwned-role") + b"\nPLANTED\n"
            tag = original[:32] if mutation == "list-altered" else _sign(secret, name, data)
            replace(tag + data)
        else:
            original = (state["folders"]["base"] / name).read_bytes()
            try:
                data = marshal.dumps(_alter(marshal.loads(original[32:])))
            except (ValueError, EOFError, TypeError):
                data = b"PLANTED"
            tag = {"altered-keep-tag": original[:32], "altered-no-tag": b"",
                   "altered-other-key": _sign(secret, name, data)}[mutation]
            replace(tag + data)
    elif mutation == "code-other-key":
        data = marshal.dumps(compile(f"open({str(state['marker'])!r}, 'w')", "<planted>", "exec"))
        replace(_sign(secret, name, data) + data)
    elif mutation == "copied-from-other":
        for n in rng.sample(entries, min(len(entries), rng.randint(1, 5))):
            remove(where / n)
            shutil.copy2(other / n, where / n)
    elif mutation == "other-key-file":  # another user's key planted (theirs, where the system tells owners apart)
        remove(where / "key")
        shutil.copy2(other / "key", where / "key")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            os.chown(where / "key", 65534, 65534)
    elif mutation == "swapped-names":
        a, b = rng.sample(entries, 2) if len(entries) > 1 else (name, name)
        temp = where / "swap.tmp"
        os.rename(where / a, temp)
        os.rename(where / b, where / a)
        os.rename(temp, where / b)
    elif mutation == "truncated":
        data = (state["folders"]["base"] / name).read_bytes()
        replace(data[:rng.choice([0, 1, 16, 31, 32, 33, len(data) // 2, max(len(data) - 1, 0)])])
    elif mutation == "huge-entry":
        replace(b"")
        with open(entry, "r+b") as handle:
            handle.truncate(64 * 1024 * 1024 + rng.choice([-1, 0, 1]))
    elif mutation == "empty-entry":
        replace(b"")
    elif mutation == "dir-at-entry":
        remove(entry)
        entry.mkdir()
        (entry / "x").write_text("x")
    elif mutation in ("symlink-at-entry", "symlink-at-key"):
        target_name = "key" if mutation.endswith("key") else name
        target = outside / f"{target_name}-target"
        if not target.exists():
            shutil.copy2((state["folders"]["base"] if rng.random() < 0.5 else other) / target_name, target)
        sentinels[target] = fingerprint(target)
        remove(where / target_name)
        (where / target_name).symlink_to(target)
    elif mutation == "hardlink-at-entry":  # a file elsewhere, linked in: the cache must not write through it
        target = outside / f"{name}-hardlink"
        if not target.exists():
            shutil.copy2((state["folders"]["base"] if rng.random() < 0.5 else other) / name, target)
            if rng.random() < 0.5:
                with open(target, "ab") as handle:
                    handle.write(b"changed")
        sentinels[target] = fingerprint(target)
        remove(entry)
        os.link(target, entry)
    elif mutation in ("fifo-at-entry", "fifo-at-key"):
        path = where / ("key" if mutation.endswith("key") else name)
        remove(path)
        os.mkfifo(path, 0o600)
    elif mutation == "dir-at-key":
        remove(where / "key")
        (where / "key").mkdir()
    elif mutation == "key-wrong-length":
        remove(where / "key")
        (where / "key").write_bytes(os.urandom(rng.choice([0, 1, 16, 31, 33, 64, 4096])))
        os.chmod(where / "key", 0o600)
    elif mutation == "key-missing":
        remove(where / "key")
    elif mutation == "key-random":
        remove(where / "key")
        (where / "key").write_bytes(os.urandom(32))
        os.chmod(where / "key", 0o600)
    elif mutation == "world-writable":
        os.chmod(where, 0o777)
        for path in rng.sample(sorted(where.iterdir()), min(3, len(list(where.iterdir())))):
            if path.is_file() and not path.is_symlink():
                os.chmod(path, 0o666)
    elif mutation == "foreign-owner":
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            victim = rng.choice([where, where / "key", entry])
            if os.path.lexists(victim):
                os.chown(victim, 65534, 65534, follow_symlinks=False)
        else:
            (where / "key").chmod(0o644)
    elif mutation == "jinja-bytecode":
        for sub in (where, where / "jinja"):
            sub.mkdir(exist_ok=True)
            for source in state["jinja"]:
                shutil.copy2(source, sub / source.name)
                planted.add(sub / source.name)
    elif mutation == "part-files":
        for n in (".x.part", f".{name}.abcdefgh.part", ".kitgen-probe-abcdefgh"):
            (where / n).write_bytes(b"partial")
            planted.add(where / n)
    elif mutation == "many-files":
        for n in range(300):
            (where / f"yaml-{n:032x}.marshal").write_bytes(os.urandom(40))
    elif mutation == "entry-mode-000":
        os.chmod(entry, 0)
    elif mutation == "dir-is-file":
        alias = where.parent / "cache-file"
        alias.write_bytes(b"not a folder")
        sentinels[alias] = fingerprint(alias)
        return alias
    elif mutation == "dir-is-symlink":
        alias = where.parent / "cache-link"
        alias.symlink_to(where)
        return alias
    elif mutation == "dir-under-file":
        alias = where.parent / "cache-file-2"
        alias.write_bytes(b"not a folder")
        sentinels[alias] = fingerprint(alias)
        return alias / "cache"
    elif mutation == "dir-missing":
        remove(where)
        return where
    return where


def _usable() -> bool:
    from kit import cache

    try:
        cache._open()
    except (OSError, TypeError):
        return False
    return True


def run_cache(case: Case, state: dict[str, Any]) -> Outcome:
    from kit.validate import load_library

    outcome = Outcome(status="same as uncached")
    rng = random.Random(case.data["seed"])
    folder = state["work"] / f"case-{case.index}"
    folder.mkdir()
    where = folder / "cache"
    shutil.copytree(state["folders"]["base"], where, symlinks=True)
    (where / "notes.txt").write_text("someone's notes in the cache folder\n")
    sentinels: dict[Path, Any] = {}
    planted: set[Path] = set()
    pointed = where
    try:
        for mutation in case.data["mutations"]:
            pointed = plant(mutation, rng, where, state, sentinels, planted)
            if mutation.startswith("dir-"):
                break  # the cache folder is gone or elsewhere: nothing more to plant in it
        if os.path.lexists(where / "notes.txt"):
            sentinels[where / "notes.txt"] = fingerprint(where / "notes.txt")
        touched_key = any("key" in m for m in case.data["mutations"]) or "dir-missing" in case.data["mutations"]
        if not touched_key and (where / "key").is_file():
            sentinels[where / "key"] = fingerprint(where / "key")
        os.environ["KITGEN_CACHE_DIR"] = str(pointed)
        reference = state["reference"]
        for attempt in ("first load", "second load"):  # the second reads what the first wrote back
            try:
                library = load_library()
                if library_print(library) != reference["library"]:
                    outcome.status = "differs"
                    outcome.fail("stale data", f"{attempt}: the library differs from an uncached load")
                if _listed(library) != reference["list"]:
                    outcome.fail("stale data", f"{attempt}: kitgen list differs from an uncached run")
                if attempt == "second load" and case.index % 4 == 0 and _rendered(library) != reference["pages"]:
                    outcome.fail("stale data", f"{attempt}: a rendered kit differs from an uncached render")
            except Exception:  # noqa: BLE001
                outcome.status = "traceback"
                outcome.traceback(attempt)
                break
            if not _usable():
                outcome.notes["cache refused"] += 1
                break  # no cache was read or written: a second load would only repeat the first
        if state["marker"].exists():
            outcome.fail("code run", f"{state['marker']} was created")
            state["marker"].unlink()
        for line in changed(sentinels):
            outcome.fail("overwritten", line)
        for path in leftovers(where, planted) if where.is_dir() and not where.is_symlink() else []:
            outcome.fail("partial", f"left in the cache: {path.name}")
    finally:
        os.environ["KITGEN_CACHE_DIR"] = str(state["work"] / "spare-cache")
        remove(folder)
    return outcome


# =========================================================================================================
# Surface 3: templates
# =========================================================================================================

BASES = ["''", "()", "[]", "{}", "kit", "kit.role", "role", "rubric", "people", "competency", "cycler", "joiner",
         "namespace", "lipsum", "range", "dict", "self", "kit.questions[0]", "role.levels", "highlight_css", "paper",
         "weights[0][0]", "time_plan", "rules", "reference", "all_questions", "rubric.screening", "kit.plan",
         "rubric.screening.pass_mark", "kit_id", "undefined_name", "kit.questions", "loop", "caller", "varargs"]
ESCAPES = [
    "__class__", "__class__.__mro__[1].__subclasses__()", "__class__.__base__.__subclasses__()", "mro()",
    "__class__.mro()[-1].__subclasses__()", "__init__.__globals__", "__init__.__globals__.os.popen('touch MARKER').read()",
    "__init__.__globals__['os'].system('touch MARKER')", "__globals__['os'].system('touch MARKER')",
    "__globals__.__builtins__.open('MARKER', 'w')", "__init__.__globals__.__builtins__.__import__('os').system('touch MARKER')",
    "__self__", "__self__.layers", "__func__.__globals__", "__dict__", "__reduce_ex__(2)",
    "__getattribute__('__class__')", "_TemplateReference__context", "_TemplateReference__context.environment.globals",
    "__module__", "__doc__", "__call__.__globals__", "__closure__", "__code__.co_consts", "gi_frame.f_globals",
    "environment", "_Context__self", "__wrapped__.__globals__",
]
PYDANTIC = [
    "model_dump()", "model_copy(update={'id': 'pwned'})", "model_validate({})", "model_fields", "model_construct()",
    "model_json_schema()", "model_post_init(None)", "__pydantic_validator__", "__fields__",
    "copy(update={'id': 'pwned'})", "dict()", "json()", "construct()", "parse_obj({})", "schema()", "schema_json()",
    "validate({})", "from_orm(kit)", "update_forward_refs()", "parse_file('/etc/passwd')",
    "parse_file('MARKER', content_type='application/pickle', allow_pickle=True)",
    "parse_raw(PICKLE, content_type='application/pickle', allow_pickle=True)",
    "parse_raw(PICKLE, proto='pickle', allow_pickle=True)", "parse_raw('{}')",
    "parse_file(PICKLE_FILE, content_type='application/pickle', allow_pickle=True)", "parse_file(SECRET_JSON)",
    "parse_file(SECRET_JSON, content_type='application/json')",
]
MUTATIONS = ["append(1)", "pop()", "clear()", "update({'a': 1})", "sort()", "reverse()", "insert(0, 1)",
             "extend([1])", "remove(1)", "setdefault('a', 1)", "popitem()", "__setitem__(0, 1)", "add(1)",
             "discard(1)", "__setattr__('id', 'pwned')", "__delitem__(0)"]
MUTABLE = ["kit.questions", "role.levels", "rubric.competencies", "kit.role.competencies", "all_questions",
           "weights", "time_plan", "paper", "reference", "people.__dict__", "kit.role", "people"]
RESOURCE_GUARDED = ["{{ range(10**9)|list|length }}", "{{ 'x' * 10**9 }}", "{{ 9**9**9 }}", "{{ [1] * 10**9 }}",
                    "{{ 10 ** 10 ** 10 }}", "{{ 'x' * 1000 * 1000 * 1000 }}", "{{ (range(99999)|list) * 99999 }}",
                    "{{ 'ab' * 60000 }}", "{{ 2 ** 5000 }}", "{{ range(10**9)|length }}"]
RESOURCE_BYPASS = [  # the same sizes by other means than * and **: each allocates about 1.5 GB
    "{{ ('x'.center(15 * 10**8))|length }}", "{{ ('%01500000000d' % 1)|length }}",
    "{{ ('{:>1500000000}'.format(1))|length }}", "{{ ('x'|center(15 * 10**8))|length }}",
    "{{ ('ab' * 50000).replace('a', 'b' * 30000)|length }}", "{{ 'x'.zfill(15 * 10**8)|length }}",
    "{{ ('x'.ljust(15 * 10**8))|length }}", "{{ ('x' * 99999).replace('x', 'y' * 15000)|length }}",
]
RESOURCE_HANG = ["{{ ((9 ** 999) ** 999) ** 999 > 1 }}"]
INCLUDES = ["{% include '/etc/passwd' %}", "{% include '../../../../../../etc/passwd' %}", "{% include 'link.html' %}",
            "{% include 'outdir/passwd' %}", "{% include 'kitgen/../../../../etc/passwd' %}", "{% import 'os' as os %}",
            "{% from '/proc/self/environ' import x %}", "{% include ['/etc/passwd', 'inner.html'] %}",
            "{% include '..\\\\..\\\\etc\\\\passwd' %}", "{% include 'inner-link.html' %}", "{% include 'inner.html' %}",
            "{% include 'interviewer.html' %}", "{% include 'kitgen/fonts/README.md' %}",
            "{% include 'C:\\\\Windows\\\\win.ini' %}", "{% include '/proc/self/cwd/kitgen.yaml' %}",
            "{% include 'kitgen/base.html' ignore missing %}", "{% include 'MARKER' %}", "{% include '\x00' %}",
            "{% import 'escape.html' as e %}{{ e.go() }}", "{% include 'nope.html' ignore missing %}",
            "{% include SECRET_JSON %}", "{% include 'secret-link.json' %}"]
SYNTAX = ["{{", "{% if %}", "{{ x | }}", "{% endif %}", "{% block howto %}x{% endblock %}", "{% raw %}",
          "{# open", "{% macro %}", "{{ 'open }}", "{% for %}", "{% extends 'kitgen/base.html' %}", "{{ ) }}",
          "{% set %}", "{% call %}", "{{ 1 + }}", "{% endblock %}"]
BENIGN = ["{{ super() }}", "<p>{{ kit.questions|length }} questions</p>", "{{ people.candidate or 'someone' }}",
          "{% for q in kit.questions %}{{ q.text|markdown }}{% endfor %}",
          "{% set ns = namespace(n=0) %}{% for q in kit.questions %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}",
          "{{ cycler('a', 'b').next() }}", "{{ joiner(',')() }}", "{{ lipsum(1) }}", "{{ range(5)|list }}",
          "{{ 'ab' * 3 }} {{ 2 ** 10 }}", "{{ kit.questions|map(attribute='id')|join(',') }}",
          "{{ rubric.screening.pass_mark(10) }}", "{{ '%s'|format(kit.level) }}", "{{ '{}'.format(kit.level) }}",
          "<b>{{ role.title|upper }}</b>", "{{ '<script>' }}", "{{ kit.questions[0].text|inline }}"]
CONDITIONS = [  # what a team template may well branch on: the level, print or fill-in, a name left blank, paper
    "{{% if kit.level == {level!r} %}}", "{{% if not forms %}}", "{{% if not people.candidate %}}",
    "{{% if people.interviewer is none %}}", "{{% if role.id == {role!r} %}}", "{{% if paper.size == 'letter' %}}",
    "{{% if kit.level in ['senior', 'staff'] %}}"]


def escape_piece(rng: random.Random) -> str:
    base = rng.choice(BASES)
    roll = rng.random()
    if roll < 0.35:
        chain = rng.choice(ESCAPES)
    elif roll < 0.65:
        chain = rng.choice(PYDANTIC)
        base = rng.choice(["kit.role", "role", "rubric", "kit.questions[0]", "rubric.screening", "kit.plan",
                           "rubric.competencies[0]", "role.competencies[0]", "reference[0]", base])
    else:
        chain = rng.choice(MUTATIONS)
        base = rng.choice(MUTABLE)
    first = re.match(r"[A-Za-z_]+", chain)
    attr = first.group(0) if first else "__class__"
    rest = chain[len(attr):]
    form = rng.randrange(10)
    if form == 0 and "(" not in chain and "[" not in chain:
        return f"{{{{ '{{0.{chain}}}'.format({base}) }}}}"
    if form == 1:
        return f"{{{{ ({base})|attr('{attr}'){rest} }}}}"
    if form == 2:
        return f"{{{{ ({base})['{attr}']{rest} }}}}"
    if form == 3:
        return f"{{% set x = {base} %}}{{{{ x.{chain} }}}}"
    if form == 4:
        return f"{{% for x in [{base}] %}}{{{{ x.{chain} }}}}{{% endfor %}}"
    if form == 5:
        return f"{{% macro m(v) %}}{{{{ v.{chain} }}}}{{% endmacro %}}{{{{ m({base}) }}}}"
    if form == 6:
        return f"{{{{ '%s'|format(({base}).{chain}) }}}}"
    if form == 7:
        return f"{{% with x = ({base}).{chain} %}}{{{{ x }}}}{{% endwith %}}"
    if form == 8:
        return f"{{{{ [{base}]|map(attribute='{attr}')|list }}}}"
    return f"{{{{ ({base}).{chain} }}}}"


def template_piece(rng: random.Random) -> tuple[str, str]:
    kind = rng.choices(["escape", "guarded", "bypass", "hang", "include", "syntax", "benign"],
                       [50, 6, 2, 0.1, 10, 6, 15])[0]
    piece = {"escape": lambda: escape_piece(rng), "guarded": lambda: rng.choice(RESOURCE_GUARDED),
             "bypass": lambda: rng.choice(RESOURCE_BYPASS), "hang": lambda: rng.choice(RESOURCE_HANG),
             "include": lambda: rng.choice(INCLUDES), "syntax": lambda: rng.choice(SYNTAX),
             "benign": lambda: rng.choice(BENIGN)}[kind]()
    return kind, piece


def gen_templates(rng: random.Random, index: int, options: Options) -> Case:
    role = rng.choice([*ROLES, "cv-platform-engineer"])
    level = rng.choice(["junior", "senior"] if role == "cv-platform-engineer" else LEVELS)
    name = rng.choice(["Ada Lovelace", "{{ 7*7 }}", "\u202eevil", "Grace", None])
    check = bool(options.check_every) and index % options.check_every == 0
    pieces, kinds = [], []
    for _ in range(rng.choice([1, 1, 2, 3])):
        kind, piece = template_piece(rng)
        if rng.random() < (0.3 if check else 0.08):
            condition = rng.choice(CONDITIONS).format(level=level, role=role)
            piece, kind = f"{condition}{piece}{{% endif %}}", f"{kind} (conditional)"
        pieces.append(piece)
        kinds.append(kind)
    body = rng.choice(["\n", "", "\n<p>ok</p>\n"]).join(pieces)
    cli = bool(options.cli_every) and index % options.cli_every == 1 % options.cli_every
    data = {"role": role, "level": level, "name": name, "interviewer": rng.choice(["Grace", None]), "body": body,
            "forms": rng.random() < 0.3, "calibration": rng.random() < 0.2, "paper": rng.choice(["a4", "letter"]),
            "cli": cli, "check": check}
    shown = f"{role} {level}, {'+'.join(kinds)}{' +check' if check else ''}{' +cli' if cli else ''}: {_shown(body, 500)}"
    return Case(index, shown, data, timeout=(120 if cli else 60 if check else 8), budget=None if cli or check else 5)


def setup_templates(work: Path, options: Options) -> dict[str, Any]:
    import pickle

    from kit.layers import find_layers
    from kit.scaffold import scaffold
    from kit.validate import load_library

    _limit_memory(options.memory_mb)
    team = work / "team"
    scaffold(team)
    templates = team / "templates"
    marker = work / "ran-marker"
    (templates / "inner.html").write_text("<p>inner</p>\n")
    (templates / "inner-link.html").symlink_to("inner.html")
    (templates / "link.html").symlink_to("/etc/hostname")
    (templates / "outdir").symlink_to("/etc")
    (templates / "secret-link.json").symlink_to(work / "secret.json")
    (templates / "escape.html").write_text(
        "{% macro go() %}{{ cycler.__init__.__globals__.os.popen('touch " + str(marker) + "').read() }}{% endmacro %}\n")

    class Touch:
        def __reduce__(self) -> tuple[Any, ...]:
            return (os.system, (f"touch {marker}",))

    (templates / "evil.pkl").write_bytes(pickle.dumps(Touch(), protocol=0))
    secret = f"SECRET-{os.getpid()}-{time.time_ns()}"
    (work / "secret.json").write_text(json.dumps({"token": secret, "id": secret}))  # a file no template may read
    config = team / "kitgen.yaml"
    library = load_library(find_layers(config))
    template = templates / "interviewer.html"
    frozen = {path: fingerprint(path) for path in team.rglob("*") if path != template and not path.is_dir()}
    return {"work": work, "team": team, "config": config, "template": template, "marker": marker, "library": library,
            "frozen": frozen, "kits": {}, "mtime": time.time_ns() - 10**12, "pickle_file": templates / "evil.pkl",
            "secret": secret, "secret_file": work / "secret.json"}


def plant_template(state: dict[str, Any], body: str) -> Path:
    marker = str(state["marker"])
    pickle_text = PICKLE_CODE.format(marker=marker).replace("\n", "\\n")
    body = (body.replace("PICKLE_FILE", repr(str(state["pickle_file"]))).replace("PICKLE", f'"{pickle_text}"')
            .replace("SECRET_JSON", repr(str(state["secret_file"])))
            .replace("'MARKER'", repr(marker)).replace("MARKER", marker))
    template = state["template"]
    template.write_text('{% extends "kitgen/interviewer.html" %}\n{% block howto %}\n' + body + "\n{% endblock %}\n",
                        encoding="utf-8", errors="surrogatepass")
    state["mtime"] += 10**9  # a new modification time, so Jinja's cached environment reloads the file
    os.utime(template, ns=(state["mtime"], state["mtime"]))
    return template


def check_template_error(outcome: Outcome, exc: Any, state: dict[str, Any], step: str) -> None:
    """A template's failure is one line naming a team file and a line."""
    from kit.sandbox import TemplateError

    text = exc.format_message()
    problem = getattr(exc, "problem", None)
    team = state["team"].resolve()
    if "\n" in text or _CONTROL.search(text):
        outcome.fail("malformed", f"{step}: not one plain line: {text!r}")
    elif not isinstance(exc, TemplateError) or problem is None or problem.where is None:
        outcome.fail("malformed", f"{step}: {type(exc).__name__} without a template file and line: {_clip(text, 300)!r}")
    elif not Path(problem.file).resolve().is_relative_to(team) or problem.where[0] < 1 \
            or not text.startswith(f"{problem.file}:{problem.where[0]}:"):
        outcome.fail("malformed", f"{step}: does not name a team template and line: {_clip(text, 300)!r}")
    if isinstance(exc.__context__, MemoryError):
        outcome.fail("huge", f"{step}: {type(exc.__context__).__name__} while rendering: {_clip(text, 200)!r}")


def run_templates(case: Case, state: dict[str, Any]) -> Outcome:
    from kit.errors import KitgenError
    from kit.manifest import People
    from kit.render import render_documents
    from kit.select import select_kit

    data = case.data
    outcome = Outcome()
    plant_template(state, data["body"])
    library = state["library"]
    key = (data["role"], data["level"])
    if key not in state["kits"]:
        state["kits"][key] = select_kit(library, *key)
    before = _reset_peak()
    failed: Path | None = None  # the team template a failed render names
    try:
        html = render_documents(library, [state["kits"][key]], People(data["name"], data["interviewer"]),
                                ("fuzz0001", "fuzz0002"), data["paper"], forms=data["forms"],
                                calibration=data["calibration"])
        if any(state["secret"] in page for page in html.values()):
            outcome.fail("file read", "a page shows the contents of a file outside the template folders")
        outcome.status = "rendered"
    except KitgenError as exc:
        outcome.status = "refused"
        failed = Path(getattr(getattr(exc, "problem", None), "file", state["template"]))
        check_template_error(outcome, exc, state, "render_documents")
        if state["secret"] in exc.format_message():
            outcome.fail("file read", f"the error shows a file outside the template folders: {exc.format_message()!r}")
    except Exception:  # noqa: BLE001
        outcome.status = "traceback"
        failed = state["template"]
        outcome.traceback("render_documents")
    outcome.memory_mb = _memory() - before
    if data["check"]:
        outcome.notes["check runs"] += 1
        check_case(outcome, state, failed)
    if data["cli"]:
        outcome.notes["cli runs"] += 1
        cli_case(outcome, case, state)
    if state["marker"].exists():
        outcome.fail("code run", f"{state['marker']} was created")
        state["marker"].unlink()
    for line in changed(state["frozen"]):
        outcome.fail("overwritten", line)
        state["frozen"] = {path: fingerprint(path) for path in state["frozen"]}
    return outcome


def check_case(outcome: Outcome, state: dict[str, Any], render_failed: Path | None) -> None:
    """``kitgen check`` must report the template file a failed render names (as a "template" finding)."""
    from kit.check import run_checks
    from kit.layers import find_layers

    try:
        report = run_checks(find_layers(state["config"]))
    except Exception:  # noqa: BLE001
        outcome.traceback("kitgen check (run_checks)")
        return
    template = (render_failed or state["template"]).resolve()
    found = [f for f in report.findings if f.check == "template" and Path(f.problem.file).resolve() == template]
    outcome.notes["check found the template" if found else "check called it clean"] += 1
    if render_failed and not found:  # (the planted link.html out of the folder is a finding of its own)
        others = "; ".join(str(f.problem) for f in report.findings if f.check == "template")
        outcome.fail("check missed", f"kitgen check reports nothing in {template.name}, yet rendering this kit with "
                                     f"it fails (its other template findings: {_clip(others, 300) or 'none'})")


def cli_case(outcome: Outcome, case: Case, state: dict[str, Any]) -> None:
    from click.testing import CliRunner

    from kit.cli import cli

    data = case.data
    out = state["work"] / f"cli-{case.index}"
    out.mkdir()
    (out / "sentinel.txt").write_text("mine\n")
    sentinels = {out / "sentinel.txt": fingerprint(out / "sentinel.txt")}
    args = ["--config", str(state["config"]), "--role", data["role"], "--level", data["level"], "--format", "html",
            "--out", str(out), "--paper", data["paper"], *(["--candidate", data["name"]] if data["name"] else []),
            *(["--interviewer", data["interviewer"]] if data["interviewer"] else []), *([] if data["forms"] else ["--no-forms"])]
    result = CliRunner().invoke(cli, args)
    if state["secret"] in result.output:
        outcome.fail("file read", "kitgen's output shows a file outside the template folders")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        outcome.fail("traceback", "in kitgen --format html:\n" + _clip(
            "".join(traceback.format_exception(*result.exc_info)), 3000))  # type: ignore[misc]
    else:
        outcome.notes[f"cli exit {result.exit_code}"] += 1
        if result.exit_code not in (0, 2):
            outcome.fail("traceback", f"kitgen exit {result.exit_code}: {_clip(result.output, 600)}")
        elif result.exit_code == 2 and any(not line.startswith("Error: ") for line in result.stderr.splitlines()):
            outcome.fail("malformed", f"kitgen stderr: {_clip(result.stderr, 600)!r}")
    for line in changed(sentinels):
        outcome.fail("overwritten", line)
    for path in leftovers(out):
        outcome.fail("partial", f"kitgen --format html left {path}")
    remove(out)


# =========================================================================================================
# Surface 4: layers (hostile team layers and names through load → validate → select → render)
# =========================================================================================================

PIECES = [
    "<script>alert(1)</script>", "<img src=file:///etc/passwd>", '<a rel="attachment" href="file:///etc/hosts">a</a>',
    "<style>body{background:url(http://127.0.0.1:9/x)}</style>", "{{ 7*7 }}", "{% raw %}", "{# c #}",
    "![i](http://127.0.0.1:9/i.png)", "[l](file:///etc/passwd)", "<http://127.0.0.1:9/>", "&amp; &lt; &#x41;",
    "漢字かな", "שלום", "مرحبا", "👩‍💻🚀", "e\u0301\u0302", "\u202etxet", "\u0000", "\u0007", "\u001b[31m",
    "W" * 500, "```python\nprint('x')\n```", "- a\n- b", "# heading", "| a | b |", "\\", "'", '"', "%s %(x)s",
]
BROKEN_YAML = ["questions: [", "questions:\n  - id: x\n  id: y", "a: &a [*a]", "\t- bad indent", "questions: 12",
               "questions:\n  - !!python/object:os.system 'echo'", "\x00\x01\x02", "a: " + "[" * 80]


def hostile(rng: random.Random, size: int = 4) -> str:
    return " ".join(rng.choice(PIECES) for _ in range(rng.randint(1, size)))


def layer(rng: random.Random, root: Path) -> Path:
    """A team layer with one generated question, rubric entry and role; now and then broken on purpose."""
    (root / "questions").mkdir(parents=True)
    question = {"id": "fuzz-q", "competency": "fuzz", "kind": "technical", "roles": ["fuzz-role"],
                "levels": ["senior"], "level_note": hostile(rng, 2), "minutes": 5, "text": hostile(rng),
                "guidance": [hostile(rng, 2) for _ in range(3)], "follow_ups": [hostile(rng, 2)],
                "red_flags": [hostile(rng, 2)]}
    screen = {"id": "fuzz-p", "competency": "fuzz", "kind": "prescreen", "roles": ["fuzz-role"], "levels": ["senior"],
              "level_note": "x", "minutes": 2, "text": hostile(rng), "answer_key": hostile(rng)}
    mutation = rng.random()
    if mutation < 0.1:
        question[hostile(rng, 1)[:20]] = hostile(rng, 1)  # an unknown key
    elif mutation < 0.2:
        question["minutes"] = rng.choice(["five", -1, [], {"a": 1}, None, 10**9])
    elif mutation < 0.25:
        question["competency"] = hostile(rng, 1)
    bank = yaml.safe_dump({"questions": [question, screen]}, allow_unicode=True)
    if rng.random() < 0.1:
        bank = rng.choice(BROKEN_YAML)
    (root / "questions" / "q.yaml").write_text(bank, encoding="utf-8", errors="surrogatepass")
    (root / "rubric.yaml").write_text(yaml.safe_dump({"competencies": [{
        "id": "fuzz", "title": hostile(rng, 2), "measures": hostile(rng, 2),
        "anchors": {n: hostile(rng, 2) for n in (1, 2, 3, 4)}}]}, allow_unicode=True))
    (root / "role.yaml").write_text(yaml.safe_dump({
        "id": "fuzz-role", "title": hostile(rng, 2), "summary": hostile(rng), "competencies": [{"id": "fuzz"}],
        "levels": {"senior": {"minutes": 30, "questions": 1, "prescreen": 1, "prescreen_minutes": 5}}},
        allow_unicode=True))
    config = root / "kitgen.yaml"
    config.write_text("banks: [questions]\nrubrics: [rubric.yaml]\nroles: [role.yaml]\n")
    return config


def gen_layers(rng: random.Random, index: int, options: Options) -> Case:
    # the layer itself is written in run_layers from this case's own random stream
    printed = bool(options.pdf_every) and index % options.pdf_every == 0
    state = rng.getstate()
    name = hostile(rng, 2)
    return Case(index, f"{'printed, ' if printed else ''}name {_shown(name, 200)}", {"rng": state, "printed": printed},
                timeout=120 if printed else 30, budget=None if printed else 10)


def setup_layers(work: Path, options: Options) -> dict[str, Any]:
    from kit import pdf

    _limit_memory(options.memory_mb)
    fetched: list[str] = []
    refuse = pdf.AssetsOnlyFetcher.fetch

    def watching(self, url, headers=None):  # type: ignore[no-untyped-def]
        fetched.append(url)
        return refuse(self, url, headers)

    pdf.AssetsOnlyFetcher.fetch = watching  # type: ignore[method-assign]
    return {"work": work, "fetched": fetched}


def run_layers(case: Case, state: dict[str, Any]) -> Outcome:
    from kit.errors import KitgenError
    from kit.layers import find_layers
    from kit.manifest import People
    from kit.pipeline import Request, make_kit
    from kit.render import render_documents
    from kit.select import select_kit
    from kit.validate import load_library

    rng = random.Random()
    rng.setstate(case.data["rng"])
    name = hostile(rng, 2)
    root = state["work"] / f"case-{case.index}"
    outcome = Outcome()
    fetched = len(state["fetched"])
    try:
        config = layer(rng, root / "team")
        try:
            library = load_library(find_layers(config))
            if case.data["printed"]:
                make_kit(Request("fuzz-role", "senior", people=People(name), out=root / "out"), library)
                outcome.status = "printed"
            else:
                kit = select_kit(library, "fuzz-role", "senior")
                render_documents(library, [kit], People(name), ("fuzz", "fuzz"))
                outcome.status = "rendered"
        except KitgenError as exc:
            outcome.status = "refused"
            lines = one_line_errors(exc.format_message())
            if not all(line.strip() for line in lines) or any(_CONTROL.search(line) for line in lines):
                outcome.fail("malformed", f"{exc.format_message()!r}")
        except Exception:  # noqa: BLE001
            outcome.status = "traceback"
            outcome.traceback("load/validate/select/render", (root / "team" / "questions" / "q.yaml").read_text(
                encoding="utf-8", errors="replace")[:300])
        for url in state["fetched"][fetched:]:
            if "/templates/" not in url:
                outcome.fail("fetch", f"the renderer was asked for {url}")
        for path in leftovers(root / "out"):
            outcome.fail("partial", f"left {path}")
    finally:
        remove(root)
    return outcome


# =========================================================================================================
# Running: one process per surface, each case under a watch
# =========================================================================================================

SETUP = {"roster": setup_roster, "cache": setup_cache, "templates": setup_templates, "layers": setup_layers}
RUN = {"roster": run_roster, "cache": run_cache, "templates": run_templates, "layers": run_layers}


def generate(surface: str, seed: int, index: int, options: Options) -> Case:
    rng = random.Random(f"{surface}:{seed}:{index}")
    if surface == "roster":
        return gen_roster(rng, index)
    if surface == "cache":
        return gen_cache(rng, index)
    if surface == "templates":
        return gen_templates(rng, index, options)
    return gen_layers(rng, index, options)


def worker(surface: str, indexes: list[int], options: Options, work: str, accepted: int, conn: Any) -> None:
    """Run ``surface``'s cases ``indexes`` in this process, reporting each to the parent."""
    if hasattr(os, "setpgrp"):
        os.setpgrp()  # the parent can end this process and every process it starts (batch workers) at once
    import warnings

    warnings.simplefilter("ignore")
    home = Path(work)
    home.mkdir(parents=True, exist_ok=True)
    os.environ["KITGEN_CACHE_DIR"] = str(home / "spare-cache")
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")
    os.chdir(home)
    try:
        state = SETUP[surface](Path(tempfile.mkdtemp(dir=home, prefix="setup-")), options)
    except Exception:  # noqa: BLE001
        conn.send(("setup failed", traceback.format_exc()))
        return
    state["accepted"] = accepted
    for index in indexes:
        case = generate(surface, options.seed, index, options)
        conn.send(("start", index, case.described, case.timeout))
        started = time.monotonic()
        try:
            outcome = RUN[surface](case, state)
        except Exception:  # noqa: BLE001 - the fuzzer's own failure, shown as such
            outcome = Outcome(status="fuzzer error")
            outcome.fail("fuzzer error", traceback.format_exc())
        outcome.seconds = time.monotonic() - started
        if case.budget is not None and outcome.seconds > case.budget and not outcome.notes.get("batch runs"):
            outcome.fail("slow", f"took {outcome.seconds:.1f} s (budget {case.budget:.0f} s)")
        if outcome.memory_mb > options.huge_mb:
            outcome.fail("huge", f"used {outcome.memory_mb} MB more memory")
        conn.send(("done", index, outcome, state.get("accepted", 0)))
    conn.send(("finished",))


def _kill(process: Any) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (OSError, AttributeError):
        process.kill()
    process.join(10)


def run_surface(surface: str, options: Options, work: Path, indexes: list[int] | None = None,
                echo: Callable[[str], None] = lambda line: None) -> Tally:
    """Every case of one surface, in a worker process that is restarted after a case that hangs or kills it."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    tally = Tally(surface)
    started = time.monotonic()
    pending = list(range(options.count)) if indexes is None else list(indexes)
    accepted = 0
    while pending:
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=worker, args=(surface, pending, options, str(work / surface), accepted, sender),
                                  daemon=False)
        process.start()
        sender.close()
        current: tuple[int, str] | None = None
        current_timeout = 0.0
        deadline = time.monotonic() + 300  # for the worker's setup
        try:
            while True:
                if receiver.poll(max(0.0, min(1.0, deadline - time.monotonic()))):
                    try:
                        message = receiver.recv()
                    except EOFError:
                        message = ("died",)
                elif time.monotonic() > deadline:
                    message = ("timeout",)
                elif not process.is_alive() and not receiver.poll(0.2):
                    message = ("died",)
                else:
                    continue
                if message[0] == "start":
                    current, current_timeout = (message[1], message[2]), message[3]
                    deadline = time.monotonic() + current_timeout
                elif message[0] == "done":
                    index, outcome, accepted = message[1], message[2], message[3]
                    tally.add(index, current[1] if current else "?", outcome)
                    pending.remove(index)
                    current, deadline = None, time.monotonic() + 600
                    if tally.cases % 100 == 0:
                        echo(f"  {surface}: {tally.cases}/{options.count} cases")
                elif message[0] == "finished":
                    process.join(30)
                    break
                elif message[0] == "setup failed":
                    raise RuntimeError(f"{surface}: the fuzzer's setup failed:\n{message[1]}")
                else:  # a case that hung ("timeout") or killed its process ("died")
                    _kill(process)
                    if current is None:
                        raise RuntimeError(f"{surface}: the worker {message[0]} outside a case (exit {process.exitcode})")
                    outcome = Outcome(status=message[0], seconds=time.monotonic() - deadline + current_timeout)
                    if message[0] == "timeout":
                        outcome.fail("slow", "did not finish before its timeout; the worker was killed")
                    else:
                        outcome.fail("traceback", f"the worker process died (exit code {process.exitcode})")
                    tally.add(current[0], current[1], outcome)
                    pending.remove(current[0])
                    break
        finally:
            if process.is_alive():
                _kill(process)
            receiver.close()
    tally.seconds = time.monotonic() - started
    return tally


def fuzz(surfaces: list[str], options: Options, indexes: list[int] | None = None,
         echo: Callable[[str], None] = lambda line: None) -> dict[str, Tally]:
    """Run each surface (``options.jobs`` at a time) in its own process; the tallies by surface."""
    with tempfile.TemporaryDirectory(prefix="kitgen-fuzz-", dir=options.work) as temp:
        work = Path(temp)
        with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
            futures = {s: pool.submit(run_surface, s, options, work, indexes, echo) for s in surfaces}
            tallies = {s: f.result() for s, f in futures.items()}
        for root, dirs, _ in os.walk(work):  # planted read-only folders must not stop the clean-up
            for name in dirs:
                try:
                    os.chmod(Path(root) / name, 0o700, follow_symlinks=False)
                except (OSError, NotImplementedError):
                    pass
    return tallies


def table(tallies: dict[str, Tally]) -> str:
    headers = ["cases", *COLUMNS.values(), "other"]
    lines = [f"{'surface':<11}" + "".join(f"{h:>{max(len(h), 5) + 2}}" for h in headers) + "   seconds"]
    for surface, tally in tallies.items():
        values = [tally.cases, *(tally.column(c) for c in COLUMNS.values()), tally.column("other")]
        lines.append(f"{surface:<11}" + "".join(f"{v:>{max(len(h), 5) + 2}}" for h, v in zip(headers, values))
                     + f"{tally.seconds:>10.0f}")
    return "\n".join(lines)


def report(tallies: dict[str, Tally], shown: int = 3, slow: bool = False) -> str:
    """What each surface did, then the first failures of each kind with the input that caused them."""
    lines = []
    for surface, tally in tallies.items():
        statuses = ", ".join(f"{n} {s}" for s, n in tally.statuses.most_common())
        notes = ", ".join(f"{n} {s}" for s, n in sorted(tally.notes.items()))
        lines.append(f"{surface}: {statuses}" + (f"; {notes}" if notes else ""))
        other = {k: n for k, n in tally.failures.items() if k not in COLUMNS}
        if other:
            lines.append(f"  other: {', '.join(f'{n} {k}' for k, n in sorted(other.items()))}")
        if slow:
            lines += [f"  {seconds:5.1f} s  #{index}: {_clip(described, 150)}" for seconds, index, described in tally.slowest]
    for surface, tally in tallies.items():
        for kind in sorted(tally.examples, key=lambda k: (k != "traceback", k)):
            for index, described, detail in tally.examples[kind][:shown]:
                lines += ["", f"--- {surface} #{index}: {kind} ---", f"input: {_clip(described, 700)}",
                          _clip(detail, 3000)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:4]))
    parser.add_argument("--surfaces", default=",".join(SURFACES),
                        help=f"comma-separated, from {', '.join(SURFACES)} (default: all)")
    parser.add_argument("--count", type=int, default=Options.count, help="cases per surface")
    parser.add_argument("--seed", type=int, default=Options.seed)
    parser.add_argument("--jobs", type=int, default=Options.jobs, help="surfaces run at once")
    parser.add_argument("--batch-every", type=int, default=Options.batch_every)
    parser.add_argument("--check-every", type=int, default=Options.check_every)
    parser.add_argument("--cli-every", type=int, default=Options.cli_every)
    parser.add_argument("--pdf-every", type=int, default=Options.pdf_every)
    parser.add_argument("--huge-mb", type=int, default=Options.huge_mb)
    parser.add_argument("--memory-mb", type=int, default=Options.memory_mb)
    parser.add_argument("--only", type=int, action="append", help="run only this case number (repeatable)")
    parser.add_argument("--shown", type=int, default=3, help="failures shown per kind and surface")
    parser.add_argument("--slowest", action="store_true", help="also list each surface's five slowest cases")
    args = parser.parse_args()
    surfaces = [s.strip() for s in args.surfaces.split(",") if s.strip()]
    if unknown := [s for s in surfaces if s not in SURFACES]:
        parser.error(f"unknown surface {unknown[0]!r} (from: {', '.join(SURFACES)})")
    options = Options(count=max(args.count, max(args.only or [0]) + 1), seed=args.seed, jobs=args.jobs,
                      batch_every=args.batch_every, check_every=args.check_every, cli_every=args.cli_every,
                      pdf_every=args.pdf_every, huge_mb=args.huge_mb, memory_mb=args.memory_mb)
    started = time.monotonic()
    tallies = fuzz(surfaces, options, args.only, echo=lambda line: print(line, file=sys.stderr, flush=True))
    print(f"fuzzed {', '.join(surfaces)}: {args.count if not args.only else len(args.only)} cases each "
          f"(seed {args.seed}) in {time.monotonic() - started:.0f} s\n")
    print(table(tallies))
    print()
    print(report(tallies, args.shown, args.slowest))
    raise SystemExit(1 if any(t.failed for t in tallies.values()) else 0)


if __name__ == "__main__":
    main()
