"""Whether a plain folder is a model, and whether it holds source code that must not leave it.

A folder is taken for a model when its top level holds weights (`.safetensors`, `.bin`, `.pt`, `.pth`, `.h5`,
`.onnx`, `.gguf`, `.msgpack`, `.ckpt`), a file only Hugging Face repos carry (`tokenizer.json`, `modules.json`,
`adapter_config.json`...), or a `config.json` that names a `model_type` or `architectures` (a config-only repo).
A bare `config.json` is not enough: every other project has one.

A model folder is refused (named, nothing moved) when it also holds source code or a project marker anywhere:
files such as `app.py`, `main.go`, `index.js`; `pyproject.toml`, `package.json`, `go.mod`, `setup.py`...; a nested
`.git`, or a top-level `.git` whose remote is not the Hub. Model repos do carry Python for `trust_remote_code`:
top-level `modeling_*.py`, `configuration_*.py`, `tokenization_*.py`, `processing_*.py`,
`image_processing_*.py`, `feature_extraction_*.py` and an Inference Endpoints `handler.py` are model files.
`--id` lifts the refusal (it says the folder is a model).
"""

from __future__ import annotations

import configparser
import contextlib
import json
import os
from pathlib import Path

from .units import Unit

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf", ".onnx", ".h5", ".msgpack", ".ckpt")
#: Names only model repos carry (a folder holding one is a model, or a tokenizer- or adapter-only repo).
HF_NAMES = frozenset({
    "modules.json", "model_index.json", "adapter_config.json", "tokenizer.json", "tokenizer_config.json",
    "sentence_bert_config.json", "config_sentence_transformers.json", "model.safetensors.index.json",
    "pytorch_model.bin.index.json", "generation_config.json", "special_tokens_map.json", "preprocessor_config.json",
})  # fmt: skip
#: The lenient rule `--id` uses for the folder it names: any of these, or weights.
LENIENT_NAMES = HF_NAMES | {"config.json"}
SOURCE_SUFFIXES = (
    ".py", ".pyx", ".go", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".java", ".kt", ".rs", ".c", ".cc", ".cpp",
    ".h", ".hpp", ".cs", ".rb", ".php", ".swift", ".scala", ".lua", ".r", ".jl",
)  # fmt: skip
REMOTE_CODE_PREFIXES = (
    "modeling_", "configuration_", "tokenization_", "processing_", "image_processing_", "feature_extraction_",
)  # fmt: skip
REPO_CODE = frozenset({"handler.py"})  # an Inference Endpoints custom handler
PROJECT_MARKERS = frozenset({
    ".git", "pyproject.toml", "package.json", "go.mod", "setup.py", "setup.cfg", "Cargo.toml", "pom.xml",
    "build.gradle", "Gemfile", "composer.json", "CMakeLists.txt", "Makefile", "node_modules", ".venv",
})  # fmt: skip
HUB_HOSTS = ("huggingface.co", "hf.co")


def _top_names(d: Path) -> list[str]:
    try:
        return [e.name for e in os.scandir(d) if e.is_file(follow_symlinks=False) or e.is_symlink()]
    except OSError:
        return []


def _model_config(path: Path) -> bool:
    """A `config.json` of a model: a JSON object naming `model_type` or `architectures`."""
    try:
        if path.is_symlink() or path.stat().st_size > 1 << 20:
            return False
        data = json.loads(path.read_text(errors="replace"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and ("model_type" in data or "architectures" in data)


def is_model_folder(d: Path, *, lenient: bool = False) -> bool:
    names = _top_names(d)
    if any(n.endswith(WEIGHT_SUFFIXES) or n in HF_NAMES for n in names):
        return True
    if "config.json" in names:
        return lenient or _model_config(d / "config.json")
    return False


def _remote_code(path: str) -> bool:
    return "/" not in path and path.endswith(".py") and (path.startswith(REMOTE_CODE_PREFIXES) or path in REPO_CODE)


def _hub_clone(git: Path) -> bool:
    """A `.git` folder whose remotes are all on the Hub (a `git clone https://huggingface.co/org/name`)."""
    endpoint = os.environ.get("HF_ENDPOINT", "")
    hosts = HUB_HOSTS + ((endpoint.split("://", 1)[-1].split("/", 1)[0],) if endpoint else ())
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    with contextlib.suppress(OSError, configparser.Error, UnicodeDecodeError):
        cfg = git / "config"
        if git.is_dir() and not git.is_symlink() and cfg.is_file() and not cfg.is_symlink():
            parser.read(cfg)
    urls = [parser.get(s, "url", fallback="") for s in parser.sections() if s.startswith("remote ")]
    return bool(urls) and all(any(h in u for h in hosts) for u in urls)


def code_in(unit: Unit) -> list[str]:
    """The source files and project markers a model folder holds (what makes it refused unless --id)."""
    found: list[str] = []
    for path in sorted(unit.files):
        parts = path.split("/")
        marker = next((p for p in parts if p in PROJECT_MARKERS), None)
        if marker is not None:
            shown = "/".join(parts[: parts.index(marker) + 1])
            if shown not in found:
                found.append(shown)
        elif path.lower().endswith(SOURCE_SUFFIXES) and not _remote_code(path):
            found.append(path)
    git = unit.root / ".git"
    if os.path.lexists(git) and not _hub_clone(git):
        found.insert(0, ".git (not a clone from the Hub)")
    return found
