"""The AarhusAI back-of-envelope (reference/seeds/aarhusai-vs-alternative.da.txt) and its real figures."""

import math

import pytest

from tcomodel.roofline import estimate
from tcomodel.roofline.fitted_factors import FACTORS

GB = 1e9
V = FACTORS["vllm"]  # vLLM on NVIDIA: eff_bw, eff_kv, overhead fitted; eff_compute, per-sequence cost derived


def _vllm_step_ms(weights_read: float, cache_read: float, bw_gbs: float, batch: int) -> float:
    """A memory-bound vLLM decode step: weights at eff_bw, then the cache at eff_kv (separate kernels),
    + the per-step overhead + the per-sequence cost x batch."""
    return ((weights_read / (bw_gbs * 1e9 * V["eff_bw"]) + cache_read / (bw_gbs * 1e9 * V["eff_kv"])) * 1e3
            + V["overhead_ms"] + batch * V["seq_overhead_us"] / 1e3)


def test_ideal_reproduces_bandwidth_figures():
    # Note: 2,000 / (24 x 2) = ~42 tok/s and 1,800 / (3.9 x 0.5) = ~923 tok/s.
    a = estimate("a100-sxm-80gb", "mistral-small-3.2-24b", "bf16", engine="ideal",
                 bandwidth_gbs=2000, params_b=24, bits_per_weight=16)
    b = estimate("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4", engine="ideal",
                 bandwidth_gbs=1800, params_b=80, active_params_b=3.9, bits_per_weight=4)
    assert a.batch == 1 and b.batch == 1
    assert a.decode_tok_s_per_stream == pytest.approx(2000 / 48, rel=1e-9)  # 41.67
    assert b.decode_tok_s_per_stream == pytest.approx(1800 / 1.95, rel=1e-9)  # 923.08
    assert round(a.decode_tok_s_per_stream) == 42 and round(b.decode_tok_s_per_stream) == 923


def test_ideal_reproduces_concurrency_figures():
    # Note: (80 - 24 x 2) / 1.25 = 25.6 -> 25 sessions; (96 - 80 x 0.5) / 0.2 = 280 sessions of 8k.
    # The note counts decimal GB, so its 80 / 96 GB are passed as 80e9 / 96e9 bytes (in GiB).
    a = estimate("a100-sxm-80gb", "mistral-small-3.2-24b", "bf16", engine="ideal", memory_gib=80e9 / 2**30,
                 params_b=24, bits_per_weight=16, context_tokens=8192, input_tokens=4096,
                 output_tokens=4096, kv_bytes_per_token=1.25 * GB / 8192)
    b = estimate("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4", engine="ideal", memory_gib=96e9 / 2**30,
                 params_b=80, active_params_b=3.9, bits_per_weight=4, context_tokens=8192,
                 input_tokens=4096, output_tokens=4096, kv_bytes_per_token=0.2 * GB / 8192)
    assert a.weights_gb == pytest.approx(48.0) and b.weights_gb == pytest.approx(40.0)
    assert a.max_concurrency == 25
    assert b.max_concurrency == 280


def test_mistral_on_a100_real_figures():
    e = estimate("a100-sxm-80gb", "mistral-small-3.2-24b", "bf16", engine="vllm", context_tokens=8192)
    # BF16: 24e9 params x 2 bytes = 48.0 GB (no quantization scales).
    assert e.weights_gb == pytest.approx(48.0)
    # KV/token = 2 x 40 layers x 8 KV heads x 128 x 2 B = 163,840 B; 8k -> 1.342 GB (1.25 GiB).
    assert e.kv_bytes_per_token == 2 * 40 * 8 * 128 * 2 == 163_840
    assert e.kv_gb_per_sequence == pytest.approx(163_840 * 8192 / GB)
    assert e.state_bytes_per_sequence == 0
    # The "80 GB" A100 exposes 81,920 MiB (nvidia-smi memory.total; DESIGN.md section 6), and vLLM's
    # gpu_memory_utilization applies to that: usable = 81,920 x 2^20 x 0.9 - 2 GiB reserve = 75.162 GB;
    # (75.162 - 48) / 1.342 = 20.2 -> 20 sessions (16 when memory was taken as 80e9 bytes; note: 25).
    usable = 81920 * 2**20 * 0.9 - 2 * 2**30
    assert e.usable_memory_gb_per_gpu == pytest.approx(usable / GB) == pytest.approx(75.1619, abs=1e-4)
    assert e.max_concurrency == math.floor((usable - 48e9) / (163_840 * 8192)) == 20
    assert e.batch == 20 and e.bound == "memory"
    # Weights read per step: 48 GB minus the untied input-embedding table (131,072 x 5,120 x 2 B =
    # 1.342 GB; only a row per token is gathered) = 46.658 GB; the LM head (same size) is read.
    read = 48e9 - 131072 * 5120 * 2
    # Step = 46.658 GB of weights / (2,039 GB/s x eff_bw) + 20 x 2,304 ctx x 163,840 B = 7.550 GB of cache
    # / (2,039 x eff_kv) + overhead + 20 x per-sequence cost = 32.5 ms -> 30.8 tok/s per stream.
    step_ms = _vllm_step_ms(read + 20 * 5120 * 2, 20 * 2304 * 163_840, 2039, 20)  # + 20 gathered rows
    assert step_ms == pytest.approx(32.507, rel=1e-3)
    assert e.step_time_ms == pytest.approx(step_ms, rel=1e-9)
    assert e.decode_tok_s_total == pytest.approx(20 / (step_ms / 1e3), rel=1e-9)  # 615
    assert e.output_tok_s_total == pytest.approx(394.46, rel=1e-3)  # 20 x 512 / (512 x step + 20 x prefill)
    # Batch 1: 36 tok/s (about what vLLM users report for this model on an A100; the bandwidth bound is 43.7).
    one = estimate("a100-sxm-80gb", "mistral-small-3.2-24b", "bf16", engine="vllm", context_tokens=8192, batch=1)
    one_ms = _vllm_step_ms(read + 5120 * 2, 2304 * 163_840, 2039, 1)
    assert one.decode_tok_s_per_stream == pytest.approx(1e3 / one_ms, rel=1e-9) == pytest.approx(36.43, abs=0.01)
    # Ideal bound with the catalogue bandwidth (2,039 GB/s, not the note's 2,000): 2039 / 46.658 GB.
    assert e.ideal_bound_tok_s == pytest.approx(2039e9 / (read + 5120 * 2))


def test_qwen3_next_on_rtx_pro_6000_maxq_real_figures():
    e = estimate("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4", engine="vllm", context_tokens=8192)
    # NVFP4 = 4.5 bits (FP8 scale per 16) on 79.67 - 0.62 B params (config count without the MTP
    # layer); embeddings + LM head 0.62 B in BF16.
    weights = (79.67 - 0.62) * 4.5 / 8 + 0.62 * 2
    assert weights == pytest.approx(45.705625)
    assert e.weights_gb == pytest.approx(weights)  # vs 40 GB in the note
    # KV grows only in 12 full-attention layers: 2 x 12 x 2 KV heads x 256 x 2 B = 24,576 B/token.
    assert e.kv_bytes_per_token == 2 * 12 * 2 * 256 * 2 == 24_576
    # Gated DeltaNet state: (36 x 32 x 128 x 128 recurrent + 884,736 conv) elements x 2 B.
    state = (36 * 32 * 128 * 128 + 884_736) * 2
    assert e.state_bytes_per_sequence == state == 39_518_208
    per_seq = 24_576 * 8192 + state  # 0.2408 GB, vs 0.2 GB in the note
    assert e.kv_gb_per_sequence == pytest.approx(per_seq / GB)
    # The "96 GB" card exposes 97,887 MiB (nvidia-smi memory.total): usable = 97,887 x 2^20 x 0.9 - 2 GiB
    # = 90.230 GB; (90.230 - 45.71) / 0.2408 = 184.9 -> 184 sessions (159 at 96e9 bytes; note: 280).
    usable = 97887 * 2**20 * 0.9 - 2 * 2**30
    assert e.usable_memory_gb_per_gpu == pytest.approx(usable / GB) == pytest.approx(90.2303, abs=1e-4)
    assert e.max_concurrency == math.floor((usable - weights * GB) / per_seq) == 184
    # vLLM 0.11 would allow 1,024 sequences on a >= 70 GiB non-A100 card, so memory sets the batch.
    assert e.batch == 184
    assert e.compute_precision == "fp4"  # Blackwell runs dense NVFP4 GEMMs natively ...
    # ... but vLLM has no SM120 FP4 MoE kernel: the routed experts run Marlin W4A16 at the BF16 rate
    assert {k["component"]: k["rate"] for k in e.kernel_paths} == {"experts": "bf16", "dense": "fp4"}
    # At batch 184 the router touches 1 - (1 - 10/512)^184 = 97.3% of experts per step, so the step
    # reads ~44 GB of weights, not 2 GB.
    share = 1 - (1 - 10 / 512) ** 184
    assert share == pytest.approx(0.973, abs=1e-3)
    experts = 77.309e9  # catalogued, 48 x 512 x 3 x 2048 x 512 = 77.3094e9 rounded
    read184 = (0.62e9 * 2 + (79.67e9 - experts - 0.62e9) * 0.5625 - 151936 * 2048 * 2 + 184 * 2048 * 2
               + experts * share * 0.5625)
    step_ms = _vllm_step_ms(read184, 184 * (2304 * 24_576 + state), 1792, 184)
    assert e.step_time_ms == pytest.approx(step_ms, rel=1e-4) == pytest.approx(47.07, abs=0.01)
    assert e.decode_tok_s_total == pytest.approx(184 / (step_ms / 1e3), rel=1e-4)
    # prefills in the cycle cost more with the W4A16 fallback than with FP4 experts
    native = estimate("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4", engine="vllm", context_tokens=8192,
                      kernel_path="native")
    assert e.output_tok_s_total == pytest.approx(3207.5, rel=1e-3)
    assert native.output_tok_s_total > e.output_tok_s_total
    # Batch 1 reads dense 2.361 B (0.62 B of it BF16) + 10/512 of the 77.309 B routed experts
    # (48 x 512 x 3 x 2048 x 512, config.json), minus the untied input-embedding table
    # (151,936 x 2,048 x 2 B = 0.622 GB, a row gathered):
    # 1.24 + 1.741 x 0.5625 - 0.622 + 77.309 x 10/512 x 0.5625 = 2.446 GB -> bound 1,792 / 2.446 = 732.5.
    read1 = (0.62e9 * 2 + (79.67e9 - experts - 0.62e9) * 0.5625 - 151936 * 2048 * 2 + 2048 * 2
             + experts * 10 / 512 * 0.5625)
    assert read1 == pytest.approx(2.4463e9, rel=1e-4)
    assert e.ideal_bound_tok_s == pytest.approx(1792e9 / read1)
    # vLLM batch 1: 2.446 GB of weights + 2,304 x 24,576 B KV + 39.5 MB state, + overheads: not 923.
    one = estimate("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4", engine="vllm", context_tokens=8192, batch=1)
    one_ms = _vllm_step_ms(read1, 2304 * 24_576 + state, 1792, 1)
    assert one.decode_tok_s_per_stream == pytest.approx(1e3 / one_ms, rel=1e-9) == pytest.approx(256.79, abs=0.01)
    assert one.decode_tok_s_per_stream < e.ideal_bound_tok_s < 923


def test_moe_touched_share_grows_with_batch():
    from tcomodel.roofline import decode_curve

    curve = decode_curve("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4", batches=[1, 2, 64],
                         context_tokens=8192)
    # per-stream speed falls sharply from 1 to 64 because experts touched go 2% -> 72%
    assert curve[0]["decode_tok_s_per_stream"] > 3 * curve[2]["decode_tok_s_per_stream"]
    assert curve[2]["decode_tok_s_total"] > curve[0]["decode_tok_s_total"]
