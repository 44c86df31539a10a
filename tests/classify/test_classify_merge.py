"""Combining a user's rules with the bundled defaults, and the rules fingerprint."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

from feeds.classify.engine import Classifier
from feeds.classify.rules import load_rules, merge_rules

DEFAULTS = tomllib.loads(textwrap.dedent("""
    [classify]
    threshold = 1.0
    title_bonus = 0.5
    [rules.talks]
    terms = { "negotiat*" = 1, "talks" = 0.6 }
    exclude = ["talk show"]
    [rules.sanctions]
    terms = { "sanction*" = 1.5 }
    [[feeds]]
    name = "x"
    url = "seeds/x.xml"
"""))


def toml(text: str) -> dict:
    return tomllib.loads(textwrap.dedent(text))


def rules_of(spec, label: str) -> dict[str, float]:
    return {r.pattern.source: r.weight for r in spec.label(label).rules}


def test_no_user_rules_means_the_defaults():
    merged = merge_rules(DEFAULTS, toml('[[feeds]]\nname = "mine"\nurl = "/tmp/f.xml"'))
    assert load_rules(merged).fingerprint == load_rules(DEFAULTS).fingerprint
    assert "feeds" not in merged


def test_extend_adds_rules_and_user_weights_win():
    merged = merge_rules(DEFAULTS, toml("""
        [classify]
        title_bonus = 0
        [rules.talks]
        threshold = 2
        terms = { "summit" = 1.5, "Negotiat*" = 3 }
        exclude = ["chat show", "TALK  show"]
    """))
    spec = load_rules(merged)
    assert rules_of(spec, "talks") == {"Negotiat*": 3.0, "talks": 0.6, "summit": 1.5}
    assert [p.source for p in spec.label("talks").exclude] == ["talk show", "chat show"]
    assert spec.label("talks").threshold == 2
    assert spec.title_bonus == 0 and spec.threshold == 1.0
    assert rules_of(spec, "sanctions") == {"sanction*": 1.5}  # untouched


def test_extend_weight_zero_silences_a_default():
    spec = load_rules(merge_rules(DEFAULTS, toml('[rules.talks]\nterms = { "talks" = 0 }')))
    c = Classifier.from_spec(spec)
    assert c.classify("Talks resume", "").labels == ()
    assert c.classify("Negotiations resume", "").labels == ("talks",)


def test_extend_near_rules_join_the_defaults():
    spec = load_rules(merge_rules(DEFAULTS, toml("""
        [rules.sanctions]
        near = { "impos* ~3 tariff*" = 1 }
    """)))
    assert rules_of(spec, "sanctions") == {"sanction*": 1.5, "impos* ~3 tariff*": 1.0}


def test_replace_uses_only_the_users_rules_for_their_labels():
    spec = load_rules(merge_rules(DEFAULTS, toml("""
        [classify]
        mode = "replace"
        [rules.talks]
        terms = ["summit"]
        [rules.sanctions]
    """)))
    assert rules_of(spec, "talks") == {"summit": 1.0}
    assert spec.label("talks").exclude == ()
    assert rules_of(spec, "sanctions") == {}  # an empty table switches the label off
    c = Classifier.from_spec(spec)
    assert c.classify("Negotiations on new sanctions at summit", "").labels == ("talks",)


def test_replace_keeps_defaults_for_labels_not_defined():
    spec = load_rules(merge_rules(DEFAULTS, toml("""
        [classify]
        mode = "replace"
        [rules.statements]
        terms = ["condemn*"]
    """)))
    assert rules_of(spec, "talks") == {"negotiat*": 1.0, "talks": 0.6}
    assert rules_of(spec, "statements") == {"condemn*": 1.0}


def test_fingerprint_changes_with_the_rules():
    base = load_rules(DEFAULTS).fingerprint
    changes = [
        '[rules.talks]\nterms = { "negotiat*" = 1.5 }',
        '[rules.talks]\nterms = { "summit" = 1 }',
        '[rules.talks]\nnear = { "resum* ~3 talks" = 1 }',
        '[rules.talks]\nexclude = ["chat show"]',
        '[rules.talks]\nthreshold = 1.5',
        '[classify]\nthreshold = 1.5',
        '[classify]\ntitle_bonus = 0.4',
    ]
    prints = {load_rules(merge_rules(DEFAULTS, toml(c))).fingerprint for c in changes}
    assert base not in prints and len(prints) == len(changes)


def test_fingerprint_ignores_reformatting():
    a = load_rules(toml("""
        [classify]
        threshold = 1
        [rules.talks]
        terms = { "negotiat*" = 1, "peace talks|cease-fire" = 2, "talks" = 1 }
        near = { "resum*|halt* ~3 talks" = 1 }
        exclude = ["talk show", "fifa ~6 talks"]
    """))
    # Keys in another order, other case, spacing and hyphens, alternatives and near parts
    # swapped, 1 written as 1.0, [classify] at the end.
    b = load_rules(toml("""
        [rules.talks]
        exclude = ["FIFA  ~6 Talks", "talk-show"]
        near = { "Talks ~3 halt*|RESUM*" = 1.0 }
        terms = { "talks" = 1, "cease fire|Peace  Talks" = 2.0, "Negotiat*" = 1 }
        [classify]
        threshold = 1.0
    """))
    assert a.fingerprint == b.fingerprint
    as_list = load_rules(toml('[rules.talks]\nterms = ["talks"]'))
    as_table = load_rules(toml('[rules.talks]\nterms = { talks = 1 }'))
    assert as_list.fingerprint == as_table.fingerprint
    assert len(a.fingerprint) == 16 and int(a.fingerprint, 16) >= 0


def test_fingerprint_is_stable_across_processes():
    repo = Path(__file__).resolve().parents[2]
    code = ("import tomllib; from feeds.classify.rules import load_rules; "
            "print(load_rules(tomllib.load(open('config.toml', 'rb'))).fingerprint)")
    prints = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", code], cwd=repo, env=env, check=True,
                             capture_output=True, text=True)
        prints.add(out.stdout.strip())
    assert len(prints) == 1
