"""Engine profiles: memory policy (sourced defaults) and efficiency factors (fitted).

Efficiency factors (``eff_bw``, ``eff_compute``, ``overhead_ms``) come from
``tcomodel/roofline/fitted_factors.py``, written by ``python -m tcomodel.roofline.fit_calibration
--write``. TensorRT-LLM and llama.cpp are fitted to the calibration rows in
``tcomodel/roofline/calibration.py``. vLLM and SGLang are derived from the TensorRT-LLM fit with a
sourced ratio (TRT-LLM peak = 1.2 x vLLM, spheron-bench; see fit_calibration.py): vLLM's own four
calibration rows (AMD MLPerf) are too few to fit three factors, and SGLang has no usable row (both
published SGLang rows are disaggregated expert-parallel clusters, see calibration.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tcomodel.catalogue import GIB
from tcomodel.errors import UsageError
from tcomodel.roofline import fitted_factors


@dataclass(frozen=True)
class EngineProfile:
    id: str
    eff_bw: float  # achieved / peak memory bandwidth in decode
    eff_compute: float  # achieved / dense peak matmul rate
    overhead_ms: float  # per decode step: scheduling, kernel launches, sampling
    mem_utilization: float  # share of device memory the engine may use
    kv_fraction_of_free: bool  # True: utilization applies to memory left after weights (TensorRT-LLM)
    reserve_gib: float  # per GPU: CUDA context, activations, CUDA graphs (GiB, as engines log memory)
    max_batch: int  # engine's cap on concurrent sequences (max_num_seqs) for the version named
    offload: str  # where weights that do not fit are read from: "host_link" or "cpu_dram"
    read_kv: bool = True  # False only for the ideal profile (weights only)
    native_low_precision: bool = True  # False: matmuls run at 16-bit rate whatever the weight format
    # per all-reduce, on top of NCCL's ring model (throughput.py): kernel launch + stream sync;
    # assumption: with NCCL's 3.6 us + hops it lands TP2-8 at 12-26 us, within the 10-30 us
    # small-message all-reduce latency that nccl-tests report intra-node
    allreduce_latency_us: float = 8.0
    allreduce_hops: bool = True  # False: no per-hop ring latency (the ideal profile)
    factors_source: str = ""
    note: str = ""
    # achieved / peak bandwidth reading the KV cache in decode attention (paged, per sequence); None = eff_bw
    eff_kv: float | None = None
    # per sequence per decode step: sampling, logits, scheduler and cache bookkeeping; what makes a large
    # batch cost more than its bytes and FLOPs, so eff_bw can stay the bandwidth a batch-1 step reaches
    seq_overhead_us: float = 0.0
    # has a data-parallel-attention + expert-parallel mode for MoE models (layout search tries it)
    expert_parallel: bool = False
    version: str = ""  # engine release the memory policy and batch cap defaults are taken from
    # Larger default cap on big-memory devices (vLLM >= 0.9): max_batch_large_memory when the device
    # exposes at least large_memory_gib and its name contains none of large_memory_excluded_names.
    max_batch_large_memory: int | None = None
    large_memory_gib: float = 0.0
    large_memory_excluded_names: tuple[str, ...] = ()
    batch_cap_source: str = ""

    def batch_cap(self, hardware) -> int:
        """The engine's default cap on concurrent sequences (max_num_seqs) on ``hardware``."""
        if self.max_batch_large_memory is None:
            return self.max_batch
        name = f"{hardware.name} {hardware.hardware_id}".lower()
        if hardware.memory_bytes >= self.large_memory_gib * GIB and not any(
                x in name for x in self.large_memory_excluded_names):
            return self.max_batch_large_memory
        return self.max_batch

    @property
    def kv_eff(self) -> float:
        return self.eff_kv if self.eff_kv is not None else self.eff_bw

    @property
    def reserve_bytes(self) -> float:
        return self.reserve_gib * GIB


# CPU DRAM bandwidth used when llama.cpp runs offloaded layers on the CPU: dual-channel DDR5-5600
# = 2 x 8 B x 5600 MT/s = 89.6 GB/s peak (a desktop host such as the AarhusAI note's Ada 20 GB box).
DEFAULT_CPU_DRAM_GBS = 89.6


def _fitted(engine_id: str) -> tuple[float, float, float, str]:
    f = fitted_factors.FACTORS[engine_id]
    src = fitted_factors.DERIVED_SOURCE if engine_id in ("vllm", "sglang") else fitted_factors.SOURCE
    return f["eff_bw"], f["eff_compute"], f["overhead_ms"], src


def _eff_kv(engine_id: str) -> float | None:
    return fitted_factors.FACTORS[engine_id].get("eff_kv")


def _seq_us(engine_id: str) -> float:
    return fitted_factors.FACTORS[engine_id].get("seq_overhead_us", 0.0)


def _build() -> dict[str, EngineProfile]:
    v_bw, v_c, v_o, src = _fitted("vllm")
    t_bw, t_c, t_o, t_src = _fitted("trtllm")
    l_bw, l_c, l_o, l_src = _fitted("llamacpp")
    s_bw, s_c, s_o, s_src = _fitted("sglang")
    return {
        "vllm": EngineProfile(
            "vllm", v_bw, v_c, v_o,
            mem_utilization=0.90,  # vLLM --gpu-memory-utilization default 0.9
            kv_fraction_of_free=False,
            reserve_gib=2.0,  # assumption: non-torch memory + activation peak + CUDA graphs, ~1-3 GiB in vLLM startup logs
            max_batch=256,  # max_num_seqs default below 70 GiB or on A100 (see batch_cap_source)
            offload="host_link",  # --cpu-offload-gb streams weights over PCIe
            factors_source=src,  # derived from trtllm (fitted_factors.DERIVED_SOURCE)
            eff_kv=_eff_kv("vllm"),
            seq_overhead_us=_seq_us("vllm"),
            version="0.11.0",
            expert_parallel=True,  # --data-parallel-size N --enable-expert-parallel (vLLM docs, expert parallel deployment)
            max_batch_large_memory=1024,
            large_memory_gib=70.0,
            large_memory_excluded_names=("a100",),
            batch_cap_source=("vLLM 0.11.0 vllm/engine/arg_utils.py EngineArgs._set_default_args (lines 1605-1623): "
                              "device total memory >= 70 GiB and 'a100' not in the device name -> max_num_seqs "
                              "1024 (OPENAI_API_SERVER and LLM_CLASS), else 256; then min(max_num_seqs, "
                              "max_num_batched_tokens 8192 / 2048) which leaves 1024 / 256"),
        ),
        "trtllm": EngineProfile(
            "trtllm", t_bw, t_c, t_o,
            mem_utilization=0.90,  # KvCacheConfig free_gpu_memory_fraction default 0.9 (of memory left after weights)
            kv_fraction_of_free=True,
            reserve_gib=2.0,  # assumption, as vLLM
            max_batch=2048,  # TensorRT-LLM max_batch_size default 2048 (trtllm-build / LLM API BuildConfig)
            offload="host_link",
            factors_source=t_src,
            eff_kv=_eff_kv("trtllm"),
            expert_parallel=True,  # enable_attention_dp + moe_expert_parallel_size (the perf tables' DEP8 runs)
            seq_overhead_us=_seq_us("trtllm"),
        ),
        "sglang": EngineProfile(
            "sglang", s_bw, s_c, s_o,
            mem_utilization=0.88,  # SGLang --mem-fraction-static, auto default ~0.88 on 80 GB parts
            kv_fraction_of_free=False,
            reserve_gib=2.0,
            max_batch=1024,  # assumption: SGLang sizes --max-running-requests from the KV pool; cap for sanity
            offload="host_link",
            factors_source=s_src + "; no expressible SGLang calibration row (see calibration.py)",
            eff_kv=_eff_kv("sglang"),
            expert_parallel=True,  # --enable-dp-attention --ep-size (SGLang server arguments)
            seq_overhead_us=_seq_us("sglang"),
        ),
        "llamacpp": EngineProfile(
            "llamacpp", l_bw, l_c, l_o,
            mem_utilization=1.0,  # llama.cpp allocates exactly weights + KV(n_ctx) + compute buffer
            kv_fraction_of_free=False,
            reserve_gib=1.0,  # assumption: CUDA context + compute buffer, ~0.5-1 GiB in llama.cpp load logs
            max_batch=4,  # assumption: llama-server --parallel slots set by the operator; 4 is a common setting
            offload="cpu_dram",  # -ngl < all: offloaded layers run on the CPU from DRAM
            native_low_precision=False,  # GGUF/MXFP4 matmuls dequantize (MMQ / cuBLAS FP16), no FP8/FP4 MMA
            factors_source=l_src,
            eff_kv=_eff_kv("llamacpp"),
            seq_overhead_us=_seq_us("llamacpp"),
        ),
        "ideal": EngineProfile(
            "ideal", 1.0, 1.0, 0.0,
            mem_utilization=1.0, kv_fraction_of_free=False, reserve_gib=0.0, max_batch=1,
            offload="host_link", read_kv=False, allreduce_latency_us=0.0, allreduce_hops=False,
            factors_source="definition: efficiency 1, no overhead, weights only, batch 1 (the back-of-envelope)",
        ),
    }


ENGINES: dict[str, EngineProfile] = _build()
ENGINE_IDS: list[str] = list(ENGINES)


def hardware_class(hardware) -> str:
    """The class efficiency factors are fitted per: the vendor (nvidia, amd, apple, intel, ...)."""
    return str(hardware.vendor).strip().lower()


FACTOR_KEYS = ("eff_bw", "eff_kv", "eff_compute", "overhead_ms", "seq_overhead_us")


def get_engine(engine: str | EngineProfile, hardware=None) -> EngineProfile:
    """The profile of ``engine``; named by id and run on ``hardware``, with the factors fitted to that
    hardware class where the fit has its own (fitted_factors key ``engine@class``, e.g. vllm@amd). A
    profile object is used as given (the fit passes its trial factors that way)."""
    if isinstance(engine, EngineProfile):
        return engine
    try:
        profile = ENGINES[engine.lower()]
    except KeyError:
        raise UsageError(f"engine {engine!r} is not one of: {', '.join(ENGINE_IDS)}") from None
    if hardware is not None:
        key = f"{profile.id}@{hardware_class(hardware)}"
        own = fitted_factors.FACTORS.get(key)
        if own:
            values = {k: own.get(k, 0.0 if k == "seq_overhead_us" else None) for k in FACTOR_KEYS}
            profile = replace(profile, **values, factors_source=f"{profile.factors_source}; {key}: fitted to "
                                                                 f"that hardware class's rows only")
    return profile
