"""The fairness lint on its labelled corpus: every protected question flagged, no technical sentence
flagged; the built-in banks stay clean; a team still adds terms and overrides them by id."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from kit.check import run_checks
from kit.fairness import flagged, rules
from kit.layers import builtin_layer, find_layers
from kit.models import FairnessTerm
from kit.validate import load_library

CORPUS = yaml.safe_load((Path(__file__).parent / "fairness_corpus.yaml").read_text())["sentences"]
CATEGORIES = {"age", "family", "origin", "religion", "health", "record", "identity", "military", "caste", "salary"}


@pytest.fixture(scope="module")
def built_in() -> list:
    return rules(load_library([builtin_layer()]).fairness)


def test_the_corpus_is_labelled_and_covers_every_category() -> None:
    assert len(CORPUS) >= 150
    assert all(set(s) == {"text", "protected", "category"} and isinstance(s["protected"], bool) for s in CORPUS)
    assert len({s["text"] for s in CORPUS}) == len(CORPUS)
    protected = Counter(s["category"] for s in CORPUS if s["protected"])
    technical = Counter(s["category"] for s in CORPUS if not s["protected"])
    assert set(protected) == set(technical) == CATEGORIES
    assert min(protected.values()) >= 5 and min(technical.values()) >= 3


def test_every_protected_question_is_flagged(built_in) -> None:
    missed = [s["text"] for s in CORPUS if s["protected"] and not list(flagged(built_in, s["text"]))]
    assert missed == []  # recall 1.0


def test_no_technical_sentence_is_flagged(built_in) -> None:
    false = {s["text"]: [w for _, w in flagged(built_in, s["text"])] for s in CORPUS if not s["protected"]}
    assert {text: words for text, words in false.items() if words} == {}  # no false positive


@pytest.mark.parametrize(("text", "flags"), [
    ("Explain a race condition in the loader, then tell me: what is your race?", True),
    ("Which family of models would you pick, and are you planning a family soon?", True),
    ("Tell me about a race condition you fixed.", False),
])
def test_a_technical_context_excuses_only_the_words_it_touches(built_in, text: str, flags: bool) -> None:
    assert bool(list(flagged(built_in, text))) is flags


def test_built_in_banks_are_clean(run) -> None:
    result = run("check")
    assert result.exit_code == 0, result.stdout
    assert "[fairness]" not in result.stdout


def test_a_plain_pattern_still_works_and_unless_is_optional() -> None:
    term = FairnessTerm(id="salary", pattern="current salary", reason="salary history")
    assert term.unless == []
    assert [w for _, w in flagged(rules([term]), "What is your Current Salary?")] == ["Current Salary"]


def test_an_unless_pattern_re2_cannot_match_safely_is_refused() -> None:
    with pytest.raises(ValueError, match="not a pattern kitgen can match safely"):
        FairnessTerm(id="trap", pattern="visa", unless=["(?=visa)visa"], reason="x")


QUESTION = """questions:
  - id: team-q
    competency: vision
    kind: technical
    roles: [cv-engineer]
    levels: [senior]
    level_note: Asked at senior level.
    minutes: 6
    text: {text}
    guidance: [A clear walk through the traversal]
    follow_ups: [What is the complexity?]
    red_flags: [No example of their own]
"""


def fairness_messages(team) -> list[str]:
    report = run_checks(find_layers(team.config))
    return [f.problem.message for f in report.findings if f.check == "fairness"]


@pytest.mark.slow
def test_a_team_overrides_a_built_in_term_by_id(team) -> None:
    team.write("questions/q.yaml", QUESTION.format(text="How would you visit all its children before its siblings?"))
    assert fairness_messages(team) == []
    team.write("fairness.yaml", "protected:\n  - id: family\n    unless: []\n")  # drops the technical contexts
    assert any("touches family" in m for m in fairness_messages(team))


@pytest.mark.slow
def test_a_team_term_with_unless_contexts(team) -> None:
    team.write("fairness.yaml", "protected:\n  - id: visa\n    pattern: visas?\n"
                                "    unless: ['visa (cards?|payments?)']\n    reason: immigration status\n")
    team.write("questions/q.yaml", QUESTION.format(text="How would you detect fraud in Visa payments?"))
    assert fairness_messages(team) == []
    team.write("questions/q.yaml", QUESTION.format(text="Will you need a visa to work here?"))
    assert any("'visa' touches immigration status" in m for m in fairness_messages(team))


def test_sentences_written_blind_are_mostly_caught_and_none_technical_is(built_in) -> None:
    """The held-out half of a set written without sight of the rules: a floor on recall, not a target
    (its misses stay missed, so the figure keeps meaning something), and no technical sentence flagged."""
    held = yaml.safe_load((Path(__file__).parent / "fairness_heldout.yaml").read_text())["sentences"]
    hits = [(s["protected"], bool(list(flagged(built_in, s["text"])))) for s in held]
    assert sum(p and h for p, h in hits) >= 0.85 * sum(p for p, _ in hits)
    assert not any(h and not p for p, h in hits)
