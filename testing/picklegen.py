"""Pickle files as torch writes them, built without torch: a generator subprocess registers stand-in modules
named `torch` and `torch._utils` (only in that subprocess) so that pickle names the real globals.

Nothing here ever loads a generated pickle."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_GEN = r"""
import collections, io, os, pickle, struct, sys, types, zipfile

torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")
def _rebuild_tensor_v2(*args): raise AssertionError("never called")
_rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
class FloatStorage: pass
FloatStorage.__module__ = "torch"
utils._rebuild_tensor_v2, torch.FloatStorage, torch._utils = _rebuild_tensor_v2, FloatStorage, utils
sys.modules.update({"torch": torch, "torch._utils": utils})

class Storage:
    def __init__(self, key): self.key = key
class Tensor:
    def __init__(self, key): self.key = key
    def __reduce__(self):
        return (_rebuild_tensor_v2, (Storage(self.key), 0, (4,), (1,), False, collections.OrderedDict()))
class Saver(pickle.Pickler):  # torch.save's persistent ids for storages
    def persistent_id(self, obj):
        return ("storage", FloatStorage, obj.key, "cpu", 4) if isinstance(obj, Storage) else None
def dump(obj, protocol=2):
    buf = io.BytesIO(); Saver(buf, protocol=protocol).dump(obj); return buf.getvalue()

class Evil:
    def __reduce__(self): return (os.system, ("touch " + sys.argv[2],))

out = sys.argv[1]
state = collections.OrderedDict([("weight", Tensor("0")), ("bias", Tensor("1"))])
raw = struct.pack("<8f", *range(8))
legacy = dump(0x1950A86A20F9469CFC6C) + dump(1001) + dump({"little_endian": True}) + dump(state) + dump(["0", "1"])
files = {"pytorch_model.bin": legacy + raw, "evil.pkl": dump(collections.OrderedDict(x=Evil()), protocol=4)}
def zipped(pkl):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pkl); z.writestr("archive/data/0", raw); z.writestr("archive/version", "3\n")
    return buf.getvalue()
files["model.pt"] = zipped(dump(state))
files["trap.ckpt"] = zipped(dump({"state": state, "hook": Evil()}))
for name, data in files.items():
    with open(os.path.join(out, name), "wb") as f: f.write(data)
"""


def make_pickles(folder: Path, marker: Path) -> dict[str, bytes]:
    """pytorch_model.bin (torch's legacy format: protocol 2, collections.OrderedDict and
    torch._utils._rebuild_tensor_v2), model.pt (a zip checkpoint of the same), evil.pkl and trap.ckpt (a zip
    checkpoint) whose __reduce__ calls os.system("touch <marker>")."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-c", _GEN, str(folder), str(marker)], check=True, cwd=folder)
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
