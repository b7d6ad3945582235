"""Errors a user can fix: each prints itself as one line per problem and exits with code 2.

Anything else that escapes is a bug in kitgen and keeps its traceback.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import click

from kit.text import plain


class KitgenError(click.ClickException):
    """A problem in the user's input or environment, reported without a traceback."""

    exit_code = 2

    def format_message(self) -> str:
        """The message less anything a terminal would run: it quotes names and text from files."""
        return plain(super().format_message())


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one place in one input file."""

    file: Path
    where: tuple[int, int] | None  # 1-based line and column
    message: str

    @property
    def line(self) -> int | None:
        return self.where[0] if self.where else None

    def __str__(self) -> str:
        place = f"{self.file}:{self.where[0]}:{self.where[1]}" if self.where else str(self.file)
        return f"{place}: {self.message}"


MAX_PROBLEMS = 20  # lines of one report; a file with thousands of problems gets a count of the rest


class InputError(KitgenError):
    """Every problem found in the YAML inputs, reported together (one line each, up to :data:`MAX_PROBLEMS`)."""

    def __init__(self, problems: list[Problem], more: int = 0) -> None:
        self.problems = problems
        lines = [str(problem) for problem in problems[:MAX_PROBLEMS]]
        if (more := more + len(problems) - len(lines)) > 0:
            lines.append(f"{problems[0].file}: … and {more} more problems like these")
        super().__init__("\n".join(lines))

    def format_message(self) -> str:
        return plain(self.message).replace("\n", "\nError: ")


def unknown(what: str, value: str, valid: list[str]) -> str:
    """``unknown role 'cv-enginer'; did you mean 'cv-engineer'? (valid: ...)``."""
    near = difflib.get_close_matches(value, valid, n=1)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    return f"unknown {what} {value!r}{hint} (valid: {', '.join(valid)})"
