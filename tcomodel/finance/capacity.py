"""Capacity of one replica of each self-hosted option: the roofline operating point for the workload.

For every quarter the operating point is the largest batch that fits memory and meets the workload's
per-user decode rate and time-to-first-token targets, for requests of the quarter's mean input and
output length (context = input + output). A measured throughput on the Options sheet overrides it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tcomodel.errors import InputError, Problem
from tcomodel.finance.model import Capacity
from tcomodel.kinds import SELF_HOSTED_KINDS


@dataclass
class OperatingPoints:
    capacities: dict  # option_id -> Capacity
    estimates: dict  # option_id -> list of Estimate per quarter (None where measured)
    warnings: list = field(default_factory=list)  # (option_id, message)


def operating_points(scenario) -> OperatingPoints:
    from tcomodel.roofline import estimate

    caps, ests, warnings, problems = {}, {}, [], []
    n = scenario.settings.horizon_quarters
    for oid, opt in scenario.options.items():
        if opt.kind not in SELF_HOSTED_KINDS:
            continue
        cache: dict[tuple, object] = {}
        per_q = []
        broken = _request_too_long(scenario, oid, opt)
        if broken is not None:
            problems.append(broken)
            continue
        try:
            for w in scenario.workload:
                key = (w.input_tokens_per_request, w.output_tokens_per_request, w.min_user_tok_s, w.max_ttft_s)
                if key not in cache:
                    cache[key] = _estimate_at(w, oid, opt, lambda: estimate(
                        opt.hardware_id, opt.model_id, opt.precision, kv_precision=opt.kv_precision or "bf16",
                        # a replica is one tensor-parallel group of gpus_per_replica GPUs
                        gpus=opt.gpus_per_replica or 1, tp=opt.gpus_per_replica or 1, engine=opt.engine or "vllm",
                        input_tokens=int(round(w.input_tokens_per_request)),
                        # reasoning tokens are decoded in the same sequence: they lengthen it
                        output_tokens=int(round(w.output_tokens_per_request + (opt.reasoning_tokens_per_request or 0))),
                        min_user_tok_s=w.min_user_tok_s, max_ttft_s=w.max_ttft_s,
                        hardware_catalogue=scenario.hardware, model_catalogue=scenario.models,
                    ))
                per_q.append(cache[key])
        except InputError as exc:
            problems += exc.problems
            continue
        first = per_q[0]
        if not first.fits and not first.output_tok_s_total:
            problems.append(Problem("Options", _at(opt, "model_id"),
                                    f"option '{oid}': {opt.model_id} in {opt.precision} does not fit on "
                                    f"{opt.gpus_per_replica or 1} x {opt.hardware_id} (weights {first.weights_gb_per_gpu:.1f} GB "
                                    f"per GPU, usable {first.usable_memory_gb_per_gpu:.1f} GB); raise gpus_per_replica or "
                                    f"choose a smaller precision"))
            continue
        late = next(((w, e) for w, e in zip(scenario.workload, per_q) if not e.output_tok_s_total), None)
        if late is not None and opt.measured_output_tok_s_per_replica is None and oid not in scenario.benchmarks:
            w, e = late
            problems.append(Problem("Workload", _at(w, "input_tokens_per_request"),
                                    f"quarter {w.quarter}: option '{oid}' ({opt.cell('option_id')}) cannot serve even one "
                                    f"request of {w.input_tokens_per_request:,.0f} input + {w.output_tokens_per_request:,.0f} "
                                    f"output tokens: the cache for it does not fit beside the weights of {opt.model_id} "
                                    f"on {opt.gpus_per_replica or 1} x {opt.hardware_id}; shorten the requests or raise "
                                    "gpus_per_replica"))
            continue
        if any(not e.meets_targets for e in per_q):
            e = next(e for e in per_q if not e.meets_targets)
            warnings.append((oid, f"cannot meet the latency targets even at batch 1 "
                                  f"({e.decode_tok_s_per_stream or 0:.1f} tok/s per user, TTFT {e.ttft_s or 0:.2f} s); "
                                  f"capacity taken at batch {e.batch}"))
        bench = scenario.benchmarks.get(oid)
        if bench is not None:
            caps[oid] = Capacity(np.full(n, bench.output_tok_s),
                                 f"measured: {opt.cell('benchmark_result_file')} = {bench.describe()}", measured=True)
            w = scenario.workload[0]
            if bench.mean_tpot_ms and 1000.0 / bench.mean_tpot_ms < w.min_user_tok_s:
                warnings.append((oid, f"the measured run decodes {1000.0 / bench.mean_tpot_ms:.1f} tok/s per user, "
                                      f"below the {w.min_user_tok_s:g} tok/s target: its throughput overstates "
                                      "the capacity at the targets"))
            if bench.p99_ttft_ms is not None and bench.p99_ttft_ms / 1000.0 > w.max_ttft_s:
                warnings.append((oid, f"the measured run's p99 TTFT {bench.p99_ttft_ms / 1000.0:.2f} s is above the "
                                      f"{w.max_ttft_s:g} s target"))
        elif opt.measured_output_tok_s_per_replica is not None:
            caps[oid] = Capacity(np.full(n, float(opt.measured_output_tok_s_per_replica)),
                                 f"measured: {opt.cell('measured_output_tok_s_per_replica')} ({opt.source})", measured=True)
        else:
            vals = np.array([e.output_tok_s_total for e in per_q], dtype=float)
            caps[oid] = Capacity(vals, f"roofline operating point ({first.engine}, batch {first.batch}, "
                                       f"{first.bound}-bound, prefill included)")
        ests[oid] = per_q
    if problems:
        raise InputError(problems, path=scenario.path)
    return OperatingPoints(caps, ests, warnings)


def _at(rec, name: str) -> str:
    return rec.cell(name).split("!")[-1]


def _request_too_long(scenario, oid, opt) -> Problem | None:
    """A request longer than the served model's context, at the Workload cell of the first quarter it happens."""
    model = scenario.models.get(opt.model_id)
    limit = getattr(model, "max_context_tokens", None)
    if not limit:
        return None
    reasoning = opt.reasoning_tokens_per_request or 0
    for w in scenario.workload:
        n_in = int(round(w.input_tokens_per_request))
        n_out = int(round(w.output_tokens_per_request + reasoning))
        if n_in + n_out <= limit:
            continue
        field = "input_tokens_per_request" if n_in >= w.output_tokens_per_request else "output_tokens_per_request"
        extra = f" + {reasoning:,.0f} reasoning tokens ({opt.cell('reasoning_tokens_per_request')})" if reasoning else ""
        return Problem("Workload", _at(w, field),
                       f"quarter {w.quarter}: a request of {n_in:,} input ({w.cell('input_tokens_per_request')}) + "
                       f"{w.output_tokens_per_request:,.0f} output tokens ({w.cell('output_tokens_per_request')}){extra} "
                       f"is longer than the {limit:,}-token context of {opt.model_id}, which option '{oid}' serves "
                       f"({opt.cell('model_id')}); shorten the requests to at most {limit:,} tokens in all, or serve "
                       "a model with a longer context")
    return None


def _estimate_at(w, oid, opt, run):
    """The roofline estimate, with any argument it refuses reported at the cells that supplied it."""
    from tcomodel.errors import UsageError

    try:
        return run()
    except UsageError as exc:
        cells = ", ".join(c for c in (opt.cell("hardware_id"), opt.cell("model_id"), opt.cell("precision"),
                                      opt.cell("gpus_per_replica"), w.cell("input_tokens_per_request"),
                                      w.cell("output_tokens_per_request"), w.cell("min_user_tok_s"),
                                      w.cell("max_ttft_s")) if "!" in c)
        raise InputError([Problem("Options", _at(opt, "option_id"),
                                  f"option '{oid}', quarter {w.quarter}: the roofline estimate refuses its inputs: "
                                  f"{exc} (from {cells})")], path=None) from None


def decode_curves(scenario, ops: OperatingPoints) -> dict:
    """Decode throughput against batch per self-hosted option (one replica, the first quarter's operating
    point's context): option_id -> list of {batch, decode_tok_s_total, ...}."""
    from tcomodel.roofline import decode_curve

    curves = {}
    for oid, per_q in ops.estimates.items():
        opt, e = scenario.options[oid], per_q[0]
        curves[oid] = decode_curve(opt.hardware_id, opt.model_id, opt.precision,
                                   kv_precision=opt.kv_precision or "bf16", gpus=opt.gpus_per_replica or 1,
                                   tp=e.tp, engine=opt.engine or "vllm", input_tokens=e.input_tokens,
                                   output_tokens=e.output_tokens, hardware_catalogue=scenario.hardware,
                                   model_catalogue=scenario.models)
    return curves


def claim_checks(scenario) -> list[dict]:
    """Each published claim on the Claims sheet checked against the physical bound, in sheet order."""
    from tcomodel.roofline import check_claim

    return [check_claim(cl.hardware_id, cl.model_id, cl.precision or "int4", cl.claimed_tok_s,
                        gpus=cl.gpus or 1, bits_per_weight=cl.bits_per_weight,
                        hardware_catalogue=scenario.hardware, model_catalogue=scenario.models)
            for cl in scenario.claims]
