#!/usr/bin/env bash
# Takes docs/images/teams-home-light.png and teams-home-dark.png again: the Home tab in
# Chromium (Playwright), as tests/browser/test_screenshots.py draws it against the fakes.
# Needs what the browser tests need: /usr/bin/chromium and the test extras (.ci/run installs both).
set -euo pipefail
cd "$(dirname "$0")/../.."
NOTPROMOTED_SCREENSHOTS_DIR="$PWD/docs/images" "${VENV:-.venv}/bin/python" -m pytest -q \
    -p no:cacheprovider tests/browser/test_screenshots.py
