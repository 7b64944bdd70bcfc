"""Which hardware and model a roofline run uses: catalogue ids, a hardware file, a config.json.

Shared by the CLI (``tcomodel roofline --hardware-file / --model-config``) and Python callers, so
the command line only parses and prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tcomodel.catalogue import HardwareSpec, ModelSpec
from tcomodel.catalogue.hardware_file import load_hardware_file
from tcomodel.catalogue.hf_config import ConfigDerivation, load_model_config
from tcomodel.errors import UsageError


@dataclass(frozen=True)
class ChosenInputs:
    hardware: str | HardwareSpec
    model: str | ModelSpec
    hardware_catalogue: dict
    model_catalogue: dict
    derivation: ConfigDerivation | None = None  # set when the model came from a config.json
    hardware_from_file: tuple[HardwareSpec, ...] = field(default=())


def choose_inputs(hardware: str | None, model: str | None, *, hardware_catalogue: dict, model_catalogue: dict,
                  hardware_file: str | Path | None = None, model_config: str | Path | None = None) -> ChosenInputs:
    """Hardware: ``hardware`` (an id) and/or the rows of ``hardware_file`` (added to the catalogue;
    its only row is used when no id is given). Model: ``model`` (an id) or ``model_config`` (a
    Hugging Face config.json, or a folder holding one), not both."""
    hw_cat, model_cat = dict(hardware_catalogue), dict(model_catalogue)
    from_file: tuple[HardwareSpec, ...] = ()
    if hardware_file is not None:
        from_file = tuple(load_hardware_file(hardware_file))
        hw_cat.update({s.hardware_id: s for s in from_file})
        if hardware is None:
            if len(from_file) > 1:
                raise UsageError(f"{hardware_file} holds {len(from_file)} hardware rows "
                                 f"({', '.join(s.hardware_id for s in from_file)}); choose one with --hardware ID")
            hardware = from_file[0].hardware_id
    if hardware is None:
        raise UsageError("no hardware given: pass --hardware ID (see `tcomodel catalogue hardware`) "
                         "or --hardware-file PATH")
    derivation = None
    if model_config is not None:
        if model is not None:
            raise UsageError("give either --model ID or --model-config PATH, not both")
        derivation = load_model_config(model_config)
        model = derivation.spec
        model_cat[derivation.spec.model_id] = derivation.spec
    if model is None:
        raise UsageError("no model given: pass --model ID (see `tcomodel catalogue models`) "
                         "or --model-config PATH (a Hugging Face config.json)")
    return ChosenInputs(hardware, model, hw_cat, model_cat, derivation, from_file)
