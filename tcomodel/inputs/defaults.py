"""Content of the default scenario: AarhusAI (Mistral Small 3.2 24B on an A100) against the alternative
(Qwen3-Next-80B-A3B on an RTX PRO 6000 Blackwell Max-Q), cloud H100s and hosted APIs, in DKK.

Every value carries its source. Keys in brackets such as [getdeploying] are the source keys of
../shared/reference/model-economics-digest.md (its appendix maps them to URLs). "assumption:" marks a
figure the references do not give; those are the first candidates for the Ranges sheet.
"""

from __future__ import annotations

import datetime as dt

SEED = "AarhusAI comparison note (reference/seeds/aarhusai-vs-alternative.da.txt)"
DIGEST = "model-economics digest"
AS_OF = dt.date(2026, 11, 1)

SCENARIO = [
    # key, value, unit, source
    ("scenario_name", "aarhusai-vs-alternative", "", "AarhusAI comparison note"),
    ("report_currency", "DKK", "ISO 4217", "the platform's budget currency"),
    ("first_quarter", "2027Q1", "quarter", "assumption: first full quarter after this build (2026-11)"),
    ("horizon_quarters", 20, "quarters", "assumption: five-year plan, the depreciation life hyperscalers converge to [siliconangle]"),
    ("discount_rate_annual", 0.055, "per year",
     "assumption: Danish Ministry of Finance socio-economic rate 3.5% real (recalled, verify) + 2% inflation"),
    ("baseline_option", "aarhusai", "id", "the current platform"),
    ("tax_rate", 0.0, "share", "assumption: a municipal platform pays no corporate tax"),
    ("inflation_annual", 0.02, "per year", "assumption: Danmarks Nationalbank / ECB 2% inflation target"),
    ("price_max_age_months", 6, "months", "assumption: prices are re-read every quarter; older than two quarters is stale"),
    ("capex_paid_at", "start", "", "assumption: hardware is paid on delivery, before the quarter in which it serves"),
]

FX = [
    {"currency": "USD", "rate_to_report_currency": 6.45, "as_of": AS_OF,
     "source": "assumption: approx. USD/DKK market rate autumn 2026 (update each quarter)"},
    {"currency": "EUR", "rate_to_report_currency": 7.46038, "as_of": AS_OF,
     "source": "Danmarks Nationalbank: ERM II central rate 7.46038 DKK/EUR"},
]

GPQA_CHANCE = "chance level 25: GPQA questions have four answer choices (Rein et al. 2023, arXiv:2311.12022)"
# The seed note's 77.2% is the Thinking variant's GPQA; the Instruct variant is the one served.
QWEN_INSTRUCT_QUALITY = {"quality_score": 72.9, "quality_benchmark": "GPQA Diamond",
                         "quality_model_variant": "Qwen3-Next-80B-A3B-Instruct", "quality_chance_level": 25.0}
QWEN_QUALITY_SOURCE = ("GPQA 72.9 of Qwen3-Next-80B-A3B-Instruct (model card, huggingface.co/Qwen/"
                       "Qwen3-Next-80B-A3B-Instruct; recalled, verify); the seed note's 77.2% is the Thinking "
                       f"variant's, which is not served; {GPQA_CHANCE}")

OPTIONS = [
    {"option_id": "aarhusai", "label": "AarhusAI today: Mistral Small 3.2 on A100 (HPC centre)", "kind": "rented_server",
     "hardware_id": "a100-sxm-80gb", "model_id": "mistral-small-3.2-24b", "precision": "bf16", "kv_precision": "bf16",
     "engine": "vllm", "gpus_per_replica": 1, "load_basis": "workload", "measured_output_tok_s_per_replica": None,
     "quality_score": 46.1, "quality_benchmark": "GPQA Diamond",
     "quality_model_variant": "Mistral-Small-3.2-24B-Instruct-2506", "quality_chance_level": 25.0,
     "start_quarter": None,
     "source": f"{SEED}: A100 80 GB, BF16; GPQA 46.1% (the model card's GPQA Diamond 5-shot CoT 46.13% for "
               f"Mistral-Small-3.2-24B-Instruct-2506, huggingface.co/mistralai/Mistral-Small-3.2-24B-Instruct-2506); "
               f"{GPQA_CHANCE}"},
    {"option_id": "alternative", "label": "Alternative: Qwen3-Next-80B-A3B NVFP4 on rented RTX PRO 6000 Max-Q",
     "kind": "rented_server", "hardware_id": "rtx-pro-6000-maxq", "model_id": "qwen3-next-80b-a3b",
     "precision": "nvfp4", "kv_precision": "fp8", "engine": "vllm", "gpus_per_replica": 1, "load_basis": "workload",
     "measured_output_tok_s_per_replica": None, **QWEN_INSTRUCT_QUALITY, "start_quarter": None,
     "source": f"{SEED}: RTX PRO 6000 Max-Q 96 GB, NVFP4; {QWEN_QUALITY_SOURCE}"},
    {"option_id": "alternative-owned", "label": "Alternative bought and colocated", "kind": "owned",
     "hardware_id": "rtx-pro-6000-maxq", "model_id": "qwen3-next-80b-a3b", "precision": "nvfp4", "kv_precision": "fp8",
     "engine": "vllm", "gpus_per_replica": 1, "load_basis": "workload", "measured_output_tok_s_per_replica": None,
     **QWEN_INSTRUCT_QUALITY, "start_quarter": None, "source": f"{SEED}, bought instead of rented; {QWEN_QUALITY_SOURCE}"},
    {"option_id": "cloud-h100-ondemand", "label": "Cloud 2x H100 on demand, Qwen3-Next FP8", "kind": "cloud_gpu",
     "hardware_id": "h100-sxm", "model_id": "qwen3-next-80b-a3b", "precision": "fp8", "kv_precision": "fp8",
     "engine": "vllm", "gpus_per_replica": 2, "load_basis": "workload", "measured_output_tok_s_per_replica": None,
     **QWEN_INSTRUCT_QUALITY, "start_quarter": None,
     "source": f"H100 has no FP4 tensor cores: FP8 weights (~80 GB) need two 80 GB GPUs; {QWEN_QUALITY_SOURCE}"},
    {"option_id": "cloud-h100-mix", "label": "Cloud 2x H100, reserved + spot + on-demand mix", "kind": "cloud_gpu",
     "hardware_id": "h100-sxm", "model_id": "qwen3-next-80b-a3b", "precision": "fp8", "kv_precision": "fp8",
     "engine": "vllm", "gpus_per_replica": 2, "load_basis": "workload", "measured_output_tok_s_per_replica": None,
     **QWEN_INSTRUCT_QUALITY, "start_quarter": None,
     "source": f"as cloud-h100-ondemand, with committed and spot capacity; {QWEN_QUALITY_SOURCE}"},
    {"option_id": "api-claude-sonnet", "label": "API premium: Claude Sonnet 4.6", "kind": "hosted_api",
     "hardware_id": None, "model_id": None, "precision": None, "kv_precision": None, "engine": None,
     "gpus_per_replica": None, "load_basis": "workload", "measured_output_tok_s_per_replica": None,
     "quality_score": None, "start_quarter": None, "source": f"{DIGEST} 1.1 [anth-mig][pec-api]"},
    {"option_id": "api-gemini-pro", "label": "API mid: Gemini 3.1 Pro", "kind": "hosted_api",
     "hardware_id": None, "model_id": None, "precision": None, "kv_precision": None, "engine": None,
     "gpus_per_replica": None, "load_basis": "workload", "measured_output_tok_s_per_replica": None,
     "quality_score": None, "start_quarter": None, "source": f"{DIGEST} 1.1 [metacto-gem]"},
    {"option_id": "api-gemini-flash-lite", "label": "API budget: Gemini 2.5 Flash-Lite", "kind": "hosted_api",
     "hardware_id": None, "model_id": None, "precision": None, "kv_precision": None, "engine": None,
     "gpus_per_replica": None, "load_basis": "workload", "measured_output_tok_s_per_replica": None,
     "quality_score": None, "start_quarter": None, "source": f"{DIGEST} 1.1 [metacto-gem]"},
    {"option_id": "api-deepseek", "label": "API open-weight floor: DeepSeek V3.2", "kind": "hosted_api",
     "hardware_id": None, "model_id": "deepseek-v3", "precision": None, "kv_precision": None, "engine": None,
     "gpus_per_replica": None, "load_basis": "workload", "measured_output_tok_s_per_replica": None,
     "quality_score": None, "start_quarter": None, "source": f"{DIGEST} 1.1 [pec-2026][cloudzero-llm]"},
]

CAPEX = [
    {"option_id": "alternative-owned", "server_cost_per_replica": 45000.0, "gpu_cost_per_replica": 55000.0,
     "network_cost_per_replica": 5000.0, "install_cost_per_replica": 5000.0,
     "depreciation_method": "straight_line", "book_life_years": 4.0, "economic_life_years": None,
     "salvage_share": 0.30, "currency": "DKK",
     "source": "GPU: RTX PRO 6000 reported MSRP ~USD 8,565 (reference/data/gpus.csv) ~ 55,000 DKK; server, network, "
               "install: assumption; life 4 y and salvage 30%: GPU modules 3.5-4.5 y with 30-35% salvage [laman]"},
]

OPEX = [
    {"option_id": "alternative-owned", "power_kw_per_replica": 0.75, "load_factor": 0.76, "pue": 1.5,
     "power_price_per_kwh": 1.50, "power_escalation_annual": 0.02, "hosting_per_replica_per_month": 1500.0,
     "maintenance_share_of_capex_annual": 0.05, "staff_per_month": 3000.0, "licences_per_month": 0.0,
     "other_escalation_annual": 0.02, "currency": "DKK",
     "source": "power: 300 W GPU TDP (gpus.csv) + ~450 W server (assumption); load 76% of TDP [bnl-tdp]; PUE 1.5 colo "
               "[introl-pue]; 1.50 DKK/kWh, hosting 1,500 DKK/month, maintenance 5%/y, staff 3,000 DKK/month: assumption "
               "(the notes give no electricity, colo or salary figures, digest 1.7/1.11)"},
    {"option_id": "aarhusai", "power_kw_per_replica": None, "load_factor": None, "pue": None,
     "power_price_per_kwh": None, "power_escalation_annual": None, "hosting_per_replica_per_month": None,
     "maintenance_share_of_capex_annual": None, "staff_per_month": 1500.0, "licences_per_month": 0.0,
     "other_escalation_annual": 0.02, "currency": "DKK",
     "source": "assumption: platform operations time, same for both rented servers"},
    {"option_id": "alternative", "power_kw_per_replica": None, "load_factor": None, "pue": None,
     "power_price_per_kwh": None, "power_escalation_annual": None, "hosting_per_replica_per_month": None,
     "maintenance_share_of_capex_annual": None, "staff_per_month": 1500.0, "licences_per_month": 0.0,
     "other_escalation_annual": 0.02, "currency": "DKK",
     "source": "assumption: platform operations time, same for both rented servers"},
]

RENTAL = [
    {"option_id": "aarhusai", "fee_per_replica_per_month": 10000.0, "setup_fee_per_replica": 0.0,
     "fee_escalation_annual": 0.0, "fee_is_assumption": "yes", "currency": "DKK",
     "source": f"assumption: the HPC-centre price is unknown ({SEED}: '?? kr./mnd'); the Breakeven sheet solves for "
               "the fee at which aarhusai costs the same as the alternative"},
    {"option_id": "alternative", "fee_per_replica_per_month": 6700.0, "setup_fee_per_replica": 0.0,
     "fee_escalation_annual": 0.0, "fee_is_assumption": "no", "currency": "DKK",
     "source": f"{SEED}: 6,700 kr./mnd at Hetzner; setup fee not stated (0 assumed)"},
]

CLOUD_RATES = [
    {"option_id": "cloud-h100-ondemand", "on_demand_per_gpu_hour": 3.99, "reserved_per_gpu_hour": 2.00,
     "spot_per_gpu_hour": 2.25, "reserved_share": 0.0, "spot_share": 0.0, "spot_interruption_overhead": 0.10,
     "rate_escalation_annual": -0.10, "as_of": dt.date(2026, 5, 1), "currency": "USD",
     "source": "H100 on demand 3.99 Lambda [getdeploying]; committed 2.00 Nebius [awesomeagents]; spot ~2.25 GCP "
               "[gcp-gpu]; -10%/y: H100 rates fell 64-75% from peak, sub-$2 expected [introl-unit] (assumption)"},
    {"option_id": "cloud-h100-mix", "on_demand_per_gpu_hour": 3.99, "reserved_per_gpu_hour": 2.00,
     "spot_per_gpu_hour": 2.25, "reserved_share": 0.5, "spot_share": 0.3, "spot_interruption_overhead": 0.10,
     "rate_escalation_annual": -0.10, "as_of": dt.date(2026, 5, 1), "currency": "USD",
     "source": "rates as cloud-h100-ondemand; mix and 10% preemption overhead: assumption"},
]

API_PRICES = [
    {"option_id": "api-claude-sonnet", "provider": "Anthropic", "api_model": "Claude Sonnet 4.6",
     "input_per_mtok": 3.00, "output_per_mtok": 15.00, "prompt_caching": "yes", "cached_input_per_mtok": 0.30,
     "cache_write_per_mtok": 3.75,
     "batch_discount": 0.5, "long_context_threshold_tokens": None, "long_context_input_per_mtok": None,
     "long_context_output_per_mtok": None, "enterprise_discount": 0.0, "annual_price_change": 0.0,
     "as_of": dt.date(2026, 5, 1), "currency": "USD",
     "source": "3/15, cache hit 0.30 (-90%), cache write +25%, 1M context at flat rate [anth-mig][finout-o47][pec-api]; "
               "batch -50% [finout-api]; same-SKU list price held 2024-2026 (digest 2.19)"},
    {"option_id": "api-gemini-pro", "provider": "Google", "api_model": "Gemini 3.1 Pro",
     "input_per_mtok": 2.00, "output_per_mtok": 12.00, "prompt_caching": "yes", "cached_input_per_mtok": 0.20,
     "cache_write_per_mtok": 2.00,
     "batch_discount": 0.5, "long_context_threshold_tokens": 200000, "long_context_input_per_mtok": 4.00,
     "long_context_output_per_mtok": 18.00, "enterprise_discount": 0.0, "annual_price_change": 0.0,
     "as_of": dt.date(2026, 5, 1), "currency": "USD",
     "source": "2/12 up to 200K, implied 4/18 above, batch 1/6 and 2/9 [metacto-gem]; context caching 0.20 up to "
               "200K (0.40 above, the long-context uplift gives it), writes at the input price, storage per hour not "
               "counted (implicit caching): ai.google.dev/gemini-api/docs/pricing (recalled, verify)"},
    {"option_id": "api-gemini-flash-lite", "provider": "Google", "api_model": "Gemini 2.5 Flash-Lite",
     "input_per_mtok": 0.10, "output_per_mtok": 0.40, "prompt_caching": "yes", "cached_input_per_mtok": 0.01,
     "cache_write_per_mtok": 0.10,
     "batch_discount": 0.5, "long_context_threshold_tokens": None, "long_context_input_per_mtok": None,
     "long_context_output_per_mtok": None, "enterprise_discount": 0.0, "annual_price_change": 0.0,
     "as_of": dt.date(2026, 5, 1), "currency": "USD",
     "source": "0.10/0.40, batch 0.05/0.20 [metacto-gem]; context caching 0.01, writes at the input price, storage "
               "per hour not counted (implicit caching): ai.google.dev/gemini-api/docs/pricing (recalled, verify)"},
    {"option_id": "api-deepseek", "provider": "DeepSeek", "api_model": "DeepSeek V3.2",
     "input_per_mtok": 0.14, "output_per_mtok": 0.28, "prompt_caching": "yes", "cached_input_per_mtok": 0.014,
     "cache_write_per_mtok": 0.14,
     "batch_discount": 0.0, "long_context_threshold_tokens": None, "long_context_input_per_mtok": None,
     "long_context_output_per_mtok": None, "enterprise_discount": 0.0, "annual_price_change": 0.0,
     "as_of": dt.date(2026, 5, 1), "currency": "USD",
     "source": "0.14/0.28 'floor' [pec-2026][cloudzero-llm]; no batch discount stated; cache hits at 1/10 of the "
               "cache-miss (input) price, misses (writes) at the input price: api-docs.deepseek.com/quick_start/pricing "
               "(recalled, verify)"},
]


def _workload_rows():
    """A municipal assistant growing from ~600k to ~2.6M requests a quarter over five years."""
    rows = []
    requests = 600_000.0
    for i in range(20):
        year, q = 2027 + i // 4, i % 4 + 1
        rows.append({
            "quarter": f"{year}Q{q}", "requests": round(requests), "input_tokens_per_request": 1500.0,
            "output_tokens_per_request": 350.0, "cache_hit_share": 0.30, "cache_write_share": 0.05,
            "batch_eligible_share": 0.10, "long_context_share": 0.0, "peak_to_average": 3.0,
            "min_user_tok_s": 10.0, "max_ttft_s": 2.0,
            "source": ("assumption: ~2,000 staff users x 5 requests/working day at start, +8%/quarter; 1,500 in / 350 out "
                       "tokens (RAG chat); 30% cached system prompt; 10% overnight batch; office-hours peak 3x; "
                       "10 tok/s reading speed; TTFT 2 s = MLPerf Llama-2-70B server limit (reference/data/README.md)")
            if i == 0 else "as the first quarter; requests +8% per quarter (assumption)",
        })
        requests *= 1.08
    return rows


WORKLOAD = _workload_rows()

UTILIZATION: list[dict] = []

CLAIMS = [
    {"claim_id": "seed-aarhusai-42", "hardware_id": "a100-sxm-80gb", "model_id": "mistral-small-3.2-24b",
     "precision": "bf16", "bits_per_weight": None, "gpus": 1, "claimed_tok_s": 42.0,
     "quote": "AarhusAI: 2.000 / (24 * 2) = ca. 42 tok/s", "source": SEED},
    {"claim_id": "seed-alternative-923", "hardware_id": "rtx-pro-6000-maxq", "model_id": "qwen3-next-80b-a3b",
     "precision": "nvfp4", "bits_per_weight": None, "gpus": 1, "claimed_tok_s": 923.0,
     "quote": "Alternativ: 1800 / (3.9 * 0.5) = ca. 923 tok/s", "source": SEED},
]

RANGES = [
    {"sheet": "Rental", "row_id": "aarhusai", "field": "fee_per_replica_per_month", "low": 5000.0, "high": 25000.0,
     "distribution": "uniform", "source": "assumption: the HPC-centre price is unknown"},
    {"sheet": "FX", "row_id": "USD", "field": "rate_to_report_currency", "low": 6.0, "high": 7.2,
     "distribution": "triangular", "source": "assumption: USD/DKK range of 2023-2026"},
    {"sheet": "Workload", "row_id": "*", "field": "requests", "low": 0.7, "high": 1.3, "distribution": "triangular",
     "source": "assumption: +/-30% volume; row_id * scales every quarter (low/high are multipliers)"},
    {"sheet": "ApiPrices", "row_id": "api-claude-sonnet", "field": "annual_price_change", "low": -0.5, "high": 0.0,
     "distribution": "uniform", "source": "30-50%/y declines of quality-adjusted prices [pec-2026] vs sticky same-SKU"},
    {"sheet": "CloudRates", "row_id": "cloud-h100-mix", "field": "on_demand_per_gpu_hour", "low": 1.99, "high": 6.88,
     "distribution": "triangular", "source": "RunPod 1.99 to AWS 6.88 USD/GPU-h [getdeploying][siliconanalysts]"},
]
