#!/usr/bin/env bash
# Benchmarks; each prints one JSON line. The video bench needs an X display: Xvfb when none.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DISPLAY:-}" ]; then
  xvfb-run -a -s "-screen 0 1920x1080x24 -nolisten tcp" .venv/bin/python bench/wall.py
else
  .venv/bin/python bench/wall.py
fi
.venv/bin/python bench/server.py
