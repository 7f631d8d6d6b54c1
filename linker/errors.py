"""The user-facing errors of linker, each with its exit code.

The CLI renders a `LinkerError` as one line on stderr and exits with `exit_code`; anything else is a bug and
gets a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1  # a check failed, drift, or something is missing
EXIT_USAGE = 2  # usage, config or lockfile error
EXIT_HUB = 3  # Hub unreachable, auth or rate limit
EXIT_LOCK_TIMEOUT = 4  # a lock was not obtained in time


class LinkerError(Exception):
    """Base class: a problem the user can act on, rendered as one line."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class ConfigError(LinkerError):
    """The lockfile or the command line is wrong (exit 2)."""

    exit_code = EXIT_USAGE


class LockfileError(ConfigError):
    """A lockfile problem at a known place: `file:line:col: message`."""

    def __init__(self, path: object, line: int | None, col: int | None, message: str) -> None:
        where = f"{path}:{line}:{col}" if line is not None else f"{path}"
        super().__init__(f"{where}: {message}")
        self.line, self.col = line, col


class NotFoundError(LinkerError):
    """Something needed is missing (exit 1)."""


class HubError(LinkerError):
    """The Hub is unreachable, refused our credentials, or rate-limited us (exit 3)."""

    exit_code = EXIT_HUB


class LockTimeout(LinkerError):
    """Another process holds a lock we need (exit 4)."""

    exit_code = EXIT_LOCK_TIMEOUT


class FilesystemError(LinkerError):
    """An ordinary filesystem fault (read-only, full disk, not a folder, a loop...) at a known path.

    Rendered as `<what> <path>: <cause>`; exit 1 by default (a later run can succeed), or 2 when the path comes
    from the user's configuration."""

    def __init__(
        self, path: object, exc: OSError, *, what: str = "", exit_code: int = EXIT_FAILED, hint: str | None = None
    ) -> None:
        cause = exc.strerror or type(exc).__name__
        subject = f"{what} {path}" if what else f"{path}"
        super().__init__(f"{subject}: {cause}", hint=hint)
        self.path, self.errno = path, exc.errno
        self.exit_code = exit_code


#: errno values that mean "this path is the wrong kind of thing" (a file where a folder is wanted, a loop...):
#: where the path comes from the configuration, that is a configuration error (exit 2).
WRONG_KIND = frozenset({errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.ELOOP, errno.ENAMETOOLONG})
_TMP_NAME = re.compile(r"\.(?P<name>.+)\.[0-9a-f]{8}\.linker-tmp")  # fsutil.tmp_path's names


@contextlib.contextmanager
def fs_boundary(
    path: object,
    what: str = "",
    *,
    exit_code: int = EXIT_FAILED,
    wrong_kind_exit: int | None = None,
    hint: str | None = None,
) -> Iterator[None]:
    """Turn an `OSError` raised inside the block into a `FilesystemError` naming the path it happened at (the
    destination of a two-path call, never a temp name) or else `path`. `wrong_kind_exit` is the exit code when
    the errno is in WRONG_KIND (the rule: an OSError from a known filesystem operation becomes a LinkerError
    where the path is known)."""
    try:
        yield
    except OSError as exc:
        code = wrong_kind_exit if wrong_kind_exit is not None and exc.errno in WRONG_KIND else exit_code
        where = _fault_path(exc) or path
        raise FilesystemError(where, exc, what=what, exit_code=code, hint=hint) from exc


def _fault_path(exc: OSError) -> str | None:
    name = exc.filename2 if exc.filename2 is not None else exc.filename
    if name is None:
        return None
    name = os.fsdecode(name) if isinstance(name, (str, bytes)) else str(name)
    head, tail = os.path.split(name)
    if m := _TMP_NAME.fullmatch(tail):
        return os.path.join(head, m["name"])  # the file the temp name was about to become
    return name


def check_folder(path: Path, what: str, *, exit_code: int = EXIT_USAGE, hint: str | None = None) -> None:
    """Raise a `FilesystemError` (exit 2: it comes from the configuration) when `path` exists but is not a
    folder or cannot be looked at (a symlink loop); nothing when it is a folder or absent."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise FilesystemError(path, exc, what=what, exit_code=exit_code, hint=hint) from exc
    if not stat.S_ISDIR(st.st_mode):
        not_dir = NotADirectoryError(errno.ENOTDIR, "not a folder")
        raise FilesystemError(path, not_dir, what=what, exit_code=exit_code, hint=hint)


_warned: set[str] = set()


def warn_once(key: str, message: str) -> None:
    """A one-line `warning: ...` on stderr, at most once per process for `key` (e.g. a bad environment value)."""
    if key not in _warned:
        _warned.add(key)
        import logging  # only on this rare path: logging costs a no-op's start-up 5 ms

        logging.getLogger("linker").warning("warning: %s", message)


def env_seconds(var: str, default: float, warn: Callable[[str], None]) -> float:
    """A duration in seconds from the environment variable `var`: `default` when unset or empty, and when it is not
    a number >= 0 (NaN and infinity included), after telling `warn` why."""
    raw = os.environ.get(var, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):  # also false for NaN
        warn(f"{var}={raw!r} is not a number of seconds; using {default:g}")
        return default
    return value


class Verdict:
    """A check's result whose exit code follows `ok`: 0 when it holds, 1 (a check failed) otherwise."""

    @property
    def ok(self) -> bool:
        raise NotImplementedError

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_FAILED
