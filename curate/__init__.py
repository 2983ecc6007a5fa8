"""curate: composable, reproducible stages for curating LLM pretraining corpora."""

__version__ = "0.1.0"

__all__ = ["__version__"]
