"""Wall time of the quick start against WeasyPrint alone, and of the commands that must start fast.

Run: .venv/bin/python bench/quickstart.py [--runs N]

Every figure is a median over N interleaved runs of a fresh process, so machine noise hits
all rows alike; compare the ratios, not the absolute seconds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KIT = ["--role", "cv-engineer", "--level", "senior"]
WEASYPRINT_ALONE = """
import sys
from pathlib import Path
from weasyprint import HTML
for page in sys.argv[1:]:
    HTML(string=Path(page).read_text()).write_pdf()
"""


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    kitgen = [sys.executable, "-m", "kit"]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        subprocess.run([*kitgen, *KIT, "--format", "html", "--out", str(out)], check=True, stdout=subprocess.DEVNULL)
        pages = [str(out / "cv-engineer-senior" / f"{doc}.html") for doc in ("interviewer", "prescreen")]
        commands = {
            "kitgen --help": [*kitgen, "--help"],
            "kitgen list": [*kitgen, "list"],
            "quick-start kit (2 PDFs)": [*kitgen, *KIT, "--out", str(out / "bench"), "--force"],
            "WeasyPrint alone, same HTML": [sys.executable, "-c", WEASYPRINT_ALONE, *pages],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, argv in commands.items():
                times[name].append(timed(argv))
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"median of {runs} runs, fresh process each")
    for name, value in median.items():
        print(f"  {name:<30} {value:6.3f} s")
    ratio = median["quick-start kit (2 PDFs)"] / median["WeasyPrint alone, same HTML"]
    print(f"  kitgen overhead: quick-start kit / WeasyPrint alone = {ratio:.2f}")


if __name__ == "__main__":
    main()
