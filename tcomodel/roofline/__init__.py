"""Roofline engine: hardware x model x precision -> memory fit, throughput, latency, claim checks.

Public API: ``estimate``, ``Estimate``, ``decode_curve``, ``check_claim``, ``load_catalogue``,
``merge_overrides``, ``HardwareSpec``, ``ModelSpec``, ``HARDWARE_FIELDS``, ``MODEL_FIELDS``,
``PRECISIONS``, ``KV_PRECISIONS``, ``ENGINE_IDS``, ``HARDWARE_GUIDE_CLAIMS``.
"""

from tcomodel.catalogue import (
    HARDWARE_CATALOGUE_ROWS,
    HARDWARE_FIELDS,
    MODEL_CATALOGUE_ROWS,
    MODEL_FIELDS,
    Field,
    HardwareSpec,
    ModelSpec,
    load_catalogue,
    merge_overrides,
)
from tcomodel.roofline.claims import HARDWARE_GUIDE_CLAIMS, check_claim
from tcomodel.roofline.engines import ENGINE_IDS, ENGINES
from tcomodel.roofline.precision import KV_PRECISIONS, PRECISIONS
from tcomodel.roofline.throughput import Estimate, decode_curve, estimate

__all__ = [
    "Estimate", "Field", "HardwareSpec", "ModelSpec", "ENGINES", "ENGINE_IDS", "HARDWARE_CATALOGUE_ROWS",
    "HARDWARE_FIELDS", "HARDWARE_GUIDE_CLAIMS", "KV_PRECISIONS", "MODEL_CATALOGUE_ROWS", "MODEL_FIELDS",
    "PRECISIONS", "check_claim", "decode_curve", "estimate", "load_catalogue", "merge_overrides",
]
