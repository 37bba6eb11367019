#!/usr/bin/env bash
# Installs what the portal needs: the Debian packages (as root; otherwise it prints the
# exact apt-get line) and the Python packages into .venv.
# Usage: scripts/install.sh [runtime|dev]
#   runtime: what the portal needs to run (Python venv, LibreOffice for thumbnails, fonts)
#   dev:     runtime plus what the tests need (Chromium and the libraries Playwright's
#            driver loads, Redis for the queue tests)
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-runtime}"
case "$profile" in runtime|dev) ;; *) echo "usage: scripts/install.sh [runtime|dev]" >&2; exit 2 ;; esac

say() { printf '[install] %s\n' "$*"; }

apt_packages=(
  python3-venv                   # python3 -m venv
  libreoffice-impress-nogui      # PPTX -> PDF (thumbnails, viewer)
  libreoffice-writer-nogui       # DOCX -> PDF
  libreoffice-calc-nogui         # XLSX -> PDF
  fonts-dejavu-core fonts-liberation2 fonts-crosextra-carlito fonts-crosextra-caladea
)
if [ "$profile" = dev ]; then
  apt_packages+=(
    chromium                     # browser tests (Playwright drives Debian's Chromium)
    libatomic1                   # Playwright's driver (node) needs libatomic.so.1
    redis-server                 # the Redis queue tests start their own server
  )
fi
missing=()
for package in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "Debian packages (${#missing[@]}): ${missing[*]}"
    say "apt-get update"
    apt-get update -qq
    say "apt-get install (LibreOffice and Chromium take a few minutes on a new machine)"
    log="$(mktemp /tmp/collateral-apt.XXXXXX.log)"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" 2>&1 \
        | awk -v logfile="$log" '{ print > logfile } /^Setting up /{ n++; if (n % 25 == 0) { printf "[apt] %d packages set up\n", n; fflush() } }'; then
      tail -n 30 "$log" >&2
      echo "apt-get install failed; the whole log is in $log" >&2
      exit 1
    fi
    rm -f "$log"
  else
    echo "Missing Debian packages; as root, install them with:" >&2
    echo "  apt-get install -y --no-install-recommends ${missing[*]}" >&2
    if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
      echo "python3 -m venv cannot work without python3-venv; stopping." >&2
      exit 1
    fi
  fi
else
  say "Debian packages: all present"
fi

if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  python3 -m venv .venv
fi
requirements=requirements.txt
[ "$profile" = dev ] && requirements=requirements-dev.txt
say "Python packages from $requirements into .venv"
.venv/bin/pip install --disable-pip-version-check --progress-bar off -q -r "$requirements"
say "done"
