#!/usr/bin/env bash
# One page loaded over HTTP/2 and over HTTP/1.1: the demo world's HTTPS site with a delay
# added to every answer serves a page with N images (/errors/many-assets?n=N). The whole
# process (start, DNS, TCP, TLS, the page, every image, exit) is timed, five runs each way:
#   h2        one connection, every image a stream of it (the server chose h2 in ALPN)
#   http/1.1  `--http1.1`: at most six connections to the host, one request each at a time
# and beside each, the ideal: h2 needs two round trips of the server's delay (the page,
# then all images at once); HTTP/1.1 needs the page and then ceil(N/6) rounds.
#
# Usage: benches/h2.sh [BINARY]   (default: target/release/minibrowse, built if absent)
#   LATENCY=100 N=60 by default (the issue's figures). Everything is on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/release/minibrowse}"
latency="${LATENCY:-100}"
n="${N:-60}"
if [ ! -x "$bin" ]; then
    cargo build --release --quiet
fi
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http=$(port); https=$(port); dns=$(port); backend=$(port); proxy=$(port)
log=$(mktemp)
"$bin" serve --latency "$latency" --http-port "$http" --https-port "$https" --dns-port "$dns" \
    --backend-port "$backend" --proxy-port "$proxy" > "$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
ca=""
for _ in $(seq 100); do
    ca=$(grep -o '/[^ ]*demo-ca.pem' "$log" | head -1 || true)
    if [ -n "$ca" ] && [ -f "$ca" ]; then break; fi
    sleep 0.05
done
[ -n "$ca" ] || { echo "h2.sh: the demo world did not start" >&2; cat "$log" >&2; exit 1; }
url="https://secure.minibrowse.test:$https/errors/many-assets?n=$n"
run() {
    local start end
    start=$(date +%s.%N)
    # --json: the whole load (--dump alone would stop before the images).
    "$bin" --dns-server "127.0.0.1:$dns" --cacert "$ca" --json "$@" "$url" > /tmp/h2-bench.$$.jsonl
    end=$(date +%s.%N)
    python3 -c "print(f'{$end - $start:.3f}')"
}
# The connections and protocol of the last run, from its trace.
shape() {
    python3 - /tmp/h2-bench.$$.jsonl <<'EOF'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
conns = {e["conn"] for e in events if e["event"] == "connect"}
versions = {e["version"] for e in events if e["event"] == "response"}
requests = sum(1 for e in events if e["event"] == "request")
print(f"{requests} requests on {len(conns)} connection(s), {', '.join(sorted(versions))}")
EOF
}
ideal_h2=$(python3 -c "print(f'{2 * $latency / 1000:.3f}')")
ideal_h1=$(python3 -c "import math; print(f'{(1 + math.ceil($n / 6)) * $latency / 1000:.3f}')")
echo "page: $n images, $latency ms per answer, $bin"
run > /dev/null   # warm-up: the page cache of the binary, the server's first TLS
for proto in h2 http1.1; do
    flag=()
    ideal=$ideal_h2
    if [ "$proto" = http1.1 ]; then flag=(--http1.1); ideal=$ideal_h1; fi
    times=()
    for _ in 1 2 3 4 5; do times+=("$(run "${flag[@]}")"); done
    median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
    printf '%-9s runs %s s; median %s s, ideal %s s (%.2fx); %s\n' "$proto" "${times[*]}" \
        "$median" "$ideal" "$(python3 -c "print($median / $ideal)")" "$(shape)"
done
rm -f /tmp/h2-bench.$$.jsonl
