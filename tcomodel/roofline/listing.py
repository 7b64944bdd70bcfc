"""What the catalogue holds, as a text table or JSON (``tcomodel catalogue hardware|models``)."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from tcomodel.catalogue import HARDWARE_FIELDS, MODEL_FIELDS, HardwareSpec, ModelSpec, load_catalogue
from tcomodel.errors import UsageError
from tcomodel.roofline.memory import kv_layout

KINDS = ("hardware", "models")


def _fields(kind: str):
    if kind not in KINDS:
        raise UsageError(f"unknown catalogue {kind!r}; choose one of {', '.join(KINDS)}")
    return HARDWARE_FIELDS if kind == "hardware" else MODEL_FIELDS


def catalogue_json(kind: str, catalogue: dict | None = None) -> dict[str, Any]:
    """{"kind", "columns": the file/sheet columns with unit and range, "rows": one object per entry}."""
    fields = _fields(kind)
    if catalogue is None:
        catalogue = load_catalogue()[0 if kind == "hardware" else 1]
    rows = []
    for spec in catalogue.values():
        row = {}
        for f in fields:
            v = getattr(spec, f.name, None)
            row[f.name] = v.isoformat() if isinstance(v, _dt.date) else v
        rows.append(row)
    columns = [{"name": f.name, "kind": f.kind, "unit": f.unit, "required": f.required, "min": f.min,
                "max": f.max, "description": f.description} for f in fields]
    return {"kind": kind, "columns": columns, "rows": rows}


def _g(v, fmt=",.0f") -> str:
    return "-" if v is None else format(v, fmt)


def _hardware_line(h: HardwareSpec) -> tuple:
    return (h.hardware_id, h.name, _g(h.memory_mib / 1024, ".1f"), _g(h.memory_bw_gbs), _g(h.bf16_tflops, ",.1f"),
            _g(h.fp8_tflops, ",.1f"), _g(h.fp4_tflops, ",.1f"), _g(h.tdp_w))


def _attention(m: ModelSpec) -> str:
    if m.mla_kv_lora_rank:
        kind = "MLA"
    elif m.linear_attention_layers:
        kind = f"hybrid {m.full_attention_layers} full + {m.linear_attention_layers} linear"
    elif m.sliding_window_layers:
        kind = f"{m.full_attention_layers} full + {m.sliding_window_layers} window {m.sliding_window_tokens:,}"
    else:
        kind = "GQA" if m.num_kv_heads < m.num_attention_heads else "MHA"
    return kind + (f", MoE {m.experts_per_token}/{m.num_experts}" if m.is_moe else "")


def _model_line(m: ModelSpec) -> tuple:
    kv = kv_layout(m, 2.0).bytes_per_token  # BF16 cache, growing part
    return (m.model_id, m.name, _g(m.total_params_b, ",.1f"), _g(m.active_params_b, ",.1f"), str(m.num_layers),
            _g(kv), _g(m.max_context_tokens), _attention(m))


def format_catalogue(kind: str, catalogue: dict | None = None) -> str:
    """Aligned text table of the catalogue's entries (the key columns; --json gives all of them)."""
    _fields(kind)
    if catalogue is None:
        catalogue = load_catalogue()[0 if kind == "hardware" else 1]
    if kind == "hardware":
        head = ("hardware_id", "name", "memory GiB", "GB/s", "BF16 TFLOPS", "FP8", "FP4", "TDP W")
        lines = [_hardware_line(h) for h in catalogue.values()]
    else:
        head = ("model_id", "name", "total B", "active B", "layers", "KV B/token (BF16)", "max context", "attention")
        lines = [_model_line(m) for m in catalogue.values()]
    table = [head, *lines]
    widths = [max(len(str(r[i])) for r in table) for i in range(len(head))]
    text_cols = {0, 1, len(head) - 1} if kind == "models" else {0, 1}
    out = []
    for r in table:
        cells = [f"{c:<{w}}" if i in text_cols else f"{c:>{w}}" for i, (c, w) in enumerate(zip(r, widths))]
        out.append("  ".join(cells).rstrip())
    out.append(f"{len(lines)} {'accelerators' if kind == 'hardware' else 'models'}; all columns with --json. Your own: "
               + ("--hardware-file PATH (CSV or JSON with these columns)" if kind == "hardware"
                  else "--model-config PATH (a Hugging Face config.json)"))
    return "\n".join(out)
