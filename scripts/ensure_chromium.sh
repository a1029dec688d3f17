#!/usr/bin/env bash
# Makes Debian's Chromium available at /usr/bin/chromium for the browser tests
# (tests/e2e drive it with Playwright; Playwright's own browser downloads are not used),
# with a font that has every Vietnamese letter. Installs the `chromium` and
# `fonts-dejavu-core` packages when either is missing, as root or through sudo. Idempotent.
set -euo pipefail
BROWSER=/usr/bin/chromium
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -x "$BROWSER" ] || [ ! -f "$FONT" ]; then
  echo "ensure_chromium: installing Chromium from Debian packages" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
[ -x "$BROWSER" ] || { echo "ensure_chromium: $BROWSER is still missing after the install" >&2; exit 1; }
echo "ensure_chromium: ready: $("$BROWSER" --version 2>/dev/null || echo "$BROWSER")" >&2
