"""A model's catalogue row derived from its Hugging Face ``config.json``.

Parameters are counted from the config the way the shipped rows were (``tcomodel/data/models.csv``):
every weight matrix of the text decoder (attention or MLA projections, linear-attention projections,
dense and expert MLPs as gated three-matrix MLPs, routers, shared experts), RMSNorm weights, the
input embedding and a separate LM head unless ``tie_word_embeddings``. Biases are left out (< 0.1%).
``active`` = total - routed experts a token does not use, so it includes the embedding table, as the
catalogue's active counts do. A vision encoder (``vision_config``) is counted approximately, in
total and active alike, as the catalogue's Mistral Small 3.2 row counts its Pixtral encoder.
Multi-token-prediction layers are not counted (the catalogue leaves them out).

Architectures: dense GQA (Llama, Mistral, Qwen2/3), MoE with shared experts (Qwen2/3-MoE,
Qwen3-Next, Mixtral, gpt-oss), MLA (DeepSeek-V2/V3), sliding window (Mistral 7B, Gemma 3, gpt-oss)
and hybrid linear attention (Qwen3-Next Gated DeltaNet). Anything else is refused with the keys it
lacks (``ModelConfigError``), never guessed.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

from tcomodel.catalogue.specs import ModelSpec
from tcomodel.errors import UsageError

SUPPORTED = ("dense GQA/MHA (Llama, Mistral, Qwen2/3), MoE with shared experts (Qwen-MoE, Qwen3-Next, Mixtral, "
             "gpt-oss), MLA (DeepSeek-V2/V3), sliding window (Mistral 7B, Gemma 3, gpt-oss), hybrid linear "
             "attention (Qwen3-Next)")

# Keys of layer kinds the roofline does not model (state-space / convolution hybrids).
_UNSUPPORTED_KEYS = {
    "hybrid_override_pattern": "Mamba/attention hybrid (Nemotron-H)",
    "attn_layer_period": "Mamba/attention hybrid (Jamba)",
    "layers_block_type": "Mamba/attention hybrid",
    "mamba_d_state": "Mamba layers",
    "ssm_cfg": "state-space layers",
    "block_types": "mixed block types",
}
_LAYER_KINDS = {"full_attention": "full", "sliding_attention": "sliding", "linear_attention": "linear"}
# Activation functions of gated (three-matrix) MLPs; others are two-matrix (vision encoders only).
_GATED_ACTS = ("silu", "swiglu", "swish")


class ModelConfigError(UsageError):
    """A config.json the derivation cannot use; ``missing`` names the keys it lacks."""

    def __init__(self, message: str, missing: list[str] | None = None):
        super().__init__(message)
        self.missing = list(missing or [])


@dataclass(frozen=True)
class ParamCounts:
    """Parameters by part of the model (counts, not billions)."""

    embedding: float
    lm_head: float  # 0 when tied to the embedding
    attention: float  # full and sliding attention layers (MLA projections included)
    linear_attention: float
    dense_mlp: float
    shared_experts: float  # shared experts and their gates
    routed_experts: float  # every routed expert
    routed_experts_active: float  # the top-k a token uses
    router: float
    norms: float
    vision: float  # vision encoder + projector, approximate

    @property
    def total(self) -> float:
        return (self.embedding + self.lm_head + self.attention + self.linear_attention + self.dense_mlp
                + self.shared_experts + self.routed_experts + self.router + self.norms + self.vision)

    @property
    def active(self) -> float:
        return self.total - self.routed_experts + self.routed_experts_active


@dataclass(frozen=True)
class ConfigDerivation:
    """What a config.json gave: the spec, the counts behind it, and notes on defaults taken."""

    spec: ModelSpec
    params: ParamCounts
    architecture: str  # e.g. "dense", "moe+mla", "moe+hybrid-linear"
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        d = {"architecture": self.architecture, "params": asdict(self.params),
             "total_params": self.params.total, "active_params": self.params.active,
             "notes": list(self.notes), "spec": {k: v for k, v in self.spec.__dict__.items()}}
        d["spec"]["as_of"] = self.spec.as_of.isoformat() if self.spec.as_of else None
        return d


class _Keys:
    """Reads keys of one config dict, collecting every missing or malformed key before failing."""

    def __init__(self, cfg: Mapping[str, Any]):
        self.cfg = cfg
        self.missing: list[str] = []
        self.bad: list[str] = []

    def has(self, key: str) -> bool:
        return self.cfg.get(key) is not None

    def whole(self, key: str, default: Any = ..., lo: int = 1) -> int | None:
        value = self.cfg.get(key)
        if value is None:
            if default is ...:
                if key not in self.missing:
                    self.missing.append(key)
                return None
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < lo:
            self.bad.append(f"{key}={value!r} (expected a whole number of at least {lo})")
            return None
        return int(value)


def _text_config(cfg: Mapping[str, Any]) -> tuple[dict, dict | None]:
    """The decoder's keys (``text_config`` of a multimodal config, else the top level) and the vision keys."""
    text = cfg.get("text_config")
    if isinstance(text, Mapping):
        merged = dict(text)
        if merged.get("tie_word_embeddings") is None and cfg.get("tie_word_embeddings") is not None:
            merged["tie_word_embeddings"] = cfg["tie_word_embeddings"]
        for k in ("_name_or_path", "architectures"):
            merged.setdefault(k, cfg.get(k))
    else:
        merged = dict(cfg)
    vision = cfg.get("vision_config")
    return merged, (dict(vision) if isinstance(vision, Mapping) else None)


def _layer_kinds(k: _Keys, layers: int, notes: list[str]) -> list[str] | None:
    """Kind of each decoder layer: 'full', 'sliding' or 'linear'."""
    c = k.cfg
    types = c.get("layer_types")
    if types is not None:
        if not isinstance(types, list) or len(types) != layers:
            k.bad.append(f"layer_types (expected a list of num_hidden_layers={layers} entries)")
            return None
        unknown = sorted({str(t) for t in types if t not in _LAYER_KINDS})
        if unknown:
            raise ModelConfigError(f"layer_types holds layer kind(s) the roofline does not model: "
                                   f"{', '.join(unknown)}; known: {', '.join(_LAYER_KINDS)}")
        return [_LAYER_KINDS[t] for t in types]
    if c.get("full_attention_interval") is not None:  # Qwen3-Next: every n-th layer full, the rest linear
        n = k.whole("full_attention_interval")
        if n is None:
            return None
        return ["full" if (i + 1) % n == 0 else "linear" for i in range(layers)]
    window = c.get("sliding_window")
    if window is not None and c.get("use_sliding_window", True) is not False:
        pattern = c.get("sliding_window_pattern")
        if pattern is not None:  # Gemma 3: every n-th layer global (HF: (i + 1) % n == 0)
            n = k.whole("sliding_window_pattern")
            if n is None:
                return None
            return ["full" if (i + 1) % n == 0 else "sliding" for i in range(layers)]
        notes.append("sliding_window set and no layer_types: every layer is a sliding-window layer (as Mistral 7B v0.1)")
        return ["sliding"] * layers
    return ["full"] * layers


def _vision_params(vision: Mapping[str, Any], text_hidden: int, notes: list[str]) -> float:
    """Approximate vision encoder: layers x (4 h^2 + MLP) + patch embedding + one projection to the text width."""
    try:
        h = int(vision["hidden_size"])
        n = int(vision.get("num_hidden_layers") or vision.get("depth"))
        inter = int(vision["intermediate_size"])
    except (KeyError, TypeError, ValueError):
        notes.append("vision_config lacks hidden_size / num_hidden_layers / intermediate_size: vision encoder not counted")
        return 0.0
    mats = 3 if str(vision.get("hidden_act", "")).lower() in _GATED_ACTS else 2
    patch = int(vision.get("patch_size") or 14)
    chans = int(vision.get("num_channels") or 3)
    p = n * (4.0 * h * h + mats * h * inter + 2.0 * h) + chans * patch * patch * h + h * text_hidden
    notes.append(f"vision encoder counted approximately ({p / 1e9:.2f} B: {n} layers x (4 h^2 + {mats} h x "
                 f"intermediate) + patch embedding + projection), in total and active like the catalogue rows")
    return p


@dataclass
class _Shape:
    """The decoder's shape as read from a config (None where a part does not apply)."""

    hidden: int | None = None
    layers: int | None = None
    heads: int | None = None
    vocab: int | None = None
    max_ctx: int | None = None
    kv_heads: int | None = None
    head_dim: int | None = None
    tied: bool = False
    mla: bool = False  # DeepSeek multi-head latent attention
    kv_rank: int | None = None
    rope: int | None = None
    nope: int | None = None
    v_dim: int | None = None
    q_rank: int | None = None
    moe: bool = False
    e_key: str | None = None  # which key gave the expert count
    experts: int | None = None
    topk_key: str | None = None
    topk: int | None = None
    moe_inter: int | None = None
    n_moe: int = 0
    n_dense_mlp: int = 0
    dense_inter: int | None = None
    n_full: int = 0
    n_slide: int = 0
    n_lin: int = 0
    lin_kv: int | None = None
    lin_kk: int | None = None
    lin_dk: int | None = None
    lin_dv: int | None = None
    lin_conv: int | None = None
    window: int | None = None


def _read_attention(c: Mapping[str, Any], k: _Keys, notes: list[str]) -> _Shape:
    """Sizes, attention heads, embedding tying and MLA ranks (keys read in the order errors list them)."""
    s = _Shape()
    s.hidden = k.whole("hidden_size")
    s.layers = k.whole("num_hidden_layers")
    s.heads = k.whole("num_attention_heads")
    s.vocab = k.whole("vocab_size")
    s.max_ctx = k.whole("max_position_embeddings")
    if k.missing and len(k.missing) >= 3 and any(x in c for x in ("n_layer", "n_embd", "d_model", "num_layers")):
        raise ModelConfigError(
            f"config.json lacks {', '.join(k.missing)}: it looks like a GPT-2/T5-style config "
            f"(n_layer / d_model keys), which the roofline does not read; supported: {SUPPORTED}", k.missing)
    s.kv_heads = k.whole("num_key_value_heads", default=s.heads)
    if not k.has("num_key_value_heads"):
        notes.append("num_key_value_heads absent: one KV head per query head (MHA), as transformers assumes")
    s.head_dim = k.whole("head_dim", default=None)
    if s.head_dim is None and s.hidden and s.heads:
        s.head_dim = s.hidden // s.heads
    if c.get("tie_word_embeddings") is None:
        # transformers' defaults when the key is absent: Gemma configs tie, Llama/Mistral/Qwen/DeepSeek do not
        s.tied = str(c.get("model_type", "")).startswith("gemma")
        notes.append(f"tie_word_embeddings absent: taken as {str(s.tied).lower()} (the transformers default for "
                     f"model_type {c.get('model_type') or '(none)'})")
    else:
        s.tied = bool(c["tie_word_embeddings"])

    # --- MLA (DeepSeek) ---
    s.mla = c.get("kv_lora_rank") is not None
    if s.mla:
        s.kv_rank = k.whole("kv_lora_rank")
        s.rope = k.whole("qk_rope_head_dim", lo=0)
        s.nope = k.whole("qk_nope_head_dim")
        s.v_dim = k.whole("v_head_dim")
        s.q_rank = k.whole("q_lora_rank", default=None)
    return s


def _read_mlp(c: Mapping[str, Any], k: _Keys, s: _Shape) -> None:
    """Experts, top-k, which layers route to experts, and the MLP widths."""
    s.e_key = next((x for x in ("num_experts", "n_routed_experts", "num_local_experts") if c.get(x)), None)
    s.moe = s.e_key is not None
    if s.moe:
        s.experts = k.whole(s.e_key)
        s.topk_key = "num_experts_per_tok" if c.get("num_experts_per_tok") is not None or not c.get("experts_per_token") \
            else "experts_per_token"
        s.topk = k.whole(s.topk_key)
        s.moe_inter = k.whole("moe_intermediate_size") if s.e_key != "num_local_experts" else k.whole("intermediate_size")

    # Which layers route to experts (needs the layer count; a missing one is reported with the rest).
    layers = s.layers
    is_moe = [False] * (layers or 0)
    if s.moe and layers:
        if s.e_key == "n_routed_experts":  # DeepSeek: the first k layers dense, then every moe_layer_freq-th
            first_dense = k.whole("first_k_dense_replace", default=0, lo=0)
            freq = k.whole("moe_layer_freq", default=1)
            is_moe = [i >= (first_dense or 0) and i % (freq or 1) == 0 for i in range(layers)]
        else:  # Qwen: every decoder_sparse_step-th layer unless listed in mlp_only_layers
            step = k.whole("decoder_sparse_step", default=1)
            only = set(c.get("mlp_only_layers") or [])
            is_moe = [i not in only and (i + 1) % (step or 1) == 0 for i in range(layers)]
    s.n_moe = sum(is_moe)
    s.n_dense_mlp = (layers or 0) - s.n_moe
    s.dense_inter = k.whole("intermediate_size") if (s.n_dense_mlp or not s.moe) else None


def _read_layers(k: _Keys, s: _Shape, notes: list[str]) -> None:
    """Layer kinds (full, sliding, linear) and their keys; raises listing every missing key."""
    kinds = _layer_kinds(k, s.layers, notes) if s.layers else None
    if any(x == "linear" for x in (kinds or [])):
        s.lin_kv = k.whole("linear_num_value_heads")
        s.lin_kk = k.whole("linear_num_key_heads")
        s.lin_dk = k.whole("linear_key_head_dim")
        s.lin_dv = k.whole("linear_value_head_dim")
        s.lin_conv = k.whole("linear_conv_kernel_dim")
    if any(x == "sliding" for x in (kinds or [])):
        s.window = k.whole("sliding_window")
    if k.missing or k.bad or kinds is None:
        raise _missing_error(k)
    s.n_full, s.n_slide, s.n_lin = kinds.count("full"), kinds.count("sliding"), kinds.count("linear")
    if s.mla and (s.n_slide or s.n_lin):
        raise ModelConfigError("MLA (kv_lora_rank) together with sliding or linear layers is not modelled")


def _count_params(c: Mapping[str, Any], s: _Shape, vision, notes: list[str]) -> tuple[ParamCounts, float]:
    """Parameter counts by part, and the linear-attention state bytes per sequence."""
    h = float(s.hidden)
    embedding = s.vocab * h
    lm_head = 0.0 if s.tied else s.vocab * h
    heads, head_dim = s.heads, s.head_dim
    if s.mla:
        q_dim = heads * (s.nope + s.rope)
        q = (h * s.q_rank + s.q_rank + s.q_rank * q_dim) if s.q_rank else h * q_dim  # (+ q_a_layernorm)
        kv = h * (s.kv_rank + s.rope) + s.kv_rank + s.kv_rank * heads * (s.nope + s.v_dim)  # (+ kv_a_layernorm)
        attn_layer = q + kv + heads * s.v_dim * h
    else:
        gate = c.get("attn_output_gate")
        gated = bool(gate) if gate is not None else c.get("model_type") == "qwen3_next"
        if gated:
            notes.append("attention output gate: q_proj is twice the query width (Qwen3-Next)")
        q_width = heads * head_dim * (2 if gated else 1)
        attn_layer = h * q_width + 2.0 * h * s.kv_heads * head_dim + heads * head_dim * h
    attention = attn_layer * (s.n_full + s.n_slide)
    linear_attention = 0.0
    state_bytes = 0.0
    if s.n_lin:
        lin_kv, lin_dk, lin_dv, lin_conv = s.lin_kv, s.lin_dk, s.lin_dv, s.lin_conv
        key_dim, value_dim = s.lin_kk * lin_dk, lin_kv * lin_dv
        conv_dim = 2 * key_dim + value_dim
        # Gated DeltaNet: in_proj_qkvz, in_proj_ba, conv1d, A_log + dt_bias, gated norm, out_proj
        per = (h * (2 * key_dim + 2 * value_dim) + h * 2 * lin_kv + conv_dim * lin_conv + 2 * lin_kv + lin_dv
               + value_dim * h)
        linear_attention = per * s.n_lin
        # state per sequence: recurrent lin_kv x dk x dv + conv (kernel - 1) x conv_dim per layer
        ssm_bytes = 4.0 if str(c.get("mamba_ssm_dtype", "")).lower() in ("float32", "fp32") else 2.0
        state_bytes = s.n_lin * (lin_kv * lin_dk * lin_dv * ssm_bytes + conv_dim * (lin_conv - 1) * 2.0)
    dense_mlp = 3.0 * h * s.dense_inter * s.n_dense_mlp if s.n_dense_mlp else 0.0
    shared = routed = routed_active = router = 0.0
    if s.moe:
        n_moe = s.n_moe
        per_expert = 3.0 * h * s.moe_inter
        routed = per_expert * s.experts * n_moe
        routed_active = per_expert * s.topk * n_moe
        router = h * s.experts * n_moe
        if c.get("shared_expert_intermediate_size"):  # Qwen: one shared expert with a sigmoid gate
            shared = (3.0 * h * int(c["shared_expert_intermediate_size"]) + h) * n_moe
        elif c.get("n_shared_experts"):  # DeepSeek: n shared experts of the routed size
            shared = per_expert * int(c["n_shared_experts"]) * n_moe
    norms = 2.0 * h * s.layers + h
    vision_p = _vision_params(vision, s.hidden, notes) if vision else 0.0
    counts = ParamCounts(embedding, lm_head, attention, linear_attention, dense_mlp, shared, routed, routed_active,
                         router, norms, vision_p)
    return counts, state_bytes


def derive(config: Mapping[str, Any], *, model_id: str | None = None, name: str | None = None,
           source: str = "config.json", as_of: _dt.date | None = None, hf_repo: str | None = None) -> ConfigDerivation:
    """The ModelSpec of a config.json's contents; raises ModelConfigError naming missing keys."""
    if not isinstance(config, Mapping):
        raise ModelConfigError("config.json must hold a JSON object (the model's configuration)")
    c, vision = _text_config(config)
    for key, what in _UNSUPPORTED_KEYS.items():
        if c.get(key) is not None:
            raise ModelConfigError(f"config.json has '{key}': {what}, which the roofline does not model; "
                                   f"supported: {SUPPORTED}")
    notes: list[str] = []
    k = _Keys(c)
    s = _read_attention(c, k, notes)
    _read_mlp(c, k, s)
    _read_layers(k, s, notes)
    counts, state_bytes = _count_params(c, s, vision, notes)
    if s.moe and s.topk > s.experts:
        raise ModelConfigError(f"{s.topk_key}={s.topk} exceeds {s.e_key}={s.experts}")
    quant = c.get("quantization_config") or config.get("quantization_config")
    if isinstance(quant, Mapping) and quant.get("quant_method"):
        notes.append(f"checkpoint is quantized (quant_method {quant['quant_method']}); pass the matching --precision")

    moe, mla, n_slide, n_lin = s.moe, s.mla, s.n_slide, s.n_lin
    arch = "+".join(x for x in ("moe" if moe else "dense", "mla" if mla else "", "hybrid-linear" if n_lin else "",
                                "sliding-window" if n_slide else "", "vision" if counts.vision else "") if x)
    repo = str(c.get("_name_or_path") or "")
    hf_repo = hf_repo or (repo if re.fullmatch(r"[\w.\-]+/[\w.\-]+", repo) else None)
    name = name or (repo.rstrip("/").split("/")[-1] if repo else None) or model_id or "custom model"
    mid = model_id or model_id_from(name)
    spec = ModelSpec(
        model_id=mid, name=name, hf_repo=hf_repo,
        total_params_b=counts.total / 1e9, active_params_b=counts.active / 1e9,
        bf16_params_b=(counts.embedding + counts.lm_head) / 1e9,
        num_layers=s.layers, hidden_size=s.hidden, num_attention_heads=s.heads, num_kv_heads=s.kv_heads,
        head_dim=(s.v_dim if mla else s.head_dim),
        full_attention_layers=s.n_full,
        sliding_window_tokens=s.window if n_slide else None, sliding_window_layers=n_slide,
        linear_attention_layers=n_lin, linear_state_bytes_per_seq=state_bytes,
        mla_kv_lora_rank=s.kv_rank if mla else None, mla_qk_rope_head_dim=s.rope if mla else None,
        num_experts=s.experts if moe else None, experts_per_token=s.topk if moe else None,
        moe_layers=s.n_moe if moe else None,
        expert_params_b=(counts.routed_experts / 1e9) if moe else None,
        attention_params_b=(counts.attention + counts.linear_attention) / 1e9,
        max_context_tokens=s.max_ctx, vocab_size=s.vocab, tie_word_embeddings=int(s.tied), quality_score=None,
        source=f"{source}: derived by tcomodel ({arch}; total {counts.total / 1e9:.3f} B, "
               f"active {counts.active / 1e9:.3f} B incl. embeddings)",
        as_of=as_of or _dt.date.today(),
    )
    return ConfigDerivation(spec, counts, arch, tuple(notes))


def _missing_error(k: _Keys) -> ModelConfigError:
    parts = []
    if k.missing:
        parts.append(f"lacks {', '.join(k.missing)}")
    if k.bad:
        parts.append(f"has bad value(s) {'; '.join(k.bad)}")
    return ModelConfigError(f"config.json {' and '.join(parts)}; supported architectures: {SUPPORTED}", k.missing)


def model_id_from(text: str) -> str:
    """A lowercase-hyphen catalogue id from a model name or path ('Qwen/Qwen3-8B' -> 'qwen3-8b')."""
    slug = re.sub(r"[^a-z0-9.]+", "-", text.split("/")[-1].lower()).strip("-.")
    slug = re.sub(r"[.\-]{2,}", "-", slug)
    return slug or "custom-model"


def _name_from_path(path: Path) -> str | None:
    """A model name from where config.json sits: a hub cache folder models--org--name, else its folder."""
    for part in reversed(path.resolve().parts):
        if part.startswith("models--"):
            return part[len("models--"):].replace("--", "/")
    parent = path.resolve().parent.name
    if path.stem != "config" and path.stem:
        return path.stem
    return parent or None


def read_config(path: str | Path) -> dict:
    """The JSON object in ``path``; ModelConfigError (no traceback) if unreadable."""
    p = Path(path)
    if p.is_dir():
        p = p / "config.json"
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelConfigError(f"{p}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelConfigError(f"{p}: cannot be read ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelConfigError(f"{p}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(data, dict):
        raise ModelConfigError(f"{p}: must hold a JSON object (the model's configuration), not {type(data).__name__}")
    return data


def load_model_config(path: str | Path, *, model_id: str | None = None, name: str | None = None) -> ConfigDerivation:
    """Derive a model from the config.json at ``path`` (a file, or a folder holding config.json).

    Errors name the file and the missing keys (``ModelConfigError``, a ``UsageError``: exit status 2).
    """
    p = Path(path)
    if p.is_dir():
        p = p / "config.json"
    cfg = read_config(p)
    text, _ = _text_config(cfg)
    repo = None
    if not name and not text.get("_name_or_path"):
        name = _name_from_path(p)
        repo = name if name and "/" in name else None  # from a hub cache folder models--org--name
    try:
        return derive(cfg, model_id=model_id, name=name, source=f"config.json {p}", hf_repo=repo)
    except ModelConfigError as exc:
        raise ModelConfigError(f"{p}: {exc}", exc.missing) from None




def model_from_row(row: Mapping[str, Any], base_dir: str | Path) -> ModelSpec:
    """A Models-sheet row with ``config_json``: the derived spec, with the row's filled cells winning.

    A relative ``config_json`` resolves against ``base_dir`` (the scenario workbook's folder).
    """
    p = Path(str(row["config_json"]).strip()).expanduser()
    if not p.is_absolute():
        p = Path(base_dir) / p
    if not p.exists():
        raise ModelConfigError(f"file not found (looked for {p})")
    if p.is_dir() and not (p / "config.json").is_file():
        raise ModelConfigError(f"folder {p} holds no config.json")
    try:
        d = load_model_config(p, model_id=row.get("model_id"), name=row.get("name"))
    except ModelConfigError as exc:
        raise ModelConfigError(str(exc).replace(f"{p if not p.is_dir() else p / 'config.json'}: ", "", 1),
                               exc.missing) from None
    fields = set(d.spec.__dataclass_fields__)
    return d.spec.replace(**{k: v for k, v in row.items() if k in fields and v is not None})
