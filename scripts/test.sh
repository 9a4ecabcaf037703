#!/usr/bin/env bash
# Install everything the tests need into .venv (and .ci/node_modules for Prism), then run the
# suite on SQLite and, side by side, on PostgreSQL when one answers on 127.0.0.1:5432.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'

# Prism serves LINE's OpenAPI spec for the contract tests (versions pinned in the lock file).
if [ ! -x .ci/node_modules/.bin/prism ]; then
    (cd .ci && npm ci --no-audit --no-fund --loglevel=error)
fi

# Browser tests drive Debian's Chromium; a Thai font keeps Thai legible in screenshots.
if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi garuda; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-thai-tlwg >/dev/null
    else
        echo "chromium and fonts-thai-tlwg are needed: sudo apt-get install chromium fonts-thai-tlwg" >&2
        exit 1
    fi
fi

# One classifier model for both runs, built here once so the two runs below never train at once.
export RUAMKID_TEST_MODEL_DIR=${RUAMKID_TEST_MODEL_DIR:-$PWD/instance/test-models}
mkdir -p "$RUAMKID_TEST_MODEL_DIR"
.venv/bin/python -c 'import os, nlp
c = nlp.Classifier(os.environ["RUAMKID_TEST_MODEL_DIR"])
c.is_current() or c.train()'

PG_URL=${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
if .venv/bin/python - "$PG_URL" <<'PY'
import sys
import sqlalchemy
try:
    sqlalchemy.create_engine(sys.argv[1]).connect().close()
except Exception:
    sys.exit(1)
PY
then
    # Each run is mostly one busy core: run them side by side and show each log when both end.
    logs=$(mktemp -d)
    echo "== tests on SQLite and on PostgreSQL, side by side (logs follow when both end) =="
    # The SQLite run must not inherit a PostgreSQL URL (.ci/run exports one).
    env -u TEST_DATABASE_URL .venv/bin/python -m pytest "$@" >"$logs/sqlite.log" 2>&1 &
    sqlite_pid=$!
    # The classifier and the browser do not touch the database engine: once is enough.
    TEST_DATABASE_URL=$PG_URL .venv/bin/python -m pytest -m "not browser" --ignore=tests/nlp "$@" \
        >"$logs/postgresql.log" 2>&1 &
    pg_pid=$!
    sqlite_rc=0 && wait "$sqlite_pid" || sqlite_rc=$?
    pg_rc=0 && wait "$pg_pid" || pg_rc=$?
    echo "== tests on SQLite (exit $sqlite_rc) =="
    cat "$logs/sqlite.log"
    echo "== tests on PostgreSQL (exit $pg_rc) =="
    cat "$logs/postgresql.log"
    [ "$sqlite_rc" = 0 ] && [ "$pg_rc" = 0 ]
elif [ -n "${CI:-}" ]; then
    echo "PostgreSQL is not reachable at $PG_URL, and CI must test it" >&2
    exit 1
else
    echo "PostgreSQL not reachable at $PG_URL: skipped the PostgreSQL run" >&2
    echo "== tests on SQLite =="
    env -u TEST_DATABASE_URL .venv/bin/python -m pytest "$@"
fi
