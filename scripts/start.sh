#!/usr/bin/env bash
# Install everything, load the demo library and start the portal on the
# embedded default (SQLite, local files, Whoosh, embedded task queue).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh runtime
export FLASK_APP=portal
.venv/bin/flask --app portal seed-demo
echo "Open http://127.0.0.1:${PORT:-5000} and sign in as rep@example.com / marketer@example.com / enablement@example.com / admin@example.com with password 'collateral-demo'."
exec .venv/bin/flask --app portal serve --host "${HOST:-127.0.0.1}" --port "${PORT:-5000}"
