"""Where templates run: Jinja's sandbox, confined to the template folders, with errors placed by line.

A team's templates are code from outside kitgen, so every template runs in an immutable sandbox: it
can read the kit's data and change layout and words, but it cannot reach Python internals (no
``__class__`` or ``__globals__``), change the data it is given, call pydantic's model API, touch a
file path it is handed, build huge values with ``*`` or ``**``, or load a template file from outside
its folders (a symbolic link out of the folder is refused too).
"""

from __future__ import annotations

from pathlib import Path, PurePath
from types import TracebackType
from typing import Any

from jinja2 import FileSystemLoader, TemplateNotFound, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from kit.errors import KitgenError, Problem

MAX_REPEAT = 100_000  # longest string or list a template may build with *
MAX_POWER = 1_000  # largest exponent of **


class Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, less pydantic's API and paths, with bounded ``*`` and ``**``."""

    intercepted_binops = frozenset(["*", "**"])

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return super().is_safe_attribute(obj, attr, value) and not attr.startswith("model_") \
            and not isinstance(obj, PurePath)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > MAX_POWER:
            raise SecurityError(f"a power above {MAX_POWER} is refused")
        if operator == "*" and any(isinstance(a, (str, list, tuple)) and isinstance(b, int) and b * len(a) > MAX_REPEAT
                                   for a, b in ((left, right), (right, left))):
            raise SecurityError(f"a value longer than {MAX_REPEAT:,} is refused")
        return super().call_binop(context, operator, left, right)


class ConfinedLoader(FileSystemLoader):
    """Loads templates from its folders only, following no link out of them."""

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Any]:
        source, filename, uptodate = super().get_source(environment, template)
        real = Path(filename).resolve()
        if not any(real.is_relative_to(Path(root).resolve()) for root in self.searchpath):
            raise TemplateNotFound(template, f"{filename} leads outside the template folders")
        return source, filename, uptodate


class TemplateError(KitgenError):
    """A template that fails, with the file and line at fault."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


def syntax_error(exc: TemplateSyntaxError) -> TemplateError:
    return TemplateError(Problem(Path(exc.filename or exc.name or "template"), (exc.lineno, 1),
                                 f"template error: {exc.message}"))


def run_error(exc: Exception, team_folders: tuple[Path, ...]) -> TemplateError | None:
    """A failure raised while a team's template ran, placed at that template's line; None when no team
    template was running (then it is kitgen's own bug and keeps its traceback)."""
    where = _last_frame_in(exc.__traceback__, team_folders)
    if where is None:
        return None
    hint = "; a team template may only read the kit's data" if isinstance(exc, SecurityError) else ""
    return TemplateError(Problem(where[0], (where[1], 1), f"template error: {' '.join(str(exc).split())[:300]}{hint}"))


def _last_frame_in(tb: TracebackType | None, folders: tuple[Path, ...]) -> tuple[Path, int] | None:
    """The innermost traceback frame that runs a template file of ``folders`` (Jinja's rewritten
    traceback gives template frames the template's file name and line)."""
    found = None
    roots = [folder.resolve() for folder in folders]
    while tb is not None:
        name = Path(tb.tb_frame.f_code.co_filename)
        if name.is_absolute() and any(name.resolve().is_relative_to(root) for root in roots):
            found = (name, tb.tb_lineno)
        tb = tb.tb_next
    return found
