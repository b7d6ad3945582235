"""Fuzz kitgen with generated hostile inputs and count what went wrong.

Run:  .venv/bin/python bench/fuzz.py [--count 3000] [--pdf-every 100] [--seed 1]

Each input is a small team layer (a question bank, rubric and role) plus a candidate name, built
from hostile pieces: markup, Jinja, CSS url(), file:/http: links, Unicode of many scripts,
control characters, very long words, broken YAML, aliases, wrong types and unknown keys. Every
input goes through load → validate → select → render; every ``--pdf-every``-th is printed and
written too. It reports tracebacks (anything but kitgen's own one-line errors), fetch attempts
(URLs the renderer was asked for) and partial files left in the output folder; all must be zero.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import traceback
from collections import Counter
from pathlib import Path

import yaml

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--pdf-every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()

    from kit import pdf
    from kit.errors import KitgenError
    from kit.layers import find_layers
    from kit.manifest import People
    from kit.pipeline import Request, make_kit
    from kit.render import render_documents
    from kit.select import select_kit
    from kit.validate import load_library

    fetched: list[str] = []
    refuse = pdf.AssetsOnlyFetcher.fetch

    def watching(self, url, headers=None):  # type: ignore[no-untyped-def]
        fetched.append(url)
        return refuse(self, url, headers)

    pdf.AssetsOnlyFetcher.fetch = watching  # type: ignore[method-assign]
    rng = random.Random(options.seed)
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    partial = 0
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(options.count):
            root = Path(tmp) / str(n)
            name = hostile(rng, 2)
            try:
                config = layer(rng, root / "team")
                library = load_library(find_layers(config))
                if n % options.pdf_every == 0:
                    make_kit(Request("fuzz-role", "senior", people=People(name), out=root / "out"), library)
                    outcomes["printed"] += 1
                else:
                    kit = select_kit(library, "fuzz-role", "senior")
                    render_documents(library, [kit], People(name), ("fuzz", "fuzz"))
                    outcomes["rendered"] += 1
            except KitgenError as exc:
                lines = exc.format_message().splitlines()
                outcomes["one-line errors" if all(line.strip() for line in lines) else "malformed errors"] += 1
            except Exception:  # noqa: BLE001 - counting exactly these is the point
                outcomes["tracebacks"] += 1
                failures.append(traceback.format_exc(limit=3))
            out = root / "out"
            if out.exists():
                partial += sum(1 for p in out.rglob("*") if p.name.startswith(".") or p.suffix == ".part")
    print(f"fuzzed {options.count} generated inputs (seed {options.seed}):")
    for key in ("rendered", "printed", "one-line errors", "malformed errors", "tracebacks"):
        print(f"  {key:<18} {outcomes[key]}")
    own = [u for u in fetched if "/templates/" not in u]
    print(f"  {'fetch attempts':<18} {len(own)}")
    print(f"  {'partial files':<18} {partial}")
    for failure in failures[:3]:
        print(failure)
    raise SystemExit(1 if outcomes["tracebacks"] or outcomes["malformed errors"] or own or partial else 0)


if __name__ == "__main__":
    main()
