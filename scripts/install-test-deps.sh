#!/usr/bin/env bash
# Installs what the mandatory CI tests need: nginx, dnsmasq and tinyproxy (tests/interop.rs runs
# them on loopback; tinyproxy-bin is the binary without a system service), tmux (tests/terminal.rs drives the TUI in it) and Python's websockets package
# (tests/ws_interop.rs).
# Idempotent: does nothing when both binaries are already there. Debian/Ubuntu (apt) only.
#
# dnsmasq comes from Debian's dnsmasq-base, which ships the same /usr/sbin/dnsmasq as the
# dnsmasq package without its system service: the tests start their own instance on a free
# port, and no resolver on port 53 is wanted on the machine. nginx's package does carry a
# service; a policy-rc.d that answers 101 ("action forbidden") keeps its postinst from
# starting it, so nothing is left listening on port 80.
set -euo pipefail

have() {
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]
}

# Python's websockets package: the third-party WebSocket peer of tests/ws_interop.rs.
if ! python3 -c "import websockets.asyncio.server" >/dev/null 2>&1; then
    echo "install-test-deps: installing Python's websockets package"
    python3 -m pip install --quiet --disable-pip-version-check "websockets>=13"
fi
# Python's Playwright (its driver only; the browser is Debian's chromium, below):
# tests/har_chromium.rs records and replays the demo site with it.
if ! python3 -c "import playwright.async_api" >/dev/null 2>&1; then
    echo "install-test-deps: installing Python's playwright package"
    python3 -m pip install --quiet --disable-pip-version-check playwright
fi

packages=()
have nginx || packages+=(nginx)
have dnsmasq || packages+=(dnsmasq-base)
have tmux || packages+=(tmux)
have tinyproxy || packages+=(tinyproxy-bin)
[ -x /usr/bin/chromium ] || packages+=(chromium)

if [ "${#packages[@]}" -eq 0 ]; then
    echo "install-test-deps: nginx, dnsmasq, tmux, tinyproxy and chromium are already installed"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-test-deps: apt-get not found; install ${packages[*]} by hand" >&2
    exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        echo "install-test-deps: must run as root (or with sudo) to install ${packages[*]}" >&2
        exit 1
    fi
fi

policy=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
    if [ "$created_policy" -eq 1 ]; then
        "${sudo[@]}" rm -f "$policy"
    fi
}
trap cleanup EXIT
if [ ! -e "$policy" ]; then
    "${sudo[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
    created_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-test-deps: installing ${packages[*]}"
# The package lists may be missing or stale on a fresh machine: refresh them if the
# install cannot find the packages.
if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}"; then
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}"
fi

for bin in nginx dnsmasq tmux tinyproxy chromium; do
    if ! have "$bin"; then
        echo "install-test-deps: $bin is still missing after the install" >&2
        exit 1
    fi
done
echo "install-test-deps: done"
