"""Throughput side: decode step time vs batch, prefill, TTFT, operating point, the ``estimate`` API.

Decode step at batch B (per tensor-parallel group of ``tp`` GPUs, DESIGN.md section 6):
  bytes/GPU = (dense weights - input-embedding table + B embedding rows
               + routed experts x (1 - (1 - k/E)^B)) / tp + B x cache(context) x copies / tp
  (the LM head is read in full every step; an untied input-embedding table is only gathered, a row a token)
  FLOPs/GPU = B x (2 x (active params - input-embedding table) + attention FLOPs at context) / tp
  step = max(weight bytes / (bandwidth x eff_bw) + offloaded bytes / host bandwidth, matmul FLOPs / (peak x eff_compute))
         + max(cache bytes / (bandwidth x eff_kv), attention FLOPs / (peak x eff_compute))
         + per-step overhead + B x per-sequence overhead + 2 all-reduces per layer (TP > 1)
Prefill is the same roofline for the prompt's tokens (compute bound for long prompts).
Sustained output for requests of I in / O out at batch B: B x O generated in O steps plus B
prefills' compute: rate = B x O / (O x step(B) + B x prefill compute time), times replicas.
"""

from __future__ import annotations

import inspect
from dataclasses import asdict, dataclass, replace
from typing import Any

from tcomodel.roofline.claims import check_claim
from tcomodel.roofline.memory import GB
from tcomodel.roofline.setup import Setup, build_setup, positive

MAX_BATCH_SEARCH = 65536


def _largest_batch(ok, hi: int) -> int:
    """Largest b in [1, hi] with ok(b), for ok monotone (true then false); 0 if ok(1) is false."""
    if hi < 1 or not ok(1):
        return 0
    lo = 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


@dataclass(frozen=True)
class Estimate:
    hardware_id: str
    model_id: str
    precision: str
    kv_precision: str
    engine: str
    gpus: int
    tp: int
    replicas: int
    bits_per_weight: float
    weights_gb: float  # whole model
    weights_gb_per_gpu: float
    kv_bytes_per_token: float  # growing part (full attention / MLA)
    state_bytes_per_sequence: float  # fixed part: recurrent state + sliding window at the context
    context_tokens: int
    input_tokens: int
    output_tokens: int
    kv_gb_per_sequence: float  # at context_tokens, whole model
    usable_memory_gb_per_gpu: float
    fits: bool
    offloaded_gb_per_gpu: float
    offload_bw_gbs: float | None
    max_concurrency: int  # all replicas
    batch: int  # concurrent sequences per replica at the operating point
    batch_fits_memory: bool
    meets_targets: bool
    step_time_ms: float | None
    decode_tok_s_per_stream: float | None
    decode_tok_s_total: float | None
    prefill_tok_s: float | None  # per replica, one prompt of input_tokens
    ttft_s: float | None
    output_tok_s_total: float | None
    bound: str | None  # "memory" or "compute" at the operating point
    compute_precision: str
    peak_tflops: float
    ideal_bound_tok_s: float  # batch-1 weights-only bandwidth bound per stream (ignores fit)
    claimed_tok_s: float | None = None
    claim_verdict: str | None = None
    claim_factor: float | None = None
    ep: int = 1  # > 1: attention data-parallel and experts split over ep GPUs per replica (tp = 1)
    engine_version: str = ""  # release the engine's memory policy and batch cap follow
    engine_batch_cap: int | None = None  # max_num_seqs applied (given, else the version's default on this GPU)
    layout_choice: str = "single GPU"  # "explicit tp", "best output per GPU", "none fits: largest TP, offloaded"
    layouts: list[dict[str, Any]] | None = None  # every TP x replicas considered, with why each lost
    # Context, one definition each: memory holds context_tokens per sequence (the longest it may reach);
    # decode speed reads the mean context while a request decodes, input + output / 2
    speed_context_tokens: float | None = None
    step_split_ms: dict[str, float] | None = None  # weights, KV, compute, overhead, communication (operating point)
    bytes_per_step_per_gpu: float | None = None
    kv_capacity_tokens: int | None = None  # tokens of cache that fit beside the weights, per replica
    engine_factors: dict[str, float] | None = None  # eff_bw, eff_compute, overhead_ms applied
    effective_specs: dict[str, float] | None = None  # bandwidth and peak after the engine's efficiencies
    # matmul rate per component (dense; routed experts) with the kernel the engine runs and its source
    kernel_paths: list[dict[str, Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ideal_bound_tok_s(setup: Setup) -> float:
    """Bandwidth / bytes read per token at batch 1 (weights only, all GPUs of the TP group)."""
    return setup.bw_gbs * GB * setup.tp / setup.w.bytes_read(1)


def smallest_fitting_tp(hardware, model, precision, **kwargs) -> int:
    """The smallest TP dividing ``gpus`` whose weights fit (else ``gpus``): the layout rule before the
    best-per-GPU search, kept for calibration rows that state no TP. Takes ``estimate``'s keywords."""
    names = inspect.signature(build_setup).parameters
    kw = {k: v for k, v in kwargs.items() if k in names and k != "tp"}
    return build_setup(hardware, model, precision, **kw).tp


def _tp_powers_of_two(gpus: int) -> list[int]:
    return [d for d in (2 ** i for i in range(gpus.bit_length())) if gpus % d == 0]


def estimate(hardware, model, precision, kv_precision=None, gpus=1, tp=None, batch=None, max_batch=False,
             context_tokens=None, input_tokens=2048, output_tokens=512, engine="vllm",
             min_user_tok_s=None, max_ttft_s=None, claimed_tok_s=None, *, memory_gib=None,
             bandwidth_gbs=None, params_b=None, active_params_b=None, bits_per_weight=None,
             kv_bytes_per_token=None, max_num_seqs=None, host_bw_gbs=None, compute_tflops=None,
             hardware_catalogue=None, model_catalogue=None, kernel_path=None, ep=None) -> Estimate:
    """Memory fit, throughput and latency of ``model`` at ``precision`` on ``gpus`` x ``hardware``.

    ``hardware``/``model`` are catalogue ids or HardwareSpec/ModelSpec objects. ``context_tokens``
    (default input + output) sizes the cache per sequence. The batch is ``batch`` if given, the
    engine/memory limit if ``max_batch``, else the largest that fits memory and meets
    ``min_user_tok_s`` and ``max_ttft_s``. Totals are over all ``gpus``.

    Layout: ``tp`` if given; else every TP in powers of two dividing ``gpus`` whose weights fit per
    GPU, taking the one with the most sustained output per GPU at its operating point (layouts
    meeting the targets first); ``Estimate.layouts`` lists them all with why each lost. Expert
    parallelism is not considered (no engine profile models it). If no layout fits, the largest
    power-of-two TP is estimated with its weights offloaded, as for an explicit ``tp``.
    """
    setup_kw = dict(kv_precision=kv_precision, gpus=gpus, engine=engine, context_tokens=context_tokens,
                    input_tokens=input_tokens, output_tokens=output_tokens, memory_gib=memory_gib,
                    bandwidth_gbs=bandwidth_gbs, params_b=params_b, active_params_b=active_params_b,
                    bits_per_weight=bits_per_weight, kv_bytes_per_token=kv_bytes_per_token,
                    host_bw_gbs=host_bw_gbs, compute_tflops=compute_tflops,
                    hardware_catalogue=hardware_catalogue, model_catalogue=model_catalogue,
                    kernel_path=kernel_path)
    point_kw = dict(batch=batch, max_batch=max_batch, min_user_tok_s=min_user_tok_s, max_ttft_s=max_ttft_s,
                    claimed_tok_s=claimed_tok_s, max_num_seqs=max_num_seqs, precision=precision,
                    bits_per_weight=bits_per_weight, params_b=params_b, active_params_b=active_params_b)
    if ep is not None:
        s = build_setup(hardware, model, precision, tp=tp, ep=ep, **setup_kw)
        return _estimate_at(s, layout_choice="explicit ep", **point_kw)
    if tp is not None:
        s = build_setup(hardware, model, precision, tp=tp, **setup_kw)
        return _estimate_at(s, layout_choice="explicit tp", **point_kw)
    gpus_n = positive("gpus", gpus, integer=True, lo=1, hi=100000)
    if gpus_n == 1:
        return _estimate_at(build_setup(hardware, model, precision, tp=1, **setup_kw), **point_kw)
    cands = []
    layouts = [dict(tp=tp_) for tp_ in _tp_powers_of_two(gpus_n)]
    probe = build_setup(hardware, model, precision, tp=1, **setup_kw)
    if probe.model.is_moe and probe.engine.expert_parallel:  # data-parallel attention + expert parallel
        layouts += [dict(tp=1, ep=ep_) for ep_ in _tp_powers_of_two(gpus_n) if ep_ > 1]
    for lay in layouts:
        s = build_setup(hardware, model, precision, **lay, **setup_kw)
        cands.append((s, _estimate_at(s, layout_choice="best output per GPU", **point_kw) if s.mem.fits else None))
    fitting = [(s, e) for s, e in cands if e is not None and e.output_tok_s_total]
    if fitting:
        best_s, best = max(fitting, key=lambda se: (se[1].meets_targets, se[1].output_tok_s_total))
    else:
        best_s = cands[-1][0]
        best = _estimate_at(best_s, layout_choice="none fits: largest TP, offloaded", **point_kw)
    rows = []
    for s, e in cands:
        e = best if s is best_s else e
        row = dict(tp=s.tp, ep=s.ep, replicas=s.replicas, fits=s.mem.fits,
                   weights_gb_per_gpu=s.mem.weights_gb_per_gpu, usable_memory_gb_per_gpu=s.mem.usable_gb,
                   batch=e.batch if e else None, meets_targets=e.meets_targets if e else False,
                   comm_ms_per_step=s.phases(e.batch)["communication"] * 1e3 if e else None,
                   output_tok_s_per_gpu=e.output_tok_s_total / gpus_n if e and e.output_tok_s_total else None)
        if s is best_s:
            row["result"] = "chosen"
        elif not s.mem.fits:
            row["result"] = (f"does not fit: {s.mem.weights_gb_per_gpu:,.1f} GB of weights per GPU and one "
                             f"sequence exceed {s.mem.usable_gb:,.1f} GB usable")
        elif not e.output_tok_s_total:
            row["result"] = "cannot serve one sequence"
        elif best.meets_targets and not e.meets_targets:
            row["result"] = "misses the latency targets even at batch 1"
        else:
            row["result"] = (f"less output per GPU: {row['output_tok_s_per_gpu']:,.1f} vs "
                             f"{best.output_tok_s_total / gpus_n:,.1f} tok/s")
        rows.append(row)
    return replace(best, layouts=rows)


def unfit_message(e: Estimate) -> str | None:
    """Why ``e`` is no usable estimate, or None: no layout of its GPUs holds the weights (default
    layout search), or not even one sequence can be placed (any layout)."""
    what = f"{e.model_id} in {e.precision} on {e.gpus} x {e.hardware_id} ({e.engine})"
    if e.layouts and e.layout_choice.startswith("none fits"):
        per = ", ".join(f"TP{r['tp']} {r['weights_gb_per_gpu']:,.1f} GB" for r in e.layouts)
        need = 1
        while e.weights_gb / need > e.usable_memory_gb_per_gpu and need < 65536:
            need *= 2
        return (f"{what} does not fit at any tensor-parallel layout: weights per GPU {per}, usable "
                f"{e.usable_memory_gb_per_gpu:,.1f} GB per GPU (weights alone need TP{need} or more); use more "
                f"GPUs or a smaller precision, or pass --tp to estimate with the excess weights offloaded")
    if not e.output_tok_s_total:
        return (f"{what} cannot serve one sequence at TP{e.tp}: {e.weights_gb_per_gpu:,.1f} GB of weights per "
                f"GPU, {e.kv_gb_per_sequence / e.tp:,.2f} GB of cache per sequence per GPU, usable "
                f"{e.usable_memory_gb_per_gpu:,.1f} GB per GPU and no offload path; use more GPUs, a "
                f"smaller precision or a shorter context")
    return None


def _estimate_at(s: Setup, *, batch, max_batch, min_user_tok_s, max_ttft_s, claimed_tok_s, max_num_seqs,
                 precision, bits_per_weight, params_b, active_params_b,
                 layout_choice="single GPU") -> Estimate:
    """The operating point and rates of one layout (``s`` fixes TP and replicas)."""
    gpus = s.tp * s.ep * s.replicas
    batch = positive("batch", batch, integer=True, lo=1, hi=MAX_BATCH_SEARCH)
    min_user_tok_s = positive("min_user_tok_s", min_user_tok_s, hi=1e6)
    max_ttft_s = positive("max_ttft_s", max_ttft_s, hi=1e6)
    claimed_tok_s = positive("claimed_tok_s", claimed_tok_s, hi=1e9)
    cap_engine = positive("max_num_seqs", max_num_seqs, integer=True, lo=1, hi=MAX_BATCH_SEARCH) or s.engine.batch_cap(s.hw)
    mem = s.mem
    servable = mem.fits or (mem.offloaded_gb_per_gpu > 0 and s.offload_bw_gbs and mem.max_concurrency >= 1)
    cap = min(mem.max_concurrency, cap_engine)

    def meets(b):
        if min_user_tok_s is not None and 1.0 / s.step_s(b) < min_user_tok_s:
            return False
        if max_ttft_s is not None and s.ttft_s(b) > max_ttft_s:
            return False
        return True

    meets_targets = True
    if batch is not None:
        b = batch
        meets_targets = meets(b)
    elif max_batch:
        b = max(cap, 1)
    else:
        b = _largest_batch(meets, cap) if servable else 0
        if b == 0:
            b, meets_targets = 1, False
    batch_fits = bool(servable) and b <= mem.max_concurrency
    rates: dict[str, Any] = dict(step_time_ms=None, decode_tok_s_per_stream=None, decode_tok_s_total=None,
                                 prefill_tok_s=None, ttft_s=None, output_tok_s_total=None, bound=None)
    if servable:
        t_mem, t_comp, _ = s.step_parts(b)
        step = s.step_s(b)
        rates = dict(
            step_time_ms=step * 1e3,
            decode_tok_s_per_stream=1.0 / step,
            decode_tok_s_total=b / step * s.replicas,
            prefill_tok_s=s.input_tokens / s.prefill_s(s.input_tokens),
            ttft_s=s.ttft_s(b),
            output_tok_s_total=s.output_rate(b) * s.replicas,
            bound="memory" if t_mem >= t_comp else "compute",
        )
        split = s.step_breakdown(b)
        rates["bytes_per_step_per_gpu"] = split.pop("bytes_per_step_per_gpu")
        rates["step_split_ms"] = split
    rates["speed_context_tokens"] = s.read_context
    rates["engine_factors"] = {"eff_bw": s.engine.eff_bw, "eff_kv": s.engine.kv_eff, "eff_compute": s.engine.eff_compute,
                               "seq_overhead_us": s.engine.seq_overhead_us,
                               "overhead_ms": s.engine.overhead_ms}
    rates["effective_specs"] = {"memory_bw_gbs": s.bw_gbs * s.engine.eff_bw,
                                "kv_memory_bw_gbs": s.bw_gbs * s.engine.kv_eff,
                                "peak_tflops": s.peak_tflops * s.engine.eff_compute}
    if s.expert_peak_tflops is not None:
        rates["effective_specs"]["expert_peak_tflops"] = s.expert_peak_tflops * s.engine.eff_compute
    rates["kernel_paths"] = [dict(component=c, path=p, rate=r, peak_tflops=t, kernel=k, source=src)
                             for c, p, r, t, k, src in s.kernel_paths]
    if s.kv.bytes_per_token:
        rates["kv_capacity_tokens"] = int(max(0.0, mem.kv_room_bytes) * s.tp * s.ep / s.kv.replication(s.tp)
                                          // s.kv.bytes_per_token)
    verdict = factor = None
    if claimed_tok_s is not None:
        c = check_claim(s.hw, s.model, precision, claimed_tok_s, gpus=gpus, bits_per_weight=bits_per_weight,
                        params_b=params_b, active_params_b=active_params_b)
        verdict, factor = c["verdict"], c["factor"]
    return Estimate(
        hardware_id=s.hw.hardware_id, model_id=s.model.model_id, precision=s.precision,
        kv_precision=s.kv_precision, engine=s.engine.id, gpus=gpus, tp=s.tp, ep=s.ep, replicas=s.replicas,
        bits_per_weight=s.w.bits_per_weight, weights_gb=s.w.total_bytes / GB,
        weights_gb_per_gpu=mem.weights_gb_per_gpu, kv_bytes_per_token=s.kv.bytes_per_token,
        state_bytes_per_sequence=s.kv.fixed_bytes(s.context_tokens), context_tokens=s.context_tokens,
        input_tokens=s.input_tokens, output_tokens=s.output_tokens,
        kv_gb_per_sequence=s.kv.per_sequence(s.context_tokens) / GB,
        usable_memory_gb_per_gpu=mem.usable_gb, fits=mem.fits,
        offloaded_gb_per_gpu=mem.offloaded_gb_per_gpu,
        offload_bw_gbs=s.offload_bw_gbs if mem.offloaded_gb_per_gpu > 0 else None,
        max_concurrency=mem.max_concurrency * s.replicas, batch=b, batch_fits_memory=batch_fits,
        meets_targets=meets_targets and batch_fits, compute_precision=s.compute_precision,
        peak_tflops=s.peak_tflops, ideal_bound_tok_s=ideal_bound_tok_s(s),
        claimed_tok_s=claimed_tok_s, claim_verdict=verdict, claim_factor=factor, layout_choice=layout_choice,
        engine_version=s.engine.version, engine_batch_cap=cap_engine, **rates,
    )


def decode_curve(hardware, model, precision, batches=None, **kwargs) -> list[dict[str, Any]]:
    """Decode throughput vs batch (for a chart): batch, step_ms, per-stream and total tok/s, bound.

    ``batches`` defaults to powers of two up to the memory limit; totals are over all GPUs.
    Keyword arguments are those of ``build_setup`` (kv_precision, gpus, tp, engine, context ...).
    """
    s = build_setup(hardware, model, precision, **kwargs)
    if batches is None:
        top = max(1, s.mem.max_concurrency)
        batches, b = [], 1
        while b < top:
            batches.append(b)
            b *= 2
        batches.append(top)
    out = []
    for b in batches:
        b = positive("batch", b, integer=True, lo=1, hi=MAX_BATCH_SEARCH)
        t_mem, t_comp, _ = s.step_parts(b)
        step = s.step_s(b)
        out.append(dict(batch=b, step_ms=step * 1e3, decode_tok_s_per_stream=1.0 / step,
                        decode_tok_s_total=b / step * s.replicas, fits=b <= s.mem.max_concurrency,
                        bound="memory" if t_mem >= t_comp else "compute"))
    return out
