"""The ``kitgen`` command: parse options, call one function, print the result.

Heavy modules (pydantic, Jinja, WeasyPrint) are imported inside the commands that need them,
so ``kitgen --help`` and ``--version`` start fast.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kit import __version__

if TYPE_CHECKING:
    from kit.batch import Outcome
    from kit.layers import Layer
    from kit.library import Library

@dataclass(frozen=True)
class Sources:
    """Where the YAML comes from: kitgen's own layer, then a team's from --config or ./kitgen.yaml."""

    config: Path | None

    @cached_property
    def layers(self) -> list[Layer]:
        """The layers; a team layer found in the current folder is announced, since it changes every kit."""
        from kit.layers import find_layers  # noqa: PLC0415

        layers = find_layers(self.config)
        if self.config is None and len(layers) > 1:
            echo(f"kitgen: using {layers[1].name}, found in the current folder (--config FILE chooses another)", err=True)
        return layers

    def library(self) -> Library:
        from kit.validate import load_library  # noqa: PLC0415

        return load_library(self.layers)


class PersonName(click.ParamType):
    """A person's name as given on the command line: printed, so of bounded length and not blank."""

    name = "name"

    def convert(self, value: str, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from kit.manifest import NAME_LENGTH  # noqa: PLC0415

        if not value.strip():
            self.fail("is blank; leave the option out to print a line to write the name on", param, ctx)
        if len(value) > NAME_LENGTH:
            self.fail(f"is {len(value):,} characters long; at most {NAME_LENGTH} are printed", param, ctx)
        return value


EXAMPLES = """\b
Examples:
  kitgen --role cv-engineer --level senior
  kitgen --role nlp-engineer --level mid --candidate "Ada Lovelace" --interviewer "Grace Hopper"
  kitgen --role dl-scientist --level staff --seed 7 --paper letter --format html --out kits/
  kitgen --role cv-engineer --level senior --plan --panel 2
  kitgen --role cv-engineer --level senior --avoid output/ --out round2/
  kitgen batch roster.csv --out kits/
  kitgen score --kit output/cv-engineer-senior grace.pdf alan.pdf
  kitgen list
  kitgen questions --role cv-engineer --level junior --format json
  kitgen init team-kit && kitgen --config team-kit/kitgen.yaml --role cv-platform-engineer --level senior
  kitgen --config team-kit/kitgen.yaml check
  kitgen explain --role cv-engineer --level senior
"""


@click.group(
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXAMPLES,
)
@click.option("--role", metavar="ROLE", help="Role profile, e.g. cv-engineer (see `kitgen list`).")
@click.option("--level", metavar="LEVEL", help="junior, mid, senior or staff.")
@click.option("--candidate", type=PersonName(), metavar="NAME", help="Candidate's name, printed on the documents.")
@click.option("--interviewer", type=PersonName(), metavar="NAME", help="Interviewer's name, printed on the packet.")
@click.option("--date", "when", type=click.DateTime(["%Y-%m-%d"]), help="Interview date (YYYY-MM-DD).")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=1, show_default=True,
              help="Same role, level and seed give the same questions.")
@click.option("--paper", type=click.Choice(["a4", "letter"], case_sensitive=False), default="a4", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["pdf", "html"]), default="pdf", show_default=True,
              help="html also writes the HTML that was printed, for a browser preview.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("output"), show_default=True,
              help="Folder that receives <role>-<level>[-<candidate>]/.")
@click.option("--force", is_flag=True, help="Replace a kit that is already there.")
@click.option("--no-forms", is_flag=True, help="Flat print version: tick boxes and note areas are not PDF form fields.")
@click.option("--pdf-variant", type=click.Choice(["pdf/a-3b"]),
              help="Archival PDF/A-3b (keeps the attached manifest; implies --no-forms).")
@click.option("--calibration", is_flag=True, help="Also write calibration.pdf: sample answers at each rating.")
@click.option("--duplex", is_flag=True, help="For two-sided printing: a document with an odd page count ends with "
                                             "a page marked intentionally blank.")
@click.option("--plan", is_flag=True, help="One packet per stage of the role's interview plan, no question twice.")
@click.option("--stage", metavar="STAGE", help="Only this stage of the plan (same questions as in the whole plan).")
@click.option("--panel", type=click.IntRange(1, 8), default=1, show_default=True,
              help="Interviewers per stage; each scores a share of the stage's competencies.")
@click.option("--avoid", type=click.Path(path_type=Path, exists=True), multiple=True, metavar="PATH",
              help="Earlier kits (kit.yaml, kit folders or an output folder) whose questions are not asked again.")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="A team's kitgen.yaml, layered over the built-ins (default: ./kitgen.yaml if present).")
@click.version_option(__version__, "-V", "--version", prog_name="kitgen")
@click.pass_context
def cli(ctx: click.Context, role: str | None, level: str | None, candidate: str | None, interviewer: str | None,
        when: object, seed: int, paper: str, fmt: str, out: Path, force: bool, no_forms: bool, pdf_variant: str | None,
        calibration: bool, duplex: bool, plan: bool, stage: str | None, panel: int, avoid: tuple[Path, ...],
        config: Path | None) -> None:
    """Make a printable interview kit: an interviewer packet and a candidate prescreen sheet.

    Writes interviewer.pdf, prescreen.pdf and kit.yaml (the manifest) into
    OUT/<role>-<level>[-<candidate>]/ and prints their paths.
    """
    ctx.obj = Sources(config)
    if ctx.invoked_subcommand:
        return
    if not role or not level:
        raise click.UsageError("give both --role and --level, e.g. kitgen --role cv-engineer --level senior (roles: kitgen list)")
    from kit.manifest import People  # noqa: PLC0415
    from kit.pipeline import Request, make_kit  # noqa: PLC0415

    people = People(candidate, interviewer, when.strftime("%Y-%m-%d") if when else None)  # type: ignore[attr-defined]
    request = Request(role, level, seed, people, paper.lower(), fmt == "html", out, force,
                      forms=not (no_forms or pdf_variant), pdf_variant=pdf_variant, calibration=calibration, duplex=duplex,
                      plan=plan, stage=stage, panel=panel, avoid=avoid)
    library = ctx.obj.library()
    with progress_bar("Printing") as progress:
        paths = make_kit(request, library, progress)
    for path in paths:
        echo(path)


@cli.command("list")
@click.pass_obj
def list_command(sources: Sources) -> None:
    """Show roles, levels and competencies with their question counts."""
    from kit.cache import memo_text  # noqa: PLC0415

    def compute() -> str:
        from kit.catalogue import overview  # noqa: PLC0415 - pydantic and the bank only on a cache miss

        return overview(sources.library())

    code = [Path(__file__).with_name(name) for name in ("catalogue.py", "select.py")]  # the table depends on them too
    echo(memo_text("list", [*code, *(path for layer in sources.layers for path in layer.files)], compute))


@cli.command("questions")
@click.option("--role", required=True, metavar="ROLE")
@click.option("--level", required=True, metavar="LEVEL")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "yaml"]), default="table", show_default=True)
@click.pass_obj
def questions_command(sources: Sources, role: str, level: str, fmt: str) -> None:
    """Export every question the bank holds for a role and level, with every field."""
    from kit.catalogue import export  # noqa: PLC0415

    echo(export(sources.library(), role, level, fmt))


@cli.command("batch")
@click.argument("roster", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("output"), show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=os.cpu_count() or 1, show_default="all cores")
@click.option("--vary", is_flag=True, help="Give each candidate of a role and level an equivalent rotation of questions.")
@click.option("--paper", type=click.Choice(["a4", "letter"], case_sensitive=False), default="a4", show_default=True)
@click.option("--no-forms", is_flag=True, help="Flat print version.")
@click.pass_obj
def batch_command(sources: Sources, roster: Path, out: Path, workers: int, vary: bool, paper: str, no_forms: bool) -> None:
    """Make every candidate's kit from a roster CSV (candidate, role, level[, interviewer, seed, stage]).

    The whole roster is checked first (names, repeats, rows that would share a folder). Kits already
    whole in OUT are kept, so an interrupted batch resumes where it stopped; OUT/print.pdf merges
    every kit's packets for one print job. Exit 1 if any row failed.
    """
    from kit.batch import BatchInterrupted, check_roster, merge_for_print, read_roster, run_batch, seeds  # noqa: PLC0415

    rows = read_roster(roster)
    check_roster(roster, rows, sources.library(), out)
    rows = seeds(rows, vary)
    try:
        with progress_bar("Making kits", lines=True) as progress:
            outcomes = run_batch(rows, sources.layers, out, workers,
                                 {"paper": paper.lower(), "forms": not no_forms}, progress)
    except BatchInterrupted as stop:
        _report_batch(roster, stop.outcomes)
        again = ["kitgen", *(["--config", str(sources.config)] if sources.config else []), "batch", str(roster),
                 "--out", str(out), *(["--vary"] if vary else []), *(["--paper", paper] if paper != "a4" else []),
                 *(["--no-forms"] if no_forms else [])]
        echo(f"Interrupted: {len(stop.outcomes)} of {stop.total} rows done (the kits that were running finished); "
             f"to make the rest, run the same command again: {shlex.join(again)}", err=True)
        sys.exit(1)
    made = _report_batch(roster, outcomes)
    if made:
        echo(merge_for_print(made, out / "print.pdf"))
    sys.exit(1 if len(made) < len(outcomes) else 0)


def _report_batch(roster: Path, outcomes: list[Outcome]) -> list[Path]:
    """Print how many kits were made, kept and failed, and each failure by roster line; the kits' folders."""
    made = [o for o in outcomes if o.folder]
    echo(f"{sum(not o.skipped for o in made)} kits made, {sum(o.skipped for o in made)} already complete, "
         f"{len(outcomes) - len(made)} failed")
    for failed in (o for o in outcomes if o.error):
        echo(f"{roster}:{failed.line}: {failed.error}", err=True)
    return [o.folder for o in made if o.folder]


@cli.command("check")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def check_command(sources: Sources, fmt: str) -> None:
    """Check the YAML of every layer; exit 1 if anything is wrong (for CI and pre-commit hooks)."""
    import json  # noqa: PLC0415

    from kit.check import render_text, run_checks  # noqa: PLC0415

    report = run_checks(sources.layers)
    if fmt == "json":
        echo(json.dumps({"ok": report.ok, "problems": [f.as_dict() for f in report.findings],
                               "coverage": report.coverage}, indent=2))
    else:
        echo(render_text(report))
    sys.exit(0 if report.ok else 1)


@cli.command("explain")
@click.option("--role", required=True, metavar="ROLE")
@click.option("--level", required=True, metavar="LEVEL")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=1, show_default=True)
@click.pass_obj
def explain_command(sources: Sources, role: str, level: str, seed: int) -> None:
    """Show which layer and file each competency and question of a kit came from."""
    from kit.explain import explain  # noqa: PLC0415

    echo(explain(sources.library(), role, level, seed))


@cli.command("init")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
def init_command(folder: Path) -> None:
    """Write a commented, working team folder (config, rubric, role, bank, template override)."""
    from kit.scaffold import scaffold  # noqa: PLC0415

    for path in scaffold(folder):
        echo(path)
    echo(f"\nNext: kitgen --config {folder / 'kitgen.yaml'} --role cv-platform-engineer --level senior", err=True)


@cli.command("score")
@click.argument("inputs", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--kit", "kit_path", type=click.Path(path_type=Path), metavar="KIT",
              help="The kit folder or its kit.yaml (default: the manifest attached to the first packet).")
@click.option("--template", is_flag=True, help="Write the blank YAML score sheet for the kit's paper packets.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Where to write (default: the kit folder).")
@click.option("--corrections", type=click.Path(path_type=Path, dir_okay=False), metavar="YAML",
              help="A scan's corrections.yaml, with a person's word on the answers review.pdf shows.")
@click.option("--force", is_flag=True, help="Replace an earlier debrief, review or score sheet.")
@click.pass_obj
def score_command(sources: Sources, inputs: tuple[Path, ...], kit_path: Path | None, template: bool,
                  out: Path | None, corrections: Path | None, force: bool) -> None:
    """Score filled packets (.pdf), scans or photos of printed ones (.pdf, .png, .jpg; with --kit and the
    scanning extra) or typed-up paper score sheets (.yaml, .csv) of one candidate's kit.

    Writes debrief.pdf, scores.json and scores.csv and prints a summary; the inputs are never changed.
    When a scan leaves answers undecided, it scores nothing and writes review.pdf (each one, as scanned)
    and corrections.yaml instead: write what the paper says there and run again with --corrections.

    \b
    Examples:
      kitgen score --kit output/cv-engineer-senior grace.pdf alan.yaml
      kitgen score --kit output/cv-engineer-senior scan.pdf photo.jpg
      kitgen score --kit output/cv-engineer-senior scan.pdf photo.jpg --corrections output/cv-engineer-senior/corrections.yaml
    """
    from kit.score import score_command, write_blank_sheet  # noqa: PLC0415

    if template:
        if not kit_path:
            raise click.UsageError("--template needs --kit, the kit folder the score sheet is for")
        echo(write_blank_sheet(kit_path, sources.library(), out, force))
        return
    debrief, paths = score_command(kit_path, list(inputs), sources.library(), out, force, corrections)
    echo(debrief.summary())
    for path in paths:
        echo(path)


@cli.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="The port to listen on (default: a free one).")
@click.option("--open", "open_browser", is_flag=True, help="Open the address in the default browser.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("output"), show_default=True,
              help="Where kits are made.")
@click.pass_obj
def serve_command(sources: Sources, port: int, open_browser: bool, out: Path) -> None:
    """Kits, rosters and scoring in a browser: a local web page on 127.0.0.1, for this machine's user only.

    It prints its address, with a token every request needs; nothing leaves this machine. Ctrl-C stops it.

    \b
    Examples:
      kitgen serve --open
      kitgen --config team-kit/kitgen.yaml serve --port 8800 --out kits/
    """
    try:
        from kit.serve import serve  # noqa: PLC0415
    except ImportError:
        raise click.ClickException("kitgen serve needs its extra: pip install 'kitgen[serve]'") from None
    from kit.layers import CONFIG_NAME  # noqa: PLC0415

    found = Path(CONFIG_NAME).resolve() if sources.config is None and len(sources.layers) > 1 else sources.config
    serve(found.resolve() if found else None, out, port, open_browser, echo)  # the page names the file in use


@cli.command("schema")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("schemas"), show_default=True)
def schema_command(out: Path) -> None:
    """Write JSON Schema for each kind of YAML file, for editors (yaml-language-server)."""
    from kit.schema import write_schemas  # noqa: PLC0415

    for path in write_schemas(out):
        echo(path)


@contextmanager
def progress_bar(label: str, lines: bool = False) -> Iterator[Callable[[int, int], None]]:
    """A progress callback ``(done, total)`` that draws a bar on a terminal's stderr; with ``lines``,
    long work written to a log instead (not a terminal) gets a line per step."""
    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr, hidden=not sys.stderr.isatty())
            bar.__enter__()
        bar.update(done - bar.pos)
        if lines and done and not sys.stderr.isatty():
            click.echo(f"{label}: {done} of {total}", err=True)

    try:
        yield update
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def echo(message: object, err: bool = False) -> None:
    """``click.echo`` of text made plain (text.py): names and file paths come from users."""
    from kit.text import plain  # noqa: PLC0415

    click.echo(plain(str(message)), err=err)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="kitgen")
