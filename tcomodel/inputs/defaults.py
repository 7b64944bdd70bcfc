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
N_PLUS_1 = ("N+1: one spare replica; Uptime Institute Tier II/III require N+1 capacity components (chloridepower.com "
            "tier table, undated); assumption that a production inference service keeps the same margin")

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
    ("fiscal_year_start_month", 1, "month",
     "Danish municipalities budget and account by calendar year (the budget year is the calendar year, "
     "Lov om kommunernes styrelse § 38; recalled, verify)"),
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
     "start_quarter": None, "redundancy_replicas": 1,
     "source": f"{SEED}: A100 80 GB, BF16; GPQA 46.1% (the model card's GPQA Diamond 5-shot CoT 46.13% for "
               f"Mistral-Small-3.2-24B-Instruct-2506, huggingface.co/mistralai/Mistral-Small-3.2-24B-Instruct-2506); "
               f"{GPQA_CHANCE}; {N_PLUS_1}"},
    {"option_id": "alternative", "label": "Alternative: Qwen3-Next-80B-A3B NVFP4 on rented RTX PRO 6000 Max-Q",
     "kind": "rented_server", "hardware_id": "rtx-pro-6000-maxq", "model_id": "qwen3-next-80b-a3b",
     "precision": "nvfp4", "kv_precision": "fp8", "engine": "vllm", "gpus_per_replica": 1, "load_basis": "workload",
     "measured_output_tok_s_per_replica": None, **QWEN_INSTRUCT_QUALITY, "start_quarter": None, "redundancy_replicas": 1,
     "source": f"{SEED}: RTX PRO 6000 Max-Q 96 GB, NVFP4; {QWEN_QUALITY_SOURCE}; {N_PLUS_1}"},
    {"option_id": "alternative-owned", "label": "Alternative bought and colocated", "kind": "owned",
     "hardware_id": "rtx-pro-6000-maxq", "model_id": "qwen3-next-80b-a3b", "precision": "nvfp4", "kv_precision": "fp8",
     "engine": "vllm", "gpus_per_replica": 1, "load_basis": "workload", "measured_output_tok_s_per_replica": None,
     **QWEN_INSTRUCT_QUALITY, "start_quarter": None, "redundancy_replicas": 1, "source": f"{SEED}, bought instead of rented; {QWEN_QUALITY_SOURCE}; {N_PLUS_1}"},
    {"option_id": "cloud-h100-ondemand", "label": "Cloud 2x H100 on demand, Qwen3-Next FP8", "kind": "cloud_gpu",
     "hardware_id": "h100-sxm", "model_id": "qwen3-next-80b-a3b", "precision": "fp8", "kv_precision": "fp8",
     "engine": "vllm", "gpus_per_replica": 2, "load_basis": "workload", "measured_output_tok_s_per_replica": None,
     **QWEN_INSTRUCT_QUALITY, "start_quarter": None, "redundancy_replicas": 1,
     "source": f"H100 has no FP4 tensor cores: FP8 weights (~80 GB) need two 80 GB GPUs; {QWEN_QUALITY_SOURCE}; {N_PLUS_1}"},
    {"option_id": "cloud-h100-mix", "label": "Cloud 2x H100, reserved + spot + on-demand mix", "kind": "cloud_gpu",
     "hardware_id": "h100-sxm", "model_id": "qwen3-next-80b-a3b", "precision": "fp8", "kv_precision": "fp8",
     "engine": "vllm", "gpus_per_replica": 2, "load_basis": "workload", "measured_output_tok_s_per_replica": None,
     **QWEN_INSTRUCT_QUALITY, "start_quarter": None, "redundancy_replicas": 1,
     "source": f"as cloud-h100-ondemand, with committed and spot capacity; {QWEN_QUALITY_SOURCE}; {N_PLUS_1}"},
    {"option_id": "api-claude-sonnet", "label": "API premium: Claude Sonnet 5.5", "kind": "hosted_api",
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
    {"option_id": "api-deepseek", "label": "API open-weight floor: DeepSeek V4.1-Flash (hosted in China: check compliance)", "kind": "hosted_api",
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
     "maintenance_share_of_capex_annual": 0.05, "staff_per_month": None, "licences_per_month": 0.0,
     "other_escalation_annual": 0.02, "currency": "DKK",
     "source": "power: 300 W GPU TDP (gpus.csv) + ~450 W server (assumption); load 76% of TDP [bnl-tdp]; PUE 1.5 colo "
               "[introl-pue]; 1.50 DKK/kWh, hosting 1,500 DKK/month, maintenance 5%/y: assumption "
               "(the notes give no electricity or colo figures, digest 1.7/1.11); staff: Staff sheet"},
    {"option_id": "aarhusai", "power_kw_per_replica": None, "load_factor": None, "pue": None,
     "power_price_per_kwh": None, "power_escalation_annual": None, "hosting_per_replica_per_month": None,
     "maintenance_share_of_capex_annual": None, "staff_per_month": None, "licences_per_month": 0.0,
     "other_escalation_annual": 0.02, "currency": "DKK",
     "source": "no licences (vLLM is open source); staff: Staff sheet"},
    {"option_id": "alternative", "power_kw_per_replica": None, "load_factor": None, "pue": None,
     "power_price_per_kwh": None, "power_escalation_annual": None, "hosting_per_replica_per_month": None,
     "maintenance_share_of_capex_annual": None, "staff_per_month": None, "licences_per_month": 0.0,
     "other_escalation_annual": 0.02, "currency": "DKK",
     "source": "no licences (vLLM is open source); staff: Staff sheet"},
]

# VAT on rented servers. Hetzner invoices EU business customers without VAT (reverse charge, VAT Directive art. 196);
# the buyer accounts for Danish VAT (25%). A municipality gets VAT on purchased goods and services refunded
# through the momsrefusionsordning (Bekendtgoerelse om momsrefusionsordning for kommuner og regioner, nr. 891 of
# 2025-06-25, § 1: VAT on costs booked on types 2, 4.5 and 4.9 is refunded).
VAT_DK = ("Danish VAT 25%, paid under reverse charge (VAT Directive art. 196) on a German provider's invoice ex VAT; "
          "not recovered: assumption 0 (as of 2026-11): a municipal platform gets the VAT refunded through the "
          "momsrefusionsordning (bek. nr. 891 of 2025-06-25 § 1, server rent booked as type 4.9 other services); "
          "Ranges 0-1 covers a non-municipal owner")
GEX131_PRICE = (
    "Hetzner GEX131 (RTX PRO 6000 Blackwell Max-Q 96 GB): 1,497.30 EUR/month + 1,499 EUR setup ex VAT for new orders "
    "as of 2026-10-08 (a third party's read of Hetzner's live price file, hetzner.com/_resources/app/data/app/"
    "live_data_prices.json; not confirmed on hetzner.com itself: verify before deciding). The seed note's 6,700 kr./mnd "
    "(= 898 EUR) is the 2025 price (889 EUR + 1.70 EUR IPv4); list prices rose to 1,197.30 + 599 setup on 2026-06-15 "
    "and to 1,497.30 + 1,499 by 2026-10; servers under contract keep their price (Hetzner notice 2026-05-28, "
    "third-party copy). The alternative is not rented yet, so a new order pays today's list. Ranges: fee 997.30 (GEX63, "
    "the same GPU on a smaller host, Hetzner pressroom 2026-10-06) to 1,800 (assumption: one more 2026-style rise); "
    "setup 599-1,499. No minimum term or notice: Hetzner docs 'Cancellations on Robot' (docs.hetzner.com, last change "
    "2026-02-11): dedicated servers can usually be cancelled immediately, billed to the hour, never above the "
    "monthly price")

RENTAL = [
    {"option_id": "aarhusai", "fee_per_replica_per_month": 10000.0, "setup_fee_per_replica": 0.0,
     "vat_rate": 0.25, "vat_unrecoverable_share": 0.0, "minimum_term_months": None, "notice_months": None,
     "fee_escalation_annual": 0.0, "fee_is_assumption": "yes", "as_of": None, "currency": "DKK",
     "source": f"assumption: the HPC-centre price is unknown ({SEED}: '?? kr./mnd'), taken as ex VAT; the Breakeven "
               "sheet solves for the fee at which aarhusai costs the same as the alternative; term and notice "
               f"unknown (blank = 0). VAT: Danish VAT 25% on a Danish supplier's invoice; {VAT_DK.split('; ', 1)[1]}"},
    {"option_id": "alternative", "fee_per_replica_per_month": 1497.30, "setup_fee_per_replica": 1499.0,
     "vat_rate": 0.25, "vat_unrecoverable_share": 0.0, "minimum_term_months": 0, "notice_months": 0,
     "fee_escalation_annual": 0.0, "fee_is_assumption": "no", "as_of": dt.date(2026, 10, 8), "currency": "EUR",
     "source": f"{GEX131_PRICE}. VAT: {VAT_DK}"},
]

CLOUD_RATES = [
    {"option_id": "cloud-h100-ondemand", "on_demand_per_gpu_hour": 4.29, "reserved_per_gpu_hour": None,
     "spot_per_gpu_hour": None, "reserved_replicas": 0, "commitment_term_years": None, "upfront": None,
     "upfront_share": None, "reservation_start_quarter": None, "spot_share": 0.0, "spot_interruption_overhead": 0.10,
     "rate_escalation_annual": -0.10, "as_of": dt.date(2026, 9, 25), "currency": "USD",
     "source": "Lambda 1x H100 SXM on demand 4.29 USD/GPU-h (lambda.ai/pricing as transcribed by "
               "github.com/tgarg01/silybench-data derived/cost.json, checked 2026-09-25; Nebius 3.85, RunPod 2.69-3.49 "
               "the same day); -10%/y: H100 rates fell 64-75% from peak [introl-unit] (assumption); no reservation"},
    {"option_id": "cloud-h100-mix", "on_demand_per_gpu_hour": 4.29, "reserved_per_gpu_hour": 2.57,
     "spot_per_gpu_hour": 2.25, "reserved_replicas": 1, "commitment_term_years": 1, "upfront": "none",
     "upfront_share": None, "reservation_start_quarter": None, "spot_share": 0.3, "spot_interruption_overhead": 0.10,
     "rate_escalation_annual": -0.10, "as_of": dt.date(2026, 5, 1), "currency": "USD",
     "source": "on demand as cloud-h100-ondemand (4.29, 2026-09-25); reserved: 1-year term, no upfront, 40% below on "
               "demand = 2.57 (assumption: secondary sources give 35-50% for 1 year, e.g. digiterialabs.com Q1 2026 "
               "'35-40% off'; no provider's own reserved H100 price found); spot ~2.25 GCP [gcp-gpu] (digest, "
               "2026-05: the row's date is that oldest figure's); assumption: 1 reserved replica (2 H100, one TP=2 "
               "replica) keeps the always-up replica committed, renewed yearly; 30% of the further replica-hours on "
               "spot with 10% preemption overhead"},
]

API_PRICES = [
    {"option_id": "api-claude-sonnet", "provider": "Anthropic", "api_model": "Claude Sonnet 5.5",
     "input_per_mtok": 2.00, "output_per_mtok": 10.00, "prompt_caching": "yes", "cached_input_per_mtok": 0.20,
     "cache_write_per_mtok": 2.50,
     "batch_discount": 0.5, "long_context_threshold_tokens": None, "long_context_input_per_mtok": None,
     "long_context_output_per_mtok": None, "enterprise_discount": 0.0, "annual_price_change": 0.0,
     "as_of": dt.date(2026, 11, 30), "currency": "USD",
     "source": "Anthropic's Sonnet 5 page (platform.claude.com/docs/.../models/sonnet-5/overview, undated 2026, read "
               "2026-11-30): 2 in / 10 out, 5-minute cache write 2.50, cache read 0.20, batch -50%; Sonnet 5.5 at the "
               "same price (third-party changelog, 2026-09-29). Sonnet 4.6 (3/15/0.30/3.75) is marked legacy on "
               "Anthropic's page. No long-context premium assumed (removed for 4.6 on 2026-03-13, secondary)"},
    {"option_id": "api-gemini-pro", "provider": "Google", "api_model": "Gemini 3.1 Pro",
     "input_per_mtok": 2.00, "output_per_mtok": 12.00, "prompt_caching": "yes", "cached_input_per_mtok": 0.20,
     "cache_write_per_mtok": 2.00,
     "batch_discount": 0.5, "long_context_threshold_tokens": 200000, "long_context_input_per_mtok": 4.00,
     "long_context_output_per_mtok": 18.00, "enterprise_discount": 0.0, "annual_price_change": 0.0,
     "as_of": dt.date(2026, 6, 9), "currency": "USD",
     "source": "Google's own price page is not in our stored sources (verify at ai.google.dev/gemini-api/docs/pricing): "
               "2/12 up to 200K and 4/18 above, batch half (blog.laozhang.ai, 'as of March 28, 2026'; batch rule on "
               "ai.google.dev/gemini-api/docs/optimization); context-cache read 0.20 (techjacksolutions.com, 'as of June "
               "9, 2026'); writes at the input price (assumption); storage per hour not counted"},
    {"option_id": "api-gemini-flash-lite", "provider": "Google", "api_model": "Gemini 2.5 Flash-Lite",
     "input_per_mtok": 0.10, "output_per_mtok": 0.40, "prompt_caching": "yes", "cached_input_per_mtok": 0.01,
     "cache_write_per_mtok": 0.10,
     "batch_discount": 0.5, "long_context_threshold_tokens": None, "long_context_input_per_mtok": None,
     "long_context_output_per_mtok": None, "enterprise_discount": 0.0, "annual_price_change": 0.0,
     "as_of": dt.date(2026, 3, 28), "currency": "USD",
     "source": "0.10/0.40 (aifreeapi.com, March 2026; morphllm.com quoting Google's page); batch half "
               "(ai.google.dev/gemini-api/docs/optimization); cache read 0.01: assumption (10% of input, as for 3.1 "
               "Pro; not found); writes at the input price (assumption). Gemini 3.1 Flash-Lite (GA 2026-05-07) costs "
               "0.25/1.50 (macaron.im citing Google's page of 2026-03-03): stale row, verify"},
    {"option_id": "api-deepseek", "provider": "DeepSeek", "api_model": "DeepSeek V4.1-Flash (deepseek-flash)",
     "input_per_mtok": 0.2145, "output_per_mtok": 0.858, "prompt_caching": "yes", "cached_input_per_mtok": 0.00429,
     "cache_write_per_mtok": 0.2145,
     "batch_discount": 0.0, "long_context_threshold_tokens": None, "long_context_input_per_mtok": None,
     "long_context_output_per_mtok": None, "enterprise_discount": 0.0, "annual_price_change": 0.0,
     "as_of": dt.date(2026, 11, 15), "currency": "USD",
     "source": "api-docs.deepseek.com/quick_start/pricing (copy of 2026-11-15): deepseek-flash off-peak 0.15 miss / "
               "0.003 hit / 0.60 out, peak twice that; peak = 01-04 and 06-10 UTC on weekdays, i.e. 07/08-11/12 of the "
               "Danish office day: 43% of requests at peak (the HourlyProfile's 08-11, 3 of 8 office hours in winter, "
               "4 in summer), so prices = off-peak x 1.43 (derived); misses (writes) at the input price; no batch "
               "discount on the page. V3.2's 0.28/0.028/0.42 (2025-12-09) is superseded: deepseek-chat now points to V4"},
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
            "batch_eligible_share": 0.10, "long_context_share": 0.0, "peak_to_average": None,
            "working_days_per_week": 5.0, "busy_hours_per_day": None, "intra_hour_peak_factor": 1.3,
            "min_user_tok_s": 10.0, "max_ttft_s": 2.0,
            "source": ("assumption: ~2,000 staff users x 5 requests/working day at start, +8%/quarter; 1,500 in / 350 out "
                       "tokens (RAG chat); 30% cached system prompt; 10% overnight batch; demand on 5 working days "
                       "(37-hour week, pav.medst.dk) with the HourlyProfile sheet's day; peaks within the busiest hour "
                       "1.3x its mean (assumption: meeting-break bursts); 10 tok/s reading speed; TTFT 2 s = MLPerf "
                       "Llama-2-70B server limit (reference/data/README.md)")
            if i == 0 else "as the first quarter; requests +8% per quarter (assumption)",
        })
        requests *= 1.08
    return rows


WORKLOAD = _workload_rows()

UTILIZATION: list[dict] = []

# A municipal working day: 85% of requests 08:00-16:00, the busiest hour (09-10) 15% of the day.
_HOURLY = (0.005, 0.005, 0.005, 0.005, 0.005, 0.005, 0.01, 0.03,  # 00-07
           0.09, 0.15, 0.14, 0.10, 0.08, 0.11, 0.10, 0.08,  # 08-15
           0.03, 0.015, 0.005, 0.01, 0.005, 0.005, 0.005, 0.005)  # 16-23
HOURLY_PROFILE = [
    {"hour": h, "share_of_daily_requests": sh,
     "source": ("assumption: 85% of a working day's requests 08-16, busiest hour 15% (range 12-20%); Microsoft's "
                "Copilot usage report (Dec 2025, via searchenginejournal.com) and tianpan.co (2026-05-09) show use "
                "following the workday but give no hourly numbers") if h == 0 else "as hour 0"}
    for h, sh in enumerate(_HOURLY)
]

# Staff: hours x one loaded rate, the same role for every option (like for like).
ROLES = [
    {"role": "platform-engineer", "loaded_rate_per_hour": 469.0, "rate_escalation_annual": 0.03, "currency": "DKK",
     "source": ("assumption: 50,000 DKK/month incl. pension (PROSA state IT scale 2023 top step 30,412 + 15% pension, "
                "with local supplements, to 2026; prosa.dk) x 12 x 1.25 overhead / 1,600 productive hours (37-hour "
                "week, pav.medst.dk, less holidays and absence) = 469 DKK/h; wage growth 3%/y assumption")},
]
STAFF = [
    {"option_id": "aarhusai", "role": "platform-engineer", "hours_per_month": 24.0, "one_off_hours": 0.0,
     "source": "assumption: patching, monitoring, office-hours on-call and a quarterly model upgrade of one serving "
               "stack (range 8-60 h); no setup: the platform runs today"},
    {"option_id": "alternative", "role": "platform-engineer", "hours_per_month": 24.0, "one_off_hours": 120.0,
     "source": "assumption: as aarhusai; 120 h to set up and migrate (range 80-240; aipromptshub.co: 2-4 weeks for "
               "a first production deployment)"},
    {"option_id": "alternative-owned", "role": "platform-engineer", "hours_per_month": 32.0, "one_off_hours": 160.0,
     "source": "assumption: as alternative plus 8 h/month of hardware care (colocation visits, RMAs) and 40 h of "
               "procurement and racking"},
    {"option_id": "cloud-h100-ondemand", "role": "platform-engineer", "hours_per_month": 24.0, "one_off_hours": 120.0,
     "source": "assumption: the same serving stack to run on rented GPUs"},
    {"option_id": "cloud-h100-mix", "role": "platform-engineer", "hours_per_month": 28.0, "one_off_hours": 120.0,
     "source": "assumption: as on demand plus 4 h/month to manage the reservation and spot interruptions"},
] + [
    {"option_id": oid, "role": "platform-engineer", "hours_per_month": 8.0, "one_off_hours": 40.0,
     "source": "assumption: API integration, data-processing agreement review, key and cost monitoring, model "
               "deprecation migrations (range 4-16 h/month, 20-80 h once)"}
    for oid in ("api-claude-sonnet", "api-gemini-pro", "api-gemini-flash-lite", "api-deepseek")
]

# Market value of owned hardware (server and GPUs) by age: no tracked curve exists for the RTX PRO 6000.
RESALE = [
    {"option_id": "alternative-owned", "age_years": float(a), "resale_share": sh,
     "source": ("assumption: midpoint of the SpotWire eBay H100 curve (78/60/46/35% at 1-4 y, spotwire.ai, "
                "2026-06-04) and a lender residual curve (60-65/40-45/25-35/15-20/10-15%, 2026-01-08); no tracked "
                "curve for workstation cards") if a == 1 else "as age 1"}
    for a, sh in ((1, 0.70), (2, 0.50), (3, 0.35), (4, 0.22), (5, 0.12))
]

PAIRS = [
    {"from_option_id": "alternative", "to_option_id": "alternative-owned",
     "source": "buy instead of rent the same server (issue 9)"},
]

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
    # the same rate on the other H100 option: sampled alike (Correlations), or the two would not be like for like
    {"sheet": "CloudRates", "row_id": "cloud-h100-ondemand", "field": "on_demand_per_gpu_hour", "low": 1.99,
     "high": 6.88, "distribution": "triangular",
     "source": "RunPod 1.99 to AWS 6.88 USD/GPU-h [getdeploying][siliconanalysts], as cloud-h100-mix"},
    {"sheet": "Rental", "row_id": "alternative", "field": "fee_per_replica_per_month", "low": 997.30, "high": 1800.0,
     "distribution": "triangular", "source": "997.30 EUR: Hetzner GEX63, the same GPU (pressroom 2026-10-06); 1,800: "
     "assumption, one more 2026-style rise; mode: GEX131 new-order list 1,497.30 (2026-10-08, third-party read)"},
    {"sheet": "Rental", "row_id": "alternative", "field": "setup_fee_per_replica", "low": 599.0, "high": 1499.0,
     "distribution": "triangular", "source": "599 EUR (GEX131 list of 2026-06-15) to 1,499 EUR (2026-10-08), both "
     "third-party reads of Hetzner's price list"},
    {"sheet": "Rental", "row_id": "alternative", "field": "vat_unrecoverable_share", "low": 0.0, "high": 1.0,
     "distribution": "triangular", "source": "assumption: 0 for a municipality (momsrefusionsordning) up to all of "
     "it for an owner that can neither deduct nor get VAT refunded"},
    {"sheet": "Roles", "row_id": "platform-engineer", "field": "loaded_rate_per_hour", "low": 370.0, "high": 610.0,
     "distribution": "triangular", "source": "assumption: 44,000-56,000 DKK/month incl. pension, overhead 1.15-1.40"},
] + [
    # Staff is the largest cost of most options: its hours carry the Staff sheet's own ranges. Every self-hosted
    # option runs one serving stack (the Staff sources: 'as aarhusai'), so their hours move as one quantity
    # (Correlations), each keeping its own extra hours; the APIs' hours likewise among themselves.
    {"sheet": "Staff", "row_id": oid, "field": field, "low": low, "high": high, "distribution": "triangular",
     "source": src}
    for field, rows in {
        "hours_per_month": [
            ("aarhusai", 8.0, 60.0, "assumption (Staff!E3): one serving stack, 8-60 h/month"),
            ("alternative", 8.0, 60.0, "assumption: as aarhusai, 8-60 h/month"),
            ("alternative-owned", 16.0, 68.0, "assumption: as aarhusai plus its 8 h/month of hardware care"),
            ("cloud-h100-ondemand", 8.0, 60.0, "assumption: as aarhusai, 8-60 h/month"),
            ("cloud-h100-mix", 12.0, 64.0, "assumption: as aarhusai plus its 4 h/month of reservation and spot care"),
        ] + [(api, 4.0, 16.0, "assumption (Staff sheet source): 4-16 h/month for an API")
             for api in ("api-claude-sonnet", "api-gemini-pro", "api-gemini-flash-lite", "api-deepseek")],
        "one_off_hours": [
            ("alternative", 80.0, 240.0, "assumption (Staff!E4): 80-240 h to set up and migrate"),
            ("alternative-owned", 120.0, 280.0, "assumption: as alternative plus its 40 h of procurement and racking"),
            ("cloud-h100-ondemand", 80.0, 240.0, "assumption: as alternative, 80-240 h"),
            ("cloud-h100-mix", 80.0, 240.0, "assumption: as alternative, 80-240 h"),
        ] + [(api, 20.0, 80.0, "assumption (Staff sheet source): 20-80 h once for an API")
             for api in ("api-claude-sonnet", "api-gemini-pro", "api-gemini-flash-lite", "api-deepseek")],
    }.items()
    for oid, low, high, src in rows
] + [
    # every API's price trend, not one: like for like (Correlations: one market, each provider its own amount)
    {"sheet": "ApiPrices", "row_id": api, "field": "annual_price_change", "low": -0.5, "high": 0.0,
     "distribution": "uniform", "source": "30-50%/y declines of quality-adjusted prices [pec-2026] vs sticky "
     "same-SKU, as api-claude-sonnet"}
    for api in ("api-gemini-pro", "api-gemini-flash-lite", "api-deepseek")
]

_SELF_HOSTED = ("alternative", "alternative-owned", "cloud-h100-ondemand", "cloud-h100-mix")
_APIS = ("api-claude-sonnet", "api-gemini-pro", "api-gemini-flash-lite", "api-deepseek")

CORRELATIONS = [
    {"first": "CloudRates/cloud-h100-mix/on_demand_per_gpu_hour",
     "second": "CloudRates/cloud-h100-ondemand/on_demand_per_gpu_hour", "rank_correlation": 1.0,
     "source": "the same rate: both options quote Lambda's H100 on-demand price (4.29 USD/GPU-h, 2026-09-25; "
               "cloud-h100-mix's source: 'on demand as cloud-h100-ondemand'), so a sample moves both"},
] + [
    {"first": "Staff/aarhusai/hours_per_month", "second": f"Staff/{oid}/hours_per_month", "rank_correlation": 1.0,
     "source": "assumption: the same work, one serving stack (Staff sources: 'as aarhusai'); one quantity"}
    for oid in _SELF_HOSTED
] + [
    {"first": "Staff/api-claude-sonnet/hours_per_month", "second": f"Staff/{api}/hours_per_month",
     "rank_correlation": 1.0, "source": "assumption: the same work for any API (integration, monitoring, "
     "migrations); one quantity"}
    for api in _APIS[1:]
] + [
    {"first": "Staff/aarhusai/hours_per_month", "second": "Staff/api-claude-sonnet/hours_per_month",
     "rank_correlation": 0.5, "source": "assumption: the same team's efficiency moves both; the work differs"},
] + [
    {"first": "Staff/alternative/one_off_hours", "second": f"Staff/{oid}/one_off_hours", "rank_correlation": 1.0,
     "source": "assumption: the same setup and migration of one serving stack; one quantity"}
    for oid in _SELF_HOSTED[1:]
] + [
    {"first": "Staff/api-claude-sonnet/one_off_hours", "second": f"Staff/{api}/one_off_hours",
     "rank_correlation": 1.0, "source": "assumption: the same integration work for any API; one quantity"}
    for api in _APIS[1:]
] + [
    {"first": f"ApiPrices/{a}/annual_price_change", "second": f"ApiPrices/{b}/annual_price_change",
     "rank_correlation": 0.7, "source": "assumption: one market trend moves every provider's prices, each by its "
     "own amount"}
    for i, a in enumerate(_APIS) for b in _APIS[i + 1:]
]
