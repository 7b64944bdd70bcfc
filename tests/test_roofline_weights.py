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
