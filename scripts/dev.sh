#!/usr/bin/env bash
# Set-up and entry points behind `make demo` / `make test`; safe to run on a fresh machine.
#   scripts/dev.sh bootstrap     create .venv and install the project with its dev extras
#   scripts/dev.sh demo [ARGS]   bootstrap, then run the main job (`interestgraph pipeline`)
#   scripts/dev.sh test [ARGS]   bootstrap, ruff (lint + format check), pytest (unit + integration)
# Needs: Python >= 3.11, Java 17+ and Maven (Maven only until the Neo4j server is cached);
# the test command also installs Debian's chromium + chromium-driver when run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${INTERESTGRAPH_VENV:-.venv}
PY=${PYTHON:-python3}

bootstrap() {
  if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "error: Python >= 3.11 is needed as '$PY' (set PYTHON=/path/to/python3.11)" >&2
    exit 2
  fi
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  # Reinstall only when the dependency list changed (the stamp holds pyproject's hash).
  local want have
  want=$(sha256sum pyproject.toml | cut -c1-16)
  have=$(cat "$VENV/.interestgraph-deps" 2>/dev/null || true)
  if [ "$want" != "$have" ]; then
    echo "== installing Python dependencies into $VENV (first time: a few minutes, torch is large)"
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet -e '.[dev]'
    echo "$want" > "$VENV/.interestgraph-deps"
  fi
  ensure_tcmalloc
}

# The interestgraph command preloads tcmalloc when it finds it (interestgraph/malloc.py:
# glibc page-faults large training tensors at every step). No PyPI wheel ships it, so on
# Debian/Ubuntu fetch the distribution's package (no root needed) and keep the library in
# the venv; elsewhere the command falls back to glibc's huge pages.
ensure_tcmalloc() {
  local lib="$VENV/lib/libtcmalloc_minimal.so.4" tmp
  [ -e "$lib" ] && return 0
  [ "$(uname -s)" = Linux ] || return 0
  if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
    echo "note: no apt-get here; install gperftools' tcmalloc and set INTERESTGRAPH_TCMALLOC" \
         "for faster training (the command uses glibc's huge pages meanwhile)" >&2
    return 0
  fi
  echo "== fetching Debian's libtcmalloc-minimal4 into $VENV/lib (once)"
  tmp=$(mktemp -d)
  if (cd "$tmp" && apt-get download -q libtcmalloc-minimal4 >/dev/null 2>&1) \
     && dpkg-deb -x "$tmp"/libtcmalloc-minimal4_*.deb "$tmp/x"; then
    cp -P "$tmp"/x/usr/lib/*/libtcmalloc_minimal.so.4* "$VENV/lib/" \
      || echo "warning: the libtcmalloc-minimal4 package had no libtcmalloc_minimal.so.4" >&2
  else
    echo "warning: could not fetch libtcmalloc-minimal4 (apt-get download); the command" \
         "uses glibc's huge pages instead" >&2
  fi
  rm -rf "$tmp"
}

# The explorer test drives Debian's chromium through chromedriver. Install them when missing
# and we may (root + apt); otherwise say how (the test then skips outside CI).
ensure_chromium() {
  if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing Debian chromium + chromium-driver (explorer browser test; once)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium chromium-driver >/dev/null; } \
      || echo "warning: could not install chromium; the explorer test will not run" >&2
  else
    echo "note: chromium + chromedriver not found; the explorer browser test needs them" \
         "(sudo apt-get install chromium chromium-driver)" >&2
  fi
}

cmd=${1:-}
shift || true
case "$cmd" in
  bootstrap)
    bootstrap
    ;;
  demo)
    bootstrap
    exec "$VENV/bin/interestgraph" pipeline "$@"
    ;;
  test)
    bootstrap
    echo "== ruff check"
    "$VENV/bin/ruff" check .
    echo "== ruff format --check"
    "$VENV/bin/ruff" format --check .
    ensure_chromium
    # The test server lives in .interestgraph-test; stop it whatever happens to pytest.
    trap '"$VENV/bin/interestgraph" -q --home .interestgraph-test neo4j stop >/dev/null 2>&1 || true' EXIT
    echo "== pytest"
    "$VENV/bin/pytest" "$@"
    ;;
  *)
    sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
