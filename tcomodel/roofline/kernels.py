"""Kernel path: the math rate a precision's matmuls really get, per engine x hardware x precision x component.

A precision names the rate its weights *could* feed (``Precision.compute``); whether an engine has a
kernel for it on a given architecture is a separate, dated fact. Where it has none, the engine falls
back, e.g. to a weight-only kernel that dequantizes 4-bit weights and multiplies at the BF16 rate
(W4A16). Decode is mostly bandwidth-bound and barely notices; prefill and TTFT are compute-bound and
do. Each rule below names its source and the engine releases it was seen in; ``kernel_path=`` in
``estimate`` (``--kernel-path`` on the CLI) overrides it.

Components: ``experts`` are the routed-expert grouped GEMMs of an MoE model; ``dense`` is every
other matmul (attention projections, dense MLP, shared experts, LM head).
"""

from __future__ import annotations

from dataclasses import dataclass

from tcomodel.errors import UsageError

KERNEL_COMPONENTS = ("experts", "dense")
# what a component can be set to: "native" = the precision's own rate, or a named rate
KERNEL_PATHS = ("native", "bf16", "fp16acc", "fp8", "int8", "fp4")


@dataclass(frozen=True)
class KernelRule:
    engine: str
    archs: tuple[str, ...]  # HardwareSpec.arch values the rule applies to
    compute: str  # the precision's native compute class it applies to ("fp4", "fp8", ...)
    component: str  # "experts" or "dense"
    path: str  # the rate actually used
    kernel: str  # what the engine runs instead
    engine_versions: str
    source: str
    precisions: tuple[str, ...] = ()  # set: match these precision ids instead of ``compute``


_NVIDIA_TENSOR_INT8 = ("sm80", "sm86", "sm89", "sm90", "sm100", "sm120")

RULES: tuple[KernelRule, ...] = (
    KernelRule(
        "vllm", ("sm120", "sm121"), "fp4", "experts", "bf16", "Marlin W4A16 fused MoE (FP4 weights dequantized to BF16)",
        "every release through 0.24.0 (newest seen, 2026-07)",
        "github.com/vllm-project/vllm/issues/31085 (SM120 NVFP4 MoE falls back to Marlin: the MoE backend "
        "selection checks only capability family 100; open, last comment 2026-06-12); issues/30135 (MXFP4 "
        "models fall back to Marlin on RTX PRO 6000, vLLM 0.12.0); issues/47749 (RTX 5090 ModelOpt NVFP4 "
        "checkpoint routed to Marlin W4A16, 'no native FP4 support', vLLM 0.24.0, 2026-07-06); PR 37751 "
        "(routing SM120 to CUTLASS MXFP4 MoE, 28% faster prefill than Marlin) was closed unmerged"),
    # llama.cpp multiplies GGUF-quantized weights with its MMQ kernels, which run on int8 tensor cores
    # (activations quantized to q8_1) rather than dequantizing to FP16; decode is bandwidth-bound either way
    *(KernelRule("llamacpp", _NVIDIA_TENSOR_INT8, "bf16", comp, "int8", "MMQ on int8 tensor cores (CUDA backend)",
                 "since June 2024 (b3080 on)",
                 "github.com/ggml-org/llama.cpp/pull/7676 (CUDA: use tensor cores for MMQ, merged 2024-06) and "
                 "pull/7860 (int8 tensor cores for MMQ q4_K, q5_K, q6_K)", ("q4_0", "q4_k_m", "q8_0"))
      for comp in ("dense", "experts")),
    # F16 weights go through cuBLAS with FP16 accumulation on NVIDIA (FP32 only on AMD CDNA/RDNA4): on GeForce
    # that is twice the FP32-accumulate rate the catalogue's bf16_tflops holds (hardware fp16_acc_tflops)
    *(KernelRule("llamacpp", _NVIDIA_TENSOR_INT8, "bf16", comp, "fp16acc", "cuBLAS FP16 GEMM, FP16 accumulate",
                 "all CUDA builds", "ggml-org/llama.cpp ggml/src/ggml-cuda/ggml-cuda.cu ggml_cuda_op_mul_mat_cublas "
                 "(CUBLAS_COMPUTE_16F unless GGML_CUDA_CC_IS_CDNA or RDNA4; seen via github.com code search)",
                 ("fp16", "bf16"))
      for comp in ("dense", "experts")),
)


@dataclass(frozen=True)
class KernelChoice:
    component: str
    path: str  # "native" or a rate name
    kernel: str
    source: str


def parse_kernel_path(text: str | None) -> dict[str, str]:
    """``"experts=bf16,dense=native"`` or one path for both (``"native"``) -> {component: path}."""
    if text is None or str(text).strip() == "":
        return {}
    spec = str(text).strip().lower()
    if "=" not in spec:
        if spec not in KERNEL_PATHS:
            raise UsageError(f"kernel path {text!r}: expected one of {', '.join(KERNEL_PATHS)} or "
                             f"component=path pairs such as experts=bf16,dense=native")
        return {c: spec for c in KERNEL_COMPONENTS}
    out: dict[str, str] = {}
    for item in spec.split(","):
        comp, eq, path = (t.strip() for t in item.partition("="))
        if comp not in KERNEL_COMPONENTS or path not in KERNEL_PATHS:
            raise UsageError(f"kernel path {text!r}: {item.strip()!r} should be component=path with component one "
                             f"of {', '.join(KERNEL_COMPONENTS)} and path one of {', '.join(KERNEL_PATHS)}")
        out[comp] = path
    return out


def kernel_choices(engine_id: str, arch: str | None, compute: str, override: dict[str, str] | None = None,
                   *, is_moe: bool = True, precision_id: str = "") -> dict[str, KernelChoice]:
    """The path each component takes: an override, else the first matching rule, else native."""
    override = override or {}
    out = {}
    for comp in KERNEL_COMPONENTS:
        if comp == "experts" and not is_moe:
            continue
        if comp in override:
            out[comp] = KernelChoice(comp, override[comp], "as given (kernel_path)", "user override")
            continue
        rule = next((r for r in RULES if r.engine == engine_id and arch in r.archs and r.component == comp
                     and (precision_id in r.precisions if r.precisions else r.compute == compute)), None)
        if rule is None:
            out[comp] = KernelChoice(comp, "native", "the precision's own kernels", "no known fallback")
        else:
            out[comp] = KernelChoice(comp, rule.path, f"{rule.kernel}; {rule.engine} {rule.engine_versions}",
                                     rule.source)
    return out
