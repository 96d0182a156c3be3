#!/usr/bin/env bash
# The whole test suite. Video and map tests start their own Xvfb; the suite needs no display.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
