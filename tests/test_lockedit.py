"""The lockfile rewriter (library level): comments, line endings, mode, symlinks, quoting and flow style kept safe."""

from __future__ import annotations

import os

import yaml

from linker.lockedit import edit_text, remove_entry, set_revision_and_files, upsert_entry
from linker.lockfile import LockedFile, load_lockfile


def test_lockedit_crlf_mode_symlink_and_quoting(tmp_path):
    real = tmp_path / "real.yaml"
    real.write_bytes(b"version: 1\r\nmodels:\r\n  - id: a/b\r\n    revision: " + b"a" * 40 + b"  # c\r\n")
    os.chmod(real, 0o640)
    link = tmp_path / "project_cache.yaml"
    link.symlink_to(real.name)
    files = {
        "true": LockedFile(1, "b" * 40),
        "dir/a b.txt": LockedFile(2, "c" * 64),
        ".gitattributes": LockedFile(3, "d" * 40),
    }
    set_revision_and_files(link, "a/b", "model", "1" * 40, files)
    assert link.is_symlink() and (real.stat().st_mode & 0o777) == 0o640
    raw = real.read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert b"  # c\r\n" in raw
    e = load_lockfile(link).entries[0]
    assert e.revision == "1" * 40 and e.files == files
    upsert_entry(link, {"id": "c/d", "revision": "e" * 40, "include": ["*.json"], "local": True})
    assert remove_entry(link, "a/b") and not remove_entry(link, "a/b")
    (only,) = load_lockfile(link).entries
    assert (only.id, only.include, only.local) == ("c/d", ("*.json",), True)


def test_lockedit_flow_style_is_rewritten_in_block_style():
    text = "version: 1\nmodels: [{id: a/b, revision: " + "a" * 40 + "}]\n"
    new = edit_text(text, upserts=[{"id": "a/b", "revision": "b" * 40}, {"id": "c/d", "revision": "c" * 40}],
                    removals=[])  # fmt: skip
    assert yaml.safe_load(new)["models"] == [{"id": "a/b", "revision": "b" * 40}, {"id": "c/d", "revision": "c" * 40}]
    assert "  - id: a/b\n    revision: " in new


def test_lockedit_new_file_and_emptying(tmp_path):
    p = tmp_path / "project_cache.yaml"
    p.write_text("version: 1\nmodels:\n")
    upsert_entry(p, {"id": "a/b", "revision": "a" * 40, "type": "dataset", "ref": "main"})
    assert p.read_text() == "version: 1\nmodels:\n  - id: a/b\n    type: dataset\n    revision: " + "a" * 40 + "\n"
    assert remove_entry(p, "a/b", "dataset")
    assert p.read_text() == "version: 1\nmodels: []\n"
    assert load_lockfile(p).entries == []
