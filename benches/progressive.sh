#!/usr/bin/env bash
# A load as a browser of today runs it, measured on the demo world's plain-HTTP site
# (release build; everything on loopback, nothing sent anywhere else).
#
#   1. trickle  /errors/trickle-page: the document comes in 15 parts over 1.5 s with a
#               stylesheet in its head. How long before the document's end is the
#               stylesheet requested? (target: more than 1 s; the preload scanner)
#   2. images   /errors/many-assets?n=42 at 300 ms per answer: the first render moment
#               (target: before 2 s), `--dump` alone as a whole process (target: ends by
#               1.3 s) and the load moment (all images, about 3.3 s).
#   3. http1.1  /errors/many-assets?n=60 at 50 ms per answer, six connections to the host:
#               the load moment, and the whole process of `--dump --trace` (which waits
#               for every image), against the ideal: the document's round plus
#               ceil(60/6) rounds of 50 ms, 550 ms (target: within 1.10x).
#
# Usage: benches/progressive.sh [BINARY] [RUNS]   (default: target/release/minibrowse, 3)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/release/minibrowse}"
runs="${2:-3}"
if [ ! -x "$bin" ]; then
    cargo build --release --quiet
fi
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
servers=()
trap 'for s in "${servers[@]}"; do kill "$s" 2>/dev/null || true; done' EXIT
# Starts a demo world answering after $1 ms; sets $http and $dns.
world() {
    http=$(port); local https backend proxy; https=$(port); dns=$(port); backend=$(port); proxy=$(port)
    "$bin" serve --latency "$1" --http-port "$http" --https-port "$https" --dns-port "$dns" \
        --backend-port "$backend" --proxy-port "$proxy" > /dev/null 2>&1 &
    servers+=($!)
    for _ in $(seq 50); do
        if "$bin" --dns-server "127.0.0.1:$dns" --dump --timeout 2 "http://www.minibrowse.test:$http/text.txt" > /dev/null 2>&1; then
            return
        fi
        sleep 0.1
    done
    echo "progressive.sh: the demo world did not start" >&2
    exit 1
}
# The --json trace of a load of $1 on the current world.
trace() { "$bin" --dns-server "127.0.0.1:$dns" --json "http://www.minibrowse.test:$http$1"; }
# Reads a --json trace on stdin, prints what $1 asks of it.
read_trace() {
    python3 -c '
import json, sys
what = sys.argv[1]
events = [json.loads(line) for line in sys.stdin if line.startswith("{")]
moments = {e["moment"]: e["ms"] for e in events if e["event"] == "load_moment"}
if what == "trickle":
    doc_end = next(e["t_ms"] + e["ms"] for e in events if e["event"] == "body" and e.get("request") == 1)
    begun = next(e["begun_ms"] for e in events if e["event"] == "request" and e["url"].endswith("/style.css"))
    early = next((e["early_ms"] for e in events if e["event"] == "preload" and e["url"].endswith("/style.css")), None)
    ahead = doc_end - begun
    print(f"document ends {doc_end:7.1f} ms, stylesheet requested at {begun:6.1f} ms: {ahead:7.1f} ms before the end (the scanner was {early} ms ahead of the DOM walk)")
else:
    nan = float("nan")
    print(" ".join(f"{k}={moments.get(k, nan):.1f}" for k in ("dom_content_loaded", "first_render", "load")))
' "$1"
}
seconds() {
    local start end
    start=$(date +%s.%N)
    "$bin" --dns-server "127.0.0.1:$dns" "$@" > /dev/null
    end=$(date +%s.%N)
    python3 -c "print(f'{$end - $start:.3f}')"
}

echo "== 1. a document that trickles in over 1.5 s, a stylesheet in its head ($bin)"
world 0
for run in $(seq "$runs"); do
    echo "run $run: $(trace /errors/trickle-page | read_trace trickle)"
done

echo "== 2. 42 images, 300 ms per answer"
world 300
for run in $(seq "$runs"); do
    moments=$(trace "/errors/many-assets?n=42" | read_trace moments)
    dump=$(seconds --dump "http://www.minibrowse.test:$http/errors/many-assets?n=42")
    echo "run $run: moments (ms) $moments   --dump alone ${dump} s"
done

echo "== 3. HTTP/1.1, 60 assets at 50 ms per answer, 6 connections"
world 50
ideal=$(python3 -c 'import math; print(50 + math.ceil(60 / 6) * 50)')
for run in $(seq "$runs"); do
    moments=$(trace "/errors/many-assets?n=60" | read_trace moments)
    load=$(echo "$moments" | sed 's/.*load=//')
    ratio=$(python3 -c "print(f'{$load / $ideal:.3f}')")
    whole=$(seconds --dump --trace "http://www.minibrowse.test:$http/errors/many-assets?n=60")
    whole_ratio=$(python3 -c "print(f'{$whole * 1000 / $ideal:.3f}')")
    echo "run $run: moments (ms) $moments   ideal ${ideal} ms   load/ideal ${ratio}x   whole process ${whole} s (${whole_ratio}x)"
done
