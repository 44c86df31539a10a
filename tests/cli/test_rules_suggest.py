"""``diplowatch rules suggest``: rules proposed from the errors on a labelled TSV, each
measured on that file, each a TOML line the rules parser accepts."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from feeds.classify.evaluate import read_tsv
from feeds.classify.rules import load_rules
from feeds.classify.measure import baseline, split_rows
from feeds.classify.suggest import (_candidates, measure_all, parse_suggestion, suggest, verify,
                                    words_of)
from feeds.model import LABELS
from tests.cli.cli_helpers import eval_tsv
from tui.cli.main import cli

# Small rules of our own ("replace"), so that the bundled defaults, which grow, cannot
# already hold what the tests plant. Sub-tables, so that a suggested line can be pasted.
RULES = """
[classify]
mode = "replace"

[rules.talks.terms]
"talks" = 1

[rules.sanctions.terms]
"sanction*" = 1

[rules.statements.terms]
"said" = 1
"""

# Four sanctions rows say only "blacklist…" (missed); two sports rows say "sanctioned bout"
# (false positives); the rest are right, and "blacklisted" never occurs without sanctions.
ROWS = [
    ("b1", "Washington blacklists three Chinese drone makers.", "sanctions"),
    ("b2", "The Treasury blacklisted a Dubai shipping broker.", "sanctions"),
    ("b3", "Brussels blacklisted eleven Iranian officials over the crackdown.", "sanctions"),
    ("b4", "London blacklists oligarch-linked yacht firms.", "sanctions"),
    ("s1", "The EU imposed sanctions on Russian banks.", "sanctions"),
    ("s2", "Canada announced sanctions against Belarusian generals.", "sanctions"),
    ("f1", "The title fight, a sanctioned bout, drew 20,000 fans.", ""),
    ("f2", "Promoters confirmed the sanctioned bout for June in Las Vegas.", ""),
    ("t1", "Russia and Ukraine held talks in Istanbul.", "talks"),
    ("t2", "Talks between Armenia and Azerbaijan resumed in Geneva.", "talks"),
    ("m1", "The minister said the border would stay closed.", "statements"),
    ("n1", "Floods displaced thousands in the delta.", ""),
    ("n2", "A new bridge opened over the river.", ""),
    ("n3", "Shares of carmakers rose on Tuesday.", ""),
]


def _tsv(path: Path, rows=ROWS) -> Path:
    return eval_tsv(path, rows)


@pytest.fixture
def run(tmp_path: Path, write_config):
    config = write_config(extra=RULES)

    def invoke(*args: str, config_path: Path = config):
        return CliRunner(env={"COLUMNS": "200"}).invoke(
            cli, ["--config", str(config_path), "--db", str(tmp_path / "store"), *args])

    invoke.config = config  # type: ignore[attr-defined]
    return invoke


def test_planted_missing_term_ranks_first(run, tmp_path: Path) -> None:
    tsv = _tsv(tmp_path / "eval.tsv")
    r = run("rules", "suggest", str(tsv), "--format", "json")
    assert r.exit_code == 0, r.output
    top = json.loads(r.stdout)["suggestions"][0]
    assert (top["label"], top["kind"], top["pattern"]) == ("sanctions", "terms", "blacklist*")
    assert top["fixed_ids"] == ["b1", "b2", "b3", "b4"] and top["introduced"] == 0
    assert top["gain"] == 4 and top["f1_after"] > top["f1_before"]
    assert top["section"] == "[rules.sanctions.terms]" and top["toml"] == '"blacklist*" = 1'
    # The plain output shows the same, ready to paste.
    text = run("rules", "suggest", str(tsv), "--label", "sanctions", "--top", "1").stdout
    assert '[rules.sanctions.terms]\n    "blacklist*" = 1' in text and "gain +4" in text


def test_pasting_the_suggestion_gives_the_figures_it_promised(run, tmp_path: Path) -> None:
    """The line, pasted into the config, makes `rules eval` report the F1 it announced."""
    tsv = _tsv(tmp_path / "eval.tsv")
    top = json.loads(run("rules", "suggest", str(tsv), "--format", "json").stdout)["suggestions"][0]
    text = run.config.read_text(encoding="utf-8")
    pasted = tmp_path / "pasted.toml"
    pasted.write_text(text.replace(top["section"] + "\n", f"{top['section']}\n{top['toml']}\n"),
                      encoding="utf-8")
    before = json.loads(run("rules", "eval", str(tsv), "--json").stdout)
    after = json.loads(run("rules", "eval", str(tsv), "--json", config_path=pasted).stdout)
    assert before["labels"]["sanctions"]["f1"] == round(top["f1_before"], 4)
    assert after["labels"]["sanctions"]["f1"] == round(top["f1_after"], 4)
    assert after["labels"]["sanctions"]["fn"] == before["labels"]["sanctions"]["fn"] - 4


def test_planted_false_positive_gets_an_exclusion(run, tmp_path: Path) -> None:
    tsv = _tsv(tmp_path / "eval.tsv")
    data = json.loads(run("rules", "suggest", str(tsv), "--label", "sanctions",
                          "--format", "json", "--top", "20").stdout)
    excl = [s for s in data["suggestions"] if s["kind"] == "exclude"]
    assert excl, data
    best = excl[0]
    assert best["pattern"] == "sanctioned bout" and best["section"] == "[rules.sanctions]"
    assert best["toml"] == 'exclude = ["sanctioned bout"]'
    assert best["fixed_ids"] == ["f1", "f2"] and best["introduced_ids"] == []
    assert all(s["label"] == "sanctions" for s in data["suggestions"])


def test_json_format(run, tmp_path: Path) -> None:
    tsv = _tsv(tmp_path / "eval.tsv")
    data = json.loads(run("rules", "suggest", str(tsv), "--format", "json", "--top", "3").stdout)
    assert set(data) == {"rows", "macro_f1", "candidates_measured", "held_out_rows",
                         "suggestions"}
    assert data["held_out_rows"] == 0
    assert data["rows"] == len(ROWS) and 1 <= len(data["suggestions"]) <= 3
    keys = {"label", "kind", "pattern", "weight", "replaces_weight", "section", "toml", "gain",
            "fixed", "introduced", "f1_before", "f1_after", "fixed_ids", "introduced_ids",
            "alternatives", "weaker", "held_out"}
    for s in data["suggestions"]:
        assert set(s) == keys and s["gain"] == s["fixed"] - s["introduced"] > 0
        assert s["held_out"] is None
    gains = [(-s["gain"], s["introduced"]) for s in data["suggestions"]]
    assert gains == sorted(gains)


def test_every_suggestion_parses_with_the_rules_parser(run, tmp_path: Path) -> None:
    tsv = _tsv(tmp_path / "eval.tsv")
    data = json.loads(run("rules", "suggest", str(tsv), "--format", "json", "--top", "50",
                          "--min-rows", "1").stdout)
    shown = [(s["section"], s["toml"], s["pattern"]) for s in data["suggestions"]]
    assert len(shown) >= 2
    # And every candidate measured, shown or not (terms, stems, near patterns, exclusions).
    base = baseline(load_rules(tomllib.loads(RULES)), read_tsv(tsv))
    measured = measure_all(base, [c for lb in LABELS for c in _candidates(base, words_of(base), lb, 1)])
    assert {s.candidate.kind for s in measured} == {"terms", "near", "exclude"}
    for section, line, pattern in shown + [(s.section, s.line, s.candidate.pattern)
                                           for s in measured]:
        doc = tomllib.loads(f"{section}\n{line}\n")
        spec = load_rules(doc)
        label = next(iter(doc["rules"]))
        assert spec.label(label).rules or spec.label(label).exclude
        assert parse_suggestion(section, line).source == pattern


@pytest.mark.parametrize("content", [None, "id\tbody\tlabels\n1\tx\t\n",
                                     "text\tlabels\nSomething\tweather\n"])
def test_a_bad_file_is_one_line_and_exit_2(run, tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "bad.tsv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    r = run("rules", "suggest", str(path))
    assert r.exit_code == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("diplowatch: ") and "bad.tsv" in lines[0]


def test_no_errors_no_suggestions(run, tmp_path: Path) -> None:
    tsv = _tsv(tmp_path / "eval.tsv", [r for r in ROWS if r[0][0] in "stmn"])
    r = run("rules", "suggest", str(tsv))
    assert r.exit_code == 0 and "No rule found" in r.stdout


def test_headline_and_lede_files(run, tmp_path: Path) -> None:
    """The feed-item shape: the headline is the title, where a match earns the title bonus."""
    tsv = tmp_path / "items.tsv"
    tsv.write_text("id\theadline\tlede\tlabels\n" + "".join(
        f"{i}\t{t}\tMore details to follow.\t{lb}\n" for i, t, lb in ROWS), encoding="utf-8")
    top = json.loads(run("rules", "suggest", str(tsv), "--format", "json").stdout)["suggestions"][0]
    assert top["pattern"] == "blacklist*" and top["gain"] == 4


def test_fast_measure_equals_a_full_rerun(tmp_path: Path, write_config) -> None:
    """The screening (rows the candidate may match, its matches scored on their own) gives
    the figures of a plain re-run of the full rules on every row, for every candidate."""
    from tests.helpers import bundled_config

    rows = read_tsv(_tsv(tmp_path / "eval.tsv"))
    weak_talks = load_rules(tomllib.loads(RULES.replace('"talks" = 1', '"Talks" = 0.5')))
    for spec in (load_rules(tomllib.loads(RULES)), weak_talks, bundled_config().rules):
        base = baseline(spec, rows)
        candidates = [c for label in LABELS for c in _candidates(base, words_of(base), label, 1)]
        measured = measure_all(base, candidates)
        assert measured
        for s in measured:
            screened = (list(s.fixed), list(s.introduced), s.f1_after)
            assert screened == (lambda v: (v.fixed, v.introduced, v.f1_after))(
                verify(base, s)), s.candidate
    # A pattern the rules have at a lower weight: the line raises that weight.
    base = baseline(weak_talks, rows)
    raised = next(s for s in measure_all(base, _candidates(base, words_of(base), "talks", 2))
                  if s.candidate.pattern == "talks")
    assert raised.replaces == 0.5 and raised.fixed == ["t1", "t2"]


def test_suggest_is_read_only_and_bounded(tmp_path: Path) -> None:
    """No file is written; at most ``top`` suggestions, each fixing >= min_rows rows."""
    rows = read_tsv(_tsv(tmp_path / "eval.tsv"))
    before = sorted(p.name for p in tmp_path.iterdir())
    report = suggest(load_rules(tomllib.loads(RULES)), rows, top=2, min_rows=2)
    assert len(report.suggestions) <= 2
    assert all(len(s.fixed) >= 2 for s in report.suggestions)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_penalty_that_causes_misses_in_headlines_is_raised(tmp_path: Path,
                                                            write_config) -> None:
    """A penalty has no title bonus: the fix that replaces it, matching in the headline, is
    measured from the penalty's own weight there (not one title bonus short), and kept."""
    config = write_config(extra="""
[classify]
mode = "replace"

[rules.talks.terms]
"meets" = 1
"congratulat*" = -1
"warmly" = -0.3
""")
    rows = [("r1", "President warmly congratulates Smith", "On the phone.", "talks"),
            ("r2", "Minister warmly congratulated Jones", "By phone.", "talks"),
            ("r3", "King warmly congratulates Brown", "In a call.", "talks"),
            ("r4", "Queen warmly congratulated Green", "A call.", "talks"),
            ("r5", "Stocks fall", "Markets slid.", ""),
            ("r6", "Leader meets rival", "Talks held.", "talks")]
    tsv = tmp_path / "desk.tsv"
    tsv.write_text("id\theadline\tlede\tlabels\n"
                   + "".join(f"{i}\t{h}\t{le}\t{lb}\n" for i, h, le, lb in rows), encoding="utf-8")
    r = CliRunner().invoke(cli, ["--config", str(config), "--db", str(tmp_path / "store"),
                                 "rules", "suggest", str(tsv), "--format", "json"])
    assert r.exit_code == 0, r.output
    top = json.loads(r.stdout)["suggestions"][0]
    assert (top["pattern"], top["kind"], top["replaces_weight"]) == ("congratulat*", "terms", -1.0)
    assert top["fixed_ids"] == ["r1", "r2", "r3", "r4"] and top["introduced"] == 0


# --- --holdout: each suggestion checked on rows it was not drawn from -------------------------

def _held_out_file(path: Path) -> tuple[Path, set[str]]:
    """A file whose held-out rows (--holdout 0.4) hold two more "blacklist" rows and no
    "embargoed" one: "blacklist*" holds beyond the rows it comes from, "embargoed" does not.
    The split hashes each row's text, so the texts are picked by the side they fall on."""
    def side(texts):  # text -> held out?
        rows = read_tsv(eval_tsv(path, [(f"t{i}", t, "") for i, t in enumerate(texts)]))
        held = {r.text for r in split_rows(rows, 0.4)[1]}
        return {t: t in held for t in texts}

    def pick(template: str, held: bool, n: int) -> list[str]:
        found = side([template.format(k) for k in range(200)])
        return [t for t, h in found.items() if h == held][:n]

    labelled = ([(t, "sanctions") for t in pick("Washington blacklists firm {}.", False, 2)]
                + [(t, "sanctions") for t in pick("The Treasury blacklisted broker {}.", False, 2)]
                + [(t, "sanctions") for t in pick("London blacklisted bank {} over the war.", True, 2)]
                + [(t, "sanctions") for t in pick("The embargoed ship {} sailed on.", False, 3)]
                + [(t, "") for t in pick("Weather report {} for the coast.", False, 30)]
                + [(t, "") for t in pick("Weather report {} for the coast.", True, 20)])
    eval_tsv(path, [(f"x{i}", t, lb) for i, (t, lb) in enumerate(labelled)])
    return path, {r.id for r in split_rows(read_tsv(path), 0.4)[1]}


def test_split_rows_is_stable_and_near_the_fraction(tmp_path: Path) -> None:
    rows = read_tsv(eval_tsv(tmp_path / "a.tsv", [(f"r{i}", f"Item {i}.", "") for i in range(2000)]))
    drawn, held = split_rows(rows, 0.3)
    assert len(drawn) + len(held) == 2000 and 520 <= len(held) <= 680
    assert split_rows(rows, 0.3) == (drawn, held)
    more = read_tsv(eval_tsv(tmp_path / "b.tsv", [(f"r{i}", f"Item {i}.", "") for i in range(2500)]))
    assert {r.id for r in held} <= {r.id for r in split_rows(more, 0.3)[1]}


def test_holdout_checks_each_suggestion_on_rows_it_was_not_drawn_from(run, tmp_path: Path
                                                                      ) -> None:
    tsv, held_ids = _held_out_file(tmp_path / "eval.tsv")
    data = json.loads(run("rules", "suggest", str(tsv), "--holdout", "0.4", "--label",
                          "sanctions", "--format", "json", "--top", "20").stdout)
    assert (data["held_out_rows"], data["rows"]) == (22, 37)
    black, ship = data["suggestions"][:2]  # ranked on the rows drawn from only
    assert black["pattern"] == "blacklist*" and black["fixed_ids"] == ["x0", "x1", "x2", "x3"]
    assert black["held_out"]["fixed_ids"] == ["x4", "x5"] and black["held_out"]["gain"] == 2
    assert not set(black["fixed_ids"]) & held_ids and {"x4", "x5"} <= held_ids
    assert ship["fixed_ids"] == ["x6", "x7", "x8"] and "embargoed" in ship["alternatives"]
    assert ship["held_out"] == {"gain": 0, "fixed": 0, "introduced": 0, "f1_before": 0.0,
                                "f1_after": 0.0, "fixed_ids": [], "introduced_ids": []}
    text = run("rules", "suggest", str(tsv), "--holdout", "0.4", "--label", "sanctions",
               "--top", "20").stdout
    assert "37 rows to draw from (22 more held out, to check each suggestion on)" in text
    assert "held out: gain +2 (fixes 2, new false positives 0)" in text
    assert "it does not hold beyond the rows it came from" in text
