"""tcomodel: TCO and cost-per-token model for self-hosted LLM inference."""

__version__ = "0.1.0"
