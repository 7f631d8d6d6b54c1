"""What every command shares: global options, the lockfile, the global cache, and output channels.

Results go to stdout (one JSON document with `--json`); logs, notices and progress go to stderr.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from .globalcache import choose_global_cache
from .lockfile import Lockfile, find_lockfile, load_lockfile, require_resolved
from .tiers import Tier, shared_tiers

#: The version of every `--json` document (its first key); raised when a key changes meaning or goes away.
JSON_VERSION = 1


@dataclass
class App:
    config: str | None = None
    cache_dir: str | None = None
    verbose: int = 0
    quiet: bool = False
    json: bool = False
    emitted: bool = False  # a JSON document went to stdout (an error then adds no second one)
    allow_outside: bool = False  # --allow-outside-project / LINKER_ALLOW_OUTSIDE=1: cache_dir may leave the project
    shared_cache: tuple[str, ...] = ()  # --shared-cache, repeatable (linker/tiers.py)
    _lock: Lockfile | None = field(default=None, repr=False)
    _noticed: bool = field(default=False, repr=False)  # the global-cache notice was shown

    def lockfile(self, *, unresolved_ok: bool = False) -> Lockfile:
        """The lockfile. Unless `unresolved_ok` (add, remove, lock), an entry not locked to a commit yet is an
        error (exit 2, hint `run linker lock`): this is the one place every command's pins come through."""
        if self._lock is None:
            self._lock = load_lockfile(find_lockfile(self.config))
        return self._lock if unresolved_ok else require_resolved(self._lock)

    def global_cache(self, view: Path | None = None) -> Path:
        """The global cache (never a linker view, nor the project's `view`: linker/globalcache.py); when a source
        named a view, says once (on stderr) which cache is used instead."""
        chosen = choose_global_cache(self.cache_dir, view)
        if chosen.notice and not self._noticed:
            self._noticed = True
            self.log(chosen.notice)
        return chosen.path

    def shared_tiers(self, lock: Lockfile | None, global_cache: Path) -> list[Tier]:
        """The shared read-only tiers, in order (linker/tiers.py): --shared-cache, else LINKER_SHARED_CACHES,
        else the lockfile's `shared_caches:`."""
        return shared_tiers(self.shared_cache, lock, global_cache)

    def project(self) -> tuple[Lockfile, Path]:
        """The lockfile and the global cache, for a command that writes or reads the view: refuses (exit 2) a
        `cache_dir` outside the project (unless confirmed), a system folder, and a view that is the global cache."""
        from .viewguard import check_view_location

        lock = self.checked_lockfile()
        global_cache = self.global_cache(lock.view)
        check_view_location(lock.view, [global_cache, *(t.path for t in self.shared_tiers(lock, global_cache))])
        return lock, global_cache

    def checked_lockfile(self) -> Lockfile:
        """The lockfile, with its `cache_dir` checked: inside the project (unless confirmed), not a system folder,
        and a folder (not a file or a symlink loop); exit 2 otherwise."""
        from .errors import check_folder
        from .viewguard import check_cache_dir

        lock = self.lockfile()
        check_cache_dir(lock, allow_outside=self.allow_outside)
        check_folder(lock.view, "the view", hint=f"`cache_dir` in {lock.path} must name a folder")
        return lock

    # output -----------------------------------------------------------------------------------------------
    def out(self, text: str = "") -> None:
        """A result line on stdout (suppressed in --json mode, where the document is the result)."""
        if not self.json:
            click.echo(text)

    def log(self, text: str) -> None:
        """A progress or notice line on stderr (hidden by -q)."""
        if not self.quiet:
            click.echo(text, err=True)

    def emit_json(self, doc: dict[str, Any]) -> None:
        """The one JSON document of this run (results and errors alike), stamped with `linker_json_version`."""
        self.emitted = True
        sys.stdout.write(json.dumps({"linker_json_version": JSON_VERSION, **doc}, indent=2, default=str) + "\n")

    @property
    def tty(self) -> bool:
        return sys.stderr.isatty() and not self.quiet and not self.json


pass_app = click.make_pass_decorator(App, ensure=True)


def json_option(f: Any) -> Any:
    """`--json`: one JSON document on stdout, logs on stderr."""

    def _set(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        if value:
            ctx.ensure_object(App).json = True
        return value

    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        expose_value=False,
        callback=_set,
        help="Print one JSON document on stdout; logs go to stderr.",
    )(f)
