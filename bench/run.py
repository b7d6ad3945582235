"""kitgen's benchmark: every figure side by side, from one run on this machine.

Run:  .venv/bin/python bench/run.py [--runs 5] [--batch 8] [--bank 10000]

Machines here are shared and noisy, so compare the ratios, not the seconds: each timed command
is a fresh process, repeated and interleaved with the ones it is compared to, median reported.
"""

from __future__ import annotations

import argparse
import json
import os
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
from kit.render import render_documents, template_folders
t1 = time.perf_counter()
layers = [builtin_layer()]
merge_layers(layers)
t2 = time.perf_counter()
library = load_library(layers)
t3 = time.perf_counter()
kits = [select_kit(library, "cv-engineer", "senior")]
t4 = time.perf_counter()
record = manifest(kits, People())
pages = render_documents(library, kits, People(), (record.kit_id, "sheet"), forms=True)
t5 = time.perf_counter()
from kit.pdf import print_pdf
t6 = time.perf_counter()
for html in pages.values():
    print_pdf(html, template_folders(library), attach=("kit.yaml", b"kit_id: x"))
t7 = time.perf_counter()
for html in pages.values():  # the same again in a warm process
    print_pdf(html, template_folders(library), attach=("kit.yaml", b"kit_id: x"))
t8 = time.perf_counter()
print(json.dumps({"import kitgen": t1 - t0, "load (read + merge YAML)": t2 - t1,
                  "validate (models)": (t3 - t2) - (t2 - t1), "select": t4 - t3, "render HTML": t5 - t4,
                  "import WeasyPrint": t6 - t5, "print PDFs": t7 - t6, "print PDFs, warm": t8 - t7}))
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


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    return time.perf_counter() - start


def medians(commands: dict[str, list[str]], runs: int, env: dict[str, str]) -> dict[str, float]:
    """Median wall time of each command, the commands interleaved run by run."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            times[name].append(timed(argv, env))
    return {name: statistics.median(values) for name, values in times.items()}


def json_run(code: str, *args: str, env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True,
                          env=env, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


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
    parser.add_argument("--batch", type=int, default=8, help="candidates in the batch throughput run")
    parser.add_argument("--bank", type=int, default=10_000, help="questions in the generated bank")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        env = {**os.environ, "KITGEN_CACHE_DIR": str(tmp_path / "cache")}
        out = tmp_path / "kits"
        subprocess.run([*KITGEN, *QUICK_START, "--format", "html", "--out", str(out)], check=True,
                       stdout=subprocess.DEVNULL, env=env, cwd=ROOT)
        kit = out / "cv-engineer-senior"
        pages = [str(kit / "interviewer.html"), str(kit / "prescreen.html")]
        print(f"kitgen benchmark: median of {options.runs} runs, a fresh process each, {os.cpu_count()} cores\n")

        print("1. The quick-start kit (kitgen --role cv-engineer --level senior), step by step, in one process")
        steps = json_run(STEPS, env=env)
        for name, seconds in steps.items():
            print(f"   {name:<30} {seconds:7.3f} s")
        whole = medians({"kitgen": [*KITGEN, *QUICK_START, "--out", str(out / "q"), "--force"],
                         "weasyprint": [sys.executable, "-c", WEASYPRINT_ALONE, *pages]}, options.runs, env)
        print(f"   {'whole kitgen run':<30} {whole['kitgen']:7.3f} s")
        print(f"   {'WeasyPrint alone, same HTML':<30} {whole['weasyprint']:7.3f} s")
        print(f"   {'kitgen / WeasyPrint alone':<30} {whole['kitgen'] / whole['weasyprint']:7.2f}   (aim: at most 1.10)\n")

        print("2. Start-up (aim: under 0.25 s; WeasyPrint is not imported)")
        quick = medians({"kitgen --help": [*KITGEN, "--help"], "kitgen list": [*KITGEN, "list"]}, options.runs, env)
        for name, seconds in quick.items():
            print(f"   {name:<30} {seconds:7.3f} s")
        print()

        print(f"3. A batch of {options.batch} candidates (kitgen batch)")
        roster = tmp_path / "roster.csv"
        roster.write_text("candidate,role,level\n" + "".join(f"C{n},cv-engineer,senior\n" for n in range(options.batch)))
        rates = {}
        for workers in (1, 2):
            seconds = timed([*KITGEN, "batch", str(roster), "--out", str(tmp_path / f"batch{workers}"),
                             "--workers", str(workers)], env)
            rates[workers] = options.batch / seconds
            print(f"   {f'{workers} worker' + ('s' if workers > 1 else ''):<30} {rates[workers]:7.3f} kits/s")
        print(f"   {'2 workers / 1 worker':<30} {rates[2] / rates[1]:7.2f}   (aim: at least 1.8)")
        warm = steps["print PDFs, warm"] + steps["render HTML"] + steps["select"]
        print(f"   {'per kit in a 1-worker batch':<30} {1 / rates[1]:7.3f} s")
        print(f"   {'one kit in a warm process':<30} {warm:7.3f} s\n")

        print(f"4. A generated bank of {options.bank} questions: load and validate (aim: under 1 s)")
        write_bank(tmp_path / "bank", options.bank)
        cold = json_run(BANK, str(tmp_path / "bank"), env={**env, "KITGEN_CACHE": "off"})
        json_run(BANK, str(tmp_path / "bank"), env=env)  # fills the cache
        again = json_run(BANK, str(tmp_path / "bank"), env=env)
        print(f"   {'no cache (parse every file)':<30} {cold['seconds']:7.3f} s   peak {cold['peak_mb']:.0f} MB")
        print(f"   {'cached (files unchanged)':<30} {again['seconds']:7.3f} s   peak {again['peak_mb']:.0f} MB"
              f"   ({again['questions']:.0f} questions)")


if __name__ == "__main__":
    main()
