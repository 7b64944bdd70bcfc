"""Memory side of the roofline: weight bytes, KV/state bytes, usable memory, concurrency.

All functions are plain arithmetic on specs so tests can re-derive them by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tcomodel.catalogue import ModelSpec
from tcomodel.roofline.precision import COMPONENTS

GB = 1e9  # decimal gigabytes, as vendors quote bandwidth (device memory is binary: catalogue MiB)


@dataclass(frozen=True)
class Weights:
    """Weight bytes of the whole model split into the part every token reads and the routed experts.

    ``dense_bytes`` holds every non-expert weight, including a separate input-embedding table
    (``embed_bytes``). That table is in memory but a decode step only gathers one row of it per
    token, so ``bytes_read`` counts ``embed_row_bytes`` per token instead of the table. The LM head
    (vocab x hidden; the same matrix when embeddings are tied) is a matmul read in full each step.
    """

    total_params: float
    active_params: float  # as catalogued: includes the input-embedding table
    dense_params: float  # not routed (attention, shared experts, norms, embeddings, LM head)
    expert_params: float  # routed experts, all of them
    route_share: float  # k / E (0 for dense models)
    bits_per_weight: float
    dense_bytes: float
    expert_bytes: float
    embed_params: float = 0.0  # separate input-embedding table (0 if tied, unknown, or what-if counts)
    embed_bytes: float = 0.0
    embed_row_bytes: float = 0.0  # one row (hidden x bytes per weight), gathered per token

    @property
    def total_bytes(self) -> float:
        return self.dense_bytes + self.expert_bytes

    @property
    def matmul_params(self) -> float:
        """Active parameters that take part in matmuls (2 FLOPs each per token): active - gathered table."""
        return self.active_params - self.embed_params

    def touched_share(self, tokens: int) -> float:
        """Expected share of routed experts a step of ``tokens`` tokens touches: 1 - (1 - k/E)^B."""
        if self.route_share <= 0:
            return 0.0
        return 1.0 - (1.0 - self.route_share) ** max(tokens, 1)

    def embed_read(self, tokens: int) -> float:
        """Embedding bytes a step of ``tokens`` tokens gathers: one row per token, at most the table."""
        return min(self.embed_bytes, max(tokens, 1) * self.embed_row_bytes)

    def bytes_read(self, tokens: int) -> float:
        """Weight bytes one step of ``tokens`` tokens reads: dense (minus the embedding table) +
        gathered embedding rows + experts x share touched."""
        return (self.dense_bytes - self.embed_bytes + self.embed_read(tokens)
                + self.expert_bytes * self.touched_share(tokens))


def component_params(model: ModelSpec, total: float, expert: float) -> dict[str, float]:
    """Parameters per component: routed experts, dense MLP (the rest: dense FFNs, shared experts,
    routers, norms), attention (incl. linear attention), input-embedding table, LM head."""
    embed = model.input_embedding_params
    head = float(model.vocab_size) * float(model.hidden_size) if model.vocab_size else 0.0
    if model.attention_params_b is not None:
        attention = model.attention_params_b * 1e9
    else:
        attention = (float(model.num_layers) * model.hidden_size * 2
                     * (model.num_attention_heads + model.num_kv_heads) * model.head_dim)
    mlp = max(total - expert - attention - embed - head, 0.0)
    return {"experts": expert, "mlp": mlp, "attention": attention, "embed": embed, "head": head}


def weights(model: ModelSpec, bits_per_weight: float, *, bits_apply_to_all: bool = False,
            total_params_b: float | None = None, active_params_b: float | None = None,
            component_bits: dict[str, float] | None = None) -> Weights:
    """Weight bytes at ``bits_per_weight``; ``bf16_params_b`` stays at 16 bits unless ``bits_apply_to_all``.

    Routed experts are the catalogued ``expert_params_b`` (counted from the config) when given;
    the active count is then derived, total - experts x (1 - k/E), so the card's own "active"
    convention (with or without embeddings) cannot double-count. Without it the expert share is
    derived from total, active and k/E: experts = (total - active) / (1 - k/E).

    ``component_bits`` (precision presets and GGUF schemes, see precision.component_bits) sets
    bits per component instead: experts, dense MLP, attention, input embedding, LM head.

    A separate (untied) input-embedding table of vocab_size x hidden_size is split out so that a
    step reads one row of it per token, not the table (``Weights.bytes_read``); it is counted
    first within ``bf16_params_b`` (which covers embeddings + LM head). Memory still holds it all.
    What-if parameter counts (``total_params_b`` / ``active_params_b``) are taken as given,
    back-of-envelope style: every active parameter is read per token, no embedding split.
    """
    total = (total_params_b if total_params_b is not None else model.total_params_b) * 1e9
    active = (active_params_b if active_params_b is not None else model.active_params_b) * 1e9
    if total_params_b is not None and active_params_b is None and not model.is_moe:
        active = total  # a dense model's active count follows its size
    active = min(active, total)
    share = model.experts_per_token / model.num_experts if model.is_moe else 0.0
    what_if = total_params_b is not None or active_params_b is not None
    if share > 0 and model.expert_params_b and not what_if:
        expert = min(model.expert_params_b * 1e9, total)
        active = total - expert * (1.0 - share)
    elif share > 0 and total > active:
        expert = (total - active) / (1.0 - share)
        expert = min(expert, total)
    else:
        expert, share = 0.0, 0.0
    dense = total - expert
    if component_bits is not None and not bits_apply_to_all and not what_if:
        parts = component_params(model, total, expert)
        part_bytes = {c: parts[c] * component_bits[c] / 8.0 for c in COMPONENTS}
        expert_bytes = part_bytes["experts"]
        dense_bytes = sum(part_bytes.values()) - expert_bytes
        embed, embed_bytes = parts["embed"], part_bytes["embed"]
        row = embed_bytes / model.vocab_size if embed else 0.0
        average_bits = (dense_bytes + expert_bytes) * 8.0 / total
        return Weights(total, active, dense, expert, share, average_bits, dense_bytes, expert_bytes,
                       embed, embed_bytes, row)
    bf16 = 0.0 if (bits_apply_to_all or bits_per_weight >= 16) else (model.bf16_params_b or 0.0) * 1e9
    bf16 = min(bf16, total)
    bf16_dense = min(bf16, dense)
    bf16_expert = bf16 - bf16_dense
    q = bits_per_weight / 8.0
    dense_bytes = bf16_dense * 2.0 + (dense - bf16_dense) * q
    expert_bytes = bf16_expert * 2.0 + (expert - bf16_expert) * q
    embed = 0.0 if what_if else min(model.input_embedding_params, dense, active)
    embed_bf16 = min(bf16_dense, embed)
    embed_bytes = embed_bf16 * 2.0 + (embed - embed_bf16) * q
    row = embed_bytes / model.vocab_size if embed else 0.0
    return Weights(total, active, dense, expert, share, bits_per_weight, dense_bytes, expert_bytes,
                   embed, embed_bytes, row)


@dataclass(frozen=True)
class KvLayout:
    """Per-sequence cache: grows per token (full attention / MLA), capped (sliding), fixed (state)."""

    bytes_per_token: float  # growing part
    sliding_bytes_per_token: float  # per token of sliding-window layers, up to the window
    window: int
    state_bytes: float  # linear-attention / SSM recurrent state, per sequence
    mla: bool
    kv_heads: int

    def sliding_bytes(self, context: int) -> float:
        return self.sliding_bytes_per_token * min(context, self.window) if self.window else 0.0

    def fixed_bytes(self, context: int) -> float:
        """Part that stops growing: sliding layers at min(context, window) + recurrent state."""
        return self.sliding_bytes(context) + self.state_bytes

    def per_sequence(self, context: int) -> float:
        return self.bytes_per_token * context + self.fixed_bytes(context)

    def replication(self, tp: int) -> float:
        """How many copies of a sequence's cache a TP group holds (KV heads split, MLA latent replicated)."""
        if self.mla:
            return float(tp)
        return max(1.0, tp / max(self.kv_heads, 1))


def kv_layout(model: ModelSpec, kv_bytes: float, kv_bytes_per_token_override: float | None = None) -> KvLayout:
    """KV = 2 x full layers x KV heads x head dim x bytes per token; MLA = layers x (rank + rope) x bytes.

    A ``kv_bytes_per_token_override`` is a what-if for everything per sequence: it replaces the
    growing KV and drops the sliding and state parts (the back-of-envelope quotes one figure).
    """
    mla = bool(model.mla_kv_lora_rank)
    if kv_bytes_per_token_override is not None:
        return KvLayout(kv_bytes_per_token_override, 0.0, 0, 0.0, mla, model.num_kv_heads)
    if mla:
        per_token = model.num_layers * (model.mla_kv_lora_rank + (model.mla_qk_rope_head_dim or 0)) * kv_bytes
    else:
        per_token = 2 * model.full_attention_layers * model.num_kv_heads * model.head_dim * kv_bytes
    sw_layers = model.sliding_window_layers or 0
    window = model.sliding_window_tokens or 0
    sliding = 2 * sw_layers * model.num_kv_heads * model.head_dim * kv_bytes if (sw_layers and window) else 0.0
    # Recurrent state is kept at BF16 whatever the KV dtype (vLLM mamba_ssm_cache_dtype "auto").
    state = model.linear_state_bytes_per_seq or 0.0
    return KvLayout(per_token, sliding, window if sliding else 0, state, mla, model.num_kv_heads)


@dataclass(frozen=True)
class MemoryPlan:
    """Per GPU of a TP group, all in bytes (``*_gb`` properties are decimal GB for display)."""

    usable_bytes: float  # for weights + cache
    weights_bytes_per_gpu: float
    kv_room_bytes: float  # left for cache after the weights held on the GPU
    seq_bytes_per_gpu: float  # one sequence's cache share at the sizing context
    fits: bool  # all weights on the GPUs with room for at least one sequence
    offloaded_bytes_per_gpu: float
    max_concurrency: int  # per replica (TP group)

    @property
    def usable_gb(self) -> float:
        return self.usable_bytes / GB

    @property
    def weights_gb_per_gpu(self) -> float:
        return self.weights_bytes_per_gpu / GB

    @property
    def offloaded_gb_per_gpu(self) -> float:
        return self.offloaded_bytes_per_gpu / GB


def plan_memory(memory_bytes: float, engine, weights_bytes_per_gpu: float, seq_bytes_per_gpu: float) -> MemoryPlan:
    """Usable memory, fit, offload and concurrency for one GPU of a TP group, in bytes.

    ``memory_bytes`` is what the device exposes (MiB x 2^20 as nvidia-smi reports: an "80 GB" A100
    is 80 GiB). vLLM/SGLang style: usable = memory x utilization - reserve, shared by weights and
    cache. TensorRT-LLM style: cache gets utilization x (memory - reserve - weights).
    Weights that do not fit leave room for one sequence; the rest is offloaded to the host.
    """
    u, r = engine.mem_utilization, engine.reserve_bytes
    seq = seq_bytes_per_gpu
    if engine.kv_fraction_of_free:
        usable = memory_bytes - r

        def room(w):
            return u * (usable - w)

        weight_cap = usable - seq / u
    else:
        usable = memory_bytes * u - r

        def room(w):
            return usable - w

        weight_cap = usable - seq
    fits = room(weights_bytes_per_gpu) >= seq * (1 - 1e-12)
    on_gpu = weights_bytes_per_gpu if fits else max(0.0, weight_cap)
    offloaded = weights_bytes_per_gpu - on_gpu
    kv_room = room(on_gpu)
    conc = int(math.floor(kv_room / seq + 1e-9)) if seq > 0 else 10**9
    return MemoryPlan(usable, weights_bytes_per_gpu, kv_room, seq, fits, offloaded, max(conc, 0))
