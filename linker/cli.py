"""The `linker` command line: parse, call, render. Commands live in `linker/commands/<verb>.py`, one file
per verb, each exposing `command`; they are imported only when invoked, so `linker status` never pays for
huggingface_hub."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from . import __version__
from .context import App
from .errors import EXIT_FAILED, EXIT_USAGE, LinkerError

_COMMANDS_DIR = Path(__file__).parent / "commands"


def _print_traceback() -> None:
    import traceback  # only with -v, on an error: not paid by every start-up

    traceback.print_exc()


class _TierPath(click.Path):
    """A `--shared-cache` path: an empty one (an unset variable, `--shared-cache "$SHARED"`) is a usage error,
    not the current folder."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("the path is empty (an unset variable?); name a shared HF cache", param, ctx)
        return super().convert(value, param, ctx)


#: The global options: accepted before the verb (`linker -q sync`) and after it (`linker sync -q`), by every command.
GLOBAL_OPTIONS: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (
        ("-c", "--config", "config"),
        {
            "type": click.Path(dir_okay=False),
            "envvar": "LINKER_CONFIG",
            "help": "The lockfile (default: project_cache.yaml here or in a parent folder).",
        },
    ),
    (
        ("--cache-dir", "cache_dir"),
        {
            "type": click.Path(file_okay=False),
            "help": "The global HF cache (default: HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub).",
        },
    ),
    (
        ("--allow-outside-project", "allow_outside"),
        {
            "is_flag": True,
            "envvar": "LINKER_ALLOW_OUTSIDE",
            "help": "Let the lockfile's cache_dir lie outside the project folder (also: LINKER_ALLOW_OUTSIDE=1).",
        },
    ),
    (
        ("--shared-cache", "shared_cache"),
        {
            "type": _TierPath(file_okay=False),
            "multiple": True,
            "help": "A read-only HF cache to link from before downloading; repeatable, consulted in order "
            "(also: LINKER_SHARED_CACHES, paths separated by ':').",
        },
    ),
    (("-v", "--verbose", "verbose"), {"count": True, "help": "More detail; tracebacks on errors."}),
    (("-q", "--quiet", "quiet"), {"is_flag": True, "help": "Only errors."}),
)


def _global_option_after_verb(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A global option given after the verb: set on the App like the group does (only when given)."""
    if value is None or value is False or value == 0 or value == ():
        return value
    app = ctx.ensure_object(App)
    if param.name == "verbose":
        app.verbose += value
    elif param.name == "shared_cache":
        app.shared_cache = (*app.shared_cache, *value)
    else:
        setattr(app, str(param.name), value)
    return value


def _add_global_options(command: click.Command) -> click.Command:
    """Give a command the global options (once): the same table as the group, without env vars (the group
    already read them), setting the App in a callback rather than passing arguments to the command."""
    if getattr(command, "_linker_globals", False):
        return command
    if isinstance(command, click.Group):  # `linker cache move -q`: the subcommands take them too
        for sub in command.commands.values():
            _add_global_options(sub)
    for decls, kwargs in GLOBAL_OPTIONS:
        extra = {k: v for k, v in kwargs.items() if k != "envvar"}
        command.params.append(click.Option(decls, expose_value=False, callback=_global_option_after_verb, **extra))
    command._linker_globals = True  # type: ignore[attr-defined]
    return command


class LazyGroup(click.Group):
    """Discovers `commands/*.py` by name and imports a command's module only when it runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = [p.stem.replace("_", "-") for p in _COMMANDS_DIR.glob("*.py") if not p.stem.startswith("_")]
        return sorted(names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = cmd_name.replace("-", "_")
        if not (_COMMANDS_DIR / f"{module_name}.py").is_file():
            return None
        module = importlib.import_module(f"linker.commands.{module_name}")
        return _add_global_options(module.command)


def _group_options(f: Any) -> Any:
    for decls, kwargs in reversed(GLOBAL_OPTIONS):
        f = click.option(*decls, **kwargs)(f)
    return f


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@_group_options
@click.version_option(__version__, prog_name="linker")
@click.pass_context
def cli(
    ctx: click.Context,
    config: str | None,
    cache_dir: str | None,
    allow_outside: bool,
    shared_cache: tuple[str, ...],
    verbose: int,
    quiet: bool,
) -> None:
    """Pinned, offline-ready per-project views of the Hugging Face cache.

    Exit codes: 0 ok, 1 check failed or something missing, 2 usage or lockfile error,
    3 Hub unreachable / auth / rate limit, 4 lock timeout.
    """
    app = ctx.ensure_object(App)
    app.config, app.cache_dir, app.verbose, app.quiet = config, cache_dir, verbose, quiet
    app.allow_outside, app.shared_cache = allow_outside, shared_cache


def main(argv: list[str] | None = None) -> None:
    args = list(argv if argv is not None else sys.argv[1:])
    verbose = any(a in ("-v", "-vv", "--verbose") for a in args)
    app = App()
    try:
        rv = cli.main(args=args, prog_name="linker", standalone_mode=False, obj=app)
    except LinkerError as exc:
        if verbose:
            _print_traceback()
        _fail(app, args, exc.render(), exc.exit_code, exc.message)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(EXIT_FAILED)
    except click.ClickException as exc:
        exc.show()
        code = EXIT_USAGE if isinstance(exc, click.UsageError) else exc.exit_code
        _fail(app, args, None, code, exc.format_message())
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except OSError as exc:  # the last-resort net: a filesystem fault no boundary converted is still not a bug
        if verbose or os.environ.get("LINKER_DEBUG"):
            _print_traceback()
        where = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
        cause = exc.strerror or str(exc)
        _fail(app, args, f"{where}: {cause}" if where else cause, EXIT_FAILED)
    except Exception as exc:  # a bug: say so in one line unless -v
        if verbose or os.environ.get("LINKER_DEBUG"):
            _print_traceback()
        else:
            click.echo(f"error: internal error: {type(exc).__name__}: {exc} (rerun with -v for a traceback)", err=True)
        sys.exit(EXIT_FAILED)
    sys.exit(rv if isinstance(rv, int) else 0)


def _fail(app: App, args: list[str], line: str | None, code: int, message: str | None = None) -> NoReturn:
    """Print `error: <line>` on stderr (unless already shown) and, with --json, one document on stdout; exit."""
    if line is not None:
        click.echo(f"error: {line}", err=True)
    options = args[: args.index("--")] if "--" in args else args
    if (app.json or "--json" in options) and not app.emitted:
        app.emit_json({"error": message or line, "exit_code": code})
    sys.exit(code)
