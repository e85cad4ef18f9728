#!/usr/bin/env bash
# Installs what the web view's browser tests need, once: Debian's Chromium and ChromeDriver,
# and a Chinese font so that the screenshots show names in Han script (apt-get); and playwright-core and axe-core at the versions package-lock.json pins (npm ci,
# from the npm registry). Called by tests/web.rs; safe to run again (it does nothing when all
# is in place).
set -euo pipefail
cd "$(dirname "$0")"
font=/usr/share/fonts/truetype/wqy/wqy-microhei.ttc
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] || [ ! -f "$font" ]; then
  if [ "$(id -u)" = 0 ]; then
    sudo=""
  elif command -v sudo >/dev/null; then
    sudo="sudo"
  else
    echo "error: the browser tests need Debian's chromium, chromium-driver and fonts-wqy-microhei; install them as root: apt-get install chromium chromium-driver fonts-wqy-microhei" >&2
    exit 1
  fi
  echo "installing Debian's chromium, chromium-driver and fonts-wqy-microhei (apt-get)" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-wqy-microhei >&2
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing playwright-core and axe-core (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
