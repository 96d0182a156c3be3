#!/usr/bin/env bash
# Benchmarks; each prints one JSON line. Video and map benches need an X display: use Xvfb when none.
set -euo pipefail
cd "$(dirname "$0")/.."
run() {
  if [ -z "${DISPLAY:-}" ]; then
    xvfb-run -a -s "-screen 0 1920x1080x24 -nolisten tcp" .venv/bin/python "$@"
  else
    .venv/bin/python "$@"
  fi
}
run bench/wall.py "$@"
