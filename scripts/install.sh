#!/usr/bin/env bash
# vaesep set-up on a fresh Debian/Ubuntu machine (also Colab), in one command:
#   1. the Debian packages: offline audio data, fluidsynth, and Chromium for the browser test;
#   2. a virtual environment .venv (skip with VAESEP_NO_VENV=1, e.g. on Colab);
#   3. torch, then vaesep with its test tools (pip install -e ".[dev]").
# Safe to run again: every step skips what is already there.
#
# torch: `pip install torch==2.13.0` gives a CPU build where one is on the pip path (as on
# our CI machines); elsewhere PyPI's Linux wheel is the CUDA build (several GB). For a
# small CPU-only install on a laptop, set TORCH_INDEX_URL to PyTorch's CPU wheel index
# (see "Choosing a torch build" in README.md) before running this script.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-data.sh --with-dev-tools

if [ "${VAESEP_NO_VENV:-0}" != "1" ]; then
    [ -x .venv/bin/python ] || python3 -m venv .venv
    # shellcheck disable=SC1091
    . .venv/bin/activate
fi

python -m pip install --quiet "torch==2.13.0" ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
python -m pip install --quiet -e ".[dev]"
python -c "import vaesep, torch; print(f'vaesep {vaesep.__version__} with torch {torch.__version__} ready')"
