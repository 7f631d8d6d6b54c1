"""`linker env` as text: `export` lines a shell can `eval`."""

from __future__ import annotations

import shlex

from ..context import App


def render_env(app: App, env: dict[str, str]) -> None:
    for key, value in env.items():
        app.out(f"export {key}={shlex.quote(value)}")
