"""linker's own locks on network filesystems: the filesystem type from mountinfo text, `LINKER_LOCK_KIND`, and a
stale soft lock (a leftover lock file of a killed process) that times out with exit 4 naming the file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from linker import fstype
from linker.filelocks import soft_lock_path
from linker.hfcache import view_lock_path
from testing.repairkit import synced

MOUNTINFO = r"""22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
30 22 0:40 / /shared rw,relatime shared:7 - nfs4 srv:/export rw,vers=4.2
31 30 0:41 / /shared/local rw shared:8 - tmpfs tmpfs rw
32 22 0:42 / /mnt/my\040models ro,nosuid - fuse.sshfs me@host:/m ro
33 22 0:43 / /scratch rw - lustre 10.0.0.1@tcp:/fs rw
34 22 0:44 / /shared2 rw - ext4 /dev/sdb1 rw
35 22 0:45 / /shared2 rw - cifs //srv/s rw
"""


@pytest.mark.parametrize(
    ("path", "kind", "noop"),
    [
        ("/home/me/proj", "ext4", False),
        ("/shared/hub/models--a--b", "nfs4", True),
        ("/shared", "nfs4", True),
        ("/shared/local/x", "tmpfs", False),  # the longest mount point wins
        ("/sharedx/y", "ext4", False),  # a prefix of the name is not a parent folder
        ("/mnt/my models/hub", "fuse.sshfs", True),  # octal escapes in mount points
        ("/scratch/u/hub", "lustre", True),
        ("/shared2/hub", "cifs", True),  # a later mount on the same point shadows the earlier one
    ],
)
def test_filesystem_type_is_the_longest_mount_point_prefix(path: str, kind: str, noop: bool) -> None:
    assert fstype.fs_type(path, MOUNTINFO) == kind
    assert fstype.locks_may_be_noops(kind) is noop


def test_lock_kind_setting_overrides_the_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKER_LOCK_KIND", "soft")
    assert fstype.wants_soft_lock("/home/me", MOUNTINFO)
    monkeypatch.setenv("LINKER_LOCK_KIND", "flock")
    assert not fstype.wants_soft_lock("/shared/hub", MOUNTINFO)
    monkeypatch.setenv("LINKER_LOCK_KIND", "auto")
    assert fstype.wants_soft_lock("/shared/hub", MOUNTINFO)
    assert not fstype.wants_soft_lock("/home/me", MOUNTINFO)
    monkeypatch.setenv("LINKER_LOCK_KIND", "bogus")
    assert fstype.lock_kind() == "auto"


def test_a_stale_soft_lock_times_out_with_exit_4_naming_the_file(project) -> None:
    synced(project)
    stale = soft_lock_path(view_lock_path(project.view))
    stale.write_text("")  # left by a killed linker: no process holds it
    env = {"LINKER_LOCK_KIND": "soft", "LINKER_LOCK_TIMEOUT": "1"}
    r = project.linker("sync", env=env)
    assert r.returncode == 4, r.stdout + r.stderr
    lines = [ln for ln in r.stderr.splitlines() if str(stale) in ln]
    assert len(lines) == 1 and "delete it" in lines[0] and "Traceback" not in r.stderr

    stale.unlink()  # as the message says: then it works, and leaves no lock file behind
    r = project.linker("sync", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not stale.exists()


def test_soft_locks_still_exclude_each_other(project) -> None:
    synced(project)
    env = {"LINKER_LOCK_KIND": "soft", "LINKER_LOCK_TIMEOUT": "1"}
    code = (
        "import sys; from pathlib import Path; from linker.filelocks import view_lock\n"
        "with view_lock(Path(sys.argv[1])):\n    sys.stdout.write('held\\n'); sys.stdout.flush(); sys.stdin.read()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(project.view)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        r = project.linker("repair", "--offline", env=env)
        assert r.returncode == 4, r.stdout + r.stderr
    finally:
        holder.communicate("")
    assert holder.returncode == 0
