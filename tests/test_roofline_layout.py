"""Default parallel layout (best output per GPU) and the tensor-parallel all-reduce on the actual link."""

import json

import pytest
from click.testing import CliRunner

from tcomodel.cli import main
from tcomodel.roofline import estimate
from tcomodel.roofline.setup import build_setup, resolve_hardware

LAYERS, HIDDEN = 80, 8192  # Llama-3.1-70B config.json: num_hidden_layers, hidden_size
GIB80 = 80 * 1024**3 / 1e9  # an "80 GB" H100 exposes 80 GiB = 85.9 GB


def test_allreduce_over_nvlink_by_hand():
    s = build_setup("h100-sxm", "llama-3.1-70b", "fp8", gpus=2, tp=2)
    batch = 80
    # NCCL ring/LL model: 3.6 us + 2 x (2-1) hops x 0.47 us, plus vLLM's 8 us launch/sync
    latency = (8.0 + 3.6 + 2 * 1 * 0.47) * 1e-6
    # 900 GB/s NVLink bidirectional = 450 GB/s each way; each GPU moves 2 x (TP-1)/TP of the BF16 message
    wire = 2 * (2 - 1) / 2 * batch * HIDDEN * 2 / 450e9
    assert s.comm_s(batch) == pytest.approx(2 * LAYERS * (latency + wire))  # 2 all-reduces per layer
    assert s.comm_s(batch) * 1e3 == pytest.approx(2.4724, abs=1e-4)
    t_mem, t_comp, fixed = s.step_parts(batch)
    # fixed time = per-step overhead + batch x per-sequence overhead + communication
    assert fixed == pytest.approx(s.engine.overhead_ms * 1e-3 + batch * s.engine.seq_overhead_us * 1e-6
                                  + 2 * LAYERS * (latency + wire))
    assert build_setup("h100-sxm", "llama-3.1-70b", "fp8", gpus=2, tp=1).comm_s(batch) == 0.0


def test_allreduce_over_pcie_without_gpu_link():
    # RTX PRO 6000 has no NVLink: the ring runs over PCIe Gen5 x16 (64 GB/s each way), 1.0 us a hop
    s = build_setup("rtx-pro-6000", "llama-3.1-70b", "fp8", gpus=8, tp=8)
    assert s.link == ("pcie", 64.0)
    latency = (8.0 + 3.6 + 2 * 7 * 1.0) * 1e-6
    wire = 2 * 7 / 8 * 64 * HIDDEN * 2 / 64e9
    assert s.comm_s(64) == pytest.approx(2 * LAYERS * (latency + wire))
    # the same H100s with the NVLink removed communicate over their PCIe link: slower
    h100 = resolve_hardware("h100-sxm")
    nvl = build_setup(h100, "llama-3.1-70b", "fp8", gpus=8, tp=8)
    pcie = build_setup(h100.replace(interconnect_gbs=None), "llama-3.1-70b", "fp8", gpus=8, tp=8)
    assert pcie.comm_s(64) > 2 * nvl.comm_s(64)


def test_ideal_engine_has_no_collective_latency():
    s = build_setup("h100-sxm", "llama-3.1-70b", "fp8", gpus=2, tp=2, engine="ideal")
    assert s.comm_s(1) == pytest.approx(2 * LAYERS * (1 * HIDDEN * 2 / 450e9))


def test_llama_70b_fp8_on_two_h100_picks_tp2():
    # with 80 GiB per GPU the FP8 weights (72.7 GB) fit one GPU, leaving room for a few sequences;
    # TP2 halves the weights per GPU and holds ~30x the sequences
    e = estimate("h100-sxm", "llama-3.1-70b", "fp8", gpus=2, memory_gib=80)
    assert (e.tp, e.replicas, e.layout_choice) == (2, 1, "best output per GPU")
    rows = {r["tp"]: r for r in e.layouts}
    assert rows[1]["fits"] and rows[1]["replicas"] == 2 and rows[1]["result"].startswith("less output per GPU")
    assert rows[2]["result"] == "chosen"
    assert rows[2]["output_tok_s_per_gpu"] > 5 * rows[1]["output_tok_s_per_gpu"]
    tp2 = estimate("h100-sxm", "llama-3.1-70b", "fp8", gpus=2, tp=2, memory_gib=80)
    assert e.output_tok_s_total == pytest.approx(tp2.output_tok_s_total)
    assert rows[2]["comm_ms_per_step"] == pytest.approx(
        build_setup("h100-sxm", "llama-3.1-70b", "fp8", gpus=2, tp=2, memory_gib=80).comm_s(e.batch) * 1e3)
    # an explicit --tp keeps that layout: TP1 x 2 replicas
    tp1 = estimate("h100-sxm", "llama-3.1-70b", "fp8", gpus=2, tp=1, memory_gib=80)
    assert (tp1.tp, tp1.replicas, tp1.layout_choice) == (1, 2, "explicit tp")
    assert tp1.output_tok_s_total / 2 == pytest.approx(rows[1]["output_tok_s_per_gpu"])


def test_layouts_missing_the_targets_lose():
    # 150 tok/s per user: TP1 reads ~16 GB of BF16 weights a step, ~16e9 / (3350e9 x ~0.9) = ~5.3 ms
    # + ~2.3 ms overhead = ~136 tok/s even at batch 1; TP2 halves the read and meets it
    assert estimate("h100-sxm", "llama-3.1-8b", "bf16", batch=1).decode_tok_s_per_stream < 150
    e = estimate("h100-sxm", "llama-3.1-8b", "bf16", gpus=2, min_user_tok_s=150)
    rows = {r["tp"]: r for r in e.layouts}
    assert e.tp == 2 and e.meets_targets and e.decode_tok_s_per_stream >= 150
    assert not rows[1]["meets_targets"] and rows[1]["result"] == "misses the latency targets even at batch 1"


def test_cli_json_lists_layouts_and_unfit_layout_exits_2():
    args = ["roofline", "--hardware", "h100-sxm", "--model", "llama-3.1-70b", "--precision", "fp8", "--gpus", "2"]
    r = CliRunner().invoke(main, args + ["--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["tp"] == 2 and [x["tp"] for x in d["layouts"]] == [1, 2]
    # with the H100's 81,559 MiB, TP1's 72.7 GB of FP8 weights fit but leave little cache: it loses on output
    assert d["layouts"][0]["fits"] and d["layouts"][0]["result"].startswith("less output per GPU")
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0 and "best output per GPU" in r.output and "not TP1 x 2" in r.output
    bad = ["roofline", "--hardware", "h100-sxm", "--model", "llama-3.1-405b", "--precision", "bf16", "--gpus", "2"]
    r = CliRunner().invoke(main, bad)
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "does not fit at any tensor-parallel layout" in r.output and "TP16" in r.output
    # an explicit --tp estimates with the excess weights offloaded, as before
    assert CliRunner().invoke(main, bad + ["--tp", "2"]).exit_code == 0
    r = CliRunner().invoke(main, ["roofline", "--hardware", "m3-ultra", "--model", "llama-3.1-405b",
                                  "--precision", "bf16"])
    assert r.exit_code == 2 and "cannot serve one sequence" in r.output and "Traceback" not in r.output


def test_finance_replica_is_one_tp_group(tmp_path):
    # gpus_per_replica = 2 of Llama-3.1-8B on H100: TP1 fits one GPU, but the Options sheet's replica
    # is one TP group, so its capacity is the TP2 estimate, not 2 TP1 replicas
    from tcomodel.finance.capacity import operating_points
    from tests.test_finance_helpers import content, load, option, workload_rows

    c = content([option("own", "rented_server", hardware_id="h100-sxm", model_id="llama-3.1-8b", precision="fp8",
                        kv_precision="fp8", engine="vllm", gpus_per_replica=2)], workload_rows([1e6] * 2),
                rental=[{"option_id": "own", "fee_per_replica_per_month": 1000.0, "currency": "DKK"}])
    ops = operating_points(load(tmp_path, c))
    e = ops.estimates["own"][0]
    assert (e.tp, e.replicas, e.layout_choice) == (2, 1, "explicit tp")
    tp2 = estimate("h100-sxm", "llama-3.1-8b", "fp8", kv_precision="fp8", gpus=2, tp=2, input_tokens=1000,
                   output_tokens=200, min_user_tok_s=10.0, max_ttft_s=2.0)
    assert ops.capacities["own"].output_tok_s_per_replica[0] == pytest.approx(tp2.output_tok_s_total)


def test_expert_parallel_layout_by_hand():
    """DEP: attention data-parallel, routed experts split over the EP group; all-to-all per MoE layer."""
    from tcomodel.roofline.setup import NCCL_RING_BASE_US, NCCL_RING_HOP_US

    s = build_setup("h200", "deepseek-v3", "fp8", gpus=8, ep=8, engine="trtllm", kv_precision="fp8",
                    input_tokens=1000, output_tokens=1000)
    assert (s.tp, s.ep, s.replicas) == (1, 8, 1)
    # each GPU holds the dense weights in full and an eighth of the experts
    assert s.mem.weights_bytes_per_gpu == pytest.approx(s.w.dense_bytes + s.w.expert_bytes / 8)
    # the replica (8 GPUs) holds 8 x what one GPU's cache room takes of whole sequences
    per_gpu = int(s.mem.kv_room_bytes // s.kv.per_sequence(2000))
    assert s.mem.max_concurrency == 8 * per_gpu
    # all-to-all of 64 tokens on a GPU: 64 x k=8 x 7168 x 2 B, 7/8 of it to other GPUs, over NVLink each way
    m = s.model
    lat = (s.engine.allreduce_latency_us + NCCL_RING_BASE_US + 7 * NCCL_RING_HOP_US["gpu_link"]) * 1e-6
    wire = 7 / 8 * 64 * m.experts_per_token * m.hidden_size * 2 / (s.hw.interconnect_gbs / 2 * 1e9)
    assert s.alltoall_s(64) == pytest.approx(lat + wire)
    assert s.comm_s(64) == pytest.approx(2 * m.moe_layers * (lat + wire))  # dispatch + combine per MoE layer
    # a step at batch 512 per replica is a step of 64 sequences on each GPU
    assert s.phases(512)["communication"] == pytest.approx(s.comm_s(64))


def test_expert_parallel_is_searched_for_moe_and_refused_where_it_cannot_run():
    from click.testing import CliRunner

    from tcomodel.cli import main
    from tcomodel.errors import UsageError

    e = estimate("h200", "deepseek-v3", "fp8", gpus=8, kv_precision="fp8", engine="trtllm", max_batch=True,
                 input_tokens=1000, output_tokens=1000)
    kinds = {(r["tp"], r["ep"]) for r in e.layouts}
    assert {(8, 1), (1, 8)} <= kinds and (e.tp, e.ep) == (1, 8)  # MLA cache is not split by TP: DEP holds more
    dense = estimate("h100-sxm", "llama-3.1-70b", "fp8", gpus=2)
    assert all(r["ep"] == 1 for r in dense.layouts)
    for kw in (dict(model="llama-3.1-70b", engine="vllm"), dict(model="qwen3-next-80b-a3b", engine="llamacpp")):
        with pytest.raises(UsageError, match="ep=2"):
            build_setup("h100-sxm", kw["model"], "fp8", gpus=2, ep=2, engine=kw["engine"])
    r = CliRunner().invoke(main, ["roofline", "--hardware", "h100-sxm", "--model", "llama-3.1-70b", "--precision",
                                  "fp8", "--gpus", "2", "--ep", "2"])
    assert r.exit_code == 2 and "expert parallelism needs an MoE model" in r.output and "Traceback" not in r.output
