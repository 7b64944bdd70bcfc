"""Catalogue contract, precisions, memory/offload/TP behaviour, validation and the CLI."""

import json

import pytest
from click.testing import CliRunner

from tcomodel.cli import main
from tcomodel.errors import UsageError
from tcomodel.roofline import (HARDWARE_CATALOGUE_ROWS, HARDWARE_FIELDS, MODEL_CATALOGUE_ROWS, MODEL_FIELDS,
                               PRECISIONS, estimate, load_catalogue, merge_overrides)
from tcomodel.catalogue import HardwareSpec

HW = ["a100-sxm-40gb", "a100-sxm-80gb", "a100-pcie-80gb", "h100-sxm", "h100-pcie", "h100-nvl", "h200", "b200",
      "gb200", "rtx-pro-6000", "rtx-pro-6000-maxq", "rtx-6000-ada", "l40s", "l4", "rtx-3090", "rtx-4090",
      "rtx-5090", "rtx-4000-ada", "mi300x", "mi325x", "mi355x", "gaudi3", "m2-ultra", "m3-ultra"]
MODELS = ["mistral-small-3.2-24b", "qwen3-next-80b-a3b", "qwen3-30b-a3b", "qwen3-235b-a22b", "llama-3-8b",
          "llama-3-70b", "llama-3.1-8b", "llama-3.1-70b", "llama-3.3-70b", "llama-3.1-405b", "llama-2-70b",
          "mixtral-8x7b", "deepseek-v3", "gpt-oss-20b", "gpt-oss-120b", "gemma-3-27b", "qwen2.5-72b"]


def test_catalogue_contract():
    hw, models = load_catalogue()
    assert set(HW) <= set(hw) and set(MODELS) <= set(models)
    for fields, rows, key in ((HARDWARE_FIELDS, HARDWARE_CATALOGUE_ROWS, "hardware_id"),
                              (MODEL_FIELDS, MODEL_CATALOGUE_ROWS, "model_id")):
        assert fields[0].name == key and fields[0].kind == "id"
        assert [f.name for f in fields[-2:]] == ["source", "as_of"] and fields[-1].kind == "date"
        for row in rows:
            assert list(row) == [f.name for f in fields]
            assert row["source"] and row["as_of"]
    assert hw["h100-sxm"].bf16_tflops == 989.4  # dense, not the 1,979 sparse headline
    assert hw["a100-sxm-80gb"].fp8_tflops is None


def test_merge_overrides_adds_and_replaces():
    hw, _ = load_catalogue()
    row = dict(HARDWARE_CATALOGUE_ROWS[1], memory_mib=99.0 * 1024)
    new = dict(HARDWARE_CATALOGUE_ROWS[1], hardware_id="my-card")
    merged = merge_overrides(hw, [row, new])
    assert merged["a100-sxm-80gb"].memory_mib == 99.0 * 1024 and isinstance(merged["my-card"], HardwareSpec)
    assert hw["a100-sxm-80gb"].memory_mib == 81920


def test_precisions_and_compute_fallback():
    assert PRECISIONS == ["bf16", "fp16", "fp8", "int8", "nvfp4", "nvfp4-modelopt", "mxfp4", "int4", "q4_0", "q4_k_m", "q8_0"]
    # A100 has no FP8 tensor cores: FP8 weights (8 bits) but BF16 compute rate
    e = estimate("a100-sxm-80gb", "llama-3.1-8b", "fp8")
    assert e.compute_precision == "bf16" and e.peak_tflops == 312
    assert e.weights_gb == pytest.approx((8.03 - 1.05) + 1.05 * 2)  # LM head/embeddings kept in BF16
    assert estimate("h100-sxm", "llama-3.1-8b", "nvfp4").compute_precision == "bf16"  # no FP4 on Hopper
    assert estimate("b200", "llama-3.1-8b", "nvfp4").compute_precision == "fp4"
    assert estimate("m2-ultra", "llama-3.1-8b", "q4_k_m", engine="llamacpp").compute_precision == "fp32"


def test_decode_reads_lm_head_not_input_embedding_table():
    from tcomodel.roofline.memory import weights

    _, models = load_catalogue()
    q = models["qwen3-next-80b-a3b"]
    assert q.vocab_size == 151936 and q.tie_word_embeddings == 0
    w = weights(q, 4.5)
    table = 151936 * 2048 * 2.0  # BF16 input-embedding table, held in memory
    assert w.embed_bytes == pytest.approx(table) and w.embed_row_bytes == pytest.approx(2048 * 2)
    # memory holds everything; a step reads dense - table + one row per token + touched experts
    assert w.total_bytes == pytest.approx(((79.67 - 0.62) * 4.5 / 8 + 0.62 * 2) * 1e9)
    assert w.bytes_read(1) == pytest.approx(w.dense_bytes - table + 4096 + w.expert_bytes * 10 / 512)
    assert w.bytes_read(3) - w.bytes_read(1) == pytest.approx(
        2 * 4096 + w.expert_bytes * ((1 - (1 - 10 / 512) ** 3) - 10 / 512))
    active = 79.67e9 - 77.309e9 * (1 - 10 / 512)  # 3.87 B from the config counts (experts 48 x 512 x 3 x 2048 x 512)
    assert w.matmul_params == pytest.approx(active - 151936 * 2048)  # gather is not a matmul
    # tied (Gemma 3): the one matrix is the LM head and is read in full every step
    g = models["gemma-3-27b"]
    assert g.tie_word_embeddings == 1
    wg = weights(g, 16)
    assert wg.embed_bytes == 0 and wg.bytes_read(1) == wg.total_bytes
    # what-if parameter counts are read as given (back-of-envelope): no split
    assert weights(q, 4.0, bits_apply_to_all=True, total_params_b=80, active_params_b=3.9).bytes_read(1) == \
        pytest.approx(3.9e9 * 0.5)
    # FP8 Llama 3.1 8B on H100, batch 1: (6.98 B x 1 B + 1.05 B BF16 - 0.525 B x 2 B + 4,096 x 2 B) read
    e = estimate("h100-sxm", "llama-3.1-8b", "fp8", engine="ideal", input_tokens=1, output_tokens=1)
    assert e.weights_gb == pytest.approx(6.98 + 2.10)
    assert e.ideal_bound_tok_s == pytest.approx(3350e9 / (6.98e9 + 2.10e9 - 128256 * 4096 * 2 + 4096 * 2))


def test_kv_sliding_and_mla():
    g = estimate("h200", "gemma-3-27b", "bf16", context_tokens=8192)
    assert g.kv_bytes_per_token == 2 * 10 * 16 * 128 * 2
    assert g.state_bytes_per_sequence == 2 * 52 * 16 * 128 * 2 * 1024  # local layers capped at 1,024
    d = estimate("h200", "deepseek-v3", "fp8", gpus=8, kv_precision="fp8")
    assert d.kv_bytes_per_token == 61 * (512 + 64) * 1 and (d.tp, d.ep) == (1, 8)  # MLA: expert parallel wins


def test_explicit_tp_and_replicas():
    e = estimate("h100-sxm", "llama-3.1-70b", "bf16", gpus=8, tp=4)
    # 141.2 GB of BF16 weights: an explicit TP4 on 8 GPUs is 2 replicas of 35.3 GB per GPU
    assert e.weights_gb_per_gpu == pytest.approx(141.2 / 4) and e.tp == 4 and e.replicas == 2
    assert e.max_concurrency % 2 == 0 and e.layout_choice == "explicit tp" and e.layouts is None
    # usable memory is the exposed total (MiB, as nvidia-smi reports) x 0.9 - 2 GiB
    assert e.usable_memory_gb_per_gpu == pytest.approx((81559 * 2**20 * 0.9 - 2 * 2**30) / 1e9)
    f = estimate("a100-sxm-40gb", "llama-3.1-70b", "bf16", gpus=8, tp=4)
    assert f.usable_memory_gb_per_gpu == pytest.approx((40960 * 2**20 * 0.9 - 2 * 2**30) / 1e9)
    assert f.weights_gb_per_gpu < f.usable_memory_gb_per_gpu  # 35.3 GB of weights at TP4 fit 36.51 GB
    with pytest.raises(UsageError, match="must divide"):
        estimate("h100-sxm", "llama-3.1-70b", "bf16", gpus=8, tp=3)


def test_default_layout_lists_every_power_of_two_tp():
    e = estimate("h100-sxm", "llama-3.1-70b", "bf16", gpus=8)
    rows = {r["tp"]: r for r in e.layouts}
    assert sorted(rows) == [1, 2, 4, 8] and [rows[t]["replicas"] for t in (1, 2, 4, 8)] == [8, 4, 2, 1]
    # TP1 holds 141.2 GB per GPU, over the 74.8 GB usable of an H100 (81,559 MiB x 0.9 - 2 GiB): it cannot fit;
    # TP2's 70.6 GB fits since memory is counted in MiB
    assert not rows[1]["fits"] and rows[1]["result"].startswith("does not fit: 141.2 GB")
    assert rows[2]["fits"]
    chosen = [r for r in e.layouts if r["result"] == "chosen"]
    assert len(chosen) == 1 and chosen[0]["tp"] == e.tp
    per_gpu = [r["output_tok_s_per_gpu"] for r in e.layouts if r["fits"]]
    assert e.output_tok_s_total / 8 == pytest.approx(max(per_gpu))


def test_offload_when_weights_do_not_fit():
    # Qwen3-30B-A3B Q4_K_M (18.51 GB with llama.cpp's per-tensor types) on a "20 GB" RTX 4000 Ada with llama.cpp.
    # The card exposes 20,475 MiB (nvidia-smi): usable 20,475 x 2^20 - 1 GiB = 20.396 GB. At 16k the
    # cache (2 x 48 x 4 x 128 x 2 B x 16,384 = 1.611 GB) still fits; at 32k (3.221 GB) 1.331 GB spill.
    at16k = estimate("rtx-4000-ada", "qwen3-30b-a3b", "q4_k_m", engine="llamacpp", batch=1, context_tokens=16384)
    assert at16k.fits and at16k.usable_memory_gb_per_gpu == pytest.approx((20475 * 2**20 - 2**30) / 1e9)
    e = estimate("rtx-4000-ada", "qwen3-30b-a3b", "q4_k_m", engine="llamacpp", batch=1, context_tokens=32768)
    assert not e.fits and e.offload_bw_gbs == 89.6
    kv32k = 2 * 48 * 4 * 128 * 2 * 32768
    assert e.offloaded_gb_per_gpu == pytest.approx(e.weights_gb - ((20475 * 2**20 - 2**30) - kv32k) / 1e9)
    m = estimate("rtx-4000-ada", "mistral-small-3.2-24b", "q4_k_m", engine="llamacpp", batch=1, context_tokens=32768)
    assert m.fits
    # the note's observation: partly offloaded 3B-active MoE still out-decodes the dense 24B
    assert e.decode_tok_s_per_stream > 2 * m.decode_tok_s_per_stream


def test_latency_targets_pick_smaller_batch():
    free = estimate("h100-sxm", "llama-3.1-8b", "fp8")
    tight = estimate("h100-sxm", "llama-3.1-8b", "fp8", min_user_tok_s=60)
    assert tight.batch < free.batch and tight.decode_tok_s_per_stream >= 60 and tight.meets_targets


def test_validation_errors_list_choices():
    with pytest.raises(UsageError, match="valid ids: .*a100-sxm-80gb"):
        estimate("nope", "llama-3.1-8b", "bf16")
    with pytest.raises(UsageError, match="not one of: bf16"):
        estimate("h100-sxm", "llama-3.1-8b", "fp5")
    with pytest.raises(UsageError, match="range"):
        estimate("h100-sxm", "llama-3.1-8b", "bf16", gpus=0)
    with pytest.raises(UsageError, match="engine"):
        estimate("h100-sxm", "llama-3.1-8b", "bf16", engine="ollama")


def test_cli_table_json_and_unknown_id():
    r = CliRunner().invoke(main, ["roofline", "--hardware", "a100-sxm-80gb", "--model", "mistral-small-3.2-24b",
                                  "--precision", "bf16"])
    assert r.exit_code == 0, r.output
    assert "weights" in r.output and "48.00" in r.output and "tok/s" in r.output
    r = CliRunner().invoke(main, ["roofline", "--hardware", "a100-sxm-80gb", "--model", "mistral-small-3.2-24b",
                                  "--precision", "bf16", "--engine", "ideal", "--bandwidth-gbs", "2000", "--json"])
    assert r.exit_code == 0
    # ideal without what-if params: the untied input-embedding table (131,072 x 5,120 x 2 B = 1.34 GB)
    # is gathered a row a token, not read, so 2000 / (48 - 1.342) = 42.87 tok/s (the note's 42 needs params_b)
    assert json.loads(r.output)["decode_tok_s_per_stream"] == pytest.approx(2000e9 / (48e9 - 131072 * 5120 * 2 + 5120 * 2))
    r = CliRunner().invoke(main, ["roofline", "--hardware", "a100-bogus", "--model", "mistral-small-3.2-24b",
                                  "--precision", "bf16"])
    assert r.exit_code == 2 and "valid ids" in r.output and "Traceback" not in r.output
