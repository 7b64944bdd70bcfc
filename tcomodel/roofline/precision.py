"""Weight and KV-cache precisions, and the compute rate each one gets on a given accelerator.

Bits per weight include the quantization format's scale overhead (DESIGN.md section 6):
NVFP4 = 4-bit values + one FP8 scale per 16 -> 4.5; MXFP4 = 4 bits + one E8M0 scale per 32 -> 4.25;
INT4 group-128 (AWQ/GPTQ) = 4 + 16-bit scale and zero per 128 -> ~4.25; GGUF Q4_0 = 18 bytes per 32
weights -> 4.5; Q4_K_M is a file-average mix of Q4_K/Q6_K -> ~4.85; Q8_0 = 34 bytes per 32 -> 8.5.
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


_P = Precision
PRECISION_TABLE: dict[str, Precision] = {
    p.id: p
    for p in [
        _P("bf16", 16.0, "bf16", False),
        _P("fp16", 16.0, "bf16", False),
        _P("fp8", 8.0, "fp8", False),
        _P("int8", 8.0, "int8", False),
        _P("nvfp4", 4.5, "fp4", False),
        _P("mxfp4", 4.25, "fp4", False),
        _P("int4", 4.25, "bf16", True),
        _P("q4_0", 4.5, "bf16", True),
        _P("q4_k_m", 4.85, "bf16", True),
        _P("q8_0", 8.5, "bf16", True),
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


def get_precision(precision_id: str) -> Precision:
    try:
        return PRECISION_TABLE[precision_id.lower()]
    except KeyError:
        raise UsageError(
            f"precision {precision_id!r} is not one of: {', '.join(PRECISIONS)}"
        ) from None


def kv_bytes_per_element(kv_precision: str) -> float:
    try:
        return KV_BYTES[kv_precision.lower()]
    except KeyError:
        raise UsageError(
            f"KV-cache precision {kv_precision!r} is not one of: {', '.join(KV_PRECISIONS)}"
        ) from None


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
        if precision.id == "nvfp4" and hw.vendor.lower() != "nvidia":
            return bf16, name16
        return hw.fp4_tflops, "fp4"
    return bf16, name16
