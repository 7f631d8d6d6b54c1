"""`linker record [--lock] [--exact] -- CMD ARGS...`: run CMD as usual and report every Hub file it looked up."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from ..child import check_program, run_forwarding
from ..context import App, json_option, pass_app
from ..errors import EXIT_FAILED, EXIT_OK, ConfigError
from ..lockfile import Lockfile, find_lockfile, load_lockfile
from ..record import read_lookups, recorder_env
from ..record.report import gaps, group
from ..render.record import render_record


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--lock", "write_lock", is_flag=True, help="Write what was loaded into the lock (then its files map).")
@click.option("--exact", is_flag=True, help="With --lock: set existing entries to exactly what was observed.")
@json_option
@click.argument("cmd", nargs=-1, required=True, type=click.UNPROCESSED)
@pass_app
def command(app: App, write_lock: bool, exact: bool, cmd: tuple[str, ...]) -> int:
    """Run CMD in your normal environment (global cache, online unless HF_HUB_OFFLINE is set) and record every
    huggingface_hub lookup it makes, in child processes too: files loaded, files probed and absent, revisions.
    Then compare with the lock: new repos, other revisions, files the entry's include/exclude leaves out.

    --lock writes it: new entries pinned to the commit loaded with `include` = the files loaded and `absent` =
    the files probed and absent; existing entries are only widened (--exact: set to what was observed); then
    each touched entry's `files` map is written as `linker lock` does (online).

    Exit codes: CMD's own when it failed; else 1 when the lock does not cover what was loaded (without --lock);
    else 0. CMD's stdout and stderr pass through; the report goes to stderr (--json: stdout, after CMD's)."""
    if exact and not write_lock:
        raise click.UsageError("--exact goes with --lock")
    env = dict(os.environ)
    check_program(cmd[0], env)
    with tempfile.TemporaryDirectory(prefix="linker-record-") as tmp:
        record_file = Path(tmp) / "lookups.jsonl"
        status = run_forwarding(list(cmd), recorder_env(env, record_file))
        lookups = read_lookups(record_file)
    uses = group(lookups)
    lock = _current_lock(app)
    edits = None
    if write_lock and status == 0:
        from ..record.apply import write_observed

        edits = write_observed(app.config, lock, uses, exact=exact)
        lock = load_lockfile(edits.lock_path) if edits.lock_path else lock
    found = gaps(lock, uses)
    if app.json:
        app.emit_json(
            {
                "command": list(cmd),
                "exit_code": status,
                "lockfile": str(lock.path) if lock else None,
                "repos": [u.to_json() for u in uses],
                "gaps": [g.to_json() for g in found],
                "covered": not found,
                "written": edits.labels if edits else [],
                "skipped": edits.skipped if edits else {},
            }
        )
    else:
        render_record(uses, found, edits, str(lock.path) if lock else None)
    if status != 0:
        return status
    return EXIT_FAILED if found else EXIT_OK


def _current_lock(app: App) -> Lockfile | None:
    try:
        return load_lockfile(find_lockfile(app.config))
    except ConfigError:
        if app.config:
            raise
        return None
