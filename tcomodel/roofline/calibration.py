"""Calibration rows: published measurements expressed as ``estimate`` calls, predicted vs measured.

Values are copied from ``tcomodel/data/measurements-calibration.csv`` (a copy of the reference data) (row ``id`` kept; see that
file for sources). Conventions used to express a row:

* MLPerf Offline / trtllm-bench "all requests queued" -> ``max_batch=True`` (saturation), total over
  all GPUs; MLPerf Server -> latency targets from its p99 limits (TPOT -> ``min_user_tok_s``,
  TTFT -> ``max_ttft_s``): 200 ms / 2 s for Llama-2-70B, 40 ms / 450 ms interactive, 175 ms / 6 s 405B.
* MLPerf input lengths are not in the CSV. ASSUMED dataset means: OpenOrca (Llama-2-70B) 870 tokens
  (the set caps prompts at 1,024), Mixtral mix 600, Llama-3.1-405B long-context mix 9,400. Output
  lengths are the CSV's measured means.
* NVIDIA's H100 (80 GB) MLPerf Llama-2-70B FP8 runs are expressed at TP2 x 4 (ASSUMED from the
  harness's usual H100 config, not re-checked): at TP1 the 69 GB of FP8 weights leave almost no KV room.
* Row 29 (Mixtral on B200): the CSV says its precision is unconfirmed; expressed as FP8.
* MLPerf submitters tune the batch cap; we pass ``max_num_seqs=4096`` for MLPerf rows (assumption).
* FP8/FP4 TensorRT-LLM runs use an FP8 KV cache (CSV notes; NVIDIA MLPerf blogs).
* llama.cpp "short prompt" decode rows: 32-token prompt (assumed), 1,024 generated; GGUF rows use the
  CSV's file-average bits per weight for all weights. Row 112 is a 4-GPU *layer* split, which runs
  the GPUs one after another: expressed as one H100 PCIe with 4 x 81,559 MiB (memory_gib = 4 x 81559 / 1024).
* tpot_ms rows at QPS 2 ("~2 in flight" per the CSV note) -> fixed batch 2, compared with step time.

Excluded rows (and why):
* 3, 25, 32 (ttft_ms under MLPerf Server load): mean TTFT there is dominated by queueing behind
  Poisson arrivals, which a roofline does not simulate.
* 31, 34 (Llama-3.1-405B on the MLPerf long-context mix): the mean prompt length is not in the CSV
  (assumed ~9,400 tokens) and these results hinge on it; with that assumption row 31 comes out
  2.6x high.
* 91 (Llama-3.1-405B NVFP4, TP4 on B200, fixed 1,000/1,000): predicted 2.3x high with any
  physical factors; the model has no term for what limits TensorRT-LLM at this size and TP degree.
  Excluded rather than bending three factors around one row.
* Row 120 (RTX 4090 F16 prompt processing): llama.cpp's F16 GEMMs run with FP16 accumulate, which
  GeForce cards execute at twice the FP32-accumulate rate (kernels.py rule; hardware fp16_acc_tflops).
* 49 (GB300 NVL72, DeepSeek-R1): GB300 is not in the catalogue, and the result is a disaggregated
  72-GPU expert-parallel deployment.
* 134 (SGLang DeepSeek-V3 prefill, per 8-GPU node of a 32-GPU EP prefill group) and 138 (SGLang
  GB200 decode, per GPU of a 48-GPU EP decode group): disaggregated expert-parallel clusters with
  units per node / per GPU; the model serves with tensor parallelism and replicas, not wide EP.
  These are the only SGLang rows, so the sglang profile is derived from TensorRT-LLM as vLLM is.

vLLM rows (18, 53, 54, 57; AMD MLPerf, all Llama-2-70B FP8) are not fitted: the vllm profile is
derived from the TensorRT-LLM fit (fit_calibration.py), so they are out-of-sample checks. Row 57
(MLPerf Interactive, 40 ms p99 TPOT / 450 ms p99 TTFT) comes out ~1.9x high: the roofline meets
the targets as means at batch ~190 per GPU, while p99 limits under Poisson arrivals force a much
smaller batch (the same queueing effect that excludes rows 3, 25, 32). It stays inside the 2x bound.

Held out (``holdout=True``): fitted without them, reported separately to show out-of-sample error.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field, replace
from typing import Any

from tcomodel.roofline.engines import ENGINES, EngineProfile
from tcomodel.roofline.throughput import estimate, smallest_fitting_tp

OPENORCA_IN = 870  # assumed mean prompt, MLPerf llama2-70b (not in the CSV)
MIXTRAL_IN = 600  # assumed mean prompt, MLPerf mixtral-8x7b mix
LONG405_IN = 9400  # assumed mean prompt, MLPerf llama3.1-405b long-context mix
MLPERF_CAP = 4096  # assumed tuned batch cap of MLPerf submissions
SERVER = dict(min_user_tok_s=1 / 0.200, max_ttft_s=2.0)
INTERACTIVE = dict(min_user_tok_s=1 / 0.040, max_ttft_s=0.450)
SERVER405 = dict(min_user_tok_s=1 / 0.175, max_ttft_s=6.0)


@dataclass(frozen=True)
class Case:
    row: int
    hardware: str
    model: str
    precision: str
    engine: str
    metric: str  # output_tok_s_total, decode_tok_s_per_stream, prefill_tok_s, tpot_ms
    measured: float
    kwargs: dict = field(default_factory=dict)
    holdout: bool = False
    note: str = ""
    source: str = ""  # the publication, for rows not in measurements-calibration.csv


def _ml(row, hw, gpus, model, prec, value, out, inp=OPENORCA_IN, engine="trtllm", holdout=False, tp=None,
        **targets):
    kw = dict(gpus=gpus, kv_precision="fp8", input_tokens=inp, output_tokens=out, max_num_seqs=MLPERF_CAP)
    if tp:
        kw["tp"] = tp
    kw.update(targets if targets else dict(max_batch=True))
    return Case(row, hw, model, prec, engine, "output_tok_s_total", value, kw, holdout)


def _bench(row, hw, gpus, model, prec, value, inp, out, kv="fp8", holdout=False, tp=None):
    kw = dict(gpus=gpus, kv_precision=kv, input_tokens=inp, output_tokens=out, max_batch=True)
    if tp:
        kw["tp"] = tp
    return Case(row, hw, model, prec, "trtllm", "output_tok_s_total", value, kw, holdout)


def _lc(row, hw, model, prec, value, bits=None, holdout=False, **extra):
    kw = dict(batch=1, input_tokens=32, output_tokens=1024, kv_precision="fp16")
    if bits:
        kw["bits_per_weight"] = bits
    kw.update(extra)
    return Case(row, hw, model, prec, "llamacpp", "decode_tok_s_per_stream", value, kw, holdout)


def _pp(row, hw, model, prec, value, n, bits=None, **extra):
    kw = dict(batch=1, input_tokens=n, output_tokens=1, kv_precision="fp16", **extra)
    if bits:
        kw["bits_per_weight"] = bits
    return Case(row, hw, model, prec, "llamacpp", "prefill_tok_s", value, kw)


CASES: list[Case] = [
    # MLPerf, NVIDIA TensorRT-LLM harness
    _ml(1, "h100-sxm", 8, "llama-2-70b", "fp8", 21805.8, 292, tp=2),
    _ml(5, "h200", 8, "llama-2-70b", "fp8", 27738.3, 293),
    _ml(6, "h100-sxm", 8, "llama-2-70b", "fp8", 24524.9, 290, tp=2),
    _ml(7, "h100-sxm", 8, "mixtral-8x7b", "fp8", 52415.9, 146, inp=MIXTRAL_IN),
    _ml(9, "h200", 8, "llama-2-70b", "fp8", 29228.22, 291, holdout=True, **SERVER),
    _ml(14, "b200", 1, "llama-2-70b", "nvfp4", 10755.59, 274, **SERVER),
    _ml(22, "h100-sxm", 8, "llama-2-70b", "fp8", 31306.8, 292, tp=2),
    _ml(28, "b200", 8, "llama-2-70b", "nvfp4", 98858, 272),
    _ml(29, "b200", 8, "mixtral-8x7b", "fp8", 128148, 145, inp=MIXTRAL_IN),
    _ml(41, "b200", 8, "llama-2-70b", "nvfp4", 101527, 265),
    _ml(43, "b200", 8, "llama-2-70b", "nvfp4", 59545.4, 265, **INTERACTIVE),
    _ml(51, "gb200", 4, "llama-2-70b", "nvfp4", 51736.9, 265),
    # MLPerf, AMD vLLM harness
    _ml(18, "mi300x", 8, "llama-2-70b", "fp8", 21028.23, 293, engine="vllm", **SERVER),
    _ml(53, "mi325x", 8, "llama-2-70b", "fp8", 34520.4, 265, engine="vllm"),
    _ml(54, "mi325x", 8, "llama-2-70b", "fp8", 32027.6, 265, engine="vllm", **SERVER),
    _ml(57, "mi300x", 8, "llama-2-70b", "fp8", 8840.42, 265, engine="vllm", **INTERACTIVE),
    # trtllm-bench throughput tables (fixed ISL/OSL, all requests queued)
    _bench(62, "h200", 1, "llama-3.1-8b", "fp8", 25398.86, 128, 2048),
    _bench(63, "l40s", 1, "llama-3.1-8b", "fp8", 5365.81, 128, 2048),
    _bench(65, "a100-sxm-80gb", 1, "llama-3.1-8b", "fp16", 5255.99, 128, 2048, kv="fp16"),
    _bench(69, "h100-sxm", 4, "llama-3.1-70b", "fp8", 11511.93, 128, 2048, tp=4),
    _bench(76, "b200", 1, "llama-3.3-70b", "nvfp4", 9922, 128, 2048),
    _bench(77, "gb200", 1, "llama-3.3-70b", "nvfp4", 11309, 128, 2048),
    _bench(78, "h200", 1, "llama-3.3-70b", "fp8", 4336, 128, 2048, holdout=True),
    _bench(82, "rtx-pro-6000-server", 1, "llama-3.3-70b", "nvfp4", 2422, 128, 2048),
    _bench(83, "rtx-pro-6000-server", 1, "llama-3.3-70b", "nvfp4", 1787, 1000, 1000),
    _bench(88, "b200", 8, "qwen3-235b-a22b", "nvfp4", 42391, 1000, 1000),
    _bench(89, "h200", 8, "qwen3-235b-a22b", "fp8", 23789, 1000, 1000, holdout=True),
    _bench(90, "h100-sxm", 8, "qwen3-235b-a22b", "fp8", 14898, 1000, 1000),
    # TensorRT-LLM online serving (BF16): mean ITL at QPS 2 (~2 in flight), and saturated output
    Case(94, "h100-sxm", "llama-3.1-8b", "bf16", "trtllm", "tpot_ms", 8,
         dict(batch=2, input_tokens=467, output_tokens=256)),
    Case(96, "h200", "llama-3.1-8b", "bf16", "trtllm", "tpot_ms", 6,
         dict(batch=2, input_tokens=467, output_tokens=256)),
    Case(97, "h100-sxm", "llama-3.1-70b", "bf16", "trtllm", "tpot_ms", 21,
         dict(gpus=4, tp=4, batch=2, input_tokens=467, output_tokens=256)),
    Case(99, "h200", "llama-3.1-70b", "bf16", "trtllm", "tpot_ms", 18,
         dict(gpus=4, tp=4, batch=2, input_tokens=467, output_tokens=256)),
    Case(100, "h100-sxm", "llama-3.1-8b", "bf16", "trtllm", "output_tok_s_total", 9420,
         dict(max_batch=True, input_tokens=467, output_tokens=256)),
    # llama.cpp single-stream decode (XiongjieDai, May 2024)
    _lc(105, "rtx-3090", "llama-3-8b", "fp16", 46.51),
    _lc(106, "a100-sxm-80gb", "llama-3-8b", "q4_k_m", 133.38, bits=4.89),
    _lc(107, "a100-sxm-80gb", "llama-3-8b", "fp16", 53.18),
    _lc(110, "h100-pcie", "llama-3-8b", "fp16", 67.79, holdout=True),
    _lc(111, "h100-pcie", "llama-3-70b", "q4_k_m", 25.01, bits=4.82),
    _lc(112, "h100-pcie", "llama-3-70b", "fp16", 9.63, memory_gib=4 * 81559 / 1024),
    _lc(115, "l40s", "llama-3-8b", "fp16", 43.42),
    _lc(116, "m2-ultra", "llama-3-8b", "q4_k_m", 76.28, bits=4.89),
    _lc(117, "m2-ultra", "llama-3-8b", "fp16", 36.25, holdout=True),
    _lc(119, "m2-ultra", "llama-3-70b", "fp16", 4.71),
    # llama.cpp prompt processing
    _pp(120, "rtx-4090", "llama-3-8b", "fp16", 9056.26, 1024),
    _pp(126, "rtx-pro-6000-maxq", "gpt-oss-20b", "mxfp4", 12582.8, 8096),
    _pp(128, "rtx-6000-ada", "llama-3-8b", "q4_0", 8008.29, 8096),
]

EXCLUDED: dict[int, str] = {
    3: "ttft_ms under MLPerf Server load: queueing behind Poisson arrivals, not modelled",
    25: "ttft_ms under MLPerf Interactive load: queueing, not modelled",
    32: "ttft_ms under MLPerf Server load (405B): queueing, not modelled",
    31: "Llama-3.1-405B long-context mix: mean prompt length not in the CSV (ASSUMED ~9,400 tokens) and "
        "the Server result hinges on it (prefill dominates); predicted 2.6x high with that assumption",
    34: "Llama-3.1-405B long-context mix on a 72-GPU NVL72 rack: mean prompt unknown as for row 31",
    91: "Llama-3.1-405B NVFP4 at TP4 on B200 (1000/1000): predicted 2.3x high; the model has no term for "
        "whatever limits TensorRT-LLM at this size and TP degree, and one row should not drive the fit",
    49: "GB300 not in catalogue; disaggregated 72-GPU expert-parallel DeepSeek-R1",
    134: "SGLang prefill per 8-GPU node inside a 32-GPU disaggregated EP group",
    138: "SGLang decode per GPU inside a 48-GPU disaggregated EP group (GB200 NVL72)",
}


def predict(case: Case, engine: EngineProfile | None = None) -> float:
    """The model's value for ``case``'s metric, with ``engine`` (default: the shipped profile)."""
    eng = engine or case.engine  # by id: the shipped profile with its hardware-class factors
    kw = dict(case.kwargs)
    if "tp" not in kw and "ep" not in kw and kw.get("gpus", 1) > 1:
        # rows without a stated TP were fitted at the smallest TP that fits (the published runs'
        # layout, e.g. MLPerf TP1 on 141 GB+ parts), not at the layout ``estimate`` would choose
        kw["tp"] = smallest_fitting_tp(case.hardware, case.model, case.precision, engine=eng, **kw)
    est = estimate(case.hardware, case.model, case.precision, engine=eng, **kw)
    if case.metric == "tpot_ms":
        return est.step_time_ms
    if case.metric == "ttft_ms":
        return est.ttft_s * 1e3
    if case.metric == "output_tok_s_per_gpu":
        return est.output_tok_s_total / est.gpus
    if case.metric == "e2e_tok_s_per_stream":  # output tokens / end-to-end latency, prefill included
        o = est.output_tokens
        return o / (est.ttft_s + (o - 1) * est.step_time_ms / 1e3)
    value = getattr(est, case.metric)
    return float("nan") if value is None else value


def with_factors(engine_id: str, eff_bw: float, eff_compute: float, overhead_ms: float,
                 eff_kv: float | None = None, seq_overhead_us: float = 0.0) -> EngineProfile:
    return replace(ENGINES[engine_id], eff_bw=eff_bw, eff_compute=eff_compute, overhead_ms=overhead_ms,
                   eff_kv=eff_kv, seq_overhead_us=seq_overhead_us)


# Engines whose factors are fitted separately on some hardware classes (engines.get_engine applies
# them as ``engine@class``): vLLM on AMD (ROCm kernels) and llama.cpp on Apple (Metal) differ from
# the same engine on NVIDIA by more than any shared factor can hold.
CLASS_SPLITS: dict[str, tuple[str, ...]] = {"vllm": ("amd",), "llamacpp": ("apple",)}


def factor_key(case: Case) -> str:
    """``engine@class`` where the engine's factors are split for the case's hardware class, else the engine."""
    from tcomodel.roofline.engines import hardware_class
    from tcomodel.roofline.setup import resolve_hardware

    cls = hardware_class(resolve_hardware(case.hardware))
    return f"{case.engine}@{cls}" if cls in CLASS_SPLITS.get(case.engine, ()) else case.engine


def engine_with(case: Case, factors: dict[str, dict]) -> EngineProfile:
    """The case's engine with the factors of its key (falling back to the engine's own)."""
    return with_factors(case.engine, **(factors.get(factor_key(case)) or factors[case.engine]))


def table(factors: dict[str, dict] | None = None) -> list[dict[str, Any]]:
    """Predicted vs measured for every case (relative error = predicted / measured - 1), with the shipped
    factors or ``factors`` (key -> factor values, keys as in fitted_factors)."""
    rows = []
    for c in CASES:
        eng = engine_with(c, factors) if factors else None
        pred = predict(c, eng)
        rows.append(dict(row=c.row, engine=c.engine, hardware=c.hardware, model=c.model, precision=c.precision,
                         metric=c.metric, measured=c.measured, predicted=pred,
                         rel_error=pred / c.measured - 1.0, holdout=c.holdout))
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, float]:
    errs = [abs(r["rel_error"]) for r in rows]
    ratios = [max(r["predicted"] / r["measured"], r["measured"] / r["predicted"]) for r in rows]
    return dict(n=len(rows), median_abs_rel_error=statistics.median(errs), max_ratio=max(ratios))


def format_table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'row':>4} {'engine':<8} {'hardware':<20} {'model':<16} {'prec':<7} {'metric':<24} "
             f"{'measured':>10} {'predicted':>10} {'error':>7}"]
    for r in rows:
        mark = " (held out)" if r["holdout"] else ""
        lines.append(f"{r['row']:>4} {r['engine']:<8} {r['hardware']:<20} {r['model']:<16} {r['precision']:<7} "
                     f"{r['metric']:<24} {r['measured']:>10.1f} {r['predicted']:>10.1f} "
                     f"{r['rel_error']:>+6.0%}{mark}")
    return "\n".join(lines)


def log_error(rows) -> float:
    return sum(math.log(r["predicted"] / r["measured"]) ** 2 for r in rows)
