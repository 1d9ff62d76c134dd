#!/usr/bin/env bash
# Install the Debian/Ubuntu packages the real vaesep data sets are read from.
#
#   speech   : fillets-ng-data-nl fillets-ng-data-cs  (voice acting, GPL-2)
#   chorales : fluidsynth fluid-soundfont-gm          (MIDI renderer + GM soundfont)
#   noise    : sonic-pi-samples                       (CC0 recordings)
#   all      : libsndfile1                            (decodes OGG/FLAC for soundfile)
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

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-data.sh: apt-get not found; this script supports Debian, Ubuntu and Colab." >&2
  echo "Install the equivalents of: ${PACKAGES[*]}" >&2
  exit 1
fi

missing=()
for package in "${PACKAGES[@]}"; do
  # dpkg -s succeeds for removed-but-configured packages too, so check the status line
  if ! dpkg -s "$package" 2>/dev/null | grep -q '^Status: install ok installed'; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "All vaesep system data packages are already installed."
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-system-data.sh: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi

echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update -q
${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "Done. Check with: python -c \"from vaesep import data; print(data.build('speech').describe())\""
