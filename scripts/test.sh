#!/usr/bin/env bash
# Install everything and run every test, then ruff.
# Set TEST_DATABASE_URL to run on PostgreSQL; COLLATERAL_REQUIRE_TOOLS=1 turns
# "missing tool" skips into failures (CI does).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh dev
.venv/bin/ruff check .
exec .venv/bin/pytest -p no:cacheprovider "$@"
