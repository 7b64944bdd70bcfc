"""Physics check on claims from reference/seeds/hardware-guide-3.5bit.txt."""

import pytest

from tcomodel.roofline import HARDWARE_GUIDE_CLAIMS, check_claim, estimate


def test_rtx4090_70b_claim_does_not_fit_and_breaks_bound():
    r = check_claim("rtx-4090", "llama-3-70b", "int4", 1800, bits_per_weight=3.5)
    # 70.6e9 x 3.5 / 8 = 30.9 GB > 24 GB held; a step reads all but the untied input-embedding table
    # (128,256 x 8,192 = 1.05 B params, one row gathered): 30.43 GB -> bound 1008 / 30.43 = 33.1 tok/s
    assert r["weights_gb"] == pytest.approx(70.6 * 3.5 / 8)
    assert r["verdict"] == "does_not_fit" and not r["fits"]
    assert r["bound_tok_s"] == pytest.approx(1008e9 / ((70.6e9 - 128256 * 8192 + 8192) * 3.5 / 8))
    assert r["factor"] == pytest.approx(1800 / r["bound_tok_s"])
    assert 50 < r["factor"] < 60


def test_h100_claim_fits_but_exceeds_bound():
    r = check_claim("h100-sxm", "llama-3-70b", "int4", 6500, bits_per_weight=3.5)
    assert r["verdict"] == "exceeds_bound" and r["fits"]
    # 3350 GB/s / ((70.6 B - 1.05 B embedding table + one row) x 3.5 / 8) = 110.1 tok/s
    assert r["bound_tok_s"] == pytest.approx(3350e9 / ((70.6e9 - 128256 * 8192 + 8192) * 3.5 / 8))
    assert r["factor"] == pytest.approx(59.0, abs=0.1)  # 6500 / 110.1


def test_reasonable_claim_is_within_bound():
    r = check_claim("h100-sxm", "llama-3-70b", "int4", 80, bits_per_weight=3.5)
    assert r["verdict"] == "within_bound" and r["factor"] < 1


def test_all_guide_claims_flagged():
    assert len(HARDWARE_GUIDE_CLAIMS) >= 8
    for c in HARDWARE_GUIDE_CLAIMS:
        assert {"hardware_id", "model_id", "bits", "claimed_tok_s", "quote", "gpus"} <= set(c)
        r = check_claim(c["hardware_id"], c["model_id"], "int4", c["claimed_tok_s"], gpus=c["gpus"],
                        bits_per_weight=c["bits"])
        assert r["verdict"] != "within_bound", c
        assert r["factor"] > 5


def test_estimate_carries_claim_verdict():
    e = estimate("rtx-4090", "llama-3-70b", "int4", bits_per_weight=3.5, claimed_tok_s=1800)
    assert e.claim_verdict == "does_not_fit" and e.claim_factor == pytest.approx(54.3, abs=0.1)  # 1800 / 33.13
    assert not e.fits and e.offloaded_gb_per_gpu > 0
