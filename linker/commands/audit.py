"""`linker audit [ID]...`: each entry's pinned files by risk class, and what each pickle imports (offline)."""

from __future__ import annotations

import click

from ..context import App, json_option, pass_app
from ..errors import EXIT_FAILED, EXIT_OK


@click.command()
@click.argument("ids", nargs=-1, metavar="[ID]...")
@json_option
@pass_app
def command(app: App, ids: tuple[str, ...]) -> int:
    """List each entry's pinned files by risk: pickle (runs code when loaded), remote code (`*.py`, run by
    trust_remote_code=True) and safe. Pickles on this machine (global cache or view) are read, opcodes only,
    never unpickled: the globals each imports are listed, and one importing anything but torch/numpy/collections
    rebuild functions is dangerous. Offline; reads the lock and the caches only.

    Exit codes: 0 nothing the lock's `policy:` refuses; 1 the policy refuses a file (deny, or a dangerous pickle);
    2 lockfile error.
    """
    from ..policy import audit_entry, cache_locator, findings, pinned_paths
    from ..render.audit import render_audit

    lock = app.lockfile()
    global_cache = app.global_cache(lock.view)
    locate = cache_locator(global_cache, lock.view)
    audits = [audit_entry(e, paths, locate) for e, paths in pinned_paths(lock, global_cache, lock.select(ids))]
    found = [f for a in audits for f in findings(a, lock.policy)]
    refused = [f for f in found if f.refused]
    if app.json:
        app.emit_json(
            {
                "policy": {"pickle": lock.policy.pickle, "remote_code": lock.policy.remote_code},
                "entries": [a.to_json() for a in audits],
                "refused": [
                    {"id": f.label, "path": f.path, "kind": f.kind.value, "exclude": f.exclude} for f in refused
                ],
            }
        )
    else:
        render_audit(app, audits, refused)
    return EXIT_FAILED if refused else EXIT_OK
