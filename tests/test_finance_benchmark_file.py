"""Measured beats modelled: a self-hosted option's capacity from a `vllm bench serve --save-result` JSON."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tcomodel.cli import main
from tcomodel.errors import InputError
from tcomodel.finance import run_model
from tcomodel.inputs import load_scenario, write_scenario_workbook
from tests.test_finance_helpers import content, option, workload_rows

# The keys vllm/benchmarks/serve.py writes with --save-result (values of a made-up run)
RESULT = {"date": "20261015-101500", "backend": "vllm", "model_id": "Qwen/Qwen3-Next-80B-A3B-Instruct",
          "max_concurrency": 64, "completed": 1000, "total_input_tokens": 1500000, "total_output_tokens": 350000,
          "request_throughput": 4.2, "output_throughput": 1466.5, "total_token_throughput": 7751.0,
          "mean_ttft_ms": 410.0, "p99_ttft_ms": 1350.0, "mean_tpot_ms": 42.0}


def scenario(tmp_path, **opt):
    c = content([option("rent", "rented_server", **opt)], workload_rows([2e6] * 2),
                rental=[{"option_id": "rent", "fee_per_replica_per_month": 1000.0, "currency": "DKK"}])
    path = tmp_path / "bench-scenario.xlsx"
    write_scenario_workbook(path, c)
    return path


def test_output_throughput_of_the_file_is_the_capacity_and_the_source_says_so(tmp_path):
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "qwen.json").write_text(json.dumps(RESULT))
    run = run_model(load_scenario(scenario(tmp_path, benchmark_result_file="runs/qwen.json")))
    cap = run.model.row_inputs["rent.capacity"]
    assert list(cap.values) == [1466.5, 1466.5]
    assert not cap.engine_computed
    assert "vLLM bench serve qwen.json" in cap.source and "20261015-101500" in cap.source
    assert "concurrency 64" in cap.source
    # 1000 / 42 ms = 23.8 tok/s per user and p99 TTFT 1.35 s: within the 10 tok/s and 2 s targets
    assert not [w for w in run.warnings if "measured run" in w]


def test_a_run_below_the_latency_targets_warns(tmp_path):
    (tmp_path / "slow.json").write_text(json.dumps(dict(RESULT, mean_tpot_ms=125.0, p99_ttft_ms=3100.0)))
    run = run_model(load_scenario(scenario(tmp_path, benchmark_result_file="slow.json")))
    assert any("decodes 8.0 tok/s per user, below the 10 tok/s target" in w for w in run.warnings)
    assert any("p99 TTFT 3.10 s is above the 2 s target" in w for w in run.warnings)


@pytest.mark.parametrize("payload,needle", [
    (None, "not found"),
    ("{not json", "not readable JSON"),
    (json.dumps({"date": "x"}), "has no 'output_throughput'"),
    (json.dumps(dict(RESULT, output_throughput=-5)), "must be a finite number >= 0"),
])
def test_a_bad_result_file_is_an_options_cell_error_with_exit_2(tmp_path, payload, needle):
    if payload is not None:
        (tmp_path / "bad.json").write_text(payload)
    path = scenario(tmp_path, benchmark_result_file="bad.json")
    with pytest.raises(InputError) as exc:
        load_scenario(path)
    assert "Options!" in str(exc.value) and needle in str(exc.value)
    res = CliRunner().invoke(main, ["validate", str(path)])
    assert res.exit_code == 2 and needle in res.output and "Traceback" not in res.output


def test_both_a_measured_figure_and_a_file_is_an_error(tmp_path):
    (tmp_path / "qwen.json").write_text(json.dumps(RESULT))
    path = scenario(tmp_path, benchmark_result_file="qwen.json", measured_output_tok_s_per_replica=900.0)
    with pytest.raises(InputError, match="keep one"):
        load_scenario(path)
