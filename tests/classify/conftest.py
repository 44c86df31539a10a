"""Fixtures for the classifier tests: rules from TOML text, the bundled defaults, eval data."""
from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path
from typing import Callable

import pytest

from feeds.classify.engine import SUMMARY_LIMIT, TITLE_LIMIT, Classifier
from feeds.model import Classification
from feeds.classify.rules import RulesSpec, load_rules

ROOT = Path(__file__).resolve().parents[2]
# The shared eval data lives beside the repo and is never copied into it.
EVAL_DIR = ROOT.parent / "shared" / "eval"
HEADLINES = Path(__file__).resolve().parent / "headlines.tsv"


def spec_from(text: str) -> RulesSpec:
    return load_rules(tomllib.loads(textwrap.dedent(text)))


class BothPaths(Classifier):
    """A classifier whose every classification is made twice, by the C scan and by the
    engine's pure-Python path, which must agree: every test here checks both."""

    def classify(self, title: str, summary: str) -> Classification:
        result = super().classify(title, summary)
        if self._fast is not None:
            pure = self._run(title[:TITLE_LIMIT], summary[:SUMMARY_LIMIT], None)
            assert pure == result, f"C and Python paths differ on {title!r} / {summary!r}"
        return result


@pytest.fixture
def build() -> Callable[[str], Classifier]:
    """TOML text (``[classify]``/``[rules.*]``) → a classifier (checking both paths)."""
    return lambda text: BothPaths.from_spec(spec_from(text))


@pytest.fixture(scope="session")
def default_table() -> dict:
    return tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def default_classifier(default_table: dict) -> Classifier:
    return BothPaths.from_spec(load_rules(default_table))
