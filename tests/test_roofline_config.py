"""Your own models and GPUs: Hugging Face config.json -> ModelSpec, hardware files, `tcomodel catalogue`.

Parameter counts and KV bytes are written out by hand from the configs below (copies of the
published config.json files' architecture keys; see the catalogue rows' sources).
"""

import json

import pytest
from click.testing import CliRunner

from tcomodel.catalogue.hardware_file import load_hardware_file
from tcomodel.catalogue.hf_config import ModelConfigError, derive, load_model_config, model_id_from
from tcomodel.cli import main
from tcomodel.roofline import estimate, load_catalogue
from tcomodel.roofline.memory import kv_layout

# Qwen/Qwen3-Next-80B-A3B-Instruct config.json (architecture keys)
QWEN3_NEXT = {
    "architectures": ["Qwen3NextForCausalLM"], "model_type": "qwen3_next", "decoder_sparse_step": 1,
    "full_attention_interval": 4, "head_dim": 256, "hidden_act": "silu", "hidden_size": 2048,
    "intermediate_size": 5120, "linear_conv_kernel_dim": 4, "linear_key_head_dim": 128, "linear_num_key_heads": 16,
    "linear_num_value_heads": 32, "linear_value_head_dim": 128, "max_position_embeddings": 262144,
    "mlp_only_layers": [], "moe_intermediate_size": 512, "num_attention_heads": 16, "num_experts": 512,
    "num_experts_per_tok": 10, "num_hidden_layers": 48, "num_key_value_heads": 2,
    "shared_expert_intermediate_size": 512, "tie_word_embeddings": False, "use_sliding_window": False,
    "vocab_size": 151936,
}
# deepseek-ai/DeepSeek-V3 config.json (architecture keys)
DEEPSEEK_V3 = {
    "architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3", "first_k_dense_replace": 3,
    "hidden_size": 7168, "intermediate_size": 18432, "kv_lora_rank": 512, "max_position_embeddings": 163840,
    "moe_intermediate_size": 2048, "moe_layer_freq": 1, "n_routed_experts": 256, "n_shared_experts": 1,
    "num_attention_heads": 128, "num_experts_per_tok": 8, "num_hidden_layers": 61, "num_key_value_heads": 128,
    "num_nextn_predict_layers": 1, "q_lora_rank": 1536, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64,
    "v_head_dim": 128, "tie_word_embeddings": False, "vocab_size": 129280,
    "quantization_config": {"quant_method": "fp8", "fmt": "e4m3", "weight_block_size": [128, 128]},
}
# mistralai/Mistral-Small-3.1-24B-Instruct-2503 config.json (3.2 has the same text_config)
MISTRAL_SMALL = {
    "architectures": ["Mistral3ForConditionalGeneration"], "model_type": "mistral3",
    "text_config": {"head_dim": 128, "hidden_act": "silu", "hidden_size": 5120, "intermediate_size": 32768,
                    "max_position_embeddings": 131072, "model_type": "mistral", "num_attention_heads": 32,
                    "num_hidden_layers": 40, "num_key_value_heads": 8, "sliding_window": None, "vocab_size": 131072},
    "vision_config": {"hidden_act": "silu", "hidden_size": 1024, "intermediate_size": 4096, "model_type": "pixtral",
                      "num_attention_heads": 16, "num_channels": 3, "num_hidden_layers": 24, "patch_size": 14},
}
# A small dense model with tied embeddings and a sliding window on every other layer.
SMALL = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 256, "num_hidden_layers": 4,
    "num_attention_heads": 8, "num_key_value_heads": 2, "head_dim": 32, "intermediate_size": 512, "vocab_size": 1000,
    "tie_word_embeddings": True, "max_position_embeddings": 4096,
}


def write(tmp_path, name, cfg):
    p = tmp_path / name
    p.write_text(json.dumps(cfg))
    return p


def catalogue_model(model_id):
    return load_catalogue()[1][model_id]


def test_small_dense_counts_by_hand(tmp_path):
    d = load_model_config(write(tmp_path, "config.json", SMALL))
    s = d.spec
    attn = 256 * 8 * 32 + 2 * 256 * 2 * 32 + 8 * 32 * 256  # q, k + v, o = 163,840
    mlp = 3 * 256 * 512  # gate, up, down = 393,216
    norms = 4 * 2 * 256 + 256
    embed = 1000 * 256  # tied: no separate LM head
    assert d.params.total == 4 * (attn + mlp) + norms + embed == 2_486_528
    assert s.total_params_b == s.active_params_b == pytest.approx(2_486_528 / 1e9)
    assert s.bf16_params_b == pytest.approx(256_000 / 1e9) and s.tie_word_embeddings == 1
    assert (s.num_layers, s.full_attention_layers, s.num_kv_heads, s.head_dim, s.max_context_tokens) == (4, 4, 2, 32, 4096)
    assert s.num_experts is None and s.mla_kv_lora_rank is None and s.linear_state_bytes_per_seq == 0
    assert kv_layout(s, 2).bytes_per_token == 2 * 4 * 2 * 32 * 2 == 1024  # K and V, 4 layers, 2 heads x 32, BF16
    assert s.model_id == model_id_from(tmp_path.name)  # named after the folder holding config.json
    # sliding window on alternate layers via layer_types: 2 full, 2 capped at the window
    cfg = dict(SMALL, sliding_window=512, layer_types=["sliding_attention", "full_attention"] * 2)
    s2 = derive(cfg).spec
    assert (s2.full_attention_layers, s2.sliding_window_layers, s2.sliding_window_tokens) == (2, 2, 512)
    kv = kv_layout(s2, 2)
    assert kv.bytes_per_token == 2 * 2 * 2 * 32 * 2 and kv.sliding_bytes(4096) == 2 * 2 * 2 * 32 * 2 * 512


def test_qwen3_next_hybrid_moe_matches_catalogue(tmp_path):
    d = load_model_config(write(tmp_path, "config.json", QWEN3_NEXT))
    s, row = d.spec, catalogue_model("qwen3-next-80b-a3b")
    h, v = 2048, 151936
    full_attn = h * 16 * 256 * 2 + 2 * h * 2 * 256 + 16 * 256 * h  # gated q_proj (query + gate), k, v, o
    kd, vd = 16 * 128, 32 * 128
    conv = 2 * kd + vd
    gdn = h * (2 * kd + 2 * vd) + h * 2 * 32 + conv * 4 + 2 * 32 + 128 + vd * h  # qkvz, ba, conv1d, A/dt, norm, out
    expert = 3 * h * 512
    routed = 512 * expert * 48
    shared = (expert + h) * 48  # one shared expert + its sigmoid gate per layer
    router = h * 512 * 48
    total = 12 * full_attn + 36 * gdn + routed + shared + router + (2 * h * 48 + h) + 2 * v * h
    active = total - routed + 10 * expert * 48
    assert d.params.total == total and d.params.active == active
    assert s.total_params_b == pytest.approx(row.total_params_b, rel=0.02)  # 79.67 vs 80
    assert s.active_params_b == pytest.approx(row.active_params_b, rel=0.02)  # 3.87 vs 3.9
    assert s.bf16_params_b == pytest.approx(2 * v * h / 1e9)
    for f in ("num_layers", "hidden_size", "num_attention_heads", "num_kv_heads", "head_dim", "full_attention_layers",
              "linear_attention_layers", "linear_state_bytes_per_seq", "num_experts", "experts_per_token",
              "moe_layers", "max_context_tokens", "vocab_size", "tie_word_embeddings"):
        assert getattr(s, f) == getattr(row, f), f
    # KV grows in the 12 full layers only; the 36 GDN layers hold 32 x 128 x 128 + conv 8192 x 3 values at BF16
    assert kv_layout(s, 2).bytes_per_token == 2 * 12 * 2 * 256 * 2 == 24_576
    assert s.linear_state_bytes_per_seq == 36 * (32 * 128 * 128 + 8192 * 3) * 2 == 39_518_208
    # and the estimate from the config equals the catalogue row's within the parameter difference
    a = estimate("rtx-pro-6000-maxq", s, "nvfp4", engine="ideal")
    b = estimate("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4", engine="ideal")
    assert a.kv_bytes_per_token == b.kv_bytes_per_token and a.weights_gb == pytest.approx(b.weights_gb, rel=0.02)


def test_deepseek_v3_mla_moe_matches_catalogue(tmp_path):
    d = load_model_config(write(tmp_path, "config.json", DEEPSEEK_V3))
    s, row = d.spec, catalogue_model("deepseek-v3")
    h = 7168
    mla = (h * 1536 + 1536 + 1536 * 128 * 192  # q_a, q_a norm, q_b (128 heads x (128 nope + 64 rope))
           + h * (512 + 64) + 512 + 512 * 128 * (128 + 128)  # kv_a with the rope key, kv_a norm, kv_b
           + 128 * 128 * h)  # o_proj
    assert mla - 1536 - 512 == 187_105_280  # the per-layer MLA projection count quoted in public FLOP tests
    expert = 3 * h * 2048
    dense = 3 * 3 * h * 18432  # first_k_dense_replace = 3 dense layers
    routed = 58 * 256 * expert
    total = 61 * mla + dense + routed + 58 * expert + 58 * h * 256 + (2 * h * 61 + h) + 2 * 129280 * h
    assert d.params.total == total
    assert d.params.active == total - routed + 58 * 8 * expert
    assert s.total_params_b == pytest.approx(row.total_params_b, rel=0.02)  # 671.03 vs 671
    assert s.active_params_b == pytest.approx(row.active_params_b, rel=0.02)  # 37.55 (incl. embeddings) vs 37
    assert (s.mla_kv_lora_rank, s.mla_qk_rope_head_dim, s.num_experts, s.experts_per_token, s.moe_layers) == (512, 64, 256, 8, 58)
    assert kv_layout(s, 2).bytes_per_token == 61 * (512 + 64) * 2 == 70_272
    assert any("fp8" in n for n in d.notes)  # the checkpoint's own quantization is pointed out


def test_mistral_small_dense_multimodal_matches_catalogue(tmp_path):
    d = load_model_config(write(tmp_path, "config.json", MISTRAL_SMALL))
    s, row = d.spec, catalogue_model("mistral-small-3.2-24b")
    h = 5120
    text = 40 * (h * 4096 + 2 * h * 1024 + 4096 * h + 3 * h * 32768 + 2 * h) + h + 2 * 131072 * h
    assert text == 23_572_403_200
    assert d.params.total - d.params.vision == text
    assert 0.35e9 < d.params.vision < 0.5e9  # Pixtral encoder ~0.4 B (reference/data/models.csv)
    assert s.total_params_b == pytest.approx(row.total_params_b, rel=0.02)
    assert kv_layout(s, 2).bytes_per_token == 2 * 40 * 8 * 128 * 2 == 163_840
    assert s.tie_word_embeddings == 0 and s.bf16_params_b == pytest.approx(1.342177280)


def test_cli_model_config_dense_moe_mla_hybrid(tmp_path):
    for name, cfg in (("small", SMALL), ("qwen3-next", QWEN3_NEXT), ("deepseek", DEEPSEEK_V3), ("mistral", MISTRAL_SMALL)):
        folder = tmp_path / name
        folder.mkdir()
        write(folder, "config.json", cfg)
        r = CliRunner().invoke(main, ["roofline", "--hardware", "b200", "--gpus", "8", "--model-config", str(folder),
                                      "--precision", "fp8", "--json"])
        assert r.exit_code == 0, r.output
        out = json.loads(r.stdout)
        assert out["model_id"] == name and out["fits"]
        assert f"model {name} from" in r.stderr


def test_malformed_config_names_missing_key(tmp_path):
    bad = {k: v for k, v in SMALL.items() if k != "num_hidden_layers"}
    p = write(tmp_path, "config.json", bad)
    r = CliRunner().invoke(main, ["roofline", "--hardware", "h100-sxm", "--model-config", str(p), "--precision", "bf16"])
    assert r.exit_code == 2 and "num_hidden_layers" in r.output and "Traceback" not in r.output
    with pytest.raises(ModelConfigError) as exc:
        derive({k: v for k, v in QWEN3_NEXT.items() if k not in ("num_hidden_layers", "linear_key_head_dim")})
    assert exc.value.missing == ["num_hidden_layers"]  # layer kinds need the layer count first
    with pytest.raises(ModelConfigError, match="linear_key_head_dim, linear_conv_kernel_dim"):
        derive({k: v for k, v in QWEN3_NEXT.items() if k not in ("linear_key_head_dim", "linear_conv_kernel_dim")})
    with pytest.raises(ModelConfigError, match="lacks qk_nope_head_dim"):
        derive({k: v for k, v in DEEPSEEK_V3.items() if k != "qk_nope_head_dim"})
    with pytest.raises(ModelConfigError, match="hybrid_override_pattern"):
        derive(dict(SMALL, hybrid_override_pattern="M*M*"))
    with pytest.raises(ModelConfigError, match="mamba"):
        derive(dict(SMALL, layer_types=["mamba", "full_attention"] * 2))
    with pytest.raises(ModelConfigError, match="num_hidden_layers=-4"):
        derive(dict(SMALL, num_hidden_layers=-4))
    for text, msg in (("{not json", "not valid JSON"), ("[1, 2]", "JSON object")):
        (tmp_path / "x.json").write_text(text)
        r = CliRunner().invoke(main, ["roofline", "--hardware", "h100-sxm", "--model-config", str(tmp_path / "x.json"),
                                      "--precision", "bf16"])
        assert r.exit_code == 2 and msg in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["roofline", "--hardware", "h100-sxm", "--model", "llama-3.1-8b",
                                  "--model-config", str(p), "--precision", "bf16"])
    assert r.exit_code == 2 and "not both" in r.output


HW_ROW = {"hardware_id": "my-gpu", "name": "My GPU 48GB", "vendor": "NVIDIA", "memory_mib": 49152, "memory_bw_gbs": 1000,
          "bf16_tflops": 200, "fp8_tflops": 400}


def test_hardware_file_csv_and_json(tmp_path):
    csv_path = tmp_path / "hw.csv"
    csv_path.write_text(",".join(HW_ROW) + "\n" + ",".join(str(v) for v in HW_ROW.values()) + "\n")
    (spec,) = load_hardware_file(csv_path)
    assert (spec.memory_mib, spec.memory_bw_gbs, spec.fp8_tflops, spec.fp4_tflops) == (49152, 1000, 400, None)
    assert str(csv_path) in spec.source and spec.as_of is not None  # defaulted
    r = CliRunner().invoke(main, ["roofline", "--hardware-file", str(csv_path), "--model", "llama-3.1-8b",
                                  "--precision", "bf16", "--engine", "ideal", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["hardware_id"] == "my-gpu"
    # ideal: bandwidth / bytes read per token at batch 1 = 1000 GB/s / (8.03e9 x 2 B - the gathered embedding table)
    read = 8.03e9 * 2 - 128256 * 4096 * 2 + 4096 * 2
    assert out["ideal_bound_tok_s"] == pytest.approx(1000e9 / read)
    json_path = tmp_path / "hw.json"
    json_path.write_text(json.dumps([HW_ROW, dict(HW_ROW, hardware_id="my-gpu-2", memory_bw_gbs=2000)]))
    assert [s.hardware_id for s in load_hardware_file(json_path)] == ["my-gpu", "my-gpu-2"]
    r = CliRunner().invoke(main, ["roofline", "--hardware-file", str(json_path), "--model", "llama-3.1-8b",
                                  "--precision", "bf16"])
    assert r.exit_code == 2 and "choose one with --hardware" in r.output
    r = CliRunner().invoke(main, ["roofline", "--hardware-file", str(json_path), "--hardware", "my-gpu-2",
                                  "--model", "llama-3.1-8b", "--precision", "bf16", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["hardware_id"] == "my-gpu-2"


def test_hardware_file_bad_values_name_the_field(tmp_path):
    p = tmp_path / "hw.json"
    p.write_text(json.dumps(dict(HW_ROW, memory_bw_gbs=-900)))
    r = CliRunner().invoke(main, ["roofline", "--hardware-file", str(p), "--model", "llama-3.1-8b", "--precision", "bf16"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "memory_bw_gbs = -900 GB/s is outside the allowed range" in r.output
    p.write_text(json.dumps(dict(HW_ROW, memory_bandwidth=900, memory_mib="lots")))
    r = CliRunner().invoke(main, ["roofline", "--hardware-file", str(p), "--model", "llama-3.1-8b", "--precision", "bf16"])
    assert r.exit_code == 2 and "'memory_bandwidth'" in r.output and "memory_mib 'lots' is not a number" in r.output
    p.write_text(json.dumps({k: v for k, v in HW_ROW.items() if k != "memory_bw_gbs"}))
    r = CliRunner().invoke(main, ["roofline", "--hardware-file", str(p), "--model", "llama-3.1-8b", "--precision", "bf16"])
    assert r.exit_code == 2 and "memory_bw_gbs is required" in r.output
    r = CliRunner().invoke(main, ["roofline", "--hardware-file", str(tmp_path / "nope.csv"), "--model", "llama-3.1-8b",
                                  "--precision", "bf16"])
    assert r.exit_code == 2 and "file not found" in r.output
    r = CliRunner().invoke(main, ["roofline", "--model", "llama-3.1-8b", "--precision", "bf16"])
    assert r.exit_code == 2 and "--hardware-file" in r.output


def test_catalogue_command_lists_builtins():
    hw, models = load_catalogue()
    r = CliRunner().invoke(main, ["catalogue", "hardware"])
    assert r.exit_code == 0 and all(h in r.output for h in hw)
    r = CliRunner().invoke(main, ["catalogue", "models"])
    assert r.exit_code == 0 and "deepseek-v3" in r.output and "70,272" in r.output  # MLA KV bytes per token at BF16
    r = CliRunner().invoke(main, ["catalogue", "models", "--json"])
    out = json.loads(r.output)
    assert out["kind"] == "models" and [row["model_id"] for row in out["rows"]] == list(models)
    assert out["rows"][0]["as_of"] and {c["name"] for c in out["columns"]} == set(out["rows"][0])
    r = CliRunner().invoke(main, ["catalogue", "gpus"])
    assert r.exit_code == 2


def _scenario_with_config_row(tmp_path, row: dict, cfg: dict | None = QWEN3_NEXT):
    import copy

    from tcomodel.inputs import default_content, write_scenario_workbook

    if cfg is not None:
        (tmp_path / "models").mkdir(exist_ok=True)
        write(tmp_path / "models", "config.json", cfg)
    content = copy.deepcopy(default_content())
    content["Models"] = [*content["Models"], row]
    for opt in content["Options"]:
        if opt.get("model_id") == "qwen3-next-80b-a3b":
            opt["model_id"] = row["model_id"]
    path = tmp_path / "scenario.xlsx"
    write_scenario_workbook(path, content, force=True)
    return path


def test_scenario_models_sheet_config_json(tmp_path):
    from tcomodel.inputs import load_scenario

    path = _scenario_with_config_row(tmp_path, {"model_id": "my-qwen3-next", "config_json": "models/config.json",
                                                "quality_score": 77.2})
    sc = load_scenario(path)
    m, row = sc.models["my-qwen3-next"], catalogue_model("qwen3-next-80b-a3b")
    assert m.total_params_b == pytest.approx(row.total_params_b, rel=0.02)
    assert (m.full_attention_layers, m.linear_attention_layers, m.num_experts) == (12, 36, 512)
    assert m.quality_score == 77.2 and m.model_id == "my-qwen3-next"  # filled cells win over the config
    assert "config.json" in m.source


def test_scenario_config_json_errors_name_the_cell(tmp_path):
    from openpyxl import load_workbook

    from tcomodel.errors import InputError
    from tcomodel.inputs import load_scenario

    bad = {k: v for k, v in QWEN3_NEXT.items() if k != "num_hidden_layers"}
    path = _scenario_with_config_row(tmp_path, {"model_id": "my-qwen3-next", "config_json": "models/config.json"}, bad)
    ws = load_workbook(path)["Models"]
    col = next(c.column_letter for c in ws[1] if c.value == "config_json")
    row = next(r for r in range(3, ws.max_row + 1) if ws[f"A{r}"].value == "my-qwen3-next")
    with pytest.raises(InputError) as exc:
        load_scenario(path)
    text = str(exc.value)
    assert f"Models!{col}{row}: config_json 'models/config.json'" in text and "num_hidden_layers" in text
    assert len(exc.value.problems) == 1  # the options using the model are not reported again
    path = _scenario_with_config_row(tmp_path, {"model_id": "my-qwen3-next", "config_json": "nowhere/config.json"}, None)
    r = CliRunner().invoke(main, ["validate", str(path)])
    assert r.exit_code == 2 and f"Models!{col}{row}" in r.output and "file not found" in r.output
    assert "Traceback" not in r.output


def test_gemma3_window_pattern_and_default_tied_embeddings():
    # google/gemma-3-27b-it text_config: every 6th layer global, the others a 1,024-token window;
    # no tie_word_embeddings key, and Gemma configs tie by default
    cfg = {"model_type": "gemma3_text", "head_dim": 128, "hidden_size": 5376, "intermediate_size": 21504,
           "max_position_embeddings": 131072, "num_attention_heads": 32, "num_hidden_layers": 62,
           "num_key_value_heads": 16, "sliding_window": 1024, "sliding_window_pattern": 6, "vocab_size": 262208}
    s = derive(cfg).spec
    assert (s.full_attention_layers, s.sliding_window_layers, s.sliding_window_tokens) == (10, 52, 1024)
    assert s.tie_word_embeddings == 1 and s.bf16_params_b == pytest.approx(262208 * 5376 / 1e9)
    kv = kv_layout(s, 2)
    assert kv.bytes_per_token == 2 * 10 * 16 * 128 * 2 and kv.sliding_bytes(8192) == 2 * 52 * 16 * 128 * 2 * 1024


def test_model_named_from_hub_cache_folder(tmp_path):
    snap = tmp_path / "models--Qwen--Qwen3-Next-80B-A3B-Instruct" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    write(snap, "config.json", QWEN3_NEXT)
    s = load_model_config(snap).spec
    assert (s.model_id, s.hf_repo, s.name) == ("qwen3-next-80b-a3b-instruct", "Qwen/Qwen3-Next-80B-A3B-Instruct",
                                               "Qwen/Qwen3-Next-80B-A3B-Instruct")
