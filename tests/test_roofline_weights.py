"""Weight bytes per component, each pinned to its public source (config.json, model card, llama.cpp)."""

from __future__ import annotations

import pytest

from tcomodel.roofline import load_catalogue
from tcomodel.roofline.memory import weights

_, MODELS = load_catalogue()


# (model, MoE layers, experts, hidden, expert FFN size, biases per expert) from each config.json
EXPERT_CONFIGS = {
    "gpt-oss-120b": (36, 128, 2880, 2880, 3 * 2880),
    "gpt-oss-20b": (24, 32, 2880, 2880, 3 * 2880),
    "qwen3-30b-a3b": (48, 128, 2048, 768, 0),
    "qwen3-235b-a22b": (94, 128, 4096, 1536, 0),
    "qwen3-next-80b-a3b": (48, 512, 2048, 512, 0),
    "mixtral-8x7b": (32, 8, 4096, 14336, 0),
    "deepseek-v3": (58, 256, 7168, 2048, 0),
}


@pytest.mark.parametrize("model_id", sorted(EXPERT_CONFIGS))
def test_moe_rows_store_expert_params_from_the_config(model_id):
    layers, experts, hidden, ffn, biases = EXPERT_CONFIGS[model_id]
    m = MODELS[model_id]
    assert m.expert_params_b == pytest.approx(layers * experts * (3 * hidden * ffn + biases) / 1e9, abs=1e-3)
    # the catalogued active count is the derived one (incl. the input embedding), not the card's
    k_over_e = m.experts_per_token / m.num_experts
    assert m.active_params_b == pytest.approx(m.total_params_b - m.expert_params_b * (1 - k_over_e), abs=0.006)


def test_gpt_oss_card_counts():
    # OpenAI gpt-oss model card (openai.com/index/gpt-oss-model-card), parameter table: 120b MLP
    # 114.71 B (experts + routers), attention 0.96 B, total 116.83 B, active 5.13 B = attention +
    # unembedding 0.58 B + routers + 4/128 of the experts: the input embedding is NOT in it.
    m = MODELS["gpt-oss-120b"]
    assert m.total_params_b == 116.83
    assert m.attention_params_b == pytest.approx(0.96, abs=0.005)
    unembed = 201088 * 2880 / 1e9
    routers = 36 * (2880 * 128 + 128) / 1e9
    assert m.expert_params_b + routers == pytest.approx(114.71, abs=0.01)
    assert m.attention_params_b + unembed + routers + 4 / 128 * m.expert_params_b == pytest.approx(5.13, abs=0.005)
    m20 = MODELS["gpt-oss-20b"]  # 20b: MLP 19.12 B, attention 0.64 B, total 20.91 B, active 3.61 B
    routers20 = 24 * (2880 * 32 + 32) / 1e9
    assert m20.expert_params_b + routers20 == pytest.approx(19.12, abs=0.005)
    assert m20.attention_params_b + unembed + routers20 + 4 / 32 * m20.expert_params_b == pytest.approx(3.61, abs=0.005)


def test_gpt_oss_120b_batch1_bytes_not_double_subtracted():
    """Issue 10 item 2: batch-1 bytes were 3.78 GB; the card's counts give ~5.0 GB."""
    w = weights(MODELS["gpt-oss-120b"], 4.25)  # MXFP4 experts, everything else BF16
    experts = 114.702e9
    non_expert = 116.83e9 - experts
    table = 201088 * 2880
    by_hand = experts * 4 / 128 * 4.25 / 8 + non_expert * 2 - table * 2 + 2880 * 2
    assert w.bytes_read(1) == pytest.approx(by_hand, rel=1e-9)
    assert by_hand / 1e9 == pytest.approx(5.00, abs=0.01)
    # 2 FLOPs per matmul parameter: active (card 5.13 B) minus the gathered input table
    assert w.matmul_params == pytest.approx(116.83e9 - experts * 124 / 128 - table, rel=1e-9)
    assert w.matmul_params / 1e9 == pytest.approx(5.13, abs=0.01)


# llama.cpp src/llama-quant.cpp use_more_bits(i, n): i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2.
# For Llama-3.1-8B's 32 layers: 0-3, 28-31 and 6, 9, ..., 27 -> 16 layers.
MORE_BITS_32 = [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31]


def test_use_more_bits_layers():
    from tcomodel.roofline.precision import _use_more_bits

    assert [i for i in range(32) if _use_more_bits(i, 32)] == MORE_BITS_32


def _llama31_8b_gguf_bytes(embed_bits, out_bits, attn_bits, v_bits_more, ffn_bits, down_bits_more):
    """Sum over Llama-3.1-8B tensors (config.json: hidden 4096, 32 heads, 8 KV heads x 128, FFN 14336,
    vocab 128256, untied), bits per tensor class; norms (F32, 0.27 M weights) left out."""
    h, ffn, vocab = 4096, 14336, 128256
    q = o = h * h
    k = v = h * 1024
    total = vocab * h * embed_bits + vocab * h * out_bits
    for i in range(32):
        more = i in MORE_BITS_32
        total += (q + k + o) * attn_bits + v * (v_bits_more if more else attn_bits)
        total += 2 * h * ffn * ffn_bits + h * ffn * (down_bits_more if more else ffn_bits)
    return total / 8


def test_gguf_q4_k_m_per_tensor_types_llama31_8b():
    """Issue 10 item 3: Q4_K_M keeps nothing at BF16. Q4_K = 144 B / 256 weights = 4.5 bits, Q6_K =
    210 B / 256 = 6.5625 bits (ggml-common.h); output Q6_K, token embedding Q4_K (default type),
    attn_v and ffn_down Q6_K in the use_more_bits layers (llama-quant.cpp). The published
    bartowski/Meta-Llama-3.1-8B-Instruct-GGUF Q4_K_M file is 4.92 GB (the engine said 6.33 GB)."""
    import tcomodel

    q4k, q6k = 144 * 8 / 256, 210 * 8 / 256
    by_hand = _llama31_8b_gguf_bytes(q4k, q6k, q4k, q6k, q4k, q6k)
    assert by_hand / 1e9 == pytest.approx(4.92, abs=0.02)
    e = tcomodel.estimate("rtx-4090", "llama-3.1-8b", "q4_k_m", engine="llamacpp", batch=1, context_tokens=4096)
    # the catalogue's 8.03 B total also holds the norms; those 0.03% are counted at the FFN's bits
    assert e.weights_gb * 1e9 == pytest.approx(by_hand, rel=5e-4)


def test_gguf_q4_0_and_q8_0_llama31_8b():
    """Q4_0 = 18 B / 32 = 4.5 bits everywhere but the output (Q6_K); Q8_0 = 34 B / 32 = 8.5 bits incl.
    the output. Published bartowski files: Q4_0 4.66 GB, Q8_0 8.54 GB."""
    import tcomodel

    q40, q80, q6k = 4.5, 8.5, 210 * 8 / 256
    q4_0 = _llama31_8b_gguf_bytes(q40, q6k, q40, q40, q40, q40)
    q8_0 = _llama31_8b_gguf_bytes(q80, q80, q80, q80, q80, q80)
    assert q4_0 / 1e9 == pytest.approx(4.66, abs=0.02) and q8_0 / 1e9 == pytest.approx(8.54, abs=0.02)
    for precision, by_hand in (("q4_0", q4_0), ("q8_0", q8_0)):
        e = tcomodel.estimate("rtx-4090", "llama-3.1-8b", precision, engine="llamacpp", batch=1, context_tokens=4096)
        assert e.weights_gb * 1e9 == pytest.approx(by_hand, rel=5e-4)


def test_bits_per_weight_override_still_applies_to_everything():
    # a claimed "3.5 bits" (the hardware guide's LLaMA-70B example) stays a flat what-if
    w = weights(MODELS["llama-3-70b"], 3.5, bits_apply_to_all=True, total_params_b=70.6)
    assert w.total_bytes == pytest.approx(70.6e9 * 3.5 / 8)


def test_nvfp4_modelopt_keeps_attention_and_linear_attention_bf16():
    """Issue 10 item 6: with attention (12 gated full-attention + 36 Gated DeltaNet layers, 1.541 B)
    and embeddings/LM head in BF16, the Qwen3-Next batch-1 bound falls from ~730 to ~390 tok/s."""
    import tcomodel

    experts, attention, table = 77.309e9, 1.541e9, 151936 * 2048
    mlp = 79.67e9 - experts - attention - 2 * table  # shared experts, routers, norms: NVFP4
    read1 = (experts * 10 / 512 * 0.5625 + mlp * 0.5625 + attention * 2 + table * 2  # LM head
             + 2048 * 2)  # one embedding row
    held = experts * 0.5625 + mlp * 0.5625 + attention * 2 + 2 * table * 2
    e = tcomodel.estimate("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4-modelopt", engine="ideal",
                          batch=1, context_tokens=8192)
    assert e.weights_gb * 1e9 == pytest.approx(held, rel=1e-9)
    assert e.ideal_bound_tok_s == pytest.approx(1792e9 / read1, rel=1e-9)
    assert 370 < e.ideal_bound_tok_s < 400
    assert e.compute_precision == "fp4"
    # Size check against huggingface.co/nvidia/Qwen3-Next-80B-A3B-Thinking-NVFP4 (50.8 GB incl. the
    # multi-token-prediction layer: 512 x 3 x 2048 x 512 experts + attention 27.3 M + fc 4096 x 2048
    # + shared expert 3.1 M + router 1 M = 1.65 B, assumed BF16): within 1%.
    mtp = 512 * 3 * 2048 * 512 + 27.26e6 + 4096 * 2048 + 3 * 2048 * 512 + 2048 * 512
    assert (held + mtp * 2) / 1e9 == pytest.approx(50.8, rel=0.01)
    # the plain nvfp4 name keeps its meaning: everything but embeddings + LM head in NVFP4
    plain = tcomodel.estimate("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4", engine="ideal",
                              batch=1, context_tokens=8192)
    assert plain.weights_gb == pytest.approx((79.67 - 0.62) * 0.5625 + 0.62 * 2)


def test_precision_set_per_component():
    """``BASE:component=precision,...``: unnamed components keep BASE's bits (BF16 edges for a plain name)."""
    import tcomodel
    from tcomodel.roofline.precision import get_precision

    p = get_precision("nvfp4:attention=bf16")
    assert dict(p.layout) == {"experts": 4.5, "mlp": 4.5, "attention": 16.0, "embed": 16.0, "head": 16.0}
    assert dict(p.layout) == dict(get_precision("nvfp4-modelopt").layout)
    assert dict(get_precision("nvfp4-modelopt:attention=fp8").layout)["attention"] == 8.0
    # FP8 attention on Qwen3-Next: 1.541 B x 1 B instead of 2 B per weight
    a = tcomodel.estimate("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4:attention=fp8", engine="ideal",
                          batch=1, context_tokens=8192)
    b = tcomodel.estimate("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4-modelopt", engine="ideal",
                          batch=1, context_tokens=8192)
    assert b.weights_gb - a.weights_gb == pytest.approx(1.541, rel=1e-9)
    assert a.precision == "nvfp4:attention=fp8" and a.compute_precision == "fp4"


@pytest.mark.parametrize("bad, words", [
    ("nvfp4:foo=bf16", "component one of: experts, mlp, attention, embed, head"),
    ("nvfp4:attention=zz", "'zz' is not one of"),
    ("nvfp4:attention", "should be component=precision"),
    ("q4_k_m:attention=bf16", "sets its own per-tensor types"),
    ("nvfp4:attention=q8_0", "plain precision"),
])
def test_bad_per_component_precision_is_a_clear_error(bad, words):
    from click.testing import CliRunner

    from tcomodel.cli import main

    res = CliRunner().invoke(main, ["roofline", "--hardware", "rtx-pro-6000-maxq", "--model", "qwen3-next-80b-a3b",
                                    "--precision", bad])
    assert res.exit_code == 2
    assert words in res.output and "Traceback" not in res.output


def test_models_row_with_more_expert_params_than_total_is_refused(tmp_path):
    from click.testing import CliRunner

    from tcomodel.cli import main
    from tests.helpers import column_of, find_row, mutate

    tpl = tmp_path / "t.xlsx"
    assert CliRunner().invoke(main, ["init", str(tpl)]).exit_code == 0

    def edit(wb):
        ws = wb["Models"]
        row = find_row(ws, "A", "qwen3-next-80b-a3b")
        ws[f"{column_of(ws, 'expert_params_b')}{row}"] = 90

    bad = mutate(tpl, tmp_path / "bad.xlsx", edit)
    res = CliRunner().invoke(main, ["validate", str(bad)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert any(ln.startswith("Models!A") and "qwen3-next-80b-a3b" in ln and "exceeds total_params_b = 79.67 B" in ln
               for ln in res.output.splitlines()), res.output
