"""One deployment's fixed setup: hardware, model, precision, engine and tensor-parallel layout resolved
into a ``Setup`` whose methods give decode step time, prefill and TTFT at a batch (the physics is
described in ``throughput.py``). Shared by ``throughput`` (the estimate API) and ``claims`` (the
ideal bound), so neither imports the other's internals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from tcomodel.catalogue import HardwareSpec, ModelSpec, load_catalogue
from tcomodel.errors import UsageError
from tcomodel.roofline.engines import DEFAULT_CPU_DRAM_GBS, EngineProfile, get_engine
from tcomodel.roofline.kernels import kernel_choices, parse_kernel_path
from tcomodel.roofline.memory import GB, KvLayout, MemoryPlan, Weights, kv_layout, plan_memory, weights
from tcomodel.roofline.precision import (compute_tflops as _peak_for, component_bits, get_precision,
                                         kv_bytes_per_element)

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


def positive(name: str, value, *, integer=False, lo=None, hi=None):
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
    # > 1: a replica is ep GPUs, each running attention for its own sequences (data parallel) while the
    # routed experts are split among them (expert parallel); tp is then 1
    ep: int = 1

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

    def alltoall_s(self, tokens: float) -> float:
        """One all-to-all of an expert-parallel group: each GPU sends its ``tokens`` x k routed copies of the
        hidden state, (EP-1)/EP of them to other GPUs, and receives as many; latency as NCCL's point-to-point
        sends, one per peer."""
        n = self.ep
        kind, gbs = self.link
        lat_us = self.engine.allreduce_latency_us
        if self.engine.allreduce_hops:
            lat_us += NCCL_RING_BASE_US + (n - 1) * NCCL_RING_HOP_US[kind]
        msg = tokens * (self.model.experts_per_token or 1) * self.model.hidden_size * ACTIVATION_BYTES
        return lat_us * 1e-6 + (n - 1) / n * msg / (gbs * GB)

    def comm_s(self, tokens: float) -> float:
        """TP > 1: two all-reduces per transformer layer (after attention, after the MLP/MoE). EP > 1: a
        dispatch and a combine all-to-all per MoE layer of the ``tokens`` on this GPU."""
        if self.ep > 1:
            return 2.0 * (self.model.moe_layers or self.model.num_layers) * self.alltoall_s(tokens)
        return 2.0 * self.model.num_layers * self.allreduce_s(tokens) if self.tp > 1 else 0.0

    def weight_bytes_per_gpu(self, tokens_per_gpu: float, group_tokens: float) -> float:
        """Weight bytes one GPU reads in a step: its TP share; with EP the dense part in full and its
        1/EP of the experts, touched by the whole group's tokens."""
        w = self.w
        if self.ep == 1:
            return w.bytes_read(group_tokens) / self.tp
        return (w.dense_bytes - w.embed_bytes + w.embed_read(int(math.ceil(tokens_per_gpu)))
                + w.expert_bytes * w.touched_share(int(group_tokens)) / self.ep)

    @property
    def overhead_s(self) -> float:
        """Fixed time per forward step (scheduling, launches, sampling). Scaling it with layers was tried
        and left no better under cross-validation (README), so it stays one engine constant."""
        return self.engine.overhead_ms * 1e-3

    def matmul_s(self, tokens: float, attn_flops: float, expert_share: float = 1.0) -> float:
        """Compute time per GPU of ``tokens`` tokens' matmuls plus ``attn_flops`` of attention: the
        routed experts' share at their kernel path's rate (times ``expert_share``: 1/EP when a prompt's
        expert work is spread over the group), the rest at the dense rate."""
        eff = self.engine.eff_compute
        expert = self.w.expert_params * self.w.route_share
        dense = 2.0 * (self.w.matmul_params - expert) * tokens + attn_flops
        t = dense / (self.peak_tflops * 1e12 * eff)
        if expert > 0:
            t += expert_share * 2.0 * expert * tokens / ((self.expert_peak_tflops or self.peak_tflops) * 1e12 * eff)
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
        b = batch / self.ep  # sequences on each GPU (EP: each runs attention for its own)
        w_read = self.weight_bytes_per_gpu(b, batch)
        gpu_w, host_w = w_read * (1.0 - self.off_share), w_read * self.off_share
        cache = 0.0
        if e.read_kv:
            ctx = self.read_context
            per_seq = self.kv.bytes_per_token * ctx + self.kv.fixed_bytes(int(ctx))
            cache = b * per_seq * self.kv.replication(self.tp) / self.tp
        weights = gpu_w / (self.bw_gbs * GB * e.eff_bw)
        if host_w > 0:
            weights += host_w / (self.offload_bw_gbs * GB)
        attn_flops = b * self.attn_flops_per_token(self.read_context) / self.tp
        return {"weights": weights, "gemm_compute": self.matmul_s(b, 0.0),
                "kv": cache / (self.bw_gbs * GB * e.kv_eff),
                "attention_compute": attn_flops / (self.peak_tflops * 1e12 * e.eff_compute),
                "overhead": self.overhead_s + b * e.seq_overhead_us * 1e-6, "communication": self.comm_s(b),
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
        """Compute time of one prompt of ``n`` tokens (EP: its expert work spread over the group)."""
        return self.matmul_s(n, self.prefill_attn_flops(n), 1.0 / self.ep)

    def prefill_work_s(self, batch: int) -> float:
        """Time a replica spends on the compute of ``batch`` prompts of input_tokens (EP: each GPU its
        own batch / EP prompts, the group's expert work shared evenly)."""
        n = self.input_tokens
        if self.ep == 1:
            return batch * self.prefill_compute_s(n)
        return batch / self.ep * self.matmul_s(n, self.prefill_attn_flops(n))

    def prefill_s(self, n: int) -> float:
        """One prompt of ``n`` tokens alone: weights read once, compute for n tokens."""
        w_read = self.weight_bytes_per_gpu(n, n)
        t_mem = w_read * (1.0 - self.off_share) / (self.bw_gbs * GB * self.engine.eff_bw)
        if self.off_share > 0:
            t_mem += w_read * self.off_share / (self.prefill_link_gbs * GB)
        return max(t_mem, self.prefill_compute_s(n)) + self.overhead_s + self.comm_s(n)

    def ttft_s(self, batch: int) -> float:
        return self.prefill_s(self.input_tokens) + (self.step_s(batch) if batch > 1 else 0.0)

    def output_rate(self, batch: int) -> float:
        """Generated tokens/s of one replica, prefill included (B x O / (O x step + B x prefill))."""
        o = self.output_tokens
        cycle = o * self.step_s(batch) + self.prefill_work_s(batch)
        return batch * o / cycle


def _tp_candidates(gpus: int) -> list[int]:
    return [d for d in range(1, gpus + 1) if gpus % d == 0]


def build_setup(hardware, model, precision, *, kv_precision=None, gpus=1, tp=None, engine="vllm",
                context_tokens=None, input_tokens=2048, output_tokens=512, memory_gib=None,
                bandwidth_gbs=None, params_b=None, active_params_b=None, bits_per_weight=None,
                kv_bytes_per_token=None, host_bw_gbs=None, compute_tflops=None, hardware_catalogue=None,
                model_catalogue=None, kernel_path=None, ep=None) -> Setup:
    hw = resolve_hardware(hardware, hardware_catalogue)
    m = resolve_model(model, model_catalogue)
    eng = get_engine(engine, hw)
    prec = get_precision(precision)
    kv_precision = (kv_precision or "bf16").lower()
    kvb = kv_bytes_per_element(kv_precision)
    gpus = positive("gpus", gpus, integer=True, lo=1, hi=100000)
    input_tokens = positive("input_tokens", input_tokens, integer=True, lo=1, hi=m.max_context_tokens)
    output_tokens = positive("output_tokens", output_tokens, integer=True, lo=1, hi=m.max_context_tokens)
    if context_tokens is None:
        context_tokens = input_tokens + output_tokens
    context_tokens = positive("context_tokens", context_tokens, integer=True, lo=1, hi=m.max_context_tokens)
    context_tokens = max(context_tokens, input_tokens + output_tokens)
    if context_tokens > m.max_context_tokens:
        raise UsageError(f"input + output = {context_tokens} tokens exceeds {m.model_id} max context "
                         f"{m.max_context_tokens:,}; input + output must be from 2 to {m.max_context_tokens:,} tokens")
    memory_gib = positive("memory_gib", memory_gib, hi=1e6)
    bandwidth_gbs = positive("bandwidth_gbs", bandwidth_gbs, hi=1e7)
    params_b = positive("params_b", params_b, hi=1e5)
    active_params_b = positive("active_params_b", active_params_b, hi=1e5)
    bits_per_weight = positive("bits_per_weight", bits_per_weight, lo=1, hi=32)
    kv_bytes_per_token = positive("kv_bytes_per_token", kv_bytes_per_token, lo=0, hi=1e10)
    host_bw_gbs = positive("host_bw_gbs", host_bw_gbs, hi=1e5)
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
        over = positive("compute_tflops", compute_tflops, hi=1e6)
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

    ep = positive("ep", ep, integer=True, lo=1, hi=gpus) or 1
    if ep > 1:
        if not m.is_moe:
            raise UsageError(f"ep={ep}: expert parallelism needs an MoE model; {m.model_id} is dense")
        if not eng.expert_parallel:
            raise UsageError(f"ep={ep}: engine {eng.id} has no expert-parallel mode in its profile")
        if tp not in (None, 1):
            raise UsageError(f"ep={ep} runs attention data-parallel (tp=1); got tp={tp}")
        if gpus % ep:
            raise UsageError(f"ep={ep} must divide gpus={gpus}; allowed: {_tp_candidates(gpus)}")
        # each GPU: the dense weights in full, 1/EP of the experts, whole sequences' cache
        mem = plan_memory(hw.memory_bytes, eng, w.dense_bytes + w.expert_bytes / ep, kv.per_sequence(context_tokens))
        mem = replace(mem, max_concurrency=mem.max_concurrency * ep)  # per replica = the EP group
        tp = 1
    elif tp is not None:
        tp = positive("tp", tp, integer=True, lo=1, hi=gpus)
        if gpus % tp:
            raise UsageError(f"tp={tp} must divide gpus={gpus}; allowed: {_tp_candidates(gpus)}")
        mem = plan(tp)
    else:
        for tp in _tp_candidates(gpus):
            mem = plan(tp)
            if mem.fits:
                break
    return Setup(hw, m, eng, prec.id, kv_precision, tp, gpus // (tp * ep), w, kv, mem, peak, cname,
                 hw.memory_bw_gbs, off_bw, prefill_link, input_tokens, output_tokens, context_tokens,
                 expert_peak, expert_name, kernel_rows, ep)
