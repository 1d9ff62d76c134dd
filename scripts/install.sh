#!/usr/bin/env bash
# vaesep set-up on a fresh Debian/Ubuntu machine (also Colab), in one command:
#   1. the Debian packages: offline audio data, fluidsynth, and Chromium for the browser test;
#   2. a virtual environment .venv (skip with VAESEP_NO_VENV=1, e.g. on Colab);
#   3. torch, then vaesep with its test tools (pip install -e ".[dev]"), at the exact versions
#      of requirements/constraints.txt, the tested ones. VAESEP_UNPINNED=1 installs the newest
#      releases within pyproject.toml's ranges instead.
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

constraints=(-c requirements/constraints.txt)
if [ "${VAESEP_UNPINNED:-0}" = "1" ]; then
    constraints=()
    echo "VAESEP_UNPINNED=1: installing the newest versions within pyproject.toml's ranges (untested)."
else
    tested=$(sed -n 's/^# .*Python \([0-9.]*\) .*/\1/p' requirements/constraints.txt | head -n 1)
    here=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    if [ "$here" != "$tested" ]; then
        echo "Note: requirements/constraints.txt was tested with Python $tested, this is $here;" \
             "if pip cannot install those versions here, rerun with VAESEP_UNPINNED=1." >&2
    fi
fi
# torch alone (from TORCH_INDEX_URL if given); its dependencies come with the next, pinned step
python -m pip install --quiet --no-deps "torch==2.13.0" ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
python -m pip install --quiet ${constraints[@]+"${constraints[@]}"} -e ".[dev]"
python -c "import vaesep, torch; print(f'vaesep {vaesep.__version__} with torch {torch.__version__} ready')"
