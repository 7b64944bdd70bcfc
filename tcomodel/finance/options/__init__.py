"""One module per option kind; ``BUILDERS`` dispatches an option to its kind's builder.

Which module builds a kind is stated in the kind registry (``tcomodel.kinds.KINDS[kind].module``); here the
names become functions. Each builder takes the shared Context, the option id, its Options row and
(self-hosted kinds) the roofline capacity, and returns an OptionModel. What several kinds share lives in
``common``.
"""

from importlib import import_module

from tcomodel.kinds import KINDS

BUILDERS = {name: import_module(f"{__name__}.{spec.module}").build for name, spec in KINDS.items()}

__all__ = ["BUILDERS"]
