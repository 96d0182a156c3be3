#!/usr/bin/env bash
# Install what is missing for RTCC Console on Debian 12 and build the venv at .venv.
# Idempotent and quiet when everything is already there. Used by `make setup|demo|test|bench`.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(
  # libVLC playing H.264 over HTTP MPEG-TS, and its X11 video outputs
  libvlc5 vlc-plugin-base vlc-plugin-video-output
  # clips, the gateway's RTSP client, the simulated cameras (GStreamer RTSP server via system python3-gi)
  ffmpeg python3 python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-tools
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-libav
  # virtual display for tests and headless demo, screenshots
  xvfb x11-utils xauth imagemagick fonts-dejavu-core
  # Qt's xcb platform plugin and QtWebEngine runtime libraries
  libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0
  libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 libegl1 libgl1 libopengl0
  libnss3 libxcomposite1 libxdamage1 libxrandr2 libxtst6 libxkbfile1 libasound2 libdbus-1-3
  # PostgreSQL for the shared-watch-floor backend tests
  postgresql
)

missing=()
for p in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The PostgreSQL server tests run their own throwaway cluster from these binaries
# (tests/support/postgres.py: initdb + pg_ctl as the "postgres" OS user); the Python driver
# is psycopg[binary] from pyproject (server extra). No system cluster needs to be running.
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  echo "setup: warning: PostgreSQL server binaries (initdb) not found; the postgresql tests will fail" >&2
fi

# CPython >= 3.12: PySide6 6.12 corrupts refcounts of None/True on 3.11 (aborts within seconds).
pick_python() {
  local c
  for c in "${RTCC_PYTHON:-}" python3.13 python3.12 \
           "$HOME"/.pyenv/versions/3.13*/bin/python3 "$HOME"/.pyenv/versions/3.12*/bin/python3 \
           /usr/local/bin/python3.13 /usr/local/bin/python3.12 /usr/bin/python3.12 python3; do
    [ -n "$c" ] || continue
    command -v "$c" >/dev/null 2>&1 || continue
    if "$c" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  return 1
}

venv_ok() { [ -x .venv/bin/python ] && .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; }
if ! venv_ok; then
  PY=$(pick_python) || { echo "setup: RTCC Console needs CPython >= 3.12 (PySide6 6.12 breaks on 3.11)." \
       "Install python3.12 (or set RTCC_PYTHON=/path/to/python3.12) and run again." >&2; exit 1; }
  echo "setup: creating .venv with $PY ($("$PY" -V))"
  rm -rf .venv
  "$PY" -m venv .venv
fi

stamp=.venv/.rtcc-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing the project into .venv"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e ".[dev]"
  echo "$want" > "$stamp"
fi
