#!/usr/bin/env bash
# vaesep under Google Colab's Jupyter and widget versions, on this machine (.ci/run runs it).
#
# In a separate virtual environment, .venv-colab: Colab's preinstalled stack from
# requirements/colab.txt and a torch, as Colab has them before the set-up cell; then vaesep
# installed by scripts/colab_setup.py's own pip step (which holds everything installed at its
# version); then the widgets' tests, the set-up's tests and every notebook in fast mode.
# The apt data is not installed here: scripts/install.sh has done that already.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-colab
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
python="$venv/bin/python"
pip=("$python" -m pip install --quiet)

"${pip[@]}" -c requirements/colab.txt -r requirements/colab.txt pytest nbmake jupytext
"${pip[@]}" "torch==2.13.0" ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"}
before=$("$python" -m pip freeze --quiet | sort)
"$python" -c 'import runpy; runpy.run_path("scripts/colab_setup.py")["install"](__import__("pathlib").Path("."), with_apt=False)'

# the set-up must only have added packages, never changed one Colab had
changed=$(comm -23 <(echo "$before") <("$python" -m pip freeze --quiet | sort))
if [ -n "$changed" ]; then
    echo "check-colab-stack: the Colab set-up changed preinstalled packages:" >&2
    echo "$changed" >&2
    exit 1
fi
"$python" -c 'import IPython, ipywidgets, vaesep; print(f"vaesep {vaesep.__version__} with ipywidgets {ipywidgets.__version__}, IPython {IPython.__version__}")'
"$python" -m pytest -q tests/test_listening.py tests/test_latent.py tests/test_colab.py
"$python" -m pytest -q --nbmake notebooks
