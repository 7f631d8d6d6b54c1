"""Downloads into the global cache, through huggingface_hub (its own progress bars, locks and layout).

A download that fails (the Hub refuses, the connection breaks, the bytes are short or wrong, the disk is full)
fails its entry only: the caller links everything else and reports each failure in one line. huggingface_hub
names a blob after the Hub's hash without checking the bytes, so every blob a download creates is hashed, and
one that does not match its name is deleted (with its snapshot links) before anything can link it.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import LinkerError
from ..filelocks import blob_lock
from ..hashcheck import BlobToCheck, HashMismatch, check_blobs, quarantine
from ..hfcache import BLOBS, CacheRepo, blob_matches, etag_kind, link_etag
from ..lockfile import Entry, repo_label
from . import (
    DISK_ERROR,
    HUB_FAILED,
    TIMEOUT,
    TRANSFER_FAILED,
    TROUBLE_KINDS,
    UNREACHABLE,
    HubFailure,
    _api,
    _stderr,
    endpoint,
    failure_of,
    hub_call,
    parallel_map,
    scrub,
    setup,
)
from .fetchpool import GiveUp, fetch_jobs, per_entry_workers, quiet_bars, repo_groups, whole_lines

_SHORT = re.compile(r"should be of size (\d+) but has size (\d+) \((.+?)\)")
#: After these, the Hub is not asked again in this run (each entry would wait or fail the same way).
_GIVE_UP_KINDS = frozenset({UNREACHABLE, TIMEOUT})


def download_failure(exc: OSError, what: str, global_cache: Path) -> HubFailure:
    """A local `OSError` from a download: the disk (errno set) or bytes that are not the file (a short body)."""
    if exc.errno is not None:
        cause = exc.strerror or type(exc).__name__
        return HubFailure(DISK_ERROR, f"cannot write into the global cache {global_cache}: {cause}", what)
    short = _SHORT.search(str(exc))
    if short:
        want, got, name = short.groups()
        return HubFailure(TRANSFER_FAILED, f"{name}: the download stopped at {got} of {want} bytes", what)
    text = str(exc).strip().splitlines()
    return HubFailure(TRANSFER_FAILED, scrub(text[0]) if text else type(exc).__name__, what)


def blob_names(repo: CacheRepo) -> set[str]:
    """The blob names present in a repo folder of the global cache."""
    try:
        return {name for name in os.listdir(repo.path / BLOBS) if etag_kind(name)}
    except OSError:
        return set()


def discard_wrong_blobs(
    repo: CacheRepo, revision: str, before: set[str], what: str, label: str = ""
) -> tuple[HubFailure | None, list[HashMismatch]]:
    """Hash the blobs that appeared since `before` (linker/hashcheck.py); quarantine each that does not match its
    name, and drop the snapshot links of `revision` pointing at it (under huggingface_hub's blob lock), so nothing
    links it and the next download fetches it again. A failure naming them, and one mismatch per file."""
    new = sorted(blob_names(repo) - before)
    run = check_blobs(BlobToCheck(e, str(repo.blob(e)), e) for e in new)
    bad = [etag for etag in new if etag in run.bad]
    if not bad:
        return None, []
    names: list[str] = []
    mismatches: list[HashMismatch] = []
    source = endpoint()
    for etag in bad:
        got = run.bad[etag]
        actual = got if isinstance(got, str) else ""
        with blob_lock(repo.lock_path(etag)):
            where = ""
            if not blob_matches(repo.blob(etag), etag):  # still wrong: not replaced by a good copy meanwhile
                where = quarantine(str(repo.blob(etag)), etag)
            paths: list[str] = []
            for path_in_repo, link in repo.snapshot_files(revision):
                with contextlib.suppress(OSError):
                    if link.is_symlink() and link_etag(os.readlink(link)) == etag:
                        link.unlink()
                        paths.append(path_in_repo)
        for path in sorted(paths) or [f"blob {etag[:12]}"]:
            mismatches.append(HashMismatch(label or repo.repo_id, path, etag, actual, source, where))
        names += paths
    files = ", ".join(sorted(names)) or f"blob {bad[0][:12]}"
    failure = HubFailure(
        TRANSFER_FAILED, f"{files}: the bytes received do not match the Hub's hash (quarantined)", what
    )
    return failure, mismatches


def fetch_files(
    repo_id: str, revision: str, paths: list[str], global_cache: Path, repo_type: str = "model"
) -> dict[str, Path]:
    """`hf_hub_download` each path of a commit into the global cache; returns the snapshot paths. Raises our error
    for the first failure, and for blobs whose bytes do not match their name (deleted, see `discard_wrong_blobs`)."""
    from huggingface_hub import hf_hub_download

    setup()

    def one(path: str) -> Path:
        what = f"{repo_label(repo_id, repo_type)}@{revision[:12]}: {path}"
        try:
            with hub_call(what):
                return Path(
                    hf_hub_download(repo_id, path, revision=revision, repo_type=repo_type, cache_dir=global_cache)
                )
        except OSError as exc:
            raise download_failure(exc, what, global_cache).error() from None

    repo = CacheRepo(global_cache, repo_id, repo_type)
    before = blob_names(repo)
    results = parallel_map(one, paths, jobs=8)
    label = repo_label(repo_id, repo_type)
    wrong, _ = discard_wrong_blobs(repo, revision, before, f"{label}@{revision[:12]}", label)
    if wrong is not None:
        raise wrong.error()
    return dict(zip(paths, results, strict=True))


class FetchError(LinkerError):
    """Some pinned revisions could not be downloaded.

    `exit_code` is 3 when the Hub answered with trouble (token, gating, rate limit, server error, no answer in
    time) and 1 otherwise (unreachable, the pin does not exist, a broken or short download, a full disk): then
    sync behaves as offline (lists what is missing, with the command that fetches it).
    """

    def __init__(
        self, fetched: list[str], failures: dict[str, HubFailure], mismatches: list[HashMismatch] | None = None
    ) -> None:
        self.fetched, self.failures = fetched, failures
        self.mismatches = mismatches or []  # downloaded files whose bytes are not what the Hub's hash says
        first = next(iter(failures.values()))
        more = f" (+{len(failures) - 1} more)" if len(failures) > 1 else ""
        super().__init__(f"could not fetch {first.message}{more}")
        trouble = any(f.kind in TROUBLE_KINDS and f.kind != UNREACHABLE for f in failures.values())
        self.exit_code = 3 if trouble else 1

    @property
    def notices(self) -> list[str]:
        return [f"warning: could not fetch {f.message}" for f in self.failures.values()]


def fetch_entries(
    entries: list[Entry], global_cache: Path, *, log: Callable[[str], None] | None = None, jobs: int | None = None
) -> list[str]:
    """Download the pinned revisions of `entries` into the global cache with `snapshot_download`.
    Returns the labels fetched, sorted.

    Up to `jobs` entries download at once (default `LINKER_FETCH_JOBS`, see fetchpool.py); one that fails does not
    stop the others, except that once the Hub is found unreachable or silent, the entries not yet started are not
    tried. What an entry downloaded is hashed (on every core) while others download; a blob whose bytes do not
    match is quarantined, never linked. Raises `FetchError` listing what failed (sorted by label), with one
    mismatch per file.
    """
    from huggingface_hub import snapshot_download

    setup()
    groups = repo_groups(entries)
    active = max(1, min(fetch_jobs(_stderr) if jobs is None else jobs, len(groups)))
    run = _Run(global_cache, whole_lines(log or _stderr), snapshot_download, per_entry_workers(active))
    if active > 1:
        run.bars = quiet_bars()
    hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="check")  # it hashes on a pool of its own
    try:
        if active == 1:
            for group in groups:
                run.group(group, hasher)
        else:
            _run_pool(run, groups, hasher, active)
    finally:
        hasher.shutdown(wait=True)
    fetched: list[str] = []
    failures: dict[str, HubFailure] = {}
    mismatches: list[HashMismatch] = []
    for label, outcome in sorted(run.outcomes.items()):
        if isinstance(outcome, HubFailure):
            failures[label] = outcome
            continue
        wrong, bad = outcome.result()
        if wrong is None:
            fetched.append(label)
        else:
            failures[label] = wrong
            mismatches += bad
    if failures:
        raise FetchError(fetched, failures, mismatches)
    return fetched


def _run_pool(run: _Run, groups: list[list[Entry]], hasher: ThreadPoolExecutor, jobs: int) -> None:
    """`run.group` over `groups`, `jobs` at a time; on an interruption, no further entry starts."""
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="fetch")
    try:
        for future in [pool.submit(run.group, group, hasher) for group in groups]:
            future.result()
    except BaseException:
        run.stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


_Check = Future[tuple[HubFailure | None, list[HashMismatch]]]


class _Run:
    """One `fetch_entries` call: what every task shares (the give-up state, the outcomes by label)."""

    def __init__(
        self, global_cache: Path, say: Callable[[str], None], snapshot_download: Callable[..., Any], workers: int
    ) -> None:
        self.global_cache, self.say, self.workers = global_cache, say, workers
        self.snapshot_download = snapshot_download
        self.bars: type[Any] | None = None  # huggingface_hub's own progress bars unless set
        self.gave_up = GiveUp()
        self.stop = threading.Event()  # interrupted: start nothing more
        self.outcomes: dict[str, HubFailure | _Check] = {}  # label -> failure, or the check of what it downloaded
        self._lock = threading.Lock()

    def group(self, entries: list[Entry], hasher: ThreadPoolExecutor) -> None:
        """Download the entries of one repo folder in turn; queue the check of what each downloaded on `hasher`."""
        for entry in entries:
            if self.stop.is_set():
                return
            outcome = self.one(entry, hasher)
            with self._lock:
                self.outcomes[entry.label] = outcome

    def one(self, entry: Entry, hasher: ThreadPoolExecutor) -> HubFailure | _Check:
        what = f"{entry.label}@{entry.revision[:12]}"
        gave_up = self.gave_up.failure
        if gave_up is not None:
            return replace(gave_up, what=what)  # the same cause, for this entry
        self.say(f"fetching {what} from {endpoint()}")
        repo = CacheRepo(self.global_cache, entry.id, entry.type)
        before = blob_names(repo)
        try:
            # A cheap probe first: snapshot_download's tree listing retries for ~20 s when the Hub is down.
            with hub_call(what):
                _api().repo_info(entry.id, revision=entry.revision, repo_type=entry.type, expand=["sha"])
            gave_up = self.gave_up.failure
            if gave_up is not None:  # another entry found the Hub gone meanwhile
                return replace(gave_up, what=what)
            with hub_call(what):
                self.snapshot_download(
                    entry.id,
                    revision=entry.revision,
                    repo_type=entry.type,
                    allow_patterns=list(entry.include) or None,
                    ignore_patterns=list(entry.exclude) or None,
                    cache_dir=self.global_cache,
                    max_workers=self.workers,
                    tqdm_class=self.bars,
                )
        except LinkerError as exc:
            failure = failure_of(exc) or HubFailure(HUB_FAILED, exc.message)
        except OSError as exc:  # not a network error (hub_call classifies those): the disk, or short bytes
            failure = download_failure(exc, what, self.global_cache)
        else:
            return hasher.submit(discard_wrong_blobs, repo, entry.revision, before, what, entry.label)
        if failure.kind in _GIVE_UP_KINDS:
            self.gave_up.set(failure)
        return failure
