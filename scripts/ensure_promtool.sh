#!/usr/bin/env bash
# Puts Prometheus's `promtool` at .venv/bin/promtool for the tests that check docker/'s
# Prometheus config, alert rules and the dashboard's queries (tests/unit/test_promql.py).
# It is taken out of Debian's `prometheus` package (apt-get download + dpkg-deb -x), so no
# Prometheus server is installed or started. Idempotent: nothing to do once it is there.
set -euo pipefail
TARGET=.venv/bin/promtool
[ -x "$TARGET" ] && exit 0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! apt-get download prometheus >/dev/null 2>&1; then
  echo "ensure_promtool: updating the package lists" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq; else sudo apt-get update -qq; fi
  apt-get download prometheus >/dev/null
fi
dpkg-deb -x prometheus_*.deb unpacked
cd - >/dev/null
install -m 0755 "$work/unpacked/usr/bin/promtool" "$TARGET"
echo "ensure_promtool: ready: $("$TARGET" --version 2>&1 | head -n 1)" >&2
