"""Physics check of published throughput claims against the ideal roofline bound.

The bound is the "ideal" profile: all of the hardware's bandwidth, no overhead, weights only. A
claim is per stream at ``batch`` (default 1: the hardware guide quotes per-token latencies such as
"0.55 ms per token", i.e. a single stream). Verdicts: ``does_not_fit`` (weights exceed the
memory of all GPUs), ``exceeds_bound`` (claim above the bound; ``factor`` = claim / bound) or
``within_bound``.
"""

from __future__ import annotations

from typing import Any

from tcomodel.catalogue import GIB, HARDWARE_GUIDE_CLAIMS
from tcomodel.roofline.memory import GB
from tcomodel.roofline.setup import build_setup, positive, resolve_hardware

__all__ = ["HARDWARE_GUIDE_CLAIMS", "check_claim"]  # the claims themselves are catalogue data

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
