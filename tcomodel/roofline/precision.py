"""Weight and KV-cache precisions, and the compute rate each one gets on a given accelerator.

Bits per weight include the quantization format's scale overhead (DESIGN.md section 6):
NVFP4 = 4-bit values + one FP8 scale per 16 -> 4.5; MXFP4 = 4 bits + one E8M0 scale per 32 -> 4.25;
INT4 group-128 (AWQ/GPTQ) = 4 + 16-bit scale and zero per 128 -> ~4.25; GGUF Q4_0 = 18 bytes per 32
weights -> 4.5; Q4_K_M is a file-average mix of Q4_K/Q6_K -> ~4.85; Q8_0 = 34 bytes per 32 -> 8.5.
Those averages are what a bits-per-weight override means; the GGUF precisions themselves are
modelled per tensor class (``gguf_component_bits``), and presets such as ``nvfp4-modelopt`` set
bits per component (``component_bits``).
"""

from __future__ import annotations

from dataclasses import dataclass

from tcomodel.errors import UsageError


@dataclass(frozen=True)
class Precision:
    id: str
    bits_per_weight: float
    compute: str  # "bf16", "fp8", "int8", "fp4": the math the weights can feed natively
    weight_only: bool  # True: weights are dequantized and the matmul runs at 16-bit
    # "": bits_per_weight everywhere but the model's bf16_params_b; "gguf": llama.cpp's per-tensor
    # types (gguf_component_bits); "preset": bits per component as in ``layout``.
    scheme: str = ""
    layout: tuple[tuple[str, float], ...] = ()


# Components a precision can be set for: routed experts, dense MLP (incl. shared experts),
# attention (incl. linear-attention layers), input-embedding table, LM head.
COMPONENTS = ("experts", "mlp", "attention", "embed", "head")

_P = Precision
# NVIDIA ModelOpt NVFP4 checkpoints of hybrid MoE models: routed experts and dense MLPs in NVFP4,
# attention (incl. linear-attention layers), embeddings and LM head left in BF16. Assumption, checked
# only by size: huggingface.co/nvidia/Qwen3-Next-80B-A3B-Thinking-NVFP4 lists 50.8 GB with its MTP
# layer; this layout + a BF16 MTP layer (1.65 B) gives 51.2 GB, plain nvfp4 + BF16 MTP 49.0 GB.
# The checkpoint's hf_quant_config.json exclude_modules list was not available to check.
_NVFP4_MODELOPT = (("experts", 4.5), ("mlp", 4.5), ("attention", 16.0), ("embed", 16.0), ("head", 16.0))
PRECISION_TABLE: dict[str, Precision] = {
    p.id: p
    for p in [
        _P("bf16", 16.0, "bf16", False),
        _P("fp16", 16.0, "bf16", False),
        _P("fp8", 8.0, "fp8", False),
        _P("int8", 8.0, "int8", False),
        _P("nvfp4", 4.5, "fp4", False),
        _P("nvfp4-modelopt", 4.5, "fp4", False, "preset", _NVFP4_MODELOPT),
        _P("mxfp4", 4.25, "fp4", False),
        _P("int4", 4.25, "bf16", True),
        _P("q4_0", 4.5, "bf16", True, "gguf"),
        _P("q4_k_m", 4.85, "bf16", True, "gguf"),
        _P("q8_0", 8.5, "bf16", True, "gguf"),
    ]
}
PRECISIONS: list[str] = list(PRECISION_TABLE)

# Bytes per KV element (GGUF q8_0/q4_0 caches include their block scales).
KV_BYTES: dict[str, float] = {
    "fp32": 4.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "q8_0": 34 / 32,
    "q4_0": 18 / 32,
}
KV_PRECISIONS: list[str] = list(KV_BYTES)


def _named(precision_id: str, whole: str) -> Precision:
    try:
        return PRECISION_TABLE[precision_id]
    except KeyError:
        raise UsageError(
            f"precision {whole!r}: {precision_id!r} is not one of: {', '.join(PRECISIONS)}"
            if whole != precision_id else f"precision {whole!r} is not one of: {', '.join(PRECISIONS)}"
        ) from None


def get_precision(precision_id: str) -> Precision:
    """A named precision, or one set per component: ``BASE:component=precision,...``.

    E.g. ``nvfp4:attention=bf16`` = NVFP4 with attention (incl. linear attention) in BF16. Components
    not named take BASE's bits (a named preset's layout; for a plain name, its bits for experts,
    dense MLP and attention and BF16 for embeddings and LM head when BASE is below 16 bits). The
    matmul rate is BASE's. GGUF schemes fix their own per-tensor types and take no components.
    """
    whole = str(precision_id).strip().lower()
    base_id, sep, spec = whole.partition(":")
    base = _named(base_id.strip(), whole)
    if not sep:
        return base
    if base.scheme == "gguf":
        raise UsageError(f"precision {whole!r}: GGUF scheme {base.id} sets its own per-tensor types; "
                         "per-component precisions apply to the non-GGUF precisions")
    if base.layout:
        layout = dict(base.layout)
    else:
        edge = 16.0 if base.bits_per_weight < 16 else base.bits_per_weight
        layout = {"experts": base.bits_per_weight, "mlp": base.bits_per_weight,
                  "attention": base.bits_per_weight, "embed": edge, "head": edge}
    for item in spec.split(","):
        component, eq, part = (t.strip() for t in item.partition("="))
        if component not in COMPONENTS or not eq:
            raise UsageError(f"precision {whole!r}: {item.strip()!r} should be component=precision with "
                             f"component one of: {', '.join(COMPONENTS)}")
        p = _named(part, whole)
        if p.scheme:
            raise UsageError(f"precision {whole!r}: a component takes a plain precision, not {p.id}")
        layout[component] = p.bits_per_weight
    return Precision(whole, base.bits_per_weight, base.compute, base.weight_only, "preset",
                     tuple((c, layout[c]) for c in COMPONENTS))


def kv_bytes_per_element(kv_precision: str) -> float:
    try:
        return KV_BYTES[kv_precision.lower()]
    except KeyError:
        raise UsageError(
            f"KV-cache precision {kv_precision!r} is not one of: {', '.join(KV_PRECISIONS)}"
        ) from None


# Bits per weight of ggml tensor types: block bytes x 8 / weights per block (ggml/src/ggml-common.h:
# block_q4_0 = fp16 d + 16 B per 32; block_q5_0 = fp16 d + 4 B high bits + 16 B per 32; block_q5_1 =
# fp16 d, m + 4 + 16 B per 32; block_q8_0 = fp16 d + 32 B per 32; block_q4_K = 2 fp16 + 12 B scales
# + 128 B per 256; block_q5_K = 2 fp16 + 12 + 32 + 128 B per 256; block_q6_K = 128 + 64 + 16 B + fp16 per 256).
GGML_TYPE_BITS: dict[str, float] = {
    "q4_0": 18 * 8 / 32,
    "q5_0": 22 * 8 / 32,
    "q5_1": 24 * 8 / 32,
    "q8_0": 34 * 8 / 32,
    "q4_k": 144 * 8 / 256,
    "q5_k": 176 * 8 / 256,
    "q6_k": 210 * 8 / 256,
}
# GGUF file type -> default tensor type (llama.cpp src/llama-quant.cpp llama_ftype_get_default_type).
GGUF_DEFAULT_TYPE: dict[str, str] = {"q4_0": "q4_0", "q4_k_m": "q4_k", "q8_0": "q8_0"}
# A K-quant needs rows that are a multiple of 256; else llama.cpp falls back (tensor_type_fallback).
_K_FALLBACK = {"q4_k": "q5_0", "q5_k": "q5_1", "q6_k": "q8_0"}


def _use_more_bits(i_layer: int, n_layers: int) -> bool:
    """llama.cpp's use_more_bits: the first and last eighth of the layers and every third between."""
    return i_layer < n_layers // 8 or i_layer >= 7 * n_layers // 8 or (i_layer - n_layers // 8) % 3 == 2


def _more_bits_share(n_layers: int) -> float:
    return sum(_use_more_bits(i, n_layers) for i in range(n_layers)) / n_layers if n_layers > 0 else 0.0


def gguf_component_bits(scheme: str, model) -> dict[str, float]:
    """Bits per weight of each component in a llama.cpp ``scheme`` file (no imatrix, no overrides).

    From src/llama-quant.cpp llama_tensor_get_type_impl: the output tensor (and a tied embedding) is
    Q6_K unless the file is Q8_0; an untied token embedding keeps the default type; in Q4_K_M,
    attn_v and ffn_down use Q6_K in the layers use_more_bits picks (about half) and Q4_K elsewhere,
    attn_v is Q5_K instead of Q4_K in 80-layer (70B) models, and 8-expert models (Mixtral) get
    attn_v/attn_k at Q8_0 and attn_output at Q5_K. Everything else uses the default type. Rows not a
    multiple of 256 (judged by hidden_size) fall back to 32-blocks (Q4_K -> Q5_0, Q6_K -> Q8_0).
    Norms, routers and conv1d weights (kept F32) are counted at the default type: they are < 0.1%.
    MLA attention is counted at the default type (attn_kv_b's upgrade is not modelled).
    """
    base = GGUF_DEFAULT_TYPE[scheme]
    odd_rows = model.hidden_size % 256 != 0

    def bits(t: str) -> float:
        if odd_rows and t in _K_FALLBACK:
            t = _K_FALLBACK[t]
        return GGML_TYPE_BITS[t]

    block = 256 if base.endswith("_k") else 32
    out = "q8_0" if (base == "q8_0" or model.hidden_size % block) else "q6_k"
    q4_k_m = scheme == "q4_k_m"
    eight_experts = (model.num_experts or 0) == 8

    # attention: q/o (heads x head_dim) and k/v (KV heads x head_dim) rows of hidden, per attention layer
    att_layers = (model.full_attention_layers or 0) + (model.sliding_window_layers or 0)
    if model.mla_kv_lora_rank:
        qo = kv = 0.0
    else:
        qo = float(att_layers) * model.hidden_size * model.num_attention_heads * model.head_dim
        kv = float(att_layers) * model.hidden_size * model.num_kv_heads * model.head_dim
    if model.attention_params_b is not None:
        att_total = model.attention_params_b * 1e9
    else:
        att_total = float(model.num_layers) * model.hidden_size * 2 * (
            model.num_attention_heads + model.num_kv_heads) * model.head_dim
    v_type_low = "q5_k" if (model.num_layers == 80 and not model.is_moe) else base
    f_v = _more_bits_share(att_layers)
    bits_v = (f_v * bits("q6_k") + (1 - f_v) * bits(v_type_low)) if q4_k_m else bits(base)
    bits_k = bits_o = bits(base)
    if eight_experts:
        bits_v = bits_k = bits("q8_0")
        if q4_k_m:
            bits_o = bits("q5_k")
    rest = max(att_total - 2 * qo - 2 * kv, 0.0)
    attention = ((qo * bits(base) + qo * bits_o + kv * bits_k + kv * bits_v + rest * bits(base))
                 / att_total) if att_total else bits(base)

    # FFN (dense and experts): gate, up, down of equal size; down at Q6_K in the use_more_bits layers
    f_d = _more_bits_share(model.num_layers) if q4_k_m else 0.0
    ffn = (2 * bits(base) + f_d * bits("q6_k") + (1 - f_d) * bits(base)) / 3
    return {"experts": ffn, "mlp": ffn, "attention": attention, "embed": bits(base), "head": bits(out)}


def component_bits(precision: Precision, model) -> dict[str, float] | None:
    """Bits per component for ``precision`` on ``model``; None = uniform bits outside bf16_params_b."""
    if precision.scheme == "gguf":
        return gguf_component_bits(precision.id, model)
    if precision.scheme == "preset":
        return dict(precision.layout)
    return None


def compute_tflops(hw, precision: Precision) -> tuple[float, str]:
    """Dense peak (TFLOPS) the matmuls run at for ``precision`` on ``hw``, and that rate's name.

    FP8 without FP8 tensor cores (A100, RTX 3090, Apple) is upcast to BF16; FP4 runs natively only
    where the part has FP4 tensor cores (Blackwell, MI355X), else weights are dequantized to BF16
    (vLLM Marlin W4A16 path); NVFP4 is NVIDIA's format, so AMD parts fall back. Parts without
    tensor cores (Apple) fall back to FP32 ALU rate.
    """
    bf16 = hw.bf16_tflops or hw.fp32_tflops
    if bf16 is None:
        raise UsageError(f"hardware {hw.hardware_id!r} has neither bf16_tflops nor fp32_tflops")
    name16 = "bf16" if hw.bf16_tflops else "fp32"
    if precision.compute == "fp8" and hw.fp8_tflops:
        return hw.fp8_tflops, "fp8"
    if precision.compute == "int8" and hw.int8_tops:
        return hw.int8_tops, "int8"
    if precision.compute == "fp4" and hw.fp4_tflops:
        if precision.id.startswith("nvfp4") and hw.vendor.lower() != "nvidia":
            return bf16, name16
        return hw.fp4_tflops, "fp4"
    return bf16, name16
