#!/usr/bin/env bash
# Start the demo: reference backend + simulated cameras + the console, logged in as the demo operator.
# With no display (a headless server), the demo runs on a private Xvfb and saves a screenshot.
set -euo pipefail
cd "$(dirname "$0")/.."
# Encoding the demo cameras' clips happens once (cached); do it before the clock starts.
.venv/bin/rtcc-console prepare-demo
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  shot=${RTCC_DEMO_SCREENSHOT:-var/demo-screenshot.png}
  echo "demo: no display found; running on a virtual X display (Xvfb). Screenshot: $shot"
  exec xvfb-run -a -s "-screen 0 1920x1080x24 -nolisten tcp" .venv/bin/rtcc-console demo --screenshot "$shot" --quit-after "${RTCC_DEMO_SECONDS:-10}" "$@"
fi
exec .venv/bin/rtcc-console demo "$@"
