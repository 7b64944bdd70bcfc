"""Hardware and model catalogue: field contract, typed specs, loading and overrides.

The scenario workbook's Hardware and Models sheets have exactly the columns of ``HARDWARE_FIELDS``
and ``MODEL_FIELDS``; a workbook row adds to, or replaces by id, a catalogue row
(``merge_overrides``). The shipped rows live in ``tcomodel/data/hardware.csv`` and ``models.csv``;
every row names its source and the date it was catalogued. Compute figures are DENSE (no 2:4
sparsity), as in ``reference/data/gpus.csv``, at the FP32-accumulate rate engines use. Memory is the
total the device exposes in MiB (nvidia-smi), not the marketing "GB".
"""

from __future__ import annotations

import csv
import datetime as _dt
import re
from dataclasses import dataclass, fields as _dc_fields
from importlib import resources
from typing import Any, Iterable, Mapping

from tcomodel.errors import UsageError

MIB = 2 ** 20  # bytes per MiB (nvidia-smi's unit)
GIB = 2 ** 30


@dataclass(frozen=True)
class Field:
    """One column of the Hardware or Models sheet."""

    name: str
    kind: str  # "id", "text", "number", "integer", "date"
    unit: str
    required: bool
    min: float | None
    max: float | None
    description: str


def _f(name, kind, unit, required, lo, hi, description):
    return Field(name, kind, unit, required, lo, hi, description)


HARDWARE_FIELDS: list[Field] = [
    _f("hardware_id", "id", "", True, None, None, "Lowercase-hyphen id, e.g. a100-sxm-80gb"),
    _f("name", "text", "", True, None, None, "Product name"),
    _f("vendor", "text", "", True, None, None, "NVIDIA, AMD, Intel, Apple, ..."),
    _f("arch", "text", "", False, None, None,
       "Architecture the engines' kernels key on: NVIDIA sm80/sm86/sm89/sm90/sm100/sm120 (compute capability), "
       "AMD gfx942/gfx950, apple-m2, gaudi3; selects the kernel path (roofline/kernels.py); blank = no rule applies"),
    _f("memory_mib", "number", "MiB", True, 1024, 4194304,
       "Memory the device exposes, MiB as nvidia-smi reports memory.total (an '80 GB' A100 = 81,920 MiB; "
       "unified memory for Apple); engines take their utilization fraction of it"),
    _f("memory_bw_gbs", "number", "GB/s", True, 10, 100000, "Peak memory bandwidth per device"),
    _f("fp32_tflops", "number", "TFLOPS", False, 0.1, 10000, "Dense FP32 (fallback compute where there are no tensor cores)"),
    _f("bf16_tflops", "number", "TFLOPS", False, 0.1, 100000, "Dense BF16/FP16 tensor rate (FP32 accumulate)"),
    _f("fp16_acc_tflops", "number", "TFLOPS", False, 0.1, 100000,
       "Dense FP16 tensor rate with FP16 accumulate where it differs (GeForce: twice bf16_tflops); blank = bf16_tflops"),
    _f("fp8_tflops", "number", "TFLOPS", False, 0.1, 100000, "Dense FP8 tensor rate; blank = no FP8 tensor cores"),
    _f("int8_tops", "number", "TOPS", False, 0.1, 100000, "Dense INT8 tensor rate"),
    _f("fp4_tflops", "number", "TFLOPS", False, 0.1, 100000, "Dense FP4 tensor rate; blank = no FP4 tensor cores"),
    _f("tdp_w", "number", "W", False, 1, 5000, "Board/module power (TDP/TGP)"),
    _f("host_link_gbs", "number", "GB/s", False, 1, 10000, "Host link bandwidth per direction (PCIe Gen4 x16 ~32, Gen5 x16 ~64)"),
    _f("interconnect_gbs", "number", "GB/s", False, 1, 100000, "GPU-GPU link, bidirectional aggregate (NVLink); blank = PCIe only"),
    _f("price_usd", "number", "USD", False, 0, 10000000, "Indicative unit price (order of magnitude for datacenter parts)"),
    _f("source", "text", "", True, None, None, "Where the figures come from"),
    _f("as_of", "date", "yyyy-mm-dd", True, None, None, "Date the figures were catalogued"),
]

MODEL_FIELDS: list[Field] = [
    _f("model_id", "id", "", True, None, None, "Lowercase-hyphen id, e.g. llama-3.1-70b"),
    _f("name", "text", "", True, None, None, "Model name"),
    _f("hf_repo", "text", "", False, None, None, "Hugging Face repository"),
    _f("total_params_b", "number", "B params", True, 0.01, 100000, "All parameters (weights held in memory)"),
    _f("active_params_b", "number", "B params", True, 0.01, 100000, "Parameters used per token (= total for dense models)"),
    _f("bf16_params_b", "number", "B params", False, 0, 100000, "Parameters kept in BF16 when the rest is quantized (embeddings, LM head)"),
    _f("expert_params_b", "number", "B params", False, 0, 100000, "Routed-expert parameters, all experts (from the config: MoE layers x experts x 3 x hidden x expert FFN); blank = derived from total, active and k/E"),
    _f("attention_params_b", "number", "B params", False, 0, 100000, "Attention parameters incl. linear-attention layers; blank = layers x hidden x 2 x (heads + KV heads) x head dim"),
    _f("num_layers", "integer", "", True, 1, 1000, "Transformer layers"),
    _f("hidden_size", "integer", "", True, 1, 1000000, "Model width (for TP all-reduce size)"),
    _f("num_attention_heads", "integer", "", True, 1, 10000, "Query heads (attention FLOPs)"),
    _f("num_kv_heads", "integer", "", True, 1, 10000, "KV heads (GQA)"),
    _f("head_dim", "integer", "", True, 1, 10000, "Head dimension"),
    _f("full_attention_layers", "integer", "", True, 0, 1000, "Layers whose KV cache grows with context"),
    _f("sliding_window_tokens", "integer", "tokens", False, 1, 10000000, "Window of sliding-window layers"),
    _f("sliding_window_layers", "integer", "", False, 0, 1000, "Layers with KV capped at the window"),
    _f("linear_attention_layers", "integer", "", False, 0, 1000, "Linear-attention / SSM layers (fixed state)"),
    _f("linear_state_bytes_per_seq", "number", "bytes", False, 0, 1e12, "Fixed recurrent state per sequence (all linear layers)"),
    _f("mla_kv_lora_rank", "integer", "", False, 1, 100000, "MLA latent rank (DeepSeek); set = KV is latent"),
    _f("mla_qk_rope_head_dim", "integer", "", False, 0, 100000, "MLA decoupled RoPE dim"),
    _f("num_experts", "integer", "", False, 1, 100000, "Routed experts per MoE layer (blank = dense)"),
    _f("experts_per_token", "integer", "", False, 1, 100000, "Routed experts chosen per token (top-k)"),
    _f("moe_layers", "integer", "", False, 0, 1000, "Layers with routed experts"),
    _f("max_context_tokens", "integer", "tokens", True, 1, 100000000, "Longest supported context"),
    _f("vocab_size", "integer", "tokens", False, 1, 100000000,
       "Vocabulary size (config.json vocab_size); with hidden_size sizes the embedding table and LM head"),
    _f("tie_word_embeddings", "integer", "0/1", False, 0, 1,
       "1 = input embedding and LM head are one matrix (config.json tie_word_embeddings); 0 or blank = separate"),
    _f("quality_score", "number", "%", False, 0, 100, "Optional benchmark score (e.g. GPQA %) for cost per correct answer"),
    _f("source", "text", "", True, None, None, "Where the figures come from"),
    _f("as_of", "date", "yyyy-mm-dd", True, None, None, "Date the figures were catalogued"),
]

_ID_RE = re.compile(r"^[a-z0-9]+(?:[.\-][a-z0-9]+)*$")


@dataclass(frozen=True)
class HardwareSpec:
    hardware_id: str
    name: str
    vendor: str
    memory_mib: float
    memory_bw_gbs: float
    fp32_tflops: float | None
    bf16_tflops: float | None
    fp8_tflops: float | None
    int8_tops: float | None
    fp4_tflops: float | None
    tdp_w: float | None
    host_link_gbs: float | None
    interconnect_gbs: float | None
    price_usd: float | None
    source: str
    as_of: _dt.date
    arch: str | None = None
    fp16_acc_tflops: float | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "HardwareSpec":
        return cls(**{f.name: row.get(f.name) for f in _dc_fields(cls)})

    def replace(self, **changes) -> "HardwareSpec":
        return type(self)(**{**self.__dict__, **changes})

    @property
    def memory_bytes(self) -> float:
        """Device memory in bytes: MiB x 2^20 (memory sizes are binary, DESIGN.md section 6)."""
        return float(self.memory_mib) * MIB


@dataclass(frozen=True)
class ModelSpec:
    model_id: str
    name: str
    hf_repo: str | None
    total_params_b: float
    active_params_b: float
    bf16_params_b: float | None
    expert_params_b: float | None
    attention_params_b: float | None
    num_layers: int
    hidden_size: int
    num_attention_heads: int
    num_kv_heads: int
    head_dim: int
    full_attention_layers: int
    sliding_window_tokens: int | None
    sliding_window_layers: int | None
    linear_attention_layers: int | None
    linear_state_bytes_per_seq: float | None
    mla_kv_lora_rank: int | None
    mla_qk_rope_head_dim: int | None
    num_experts: int | None
    experts_per_token: int | None
    moe_layers: int | None
    max_context_tokens: int
    vocab_size: int | None
    tie_word_embeddings: int | None
    quality_score: float | None
    source: str
    as_of: _dt.date

    def __post_init__(self):
        parts = (self.expert_params_b or 0) + (self.attention_params_b or 0)
        if self.total_params_b is not None and parts > self.total_params_b * (1 + 1e-9):
            raise ValueError(f"expert_params_b + attention_params_b = {parts:g} B exceeds "
                             f"total_params_b = {self.total_params_b:g} B")

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "ModelSpec":
        return cls(**{f.name: row.get(f.name) for f in _dc_fields(cls)})

    def replace(self, **changes) -> "ModelSpec":
        return type(self)(**{**self.__dict__, **changes})

    @property
    def input_embedding_params(self) -> float:
        """Parameters of a separate input-embedding table (vocab x hidden; 0 if tied or vocab unknown).

        Decode gathers one row of it per token, so it is held in memory but not streamed per step;
        the LM head (vocab x hidden, the same matrix when tied) is read in full every step.
        """
        if not self.vocab_size or self.tie_word_embeddings:
            return 0.0
        return float(self.vocab_size) * float(self.hidden_size)

    @property
    def is_moe(self) -> bool:
        return bool(self.num_experts and self.experts_per_token and self.num_experts > self.experts_per_token)


def _convert(field: Field, raw: str, where: str) -> Any:
    """Typed value of one CSV cell (blank -> None)."""
    text = (raw or "").strip()
    if text == "":
        if field.required:
            raise ValueError(f"{where}: {field.name} is required")
        return None
    if field.kind in ("id", "text"):
        if field.kind == "id" and not _ID_RE.match(text):
            raise ValueError(f"{where}: id {text!r} is not lowercase-hyphen")
        return text
    if field.kind == "date":
        return _dt.date.fromisoformat(text)
    value = float(text)
    if field.kind == "integer":
        if value != int(value):
            raise ValueError(f"{where}: {field.name} must be a whole number")
        value = int(value)
    if (field.min is not None and value < field.min) or (field.max is not None and value > field.max):
        raise ValueError(f"{where}: {field.name}={value} is outside the allowed range: from {field.min} to {field.max}")
    return value


def _read_rows(filename: str, fields_: list[Field]) -> list[dict[str, Any]]:
    text = resources.files("tcomodel.data").joinpath(filename).read_text(encoding="utf-8")
    reader = csv.DictReader(text.splitlines())
    names = [f.name for f in fields_]
    if reader.fieldnames != names:
        raise ValueError(f"{filename}: columns {reader.fieldnames} != field contract {names}")
    rows = []
    for i, raw in enumerate(reader, start=2):
        rows.append({f.name: _convert(f, raw[f.name], f"{filename}:{i}") for f in fields_})
    return rows


HARDWARE_CATALOGUE_ROWS: list[dict[str, Any]] = _read_rows("hardware.csv", HARDWARE_FIELDS)
MODEL_CATALOGUE_ROWS: list[dict[str, Any]] = _read_rows("models.csv", MODEL_FIELDS)


def load_catalogue() -> tuple[dict[str, HardwareSpec], dict[str, ModelSpec]]:
    """The shipped catalogue: (hardware by id, models by id)."""
    hardware = {r["hardware_id"]: HardwareSpec.from_row(r) for r in HARDWARE_CATALOGUE_ROWS}
    models = {r["model_id"]: ModelSpec.from_row(r) for r in MODEL_CATALOGUE_ROWS}
    return hardware, models


def merge_overrides(base: Mapping[str, Any], rows: Iterable[Mapping[str, Any] | HardwareSpec | ModelSpec]) -> dict:
    """Catalogue ``base`` (id -> spec) with workbook ``rows`` added or replacing by id.

    Rows are typed dicts (or specs); their kind (hardware or model) follows ``base``'s values, or
    the id key present in the row when ``base`` is empty.
    """
    merged = dict(base)
    for row in rows:
        if isinstance(row, (HardwareSpec, ModelSpec)):
            spec = row
        elif "hardware_id" in row:
            spec = HardwareSpec.from_row(row)
        elif "model_id" in row:
            spec = ModelSpec.from_row(row)
        else:
            raise UsageError("override row has neither hardware_id nor model_id")
        key = spec.hardware_id if isinstance(spec, HardwareSpec) else spec.model_id
        merged[key] = spec
    return merged
