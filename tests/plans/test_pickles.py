"""The pickle reader in process: globals found in every protocol, through the memo, in `.npy` object arrays,
and a stream that cannot be read to the end counted as dangerous. Nothing is ever unpickled."""

from __future__ import annotations

import io
import os
import pickle
import pickletools
from pathlib import Path

import numpy as np
import pytest

from linker.lockfile import Entry
from linker.pickles import scan_file, scan_stream
from linker.policy import Risk, audit_entry, classify


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("true",))


@pytest.mark.parametrize("protocol", range(6))
def test_every_protocol_names_the_call(protocol: int) -> None:
    scan = scan_stream(io.BytesIO(pickle.dumps({"a": _Evil(), "b": _Evil()}, protocol=protocol)))
    assert scan.complete and scan.dangerous
    assert set(scan.unsafe) == {f"{os.system.__module__}.system"}


def test_python2_names_are_mapped_as_the_unpickler_maps_them() -> None:
    scan = scan_stream(io.BytesIO(b"c__builtin__\neval\n(S'1'\ntR."))
    assert scan.unsafe == ("builtins.eval",)


def test_stack_global_through_the_memo_is_found() -> None:
    # the module and name strings are memoized, then fetched back with BINGET before STACK_GLOBAL
    data = b"\x80\x04\x8c\x02os\x940\x8c\x06system\x940h\x00h\x01\x93\x94."
    pickletools.dis(data, out=io.StringIO())  # a valid stream
    assert scan_stream(io.BytesIO(data)).unsafe == ("os.system",)


def test_a_stream_read_past_a_limit_is_dangerous_a_malformed_one_is_judged_by_its_globals() -> None:
    cut = pickle.dumps([1, 2, 3], protocol=2)[:-3]
    assert not scan_stream(io.BytesIO(cut)).dangerous  # the unpickler stops at the fault too
    evil_then_garbage = pickle.dumps(_Evil(), protocol=2)[:-2] + b"\xff\xff"
    assert scan_stream(io.BytesIO(evil_then_garbage)).dangerous
    assert scan_stream(io.BytesIO(pickle.dumps("x" * 5000, protocol=0)), budget=100).dangerous
    # a protocol-0 string longer than the reader's line limit, hiding a global after it
    hidden = b"S'" + b"x" * (70 * 1024) + b"'\n0cos\nsystem\n."
    assert scan_stream(io.BytesIO(hidden)).dangerous
    assert scan_stream(io.BytesIO(b"\x00\x01raw float bytes")).globals == ()


def test_npy_objects_are_pickles_and_plain_arrays_are_safe(tmp_path: Path) -> None:
    np.save(tmp_path / "objects.npy", np.array([_Evil()], dtype=object), allow_pickle=True)
    np.save(tmp_path / "floats.npy", np.arange(4.0))
    assert scan_file(tmp_path / "objects.npy").dangerous
    entry = Entry("acme/x", "0" * 40)
    audit = audit_entry(entry, ["objects.npy", "floats.npy"], lambda _e, p: tmp_path / p)
    assert {f.path: f.risk for f in audit.files} == {"floats.npy": Risk.SAFE, "objects.npy": Risk.PICKLE}
    assert classify("sub/model.safetensors") is Risk.SAFE and classify("modeling.py") is Risk.REMOTE_CODE


def test_only_regular_files_are_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.bin")
    with pytest.raises(OSError, match="FIFO"):
        scan_file(tmp_path / "fifo.bin")
