"""Physics check of published throughput claims against the ideal roofline bound.

The bound is the "ideal" profile: all of the hardware's bandwidth, no overhead, weights only. A
claim is per stream at ``batch`` (default 1: the hardware guide quotes per-token latencies such as
"0.55 ms per token", i.e. a single stream). Verdicts: ``does_not_fit`` (weights exceed the
memory of all GPUs), ``exceeds_bound`` (claim above the bound; ``factor`` = claim / bound) or
``within_bound``.
"""

from __future__ import annotations

from typing import Any

from tcomodel.roofline.catalogue import GIB
from tcomodel.roofline.memory import GB
from tcomodel.roofline.setup import build_setup, positive, resolve_hardware

# Claims from reference/seeds/hardware-guide-3.5bit.txt (2025-11-28). The guide says "Throughput
# assumes LLaMA-70B with 3.5-bit quantization"; we read LLaMA-70B as llama-3-70b (70.6 B params).
_GUIDE = "reference/seeds/hardware-guide-3.5bit.txt"
HARDWARE_GUIDE_CLAIMS: list[dict[str, Any]] = [
    dict(hardware_id="rtx-4090", gpus=1, model_id="llama-3-70b", bits=3.5, claimed_tok_s=1800.0,
         quote="NVIDIA RTX 4090 | 1,800 tok/s | 0.55 ms ... 24GB VRAM: Enough for LLaMA-70B (3.5-bit = 19GB!)"),
    dict(hardware_id="h100-sxm", gpus=1, model_id="llama-3-70b", bits=3.5, claimed_tok_s=6500.0,
         quote="NVIDIA H100 SXM | 6,500 tok/s | 0.15 ms | 700W"),
    dict(hardware_id="a100-sxm-80gb", gpus=1, model_id="llama-3-70b", bits=3.5, claimed_tok_s=3000.0,
         quote="NVIDIA A100 80GB | 3,000 tok/s | 0.33 ms | 400W"),
    dict(hardware_id="a100-sxm-40gb", gpus=1, model_id="llama-3-70b", bits=3.5, claimed_tok_s=2800.0,
         quote="NVIDIA A100 40GB | 2,800 tok/s | 0.36 ms | 400W"),
    dict(hardware_id="mi300x", gpus=1, model_id="llama-3-70b", bits=3.5, claimed_tok_s=5500.0,
         quote="AMD MI300X | 5,500 tok/s | 0.18 ms | 750W"),
    dict(hardware_id="l40s", gpus=1, model_id="llama-3-70b", bits=3.5, claimed_tok_s=2200.0,
         quote="NVIDIA L40S | 2,200 tok/s | 0.45 ms | 350W"),
    dict(hardware_id="rtx-6000-ada", gpus=1, model_id="llama-3-70b", bits=3.5, claimed_tok_s=2000.0,
         quote="NVIDIA RTX 6000 Ada | 2,000 tok/s | 0.50 ms | 300W"),
    dict(hardware_id="m2-ultra", gpus=1, model_id="llama-3-70b", bits=3.5, claimed_tok_s=180.0,
         quote="Apple M2 Ultra | 180 tok/s | 5.5 ms | 100W"),
    dict(hardware_id="a100-sxm-80gb", gpus=4, model_id="llama-3-70b", bits=3.5, claimed_tok_s=12000.0,
         quote="4x NVIDIA A100 80GB SXM in NVLink ... Throughput: 12,000 tok/s (4 x 3,000)"),
    dict(hardware_id="h100-sxm", gpus=2, model_id="llama-3-70b", bits=3.5, claimed_tok_s=13000.0,
         quote="2x NVIDIA H100 SXM ... Throughput: 13,000 tok/s (2 x 6,500)"),
    dict(hardware_id="rtx-4090", gpus=8, model_id="llama-3-70b", bits=3.5, claimed_tok_s=14400.0,
         quote="8x NVIDIA RTX 4090 ... Throughput: 14,400 tok/s (8 x 1,800)"),
]
for _c in HARDWARE_GUIDE_CLAIMS:
    _c["source"] = _GUIDE


def check_claim(hardware, model, precision="int4", claimed_tok_s=None, *, gpus=1, bits_per_weight=None,
                batch=1, params_b=None, active_params_b=None, hardware_catalogue=None,
                model_catalogue=None) -> dict[str, Any]:
    """Is ``claimed_tok_s`` (per stream at ``batch``, on ``gpus`` devices) physically possible?

    Returns verdict, factor (claim / bound), bound_tok_s, fits, weights_gb, memory_gib (device-exposed, all GPUs) and a message.
    """
    claimed = positive("claimed_tok_s", claimed_tok_s, hi=1e9)
    batch = positive("batch", batch, integer=True, lo=1, hi=65536)
    # The bound is computed as if the weights fitted (memory lifted), so "does not fit" can also
    # say what the claim would need even then; fit is judged on the real memory.
    s = build_setup(hardware, model, precision, gpus=gpus, tp=gpus, engine="ideal", input_tokens=1,
                    output_tokens=1, bits_per_weight=bits_per_weight, params_b=params_b,
                    active_params_b=active_params_b, hardware_catalogue=hardware_catalogue,
                    model_catalogue=model_catalogue, memory_gib=1e6)
    weights_gb = s.w.total_bytes / GB
    memory_bytes = resolve_hardware(hardware, hardware_catalogue).memory_bytes * gpus
    memory_gib = memory_bytes / GIB
    fits = s.w.total_bytes <= memory_bytes
    bound = 1.0 / s.step_s(batch)  # per stream; ideal step = max(bytes/bw, flops/peak) over the TP group
    factor = claimed / bound if claimed is not None else None
    name = f"{s.model.model_id} at {s.w.bits_per_weight:g} bits on {gpus} x {s.hw.hardware_id}"
    if not fits:
        verdict = "does_not_fit"
        msg = (f"{name}: weights {weights_gb:.1f} GB exceed {memory_bytes / GB:.1f} GB ({memory_gib:g} GiB) of memory; "
               f"even if they fitted the bound is {bound:.1f} tok/s per stream")
    elif claimed is not None and claimed > bound * (1 + 1e-9):
        verdict = "exceeds_bound"
        msg = f"{name}: claim {claimed:g} tok/s is {factor:.1f}x the bound of {bound:.1f} tok/s per stream"
    else:
        verdict = "within_bound"
        msg = f"{name}: within the bound of {bound:.1f} tok/s per stream"
    if claimed is not None and verdict == "does_not_fit":
        msg += f" (claim {claimed:g} tok/s is {factor:.1f}x that)"
    return dict(verdict=verdict, factor=factor, bound_tok_s=bound, fits=fits, weights_gb=weights_gb,
                memory_gib=memory_gib, claimed_tok_s=claimed, batch=batch, message=msg)
