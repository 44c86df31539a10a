"""Every invalid rule raises RuleError naming the rule, then the problem."""
from __future__ import annotations

import textwrap
import tomllib

import pytest

from feeds.classify.rules import RuleError, load_rules, merge_rules


def load(text: str):
    return load_rules(tomllib.loads(textwrap.dedent(text)))


@pytest.mark.parametrize("toml, message", [
    ('[classify]\nthresold = 1',
     "classify.thresold: unknown key (expected one of: mode, threshold, title_bonus)"),
    ('[rules.talks]\nterm = ["talks"]',
     "rules.talks.term: unknown key (expected one of: exclude, near, terms, threshold)"),
    ('[rules.talk]\nterms = ["talks"]',
     "rules.talk: unknown label (expected one of: talks, sanctions, statements)"),
    ('[rules]\ntalks = 1', "rules.talks: expected a table, got an integer"),
    ('classify = "x"', "classify: expected a table, got a string"),
    ('[classify]\nmode = "merge"', 'classify.mode: expected "extend" or "replace", got \'merge\''),
    ('[classify]\nthreshold = 0', "classify.threshold: must be greater than 0, got 0"),
    ('[classify]\ntitle_bonus = -0.5', "classify.title_bonus: must not be negative, got -0.5"),
    ('[classify]\nthreshold = nan', "classify.threshold: expected a finite number, got nan"),
    ('[rules.talks]\nthreshold = true', "rules.talks.threshold: expected a number, got a boolean"),
    ('[rules.talks]\nterms = "talks"',
     "rules.talks.terms: expected a table of pattern = weight or an array of patterns, "
     "got a string"),
    ('[rules.talks]\nterms = []', "rules.talks.terms: is empty"),
    ('[rules.talks]\nterms = {}', "rules.talks.terms: is empty"),
    ('[rules.talks]\nterms = [1]', "rules.talks.terms[0]: expected a string, got an integer"),
    ('[rules.talks]\nterms = { "talks" = "2" }',
     "rules.talks.terms.talks: expected a number, got a string"),
    ('[rules.talks]\nterms = { "negotiat*" = -1001 }',
     'rules.talks.terms."negotiat*": must be between -1000 and 1000, got -1001'),
    ('[rules.talks]\nthreshold = -1', "rules.talks.threshold: must be greater than 0, got -1"),
    ('[rules.talks]\nterms = { "" = 1 }', 'rules.talks.terms."": empty pattern'),
    ('[rules.talks]\nterms = ["talks||summit"]',
     'rules.talks.terms."talks||summit": empty alternative'),
    ('[rules.talks]\nterms = ["neg*tiate"]',
     'rules.talks.terms."neg*tiate": wildcard \'*\' is only allowed at the end of the last word'),
    ('[rules.talks]\nterms = ["*tiate"]', 'rules.talks.terms."*tiate": wildcard'),
    ('[rules.talks]\nterms = ["halt* talks"]',
     'rules.talks.terms."halt* talks": wildcard \'*\' is only allowed at the end'),
    ('[rules.talks]\nterms = ["t*"]',
     'rules.talks.terms."t*": wildcard \'*\' needs at least 2 characters before it'),
    ('[rules.talks]\nterms = ["talks *"]',
     'rules.talks.terms."talks *": wildcard \'*\' must end a word'),
    ('[rules.talks]\nterms = ["talks!"]',
     'rules.talks.terms."talks!": unsupported character \'!\' in \'talks!\''),
    ('[rules.talks]\nterms = ["talks", "Talks"]',
     'rules.talks.terms.Talks: duplicate of \'talks\''),
    ('[rules.talks]\nterms = ["resum* ~3 talks"]',
     'rules.talks.terms."resum* ~3 talks": \'~\' is only allowed in near patterns'),
    ('[rules.sanctions]\nnear = { "impos* ~x sanction*" = 1 }',
     'rules.sanctions.near."impos* ~x sanction*": malformed near pattern: expected \'A ~N B\''),
    ('[rules.sanctions]\nnear = ["impos* ~3"]', 'rules.sanctions.near."impos* ~3": malformed'),
    ('[rules.sanctions]\nnear = ["~3 sanctions"]',
     'rules.sanctions.near."~3 sanctions": malformed near pattern: a part is missing'),
    ('[rules.sanctions]\nnear = ["a ~2 b ~2 c"]', 'rules.sanctions.near."a ~2 b ~2 c": malformed'),
    ('[rules.sanctions]\nnear = ["impos* ~31 sanction*"]',
     'rules.sanctions.near."impos* ~31 sanction*": near distance 31 is larger than 30 words'),
    ('[rules.sanctions]\nnear = ["sanctions"]',
     'rules.sanctions.near.sanctions: not a near pattern'),
    ('[rules.sanctions]\nnear = { "impos*| ~3 sanction*" = 1 }',
     'rules.sanctions.near."impos*| ~3 sanction*": empty alternative'),
    ('[rules.talks]\nexclude = "talk show"',
     "rules.talks.exclude: expected an array of patterns, got a string"),
    ('[rules.talks]\nexclude = []', "rules.talks.exclude: is empty"),
    ('[rules.talks]\nexclude = ["talk sh*w"]', 'rules.talks.exclude."talk sh*w": wildcard'),
    ('[rules.talks]\nexclude = ["fifa ~y talks"]',
     'rules.talks.exclude."fifa ~y talks": malformed'),
])
def test_bad_rules_name_the_rule_and_the_problem(toml, message):
    with pytest.raises(RuleError) as err:
        load(toml)
    assert str(err.value).startswith(message)


def test_error_carries_where_and_an_unquoted_key():
    with pytest.raises(RuleError) as err:
        load('[rules.sanctions]\nnear = { "impos* ~x sanction*" = 1 }')
    assert err.value.where == 'rules.sanctions.near."impos* ~x sanction*"'
    assert err.value.key == "rules.sanctions.near.impos* ~x sanction*"
    assert err.value.problem.startswith("malformed near pattern")


def test_merge_reports_errors_in_the_user_table(default_table):
    user = tomllib.loads('[rules.sanctions]\nnear = { "impos* ~x sanction*" = 1 }')
    with pytest.raises(RuleError, match=r'^rules\.sanctions\.near\."impos\* ~x sanction\*"'):
        merge_rules(default_table, user)
    with pytest.raises(RuleError, match=r'^classify\.mode'):
        merge_rules(default_table, {"classify": {"mode": "add"}})


def test_valid_edge_cases_load():
    spec = load("""
        [classify]
        threshold = 2
        title_bonus = 0
        [rules.talks]
        terms = { "u.s. envoy" = 1, "at&t" = 0, "kremlin’s" = 1.5 }
        near = ["ab* ~0 b", "talks ~30 summit"]
        exclude = ["talk show", "fifa ~6 talks"]
        [rules.sanctions]
    """)
    talks = spec.label("talks")
    assert talks.threshold == 2 and spec.title_bonus == 0
    assert [r.weight for r in talks.rules] == [1.0, 0.0, 1.5, 1.0, 1.0]
    assert spec.label("sanctions").rules == ()
