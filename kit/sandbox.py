"""Where templates run: Jinja's sandbox, confined to the template folders, with errors placed by line.

A team's templates are code from outside kitgen, so every template runs in an immutable sandbox: it
can read the kit's data and change layout and words, but it cannot reach Python internals (no
``__class__`` or ``__globals__``), change the data it is given, reach a model's anything but its
fields and kitgen's own methods, touch a file path it is handed, build huge values, or load a
template file from outside its folders (a symbolic link out of the folder is refused too).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path, PurePath
from types import TracebackType
from typing import Any

from jinja2 import FileSystemLoader, TemplateNotFound, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from pydantic import BaseModel

from kit.errors import KitgenError, Problem

MAX_SIZE = 100_000  # longest string or list a template may build; widths and counts past it are refused
MAX_BITS = 100_000  # largest whole number a template may build with * or **
_WIDTHS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
_NUMBER = re.compile(r"\d+")


class Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, narrowed to the kit's data, with sizes bounded.

    On a pydantic model only its fields and kitgen's own methods can be reached (pydantic's API,
    old and new, can parse files and unpickle); nothing of a path; and the ways a template can
    build a huge value (``*``, ``**``, ``%``, widths, ``replace``, ``join``, ``format``) are bounded.
    """

    intercepted_binops = frozenset(["*", "**", "%"])

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals.pop("lipsum", None)  # placeholder text, slow at large sizes, of no use in a kit
        for name in ("center", "indent", "format", "replace", "wordwrap", "join"):
            self.filters[name] = _bounded_filter(self.filters[name])

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value) or isinstance(obj, PurePath):
            return False
        return not isinstance(obj, BaseModel) or attr in type(obj).model_fields or _own(type(obj), attr)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def wrap_str_format(self, value: Any) -> Any:
        owner = getattr(value, "__self__", None)
        if isinstance(owner, str) and getattr(value, "__name__", "") in ("format", "format_map"):
            _check_widths(owner)
        return super().wrap_str_format(value)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja's signature
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            _check_text_call(owner, getattr(__obj, "__name__", ""), args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)


def _own(cls: type, attr: str) -> bool:
    """Whether ``attr`` is defined by one of kitgen's own classes (a method or property of its models)."""
    return any(attr in klass.__dict__ for klass in cls.__mro__ if klass.__module__.startswith("kit."))


def _refuse(what: str) -> None:
    raise SecurityError(f"{what} is refused (at most {MAX_SIZE:,} characters or items)")


def _check_binop(operator: str, left: Any, right: Any) -> None:
    numbers = all(isinstance(x, int) for x in (left, right))
    if operator == "**" and numbers and right > 0 and abs(left).bit_length() * right > MAX_BITS:
        raise SecurityError(f"a number of more than {MAX_BITS:,} bits is refused")
    if operator == "*" and numbers and abs(left).bit_length() + abs(right).bit_length() > MAX_BITS:
        raise SecurityError(f"a number of more than {MAX_BITS:,} bits is refused")
    if operator == "*" and any(isinstance(a, (str, list, tuple)) and isinstance(b, int) and b * len(a) > MAX_SIZE
                               for a, b in ((left, right), (right, left))):
        _refuse("a value this long")
    if operator == "%" and isinstance(left, str):
        _check_widths(left)


def _check_widths(text: str) -> None:
    """A format string (``%`` or ``str.format``) may not ask for a width or precision past the bound."""
    if any(len(n) > 6 or int(n) > MAX_SIZE for n in _NUMBER.findall(text)):
        _refuse("a format width this large")


def _check_text_call(text: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    values = [*args, *kwargs.values()]
    if name in _WIDTHS and any(isinstance(v, int) and v > MAX_SIZE for v in values):
        _refuse(f"{name}() this wide")
    elif name == "replace" and len(values) >= 2 and isinstance(values[1], str):
        if len(text) + text.count(str(values[0])) * len(values[1]) > MAX_SIZE:
            _refuse("a replace() this large")
    elif name == "join" and values and isinstance(values[0], (list, tuple)):
        if sum(len(str(v)) for v in values[0][:MAX_SIZE + 1]) + len(text) * len(values[0]) > MAX_SIZE:
            _refuse("a join() this large")


def _bounded_filter(function: Callable[..., Any]) -> Callable[..., Any]:
    """A Jinja filter whose whole-number arguments (widths) and text results are bounded."""

    @functools.wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        if any(isinstance(v, int) and not isinstance(v, bool) and v > MAX_SIZE for v in (*args[1:], *kwargs.values())):
            _refuse("a width this large")
        if function.__name__ == "do_format" and args and isinstance(args[0], str):
            _check_widths(args[0])
        if function.__name__ == "do_replace" and len(args) >= 4 and isinstance(args[1], str):
            _check_text_call(args[1], "replace", args[2:4], {})
        if function.__name__ == "do_join" and len(args) >= 2 and isinstance(args[1], (list, tuple)):
            _check_text_call(str(args[2]) if len(args) > 2 else "", "join", (args[1],), {})
        return function(*args, **kwargs)

    return bounded


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
