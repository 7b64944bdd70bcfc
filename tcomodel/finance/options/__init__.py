"""One module per option kind; ``BUILDERS`` dispatches an option to its kind's builder.

Each builder takes the shared Context, the option id, its Options row and (self-hosted kinds) the
roofline capacity, and returns an OptionModel. What several kinds share lives in ``common``.
"""

from tcomodel.finance.options import api, cloud, owned, rented

BUILDERS = {
    "owned": owned.build,
    "rented_server": rented.build,
    "cloud_gpu": cloud.build,
    "hosted_api": api.build,
}

__all__ = ["BUILDERS"]
