#!/usr/bin/env bash
# `--dump` alone ends when the text is final, not when the last image has come.
#
# The demo world with 300 ms added to every answer serves a page with 42 images
# (/errors/many-assets?n=42). The whole process is timed three times each way:
#   text   `--dump`            (fetches only what can change the text: no stylesheet here,
#                               so the page itself: one round of 300 ms)
#   whole  `--dump --trace`    (the whole load: 42 images, six connections to the host)
# Usage: benches/dump_early.sh [BINARY]   (default: target/release/minibrowse, built if absent)
# Everything is on loopback; nothing is sent anywhere else.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/release/minibrowse}"
if [ ! -x "$bin" ]; then
    cargo build --release --quiet
fi
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http=$(port); https=$(port); dns=$(port); backend=$(port); proxy=$(port)
"$bin" serve --latency 300 --http-port "$http" --https-port "$https" --dns-port "$dns" \
    --backend-port "$backend" --proxy-port "$proxy" > /dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    if "$bin" --dns-server "127.0.0.1:$dns" --dump --timeout 2 "http://www.minibrowse.test:$http/text.txt" > /dev/null 2>&1; then
        break
    fi
    sleep 0.1
done
url="http://www.minibrowse.test:$http/errors/many-assets?n=42"
seconds() {
    local start end
    start=$(date +%s.%N)
    "$bin" --dns-server "127.0.0.1:$dns" "$@" "$url" > /dev/null
    end=$(date +%s.%N)
    python3 -c "print(f'{$end - $start:.2f}')"
}
echo "page: 42 images, 300 ms per answer, $bin"
for run in 1 2 3; do
    text=$(seconds --dump)
    whole=$(seconds --dump --trace)
    echo "run $run: --dump alone ${text} s   --dump --trace (every image) ${whole} s"
done
