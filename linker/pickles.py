"""What a pickle would import, read from its opcodes without unpickling it.

A pickle runs code through the globals it names (`GLOBAL`, `STACK_GLOBAL`, `INST`) and then calls (`REDUCE`,
`OBJ`, `NEWOBJ`, `BUILD`). This module walks the opcode stream with pickletools' opcode table, tracks an abstract
stack and memo (so `STACK_GLOBAL`'s module and name are found even when they were memoized earlier), and lists
every global, mapped to its Python 3 name as the unpickler would (`__builtin__.eval` is `builtins.eval`).

It reads torch's legacy format (several pickles one after another), zip checkpoints (`<dir>/data.pkl` inside the
zip, read through zipfile, never extracted) and `.npy` files holding objects. Only regular files are opened
(hashpool.open_regular); big `bytes` arguments are skipped, not read, and at most `MAX_READ` bytes are read.
A malformed stream is judged by the globals before the fault (the unpickler executes nothing past it either);
one this reader gives up on (a limit: bytes read, a long text line, a huge zip member) is incomplete, which the
policy treats as dangerous, since the unpickler might read on.
"""

from __future__ import annotations

import _compat_pickle
import ast
import io
import os
import pickletools
import re
import struct
import zipfile
from dataclasses import dataclass
from typing import IO, Any

from .hashpool import open_regular

MAX_READ = 64 * 1024 * 1024  # bytes read (not skipped) from one file's pickle streams
MAX_LINE = 64 * 1024  # a protocol-0 text argument
MAX_PICKLES = 5  # torch's legacy format loads 5 pickles back to back (magic, protocol, sys info, data, storage
# keys), then raw storage bytes; pickle.load, numpy and torch's zip format load one
MAX_ZIP_MEMBER = 1024 * 1024 * 1024  # a data.pkl claiming more is not read (a zip bomb)

#: Globals a torch/numpy/collections state dict needs to be rebuilt; they build tensors and containers only.
SAFE_GLOBALS = frozenset(
    {
        "collections.OrderedDict",
        "collections.Counter",
        "collections.defaultdict",
        "builtins.set",
        "builtins.frozenset",
        "builtins.bytearray",
        "builtins.complex",
        "builtins.slice",
        "builtins.range",
        "_codecs.encode",  # how protocol 2 spells a bytes object
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
        "torch._utils._rebuild_qtensor",
        "torch._utils._rebuild_sparse_tensor",
        "torch._utils._rebuild_nested_tensor",
        "torch._utils._rebuild_meta_tensor_no_storage",
        "torch._utils._rebuild_device_tensor_from_numpy",
        "torch._tensor._rebuild_from_type_v2",
        "torch.serialization._get_layout",
        "torch.nn.parameter.Parameter",
        "torch.Size",
        "torch.Tensor",
        "torch.device",
        "torch.storage.UntypedStorage",
        "torch.storage.TypedStorage",
        "numpy.ndarray",
        "numpy.dtype",
        "numpy.core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar",
        "numpy._core.multiarray._reconstruct",
        "numpy._core.multiarray.scalar",
        "numpy.core.numeric._frombuffer",
        "numpy._core.numeric._frombuffer",
    }
)
_SAFE_PATTERNS = (
    re.compile(r"torch\.(cuda\.)?[A-Z][A-Za-z0-9]*(Storage|Tensor)"),  # torch.FloatStorage, torch.cuda.HalfTensor
    re.compile(r"torch\.(u?int(8|16|32|64)|float(16|32|64)|bfloat16|half|double|bool|complex(32|64|128)|float8_\w+)"),
    re.compile(r"numpy\.dtypes\.[A-Z][A-Za-z0-9]*DType"),
)

_STRING_OPS = {"STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8"}
#: length-prefixed arguments: the prefix format; a long one is skipped instead of read
_SIZED = {
    "SHORT_BINBYTES": "<B",
    "BINBYTES": "<I",
    "BINBYTES8": "<Q",
    "BYTEARRAY8": "<Q",
    "SHORT_BINSTRING": "<B",
    "BINSTRING": "<i",
    "SHORT_BINUNICODE": "<B",
    "BINUNICODE": "<I",
    "BINUNICODE8": "<Q",
}
_MEMO_PUT = {"PUT", "BINPUT", "LONG_BINPUT"}
_MEMO_GET = {"GET", "BINGET", "LONG_BINGET"}
_MARK = object()
_CODE2OP: dict[str, pickletools.OpcodeInfo] = {op.code: op for op in pickletools.opcodes}
_OBJ = object()


@dataclass(frozen=True)
class PickleScan:
    """The globals a pickle file imports, and whether the whole stream could be read."""

    globals: tuple[str, ...]
    complete: bool = True  # False: a limit stopped the reading (dangerous: the unpickler might read on)
    note: str = ""  # where and why reading stopped, or the format read ("zip checkpoint", "npy object array")
    objects: bool = True  # False: a `.npy` whose header declares no Python objects (numpy unpickles nothing)

    @property
    def unsafe(self) -> tuple[str, ...]:
        return tuple(g for g in self.globals if not is_safe_global(g))

    @property
    def dangerous(self) -> bool:
        return bool(self.unsafe) or not self.complete


def is_safe_global(name: str) -> bool:
    return name in SAFE_GLOBALS or any(p.fullmatch(name) for p in _SAFE_PATTERNS)


class _Stop(Exception):
    """The stream cannot be read further: malformed or truncated (the unpickler stops there too), or over one of
    this reader's limits (`limit`: the unpickler might go on)."""

    def __init__(self, why: str, *, limit: bool = False) -> None:
        super().__init__(why)
        self.limit = limit


class _Reader:
    """A file wrapper for pickletools' argument readers: bounded reads, bounded lines, seeks for skips."""

    def __init__(self, f: IO[bytes], budget: int) -> None:
        self.f, self.budget = f, budget

    def _spend(self, n: int) -> None:
        self.budget -= n
        if self.budget < 0:
            raise _Stop(f"more than {MAX_READ} bytes of pickle opcodes", limit=True)

    def read(self, n: int = -1) -> bytes:
        if n < 0 or n > self.budget:
            raise _Stop(f"more than {MAX_READ} bytes of pickle opcodes", limit=True)
        data = self.f.read(n)
        self._spend(len(data))
        return data

    def readline(self) -> bytes:
        line = self.f.readline(MAX_LINE)
        self._spend(len(line))
        if not line.endswith(b"\n"):
            if len(line) >= MAX_LINE:
                raise _Stop(f"a text argument longer than {MAX_LINE} bytes", limit=True)
            raise _Stop("a text argument without its newline")
        return line

    def skip(self, n: int) -> None:
        self.f.seek(n, io.SEEK_CUR)


def scan_stream(f: IO[bytes], *, budget: int = MAX_READ) -> PickleScan:
    """The globals of the pickles at `f`'s position (several in a row, as torch's legacy format writes)."""
    reader = _Reader(f, budget)
    found: list[str] = []
    for n in range(MAX_PICKLES):
        head = f.read(1)
        if not head:
            break
        if n and head != b"\x80":  # after the last pickle: raw data (torch's storages), not an opcode stream
            break
        f.seek(-1, io.SEEK_CUR)
        try:
            _scan_one(reader, found)
        except _Stop as stop:
            if stop.limit:
                return PickleScan(tuple(found), False, str(stop))
            return PickleScan(tuple(found), True, "" if n else f"not a pickle past this point: {stop}")
    return PickleScan(tuple(found))


def _scan_one(r: _Reader, found: list[str]) -> None:
    stack: list[Any] = []
    memo: dict[Any, Any] = {}
    proto = 0
    while True:
        code = r.read(1)
        if not code:
            raise _Stop("truncated pickle (no STOP)")
        op = _CODE2OP.get(code.decode("latin-1"))
        if op is None:
            raise _Stop(f"unknown opcode {code!r}")
        arg = _argument(r, op)
        name = op.name
        if name == "PROTO":
            proto = arg
        elif name in ("GLOBAL", "INST"):
            module, _, attr = str(arg).partition(" ")
            found.append(_py3_name(module, attr, proto))
        elif name == "STACK_GLOBAL":
            if len(stack) < 2:
                raise _Stop("STACK_GLOBAL on a short stack")
            module, attr = stack[-2], stack[-1]
            ok = isinstance(module, str) and isinstance(attr, str)
            found.append(_py3_name(module, attr, proto) if ok else "<a computed name>")
        elif name.startswith("EXT"):
            found.append(f"<extension code {arg}>")
        elif name == "STOP":
            return
        _stack_effect(op, arg, stack, memo)


def _argument(r: _Reader, op: pickletools.OpcodeInfo) -> Any:
    if op.arg is None:
        return None
    fmt = _SIZED.get(op.name)
    if fmt is None:
        try:
            return op.arg.reader(r)  # type: ignore[arg-type]
        except ValueError as exc:
            raise _Stop(f"{op.name}: {exc}") from None
    raw = r.read(struct.calcsize(fmt))
    if len(raw) != struct.calcsize(fmt):
        raise _Stop("truncated pickle")
    (size,) = struct.unpack(fmt, raw)
    if size < 0:
        raise _Stop(f"{op.name} with a negative length")
    if op.name not in _STRING_OPS or size > MAX_LINE:
        r.skip(size)  # payload bytes (a tensor, an array) are never read
        return _OBJ
    data = r.read(size)
    if len(data) != size:
        raise _Stop("truncated pickle")
    return data.decode("utf-8" if "UNICODE" in op.name else "latin-1", "replace")


def _stack_effect(op: pickletools.OpcodeInfo, arg: Any, stack: list[Any], memo: dict[Any, Any]) -> None:
    """Apply an opcode to the abstract stack: strings stay strings (for STACK_GLOBAL), everything else is opaque."""
    name = op.name
    if name == "MEMOIZE" or name in _MEMO_PUT:
        if not stack:
            raise _Stop(f"{name} on an empty stack")
        memo[len(memo) if name == "MEMOIZE" else arg] = stack[-1]
        return
    if name in _MEMO_GET:
        stack.append(memo.get(arg, _OBJ))
        return
    if name == "DUP":
        stack.append(stack[-1] if stack else _OBJ)
        return
    before = op.stack_before
    if pickletools.markobject in before:
        if _MARK not in stack:
            raise _Stop(f"{name} without a MARK")
        while stack.pop() is not _MARK:
            pass
        below = before.index(pickletools.markobject)
    else:
        below = len(before)
    if len(stack) < below:
        raise _Stop(f"{name} on a short stack")
    del stack[len(stack) - below :]
    for item in op.stack_after:
        if item is pickletools.markobject:
            stack.append(_MARK)
        else:
            stack.append(arg if name in _STRING_OPS and isinstance(arg, str) else _OBJ)


def _py3_name(module: str, attr: str, proto: int) -> str:
    """The name the unpickler imports: protocol < 3 maps Python 2 names (`__builtin__`, `copy_reg`) as it does."""
    if proto < 3:
        if (module, attr) in _compat_pickle.NAME_MAPPING:
            module, attr = _compat_pickle.NAME_MAPPING[(module, attr)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
    return f"{module}.{attr}"


# ---------------------------------------------------------------------------------------------------------------
# Files


def scan_file(path: str | os.PathLike[str]) -> PickleScan:
    """The globals a pickle-format file imports: a zip checkpoint's `data.pkl`, a `.npy` object array's pickle,
    or the pickles at the start of the file. Raises OSError (NotRegularFile for anything but a regular file)."""
    with os.fdopen(open_regular(path), "rb") as f:
        head = f.read(8)
        f.seek(0)
        if head.startswith(b"PK\x03\x04"):
            return _scan_zip(f)
        if head.startswith(b"\x93NUMPY"):
            return _scan_npy(f)
        return scan_stream(f)  # a raw `.bin` of floats stops at its first byte that is no opcode


def _scan_zip(f: IO[bytes]) -> PickleScan:
    try:
        with zipfile.ZipFile(f) as z:
            members = [i for i in z.infolist() if i.filename.endswith(".pkl")]
            found: list[str] = []
            for info in members:
                if info.file_size > MAX_ZIP_MEMBER:
                    return PickleScan(tuple(found), False, f"{info.filename} is {info.file_size} bytes unpacked")
                with z.open(info) as member:
                    scan = scan_stream(member)
                found.extend(scan.globals)
                if not scan.complete:
                    return PickleScan(tuple(found), False, f"{info.filename}: {scan.note}")
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError) as exc:
        return PickleScan((), False, f"unreadable zip: {exc}")
    return PickleScan(tuple(found), True, "zip checkpoint")


def _scan_npy(f: IO[bytes]) -> PickleScan:
    """A `.npy` header says whether the array holds Python objects (dtype 'O' or a field of it): only then does
    a pickle follow the header."""
    magic = f.read(8)
    major = magic[6]
    size_fmt = "<H" if major == 1 else "<I"
    raw = f.read(struct.calcsize(size_fmt))
    (hlen,) = struct.unpack(size_fmt, raw) if len(raw) == struct.calcsize(size_fmt) else (0,)
    if not 0 < hlen <= MAX_LINE:
        return PickleScan((), False, "unreadable .npy header")
    try:
        header = ast.literal_eval(f.read(hlen).decode("latin-1"))
        descr = header["descr"]
    except (ValueError, SyntaxError, KeyError, TypeError, MemoryError, RecursionError):
        return PickleScan((), False, "unreadable .npy header")
    if "O" not in repr(descr):
        return PickleScan((), True, "npy without objects", objects=False)
    scan = scan_stream(f)
    return PickleScan(scan.globals, scan.complete, scan.note or "npy object array")
