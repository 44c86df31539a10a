"""``diplowatch rules audit``: what each rule of the config earns and costs on a labelled TSV,
the rules that cost more than they earn first, measured the same way as ``rules eval``."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from feeds.classify.audit import measure_all, verify
from feeds.classify.evaluate import read_tsv
from feeds.classify.measure import baseline
from tests.cli.cli_helpers import eval_tsv
from tui.cli.main import cli

# Small rules of our own ("replace"), so that the bundled defaults cannot change what the tests
# plant: "meet*" fires on any meeting (one talks row earned, four costs); the exclusion
# "sanctions relief" vetoes sanctions that were eased (two sanctions rows lost); "embargo*"
# never fires on the file.
RULES = """
[classify]
mode = "replace"

[rules.talks.terms]
"talks" = 1
"meet*" = 1

[rules.sanctions.terms]
"sanction*" = 1
"embargo*" = 1

[rules.sanctions]
exclude = ["sanctions relief"]

[rules.statements.terms]
"condemn*" = 1
"""

ROWS = [
    ("t1", "Russia and Ukraine held talks in Istanbul.", "talks"),
    ("t2", "Envoys meet in Geneva for talks on the truce.", "talks"),
    ("m1", "Foreign ministers meet in Cairo.", "talks"),
    ("f1", "Shareholders meet on Friday to vote on the merger.", ""),
    ("f2", "The champion meets his match in Las Vegas.", ""),
    ("f3", "Farmers meet at the county fair.", ""),
    ("f4", "The book club meets every Tuesday.", ""),
    ("s1", "The EU imposed sanctions on Russian banks.", "sanctions"),
    ("s2", "Washington granted Caracas sanctions relief on oil.", "sanctions"),
    ("s3", "Sanctions relief for Tehran was extended by a year.", "sanctions"),
    ("c1", "The minister condemned the strike on the hospital.", "statements"),
    ("n1", "Floods displaced thousands in the delta.", ""),
]


def _tsv(path: Path, rows=ROWS) -> Path:
    return eval_tsv(path, rows)


@pytest.fixture
def run(tmp_path: Path, write_config):
    def invoke(*args: str, rules: str = RULES):
        config = write_config(extra=rules)
        return CliRunner(env={"COLUMNS": "200"}).invoke(
            cli, ["--config", str(config), "--db", str(tmp_path / "store"), *args])

    return invoke


def _audit(run, tsv: Path, *args: str, rules: str = RULES) -> dict:
    r = run("rules", "audit", str(tsv), "--format", "json", *args, rules=rules)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_the_planted_costly_rule_ranks_first(run, tmp_path: Path) -> None:
    data = _audit(run, _tsv(tmp_path / "eval.tsv"))
    first = data["shown"][0]
    assert (first["label"], first["kind"], first["pattern"]) == ("talks", "terms", "meet*")
    assert first["earned_ids"] == ["m1"] and first["cost_ids"] == ["f1", "f2", "f3", "f4"]
    assert first["net"] == -3 and first["silence"] == '"meet*" = 0'
    assert first["section"] == "[rules.talks.terms]"


def test_a_costly_exclusion_is_found_too(run, tmp_path: Path) -> None:
    data = _audit(run, _tsv(tmp_path / "eval.tsv"))
    [excl] = [a for a in data["shown"] if a["kind"] == "exclude"]
    assert excl["pattern"] == "sanctions relief" and excl["label"] == "sanctions"
    assert excl["cost_ids"] == ["s2", "s3"] and excl["earned_ids"] == [] and excl["net"] == -2
    assert excl["silence"] is None and excl["section"] == "[rules.sanctions]"


def test_only_costly_rules_by_default_every_fired_rule_with_all(run, tmp_path: Path) -> None:
    tsv = _tsv(tmp_path / "eval.tsv")
    data = _audit(run, tsv)
    assert [a["pattern"] for a in data["shown"]] == ["meet*", "sanctions relief"]
    assert (data["rules"], data["silent"], data["costly"]) == (6, 1, 2)  # embargo* is silent
    everything = _audit(run, tsv, "--all")
    nets = {a["pattern"]: a["net"] for a in everything["shown"]}
    assert nets == {"meet*": -3, "sanctions relief": -2, "talks": 1, "sanction*": 1,
                    "condemn*": 1}
    assert [a["net"] for a in everything["shown"]] == sorted(nets.values())


def test_silencing_the_rule_gives_the_figures_it_promised(run, tmp_path: Path) -> None:
    tsv = _tsv(tmp_path / "eval.tsv")
    first = _audit(run, tsv)["shown"][0]
    silenced = RULES.replace('"meet*" = 1', first["silence"])
    after = json.loads(run("rules", "eval", str(tsv), "--json", rules=silenced).stdout)
    assert after["labels"]["talks"]["f1"] == pytest.approx(first["f1_without"], abs=1e-4)
    before = json.loads(run("rules", "eval", str(tsv), "--json").stdout)
    assert before["labels"]["talks"]["f1"] == pytest.approx(first["f1"], abs=1e-4)
    assert first["f1_without"] > first["f1"]


def test_label_option_and_text_output(run, tmp_path: Path) -> None:
    tsv = _tsv(tmp_path / "eval.tsv")
    data = _audit(run, tsv, "--label", "sanctions")
    assert {a["label"] for a in data["shown"]} == {"sanctions"}
    text = run("rules", "audit", str(tsv), "--top", "1").stdout
    assert "talks terms (weight 1): net -3 (earns 1, costs 4; fired on 6 rows)" in text
    assert '[rules.talks.terms]\n    "meet*" = 1\n    to silence it, set its weight to 0' in text
    assert "sanctions relief" not in text  # --top 1


def test_nothing_costly_says_so(run, tmp_path: Path) -> None:
    rows = [r for r in ROWS if r[0] not in {"f1", "f2", "f3", "f4", "s2", "s3"}]
    text = run("rules", "audit", str(_tsv(tmp_path / "eval.tsv", rows))).stdout
    assert "No rule costs more than it earns on this file." in text


def test_an_exclusion_counts_only_where_it_vetoes_a_match(run, tmp_path: Path) -> None:
    """"sanctions relief" in a row with no sanctions rule firing vetoes nothing there; an
    exclusion that vetoes nothing anywhere is silent, like a rule that never fires."""
    rules = RULES.replace('exclude = ["sanctions relief"]',
                          'exclude = ["sanctions relief", "county fair"]')
    rows = ROWS + [("r1", "Debt relief and sanctions relief were both on the table.", "")]
    data = _audit(run, _tsv(tmp_path / "eval.tsv", rows), "--all", rules=rules)
    [excl] = [a for a in data["shown"] if a["kind"] == "exclude"]
    assert excl["pattern"] == "sanctions relief" and excl["fired"] == 3  # s2, s3, r1
    assert excl["cost_ids"] == ["s2", "s3"] and excl["earned_ids"] == ["r1"]
    assert (data["rules"], data["silent"]) == (7, 2)  # embargo*, "county fair"
    text = run("rules", "audit", str(tmp_path / "eval.tsv"), "--label", "sanctions",
               rules=rules).stdout
    assert "vetoed a match on 3 rows" in text and "cannot drop one" in text


def test_the_same_words_as_a_penalty_and_as_an_exclusion_are_two_rules(run, tmp_path: Path
                                                                       ) -> None:
    """Each is measured without the other: dropping the exclusion brings back the penalty on
    its words (a1 is then right, a2 wrong), which dropping both at once would not show."""
    rules = RULES.replace('"meet*" = 1', '"meet*" = 1\n"talk show" = -1') + (
        '\n[rules.talks]\nexclude = ["talk show"]\n')
    rows = [("a1", "Leaders meet on the talk show.", ""),
            ("a2", "Talks resume; the talk show host was there.", "talks"),
            ("a3", "Ministers meet; talks on the talk show stall.", "talks")]
    data = _audit(run, _tsv(tmp_path / "eval.tsv", rows), "--all", "--label", "talks",
                  rules=rules)
    by_kind = {(a["kind"], a["pattern"]): a for a in data["shown"]}
    excl = by_kind["exclude", "talk show"]
    assert (excl["earned_ids"], excl["cost_ids"]) == (["a2"], ["a1"])


def test_a_bad_file_is_one_clear_line(run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("id\theadline\nx\ty\n", encoding="utf-8")
    r = run("rules", "audit", str(bad))
    assert r.exit_code != 0 and "bad.tsv" in r.output and "Traceback" not in r.output


def test_the_fast_measure_equals_the_plain_one_on_real_rules(bundled_rules, wire_rows) -> None:
    """Each rule's figures from its evidence (and each exclusion's from its small classifier)
    equal those of the full rules without it through ``evaluate``, on real wires and the
    bundled rules."""
    base = baseline(bundled_rules, wire_rows)
    _, audited = measure_all(base)
    assert len(audited) > 100
    changing = [a for a in audited if a.earned or a.costs]
    picked = changing[:8] + changing[-4:] + [a for a in changing if a.kind == "exclude"][:8]
    picked += audited[::25]  # and some whose removal changes nothing
    for a in picked:
        plain = verify(base, copy.copy(a))
        assert (plain.earned, plain.costs) == (a.earned, a.costs), a.pattern
        assert plain.f1_without == pytest.approx(a.f1_without, abs=1e-12), a.pattern


@pytest.fixture(scope="module")
def bundled_rules():
    import tomllib

    from feeds.classify.rules import load_rules

    root = Path(__file__).resolve().parents[2]
    return load_rules(tomllib.loads((root / "config.toml").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def wire_rows():
    root = Path(__file__).resolve().parents[2]
    return read_tsv(root / "tests" / "data" / "wires" / "dev.tsv")[:500]
