"""The `huashu qa` commands (the CLI edge): read files, run the batch with a progress bar, write reports.

`app/cli.py` declares the options and calls these lazily. Exit codes: 0 done (skipped lines and transcripts
that could not be replayed are reported, not fatal), 1 content or rules broken, 2 bad usage;
`qa diff` exits 1 when anything changed, like `diff`; `qa tagger-eval`, `qa suggest-eval` and `qa topic-eval` exit 1 for
a broken gold or data file.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from app.config import Settings
from app.content.errors import ContentDefect, ContentErrors
from app.content.model import Content
from app.qa.assessor import Assessor
from app.qa.batch import Setup, run_batch
from app.qa.diff import compare, render_text
from app.qa.model import Assessment, InputError
from app.qa.reports.jsonl import write_jsonl
from app.qa.reports.labels import ReportLabels, load_report_labels, report_labels_file
from app.qa.reports.page import render_report
from app.qa.reports.table import write_csv
from app.qa.rules import SPECS, load_rules, rules_file
from app.qa.scoring import summarize
from app.qa.sources import FORMATS, STDIN, Item, read_files

if TYPE_CHECKING:
    from app.qa.stage_gold import GoldTurn

OUTPUT_FORMATS: Final = ("json", "csv", "html")


class UsageError(Exception):
    """Bad command-line input; the message says what to fix (exit code 2)."""


def setup_for(settings: Settings, rules: Path | None, flow: str | None) -> Setup:
    path = rules or rules_file(settings.scripts_dir)
    return Setup(settings.flows_dir.resolve(), settings.scripts_dir.resolve(), path.resolve(), settings.default_flow, flow)


def replay_command(
    files: Sequence[Path],
    *,
    settings: Settings,
    fmt: str = "json",
    out: Path | None = None,
    workers: int = 1,
    flow: str | None = None,
    input_format: str | None = None,
    rules: Path | None = None,
    stored: list[Item] | None = None,
    summary_out: Path | None = None,
    err: Console,
) -> int:
    """`huashu qa replay`: assess every transcript in `files` (and `stored` conversations) and write one report."""
    try:
        _check_usage(files, fmt, input_format, workers, allow_no_files=stored is not None)
        setup = setup_for(settings, rules, flow)
    except UsageError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        return 2
    # The page's texts are checked before any replay: a broken labels file must not cost a whole batch.
    labels = _labels(setup, err) if fmt == "html" else None
    if fmt == "html" and labels is None:
        return 1
    assessor = _build(setup, err)
    if assessor is None:
        return 1
    if flow is not None and flow not in assessor.engine.content.flows:
        err.print(f"[red]error:[/red] unknown flow {flow!r}; flows: {', '.join(assessor.engine.content.flows)}")
        return 2
    entries: list[Item | InputError] = [*(stored or []), *read_files(files, input_format)]
    items = [e for e in entries if isinstance(e, Item)]
    errors = [e for e in entries if isinstance(e, InputError)]
    for error in errors:
        err.print(f"skipped {error.source}:{error.line}: {error.message}", markup=False, highlight=False, soft_wrap=True)
    collected: list[Assessment] = []
    with ExitStack() as stack:
        progress = stack.enter_context(_progress(err, len(items)))
        task = progress.add_task("replaying", total=len(items))
        results = run_batch(
            items, setup, workers=workers, progress=lambda n: progress.advance(task, n), assessor=assessor
        )
        stream = _merged(entries, results, collected)
        handle: TextIO = stack.enter_context(out.open("w", encoding="utf-8", newline="")) if out else sys.stdout
        if fmt == "json":
            write_jsonl(stream, handle)
        elif fmt == "csv":
            write_csv(stream, handle)
        else:
            for _ in stream:
                pass
            summary = summarize(collected, assessor.rule_ids)
            sources = {rule.id: rule.source for rule in assessor.rulebook.rules.values()}
            assert labels is not None  # loaded above for the html format
            names = {rule.id: rule.name for rule in assessor.rulebook.rules.values() if rule.name}
            handle.write(render_report(collected, errors, summary, labels=labels, rule_sources=sources,
                                       rule_names=names))
    summary = summarize(collected, assessor.rule_ids)
    if summary_out is not None:
        summary_out.write_text(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    overall = summary.overall
    err.print(
        f"{overall.transcripts} transcript(s), mean score {overall.mean if overall.mean is not None else '—'}, "
        f"{overall.findings} finding(s), {overall.fatal} fatal, {overall.errors} not replayed, "
        f"{len(errors)} skipped line(s)" + (f" → {out}" if out else ""),
        highlight=False,
        soft_wrap=True,
    )
    return 0


def diff_command(
    files: Sequence[Path],
    *,
    base: Settings,
    new: Settings,
    base_rules: Path | None = None,
    rules: Path | None = None,
    input_format: str | None = None,
    workers: int = 1,
    as_json: bool = False,
    err: Console,
    out: TextIO | None = None,
) -> int:
    """`huashu qa diff`: assess the same transcripts under two content/rules versions; exit 1 if anything changed."""
    try:
        _check_usage(files, "json", input_format, workers)
    except UsageError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        return 2
    new_setup = setup_for(new, rules, None)
    base_rules_path = base_rules or rules_file(base.scripts_dir)
    if not base_rules_path.exists():
        base_rules_path = new_setup.rules_file  # older content without a rules file: compare content only
    base_setup = setup_for(base, base_rules_path, None)
    sides = [_build(base_setup, err), _build(new_setup, err)]
    if sides[0] is None or sides[1] is None:
        return 1
    entries = list(read_files(files, input_format))
    items = [e for e in entries if isinstance(e, Item)]
    for error in (e for e in entries if isinstance(e, InputError)):
        err.print(f"skipped {error.source}:{error.line}: {error.message}", markup=False, highlight=False, soft_wrap=True)
    results: list[list[Assessment]] = []
    with _progress(err, 2 * len(items)) as progress:
        task = progress.add_task("replaying twice", total=2 * len(items))
        for setup, assessor in zip((base_setup, new_setup), sides, strict=True):
            results.append(
                list(run_batch(items, setup, workers=workers, progress=lambda n: progress.advance(task, n), assessor=assessor))
            )
    comparison = compare(results[0], results[1])
    target = out or sys.stdout
    target.write(json.dumps(comparison.to_dict(), ensure_ascii=False, indent=2) + "\n" if as_json else render_text(comparison))
    return 1 if comparison.changed else 0


def tagger_eval_command(
    gold_file: Path,
    *,
    settings: Settings,
    data: Path | None,
    split: str = "all",
    as_json: bool = False,
    err: Console,
    out: TextIO | None = None,
) -> int:
    """`huashu qa tagger-eval`: the stage tagger's agreement with a hand-labelled gold file."""
    from app.content.loader import load_content
    from app.engine.tagger import StageTagger
    from app.qa.stage_gold import evaluate, render_agreement

    target = out or sys.stdout
    if not _gold_usage_ok(split, data, err) or data is None:
        return 2
    read = _read_stage_gold(gold_file, data, as_json=as_json, err=err, out=target)
    if read is None:
        return 1
    gold, texts = read
    try:
        tagger = StageTagger(load_content(settings.flows_dir.resolve(), settings.scripts_dir.resolve()))
    except ContentErrors as exc:
        _print_defects(exc, err)
        return 1
    agreement = evaluate(tagger, gold, texts, split)
    _write_figures(target, {"gold": str(gold_file), "data": str(data), **agreement.to_dict()}, render_agreement(agreement),
                   as_json=as_json)
    return 0


def suggest_eval_command(
    gold_file: Path,
    *,
    settings: Settings,
    data: Path | None,
    split: str = "all",
    as_json: bool = False,
    err: Console,
    out: TextIO | None = None,
) -> int:
    """`huashu qa suggest-eval`: whether the sidebar's suggestions were of the stage real agents used next."""
    from app.qa.sources import transcripts_of
    from app.qa.suggest_eval import suggestion_agreement
    from app.runtime import build_engine

    target = out or sys.stdout
    if not _gold_usage_ok(split, data, err) or data is None:
        return 2
    read = _read_stage_gold(gold_file, data, as_json=as_json, err=err, out=target)
    if read is None:
        return 1
    try:
        engine = build_engine(settings)
    except ContentErrors as exc:
        _print_defects(exc, err)
        return 1
    transcripts, _ = transcripts_of(data)  # the gold's turns were all found above
    agreement = suggestion_agreement(engine, transcripts, read[0], split)
    _write_figures(target, {"gold": str(gold_file), "data": str(data), "split": split, **agreement.to_dict()},
                   agreement.render() + "\n", as_json=as_json)
    return 0


def _read_stage_gold(gold_file: Path, data: Path, *, as_json: bool, err: Console,
                     out: TextIO) -> tuple[list[GoldTurn], dict[tuple[str, int], str]] | None:
    """The stage gold and its turns' texts, or None after listing every defect (stderr; with --json also stdout)."""
    from app.qa.stage_gold import GoldErrors, load_gold, read_texts

    try:
        gold = load_gold(gold_file)
        return gold, read_texts(gold, data, str(gold_file))
    except GoldErrors as exc:
        for defect in exc.defects:
            err.print(defect.describe(), markup=False, highlight=False, soft_wrap=True)
        err.print(f"[red]{len(exc.defects)} gold or data error(s)[/red]")
        if as_json:
            out.write(json.dumps({"errors": [d.to_dict() for d in exc.defects]}, ensure_ascii=False, indent=2) + "\n")
        return None


def topic_eval_command(
    gold_file: Path,
    *,
    settings: Settings,
    data: Path | None,
    split: str = "all",
    as_json: bool = False,
    err: Console,
    out: TextIO | None = None,
) -> int:
    """`huashu qa topic-eval`: the engine's conversation topic against the topics an intent gold implies."""
    from app.nlu.evaluate import read_labelled, referenced_turns
    from app.nlu.resources import DataError
    from app.qa.sources import customer_texts, transcripts_of
    from app.qa.topic_eval import topic_agreement
    from app.runtime import build_engine

    target = out or sys.stdout
    if not _gold_usage_ok(split, data, err) or data is None:
        return 2
    if not data.is_file():
        err.print(f"[red]error:[/red] {data}: no such transcript file (give --data PATH)", highlight=False, soft_wrap=True)
        return 1
    try:
        engine = build_engine(settings)
    except ContentErrors as exc:
        _print_defects(exc, err)
        return 1
    try:
        transcripts, _ = transcripts_of(data)  # a bad line's turns are reported as missing by read_labelled
        texts = customer_texts(transcripts, referenced_turns(gold_file))
        records = read_labelled(gold_file, engine.analyzer.intents.intents, texts=texts,
                                split=None if split == "all" else split)
    except (DataError, OSError) as exc:
        err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False, soft_wrap=True)
        return 1
    labels: dict[str, dict[int, str]] = {}
    for record in records:
        if "session" not in record:
            err.print(f"[red]error:[/red] {gold_file}: a line labels the text {record['text']!r} without \"session\" "
                      "and \"turn\"; topic-eval follows conversations, so every line must name its turn",
                      highlight=False, soft_wrap=True)
            return 1
        labels.setdefault(record["session"], {})[record["turn"]] = record["intent"]
    agreement = topic_agreement(engine, transcripts, labels)
    _write_figures(target, {"gold": str(gold_file), "data": str(data), "split": split, **agreement.to_dict()},
                   agreement.render() + "\n", as_json=as_json)
    return 0


def _write_figures(target: TextIO, figures: dict[str, object], text: str, *, as_json: bool) -> None:
    """A gold-file measurement's result: the JSON object with `--json`, else the text."""
    target.write(json.dumps(figures, ensure_ascii=False, indent=2) + "\n" if as_json else text)


def _gold_usage_ok(split: str, data: Path | None, err: Console) -> bool:
    """A known split and a corpus to look turns up in: what `tagger-eval` and `topic-eval` need first."""
    if split not in ("dev", "test", "all"):
        err.print(f"[red]error:[/red] unknown split {split!r}; use dev, test or all", highlight=False, soft_wrap=True)
        return False
    if data is None:
        err.print(
            "[red]error:[/red] JDDC data not found: give --data PATH or set HUASHU_SHARED_DATA "
            "(or put it at ../shared/data/jddc/chat_sample.tsv)",
            highlight=False,
            soft_wrap=True,
        )
        return False
    return True


def _check_usage(
    files: Sequence[Path], fmt: str, input_format: str | None, workers: int, *, allow_no_files: bool = False
) -> None:
    if not files and not allow_no_files:
        raise UsageError("give at least one transcript file (or - for standard input)")
    if fmt not in OUTPUT_FORMATS:
        raise UsageError(f"unknown format {fmt!r}; use one of {', '.join(OUTPUT_FORMATS)}")
    if input_format is not None and input_format not in FORMATS:
        raise UsageError(f"unknown input format {input_format!r}; use one of {', '.join(FORMATS)}")
    if workers < 1:
        raise UsageError("--workers must be at least 1")
    missing = [str(f) for f in files if str(f) != STDIN and not f.is_file()]
    if missing:
        raise UsageError(f"no such file: {', '.join(missing)}")


def qa_file_defects(scripts_dir: Path, content: Content) -> list[ContentDefect]:
    """What is wrong with a content folder's QA files (`qa_rules.yaml`, `qa_report.yaml`), for `huashu check`:
    every defect `qa replay` would refuse them for, without replaying anything."""
    defects: list[ContentDefect] = []
    try:
        book = load_rules(rules_file(scripts_dir))
        defects += book.unknown_phrases(content) + book.unknown_intents(content, SPECS)
    except ContentErrors as exc:
        defects += exc.defects
    try:
        load_report_labels(report_labels_file(scripts_dir))
    except ContentErrors as exc:
        defects += exc.defects
    return defects


def _build(setup: Setup, err: Console) -> Assessor | None:
    try:
        return setup.build()
    except ContentErrors as exc:
        _print_defects(exc, err)
        return None
    except (OSError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        return None


def _labels(setup: Setup, err: Console) -> ReportLabels | None:
    """The HTML report's texts from the `--scripts` folder, or None after listing what is wrong with them."""
    try:
        return load_report_labels(report_labels_file(setup.scripts_dir))
    except ContentErrors as exc:
        _print_defects(exc, err)
        return None


def _print_defects(exc: ContentErrors, err: Console) -> None:
    for defect in exc.defects:
        err.print(defect.describe(), markup=False, highlight=False, soft_wrap=True)
    err.print(f"[red]{len(exc.defects)} content or rules error(s)[/red]")


def _progress(err: Console, total: int) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=total < 2,
    )


def _merged(
    entries: Sequence[Item | InputError], results: Iterator[Assessment], collected: list[Assessment]
) -> Iterator[Assessment | InputError]:
    """Assessments and skipped lines back in input order (results come in the order of the items)."""
    for entry in entries:
        if isinstance(entry, InputError):
            yield entry
        else:
            result = next(results)
            collected.append(result)
            yield result
