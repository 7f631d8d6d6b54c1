"""A local, standard-library-only Hugging Face Hub for the test suite and the demo.

* `HubStore` (store.py): repos, commits, refs and tokens described on disk.
* `HubServer` (server.py): serves a store over HTTP on 127.0.0.1, plus an LFS "CDN" on a second port.
* pytest fixtures (pytest_plugin.py): ``hub_store``, ``hub``, ``hub_env``, ``hub_cache_dir``.
* ``python -m testing.hubserver --root DIR`` runs a server from the command line.
"""

from .server import HttpError, HubServer
from .store import FileInfo, HubStore, git_blob_sha1, is_default_lfs, lfs_pointer

__all__ = ["FileInfo", "HttpError", "HubServer", "HubStore", "git_blob_sha1", "is_default_lfs", "lfs_pointer"]
