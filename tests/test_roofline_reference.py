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
    # Weights read per step: 48 GB minus the untied input-embedding table (131,072 x 5,120 x 2 B =
    # 1.342 GB; only a row per token is gathered) = 46.658 GB; the LM head (same size) is read.
    read = 48e9 - 131072 * 5120 * 2
    # Step = (46.658 GB + 16 x 2,304 ctx x 163,840 B = 6.040 GB) / (2,039 GB/s x 0.500) + 1.950 ms
    # (vLLM = TRT-LLM fit / 1.2) = 51.69 + 1.95 = 53.64 ms -> 18.6 tok/s per stream, 298 tok/s total.
    assert e.step_time_ms == pytest.approx(53.640, rel=1e-3)
    assert e.decode_tok_s_total == pytest.approx(298.29, rel=1e-3)
    assert e.output_tok_s_total == pytest.approx(234.62, rel=1e-3)  # 16 x 512 / (512 x step + 16 x prefill)
    # Batch 1: (46.658 + 0.377 GB KV) / (2,039 x 0.500) + 1.950 = 48.09 ms -> 20.8 tok/s (was 15.9 with the
    # old 4-row vLLM fit; the bandwidth bound is 43.7).
    one = estimate("a100-sxm-80gb", "mistral-small-3.2-24b", "bf16", engine="vllm", context_tokens=8192, batch=1)
    assert one.decode_tok_s_per_stream == pytest.approx(20.796, rel=1e-3)
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
    # usable = 96 x 0.9 - 2 = 84.4 GB; (84.4 - 45.71) / 0.2408 = 160.7 -> 160 sessions (note: 280).
    assert e.max_concurrency == math.floor((84.4 - weights) / (per_seq / GB)) == 160
    assert e.compute_precision == "fp4"  # Blackwell runs NVFP4 natively
    # At batch 160 the router touches 1 - (1 - 10/512)^160 = 95.7% of experts per step, so the step
    # reads ~42 GB of weights, not 2 GB: vLLM factors (TRT-LLM fit / 1.2) give 67.4 ms -> 2,375 tok/s.
    share = 1 - (1 - 10 / 512) ** 160
    assert share == pytest.approx(0.957, abs=1e-3)
    assert e.step_time_ms == pytest.approx(67.368, rel=1e-3)
    assert e.decode_tok_s_total == pytest.approx(2375.03, rel=1e-3)
    assert e.output_tok_s_total == pytest.approx(2241.87, rel=1e-3)
    # Batch 1 reads dense 2.361 B (0.62 B of it BF16) + 10/512 of the 77.309 B routed experts
    # (48 x 512 x 3 x 2048 x 512, config.json), minus the untied input-embedding table
    # (151,936 x 2,048 x 2 B = 0.622 GB, a row gathered):
    # 1.24 + 1.741 x 0.5625 - 0.622 + 77.309 x 10/512 x 0.5625 = 2.446 GB -> bound 1,792 / 2.446 = 732.5.
    experts = 77.309e9  # catalogued, 48 x 512 x 3 x 2048 x 512 = 77.3094e9 rounded
    read1 = (0.62e9 * 2 + (79.67e9 - experts - 0.62e9) * 0.5625 - 151936 * 2048 * 2 + 2048 * 2
             + experts * 10 / 512 * 0.5625)
    assert read1 == pytest.approx(2.4463e9, rel=1e-4)
    assert e.ideal_bound_tok_s == pytest.approx(1792e9 / read1)
    # vLLM batch 1: (2.446 GB + 2,304 x 24,576 B KV + 39.5 MB state) / (1,792 x 0.500) + 1.950 ms = 4.79 ms
    # -> 208.9 tok/s (was 73.8 when the old 4-row vLLM fit's 10 ms overhead capped it), not 923.
    one = estimate("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4", engine="vllm", context_tokens=8192, batch=1)
    assert one.decode_tok_s_per_stream == pytest.approx(208.87, rel=1e-3)
    assert one.decode_tok_s_per_stream < e.ideal_bound_tok_s < 923


def test_moe_touched_share_grows_with_batch():
    from tcomodel.roofline import decode_curve

    curve = decode_curve("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4", batches=[1, 2, 64],
                         context_tokens=8192)
    # per-stream speed falls sharply from 1 to 64 because experts touched go 2% -> 72%
    assert curve[0]["decode_tok_s_per_stream"] > 3 * curve[2]["decode_tok_s_per_stream"]
    assert curve[2]["decode_tok_s_total"] > curve[0]["decode_tok_s_total"]
