#!/usr/bin/env bash
# Ensure the system browsers the e2e suite drives are present (see shared/BROWSERS.md).
#   chromium          -> /usr/bin/chromium            (Playwright project "chromium")
#   firefox-esr       -> /usr/bin/firefox-esr         (Playwright project "firefox", WebDriver BiDi)
#   webkit2gtk-driver -> /usr/bin/WebKitWebDriver     (WebKit runner, MiniBrowser --automation)
#   xvfb              -> /usr/bin/xvfb-run            (display for WebKitGTK)
# Installs them with apt-get when running as root; otherwise fails naming the packages.
set -euo pipefail

MINIBROWSER="/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"
declare -A NEED=(
  [/usr/bin/chromium]=chromium
  [/usr/bin/firefox-esr]=firefox-esr
  [/usr/bin/WebKitWebDriver]=webkit2gtk-driver
  [$MINIBROWSER]=webkit2gtk-driver
  [/usr/bin/xvfb-run]=xvfb
)

missing_pkgs() {
  local out=()
  for path in "${!NEED[@]}"; do
    if [ ! -x "$path" ]; then out+=("${NEED[$path]}"); fi
  done
  if [ ${#out[@]} -gt 0 ]; then printf '%s\n' "${out[@]}" | sort -u | tr '\n' ' '; fi
}

missing="$(missing_pkgs)"
if [ -z "$missing" ]; then
  echo "ensure-browsers: chromium, firefox-esr, WebKitWebDriver (+MiniBrowser) and xvfb-run are present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-browsers: missing system packages: $missing" >&2
  echo "ensure-browsers: install them as root:" >&2
  echo "  apt-get update && apt-get install -y chromium firefox-esr webkit2gtk-driver xvfb" >&2
  exit 1
fi

echo "ensure-browsers: installing missing packages ($missing) with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y chromium firefox-esr webkit2gtk-driver xvfb

missing="$(missing_pkgs)"
if [ -n "$missing" ]; then
  echo "ensure-browsers: still missing after apt-get install: $missing" >&2
  exit 1
fi
echo "ensure-browsers: browsers installed"
