# Sourced by scripts/demo and scripts/test: create .venv if absent and install the package into it.
ensure_venv() {
  local extras="${1:-}"
  local py="${PYTHON:-}"
  if [ -z "$py" ]; then
    for cand in python3 python; do
      if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
        py="$cand"; break
      fi
    done
  fi
  [ -n "$py" ] || { echo "error: hf-linker needs Python >= 3.10" >&2; exit 2; }
  if [ ! -x .venv/bin/python ]; then
    echo "creating .venv with $("$py" --version)" >&2
    "$py" -m venv .venv
  fi
  local spec="."
  [ -n "$extras" ] && spec=".[$extras]"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec" 2>&1 \
    | grep -v "^WARNING: Location" >&2 || true
  .venv/bin/python -c "import linker, huggingface_hub" || { echo "error: install failed" >&2; exit 2; }
  if [ "$extras" = test ]; then
    for tool in pytest ruff mypy; do
      [ -x ".venv/bin/$tool" ] || { echo "error: install of the test extras failed (no .venv/bin/$tool)" >&2; exit 2; }
    done
  fi
}
