#!/usr/bin/env bash
# Makes Debian's Chromium available at /usr/bin/chromium for the browser tests
# (tests/e2e drive it with Playwright; Playwright's own browser downloads are not used),
# with a font that has every Vietnamese letter. Installs the `chromium` and
# `fonts-dejavu-core` packages when either is missing, as root or through sudo. Idempotent.
# Where it cannot (no root, no package registry), it says so and exits 0: the browser tests
# then skip themselves, naming why (pytest -rs prints it), and the rest of `make test` runs.
set -euo pipefail
BROWSER=/usr/bin/chromium
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -x "$BROWSER" ] || [ ! -f "$FONT" ]; then
  echo "ensure_chromium: installing Chromium from Debian packages" >&2
  if ! { as_root apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null; }; then
    echo "ensure_chromium: could not install chromium from Debian packages: the browser tests (tests/e2e) will be skipped" >&2
  fi
fi
if [ ! -x "$BROWSER" ]; then
  echo "ensure_chromium: $BROWSER is missing: the browser tests (tests/e2e) will be skipped" >&2
  exit 0
fi
echo "ensure_chromium: ready: $("$BROWSER" --version 2>/dev/null || echo "$BROWSER")" >&2
