"""kitgen's print-file benchmark: peak memory of merging N kits into one print.pdf, streamed and in memory.

Run:  .venv/bin/python bench/print_memory.py [--sizes 10 100 1000] [--old-sizes 10 100]

One real kit is made, then N kit folders of hard links to its interviewer.pdf and prescreen.pdf.
Each merge runs in a fresh process, which reports its own peak RSS (interpreter and imports included)
and its time. Machines here are shared and noisy: compare the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pikepdf

KITGEN = [sys.executable, "-m", "kit"]
QUICK_START = ["--role", "cv-engineer", "--level", "senior"]
ROOT = Path(__file__).resolve().parent.parent

MERGE = """
import json, resource, sys, time
from pathlib import Path
folders = sorted(Path(sys.argv[2]).iterdir())
sources = [pdf for folder in folders for pdf in (folder / "interviewer.pdf", folder / "prescreen.pdf")]
target = Path(sys.argv[3])
if sys.argv[1] == "idle":
    import pikepdf
    from kit.printjob import write_print_pdf
    start = time.perf_counter()
    pages = 0
elif sys.argv[1] == "streamed":
    from kit.printjob import write_print_pdf
    start = time.perf_counter()
    with target.open("wb") as handle:
        pages = write_print_pdf(sources, handle)
else:  # kit.batch.merge_for_print as it was: every page in one pikepdf.Pdf, saved to memory
    import io, warnings
    import pikepdf
    start = time.perf_counter()
    merged = pikepdf.Pdf.new()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
        for pdf in sources:
            source = pikepdf.Pdf.open(pdf)
            source.flatten_annotations("all")
            merged.pages.extend(source.pages)
        buffer = io.BytesIO()
        merged.save(buffer)
    target.write_bytes(buffer.getvalue())
    pages = len(merged.pages)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "pages": pages, "peak_mb": peak}))
"""


def merge(how: str, kits: Path, target: Path, env: dict[str, str]) -> dict[str, float]:
    """Merge every kit in ``kits`` in a fresh process; its time, page count and peak RSS."""
    done = subprocess.run([sys.executable, "-c", MERGE, how, str(kits), str(target)], check=True,
                          capture_output=True, text=True, env=env, cwd=ROOT)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["out_mb"] = target.stat().st_size / 2**20 if target.exists() else 0.0
    if how != "idle":
        with pikepdf.open(target) as pdf:
            assert len(pdf.pages) == figures["pages"], (how, len(pdf.pages), figures["pages"])
    return figures


def link_kits(kit: Path, folder: Path, count: int) -> None:
    """``count`` kit folders of hard links to one kit's packet and prescreen sheet."""
    for n in range(count):
        target = folder / f"kit-{n:05d}"
        target.mkdir(parents=True)
        for name in ("interviewer.pdf", "prescreen.pdf"):
            os.link(kit / name, target / name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000], help="kits per print file")
    parser.add_argument("--old-sizes", type=int, nargs="*", default=[10, 100],
                        help="sizes also merged the old way, in memory (about 5 MB a kit)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        env = {**os.environ, "KITGEN_CACHE_DIR": str(tmp_path / "cache")}
        subprocess.run([*KITGEN, *QUICK_START, "--out", str(tmp_path / "kit")], check=True,
                       stdout=subprocess.DEVNULL, env=env, cwd=ROOT)
        kit = tmp_path / "kit" / "cv-engineer-senior"
        sizes = {name: (kit / name).stat().st_size / 1024 for name in ("interviewer.pdf", "prescreen.pdf")}
        print(f"kitgen print-file benchmark: one kit is {', '.join(f'{k} {v:.0f} kB' for k, v in sizes.items())}")
        idle = merge("idle", tmp_path / "kit", tmp_path / "idle.pdf", env)
        print(f"a process that only imports pikepdf and kit.printjob peaks at {idle['peak_mb']:.0f} MB\n")
        print(f"   {'approach':<10} {'kits':>6} {'pages':>7} {'seconds':>8} {'kits/s':>7} {'output MB':>10} {'peak RSS MB':>12}")
        results: dict[tuple[str, int], dict[str, float]] = {}
        for count in options.sizes:
            kits = tmp_path / f"kits-{count}"
            link_kits(kit, kits, count)
            for how in ("streamed", "in-memory"):
                if how == "in-memory" and count not in options.old_sizes:
                    continue
                row = results[how, count] = merge(how, kits, tmp_path / f"{how}-{count}.pdf", env)
                print(f"   {how:<10} {count:>6} {row['pages']:>7.0f} {row['seconds']:>8.2f} {count / row['seconds']:>7.0f}"
                      f" {row['out_mb']:>10.1f} {row['peak_mb']:>12.0f}")
                (tmp_path / f"{how}-{count}.pdf").unlink()
        print()
        small, large = min(options.sizes), max(options.sizes)
        streamed = {count: row for (how, count), row in results.items() if how == "streamed"}
        if small != large:
            growth = (streamed[large]["peak_mb"] - streamed[small]["peak_mb"]) / (large - small) * 1024
            print(f"   streamed peak RSS, {large} kits / {small} kits: {streamed[large]['peak_mb'] / streamed[small]['peak_mb']:.2f}"
                  f"   ({growth:.0f} kB more per kit; aim: flat, and under 300 MB at 1000 kits)")
        for count in sorted(set(options.old_sizes) & set(options.sizes)):
            old, new = results["in-memory", count], streamed[count]
            print(f"   in-memory / streamed at {count} kits: peak RSS {old['peak_mb'] / new['peak_mb']:.1f}x,"
                  f" time {old['seconds'] / new['seconds']:.2f}x, output size {old['out_mb'] / new['out_mb']:.2f}x")


if __name__ == "__main__":
    main()
