"""hf-linker: pinned, offline-ready project views of the Hugging Face cache.

The Python API (importing `linker` stays light: no huggingface_hub, no click, no yaml until a call needs it):
`linker.path(id)` the pinned snapshot folder in the view, `linker.revision(id)` the pinned commit,
`linker.activate()` this process loads from the view, offline. See "Python API" in README.md.
"""

from .api import NotPinnedError, NotSyncedError, activate, path, revision
from .errors import LinkerError
from .libpatch import ActivationError

__version__ = "0.1.0"
__all__ = ["ActivationError", "LinkerError", "NotPinnedError", "NotSyncedError", "activate", "path", "revision"]
