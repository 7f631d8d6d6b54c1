"""Test infrastructure shared by tests/ and scripts/ (not installed with the package): the cache factory, the local
Hub server, the huggingface_hub probe, filesystem faults, and helpers for the verify/repair/migrate/hub tests."""
