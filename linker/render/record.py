"""`linker record`'s report and `linker run --strict`'s misses. Both go to stderr: CMD's stdout stays its own."""

from __future__ import annotations

import click

from ..record.lockwrite import LockEdits
from ..record.report import Gap, RepoUse


def render_record(uses: list[RepoUse], gaps: list[Gap], edits: LockEdits | None, lock_path: str | None) -> None:
    say = _err
    if not uses:
        say("linker record: the command looked up no Hub file")
    for use in uses:
        revs = ", ".join(sorted(use.asked))
        commits = ", ".join(c[:12] for c in sorted(use.commits)) or "unknown commit"
        say(
            f"{use.label} (asked {revs}, loaded {commits}): {len(use.loaded)} loaded, "
            f"{len(use.absent - use.loaded)} probed and absent"
        )
        for p in sorted(use.loaded):
            say(f"    loaded  {p}")
        for p in sorted(use.absent - use.loaded):
            say(f"    absent  {p}")
        for p, why in sorted(use.failed.items()):
            say(f"    failed  {p or '(repo)'}: {why}")
    if edits is not None:
        for label, why in edits.skipped.items():
            say(f"  - {label}: not written to the lock, {why}")
        if edits.labels:
            say(f"wrote {', '.join(edits.labels)} to {lock_path}")
    for g in gaps:
        say(f"  ! {g.repo}{': ' + g.path if g.path else ''} ({g.kind}: {g.detail})")
    if gaps:
        say("the lock does not cover what the command loaded; `linker record --lock -- CMD` writes it")
    elif uses:
        say("the lock covers everything the command loaded")


def render_misses(misses: list[tuple[str, str]], cmd: str) -> None:
    for label, path in misses:
        _err(f"{label}: {path or '(the repo)'} (not in the lock: linker record --lock -- {cmd} adds it)")


def _err(text: str) -> None:
    click.echo(text, err=True)
