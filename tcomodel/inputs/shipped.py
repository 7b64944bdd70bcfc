"""The workbooks shipped in the repository, regenerated from code so they never drift from the schema.

Run ``python -m tcomodel.inputs.shipped`` after changing the schema, the defaults or the catalogue.
"""

from __future__ import annotations

import copy
from pathlib import Path

from tcomodel.inputs.template import default_content, write_scenario_workbook

ROOT = Path(__file__).resolve().parents[2]
GUIDE = "hardware guide (reference/seeds/hardware-guide-3.5bit.txt)"


def hardware_guide_content() -> dict:
    """The default scenario with the hardware guide's throughput claims on the Claims sheet."""
    from tcomodel.catalogue import HARDWARE_GUIDE_CLAIMS

    content = copy.deepcopy(default_content())
    content["Scenario"] = [(k, "hardware-guide-claims" if k == "scenario_name" else v, u,
                            f"{GUIDE}: claims checked against the physical bounds" if k == "scenario_name" else s)
                           for k, v, u, s in content["Scenario"]]
    claims = []
    for i, c in enumerate(HARDWARE_GUIDE_CLAIMS, start=1):
        claims.append({"claim_id": f"guide-{i:02d}-{c['hardware_id']}-{c['model_id']}", "hardware_id": c["hardware_id"],
                       "model_id": c["model_id"], "precision": None, "bits_per_weight": c["bits"],
                       "gpus": c.get("gpus", 1), "claimed_tok_s": c["claimed_tok_s"], "quote": c["quote"],
                       "source": c.get("source", GUIDE)})
    content["Claims"] = claims
    return content


SHIPPED = {
    "templates/scenario-template.xlsx": default_content,
    "assumptions/aarhusai-vs-alternative.xlsx": default_content,
    "assumptions/hardware-guide-claims.xlsx": hardware_guide_content,
}


def regenerate(root: Path = ROOT) -> list[Path]:
    out = []
    for rel, content in SHIPPED.items():
        out.append(write_scenario_workbook(root / rel, content(), force=True))
    return out


if __name__ == "__main__":
    for p in regenerate():
        print(f"wrote {p}")
