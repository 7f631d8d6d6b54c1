"""hf-linker: pinned, offline-ready project views of the Hugging Face cache."""

__version__ = "0.1.0"
