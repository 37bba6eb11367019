#!/usr/bin/env bash
# Installs what the portal needs into .venv (and, as root, the Debian packages).
# Usage: scripts/install.sh [runtime|dev]
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-runtime}"

apt_packages=(libreoffice-impress-nogui libreoffice-writer-nogui libreoffice-calc-nogui fonts-dejavu-core)
if [ "$profile" = dev ]; then
  apt_packages+=(chromium)
fi

missing=()
for package in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Missing Debian packages (thumbnails and browser tests need them):" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
  fi
fi

python3 -m venv .venv
requirements=requirements.txt
[ "$profile" = dev ] && requirements=requirements-dev.txt
.venv/bin/pip install --quiet --disable-pip-version-check -r "$requirements"
