"""The AarhusAI back-of-envelope (reference/seeds/aarhusai-vs-alternative.da.txt) and its real figures."""

import math

import pytest

from tcomodel.roofline import estimate

GB = 1e9


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
    a = estimate("a100-sxm-80gb", "mistral-small-3.2-24b", "bf16", engine="ideal", memory_gb=80,
                 params_b=24, bits_per_weight=16, context_tokens=8192, input_tokens=4096,
                 output_tokens=4096, kv_bytes_per_token=1.25 * GB / 8192)
    b = estimate("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4", engine="ideal", memory_gb=96,
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
    # vLLM usable = 80 x 0.9 - 2 GB reserve = 70 GB; (70 - 48) / 1.342 = 16.4 -> 16 sessions (note: 25).
    assert e.usable_memory_gb_per_gpu == pytest.approx(70.0)
    assert e.max_concurrency == math.floor((70 - 48) / (163_840 * 8192 / GB)) == 16
    assert e.batch == 16 and e.bound == "memory"
    # Step = (48 GB + 16 x 2,304 ctx x 163,840 B) / (2,039 GB/s x eff_bw) + overhead; with the
    # fitted vLLM factors that is 63.0 ms -> 15.9 tok/s per stream, 254 tok/s decode total.
    assert e.step_time_ms == pytest.approx(63.006, rel=1e-3)
    assert e.decode_tok_s_total == pytest.approx(253.94, rel=1e-3)
    assert e.output_tok_s_total == pytest.approx(211.96, rel=1e-3)
    # Ideal bound with the catalogue bandwidth (2,039 GB/s, not the note's 2,000): 2039 / 48.
    assert e.ideal_bound_tok_s == pytest.approx(2039 / 48)


def test_qwen3_next_on_rtx_pro_6000_maxq_real_figures():
    e = estimate("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4", engine="vllm", context_tokens=8192)
    # NVFP4 = 4.5 bits (FP8 scale per 16) on 80 - 0.62 B params; embeddings + LM head 0.62 B in BF16.
    weights = (80 - 0.62) * 4.5 / 8 + 0.62 * 2
    assert weights == pytest.approx(45.89125)
    assert e.weights_gb == pytest.approx(weights)  # vs 40 GB in the note
    # KV grows only in 12 full-attention layers: 2 x 12 x 2 KV heads x 256 x 2 B = 24,576 B/token.
    assert e.kv_bytes_per_token == 2 * 12 * 2 * 256 * 2 == 24_576
    # Gated DeltaNet state: (36 x 32 x 128 x 128 recurrent + 884,736 conv) elements x 2 B.
    state = (36 * 32 * 128 * 128 + 884_736) * 2
    assert e.state_bytes_per_sequence == state == 39_518_208
    per_seq = 24_576 * 8192 + state  # 0.2408 GB, vs 0.2 GB in the note
    assert e.kv_gb_per_sequence == pytest.approx(per_seq / GB)
    # usable = 96 x 0.9 - 2 = 84.4 GB; (84.4 - 45.89) / 0.2408 = 159.9 -> 159 sessions (note: 280).
    assert e.max_concurrency == math.floor((84.4 - weights) / (per_seq / GB)) == 159
    assert e.compute_precision == "fp4"  # Blackwell runs NVFP4 natively
    # At batch 159 the router touches 1 - (1 - 10/512)^159 = 95.7% of experts per step, so the step
    # reads ~44 GB of weights, not 2 GB: fitted vLLM factors give 76.2 ms -> 2,088 tok/s decode total.
    share = 1 - (1 - 10 / 512) ** 159
    assert share == pytest.approx(0.957, abs=1e-3)
    assert e.step_time_ms == pytest.approx(76.162, rel=1e-3)
    assert e.decode_tok_s_total == pytest.approx(2087.66, rel=1e-3)
    assert e.output_tok_s_total == pytest.approx(1992.85, rel=1e-3)
    # Batch 1 reads only the active 3.9 B (dense + 10/512 of experts): 73.8 tok/s, not 923.
    one = estimate("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4", engine="vllm", context_tokens=8192, batch=1)
    assert one.decode_tok_s_per_stream == pytest.approx(73.80, rel=1e-3)
    assert one.decode_tok_s_per_stream < e.ideal_bound_tok_s < 923


def test_moe_touched_share_grows_with_batch():
    from tcomodel.roofline import decode_curve

    curve = decode_curve("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4", batches=[1, 2, 64],
                         context_tokens=8192)
    # per-stream speed falls sharply from 1 to 64 because experts touched go 2% -> 72%
    assert curve[0]["decode_tok_s_per_stream"] > 3 * curve[2]["decode_tok_s_per_stream"]
    assert curve[2]["decode_tok_s_total"] > curve[0]["decode_tok_s_total"]
