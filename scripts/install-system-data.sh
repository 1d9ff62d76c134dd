#!/usr/bin/env bash
# Install the Debian/Ubuntu packages the real vaesep data sets are read from.
#
#   speech   : fillets-ng-data-nl fillets-ng-data-cs  (voice acting, GPL-2)
#   chorales : fluidsynth fluid-soundfont-gm          (MIDI renderer + GM soundfont)
#   noise    : sonic-pi-samples                       (CC0 recordings)
#   all      : libsndfile1                            (decodes OGG/FLAC for soundfile)
#
# With --with-dev-tools (what scripts/install.sh passes) it also installs
# python3-venv, and chromium when the distribution has a real package for it
# (Debian does; Ubuntu ships only a snap stub): the listening-test browser test
# drives it headless. Without chromium that one test is skipped locally and fails
# in CI (CI=true).
#
# Idempotent: packages that are already installed are skipped, so running it
# twice costs one `dpkg -s` per package. Works as root (Docker, Colab) or as a
# user with sudo (Debian, Ubuntu desktops). No data is downloaded at run time
# by vaesep itself; this script is the one place where apt fetches it.
set -euo pipefail

PACKAGES=(
  fillets-ng-data-nl
  fillets-ng-data-cs
  fluidsynth
  fluid-soundfont-gm
  sonic-pi-samples
  libsndfile1
)
OPTIONAL=()
case "${1:-}" in
  --with-dev-tools) PACKAGES+=(python3-venv); OPTIONAL+=(chromium) ;;
  "") ;;
  *) echo "usage: install-system-data.sh [--with-dev-tools]" >&2; exit 2 ;;
esac

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-data.sh: apt-get not found; this script supports Debian, Ubuntu and Colab." >&2
  echo "Install the equivalents of: ${PACKAGES[*]}" >&2
  exit 1
fi

# Both checks read the whole output of dpkg/apt-cache into a variable first: piping it
# into `grep -q` under pipefail fails whenever grep exits at its match while the writer
# is still printing (the writer dies of SIGPIPE, status 141), which for chromium's long
# apt-cache entry happened in most runs and made the script think it was not available.
is_installed() {
  # dpkg -s succeeds for removed-but-configured packages too, so compare the status itself
  local status
  status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
  [ "$status" = "install ok installed" ]
}

has_candidate() {
  # a real package with an installable version (not a purely virtual name)
  local policy
  policy=$(apt-cache policy "$1" 2>/dev/null) || return 1
  [[ $policy =~ Candidate:\ ([^[:space:]]+) ]] && [ "${BASH_REMATCH[1]}" != "(none)" ]
}

missing=()
for package in "${PACKAGES[@]}"; do
  is_installed "$package" || missing+=("$package")
done
missing_optional=()
for package in ${OPTIONAL[@]+"${OPTIONAL[@]}"}; do
  is_installed "$package" || missing_optional+=("$package")
done

if [ "${#missing[@]}" -eq 0 ] && [ "${#missing_optional[@]}" -eq 0 ]; then
  echo "All vaesep system packages are already installed."
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-system-data.sh: need root or sudo to install: ${missing[*]} ${missing_optional[*]}" >&2
  exit 1
fi

apt() { ${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get "$@"; }
apt update -q
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  apt install -y -q --no-install-recommends "${missing[@]}"
fi
for package in ${missing_optional[@]+"${missing_optional[@]}"}; do
  if has_candidate "$package"; then
    apt install -y -q --no-install-recommends "$package"
  else
    echo "Note: no apt package '$package' here; the browser test of the listening widget is skipped (and fails under CI=true)."
  fi
done
echo "Done. Check with: python -c \"from vaesep import data; print(data.build('speech').describe())\""
