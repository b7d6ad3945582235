"""``kitgen serve``: kitgen in a browser on the user's own machine, for people who would rather click.

Flask serves a few server-rendered pages (kitgen's own Jinja templates, ``templates/web/``); kits are
made in a worker process so the page stays responsive. It serves one user on one machine, and is
safe by construction:

- it listens on 127.0.0.1 only, and refuses a request whose Host header is not that address (or
  localhost) with its port: a web page cannot reach it through DNS rebinding;
- a token made at start is in the address it prints; the first request with it sets a strict,
  HTTP-only cookie, and every request needs one or the other, so another local user or a web page
  in the same browser cannot drive it;
- every form carries a CSRF token, checked on every POST;
- the browser never names a file: kits are named by the ids the server gave them;
- uploads are bounded, and go through the same readers as the command line;
- the pages load nothing but this server's own stylesheet (a strict Content-Security-Policy).
"""

from __future__ import annotations

import hmac
import io
import os
import re
import secrets
import signal
import tempfile
import threading
import zipfile
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlencode
from typing import Any

from flask import Flask, Response, abort, redirect, request

from kit.assets import asset_dir
from kit.errors import KitgenError
from kit.manifest import MANIFEST_NAME, NAME_LENGTH, People, read_manifest

COOKIE = "kitgen_token"
MAX_UPLOAD = 100 * 2**20  # bytes: a loop's filled packets are a few MB; a scanned stack at 300 dpi, tens
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; "
                               "form-action 'self'; frame-ancestors 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the token is in the first address: never pass it on
    "Cache-Control": "no-store",
}
MAX_INPUTS = 50  # files to one scoring: a loop's packets and sheets, or a scanned stack
SAFE_PATH = re.compile(r"/(?![/\\])[\x21-\x7e]*")  # a path of this server: one leading slash, printable ASCII
FILE_NAME = re.compile(r"[a-z0-9-]+\.(pdf|yaml|html)")


@dataclass
class Job:
    """A kit being made in the worker process, and what it made."""

    future: Future[tuple[str, list[str] | str]]
    title: str

    @property
    def folder(self) -> Path | None:
        """The kit's folder once it is made; None while it is being made, or if it could not be."""
        if not self.future.done():
            return None
        folder, _ = self.future.result()
        return Path(folder) if folder else None


@dataclass
class Server:
    """What one ``kitgen serve`` holds: its secrets, the library's sources, the output folder, the jobs."""

    config: Path | None
    out: Path
    port: int
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    jobs: dict[str, Job] = field(default_factory=dict)
    scores: dict[str, Future[dict[str, Any]]] = field(default_factory=dict)
    rosters: dict[str, Roster] = field(default_factory=dict)
    scratch: tempfile.TemporaryDirectory[str] = field(  # uploads and debriefs; gone when the server stops
        default_factory=lambda: tempfile.TemporaryDirectory(prefix="kitgen-serve-"))
    workers: ProcessPoolExecutor = field(default_factory=lambda: _pool())

    def submit(self, work: Any, *args: Any) -> Future[Any]:
        """``work(*args)`` in the worker process; a worker that died (out of memory, say) is replaced."""
        try:
            return self.workers.submit(work, *args)
        except BrokenProcessPool:
            self.workers = _pool()
            return self.workers.submit(work, *args)


    @property
    def cookie(self) -> str:
        """The token's cookie, named by port: browsers share cookies across a host's ports, so a second
        kitgen serve would otherwise replace this one's."""
        return f"{COOKIE}_{self.port}"

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}/?token={self.token}"


def _pool() -> ProcessPoolExecutor:
    """One worker process, which ignores Ctrl-C: Ctrl-C stops the server, which ends the worker."""
    return ProcessPoolExecutor(max_workers=1, initializer=signal.signal, initargs=(signal.SIGINT, signal.SIG_IGN))


def create_app(server: Server) -> Flask:
    """The web app of ``server``."""
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD

    @app.before_request
    def guard() -> Response | None:
        if request.host not in (f"127.0.0.1:{server.port}", f"localhost:{server.port}"):
            abort(403, "kitgen serves only its own address (127.0.0.1); open the address it printed")
        given = request.args.get("token")
        if given is not None and _same(given, server.token):
            rest = urlencode([(k, v) for k, v in request.args.items(multi=True) if k != "token"])
            path = request.path if SAFE_PATH.fullmatch(request.path) else "/"  # never //elsewhere
            response = redirect(path + (f"?{rest}" if rest else ""))
            response.set_cookie(server.cookie, server.token, httponly=True, samesite="Strict")
            return response
        if not _same(request.cookies.get(server.cookie, ""), server.token):
            abort(403, "open the address kitgen serve printed, with its token")
        if request.method == "POST" and not _same(request.form.get("csrf", ""), server.csrf):
            abort(403, "this form is stale or did not come from kitgen; reload the page and send it again")
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.update(HEADERS)
        return response

    @app.errorhandler(403)
    @app.errorhandler(404)
    @app.errorhandler(413)
    def refused(error: Any) -> tuple[str, int]:
        return _page(server, "web/error.html", {"message": error.description}), error.code

    @app.get("/style.css")
    def style() -> Response:
        return Response((asset_dir("templates") / "web" / "web.css").read_text(), mimetype="text/css")

    @app.get("/")
    def home() -> str:
        return _page(server, "web/make.html", _form_context(server, {}, []))

    @app.post("/kits")
    def make() -> Response | tuple[str, int]:
        from kit.pipeline import Request  # noqa: PLC0415

        form = request.form
        library = _library(server.config)
        problems = _check_form(form, library)
        if problems:
            return _page(server, "web/make.html", _form_context(server, form, problems)), 400
        avoid = tuple(path for kit_id, path in _earlier_kits(server.out) if kit_id in form.getlist("avoid"))
        people = People(form.get("candidate", "").strip() or None, form.get("interviewer", "").strip() or None,
                        form.get("date") or None)
        made = Request(form["role"], form["level"], int(form.get("seed") or 1), people, form.get("paper", "a4"),
                       out=server.out, force="force" in form, plan="plan" in form, stage=form.get("stage") or None,
                       panel=int(form.get("panel") or 1), avoid=avoid)
        job_id = secrets.token_urlsafe(8)
        server.jobs[job_id] = Job(server.submit(_make_kit, made, server.config),
                                  f"{form['role']}, {form['level']}" + (f", {people.candidate}" if people.candidate else ""))
        return redirect(f"/kits/{job_id}", code=303)

    @app.get("/kits/<job_id>")
    def job(job_id: str) -> str:
        found = server.jobs.get(job_id) or abort(404, "no such kit; make it again")
        state = "making" if not found.future.done() else "made" if found.folder else "failed"
        result = found.future.result() if found.future.done() else None
        context = {"job_id": job_id, "title": found.title, "state": state,
                   "files": result[1] if state == "made" else [], "error": result[1] if state == "failed" else None}
        return _page(server, "web/kit.html", context)

    @app.get("/kits/<job_id>/<name>")
    def kit_file(job_id: str, name: str) -> Response:
        folder = _made(server, job_id)
        if not FILE_NAME.fullmatch(name) or not (folder / name).is_file():
            abort(404, "no such file in this kit")
        return _file(folder / name, "inline")

    @app.get("/kits/<job_id>.zip")
    def kit_zip(job_id: str) -> Response:
        folder = _made(server, job_id)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.iterdir()):
                if FILE_NAME.fullmatch(path.name):
                    archive.write(path, f"{folder.name}/{path.name}")
        return Response(buffer.getvalue(), mimetype="application/zip",
                        headers={"Content-Disposition": _disposition("attachment", f"{folder.name}.zip")})

    @app.get("/score")
    def score_form() -> str:
        return _page(server, "web/score.html", {"kits": _earlier_kits_named(server), "problems": []})

    @app.post("/score")
    def score() -> Response | tuple[str, int]:
        kits = dict(_earlier_kits(server.out))
        files = [f for f in request.files.getlist("inputs") if f.filename]
        problems = [] if request.form.get("kit") in kits else ["choose the kit the packets were printed from"]
        if not files or len(files) > MAX_INPUTS:
            problems.append(f"add the filled packets, score sheets or scans: 1 to {MAX_INPUTS} files")
        if problems:
            return _page(server, "web/score.html", {"kits": _earlier_kits_named(server), "problems": problems}), 400
        job_id = secrets.token_urlsafe(8)
        folder = Path(server.scratch.name) / job_id
        inputs = _save_uploads(folder / "in", files)
        server.scores[job_id] = server.submit(_score, kits[request.form["kit"]], inputs, server.config, folder / "out")
        return redirect(f"/scores/{job_id}", code=303)

    @app.get("/scores/<job_id>")
    def scored(job_id: str) -> str:
        found = server.scores.get(job_id) or abort(404, "no such scoring; score again")
        context = {"job_id": job_id, "state": "scoring" if not found.done() else "done"}
        if found.done():
            context.update(found.result())
        return _page(server, "web/scored.html", context)

    @app.get("/scores/<job_id>/<name>")
    def scored_file(job_id: str, name: str) -> Response:
        found = server.scores.get(job_id)
        if found is None or not found.done() or name not in found.result()["files"]:
            abort(404, "no such file of this scoring")
        return _file(Path(server.scratch.name) / job_id / "out" / name, "attachment")

    @app.get("/roster")
    def roster_form() -> str:
        return _page(server, "web/roster.html", {"problems": [], "roster": None})

    @app.post("/roster")
    def roster_check() -> Response | tuple[str, int]:
        from kit.batch import check_roster, read_roster  # noqa: PLC0415

        upload = request.files.get("roster")
        if upload is None or not upload.filename:
            return _page(server, "web/roster.html", {"problems": ["choose the roster's CSV file"], "roster": None}), 400
        from kit.render import PAPER  # noqa: PLC0415

        if request.form.get("paper", "a4") not in PAPER:
            return _page(server, "web/roster.html", {"problems": ["choose A4 or Letter paper"], "roster": None}), 400
        roster_id = secrets.token_urlsafe(8)
        (path,) = _save_uploads(Path(server.scratch.name) / roster_id / "in", [upload])  # print.pdf is beside, not in
        try:
            rows = read_roster(path)
            check_roster(path, rows, _library(server.config), server.out)
        except KitgenError as exc:  # every bad row, by line, as the command line says it
            lines = exc.format_message().replace(f"{path.parent}/", "").split("\nError: ")
            return _page(server, "web/roster.html", {"problems": lines, "roster": None}), 400
        server.rosters[roster_id] = Roster(path, rows, request.form.get("paper", "a4"))
        return redirect(f"/roster/{roster_id}", code=303)

    @app.get("/roster/<roster_id>")
    def roster(roster_id: str) -> str:
        found = server.rosters.get(roster_id) or abort(404, "no such roster; upload it again")
        return _page(server, "web/roster.html", {"problems": [], "roster": found.view(roster_id)})

    @app.post("/roster/<roster_id>")
    def roster_run(roster_id: str) -> Response:
        found = server.rosters.get(roster_id) or abort(404, "no such roster; upload it again")
        if not found.running:
            found.start(server)
        return redirect(f"/roster/{roster_id}", code=303)

    @app.get("/roster/<roster_id>/print.pdf")
    def roster_print(roster_id: str) -> Response:
        found = server.rosters.get(roster_id)
        if found is None or found.running or not found.printed.is_file():
            abort(404, "the print file is made when the batch ends")
        return _file(found.printed, "attachment")

    @app.get("/library")
    def library_page() -> str:
        return _page(server, "web/library.html", _browse(_library(server.config), request.args))

    @app.get("/check")
    def check_page() -> str:
        from kit.check import run_checks  # noqa: PLC0415
        from kit.layers import find_layers  # noqa: PLC0415

        report = run_checks(find_layers(server.config))
        return _page(server, "web/check.html", {"ok": report.ok, "findings": [f.as_dict() for f in report.findings],
                                                "config": str(server.config) if server.config else None})

    return app


def _browse(library: Any, args: Any) -> dict[str, Any]:
    """The library page: every role and competency, and the questions that pass the filters chosen (a
    filter the library does not know is dropped, and said so)."""
    from kit.models import LEVELS  # noqa: PLC0415

    choices = {"role": sorted(library.roles), "level": list(LEVELS),
               "competency": [c.id for c in library.rubric.competencies],
               "kind": sorted({q.kind for q in library.questions.values()})}
    chosen = {name: args.get(name, "") for name in choices}
    unknown = [f"no {name} {value!r} in this library; showing every {name}"
               for name, value in chosen.items() if value and value not in choices[name]]
    chosen = {name: value for name, value in chosen.items() if value in choices[name]}
    questions = [q for q in library.questions.values()
                 if (not chosen.get("role") or chosen["role"] in q.roles) and (not chosen.get("level") or chosen["level"] in q.levels)
                 and (not chosen.get("competency") or q.competency == chosen["competency"])
                 and (not chosen.get("kind") or q.kind == chosen["kind"])]
    return {"choices": choices, "chosen": chosen, "problems": unknown,
            "roles": [(r.id, r.title, [(w.id, w.weight) for w in r.competencies]) for r in library.roles.values()],
            "competencies": [(c.id, c.title) for c in library.rubric.competencies],
            "questions": [(q.id, library.competency(q.competency).title, q.kind, ", ".join(q.levels), ", ".join(q.roles),
                           q.minutes, " ".join(q.text.split())[:160]) for q in sorted(questions, key=lambda q: q.id)]}


@dataclass
class Roster:
    """A roster checked whole, and its batch: run in a thread (its kits in worker processes), resumable."""

    path: Path
    rows: list[Any]
    paper: str
    done: int = 0
    outcomes: list[Any] | None = None
    error: str | None = None
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    @property
    def printed(self) -> Path:
        return self.path.parent.parent / "print.pdf"

    def start(self, server: Server) -> None:
        self.done, self.outcomes, self.error = 0, None, None
        self.thread = threading.Thread(target=self._run, args=(server,), daemon=True)
        self.thread.start()

    def _run(self, server: Server) -> None:
        from kit.batch import merge_for_print, run_batch, seeds  # noqa: PLC0415
        from kit.layers import find_layers  # noqa: PLC0415

        def progress(done: int, _total: int) -> None:
            self.done = done

        try:
            outcomes = run_batch(seeds(self.rows, False), find_layers(server.config), server.out,
                                 os.cpu_count() or 1, {"paper": self.paper, "forms": True}, progress)
            made = [o.folder for o in outcomes if o.folder]
            if made:
                merge_for_print(made, self.printed)
            self.outcomes = outcomes
        except KitgenError as exc:
            self.error = exc.format_message()
        except Exception as exc:  # noqa: BLE001 - a batch that stops is shown on its page, never lost silently
            self.error = f"the batch stopped: {exc}; run it again to make the rest (whole kits are kept)"

    def view(self, roster_id: str) -> dict[str, Any]:
        """What the roster's page shows: its rows, and the batch's state and outcome."""
        outcomes = self.outcomes or []
        state = "running" if self.running else "stopped" if self.error else "done" if self.outcomes else "checked"
        return {"id": roster_id, "name": self.path.name, "state": state, "done": self.done, "total": len(self.rows),
                "rows": [(r.line, r.candidate, r.role, r.level, r.interviewer or "", r.stage or "") for r in self.rows],
                "error": self.error, "made": sum(1 for o in outcomes if o.folder and not o.skipped),
                "kept": sum(1 for o in outcomes if o.skipped),
                "failed": [(o.line, o.error) for o in outcomes if o.error], "printed": self.printed.is_file()}


KINDS = {".pdf": "application/pdf", ".json": "application/json", ".csv": "text/csv", ".yaml": "text/plain",
         ".html": "text/html", ".zip": "application/zip"}


def _file(path: Path, disposition: str) -> Response:
    """One of the server's own files (never a path the browser named), shown ``inline`` or as an ``attachment``."""
    return Response(path.read_bytes(), mimetype=KINDS[path.suffix],
                    headers={"Content-Disposition": _disposition(disposition, path.name)})


def _disposition(kind: str, name: str) -> str:
    """A Content-Disposition any name fits (RFC 6266): an ASCII fallback and the name itself, encoded."""
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


def _save_uploads(folder: Path, files: list[Any]) -> list[Path]:
    """The uploaded files in a private folder, under their own base names made safe and distinct:
    messages name them as the user knows them, and no name reaches outside the folder."""
    folder.mkdir(parents=True)
    saved: list[Path] = []
    for number, upload in enumerate(files, 1):
        stem, dot, suffix = Path(upload.filename).name.rpartition(".")
        base = re.sub(r"[^A-Za-z0-9._ -]", "_", stem or suffix)[:80] or "upload"
        kind = re.sub(r"[^a-z0-9]", "", suffix.lower())[:5]
        path = folder / (f"{base}.{kind}" if dot and kind else base)
        while path.exists():  # two uploads of one name stay two files
            path = path.with_name(f"{path.stem}-{number}{path.suffix}")
            number += len(files)
        upload.save(path)
        saved.append(path)
    return saved


def _score(kit: Path, inputs: list[Path], config: Path | None, out: Path) -> dict[str, Any]:
    """In the worker process: ``kitgen score`` of the uploads; the debrief as data and the files written,
    or the problems (one line each) and the review files, if a scan needs a person."""
    from kit.score import score_command  # noqa: PLC0415

    try:
        debrief, paths = score_command(kit, inputs, _library(config), out, force=False)
    except Exception as exc:  # noqa: BLE001 - KitgenError says what to fix; anything else is still one line
        if not isinstance(exc, KitgenError):
            exc = KitgenError(f"kitgen failed reading these files ({type(exc).__name__}: {exc}); nothing was scored")
        written = [name for name in ("review.pdf", "corrections.yaml") if (out / name).is_file()]
        lines = exc.format_message().replace(f"{inputs[0].parent}/", "").split("\nError: ")  # names as uploaded
        return {"problems": lines, "files": written, "debrief": None}
    return {"problems": [], "files": [path.name for path in paths], "debrief": debrief.as_dict()}


def _same(given: str, secret: str) -> bool:
    """Whether ``given`` is ``secret``, in constant time, whatever characters it holds."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), secret.encode())


def _made(server: Server, job_id: str) -> Path:
    found = server.jobs.get(job_id)
    if found is None or found.folder is None:
        abort(404, "no such kit; make it again")
    return found.folder  # type: ignore[return-value]


def _make_kit(made: Any, config: Path | None) -> tuple[str, list[str] | str]:
    """In the worker process: make the kit; its folder and file names, or the one-line error."""
    from kit.pipeline import make_kit  # noqa: PLC0415

    try:
        paths = make_kit(made, _library(config))
    except KitgenError as exc:
        return "", exc.format_message()
    except Exception as exc:  # noqa: BLE001 - a bug is reported on the page, not lost behind a server error
        return "", f"kitgen failed ({type(exc).__name__}: {exc}); the kit was not made"
    return str(paths[0].parent), [path.name for path in paths]


_libraries: dict[Path | None, Any] = {}


def _library(config: Path | None) -> Any:
    """The library, loaded once per process (a team's YAML changed on disk is seen on restart)."""
    if config not in _libraries:
        from kit.layers import find_layers  # noqa: PLC0415
        from kit.validate import load_library  # noqa: PLC0415

        _libraries[config] = load_library(find_layers(config))
    return _libraries[config]


def _earlier_kits(out: Path) -> list[tuple[str, Path]]:
    """The kits in the output folder, by kit id: what the form offers to avoid."""
    found = []
    for folder in sorted(out.iterdir()) if out.is_dir() else []:
        if (folder / MANIFEST_NAME).is_file():
            try:
                found.append((read_manifest(folder).kit_id, folder))
            except KitgenError:
                continue  # a damaged kit is not offered
    return found


def _earlier_kits_named(server: Server) -> list[tuple[str, str]]:
    return [(kit_id, folder.name) for kit_id, folder in _earlier_kits(server.out)]


def _check_form(form: Any, library: Any) -> list[str]:
    """What is wrong with a submitted kit form, one sentence each (the command line's rules)."""
    from kit.models import LEVELS  # noqa: PLC0415
    from kit.render import PAPER  # noqa: PLC0415

    problems = []
    role = library.roles.get(form.get("role", ""))
    if role is None:
        problems.append("choose a role from the list")
    if form.get("level") not in LEVELS:
        problems.append("choose a level from the list")
    for label in ("candidate", "interviewer"):
        if len(form.get(label, "")) > NAME_LENGTH:
            problems.append(f"the {label}'s name is longer than {NAME_LENGTH} characters")
    if form.get("date") and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", form["date"]):
        problems.append("the date must be a date (YYYY-MM-DD)")
    elif form.get("date"):
        try:
            date.fromisoformat(form["date"])
        except ValueError:
            problems.append("the date must be a date (YYYY-MM-DD)")
    if form.get("paper", "a4") not in PAPER:
        problems.append("choose A4 or Letter paper")
    if form.get("stage") and role and form["stage"] not in {stage.id for stage in role.plan}:
        problems.append("choose a stage of the role's interview plan")
    seed = form.get("seed") or "1"
    if not re.fullmatch(r"[0-9]{1,10}", seed) or int(seed) > 2**31 - 1 or (form.get("panel") or "1") not in set("12345678"):
        problems.append("the seed is a whole number from 0 to 2147483647 and the panel 1 to 8 interviewers")
    return problems


def _form_context(server: Server, form: Any, problems: list[str]) -> dict[str, Any]:
    library = _library(server.config)
    from kit.models import LEVELS  # noqa: PLC0415

    return {"roles": [(role.id, role.title) for role in library.roles.values()],
            "stages": sorted({stage.id for role in library.roles.values() for stage in role.plan}),
            "levels": LEVELS, "form": dict(form.items()) if form else {}, "problems": problems,
            "config": str(server.config) if server.config else None,
            "earlier": _earlier_kits_named(server)}


def _page(server: Server, name: str, context: dict[str, Any]) -> str:
    """A page of the app, rendered by kitgen's own Jinja environment (team template folders first)."""
    from kit.render import render_template, template_folders  # noqa: PLC0415

    from kit.layers import find_layers  # noqa: PLC0415

    return render_template(template_folders(find_layers(server.config)), name, {**context, "csrf": server.csrf})


def serve(config: Path | None, out: Path, port: int, open_browser: bool, echo: Any) -> None:
    """Serve until interrupted: on 127.0.0.1, at ``port`` or a free one; the address is printed."""
    from werkzeug.serving import make_server  # noqa: PLC0415

    server = Server(config, out, port)
    http = make_server("127.0.0.1", port, create_app(server), threaded=True)
    server.port = http.server_port
    echo(f"kitgen serve: open {server.address}  (Ctrl-C stops it)")
    if open_browser:
        import webbrowser  # noqa: PLC0415

        webbrowser.open(server.address)
    try:
        http.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.workers.shutdown(cancel_futures=True)
        server.scratch.cleanup()
