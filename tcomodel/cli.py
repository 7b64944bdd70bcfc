"""Command-line interface: parse, call the library, print, set the exit status. No model logic here."""

from __future__ import annotations

import functools
import math
import sys

import click

from tcomodel import __version__
from tcomodel.errors import InputError, TcoModelError

EXIT_INPUT_ERROR = 2
MASTER_CHECK_FAILED = ("warning: master check FAILED: the model's own checks do not all pass (see the Checks sheet "
                       "of the report, marked red on its Cover); do not present the figures")
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


def handle_errors(func):
    """Turn tcomodel's own errors into a message on stderr and exit status 2, never a traceback;
    Ctrl-C into exit status 130 (outputs are written atomically, so nothing partial is left)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except KeyboardInterrupt:
            click.echo("\ninterrupted: no output written", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except InputError as exc:
            if exc.path:
                click.echo(f"{exc.path}: {len(exc.problems)} problem(s) found:", err=True)
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            sys.exit(EXIT_INPUT_ERROR)
        except TcoModelError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_INPUT_ERROR)

    return wrapper


class Progress:
    """``progress(done, total, elapsed_s)`` for the library: a click progress bar on stderr, drawn only
    when stderr is a terminal, not with --quiet, and only once the work has run ``after_s`` seconds
    (quick runs stay silent). Use as a context manager so the bar is closed on any exit."""

    def __init__(self, label: str, *, quiet: bool = False, after_s: float = 1.0, file=None):
        self.label, self.after_s = label, after_s
        self.file = sys.stderr if file is None else file
        isatty = getattr(self.file, "isatty", None)
        self.enabled = not quiet and bool(isatty and isatty())
        self.bar = None

    def __call__(self, done: int, total: int, elapsed_s: float) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            if done >= total or elapsed_s < self.after_s:
                return
            self.bar = click.progressbar(length=total, label=self.label, file=self.file)
            self.bar.__enter__()
        self.bar.update(max(0, done - self.bar.pos))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
            self.bar = None
        return False


def _rel_tol(ctx, param, value):
    if value is None or not math.isfinite(value) or value < 0:
        raise click.BadParameter(f"must be a number >= 0, got {value}")
    return value


QUIET_HELP = "No progress bar (it is drawn on stderr only when stderr is a terminal)."
FORCE_HELP = "Replace output files that are read-only."
FORCE_HELP_SCENARIO = ("Replace output files that are read-only or hold the output of another scenario file "
                       "(refused otherwise: reports never overwrite each other).")
LINK_NOTE = ("A symlink is written through: the file it points to is replaced, the link stays. A folder, device "
             "or FIFO is refused.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tcomodel")
def main():
    """tcomodel: cost per million tokens, NPV and IRR of self-hosted LLM inference against
    rented GPUs and hosted APIs, from one assumption workbook."""


# --- commands are added below; each is a thin wrapper around a library function ---


@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
@click.option("--minimal", is_flag=True, help="One owned server and one hosted API over two years, no optional rows "
                                               "(Claims, Ranges, Pairs, Staff): a small case to extend.")
@handle_errors
def init(path, force, minimal):
    """Write a starter scenario workbook to PATH (the AarhusAI default scenario with the built-in
    hardware and model catalogue, or with --minimal a two-option starter). Its scenario_name is PATH's
    file name without .xlsx, so reports of different starters never share a path. Refuses to overwrite
    an existing file unless --force."""
    from tcomodel.inputs import write_scenario_workbook

    if click.format_filename(path).lower().endswith(".xls"):
        raise TcoModelError("PATH must end in .xlsx")
    write_scenario_workbook(path, force=force, minimal=minimal)
    click.echo(f"wrote {path}; edit the pale-yellow cells, then: tcomodel validate {path}")


@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
@handle_errors
def validate(path):
    """Check a scenario workbook. Exit 0 with a summary when valid; exit 2 with every problem,
    one per line as Sheet!Cell: what is wrong and what is allowed. Runs the same load and model
    (roofline and finance) as build, and resolves the Ranges and Correlations rows only the sweep samples,
    without writing anything: what build or sweep rejects, validate reports."""
    from tcomodel.finance import run_model_every_range_checked
    from tcomodel.inputs import load_scenario
    from tcomodel.sweep import resolve_ranges
    from tcomodel.sweep.sampling import resolve_correlations

    scenario = load_scenario(path)
    run = run_model_every_range_checked(scenario)
    run.tornado  # noqa: B018  (the Sensitivity sheet's tornado and grid: what build computes, checked here too)
    resolve_correlations(scenario, resolve_ranges(scenario, run.model, monte_carlo=True)[0])
    click.echo(f"{path}: valid")
    click.echo(scenario.summary())
    if run.scalar(run.model.master_check) != 0:
        click.echo(MASTER_CHECK_FAILED, err=True)


@main.command("verify")
@click.argument("report", type=click.Path(dir_okay=False))
@click.option("--rel-tol", default=1e-9, show_default=True, type=float, callback=_rel_tol,
              help="Relative tolerance per formula cell (a number >= 0).")
@click.option("--scenario", "scenario", type=click.Path(dir_okay=False), default=None,
              help="The scenario workbook the report was built from [default: the path the report records].")
@click.option("--no-cases", is_flag=True, help="Skip the scenario and case checks (the report's own values only).")
@handle_errors
def verify_cmd(report, rel_tol, scenario, no_cases):
    """Check REPORT.xlsx, a workbook written by tcomodel build, sweep or compare: every formula is still
    the one tcomodel wrote (a formula typed over with a number, edited, or on a deleted sheet is found
    from the formula list the workbook carries), and LibreOffice's recalculation of every formula cell
    equals its stored value. For a build report, with its scenario workbook (given, or found where the report
    records it): every input cell equals the scenario's, and each case (Low, Base, High), switched in the report
    and recalculated, equals the engine's own build of that case.
    Exit 0 when all agree, 1 when not, 2 for a workbook tcomodel did not write."""
    from tcomodel.verify import verify_report

    result = verify_report(report, rel_tol=rel_tol, scenario=scenario, cases=not no_cases)
    click.echo(result.summary())
    if result.cases_summary():
        click.echo(result.cases_summary())
    if result.ok:
        return
    case_problems = []
    if result.cases is not None:
        case_problems = list(result.cases.input_differences) + [
            f"case {k}: {m}" for k, v in result.cases.mismatches.items() for m in v]
    for title, problems in (("formulas", result.formula_changes), ("values", result.mismatches),
                            ("cases", case_problems)):
        for m in problems[:50]:
            click.echo(str(m))
        if len(problems) > 50:
            click.echo(f"... and {len(problems) - 50} more ({title})")
    sys.exit(1)


@main.command()
@click.option("--hardware", default=None, help="Hardware id (`tcomodel catalogue hardware` lists them).")
@click.option("--hardware-file", default=None, type=click.Path(dir_okay=False),
              help="CSV or JSON row(s) with the Hardware columns: your own accelerator (its only row is used "
                   "unless --hardware names one).")
@click.option("--model", default=None, help="Model id (`tcomodel catalogue models` lists them).")
@click.option("--model-config", default=None, type=click.Path(),
              help="A Hugging Face config.json (or its folder): your own model instead of --model.")
@click.option("--precision", required=True, help="Weight precision: bf16, fp16, fp8, int8, nvfp4, mxfp4, int4, q4_0, q4_k_m, q8_0.")
@click.option("--kv-precision", default=None, help="KV-cache precision (default bf16).")
@click.option("--gpus", default=1, show_default=True, type=int, help="Number of GPUs (tp x replicas).")
@click.option("--tp", default=None, type=int, help="Tensor-parallel degree (default: the power-of-two TP x replicas with the most output per GPU).")
@click.option("--ep", default=None, type=int, help="MoE: expert-parallel group of EP GPUs, attention data-parallel (tp 1); "
                                                   "by default tried alongside the TP layouts where the engine supports it.")
@click.option("--batch", default=None, type=int, help="Fixed concurrent sequences per replica.")
@click.option("--max-batch", is_flag=True, help="Saturate: largest batch memory and engine allow.")
@click.option("--context", "context_tokens", default=None, type=int, help="Tokens of cache reserved per sequence: sizes memory (default input + output). Decode speed reads the mean context while a request decodes, input + output / 2; the JSON shows both.")
@click.option("--input-tokens", default=2048, show_default=True, type=int)
@click.option("--output-tokens", default=512, show_default=True, type=int)
@click.option("--engine", default="vllm", show_default=True, help="vllm, trtllm, sglang, llamacpp or ideal.")
@click.option("--min-user-tok-s", default=None, type=float, help="Per-user decode rate target (tok/s).")
@click.option("--max-ttft-s", default=None, type=float, help="Time-to-first-token target (s).")
@click.option("--claimed-tok-s", default=None, type=float, help="Check a published claim (tok/s per stream).")
@click.option("--scenario", "scenario_path", default=None, type=click.Path(), help="Scenario workbook whose Hardware/Models sheets extend the catalogue.")
@click.option("--memory-gib", "--memory-gb", "memory_gib", default=None, type=float,
              help="What-if: memory per GPU in GiB, as cards are marketed (an '80 GB' card = 80).")
@click.option("--bandwidth-gbs", default=None, type=float, help="What-if: memory bandwidth (GB/s).")
@click.option("--params-b", default=None, type=float, help="What-if: total parameters (billions).")
@click.option("--active-params-b", default=None, type=float, help="What-if: active parameters (billions).")
@click.option("--bits-per-weight", default=None, type=float, help="What-if: bits per weight for all weights.")
@click.option("--kv-bytes-per-token", default=None, type=float, help="What-if: cache bytes per token (replaces KV and state).")
@click.option("--kernel-path", default=None,
              help="Matmul rate per component, overriding the engine's known fallbacks: native, bf16, fp8 or fp4, "
                   "for both or as experts=PATH,dense=PATH (e.g. experts=native once vLLM has SM120 FP4 MoE kernels).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handle_errors
def roofline(hardware, hardware_file, model, model_config, precision, kv_precision, gpus, tp, ep, batch, max_batch,
             context_tokens, input_tokens, output_tokens, engine, min_user_tok_s, max_ttft_s, claimed_tok_s,
             scenario_path, memory_gib, bandwidth_gbs, params_b, active_params_b, bits_per_weight, kv_bytes_per_token,
             kernel_path, as_json):
    """Memory fit, throughput and latency of MODEL on HARDWARE (roofline, engine-calibrated)."""
    import json

    from tcomodel.errors import UsageError
    from tcomodel.roofline import estimate
    from tcomodel.catalogue import load_catalogue

    hw_cat, model_cat = load_catalogue()
    if scenario_path:
        try:
            from tcomodel.inputs import load_scenario
        except ImportError as exc:  # the inputs module is built separately
            raise UsageError(f"--scenario needs tcomodel.inputs.load_scenario, which is not available: {exc}")
        scenario = load_scenario(scenario_path)
        hw_cat = {**hw_cat, **dict(getattr(scenario, "hardware", {}) or {})}
        model_cat = {**model_cat, **dict(getattr(scenario, "models", {}) or {})}
    from tcomodel.roofline.user_inputs import choose_inputs

    chosen = choose_inputs(hardware, model, hardware_catalogue=hw_cat, model_catalogue=model_cat,
                           hardware_file=hardware_file, model_config=model_config)
    hardware, model, hw_cat, model_cat = chosen.hardware, chosen.model, chosen.hardware_catalogue, chosen.model_catalogue
    if chosen.derivation is not None:
        d = chosen.derivation
        click.echo(f"model {d.spec.model_id} from {model_config}: {d.architecture}, {d.params.total / 1e9:,.2f} B "
                   f"parameters, {d.params.active / 1e9:,.2f} B active", err=True)
        for note in d.notes:
            click.echo(f"note: {note}", err=True)
    est = estimate(hardware, model, precision, kv_precision=kv_precision, gpus=gpus, tp=tp, batch=batch,
                   max_batch=max_batch, context_tokens=context_tokens, input_tokens=input_tokens,
                   output_tokens=output_tokens, engine=engine, min_user_tok_s=min_user_tok_s,
                   max_ttft_s=max_ttft_s, claimed_tok_s=claimed_tok_s, memory_gib=memory_gib,
                   bandwidth_gbs=bandwidth_gbs, params_b=params_b, active_params_b=active_params_b,
                   bits_per_weight=bits_per_weight, kv_bytes_per_token=kv_bytes_per_token,
                   hardware_catalogue=hw_cat, model_catalogue=model_cat, kernel_path=kernel_path, ep=ep)
    from tcomodel.roofline.throughput import unfit_message

    if unfit_message(est):  # a layout that cannot hold the model is an input error, not a row of n/a
        raise UsageError(unfit_message(est))
    if as_json:
        click.echo(json.dumps(est.to_dict(), sort_keys=False))
        return
    from tcomodel.roofline.text import format_estimate

    click.echo(format_estimate(est))


@main.command()
@click.argument("kind", type=click.Choice(["hardware", "models"]))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: every column and row.")
@handle_errors
def catalogue(kind, as_json):
    """List the built-in accelerators (KIND = hardware) or models (KIND = models)."""
    from tcomodel.roofline.listing import catalogue_json, format_catalogue

    if as_json:
        import json

        click.echo(json.dumps(catalogue_json(kind)))
        return
    click.echo(format_catalogue(kind))


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False),
              help="Excel report path [default: outputs/<scenario-file-name>-<yyyy-mm-dd>.xlsx]. " + LINK_NOTE)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the results as JSON here.")
@click.option("--export", "export_path", type=click.Path(dir_okay=False),
              help="Also write every line item as CSV here, in long form: option, section, line_item, unit, period "
                   "(2027Q1, or total), value.")
@click.option("--no-xlsx", is_flag=True, help="No Excel report: write only the JSON and/or the export (needs --json or "
                                              "--export).")
@click.option("--case", "case", type=click.Choice(["low", "base", "high"], case_sensitive=False), default="base",
              show_default=True, help="The case the report opens on and the JSON and export hold: every input with a "
                                      "range on the Ranges sheet at its low or high value. The report carries all three.")
@click.option("--force", is_flag=True, help=FORCE_HELP_SCENARIO)
@click.option("-q", "--quiet", is_flag=True, help=QUIET_HELP)
@handle_errors
def build(scenario, output, json_path, export_path, no_xlsx, case, force, quiet):
    """Build the TCO report for SCENARIO (a scenario workbook): cost per million tokens, TCO, NPV, IRR,
    payback and breakeven for every option, as a formatted Excel workbook with live formulas.

    Outputs are written atomically with the usual file mode (0666 minus the umask) and renamed into
    place together at the end: a failed or interrupted (Ctrl-C, exit 130) build leaves no output."""
    import datetime as dt
    from pathlib import Path

    from tcomodel.api import build as build_api

    if no_xlsx and json_path is None and export_path is None:
        raise click.UsageError("--no-xlsx writes nothing without --json PATH or --export PATH")
    if no_xlsx and output is not None:
        raise click.UsageError("--no-xlsx and -o/--output contradict each other")
    xlsx_path = None
    if not no_xlsx:
        if output is None:  # named after the scenario file, so the scenario is read once and reports of
            # different scenario files never share a default path
            name = Path(scenario).stem
            safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
            suffix = "" if case.lower() == "base" else f"-{case.lower()}"
            output = str(Path("outputs") / f"{safe}{suffix}-{dt.date.today().isoformat()}.xlsx")
        xlsx_path = output
    with Progress("building", quiet=quiet, after_s=2.0) as progress:
        run = build_api(scenario, json_path=json_path, xlsx_path=xlsx_path, export_path=export_path, force=force,
                        progress=progress, case=case.lower())
    m = run.model
    click.echo(f"{run.scenario.settings.scenario_name} ({run.case_label} case): {len(m.options)} options, "
               f"{len(m.quarters)} quarters, currency {m.currency}; master check {'OK' if run.scalar(m.master_check) == 0 else 'FAILED'}")
    for oid, om in m.options.items():
        lev = run.scalar(om.levelized)  # None (#N/A) where the option serves no tokens
        lev_text = "#N/A" if lev is None else f"{lev:,.2f}"
        npv = run.scalar(m.comparisons[oid].npv) if oid in m.comparisons else None
        click.echo(f"  {oid:<24} {lev_text:>10} {m.currency}/Mtok levelized"
                   + (f"   NPV vs {m.baseline} {npv:>14,.0f} {m.currency}" if npv is not None else "   (baseline)"))
    if run.scalar(m.master_check) != 0:
        click.echo(MASTER_CHECK_FAILED, err=True)
    for msg in run.warnings:
        click.echo(f"warning: {msg}", err=True)
    if xlsx_path:
        click.echo(f"wrote {xlsx_path}")
    if json_path:
        click.echo(f"wrote {json_path}")
    if export_path:
        click.echo(f"wrote {export_path}")


@main.command()
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False),
              help="Excel bridge path [default: outputs/compare-<old-stem>-vs-<new-stem>.xlsx]. " + LINK_NOTE)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the diff and bridges as JSON here.")
@click.option("--force", is_flag=True, help=FORCE_HELP)
@handle_errors
def compare(old, new, output, json_path, force):
    """Compare two scenario workbooks: every input cell that differs (Sheet!Cell, label, OLD, NEW) and,
    per option, a bridge of levelized cost per Mtok and NPV from OLD to NEW by input group
    (sequential substitution in a fixed order), as an Excel workbook with waterfall charts."""
    from tcomodel.compare import compare_scenarios, default_output_path, write_outputs
    from tcomodel.fileio import check_target

    xlsx_path = output or str(default_output_path(old, new))
    for p in (xlsx_path, json_path):  # refuse a bad target before the (slower) comparison
        if p is not None:
            check_target(p, force_readonly=force, protect=[old, new])
    result = compare_scenarios(old, new)
    click.echo(f"{old} -> {new}: {len(result.changes)} input cell(s) differ")
    for ch in result.changes[:25]:
        where = ch.new_cell or ch.old_cell or ch.sheet
        click.echo(f"  {where:<16} {ch.label}: {ch.describe()}")
    if len(result.changes) > 25:
        click.echo(f"  ... and {len(result.changes) - 25} more (sheet Changes)")
    for note in result.structural:
        click.echo(f"not substituted: {note}")
    if result.bridge_note:
        click.echo(result.bridge_note, err=True)
    for metric, title in (("levelized_cost_per_mtok", f"Levelized cost ({result.currency}/Mtok)"),
                          ("npv_vs_baseline", f"NPV vs {result.baseline} ({result.currency})")):
        bridges = result.bridges[metric]
        if not bridges:
            continue
        click.echo(f"{title}: OLD -> NEW, largest steps")
        for oid, b in bridges.items():
            if b.total_change is None:
                click.echo(f"  {oid:<24} #N/A")
                continue
            tiny = 1e-9 * max(abs(b.old), abs(b.new), 1e-300)  # rounding noise, not a contribution
            top = sorted((s for s in b.steps if abs(s[1] or 0) > tiny), key=lambda s: -abs(s[1]))[:3]
            steps = ", ".join(f"{s} {v:+,.2f}" for s, v in top) or "no change"
            click.echo(f"  {oid:<24} {b.old:>14,.2f} -> {b.new:>14,.2f}  ({steps})")
    write_outputs(result, xlsx_path=xlsx_path, json_path=json_path, protect=[old, new], force=force)
    click.echo(f"wrote {xlsx_path}")
    if json_path:
        click.echo(f"wrote {json_path}")


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--samples", "-n", required=True, type=int, help="Number of Monte Carlo samples (1 to 10,000,000).")
@click.option("--seed", type=int, default=None, help="Seed of the random generator; the same seed gives identical "
              "results [default: a fresh seed, printed so the run can be repeated].")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False),
              help="Excel workbook path [default: outputs/<scenario-name>-sweep-<yyyy-mm-dd>.xlsx]. " + LINK_NOTE)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the results as JSON here.")
@click.option("--lhs", is_flag=True, help="Latin hypercube sampling (each input's range cut into equal-probability "
              "strata, each hit once per block of 65,536 samples) instead of independent draws.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes evaluating chunks of samples side by side [default: one per CPU, at most 4]. "
              "The results are the same for any number; each worker adds memory (about 70 MiB with 100 inputs sampled).")
@click.option("--force", is_flag=True, help=FORCE_HELP_SCENARIO)
@click.option("-q", "--quiet", is_flag=True, help=QUIET_HELP)
@handle_errors
def sweep(scenario, samples, seed, output, json_path, lhs, workers, force, quiet):
    """Monte Carlo over the inputs with a range on SCENARIO's Ranges sheet (triangular with the base value
    as mode, or uniform; Workload, Utilization and Capacity low/high are multipliers), rank-correlated as
    its Correlations sheet says: P10/P50/P90 of levelized cost per Mtok and of NPV vs the baseline per
    option, the probability that each option is the cheapest and the inputs that drive the spread (rank
    correlation with each option's NPV), as an Excel workbook (Summary with the drivers, Histograms, Samples) and
    optionally JSON."""
    from tcomodel.fileio import check_target
    from tcomodel.sweep import default_output_path, sweep as sweep_api, validate_samples, write_outputs
    from tcomodel.sweep.montecarlo import share_bound

    validate_samples(samples, seed)
    for p in (output, json_path):  # refuse a bad target before a run that may take minutes
        if p is not None:
            check_target(p, force_readonly=force, protect=[scenario])
    with Progress("sampling", quiet=quiet, after_s=1.0) as progress:
        res = sweep_api(scenario, samples, seed, progress=progress, lhs=lhs, workers=workers)
    xlsx_path = output or str(default_output_path(res.scenario_name))

    ccy = res.currency
    click.echo(f"{res.scenario_name}: {res.samples:,} samples (seed {res.seed}) of {len(res.inputs)} Ranges input(s) "
               f"in {res.seconds:.1f} s")
    st = res.settings
    at_base = {k: f" at base, sampled ({v['ranges_cell']})" for k, v in st.get("sampled", {}).items()}
    click.echo(f"  discount rate {st['discount_rate_annual']:.2%} a year{at_base.get('discount_rate_annual', '')}, "
               f"tax {st['tax_rate']:.0%}{at_base.get('tax_rate', '')}, {st['quarters']} "
               f"quarters {st['first_quarter']}..{st['last_quarter']}; "
               + (f"{len(res.correlations)} rank-correlated pair(s) (Correlations sheet)" if res.correlations
                  else "inputs drawn independently"))
    lev, npv, prob = res.stats("levelized"), res.stats("npv"), res.probability_cheapest()
    saving = res.probability_saving()
    fmt = lambda v, spec: "#N/A" if v is None else format(v, spec)  # noqa: E731
    share = lambda v: share_bound(v) or f"{v:.1%}"  # noqa: E731
    click.echo(f"  {'option':<24} {'levelized ' + ccy + '/Mtok P10 / P50 / P90':>38}   "
               f"{'NPV P50 vs ' + res.baseline + ' (' + ccy + ')':>26}   P(NPV > 0)   P(cheapest)")
    for oid in res.options:
        lv = " / ".join(fmt(lev[oid][k], ",.2f") for k in ("p10", "p50", "p90"))
        nv = "(baseline)" if oid == res.baseline else fmt(npv[oid]["p50"], ",.0f")
        sv = "" if oid == res.baseline else share(saving[oid])
        click.echo(f"  {oid:<24} {lv:>38}   {nv:>26}   {sv:>10}   {share(prob[oid]):>11}")
    click.echo(f"  P10/P50/P90: 10%, 50%, 90% of samples at or below. NPV: of switching from {res.baseline} to the "
               "option, after tax;\n  P(NPV > 0): the share of samples in which switching saves. P(cheapest): the "
               "lowest levelized cost, quality not weighed.")
    for title, shares in ((f"among the {len(res.quality_options)} option(s) with a quality score, per unit of quality",
                           res.probability_cheapest_quality()),
                          (f"among the {len(res.self_hosted_options)} self-hosted option(s)",
                           res.probability_cheapest_self_hosted())):
        if shares:
            ranked = sorted(((p, o) for o, p in shares.items() if p > 0), key=lambda t: -t[0])
            click.echo(f"  P(cheapest) {title}: " + (", ".join(f"{o} {share(p)}" for p, o in ranked) or "none defined"))
    for note in res.notes:
        click.echo(f"note: {note}", err=True)
    for msg in res.warnings:
        click.echo(f"warning: {msg}", err=True)
    write_outputs(res, xlsx_path=xlsx_path, json_path=json_path, protect=[scenario], force=force)
    click.echo(f"wrote {xlsx_path}")
    if json_path:
        click.echo(f"wrote {json_path}")
