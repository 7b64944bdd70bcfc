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
import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from tcomodel.errors import UsageError
from tcomodel.roofline.catalogue import HardwareSpec, ModelSpec, load_catalogue
from tcomodel.roofline.engines import DEFAULT_CPU_DRAM_GBS, EngineProfile, get_engine
from tcomodel.roofline.kernels import kernel_choices, parse_kernel_path
from tcomodel.roofline.memory import GB, KvLayout, MemoryPlan, Weights, kv_layout, plan_memory, weights
from tcomodel.roofline.precision import (compute_tflops as _peak_for, component_bits, get_precision,
                                         kv_bytes_per_element)

MAX_BATCH_SEARCH = 65536

# Ring all-reduce latency from NCCL's own cost model (NVIDIA/nccl src/graph/tuning.cc, baseLat and
# hwLat for Ring/LL, the protocol it picks for small messages): 3.6 us base + 2 x (n - 1) steps of
# 0.47 us over NVLink, 1.0 us over PCIe. The engine adds its launch/sync latency on top.
NCCL_RING_BASE_US = 3.6
NCCL_RING_HOP_US = {"gpu_link": 0.47, "pcie": 1.0}
ACTIVATION_BYTES = 2.0  # activations are all-reduced in BF16 whatever the weight precision
DEFAULT_PCIE_GBS = 16.0  # assumption: PCIe Gen3 x16 per direction when the catalogue has no host link


def _lookup(kind: str, value, table: dict):
    if not isinstance(value, str):
        return value
    try:
        return table[value]
    except KeyError:
        raise UsageError(f"unknown {kind} id {value!r}; valid ids: {', '.join(sorted(table))}") from None


def resolve_hardware(hardware, catalogue: dict | None = None) -> HardwareSpec:
    return _lookup("hardware", hardware, catalogue if catalogue is not None else load_catalogue()[0])


def resolve_model(model, catalogue: dict | None = None) -> ModelSpec:
    return _lookup("model", model, catalogue if catalogue is not None else load_catalogue()[1])


def _num(x) -> str:
    x = float(x)
    return f"{x:,.0f}" if x == int(x) and abs(x) < 1e15 else f"{x:g}"


def range_words(lo, hi, integer=False) -> str:
    """An allowed range in words, bounds included unless said otherwise: 'a whole number from 1 to 131,072'."""
    word = "a whole number" if integer else "a number"
    if lo is None:
        return f"{word} above 0 (0 excluded)" + ("" if hi is None else f" and at most {_num(hi)}")
    if hi is None:
        return f"{word} of at least {_num(lo)}"
    return f"{word} from {_num(lo)} to {_num(hi)} (both included)"


def _positive(name: str, value, *, integer=False, lo=None, hi=None):
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{name} must be a number, got {value!r}") from None
    lo_ok = v > 0 if lo is None else v >= lo
    if not lo_ok or (hi is not None and v > hi) or math.isnan(v):
        raise UsageError(f"{name}={value} is outside the allowed range: {range_words(lo, hi, integer)}")
    if integer:
        if v != int(v):
            raise UsageError(f"{name} must be a whole number, got {value!r}")
        return int(v)
    return v


@dataclass(frozen=True)
class Setup:
    """Everything fixed for one deployment; step/prefill functions take only the batch."""

    hw: HardwareSpec
    model: ModelSpec
    engine: EngineProfile
    precision: str
    kv_precision: str
    tp: int
    replicas: int
    w: Weights
    kv: KvLayout
    mem: MemoryPlan
    peak_tflops: float
    compute_precision: str
    bw_gbs: float
    offload_bw_gbs: float | None
    prefill_link_gbs: float | None
    input_tokens: int
    output_tokens: int
    context_tokens: int  # memory is sized for this many tokens per sequence
    # routed-expert GEMMs may run on another kernel path than the rest (kernels.py)
    expert_peak_tflops: float | None = None  # None: same as peak_tflops
    expert_compute_precision: str | None = None
    kernel_paths: tuple = ()  # (component, path, rate name, TFLOPS, kernel, source) per component

    @property
    def read_context(self) -> float:
        """Mean context while decoding a request: input + output / 2."""
        return self.input_tokens + self.output_tokens / 2.0

    @property
    def off_share(self) -> float:
        return self.mem.offloaded_gb_per_gpu / self.mem.weights_gb_per_gpu if self.mem.weights_gb_per_gpu else 0.0

    def attn_flops_per_token(self, ctx: float) -> float:
        m = self.model
        if not self.engine.read_kv:
            return 0.0
        if m.mla_kv_lora_rank:
            return 4.0 * m.num_layers * m.num_attention_heads * (m.mla_kv_lora_rank + (m.mla_qk_rope_head_dim or 0)) * ctx
        win = self.kv.window
        sw = (m.sliding_window_layers or 0) * min(ctx, win) if win else 0.0
        return 4.0 * m.num_attention_heads * m.head_dim * (m.full_attention_layers * ctx + sw)

    @property
    def link(self) -> tuple[str, float]:
        """(kind, GB/s per direction) of the GPU-to-GPU path: the catalogue's interconnect_gbs is a
        bidirectional aggregate (NVLink / Infinity Fabric), host_link_gbs is PCIe per direction."""
        if self.hw.interconnect_gbs:
            return "gpu_link", self.hw.interconnect_gbs / 2.0
        return "pcie", self.hw.host_link_gbs or DEFAULT_PCIE_GBS

    def allreduce_s(self, tokens: float) -> float:
        """One ring all-reduce of tokens x hidden activations across the TP group: latency +
        2 (TP-1)/TP x message / link bandwidth (each GPU sends and receives that share of the message)."""
        n = self.tp
        if n <= 1:
            return 0.0
        kind, gbs = self.link
        lat_us = self.engine.allreduce_latency_us
        if self.engine.allreduce_hops:
            lat_us += NCCL_RING_BASE_US + 2 * (n - 1) * NCCL_RING_HOP_US[kind]
        msg = tokens * self.model.hidden_size * ACTIVATION_BYTES
        return lat_us * 1e-6 + 2.0 * (n - 1) / n * msg / (gbs * GB)

    def comm_s(self, tokens: float) -> float:
        """Two all-reduces per transformer layer (after attention, after the MLP/MoE), TP > 1."""
        return 2.0 * self.model.num_layers * self.allreduce_s(tokens) if self.tp > 1 else 0.0

    @property
    def overhead_s(self) -> float:
        """Fixed time per forward step (scheduling, launches, sampling). Scaling it with layers was tried
        and left no better under cross-validation (README), so it stays one engine constant."""
        return self.engine.overhead_ms * 1e-3

    def matmul_s(self, tokens: float, attn_flops: float) -> float:
        """Compute time per GPU of ``tokens`` tokens' matmuls plus ``attn_flops`` of attention: the
        routed experts' share at their kernel path's rate, the rest at the dense rate."""
        eff = self.engine.eff_compute
        expert = self.w.expert_params * self.w.route_share
        dense = 2.0 * (self.w.matmul_params - expert) * tokens + attn_flops
        t = dense / (self.peak_tflops * 1e12 * eff)
        if expert > 0:
            t += 2.0 * expert * tokens / ((self.expert_peak_tflops or self.peak_tflops) * 1e12 * eff)
        return t / self.tp

    def phases(self, batch: int) -> dict[str, float]:
        """Seconds of one decode step at ``batch``, per GPU of the TP group, by kernel phase.

        The weight GEMMs and the attention kernels run one after the other, each limited by its own
        roofline: the GEMM phase by the weight reads (incl. offloaded weights over their link) or the
        matmul FLOPs, the attention phase by the cache reads or the attention FLOPs. Summing the two
        maxima, not max(all bytes, all FLOPs), is what stops a batch whose cache reads hide behind the
        matmuls (or the reverse) from looking free.
        """
        e = self.engine
        w_read = self.w.bytes_read(batch) / self.tp
        gpu_w, host_w = w_read * (1.0 - self.off_share), w_read * self.off_share
        cache = 0.0
        if e.read_kv:
            ctx = self.read_context
            per_seq = self.kv.bytes_per_token * ctx + self.kv.fixed_bytes(int(ctx))
            cache = batch * per_seq * self.kv.replication(self.tp) / self.tp
        weights = gpu_w / (self.bw_gbs * GB * e.eff_bw)
        if host_w > 0:
            weights += host_w / (self.offload_bw_gbs * GB)
        attn_flops = batch * self.attn_flops_per_token(self.read_context) / self.tp
        return {"weights": weights, "gemm_compute": self.matmul_s(batch, 0.0),
                "kv": cache / (self.bw_gbs * GB * e.kv_eff),
                "attention_compute": attn_flops / (self.peak_tflops * 1e12 * e.eff_compute),
                "overhead": self.overhead_s + batch * e.seq_overhead_us * 1e-6, "communication": self.comm_s(batch),
                "bytes": w_read + cache}

    def step_parts(self, batch: int) -> tuple[float, float, float]:
        """(memory time, compute time, fixed time) of one decode step at ``batch``, seconds: the reads and
        the FLOPs of both phases, and the overhead + communication."""
        p = self.phases(batch)
        return p["weights"] + p["kv"], p["gemm_compute"] + p["attention_compute"], p["overhead"] + p["communication"]

    def step_breakdown(self, batch: int) -> dict[str, float]:
        """Where one decode step's time goes, ms per GPU of the TP group. The step is
        max(weights, GEMM compute) + max(KV, attention compute) + overhead + communication."""
        p = self.phases(batch)
        return {"weights_ms": p["weights"] * 1e3, "gemm_compute_ms": p["gemm_compute"] * 1e3,
                "kv_ms": p["kv"] * 1e3, "attention_compute_ms": p["attention_compute"] * 1e3,
                "compute_ms": (p["gemm_compute"] + p["attention_compute"]) * 1e3,
                "overhead_ms": p["overhead"] * 1e3, "communication_ms": p["communication"] * 1e3,
                "bytes_per_step_per_gpu": p["bytes"]}

    def step_s(self, batch: int) -> float:
        p = self.phases(batch)
        return (max(p["weights"], p["gemm_compute"]) + max(p["kv"], p["attention_compute"])
                + p["overhead"] + p["communication"])

    def prefill_attn_flops(self, n: int) -> float:
        m = self.model
        attn = 0.0
        if self.engine.read_kv:
            win = self.kv.window
            sw_sum = (n * n / 2.0 if n <= win else win * win / 2.0 + (n - win) * win) if win else 0.0
            if m.mla_kv_lora_rank:
                attn = 4.0 * m.num_layers * m.num_attention_heads * (m.mla_kv_lora_rank + (m.mla_qk_rope_head_dim or 0)) * n * n / 2.0
            else:
                attn = 4.0 * m.num_attention_heads * m.head_dim * (
                    m.full_attention_layers * n * n / 2.0 + (m.sliding_window_layers or 0) * sw_sum)
        return attn

    def prefill_compute_s(self, n: int) -> float:
        return self.matmul_s(n, self.prefill_attn_flops(n))

    def prefill_s(self, n: int) -> float:
        """One prompt of ``n`` tokens alone: weights read once, compute for n tokens."""
        w_read = self.w.bytes_read(n) / self.tp
        t_mem = w_read * (1.0 - self.off_share) / (self.bw_gbs * GB * self.engine.eff_bw)
        if self.off_share > 0:
            t_mem += w_read * self.off_share / (self.prefill_link_gbs * GB)
        return max(t_mem, self.prefill_compute_s(n)) + self.overhead_s + self.comm_s(n)

    def ttft_s(self, batch: int) -> float:
        return self.prefill_s(self.input_tokens) + (self.step_s(batch) if batch > 1 else 0.0)

    def output_rate(self, batch: int) -> float:
        """Generated tokens/s of one replica, prefill included (B x O / (O x step + B x prefill))."""
        o = self.output_tokens
        cycle = o * self.step_s(batch) + batch * self.prefill_compute_s(self.input_tokens)
        return batch * o / cycle


def _tp_candidates(gpus: int) -> list[int]:
    return [d for d in range(1, gpus + 1) if gpus % d == 0]


def build_setup(hardware, model, precision, *, kv_precision=None, gpus=1, tp=None, engine="vllm",
                context_tokens=None, input_tokens=2048, output_tokens=512, memory_gib=None,
                bandwidth_gbs=None, params_b=None, active_params_b=None, bits_per_weight=None,
                kv_bytes_per_token=None, host_bw_gbs=None, compute_tflops=None, hardware_catalogue=None,
                model_catalogue=None, kernel_path=None) -> Setup:
    hw = resolve_hardware(hardware, hardware_catalogue)
    m = resolve_model(model, model_catalogue)
    eng = get_engine(engine, hw)
    prec = get_precision(precision)
    kv_precision = (kv_precision or "bf16").lower()
    kvb = kv_bytes_per_element(kv_precision)
    gpus = _positive("gpus", gpus, integer=True, lo=1, hi=100000)
    input_tokens = _positive("input_tokens", input_tokens, integer=True, lo=1, hi=m.max_context_tokens)
    output_tokens = _positive("output_tokens", output_tokens, integer=True, lo=1, hi=m.max_context_tokens)
    if context_tokens is None:
        context_tokens = input_tokens + output_tokens
    context_tokens = _positive("context_tokens", context_tokens, integer=True, lo=1, hi=m.max_context_tokens)
    context_tokens = max(context_tokens, input_tokens + output_tokens)
    if context_tokens > m.max_context_tokens:
        raise UsageError(f"input + output = {context_tokens} tokens exceeds {m.model_id} max context "
                         f"{m.max_context_tokens:,}; input + output must be from 2 to {m.max_context_tokens:,} tokens")
    memory_gib = _positive("memory_gib", memory_gib, hi=1e6)
    bandwidth_gbs = _positive("bandwidth_gbs", bandwidth_gbs, hi=1e7)
    params_b = _positive("params_b", params_b, hi=1e5)
    active_params_b = _positive("active_params_b", active_params_b, hi=1e5)
    bits_per_weight = _positive("bits_per_weight", bits_per_weight, lo=1, hi=32)
    kv_bytes_per_token = _positive("kv_bytes_per_token", kv_bytes_per_token, lo=0, hi=1e10)
    host_bw_gbs = _positive("host_bw_gbs", host_bw_gbs, hi=1e5)
    if memory_gib is not None:  # what-if in GiB: an "80 GB" card is 80
        hw = hw.replace(memory_mib=memory_gib * 1024)
    if bandwidth_gbs is not None:
        hw = hw.replace(memory_bw_gbs=bandwidth_gbs)
    bits = bits_per_weight if bits_per_weight is not None else prec.bits_per_weight
    w = weights(m, bits, bits_apply_to_all=bits_per_weight is not None,
                total_params_b=params_b, active_params_b=active_params_b,
                component_bits=component_bits(prec, m))
    kv = kv_layout(m, kvb, kv_bytes_per_token)
    native = prec if eng.native_low_precision else get_precision("bf16")
    paths = kernel_choices(eng.id, hw.arch, native.compute, parse_kernel_path(kernel_path), is_moe=m.is_moe,
                           precision_id=prec.id)
    rates = {}
    for comp, choice in paths.items():
        if choice.path == "fp16acc":
            rates[comp] = (hw.fp16_acc_tflops, "fp16acc") if hw.fp16_acc_tflops else _peak_for(hw, get_precision("bf16"))
        else:
            rates[comp] = _peak_for(hw, native if choice.path == "native" else get_precision(choice.path))
    if compute_tflops is not None:  # what-if: the matmul peak actually available (e.g. FP16-accumulate rate)
        over = _positive("compute_tflops", compute_tflops, hi=1e6)
        rates = {c: (over, "override") for c in rates}
    peak, cname = rates["dense"]
    expert_peak, expert_name = rates.get("experts", (None, None))
    kernel_rows = tuple((c, paths[c].path, rates[c][1], rates[c][0], paths[c].kernel, paths[c].source) for c in paths)
    if eng.offload == "cpu_dram":
        off_bw = host_bw_gbs or DEFAULT_CPU_DRAM_GBS
    else:
        off_bw = host_bw_gbs or hw.host_link_gbs
    prefill_link = hw.host_link_gbs or off_bw

    def plan(tp_):
        seq = kv.per_sequence(context_tokens) * kv.replication(tp_) / tp_
        return plan_memory(hw.memory_bytes, eng, w.total_bytes / tp_, seq)

    if tp is not None:
        tp = _positive("tp", tp, integer=True, lo=1, hi=gpus)
        if gpus % tp:
            raise UsageError(f"tp={tp} must divide gpus={gpus}; allowed: {_tp_candidates(gpus)}")
        mem = plan(tp)
    else:
        for tp in _tp_candidates(gpus):
            mem = plan(tp)
            if mem.fits:
                break
    return Setup(hw, m, eng, prec.id, kv_precision, tp, gpus // tp, w, kv, mem, peak, cname,
                 hw.memory_bw_gbs, off_bw, prefill_link, input_tokens, output_tokens, context_tokens,
                 expert_peak, expert_name, kernel_rows)


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
             hardware_catalogue=None, model_catalogue=None, kernel_path=None) -> Estimate:
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
    if tp is not None:
        s = build_setup(hardware, model, precision, tp=tp, **setup_kw)
        return _estimate_at(s, layout_choice="explicit tp", **point_kw)
    gpus_n = _positive("gpus", gpus, integer=True, lo=1, hi=100000)
    if gpus_n == 1:
        return _estimate_at(build_setup(hardware, model, precision, tp=1, **setup_kw), **point_kw)
    cands = []
    for tp_ in _tp_powers_of_two(gpus_n):
        s = build_setup(hardware, model, precision, tp=tp_, **setup_kw)
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
        row = dict(tp=s.tp, replicas=s.replicas, fits=s.mem.fits,
                   weights_gb_per_gpu=s.mem.weights_gb_per_gpu, usable_memory_gb_per_gpu=s.mem.usable_gb,
                   batch=e.batch if e else None, meets_targets=e.meets_targets if e else False,
                   comm_ms_per_step=s.comm_s(e.batch) * 1e3 if e else None,
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
    gpus = s.tp * s.replicas
    batch = _positive("batch", batch, integer=True, lo=1, hi=MAX_BATCH_SEARCH)
    min_user_tok_s = _positive("min_user_tok_s", min_user_tok_s, hi=1e6)
    max_ttft_s = _positive("max_ttft_s", max_ttft_s, hi=1e6)
    claimed_tok_s = _positive("claimed_tok_s", claimed_tok_s, hi=1e9)
    cap_engine = _positive("max_num_seqs", max_num_seqs, integer=True, lo=1, hi=MAX_BATCH_SEARCH) or s.engine.batch_cap(s.hw)
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
        rates["kv_capacity_tokens"] = int(max(0.0, mem.kv_room_bytes) * s.tp / s.kv.replication(s.tp)
                                          // s.kv.bytes_per_token)
    verdict = factor = None
    if claimed_tok_s is not None:
        from tcomodel.roofline.claims import check_claim

        c = check_claim(s.hw, s.model, precision, claimed_tok_s, gpus=gpus, bits_per_weight=bits_per_weight,
                        params_b=params_b, active_params_b=active_params_b)
        verdict, factor = c["verdict"], c["factor"]
    return Estimate(
        hardware_id=s.hw.hardware_id, model_id=s.model.model_id, precision=s.precision,
        kv_precision=s.kv_precision, engine=s.engine.id, gpus=gpus, tp=s.tp, replicas=s.replicas,
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
        b = _positive("batch", b, integer=True, lo=1, hi=MAX_BATCH_SEARCH)
        t_mem, t_comp, _ = s.step_parts(b)
        step = s.step_s(b)
        out.append(dict(batch=b, step_ms=step * 1e3, decode_tok_s_per_stream=1.0 / step,
                        decode_tok_s_total=b / step * s.replicas, fits=b <= s.mem.max_concurrency,
                        bound="memory" if t_mem >= t_comp else "compute"))
    return out
