"""Which repo id and which revision a migrated folder gets, and why.

The first rule that applies wins:

1. `--revision SHA` (checked against the Hub's tree when online);
2. exact metadata: a local-dir's `.metadata` files, or a 40-hex sha in a transformers cache url;
3. online, the Hub: the newest commit (main's history, then other branch and tag heads) whose tree holds every
   file of the folder with the same blob hash. No match: the closest commits are reported with the files that
   differ, and nothing is guessed;
4. a local revision: a deterministic 40-hex id derived from the content, marked `local: true` in the lock.

Blob names are sha256 for LFS files and the git blob sha1 for the others. Online, the Hub's tree says which files
are LFS. Offline: the folder's `.gitattributes` patterns when it has one, else the Hub's default patterns, and
any file over 10 MB (`hfcache.is_lfs_path`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ..hashpool import Digest
from ..hfcache import SHA40, TreeFile, etag_kind, is_lfs_path
from .remote import Remote
from .units import HF_CACHE, SourceFile, Unit

LOCAL_SALT = b"linker-local-revision-v1\0"


@dataclass
class Resolved:
    """The decision for one unit (plain data)."""

    repo_id: str | None = None
    id_reason: str = ""
    revision: str | None = None
    reason: str = ""
    local: bool = False
    etags: dict[str, str] = field(default_factory=dict)  # repo path -> blob name
    refs: list[tuple[str, bool]] = field(default_factory=list)  # (ref, forced): forced = the Hub's head
    hub_tree: dict[str, TreeFile] | None = None
    notes: list[str] = field(default_factory=list)
    problem: tuple[str, str] | None = None  # (kind, message): the unit is not migrated


def guess_lfs(unit: Unit, f: SourceFile) -> bool:
    return is_lfs_path(f.path, f.size, unit.lfs_patterns)


def needed_kind(unit: Unit, f: SourceFile, online: bool) -> str:
    """Which digest a file needs: the kind of its claimed blob name, both when the Hub will decide, else the guess."""
    if f.etag:
        return etag_kind(f.etag) or "both"
    if online and unit.kind != HF_CACHE:
        return "both"
    return "sha256" if guess_lfs(unit, f) else "sha1"


def etag_of(digest: Digest, lfs: bool) -> str | None:
    return digest.sha256 if lfs else digest.sha1


def local_revision(etags: dict[str, str]) -> str:
    """A deterministic 40-hex id for content that is on no Hub commit: sha1 over the sorted (path, blob) pairs."""
    h = hashlib.sha1(LOCAL_SALT)
    for path in sorted(etags):
        h.update(path.encode() + b"\0" + etags[path].encode() + b"\n")
    return h.hexdigest()


def _claimed_ok(f: SourceFile, d: Digest) -> bool:
    return f.etag is not None and etag_of(d, etag_kind(f.etag) == "sha256") == f.etag


def _guess_etags(unit: Unit, digests: dict[str, Digest]) -> dict[str, str] | None:
    out = {}
    for path, f in unit.files.items():
        d = digests[str(f.abspath)]
        e = etag_of(d, guess_lfs(unit, f))
        if e is None:
            return None
        out[path] = e
    return out


def _compare(unit: Unit, digests: dict[str, Digest], tree: dict[str, TreeFile]) -> list[str]:
    """The folder's files that are not in `tree` with the same blob (empty = an exact match)."""
    differ = []
    for path, f in unit.files.items():
        t = tree.get(path)
        if t is None:
            differ.append(f"{path} (not in the commit)")
            continue
        e = etag_of(digests[str(f.abspath)], t.lfs)
        if e is None and f.etag and etag_kind(f.etag) == ("sha256" if t.lfs else "sha1"):
            e = f.etag
        if e != t.etag:
            differ.append(path)
    return differ


def match_hub(unit: Unit, repo_id: str, digests: dict[str, Digest], remote: Remote) -> tuple[str | None, list[str]]:
    """(the newest commit holding every file of the folder, notes on the closest commits when none does)."""
    scored: list[tuple[int, int, str, list[str]]] = []
    for i, commit in enumerate(remote.candidates(repo_id, unit.repo_type)):
        tree = remote.tree(repo_id, commit, unit.repo_type)
        if tree is None:
            continue
        differ = _compare(unit, digests, tree)
        if not differ:
            return commit, []
        scored.append((len(differ), i, commit, differ))
    scored.sort()
    notes = []
    for n, _, commit, differ in scored[:3]:
        shown = ", ".join(differ[:4]) + (f" (+{len(differ) - 4} more)" if len(differ) > 4 else "")
        notes.append(
            f"closest Hub commit {commit[:12]}: {len(unit.files) - n}/{len(unit.files)} files match; differ: {shown}"
        )
    return None, notes


def resolve_id(unit: Unit, digests: dict[str, Digest], remote: Remote | None) -> Resolved:
    """Pick the repo id among the unit's candidates (the Hub decides online; offline it must be unambiguous)."""
    res = Resolved()
    if len(unit.ids) == 1:
        res.repo_id, res.id_reason = unit.ids[0], unit.id_reason
        return res
    if not unit.ids:
        res.problem = ("unknown-id", "cannot tell the repo id from the path; pass --id ORG/NAME")
        return res
    listed = ", ".join(unit.ids)
    if remote is None:
        res.problem = ("ambiguous-id", f"the name can be {listed}; offline, pass --id to choose")
        return res
    existing = [i for i in unit.ids if remote.repo_exists(i, unit.repo_type)]
    if len(existing) == 1:
        res.repo_id, res.id_reason = existing[0], f"the Hub has {existing[0]} (of {listed})"
        return res
    if len(existing) > 1:
        matching = [i for i in existing if match_hub(unit, i, digests, remote)[0]]
        if len(matching) == 1:
            res.repo_id, res.id_reason = matching[0], f"the only one of {', '.join(existing)} with a matching commit"
            return res
        res.problem = ("ambiguous-id", f"the Hub has {', '.join(existing)}; pass --id to choose")
        return res
    res.problem = ("ambiguous-id", f"the name can be {listed}, none is on the Hub; pass --id to choose")
    return res


def resolve(
    unit: Unit,
    digests: dict[str, Digest],
    *,
    remote: Remote | None,
    revision: str | None = None,
) -> Resolved:
    """Decide repo id, revision and blob names for a folder-like unit (not hf-cache: its snapshots are named)."""
    res = resolve_id(unit, digests, remote)
    if res.problem or res.repo_id is None:
        return res
    repo_id = res.repo_id
    # 1. --revision
    if revision is not None:
        res.revision, res.reason = revision, "--revision"
        tree = remote.tree(repo_id, revision, unit.repo_type) if remote else None
        if remote is not None and tree is None:
            res.notes.append(f"{revision[:12]} is not on the Hub for {repo_id}")
        if tree is not None:
            differ = _compare(unit, digests, tree)
            if differ:
                shown = ", ".join(differ[:4])
                res.problem = (
                    "revision-mismatch",
                    f"{repo_id}@{revision[:12]} on the Hub differs from the folder: {shown}",
                )
                return res
            res.hub_tree = tree
        return _finish(unit, res, digests, remote)
    # 2. exact metadata
    if unit.revision is not None and all(
        f.etag and _claimed_ok(f, digests[str(f.abspath)]) for f in unit.files.values()
    ):
        res.revision, res.reason = unit.revision, unit.revision_reason
        return _finish(unit, res, digests, remote)
    if unit.revision is not None:
        res.notes.append(f"the folder no longer matches {unit.revision[:12]} ({unit.revision_reason}): a file changed")
    # 3. the Hub
    if remote is not None:
        if remote.repo_exists(repo_id, unit.repo_type):
            commit, notes = match_hub(unit, repo_id, digests, remote)
            if commit is not None:
                res.revision, res.reason = commit, "matched a Hub commit (every file's hash)"
                res.hub_tree = remote.tree(repo_id, commit, unit.repo_type)
                return _finish(unit, res, digests, remote)
            res.notes += notes
            res.reason = "local: no Hub commit holds these files"
        else:
            res.reason = f"local: {repo_id} is not on the Hub"
    else:
        res.reason = "local: offline"
    # 4. a local revision
    res.local = True
    return _finish(unit, res, digests, remote)


def _finish(unit: Unit, res: Resolved, digests: dict[str, Digest], remote: Remote | None) -> Resolved:
    """Blob names for every file, the local revision if needed, and the refs migrate may write."""
    for path, f in unit.files.items():
        d = digests[str(f.abspath)]
        if res.hub_tree is not None and path in res.hub_tree:
            lfs = res.hub_tree[path].lfs
        elif f.etag and _claimed_ok(f, d):
            lfs = etag_kind(f.etag) == "sha256"
        else:
            lfs = guess_lfs(unit, f)
        e = etag_of(d, lfs) or etag_of(d, not lfs)
        assert e is not None
        res.etags[path] = e
    if res.local:
        res.revision = local_revision(res.etags)
        return res
    assert res.revision is not None and SHA40.fullmatch(res.revision)
    heads = remote.heads(res.repo_id or "", unit.repo_type) if remote is not None else {}
    for name, sha in sorted(heads.items()):
        if sha == res.revision:
            res.refs.append((name, True))
    if unit.branch and unit.branch not in dict(res.refs) and not SHA40.fullmatch(unit.branch):
        res.refs.append((unit.branch, False))  # the metadata names the branch: write it if the cache has none
    return res
