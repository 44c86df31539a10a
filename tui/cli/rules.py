"""``diplowatch rules …``: explain a classification, score the rules, re-apply them."""
from __future__ import annotations

from pathlib import Path

import click
import orjson

from tui.cli.context import AppContext, UserError


@click.group()
def rules() -> None:
    """Explain, evaluate and apply the classification rules of the config."""


def _classifier(obj: AppContext):
    from feeds.classify.engine import Classifier

    return Classifier.from_spec(obj.config.rules)


@rules.command()
@click.argument("text")
@click.option("--title", default="", help="A headline to classify with TEXT as its summary.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def explain(obj: AppContext, text: str, title: str, as_json: bool) -> None:
    """Classify TEXT and show the labels, scores and every term that fired."""
    from feeds.classify.evaluate import format_explanation
    from feeds.text import SUMMARY_MAX, TITLE_MAX, plain_text

    title = plain_text(title, TITLE_MAX, is_html=False)
    summary = plain_text(text, SUMMARY_MAX, is_html=False)
    explanation = _classifier(obj).explain(title, summary)
    result = explanation.classification
    if as_json:
        click.echo(orjson.dumps({
            "title": title, "summary": summary, "labels": list(result.labels),
            "primary": result.primary, "scores": result.scores,
            "evidence": [m.to_dict() for m in result.evidence],
        }, option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(format_explanation(title, summary, explanation))


@rules.command("eval")
@click.argument("tsv", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def eval_rules(obj: AppContext, tsv: str, as_json: bool) -> None:
    """Score the rules on a labelled TSV (header row with `text` and `labels` columns)."""
    from feeds.classify.evaluate import EvalFileError, evaluate, format_report, read_tsv

    try:
        rows = read_tsv(Path(tsv))
    except EvalFileError as e:
        raise UserError(str(e)) from None
    report = evaluate(_classifier(obj), rows)
    if as_json:
        click.echo(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(format_report(report))


@rules.command("apply")
@click.pass_obj
def apply_rules(obj: AppContext) -> None:
    """Re-classify every stored item with the current rules (nothing is fetched)."""
    from feeds.classify.reclassify import reclassify

    store = obj.open_store()

    def progress(done: int, total: int) -> None:
        click.echo(f"\rre-classifying: {done}/{total} weeks", err=True, nl=done >= total)

    from storage.errors import StoreError

    try:
        changed = reclassify(store, obj.config.rules, progress=progress, actors=obj.config.actors)
    except StoreError as e:  # weeks are saved one by one: the ones done keep their labels
        raise obj.save_failed(e, "save the re-classification",
                              "run `diplowatch rules apply` again once fixed") from None
    click.echo(f"re-classified stored items: {changed} changed")
