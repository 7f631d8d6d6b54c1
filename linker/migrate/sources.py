"""Find what a migrate source holds: which kind of legacy layout, which models, which files.

Kinds (docs/hf-cache.md §5-6), auto-detected in this order unless `--kind` forces one:

* `local-dir`: `hf download --local-dir` output (has `.cache/huggingface/download/`), see localdir.py;
* `hf-cache`: an HF-layout cache in the wrong place, or with hub 0.13 links (has `models--org--name/`), cachedir.py;
* `transformers-legacy`: the pre-4.22 flat cache (`<sha256>.<sha256>` files with sidecars), flatcache.py;
* `st-legacy`: sentence-transformers < 2.3 `<org>_<name>` folders: one (inside a `sentence_transformers` root or
  named `sentence-transformers_*`), or a cache root of them;
* `folder`: a plain model folder (save_pretrained, git clone), or a tree of them such as `models/{org}/{model}`.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError
from ..hfcache import SNAPSHOTS, check_repo_id, parse_repo_folder
from .cachedir import cache_root, scan_hf_cache
from .detect import code_in, is_model_folder
from .flatcache import has_legacy_files, scan_transformers_legacy
from .localdir import is_local_dir, local_dir_unit
from .units import (
    FOLDER,
    HF_CACHE,
    KIND_ALIASES,
    KINDS,
    LOCAL_DIR,
    ST_LEGACY,
    TRANSFORMERS_LEGACY,
    Unit,
    folder_named_unit,
    scan_files,
)

_MAX_DEPTH = 4


def st_home() -> str | None:
    home = os.environ.get("SENTENCE_TRANSFORMERS_HOME")
    return os.path.realpath(os.path.expanduser(home)) if home else None


def _is_st_root(d: Path) -> bool:
    return d.name == "sentence_transformers" or os.path.realpath(d) == st_home()


def st_id_candidates(name: str) -> list[str]:
    """Every repo id a sentence-transformers < 2.3 folder name can stand for (`/` was replaced by `_`)."""
    if "_" not in name:
        return [name] if check_repo_id(name) is None else []
    out = []
    for i, ch in enumerate(name):
        if ch == "_":
            cand = name[:i] + "/" + name[i + 1 :]
            if check_repo_id(cand) is None:
                out.append(cand)
    return out


def discover(
    src: Path, kind: str | None = None, *, global_cache: Path | None = None, explicit: bool = False
) -> list[Unit]:
    """The units (one per model) a source holds, auto-detecting its kind unless `kind` forces it. `explicit`
    (`--id`): the folder given is a model if it holds any model file, even a bare config.json."""
    src = Path(os.path.abspath(src))
    units = _discover(src, kind, global_cache, explicit)
    for u in units:
        u.src = src
    return units


def _discover(src: Path, kind: str | None, global_cache: Path | None, explicit: bool) -> list[Unit]:
    if not src.exists():
        raise ConfigError(f"{src}: no such folder")
    if not src.is_dir():
        raise ConfigError(f"{src}: not a folder (migrate takes model folders or caches)")
    if kind is not None:
        kind = KIND_ALIASES.get(kind, kind)
        if kind not in KINDS:
            raise ConfigError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
        return _discover_kind(src, kind, global_cache, explicit)
    if is_local_dir(src):
        return _discover_kind(src, LOCAL_DIR, global_cache)
    units: list[Unit] = []
    cache = cache_root(src) or (src.parent if parse_repo_folder(src.name) and (src / SNAPSHOTS).is_dir() else None)
    if cache is not None:
        units += _discover_kind(src, HF_CACHE, global_cache)
    for d in (src, src / "transformers"):
        if has_legacy_files(d):
            units += scan_transformers_legacy(d)
    if units or cache is not None:
        return units
    if is_model_folder(src, lenient=explicit):
        return [st_unit(src) if _looks_st_legacy(src) else folder_unit(src)]
    children = _subdirs(src)
    model_children = [c for c in children if is_model_folder(c)]
    if model_children and (_is_st_root(src) or any("_" in c.name for c in model_children)):
        return [st_unit(c) for c in children if not c.name.startswith(".")]
    return _folder_tree(src)


def _discover_kind(src: Path, kind: str, global_cache: Path | None, explicit: bool = False) -> list[Unit]:
    if kind == LOCAL_DIR:
        if not is_local_dir(src):
            raise ConfigError(f"{src}: not an `hf download --local-dir` folder (no .cache/huggingface/download)")
        return [local_dir_unit(src)]
    if kind == HF_CACHE:
        if parse_repo_folder(src.name) and (src / SNAPSHOTS).is_dir():
            return scan_hf_cache(src.parent, global_cache, only=src.name)
        cache = cache_root(src)
        if cache is None:
            raise ConfigError(f"{src}: no repo folders (models--org--name) here or in {src / 'hub'}")
        return scan_hf_cache(cache, global_cache)
    if kind == TRANSFORMERS_LEGACY:
        d = src if has_legacy_files(src) else src / "transformers"
        if not has_legacy_files(d):
            raise ConfigError(f"{src}: no transformers cache files (<sha256>.<sha256> with a .json sidecar)")
        return scan_transformers_legacy(d)
    if kind == ST_LEGACY:
        if is_model_folder(src, lenient=explicit) or (src.name.count("_") and not _subdirs(src)):
            return [st_unit(src)]
        return [st_unit(c) for c in _subdirs(src) if not c.name.startswith(".")]
    if is_model_folder(src, lenient=explicit):
        return [folder_unit(src)]
    return _folder_tree(src)


def _looks_st_legacy(d: Path) -> bool:
    """One sentence-transformers < 2.3 folder given directly: in an ST cache root, or named like one
    (`sentence-transformers_*`, or an `<org>_<name>` sentence-transformers model holding the Hub's `.gitattributes`
    but no `.git`, as a download of every file of a repo does and a `save()` does not)."""
    if _is_st_root(d.parent) or d.name.startswith("sentence-transformers_"):
        return True
    return (
        "_" in d.name
        and bool(st_id_candidates(d.name))
        and (d / ".gitattributes").is_file()
        and not (d / ".git").exists()
        and (d / "modules.json").is_file()
    )


def _subdirs(d: Path) -> list[Path]:
    try:
        return sorted(Path(e.path) for e in os.scandir(d) if e.is_dir(follow_symlinks=False))
    except OSError:
        return []


def _folder_tree(src: Path) -> list[Unit]:
    found: list[Path] = []

    def walk(d: Path, depth: int) -> None:
        for c in _subdirs(d):
            if c.name.startswith("."):
                continue
            if is_model_folder(c):
                found.append(c)
            elif depth < _MAX_DEPTH:
                walk(c, depth + 1)

    walk(src, 1)
    if not found and not any(files for _, _, files in os.walk(src)):
        return []  # an empty tree (for instance, everything was migrated already): nothing to do
    if not found:
        raise ConfigError(
            f"{src}: no model found (no weights, tokenizer or model config here or {_MAX_DEPTH} levels below)",
            hint="pass --kind to say what it is",
        )
    return [folder_unit(d) for d in found]


# ---------------------------------------------------------------------------------------------------------------
# Plain folders and sentence-transformers folders


def folder_unit(d: Path) -> Unit:
    unit = folder_named_unit(FOLDER, d)
    unit.code = code_in(unit)
    return unit


def st_unit(d: Path) -> Unit:
    unit = Unit(ST_LEGACY, d)
    unit.ids = st_id_candidates(d.name)
    unit.id_reason = "from the sentence-transformers folder name"
    scan_files(unit, d)
    unit.code = code_in(unit)
    if "modules.json" not in unit.files:
        unit.problems.append(
            "incomplete sentence-transformers download (no modules.json); not migrated "
            "(it would load with mean pooling); migrate it with --kind folder if it is a plain transformers model"
        )
    return unit
