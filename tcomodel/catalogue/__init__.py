"""Hardware and model catalogue: the field contract of the Hardware and Models sheets, typed specs,
the shipped rows, and published claims. Data only, so ``inputs`` and ``roofline`` both use it and
neither imports the other."""

from tcomodel.catalogue.guide_claims import HARDWARE_GUIDE_CLAIMS
from tcomodel.catalogue.specs import (
    GIB, HARDWARE_CATALOGUE_ROWS, HARDWARE_FIELDS, MIB, MODEL_CATALOGUE_ROWS, MODEL_FIELDS, Field,
    HardwareSpec, ModelSpec, load_catalogue, merge_overrides,
)

__all__ = [
    "GIB", "HARDWARE_CATALOGUE_ROWS", "HARDWARE_FIELDS", "HARDWARE_GUIDE_CLAIMS", "MIB",
    "MODEL_CATALOGUE_ROWS", "MODEL_FIELDS", "Field", "HardwareSpec", "ModelSpec", "load_catalogue",
    "merge_overrides",
]
