#!/usr/bin/env bash
# yuqing developer entry point: `./scripts/dev.sh demo` runs the main job, `./scripts/dev.sh test`
# runs the whole test suite. Each installs what it needs on a fresh Debian machine with
# Python >= 3.11: python3-venv (apt), a virtualenv in .venv with the project, and for tests
# the PostgreSQL and Redis servers and Chromium when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"

say() { printf '\033[1;34m==> %s\033[0m\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq >/dev/null; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_python() {
  if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
    echo "yuqing needs Python >= 3.11 as '$PY' (set PYTHON=/path/to/python3.11)" >&2; exit 1
  fi
  if ! "$PY" -c 'import venv, ensurepip' 2>/dev/null; then
    say "installing python3-venv"; apt_install python3-venv
  fi
}

ensure_venv() {
  ensure_python
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtualenv in .venv"; "$PY" -m venv "$VENV"
  fi
  local stamp="$VENV/.yuqing-installed"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    say "installing yuqing and its dependencies into .venv"
    "$VENV/bin/python" -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
    "$VENV/bin/python" -m pip install -q -e ".[dev,server]" 2>&1 | grep -v '^WARNING: Location' || true
    "$VENV/bin/python" -c 'import yuqing.cli' # fails loudly if the install did not work
    touch "$stamp"
  fi
}

ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return; fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then say "installing PostgreSQL"; apt_install postgresql; fi
  say "starting PostgreSQL"
  local ver; ver=$(ls /etc/postgresql | sort -V | tail -n 1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  # the tests expect trust auth on 127.0.0.1 and a database called "test"
  local hba="/etc/postgresql/$ver/main/pg_hba.conf"
  if ! as_root grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main reload
  fi
  as_root su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='test'\" | grep -q 1 || createdb test" || true
  as_root su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='root'\" | grep -q 1 || createuser -s root" || true
}

ensure_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then return; fi
  if ! command -v redis-server >/dev/null 2>&1; then say "installing Redis"; apt_install redis-server redis-tools; fi
  say "starting Redis"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/yuqing-tests.log
  for _ in $(seq 20); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.5; done
}

ensure_chromium() {
  if command -v chromium >/dev/null 2>&1; then return; fi
  say "installing Chromium for browser tests"; apt_install chromium chromium-driver
}

ensure_fonts() {
  # Chinese text in report charts, PDF briefings (WeasyPrint lays out with Pango) and
  # browser screenshots
  if [ ! -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]; then
    say "installing the Noto CJK fonts"; apt_install fonts-noto-cjk
  fi
  if ! ldconfig -p | grep -q libpangoft2-1.0; then
    say "installing Pango for PDF briefings"; apt_install libpango-1.0-0 libpangoft2-1.0-0
  fi
}

cmd_demo() {
  ensure_venv
  exec "$VENV/bin/yuqing" demo "$@"
}

cmd_test() {
  ensure_venv
  ensure_postgres
  ensure_redis
  ensure_chromium
  ensure_fonts
  say "ruff"; "$VENV/bin/ruff" check yuqing tests benchmarks
  "$VENV/bin/ruff" format --check yuqing tests benchmarks
  say "mypy --strict"; "$VENV/bin/mypy"
  say "pytest"; "$VENV/bin/pytest" -q "$@"
}

case "${1:-}" in
  demo) shift; cmd_demo "$@" ;;
  test) shift; cmd_test "$@" ;;
  *) echo "usage: $0 demo|test [args...]" >&2; exit 2 ;;
esac
