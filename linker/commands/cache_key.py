"""`linker cache-key`: print a stable digest of the lockfile's pins, the key of a CI cache of the global cache."""

from __future__ import annotations

import click

from ..cachekey import cache_key
from ..context import App, json_option, pass_app
from ..errors import EXIT_OK


@click.command()
@json_option
@pass_app
def command(app: App) -> int:
    """Print a digest of everything that decides the view's content (ids, types, revisions, refs,
    include/exclude, files). Order, comments, formatting, the link mode and the checkout's folder do not change it,
    so every clone gets the same key: use it to key a CI cache of ~/.cache/huggingface/hub."""
    lock = app.lockfile()
    key = cache_key(lock)
    if app.json:
        app.emit_json({"lockfile": str(lock.path), **key.to_json()})
    else:
        app.out(key.digest)
    return EXIT_OK
