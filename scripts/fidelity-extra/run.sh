#!/usr/bin/env bash
# A second fidelity check on page generators that ../shared/fidelity does not cover:
# cppreference (MediaWiki, like an encyclopedia), the Node.js API docs and the Debian
# Administrator's Handbook (publican/DocBook), 34 pages picked across sizes (pages.txt).
# References are Chromium's innerText with JavaScript off at 1000 px, made here with
# Playwright; scores use the shared scorer's normalization and LCS.
#
#   cargo build --release && scripts/fidelity-extra/run.sh [CMD]   # CMD default: minibrowse --dump {}
#
# Installs what it needs: chromium, the three doc packages (apt), playwright (pip).
# Work files go to target/fidelity-extra.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${FIDELITY_EXTRA_DIR:-$PWD/target/fidelity-extra}
bin=$PWD/target/release/minibrowse
mkdir -p "$work/site"
pkgs=()
[ -x /usr/bin/chromium ] || pkgs+=(chromium)
[ -d /usr/share/cppreference/doc/html ] || pkgs+=(cppreference-doc-en-html)
[ -d /usr/share/doc/nodejs/api ] || pkgs+=(nodejs-doc)
[ -d /usr/share/doc/debian-handbook/html ] || pkgs+=(debian-handbook)
if [ ${#pkgs[@]} -gt 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}" >/dev/null; fi
python3 -c 'import playwright' 2>/dev/null || pip install -q playwright
ln -sfn /usr/share/cppreference/doc/html "$work/site/cpp"
ln -sfn /usr/share/doc/nodejs/api "$work/site/node"
ln -sfn /usr/share/doc/debian-handbook/html "$work/site/dh"
cp "$here/pages.txt" "$work/pages.txt"
cd "$work"
python3 -m http.server 8731 --bind 127.0.0.1 --directory site >/dev/null 2>&1 &
server=$!
trap 'kill $server' EXIT
sleep 1
[ -d refs ] || python3 "$here/refs.py"
default_cmd="$bin --dump {}"
python3 "$here/rwscore.py" "${1:-$default_cmd}"
