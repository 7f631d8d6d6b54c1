"""What migrate asks the Hub, through the `linker.hub` package only (imported lazily), with answers cached per run.

A missing repo or revision is an answer ("not on the Hub"); a Hub that cannot be reached, refuses the token or
rate-limits us raises `HubError` (exit 3), so the user can retry or pass `--offline`.
"""

from __future__ import annotations

from typing import Any

from ..errors import NotFoundError
from ..hfcache import TreeFile

#: How many commits of a branch's history migrate compares a folder against.
MAX_COMMITS = 100


class Remote:
    """The Hub as migrate sees it: repos, commit histories, trees and branch heads."""

    def __init__(self) -> None:
        self._exists: dict[tuple[str, str], bool] = {}
        self._commits: dict[tuple[str, str, str], list[str]] = {}
        self._trees: dict[tuple[str, str, str], dict[str, TreeFile] | None] = {}
        self._heads: dict[tuple[str, str], dict[str, str]] = {}

    @staticmethod
    def _hub() -> Any:
        from .. import hub

        return hub

    def repo_exists(self, repo_id: str, repo_type: str = "model") -> bool:
        key = (repo_type, repo_id)
        if key not in self._exists:
            self._exists[key] = self._hub().repo_exists(repo_id, repo_type)
        return self._exists[key]

    def commits(self, repo_id: str, repo_type: str = "model", branch: str = "main") -> list[str]:
        """A branch's history, newest first (empty when the repo or branch does not exist)."""
        key = (repo_type, repo_id, branch)
        if key not in self._commits:
            try:
                self._commits[key] = self._hub().list_commits(repo_id, repo_type, branch)
            except NotFoundError:
                self._commits[key] = []
        return self._commits[key]

    def heads(self, repo_id: str, repo_type: str = "model") -> dict[str, str]:
        """Branches and tags -> commit."""
        key = (repo_type, repo_id)
        if key not in self._heads:
            try:
                self._heads[key] = self._hub().branch_heads(repo_id, repo_type)
            except NotFoundError:
                self._heads[key] = {}
        return self._heads[key]

    def tree(self, repo_id: str, revision: str, repo_type: str = "model") -> dict[str, TreeFile] | None:
        """Every file of a commit (None when the Hub does not have that commit)."""
        key = (repo_type, repo_id, revision)
        if key not in self._trees:
            try:
                self._trees[key] = self._hub().list_tree(repo_id, revision, repo_type)
            except NotFoundError:
                self._trees[key] = None
        return self._trees[key]

    def candidates(self, repo_id: str, repo_type: str = "model") -> list[str]:
        """Commits to compare a folder against: main's history, newest first, then other branch and tag heads."""
        out = list(self.commits(repo_id, repo_type)[:MAX_COMMITS])
        seen = set(out)
        for _name, sha in sorted(self.heads(repo_id, repo_type).items()):
            if sha not in seen:
                seen.add(sha)
                out.append(sha)
        return out

    def is_ahead(self, repo_id: str, repo_type: str, branch: str, new: str, old: str) -> bool:
        """Whether `new` comes after `old` in the Hub's history of `branch` (so moving the ref is forward)."""
        history = self.commits(repo_id, repo_type, branch)
        if new not in history:
            return False
        return old not in history or history.index(new) < history.index(old)
