"""Repositories of a fake Hugging Face Hub, described on disk.

Everything lives under one root directory:

* ``root/state.json``: repos, refs, commits (full file lists) and tokens, rewritten atomically on every change;
* ``root/objects/<sha256[:2]>/<sha256>``: file contents, keyed by the sha256 of the content.

Readers (the server, possibly in another process) notice changes by stat-ing ``state.json`` (inode, size, mtime):
a test can "push" a commit while the server runs.

Blob facts follow the real Hub: a regular file's id (tree ``oid``, ``ETag``, ``blobId``) is its git blob sha1; an
LFS file has ``lfs.oid`` = sha256 of the content and its git id is the git sha1 of its LFS pointer text.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fnmatch
import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:  # cross-process write lock (POSIX); threads are always serialised by an RLock
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

REPO_TYPES = ("model", "dataset", "space")
LFS_SIZE_THRESHOLD = 10 * 1024 * 1024

# Patterns of the default .gitattributes the Hub writes in a new repo (models and spaces; datasets add media).
DEFAULT_LFS_PATTERNS = (
    "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib", "*.lfs.*",
    "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet", "*.pb",
    "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors", "saved_model/**/*", "*.tar.*", "*.tar",
    "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip", "*.zst", "*tfevents*",
)  # fmt: skip
DATASET_EXTRA_LFS_PATTERNS = (
    "*.lz4", "*.mds", "*.pcm", "*.sam", "*.raw", "*.aac", "*.flac", "*.mp3", "*.ogg", "*.wav", "*.bmp",
    "*.gif", "*.png", "*.tiff", "*.jpg", "*.jpeg", "*.webp", "*.mp4", "*.webm",
)  # fmt: skip

_SHA1_RE = re.compile(r"^[0-9a-f]{40}$")
_PR_RE = re.compile(r"^refs/pr/(\d+)$")


def git_blob_sha1(data: bytes) -> str:
    """The git object id of a blob (what `git hash-object` prints)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The git-lfs pointer text committed in place of an LFS file."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def is_default_lfs(path: str, size: int, repo_type: str = "model") -> bool:
    """Whether the Hub's default .gitattributes (or the 10 MB rule) would store `path` with LFS."""
    if size > LFS_SIZE_THRESHOLD:
        return True
    name = path.rsplit("/", 1)[-1]
    patterns = DEFAULT_LFS_PATTERNS + (DATASET_EXTRA_LFS_PATTERNS if repo_type == "dataset" else ())
    for pattern in patterns:
        if "/" in pattern:
            if fnmatch.fnmatchcase(path, pattern.replace("**/", "*")):
                return True
        elif fnmatch.fnmatchcase(name, pattern):
            return True
    return False


def utc_now() -> str:
    """The Hub's date format: ``%Y-%m-%dT%H:%M:%S.%fZ`` with milliseconds."""
    now = _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class FileInfo:
    """One file of a commit.

    size: content size in bytes; git_oid: the git object id (of the content, or of the LFS pointer for LFS files);
    sha256: the content sha256 for LFS files, None for regular files; data: path of the content on disk.
    """

    size: int
    git_oid: str
    sha256: str | None
    data: Path

    @property
    def lfs(self) -> bool:
        return self.sha256 is not None

    @property
    def etag(self) -> str:
        """What huggingface_hub names the blob in its cache: sha256 for LFS files, else the git sha1."""
        return self.sha256 or self.git_oid

    @property
    def pointer_size(self) -> int | None:
        return len(lfs_pointer(self.sha256, self.size)) if self.sha256 else None

    def read_bytes(self) -> bytes:
        return self.data.read_bytes()


class HubStore:
    """Repos, refs, commits and tokens of a fake Hub, persisted under `root`.

    Repo ids are ``namespace/name`` (a bare ``name`` works too). `repo_type` is "model", "dataset" or "space".
    Revisions accepted wherever a commit is expected: a full commit sha, a branch, a tag, ``refs/heads/X``,
    ``refs/tags/X``, ``refs/pr/N``, ``refs/convert/X``.
    """

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "objects").mkdir(exist_ok=True)
        self.state_path = self.root / "state.json"
        self._lock = threading.RLock()
        self._state: dict[str, Any] = {}
        self._stamp: tuple[int, int, int] | None = None
        self._derived: dict[tuple[str, str], dict[str, Any]] = {}  # (repo key, commit) -> tree oids (immutable)
        if not self.state_path.exists():
            with self._write() as state:
                state.setdefault("repos", {})

    # ------------------------------------------------------------------ persistence
    def _stat_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.state_path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def state(self) -> dict[str, Any]:
        """The current state (re-read from disk if state.json changed). Do not mutate it."""
        with self._lock:
            stamp = self._stat_stamp()
            if stamp != self._stamp:
                if stamp is None:
                    self._state = {"format": 1, "repos": {}, "tokens": {}}
                else:
                    self._state = json.loads(self.state_path.read_text(encoding="utf-8"))
                self._stamp = stamp
            return self._state

    @contextlib.contextmanager
    def _write(self):
        """Read-modify-write of state.json under a thread lock and a cross-process file lock."""
        with self._lock:
            lock_file = open(self.root / ".lock", "a+b")  # noqa: SIM115 - closed below
            try:
                if fcntl is not None:
                    fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
                self._stamp = None  # force a fresh read under the lock
                state = json.loads(json.dumps(self.state()))  # deep copy
                state.setdefault("format", 1)
                state.setdefault("repos", {})
                state.setdefault("tokens", {})
                yield state
                fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".state-", suffix=".json")
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(state, f, indent=1, sort_keys=True)
                os.replace(tmp, self.state_path)
                self._state, self._stamp = state, self._stat_stamp()
            finally:
                if fcntl is not None:
                    fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)
                lock_file.close()

    def _put_object(self, data: bytes) -> tuple[str, Path]:
        sha = hashlib.sha256(data).hexdigest()
        path = self.object_path(sha)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".obj-")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        return sha, path

    def object_path(self, content_sha256: str) -> Path:
        return self.root / "objects" / content_sha256[:2] / content_sha256

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def repo_key(repo_id: str, repo_type: str = "model") -> str:
        if repo_type not in REPO_TYPES:
            raise ValueError(f"repo_type must be one of {REPO_TYPES}, got {repo_type!r}")
        return f"{repo_type}/{repo_id}"

    def repo(self, repo_id: str, repo_type: str = "model") -> dict[str, Any] | None:
        """The repo record (a dict) or None."""
        return self.state()["repos"].get(self.repo_key(repo_id, repo_type))

    def _repo_or_raise(self, state: dict[str, Any], repo_id: str, repo_type: str) -> dict[str, Any]:
        rec = state["repos"].get(self.repo_key(repo_id, repo_type))
        if rec is None:
            raise KeyError(f"no {repo_type} repo {repo_id!r} in the hub store (call create_repo first)")
        return rec

    @staticmethod
    def _resolve_in(rec: Mapping[str, Any], rev: str) -> str | None:
        commits = rec["commits"]
        if _SHA1_RE.match(rev) and rev in commits:
            return rev
        if rev in rec["branches"]:
            return rec["branches"][rev]
        if rev in rec["tags"]:
            return rec["tags"][rev]
        for prefix, table in (("refs/heads/", "branches"), ("refs/tags/", "tags"), ("refs/convert/", "converts")):
            if rev.startswith(prefix):
                return rec[table].get(rev[len(prefix) :])
        m = _PR_RE.match(rev)
        if m:
            return rec["prs"].get(m.group(1))
        return None

    # ------------------------------------------------------------------ repos
    def create_repo(
        self,
        repo_id: str,
        repo_type: str = "model",
        private: bool = False,
        gated: bool | str = False,
        *,
        exist_ok: bool = False,
    ) -> None:
        """Create an empty repo (no commit, no branch until the first `commit`).

        gated: False, True (= "auto") or "auto"/"manual".
        """
        key = self.repo_key(repo_id, repo_type)
        with self._write() as state:
            if key in state["repos"]:
                if exist_ok:
                    return
                raise ValueError(f"{repo_type} repo {repo_id!r} already exists")
            state["repos"][key] = {
                "id": repo_id,
                "type": repo_type,
                "private": bool(private),
                "gated": _gated_value(gated),
                "created_at": utc_now(),
                "branches": {},
                "tags": {},
                "prs": {},
                "converts": {},
                "commits": {},
            }

    def update_repo(
        self, repo_id: str, repo_type: str = "model", *, private: bool | None = None, gated: bool | str | None = None
    ) -> None:
        """Change the visibility or gating of an existing repo."""
        with self._write() as state:
            rec = self._repo_or_raise(state, repo_id, repo_type)
            if private is not None:
                rec["private"] = bool(private)
            if gated is not None:
                rec["gated"] = _gated_value(gated)

    def delete_repo(self, repo_id: str, repo_type: str = "model", *, missing_ok: bool = False) -> None:
        with self._write() as state:
            if state["repos"].pop(self.repo_key(repo_id, repo_type), None) is None and not missing_ok:
                raise KeyError(f"no {repo_type} repo {repo_id!r}")

    def repos(self) -> list[tuple[str, str]]:
        """All (repo_type, repo_id) pairs."""
        return [(rec["type"], rec["id"]) for rec in self.state()["repos"].values()]

    # ------------------------------------------------------------------ commits and refs
    def commit(
        self,
        repo_id: str,
        files: Mapping[str, bytes | str],
        *,
        repo_type: str = "model",
        branch: str = "main",
        message: str = "Upload files",
        lfs: set[str] | Iterable[str] | None = None,
        delete: Iterable[str] = (),
        parent: str | None = None,
        author: str = "hub-tester",
    ) -> str:
        """Create a commit on `branch` (created if absent) and return its 40-hex id.

        The new tree is the branch head's (or `parent`'s) files, updated with `files` and minus `delete`
        (a path or a directory prefix). `lfs`: the paths (of `files`) stored with LFS; None means the Hub's
        default .gitattributes patterns or > 10 MB. Unchanged files keep their storage. `branch` may also be
        ``refs/pr/N`` or ``refs/convert/X``. The id is sha1(parent + sorted (path, git oid) + message).
        """
        lfs_set = None if lfs is None else set(lfs)
        staged: dict[str, dict[str, Any]] = {}
        for path, content in files.items():
            path = _clean_path(path)
            data = content.encode() if isinstance(content, str) else bytes(content)
            is_lfs = is_default_lfs(path, len(data), repo_type) if lfs_set is None else path in lfs_set
            sha, _ = self._put_object(data)
            oid = git_blob_sha1(lfs_pointer(sha, len(data))) if is_lfs else git_blob_sha1(data)
            staged[path] = {"size": len(data), "oid": oid, "lfs": sha if is_lfs else None, "blob": sha}

        with self._write() as state:
            rec = self._repo_or_raise(state, repo_id, repo_type)
            if parent is not None:
                parent_id = self._resolve_in(rec, parent)
                if parent_id is None:
                    raise KeyError(f"unknown parent revision {parent!r} in {repo_id!r}")
            else:
                parent_id = self._ref_slot(rec, branch)
            tree = dict(rec["commits"][parent_id]["files"]) if parent_id else {}
            for d in delete:
                d = _clean_path(d)
                for p in [p for p in tree if p == d or p.startswith(d + "/")]:
                    del tree[p]
            tree.update(staged)
            _check_tree(tree)

            h = hashlib.sha1()
            h.update((parent_id or "").encode())
            for p in sorted(tree):
                h.update(b"\0" + p.encode() + b"\0" + tree[p]["oid"].encode())
            h.update(b"\0" + message.encode())
            commit_id = h.hexdigest()
            if commit_id not in rec["commits"]:
                rec["commits"][commit_id] = {
                    "parent": parent_id,
                    "message": message,
                    "author": author,
                    "date": utc_now(),
                    "files": dict(sorted(tree.items())),
                }
            table, name = _ref_table(branch)
            rec[table][name] = commit_id
            return commit_id

    @staticmethod
    def _ref_slot(rec: Mapping[str, Any], ref: str) -> str | None:
        table, name = _ref_table(ref)
        return rec[table].get(name)

    def set_branch(self, repo_id: str, name: str, commit: str | None, repo_type: str = "model") -> None:
        """Point branch `name` (or ``refs/pr/N``, ``refs/convert/X``) at `commit` (any revision); None deletes it."""
        self._set_ref(repo_id, name, commit, repo_type, default_table="branches")

    def tag(self, repo_id: str, name: str, commit: str | None, repo_type: str = "model") -> None:
        """Point tag `name` at `commit` (any revision); None deletes it."""
        self._set_ref(repo_id, name, commit, repo_type, default_table="tags")

    def _set_ref(self, repo_id: str, name: str, commit: str | None, repo_type: str, default_table: str) -> None:
        with self._write() as state:
            rec = self._repo_or_raise(state, repo_id, repo_type)
            table, short = _ref_table(name, default_table)
            if commit is None:
                rec[table].pop(short, None)
                return
            target = self._resolve_in(rec, commit)
            if target is None:
                raise KeyError(f"unknown revision {commit!r} in {repo_id!r}")
            rec[table][short] = target

    def resolve(self, repo_id: str, revision: str, repo_type: str = "model") -> str | None:
        """The commit id `revision` points at, or None. KeyError if the repo does not exist."""
        return self._resolve_in(self._repo_or_raise(self.state(), repo_id, repo_type), revision)

    def head(self, repo_id: str, branch: str = "main", repo_type: str = "model") -> str | None:
        """The commit at the head of `branch`, or None if the branch does not exist."""
        rec = self._repo_or_raise(self.state(), repo_id, repo_type)
        return self._ref_slot(rec, branch)

    def refs(self, repo_id: str, repo_type: str = "model") -> dict[str, dict[str, str]]:
        """{"branches": {name: sha}, "tags": ..., "prs": {number: sha}, "converts": ...}."""
        rec = self._repo_or_raise(self.state(), repo_id, repo_type)
        return {k: dict(rec[k]) for k in ("branches", "tags", "prs", "converts")}

    def commit_record(self, repo_id: str, commit: str, repo_type: str = "model") -> dict[str, Any]:
        rec = self._repo_or_raise(self.state(), repo_id, repo_type)
        sha = self._resolve_in(rec, commit)
        if sha is None:
            raise KeyError(f"unknown revision {commit!r} in {repo_id!r}")
        c = rec["commits"][sha]
        title, body = _split_message(c["message"])
        return {
            "id": sha,
            "parent": c["parent"],
            "title": title,
            "message": body,
            "full_message": c["message"],
            "date": c["date"],
            "author": c["author"],
        }

    def commits(self, repo_id: str, ref: str = "main", repo_type: str = "model") -> list[dict[str, Any]]:
        """History from `ref` (newest first): dicts with id, parent, title, message, full_message, date, author."""
        out = []
        sha: str | None = self.commit_record(repo_id, ref, repo_type)["id"]
        while sha:
            c = self.commit_record(repo_id, sha, repo_type)
            out.append(c)
            sha = c["parent"]
        return out

    def files_at(self, repo_id: str, commit: str, repo_type: str = "model") -> dict[str, FileInfo]:
        """{path: FileInfo} of the tree at `commit` (any revision). KeyError if unknown."""
        rec = self._repo_or_raise(self.state(), repo_id, repo_type)
        sha = self._resolve_in(rec, commit)
        if sha is None:
            raise KeyError(f"unknown revision {commit!r} in {repo_id!r}")
        return {p: self._file_info(e) for p, e in rec["commits"][sha]["files"].items()}

    def _file_info(self, entry: Mapping[str, Any]) -> FileInfo:
        return FileInfo(
            size=entry["size"], git_oid=entry["oid"], sha256=entry["lfs"], data=self.object_path(entry["blob"])
        )

    def tree_oids(self, repo_id: str, commit: str, repo_type: str = "model") -> dict[str, str]:
        """{directory path: git tree oid} at `commit` ("" is the root tree). Real git tree hashes."""
        commit = self.commit_record(repo_id, commit, repo_type)["id"]
        key = (self.repo_key(repo_id, repo_type), commit)
        with self._lock:
            cached = self._derived.get(key)
        if cached is None:
            files = self.files_at(repo_id, commit, repo_type)
            cached = _git_tree_oids({p: fi.git_oid for p, fi in files.items()})
            with self._lock:
                self._derived[key] = cached
        return cached

    # ------------------------------------------------------------------ tokens
    def add_token(self, token: str, repos: Iterable[str] | None = None, *, user: str = "hub-tester") -> None:
        """Register a valid token. `repos`: the private/gated repo ids it may read (None = all).

        Entries are plain repo ids (any repo type) or "datasets/x/y", "spaces/x/y"."""
        with self._write() as state:
            state["tokens"][token] = {"repos": None if repos is None else list(repos), "user": user}

    def remove_token(self, token: str) -> None:
        with self._write() as state:
            state["tokens"].pop(token, None)

    def token_info(self, token: str | None) -> dict[str, Any] | None:
        """{"repos": [...] | None, "user": str} for a valid token, else None."""
        if not token:
            return None
        return self.state()["tokens"].get(token)

    def token_can_read(self, token: str | None, repo_id: str, repo_type: str = "model") -> bool:
        info = self.token_info(token)
        if info is None:
            return False
        repos = info["repos"]
        return repos is None or repo_id in repos or f"{repo_type}s/{repo_id}" in repos


# ---------------------------------------------------------------------- module helpers
def _gated_value(gated: bool | str) -> bool | str:
    if gated is True:
        return "auto"
    if gated in (False, None):
        return False
    if gated not in ("auto", "manual"):
        raise ValueError(f"gated must be a bool, 'auto' or 'manual', got {gated!r}")
    return gated


def _ref_table(ref: str, default_table: str = "branches") -> tuple[str, str]:
    """Which ref table (branches/tags/prs/converts) and short name a ref name belongs to."""
    m = _PR_RE.match(ref)
    if m:
        return "prs", m.group(1)
    for prefix, table in (("refs/heads/", "branches"), ("refs/tags/", "tags"), ("refs/convert/", "converts")):
        if ref.startswith(prefix):
            return table, ref[len(prefix) :]
    return default_table, ref


def _clean_path(path: str) -> str:
    p = path.replace("\\", "/").strip("/")
    parts = p.split("/")
    if not p or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"invalid path in repo: {path!r}")
    return p


def _check_tree(tree: Mapping[str, Any]) -> None:
    for p in tree:
        parts = p.split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]) in tree:
                raise ValueError(f"{'/'.join(parts[:i])!r} is both a file and a directory")


def _split_message(message: str) -> tuple[str, str]:
    title, _, body = message.partition("\n")
    return title.strip(), body.strip("\n")


def _git_tree_oids(files: Mapping[str, str]) -> dict[str, str]:
    """Git tree object ids of every directory of a {path: blob oid} tree (key "" is the root)."""
    children: dict[str, dict[str, tuple[str, str]]] = {"": {}}  # dir -> name -> (kind, oid or dir path)
    for path, oid in files.items():
        parts = path.split("/")
        for i in range(len(parts) - 1):
            parent, d = "/".join(parts[:i]), "/".join(parts[: i + 1])
            children.setdefault(d, {})
            children.setdefault(parent, {})[parts[i]] = ("tree", d)
        children.setdefault("/".join(parts[:-1]), {})[parts[-1]] = ("blob", oid)

    oids: dict[str, str] = {}

    def visit(d: str) -> str:
        entries = []
        for name, (kind, ref) in children[d].items():
            if kind == "tree":
                entries.append((name + "/", b"40000 " + name.encode() + b"\0" + bytes.fromhex(visit(ref))))
            else:
                entries.append((name, b"100644 " + name.encode() + b"\0" + bytes.fromhex(ref)))
        body = b"".join(e for _, e in sorted(entries, key=lambda t: t[0].encode()))
        oids[d] = hashlib.sha1(b"tree %d\0" % len(body) + body).hexdigest()
        return oids[d]

    visit("")
    return oids
