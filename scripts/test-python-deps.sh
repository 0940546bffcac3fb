#!/usr/bin/env bash
# Python packages for the tests that check Graft against Python tools: tests/data_interop.rs reads
# Graft files with pyarrow and pandas (and Graft reads pyarrow-written files); the training
# tests read Graft's TensorBoard event files back with tensorboard's own event reader; the
# image tests export scikit-learn's bundled `digits` to an ImageFolder
# (scripts/export-digits.py).
#
# Creates a virtual environment in $GRAFT_HOME/pyenv-tests (default ~/.cache/graft/pyenv-tests)
# with pinned versions and prints its python's path on stdout. Idempotent: a second run with
# the same pins only prints the path. Needs python3 with the venv module and PyPI access the
# first time. Exits non-zero, with the reason on stderr, when that is impossible.
set -euo pipefail

PINS="pyarrow==21.0.0 pandas==2.3.3 numpy==2.2.6 scikit-learn==1.9.1 tensorboard==2.21.0"
ROOT="${GRAFT_HOME:-$HOME/.cache/graft}"
VENV="$ROOT/pyenv-tests"
STAMP="$VENV/.graft-pins"

if [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$PINS" ]; then
    echo "$VENV/bin/python"
    exit 0
fi

PY="$(command -v python3 || true)"
if [ -z "$PY" ]; then
    echo "test-python-deps: python3 not found; the dataset interop tests need Python 3 with venv" >&2
    exit 1
fi
mkdir -p "$ROOT"
rm -rf "$VENV"
"$PY" -m venv "$VENV" >&2 || {
    echo "test-python-deps: '$PY -m venv' failed; install the venv module (e.g. apt-get install python3-venv)" >&2
    exit 1
}
"$VENV/bin/pip" install --quiet --disable-pip-version-check $PINS >&2 || {
    echo "test-python-deps: pip could not install $PINS" >&2
    exit 1
}
echo "$PINS" > "$STAMP"
echo "$VENV/bin/python"
