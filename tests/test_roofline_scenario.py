"""`tcomodel roofline --scenario FILE` resolves ids through the scenario's Hardware and Models sheets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tcomodel.cli import main
from tests.helpers import find_row, mutate

DEFAULT = Path(__file__).parents[1] / "assumptions" / "aarhusai-vs-alternative.xlsx"


def test_a_hardware_row_only_on_the_scenario_is_usable(tmp_path):
    def edit(wb):
        ws = wb["Hardware"]
        src = find_row(ws, "A", "a100-sxm-80gb")
        new = ws.max_row + 1
        for col in range(1, ws.max_column + 1):
            ws.cell(row=new, column=col).value = ws.cell(row=src, column=col).value
        ws.cell(row=new, column=1).value = "a100-doubled-bw"
        header = [c.value for c in ws[1]]
        ws.cell(row=new, column=header.index("memory_bw_gbs") + 1).value = 4078.0  # twice the A100's 2,039 GB/s

    p = mutate(DEFAULT, tmp_path / "s.xlsx", edit)
    args = ["roofline", "--model", "mistral-small-3.2-24b", "--precision", "bf16", "--engine", "ideal",
            "--batch", "1", "--json", "--scenario", str(p)]
    base = CliRunner().invoke(main, args + ["--hardware", "a100-sxm-80gb"])
    fast = CliRunner().invoke(main, args + ["--hardware", "a100-doubled-bw"])
    assert base.exit_code == 0 and fast.exit_code == 0, fast.output
    b, f = json.loads(base.output), json.loads(fast.output)
    # ideal batch-1 decode is bandwidth / bytes read per token: doubling bandwidth doubles it
    assert f["decode_tok_s_per_stream"] == pytest.approx(2 * b["decode_tok_s_per_stream"], rel=1e-9)
    # without the scenario the id is unknown: exit 2 with the list of valid ids
    plain = CliRunner().invoke(main, args[:-2] + ["--hardware", "a100-doubled-bw"])
    assert plain.exit_code == 2 and "valid ids" in plain.output
