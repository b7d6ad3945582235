"""Matching fairness terms: a term's ``pattern`` flags wording unless the match overlaps one of its
``unless`` technical contexts (``race`` in "race condition", ``children`` of a tree node).

Every pattern is compiled by RE2 (``fairness_regex``), so matching is linear in the text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from kit.models import FairnessTerm, fairness_regex


@dataclass(frozen=True)
class Rule:
    term: FairnessTerm
    pattern: Any
    unless: tuple[Any, ...]

    @classmethod
    def of(cls, term: FairnessTerm) -> Rule:
        return cls(term, fairness_regex(term.pattern), tuple(fairness_regex(u) for u in term.unless))

    def first(self, text: str) -> str | None:
        """The first match of the pattern in ``text`` that no technical context excuses, or None."""
        excused: list[tuple[int, int]] | None = None
        for match in self.pattern.finditer(text):
            start, end = match.span()
            if excused is None:
                excused = [m.span() for u in self.unless for m in u.finditer(text)]
            if not any(s < end and start < e for s, e in excused):
                return match.group(0)
        return None


def rules(terms: Iterable[FairnessTerm]) -> list[Rule]:
    return [Rule.of(term) for term in terms]


def flagged(rules: Iterable[Rule], text: str) -> Iterator[tuple[FairnessTerm, str]]:
    """Each term that flags ``text``, with the words it matched."""
    for rule in rules:
        if (words := rule.first(text)) is not None:
            yield rule.term, words
