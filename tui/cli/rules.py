"""``diplowatch rules …``: explain a classification, score, suggest and audit the rules,
re-apply them."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click
import orjson

from feeds.model import LABELS
from tui.cli.context import AppContext, UserError

if TYPE_CHECKING:
    from feeds.classify.evaluate import Row


@click.group()
def rules() -> None:
    """Explain, evaluate, suggest, audit and apply the classification rules of the config."""


def _classifier(obj: AppContext):
    from feeds.classify.engine import Classifier

    return Classifier.from_spec(obj.config.rules)


def _label_option(what: str) -> Callable:
    """``--label``: only the rules of one label (``what`` says what is done with them)."""
    return click.option("--label", type=click.Choice(LABELS), help=f"Only {what} this label.")


# The report as text (the default) or JSON.
_format_option = click.option("--format", "fmt", type=click.Choice(["text", "json"]),
                              default="text")


def _eval_rows(tsv: str) -> "list[Row]":
    """The rows of a labelled TSV; a file that cannot be read is one clear line."""
    from feeds.classify.evaluate import EvalFileError, read_tsv

    try:
        return read_tsv(Path(tsv))
    except EvalFileError as e:
        raise UserError(str(e)) from None


def _echo(report: Any, as_json: bool, as_text: Callable[[Any], str]) -> None:
    """A report as indented JSON (its ``to_json()``), or as ``as_text`` writes it."""
    if as_json:
        click.echo(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(as_text(report))


@rules.command()
@click.argument("text")
@click.option("--title", default="", help="A headline to classify with TEXT as its summary.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default=None,
              help="text (the default) or json (machine-readable).")
@click.option("--json", "as_json", is_flag=True, help="The same as --format json.")
@click.pass_obj
def explain(obj: AppContext, text: str, title: str, fmt: str | None, as_json: bool) -> None:
    """Classify TEXT and show the labels, scores and every term that fired."""
    from feeds.classify.evaluate import format_explanation
    from feeds.text import SUMMARY_MAX, TITLE_MAX, plain_text

    if as_json and fmt == "text":
        raise UserError("--json and --format text ask for different outputs: give one")
    as_json = as_json or fmt == "json"

    title = plain_text(title, TITLE_MAX, is_html=False)
    summary = plain_text(text, SUMMARY_MAX, is_html=False)
    explanation = _classifier(obj).explain(title, summary)
    result = explanation.classification
    if as_json:
        click.echo(orjson.dumps({
            "title": title, "summary": summary, "labels": list(result.labels),
            "primary": result.primary, "scores": result.scores,
            "evidence": [
                {**m.to_dict(), "classes": [{"class": name, "member": member, "text": text}
                                            for name, member, text in members]}
                for m, members in zip(result.evidence, explanation.members)],
        }, option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(format_explanation(title, summary, explanation))


@rules.command("eval")
@click.argument("tsv", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def eval_rules(obj: AppContext, tsv: str, as_json: bool) -> None:
    """Score the rules on a labelled TSV: a header row with `labels` and either `text` (a
    lead sentence, classified as the summary) or `headline` and `lede` (a feed item)."""
    from feeds.classify.evaluate import evaluate, format_report

    _echo(evaluate(_classifier(obj), _eval_rows(tsv)), as_json, format_report)


@rules.command("apply")
@click.pass_obj
def apply_rules(obj: AppContext) -> None:
    """Re-classify every stored item with the current rules (nothing is fetched)."""
    from feeds.classify.reclassify import reclassify

    store = obj.open_store()

    # On a terminal one line redrawn in place; into a file or pipe, one line per week.
    tty = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        text = f"re-classifying: {done}/{total} weeks"
        click.echo(f"\r{text}" if tty else text, err=True, nl=not tty or done >= total)

    from storage.errors import StoreError

    try:
        changed = reclassify(store, obj.config.rules, progress=progress, actors=obj.config.actors)
    except StoreError as e:  # weeks are saved one by one: the ones done keep their labels
        raise obj.save_failed(e, "save the re-classification",
                              "run `diplowatch rules apply` again once fixed") from None
    click.echo(f"re-classified stored items: {changed} changed")


@rules.command("suggest")
@click.argument("tsv", type=click.Path(dir_okay=False))
@_label_option("suggest rules for")
@click.option("--top", type=click.IntRange(1, 200), default=10, show_default=True,
              help="How many suggestions to show.")
@click.option("--min-rows", type=click.IntRange(1, None), default=2, show_default=True,
              help="Errors a suggestion must fix (and the error rows it must come from).")
@click.option("--holdout", type=click.FloatRange(0, 0.5), default=0, show_default=True,
              metavar="FRACTION",
              help="Set this fraction of the rows aside (the same rows on every run): "
                   "suggestions come from the others, and each is also measured on these.")
@_format_option
@click.pass_obj
def suggest_rules(obj: AppContext, tsv: str, label: str | None, top: int, min_rows: int,
                  holdout: float, fmt: str) -> None:
    """Propose terms, near patterns and exclusions that fix the most errors of the rules on
    a labelled TSV (as `rules eval` reads), each with its gain measured on that file and a
    TOML line to paste into config.toml. Nothing is written."""
    from feeds.classify.suggest import format_suggestions, suggest

    report = suggest(obj.config.rules, _eval_rows(tsv), labels=[label] if label else LABELS,
                     top=top, min_rows=min_rows, holdout=holdout)
    _echo(report, fmt == "json", format_suggestions)


@rules.command("audit")
@click.argument("tsv", type=click.Path(dir_okay=False))
@_label_option("audit the rules of")
@click.option("--top", type=click.IntRange(1, 500), default=10, show_default=True,
              help="How many rules to show.")
@click.option("--all", "everything", is_flag=True,
              help="Show the rules that fired whatever they earn (at most --top of them), not only "
                   "those that cost more than they earn.")
@_format_option
@click.pass_obj
def audit_rules(obj: AppContext, tsv: str, label: str | None, top: int, everything: bool,
                fmt: str) -> None:
    """Measure what each rule and exclusion of the config earns on a labelled TSV (as `rules
    eval` reads): the rows it gets right, the rows it gets wrong, and the rules that cost
    more than they earn first, each with the line that silences it. Nothing is written."""
    from feeds.classify.audit import audit, format_audit

    report = audit(obj.config.rules, _eval_rows(tsv), labels=[label] if label else LABELS,
                   top=top, everything=everything)
    _echo(report, fmt == "json", format_audit)
