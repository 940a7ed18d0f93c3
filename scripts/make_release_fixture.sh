#!/usr/bin/env bash
# Regenerate the upgrade test's fixture: a store made by a previous release's code, kept as a
# compressed SQL dump with the JSON of what that release read from it.
#
#   scripts/make_release_fixture.sh [COMMIT] [NAME] [POSTS]
#
# COMMIT (default e067044, schema version 5, version 0.1.0) is extracted read-only with
# `git archive` into a temporary folder (no git state changes), its code builds the store
# (scripts/release_fixture_build.py, run with that code first on PYTHONPATH and this
# checkout's .venv for the libraries), and the store is dumped with the sqlite3 shell
# (apt install sqlite3) into tests/store/fixtures/NAME.sql.gz (default release-0.1.0) and
# NAME.json. See tests/store/fixtures/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
COMMIT="${1:-e067044}"
NAME="${2:-release-0.1.0}"
POSTS="${3:-60}"
PY="${PYTHON:-.venv/bin/python}"
OUT=tests/store/fixtures
command -v sqlite3 >/dev/null || { echo "needs the sqlite3 shell: apt install sqlite3" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rel" "$OUT"
git archive "$COMMIT" | tar -x -C "$work/rel"
# The release's code must win over this checkout's editable install: run from the temporary
# folder with the release first on the path, and check which yuqing was imported.
( cd "$work" && PYTHONPATH="$work/rel" "$OLDPWD/$PY" -c \
    'import sys, yuqing; assert yuqing.__file__.startswith(sys.argv[1]), yuqing.__file__' "$work/rel" )
( cd "$work" && PYTHONPATH="$work/rel" "$OLDPWD/$PY" "$OLDPWD/scripts/release_fixture_build.py" \
    "$work/store.db" "$OLDPWD/$OUT/$NAME.json" "$POSTS" )
sqlite3 "$work/store.db" .dump | gzip -9n > "$OUT/$NAME.sql.gz"
ls -l "$OUT/$NAME.sql.gz" "$OUT/$NAME.json"
