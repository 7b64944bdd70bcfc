"""Published throughput claims to check against the roofline (test material, and the Claims sheet
of the shipped hardware-guide scenario)."""

from __future__ import annotations

from typing import Any

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
