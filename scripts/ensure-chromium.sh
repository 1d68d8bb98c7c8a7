#!/usr/bin/env bash
# The viewer and recorder tests drive a real headless Chromium: Debian's, at /usr/bin/chromium (or $CHROMIUM_PATH).
# Installs it when missing and this user can (root with apt-get); otherwise says how, and fails.
set -euo pipefail
browser="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$browser" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "tests: $browser is missing; installing Debian's chromium with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q chromium >&2
  exit 0
fi
echo "tests: the browser tests need Chromium at $browser: run 'sudo apt-get install -y chromium' (or set CHROMIUM_PATH)" >&2
exit 1
