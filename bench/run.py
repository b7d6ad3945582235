"""kitgen's benchmark: every figure side by side, from one run on this machine, with headless Chromium
printing the same HTML as the peer.

Run:  .venv/bin/python bench/run.py [--runs 5] [--roster 50] [--bank 10000]

Machines here are shared and noisy, so compare the ratios, not the seconds: each timed command
is a fresh process, repeated and interleaved with the ones it is compared to, median reported.
The peer is Debian's ``chromium`` (cold: one browser process per document, as from a shell) and,
for rosters, one warm browser driven by Playwright with a page per core (``pip install -e
'.[bench]'``); where either is missing its rows say so and the rest still runs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KITGEN = [sys.executable, "-m", "kit"]
QUICK_START = ["--role", "cv-engineer", "--level", "senior"]
ROOT = Path(__file__).resolve().parent.parent

WEASYPRINT_ALONE = """
import sys
from pathlib import Path
from weasyprint import HTML
for page in sys.argv[1:]:
    HTML(string=Path(page).read_text(), base_url=str(Path(page).parent)).write_pdf(pdf_tags=True)
"""

STEPS = """
import json, time
t0 = time.perf_counter()
from kit.layers import builtin_layer
from kit.merge import merge_layers
from kit.validate import load_library
from kit.select import select_kit
from kit.manifest import People, manifest
from kit.render import render_documents, asset_roots
t1 = time.perf_counter()
layers = [builtin_layer()]
merge_layers(layers)
t2 = time.perf_counter()
library = load_library(layers)
t3 = time.perf_counter()
kits = [select_kit(library, "cv-engineer", "senior")]
t4 = time.perf_counter()
def documents(name):
    people = People(name)
    record = manifest(kits, people)
    return record.kit_id, render_documents(library, kits, people, (record.kit_id, "sheet"), forms=True)
kit_id, pages = documents("Ada")
t5 = time.perf_counter()
from kit.pdf import HTML, AssetsOnlyFetcher, print_pdf
from kit.assets import asset_dir
from kit.reuse import Layouts
t6 = time.perf_counter()
from weasyprint.text.fonts import FontConfiguration
roots, fonts = asset_roots(library), FontConfiguration()  # one per process, as kitgen's
def lay_out(html):
    return HTML(string=html, base_url=str(asset_dir("templates")), url_fetcher=AssetsOnlyFetcher(roots)).render(
        font_config=fonts, pdf_tags=True)
lay_out(pages["interviewer"])  # warm up fonts and caches, as a batch worker is
t7 = time.perf_counter()
packet = lay_out(pages["interviewer"])
t8 = time.perf_counter()
packet.write_pdf(pdf_tags=True)
t9 = time.perf_counter()
packet.write_pdf(pdf_tags=False)
t9a = time.perf_counter()
flat = render_documents(library, kits, People("Ada"), (kit_id, "sheet"), forms=False)["interviewer"]
t9b = time.perf_counter()
lay_out(flat).write_pdf(pdf_tags=True)
t9c = time.perf_counter()
for name in ("prescreen", "screener"):
    print_pdf(pages[name], roots)
t10 = time.perf_counter()
layouts = Layouts()
for name in ("Ada", "Alan Turing", "Bo"):  # the second checks the first's stamp; the third is a batch's usual
    other_id, other = documents(name)
    t11 = time.perf_counter()
    print_pdf(other["interviewer"], roots, layouts=layouts, per_kit=[other_id, name])
    t12 = time.perf_counter()
assert layouts.reused == 2
print(json.dumps({"import kitgen": t1 - t0, "load (read + merge YAML)": t2 - t1,
                  "validate (models)": (t3 - t2) - (t2 - t1), "select": t4 - t3, "render HTML": t5 - t4,
                  "import WeasyPrint": t6 - t5, f"lay out the packet ({len(packet.pages)} p.)": t8 - t7,
                  "write the packet's PDF": t9 - t8, "  of which tags": (t9 - t8) - (t9a - t9),
                  "  of which form fields": (t9 - t7) - (t9c - t9b), "prescreen + screener PDFs": t10 - t9c,
                  "the packet from kept pages": t12 - t11}))
"""

BANK = """
import json, resource, sys, time
from pathlib import Path
from kit.layers import Layer, builtin_layer
from kit.validate import load_library
folder = Path(sys.argv[1])
layer = Layer("big", banks=tuple(sorted(folder.glob("*.yaml"))))
t = time.perf_counter()
library = load_library([builtin_layer(), layer])
elapsed = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "questions": len(library.questions), "peak_mb": peak}))
"""


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-quic", "--no-pdf-header-footer"]

KIT_HTML = """
import sys
from pathlib import Path
from kit.manifest import People, manifest
from kit.render import asset_roots, render_documents, standalone
from kit.select import select_kit
from kit.validate import load_library
library, out = load_library(), Path(sys.argv[1])
for line in sys.stdin.read().splitlines():
    name, role, level, seed = line.split(",")
    kits = [select_kit(library, role, level, int(seed))]
    record = manifest(kits, People(name))
    for doc, html in render_documents(library, kits, People(name), (record.kit_id, "sheet"), forms=True).items():
        (out / f"{name}-{doc}.html").write_text(standalone(html, asset_roots(library)))
"""


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    return time.perf_counter() - start


def measured(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds of a command, and the peak memory in MB of its largest process (workers included)."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{' '.join(argv)} failed ({process.returncode})")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def medians(commands: dict[str, list[str]], runs: int, env: dict[str, str]) -> dict[str, float]:
    """Median wall time of each command, the commands interleaved run by run, after one run of each that
    is not counted (a first run fills disk and font caches, which a user pays once)."""
    for argv in commands.values():
        timed(argv, env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            times[name].append(timed(argv, env))
    return {name: statistics.median(values) for name, values in times.items()}


def json_run(code: str, *args: str, env: dict[str, str], stdin: str = "") -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True,
                          env=env, cwd=ROOT, input=stdin)
    return json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {}


def chromium_cold(pages: list[Path], out: Path) -> list[str]:
    """A command printing every page with a fresh headless Chromium each, as from a shell."""
    script = "\n".join(
        " ".join(shlex.quote(a) for a in [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={out / f'profile-{n}'}",
                                          f"--print-to-pdf={out / f'{n}.pdf'}", page.as_uri()])
        + " 2>/dev/null" for n, page in enumerate(pages))
    return ["sh", "-ec", script]


WARM = """
import asyncio, json, sys, time
from pathlib import Path
from playwright.async_api import async_playwright

async def main(executable, flags, out, pages, tabs):
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=flags)
        queue = list(enumerate(pages))
        async def tab():
            page = await browser.new_page()
            while queue:
                n, path = queue.pop()
                await page.goto(Path(path).as_uri())
                await page.pdf(path=f"{out}/{n}.pdf", prefer_css_page_size=True, print_background=True)
        start = time.perf_counter()  # the browser is running: a warm peer
        await asyncio.gather(*(tab() for _ in range(tabs)))
        print(json.dumps({"seconds": time.perf_counter() - start}))
        await browser.close()

asyncio.run(main(sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[5:], int(sys.argv[4])))
"""


def chromium_warm(pages: list[Path], out: Path, env: dict[str, str]) -> float | None:
    """Seconds one running Chromium takes to print every page, a tab per core; None without Playwright."""
    if not CHROMIUM or importlib.util.find_spec("playwright") is None:
        return None
    out.mkdir(parents=True, exist_ok=True)
    done = json_run(WARM, CHROMIUM, json.dumps(CHROMIUM_FLAGS[1:-1]), str(out), str(os.cpu_count() or 1),
                    *map(str, pages), env=env)
    return done["seconds"]


def roster_rows(kind: str, count: int) -> list[tuple[str, str, str, int]]:
    """``same``: one role and level; ``vary``: the same with a rotation each; ``mixed``: every role and level."""
    roles = ["cv-engineer", "nlp-engineer", "dl-engineer", "dl-scientist"]
    levels = ["junior", "mid", "senior", "staff"]
    if kind == "mixed":
        return [(f"Candidate {n}", roles[n % 4], levels[n // 4 % 4], 1) for n in range(count)]
    return [(f"Candidate {n}", "cv-engineer", "senior", n + 1 if kind == "vary" else 1) for n in range(count)]


def ratio(a: float, b: float | None, aim: str) -> str:
    return f"{a / b:7.2f}   ({aim})" if b else "      -   (peer skipped)"


def write_bank(folder: Path, count: int) -> None:
    """``count`` generated questions (about 660 bytes each) over ten files."""
    folder.mkdir(parents=True, exist_ok=True)
    competencies = ["fundamentals", "training", "vision", "coding", "data-eval", "production", "behavioural"]
    per_file = count // 10
    for f in range(10):
        lines = ["questions:"]
        for n in range(f * per_file, (f + 1) * per_file):
            lines += [
                f"  - id: gen-{n}",
                f"    competency: {competencies[n % len(competencies)]}",
                "    kind: technical",
                "    roles: [cv-engineer, dl-engineer]",
                "    levels: [mid, senior]",
                "    level_note: Generated for the benchmark; asks to compare two options.",
                "    minutes: 6",
                f"    text: Generated question {n}. Compare two ways to regularise a model and say when each is better.",
                "    guidance:",
                "      - Names weight decay and dropout and what each penalises.",
                "      - Explains the interaction with batch normalisation.",
                "      - Chooses by data size and model capacity, with a reason.",
                "    follow_ups: [What changes with ten times the data?]",
                "    red_flags: [Treats the two as interchangeable.]",
            ]
        (folder / f"bank-{f}.yaml").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="repeats of each timed command")
    parser.add_argument("--roster", type=int, default=50, help="candidates in each roster")
    parser.add_argument("--bank", type=int, default=10_000, help="questions in the generated bank")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        env = {**os.environ, "KITGEN_CACHE_DIR": str(tmp_path / "cache")}
        print(f"kitgen benchmark: median of {options.runs} runs, a fresh process each, {os.cpu_count()} cores; "
              f"peer: {CHROMIUM or 'no Chromium found'}\n")
        single = one_kit(tmp_path, options.runs, env)
        start_up(options.runs, env)
        rosters(tmp_path, options.roster, single, env)
        bank(tmp_path, options.bank, env)


def one_kit(tmp_path: Path, runs: int, env: dict[str, str]) -> float:
    """Section 1: the quick-start kit, step by step, then whole, beside WeasyPrint alone and Chromium."""
    out = tmp_path / "kits"
    subprocess.run([*KITGEN, *QUICK_START, "--format", "html", "--out", str(out)], check=True,
                   stdout=subprocess.DEVNULL, env=env, cwd=ROOT)
    pages = sorted((out / "cv-engineer-senior").glob("*.html"))
    print(f"1. One kit (kitgen {' '.join(QUICK_START)}: {len(pages)} PDFs), step by step in one process")
    for name, seconds in json_run(STEPS, env=env).items():
        print(f"   {name:<34} {seconds:7.3f} s")
    commands = {"kitgen": [*KITGEN, *QUICK_START, "--out", str(out / "q"), "--force"],
                "weasyprint": [sys.executable, "-c", WEASYPRINT_ALONE, *map(str, pages)]}
    if CHROMIUM:
        commands["chromium"] = chromium_cold(pages, tmp_path / "cold")
    whole = medians(commands, runs, env)
    print(f"   {'whole kitgen run':<34} {whole['kitgen']:7.3f} s")
    print(f"   {'WeasyPrint alone, same HTML':<34} {whole['weasyprint']:7.3f} s")
    print(f"   {'Chromium, cold, same HTML':<34} " + (f"{whole['chromium']:7.3f} s" if CHROMIUM else "      -   (no chromium)"))
    print(f"   {'kitgen / WeasyPrint alone':<34} {whole['kitgen'] / whole['weasyprint']:7.2f}   (aim: at most 1.10)")
    print(f"   {'kitgen / Chromium cold':<34} {ratio(whole['kitgen'], whole.get('chromium'), 'aim: at most 1.0')}\n")
    return whole["kitgen"]


def start_up(runs: int, env: dict[str, str]) -> None:
    print("2. Start-up (aim: under 0.25 s; WeasyPrint is not imported)")
    quick = medians({"kitgen --help": [*KITGEN, "--help"], "kitgen list": [*KITGEN, "list"]}, runs, env)
    for name, seconds in quick.items():
        print(f"   {name:<34} {seconds:7.3f} s")
    print()


def rosters(tmp_path: Path, count: int, single: float, env: dict[str, str]) -> None:
    """Section 3: rosters on every core beside one warm Chromium printing the same documents; memory."""
    cores = os.cpu_count() or 1
    print(f"3. Rosters of {count} candidates (kitgen batch, {cores} workers) beside one warm Chromium, {cores} tabs")
    peaks = {}
    for kind in ("same", "vary", "mixed"):
        rows = roster_rows(kind, count)
        roster = tmp_path / f"{kind}.csv"
        roster.write_text("candidate,role,level,seed\n" + "".join(f"{n},{r},{lv},{sd}\n" for n, r, lv, sd in rows))
        seconds, peaks[kind] = measured([*KITGEN, "batch", str(roster), "--out", str(tmp_path / kind)], env)
        html = tmp_path / f"{kind}-html"
        html.mkdir()
        json_run(KIT_HTML, str(html), env=env, stdin="\n".join(",".join(map(str, row)) for row in rows))
        peer = chromium_warm(sorted(html.glob("*.html")), tmp_path / f"{kind}-chromium", env)
        label = {"same": "one role and level", "vary": "--vary", "mixed": "every role and level"}[kind]
        print(f"   {label:<34} {seconds:7.1f} s   per kit {seconds * cores / count:5.2f} s of a core"
              f"   Chromium {peer or 0:6.1f} s   kitgen / Chromium {ratio(seconds, peer, 'aim: at most 0.5')}")
        if kind == "same":
            print(f"   {'per kit (one core) / one cold kit':<34} {seconds * cores / count / single:7.2f}   (aim: at most 0.25)")
    small = tmp_path / "small.csv"
    small.write_text("candidate,role,level\n" + "".join(f"C{n},cv-engineer,senior\n" for n in range(max(count // 5, 2))))
    _, peak_small = measured([*KITGEN, "batch", str(small), "--out", str(tmp_path / "small")], env)
    print(f"4. Memory: peak of the largest process (a worker), {max(count // 5, 2)} kits {peak_small:.0f} MB, "
          f"{count} kits {peaks['same']:.0f} MB (--vary {peaks['vary']:.0f} MB, mixed {peaks['mixed']:.0f} MB)\n")


def bank(tmp_path: Path, size: int, env: dict[str, str]) -> None:
    print(f"5. A generated bank of {size} questions: load and validate (aim: under 1 s)")
    write_bank(tmp_path / "bank", size)
    cold = json_run(BANK, str(tmp_path / "bank"), env={**env, "KITGEN_CACHE": "off"})
    json_run(BANK, str(tmp_path / "bank"), env=env)  # fills the cache
    again = json_run(BANK, str(tmp_path / "bank"), env=env)
    print(f"   {'no cache (parse every file)':<34} {cold['seconds']:7.3f} s   peak {cold['peak_mb']:.0f} MB")
    print(f"   {'cached (files unchanged)':<34} {again['seconds']:7.3f} s   peak {again['peak_mb']:.0f} MB"
          f"   ({again['questions']:.0f} questions)")


if __name__ == "__main__":
    main()
