"""Measured capacity from a benchmark result file: the JSON that `vllm bench serve --save-result` writes
(vllm/benchmarks/serve.py: output_throughput, mean/p99 TTFT and TPOT in ms, max_concurrency, date, model_id).
The benchmark must have been run against one replica (one tensor-parallel group) of the option."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path


class BenchmarkFileError(ValueError):
    """The file cannot serve as a measured capacity; the message says why (the caller adds Sheet!Cell)."""


@dataclass(frozen=True)
class BenchResult:
    path: str
    output_tok_s: float
    mean_ttft_ms: float | None
    p99_ttft_ms: float | None
    mean_tpot_ms: float | None
    max_concurrency: float | None
    date: str
    model_id: str

    def describe(self) -> str:
        bits = [f"vLLM bench serve {Path(self.path).name}"]
        if self.date:
            bits.append(f"run {self.date}")
        if self.model_id:
            bits.append(f"model {self.model_id}")
        if self.max_concurrency:
            bits.append(f"concurrency {self.max_concurrency:g}")
        if self.mean_ttft_ms is not None:
            bits.append(f"mean TTFT {self.mean_ttft_ms:,.0f} ms")
        return ", ".join(bits)


def _num(d: dict, key: str, required: bool = False) -> float | None:
    v = d.get(key)
    if v is None:
        if required:
            raise BenchmarkFileError(f"has no '{key}' (expected a `vllm bench serve --save-result` JSON)")
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise BenchmarkFileError(f"'{key}' is {v!r}, not a number") from None
    if not math.isfinite(x) or x < 0:
        raise BenchmarkFileError(f"'{key}' is {v!r}; it must be a finite number >= 0")
    return x


def read_bench_result(path: Path) -> BenchResult:
    if not path.is_file():
        raise BenchmarkFileError(f"benchmark result file {path} not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BenchmarkFileError(f"{path.name} is not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise BenchmarkFileError(f"{path.name} holds a JSON {type(data).__name__}, not an object")
    out = _num(data, "output_throughput", required=True)
    if out <= 0:
        raise BenchmarkFileError("'output_throughput' is 0: the run served nothing")
    return BenchResult(str(path), out, _num(data, "mean_ttft_ms"), _num(data, "p99_ttft_ms"), _num(data, "mean_tpot_ms"),
                       _num(data, "max_concurrency"), str(data.get("date") or ""), str(data.get("model_id") or ""))
