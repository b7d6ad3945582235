"""Step 4, render: fill the Jinja templates with a kit and return HTML strings.

Everything from YAML or the command line is data: Jinja escapes it, and Markdown is rendered
with raw HTML, links and images turned off, so question text can neither run nor fetch anything.
"""

from __future__ import annotations

import base64
import mimetypes
import random
import re
from dataclasses import dataclass
from functools import cache
from collections.abc import Sequence
from typing import Any

from pathlib import Path

from jinja2 import ChoiceLoader, Environment, PrefixLoader, StrictUndefined, TemplateSyntaxError
from markupsafe import Markup

from kit.assets import local_asset
from kit.text import plain
from kit.sandbox import ConfinedLoader, Sandbox, run_error, syntax_error
from kit.manifest import Manifest, People
from kit.review import Undecided, Unread
from kit.score import Debrief, rules_in_words
from kit.models import Question
from kit.select import Kit
from kit.layers import Layer
from kit.library import Library

CALIBRATION = "calibration"
# Where a packet's pages stop depending on who it is for (a forced page break): reuse.py lays out
# what follows once for every candidate of a selection.
SHARED_PAGES = '<div class="shared-pages" id="shared-pages"></div>'
# Page content height = paper height less the top and bottom margins of print.css (20mm + 18mm).
PAPER = {
    "a4": {"size": "A4", "content_height": "259mm"},
    "letter": {"size": "letter", "content_height": "241.4mm"},
}


def render_documents(
    library: Library, kits: list[Kit], people: People, ids: tuple[str, str], paper: str = "a4", *,
    forms: bool = False, calibration: bool = False,
) -> dict[str, str]:
    """The HTML of each document, keyed by name: an interviewer packet per kit (one, or one per
    stage and panel member of a plan), the prescreen sheet, its screener key and, if asked, the
    calibration sheet.

    ``ids`` are the kit id and the prescreen sheet's own id. With ``forms``, the packets' tick
    boxes and write-in areas are PDF form fields.
    """
    folders = template_folders(library)
    shared = {
        "forms": forms, "brand": brand_context(library), "rubric": library.rubric, "rules": rules_in_words(library.rubric), "competency": library.competency, "people": people,
        "kit_id": ids[0], "sheet_id": ids[1], "paper": PAPER[paper], "highlight_css": Markup(_highlight_css()),
        "shared_pages": Markup(SHARED_PAGES),
        "reference": [s for s in library.reference.sections if not library.lineage(kits[0].role.id).isdisjoint(s.roles)],
        "coverage": _coverage(kits, library) if kits[0].stage else None,
    }

    def page(name: str, kit: Kit) -> str:
        context = {**shared, "kit": kit, "role": kit.role, "plan": kit.plan, "time_plan": _time_plan(kit, kits, library),
                   "weights": [(library.competency(w.id), w.weight) for w in kit.weights]}
        return render_template(folders, f"{name}.html", context)

    pages = {kit.name: page("interviewer", kit) for kit in kits}
    pages["prescreen"] = page("prescreen", kits[0])
    pages["screener"] = page("screener", kits[0])
    if calibration:
        pages[CALIBRATION] = render_template(folders, f"{CALIBRATION}.html", {
            **shared, "kit": kits[0], "role": kits[0].role, "items": calibration_items(kits, ids[0])})
    return pages


@dataclass(frozen=True)
class Sample:
    letter: str
    rating: int
    answer: str


@dataclass(frozen=True)
class CalibrationItem:
    """One question of the calibration sheet: its sample answers under letters, in a shuffled order."""

    question: Question
    samples: tuple[Sample, ...]


def calibration_items(kits: list[Kit], kit_id: str) -> list[CalibrationItem]:
    """The sample answers of every question in ``kits``, each question's in its own order.

    The order is shuffled from the kit id and question id (the same kit prints the same sheet) and
    never ascending, so the letters give no hint of the rating.
    """
    level = kits[0].level
    items = []
    for question in {q.id: q for kit in kits for q in kit.questions}.values():
        samples = question.samples_for(level)
        order = sorted(samples)
        rng = random.Random(f"{kit_id}/{question.id}")
        while len(order) > 1 and order == sorted(order):
            rng.shuffle(order)
        items.append(CalibrationItem(question, tuple(
            Sample(chr(ord("A") + index), rating, samples[rating]) for index, rating in enumerate(order))))
    return items


def _coverage(kits: list[Kit], library: Library) -> dict[str, Any]:
    """For a plan's cover page: questions per competency (rows) and stage (columns)."""
    stages = list({kit.stage.id: kit.stage for kit in kits if kit.stage}.values())
    rows = [(library.competency(w.id), w.weight,
             [sum(q.competency == w.id for k in kits if k.stage == st for q in k.questions) for st in stages])
            for w in kits[0].role.weights_for(kits[0].level)]
    return {"stages": stages, "rows": rows}


def render_debrief(library: Library, debrief: Debrief, notes: list[str] = ()) -> str:  # type: ignore[assignment]
    """The HTML of the debrief, from the same base layout and stylesheet; ``notes`` are the URLs of the
    pictures of each verdict's scanned notes, verdict by verdict, in their order."""
    manifest = debrief.manifest
    people = People(manifest.candidate, None, manifest.date)
    context = {"kit": {"level": manifest.level}, "role": library.roles[manifest.role], "rubric": library.rubric,
               "rules": rules_in_words(library.rubric), "people": people, "debrief": debrief,
               "kit_id": manifest.kit_id, "paper": PAPER["a4"], "forms": False, "brand": brand_context(library),
               "highlight_css": Markup(_highlight_css()), "notes": _scanned_notes(library, debrief, notes)}
    return render_template(template_folders(library), "debrief.html", context)


def _scanned_notes(library: Library, debrief: Debrief, urls: list[str]) -> list[dict[str, Any]]:
    """Each question's (and the justification's) scanned notes: its title and every interviewer's picture."""
    pictures = iter(urls)
    by_area: dict[str, list[tuple[str, str]]] = {}
    for verdict in debrief.verdicts:
        for area in verdict.notes:
            by_area.setdefault(area, []).append((verdict.label, next(pictures)))
    order = {area: n for n, area in enumerate([*(f"notes:{qid}" for qid in debrief.manifest.questions), "justification"])}
    return [{"title": _area_title(library, area), "pictures": by_area[area]}
            for area in sorted(by_area, key=lambda a: (order.get(a, len(order)), a))]


def _area_title(library: Library, area: str) -> str:
    qid = area.removeprefix("notes:")
    if qid in library.questions:
        return f"{library.competency(library.questions[qid].competency).title} · {qid}"
    return "Justification" if area == "justification" else area


def render_review(library: Library, manifest: Manifest, undecided: list[Undecided], unread: list[Unread],
                  pictures: list[str]) -> str:
    """The HTML of a scan's review: each undecided answer and each unread page with its picture (URLs,
    in that order)."""
    context = {"kit_id": manifest.kit_id, "manifest": manifest, "paper": PAPER["a4"], "brand": brand_context(library),
               "highlight_css": "", "undecided": list(zip(undecided, pictures, strict=False)),
               "unread": list(zip(unread, pictures[len(undecided):], strict=True))}
    return render_template(template_folders(library), "review.html", context)


def template_folders(library: Library | Sequence[Layer]) -> tuple[Path, ...]:
    """Template folders, top layer first, so a team's file wins over kitgen's: of a library, or of its
    layers before it is loaded (a page that says why it cannot be)."""
    layers = library.layers if isinstance(library, Library) else library
    return tuple(layer.templates for layer in reversed(layers) if layer.templates)


def asset_roots(library: Library) -> tuple[Path, ...]:
    """What printing may read: the template folders and the team's logo file, nothing else."""
    brand = library.brand
    return template_folders(library) + ((brand.logo,) if brand and brand.logo else ())


ASSET_REF = re.compile(r"""(url\(\s*['"]?|\ssrc=")([^'")\s]+)""")


def standalone(html: str, roots: tuple[Path, ...]) -> str:
    """The HTML with the fonts and images it names inlined as data: URLs, so the preview beside the PDFs
    opens the same in a browser. Only files under ``roots`` (what printing may read) are inlined;
    anything else is left as it was, and a browser will not find it either."""
    def inline_asset(match: re.Match[str]) -> str:
        path = local_asset(match.group(2), roots)
        if path is None or not path.is_file():
            return match.group(0)
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return match.group(1) + f"data:{kind};base64," + base64.b64encode(path.read_bytes()).decode()

    return ASSET_REF.sub(inline_asset, html)


def brand_context(library: Library) -> dict[str, str] | None:
    """The company for the page header, as plain strings (templates cannot reach paths)."""
    brand = library.brand
    if brand is None:
        return None
    return {"company": brand.company, "logo": brand.logo.as_uri() if brand.logo else "", "accent": brand.accent or ""}


def template(env: Environment, name: str) -> Any:
    """Load a template; a syntax error names the file and line of the template at fault."""
    try:
        return env.get_template(name)
    except TemplateSyntaxError as exc:
        raise syntax_error(exc) from None


def render_template(folders: tuple[Path, ...], name: str, context: dict[str, Any]) -> str:
    """Render one template of ``folders``; a team template that fails names its file and line."""
    try:
        return template(environment(folders), name).render(context)
    except TemplateSyntaxError as exc:  # an include or import met at run time
        raise syntax_error(exc) from None
    except Exception as exc:
        if (error := run_error(exc, folders[:-1])) is None:
            raise
        raise error from None


def _time_plan(kit: Kit, kits: list[Kit], library: Library) -> list[dict[str, Any]]:
    """Rows of the cover's timetable: start minute, what happens, how long; the last row ends at the plan's length.

    A panel sits together for its whole stage: one welcome and close, each interviewer's questions in turn,
    so every member's timetable is the stage's, with the other interviewers' questions named as theirs.
    """
    panel = [k for k in kits if kit.member and k.stage == kit.stage] or [kit]
    rows = [("Welcome, introductions and how the interview runs", kit.plan.opening)]
    for member in panel:
        who = "" if len(panel) == 1 else "You · " if member is kit else f"Interviewer {member.member[0]} · "  # type: ignore[index]
        rows += [(f"{who}Q{n} · {library.competency(q.competency).title}", q.minutes)
                 for n, q in enumerate(member.questions, 1)]
    spare = kit.plan.minutes - sum(minutes for _, minutes in rows) - kit.plan.closing
    if spare > 0:  # the schedule ends at the length the cover states
        rows.append(("Spare: follow-ups, or catching up", spare))
    rows.append(("Candidate's questions and close", kit.plan.closing))
    starts = [sum(minutes for _, minutes in rows[:index]) for index in range(len(rows) + 1)]
    table = [{"start": _clock(start), "label": label, "minutes": minutes} for start, (label, minutes) in zip(starts, rows)]
    return [*table, {"start": _clock(starts[-1]), "label": "End", "minutes": ""}]


def _clock(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


@cache
def environment(folders: tuple[Path, ...]) -> Environment:
    """Jinja set up once per set of folders: sandboxed (sandbox.py), strict, autoescaping everything.

    kitgen's own templates are also reachable as ``kitgen/<name>``, so a team's
    ``interviewer.html`` can ``{% extends "kitgen/interviewer.html" %}`` and override one block.
    """
    own = ConfinedLoader(folders[-1])
    env = Sandbox(
        loader=ChoiceLoader([ConfinedLoader(list(folders)), PrefixLoader({"kitgen": own})]),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=printable,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["markdown"] = markdown
    env.filters["inline"] = inline
    env.filters["answer_lines"] = answer_lines
    return env


def printable(value: Any) -> Any:
    """Every value printed drops control characters (YAML escapes and names can carry them)."""
    if isinstance(value, Markup):
        return Markup(plain(str(value)))
    return plain(value) if isinstance(value, str) else value


def markdown(text: str) -> Markup:
    """Markdown to safe HTML: paragraphs, lists, emphasis and code; raw HTML shows as text."""
    return Markup(_markdown_parser().render(text))


def inline(text: str) -> Markup:
    """One line of Markdown (guidance, probes, anchors): `code` and emphasis, no paragraphs."""
    return Markup(_markdown_parser().renderInline(text))


def answer_lines(question: Question) -> int:
    """Ruled lines on the prescreen sheet: about three a minute, at least four."""
    return max(4, 3 * question.minutes)


@cache
def _markdown_parser() -> Any:
    from markdown_it import MarkdownIt  # noqa: PLC0415 - only rendering needs it

    parser = MarkdownIt("commonmark", {"html": False, "highlight": _highlight})
    return parser.disable(["image", "link", "autolink"])


def _highlight(code: str, lang: str, _attrs: str) -> str:
    from pygments import highlight  # noqa: PLC0415
    from pygments.formatters import HtmlFormatter  # noqa: PLC0415
    from pygments.lexers import TextLexer, get_lexer_by_name  # noqa: PLC0415
    from pygments.util import ClassNotFound  # noqa: PLC0415

    try:
        lexer = get_lexer_by_name(lang) if lang else TextLexer()
    except ClassNotFound:
        lexer = TextLexer()
    return highlight(code, lexer, HtmlFormatter(nowrap=True))


@cache
def _highlight_css() -> str:
    from pygments.formatters import HtmlFormatter  # noqa: PLC0415

    return HtmlFormatter(style="bw").get_style_defs("pre code")
