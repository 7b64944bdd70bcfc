"""Readable, aligned text table of an Estimate (used by ``tcomodel roofline``)."""

from __future__ import annotations

from tcomodel.roofline.throughput import Estimate


def _num(v, fmt):
    return "n/a" if v is None else format(v, fmt)


def format_estimate(e: Estimate) -> str:
    rows = [
        ("hardware", f"{e.gpus} x {e.hardware_id} (tp {e.tp}, {e.replicas} replica(s))", ""),
        ("model / precision", f"{e.model_id} / {e.precision} ({e.bits_per_weight:g} bits), KV {e.kv_precision}", ""),
        ("engine", f"{e.engine} {e.engine_version}".strip(),
         f"batch cap {e.engine_batch_cap:,} sequences per replica" if e.engine_batch_cap else ""),
        ("compute rate", f"{e.peak_tflops:,.1f} ({e.compute_precision})", "TFLOPS dense per GPU"),
        *[(f"  {k['component']} matmuls", f"{k['peak_tflops']:,.1f} ({k['rate']})", k["kernel"])
          for k in (e.kernel_paths or []) if len(e.kernel_paths) > 1 or k["path"] != "native"],
        ("weights", f"{e.weights_gb:,.2f}", "GB (whole model)"),
        ("weights per GPU", f"{e.weights_gb_per_gpu:,.2f}", "GB"),
        ("KV cache per token", f"{e.kv_bytes_per_token:,.0f}", "bytes (growing part)"),
        ("fixed state per sequence", f"{e.state_bytes_per_sequence:,.0f}", "bytes (recurrent + sliding window)"),
        ("cache per sequence", f"{e.kv_gb_per_sequence:,.3f}", f"GB at {e.context_tokens:,} tokens"),
        ("usable memory per GPU", f"{e.usable_memory_gb_per_gpu:,.2f}", "GB"),
        ("fits", "yes" if e.fits else "no", ""),
        ("offloaded per GPU", f"{e.offloaded_gb_per_gpu:,.2f}", "GB" + (f" read at {e.offload_bw_gbs:g} GB/s" if e.offload_bw_gbs else "")),
        ("max concurrency", f"{e.max_concurrency:,}", f"sequences at {e.context_tokens:,} tokens, all GPUs"),
        ("batch (operating point)", f"{e.batch:,}", "sequences per replica" + ("" if e.meets_targets else " (targets NOT met)")),
        ("decode per stream", _num(e.decode_tok_s_per_stream, ",.1f"), "tok/s"),
        ("decode total", _num(e.decode_tok_s_total, ",.1f"), "tok/s, all GPUs"),
        ("prefill", _num(e.prefill_tok_s, ",.0f"), "tok/s per replica"),
        ("time to first token", _num(e.ttft_s, ",.3f"), "s"),
        ("output, sustained", _num(e.output_tok_s_total, ",.1f"), f"tok/s, all GPUs ({e.input_tokens:,} in / {e.output_tokens:,} out)"),
        ("bound", e.bound or "n/a", ""),
        ("ideal bound (batch 1)", f"{e.ideal_bound_tok_s:,.1f}", "tok/s per stream, weights only"),
    ]
    rows.insert(1, ("layout", e.layout_choice, ""))
    for r in reversed(e.layouts or []):  # the layouts the default search considered, TP ascending
        if r["result"] != "chosen":
            rows.insert(2, (f"  not TP{r['tp']} x {r['replicas']}", "", r["result"]))
    if e.claimed_tok_s is not None:
        rows.append(("claim", f"{e.claimed_tok_s:,.1f} -> {e.claim_verdict}", f"{e.claim_factor:,.1f}x the bound"))
    w = max(len(r[0]) for r in rows)
    v = max(len(r[1]) for r in rows)
    return "\n".join(f"{a:<{w}}  {b:>{v}}  {c}".rstrip() for a, b, c in rows)
