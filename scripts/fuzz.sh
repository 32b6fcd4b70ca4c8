#!/usr/bin/env bash
# Runs each cargo-fuzz target for a fixed time and reports executions and findings.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default: 60 s each, targets page and http_response
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). Uses the nightly toolchain if there is one,
# else stable with RUSTC_BOOTSTRAP=1 (cargo-fuzz needs -Z flags). Findings (crash-*, oom-*,
# timeout-*) land in fuzz/artifacts/TARGET/; each one should become a regression test.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(page http_response)
fi

if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    cargo_fuzz=(cargo +nightly fuzz)
else
    export RUSTC_BOOTSTRAP=1
    cargo_fuzz=(cargo fuzz)
fi

# Seeds: the demo site's pages and the hand-written responses in fuzz/seeds/.
mkdir -p corpus/page corpus/http_response
cp -n ../fixtures/site/*.html corpus/page/ 2>/dev/null || true
cp -n seeds/http_response/* corpus/http_response/ 2>/dev/null || true
cp -n seeds/page/* corpus/page/ 2>/dev/null || true

status=0
printf '%-15s %8s %12s %10s %9s %s\n' target seconds executions exec/s findings where
for target in "${targets[@]}"; do
    "${cargo_fuzz[@]}" build -O "$target" >/dev/null 2>&1 || { echo "$target: build failed"; status=1; continue; }
    mkdir -p "artifacts/$target"
    before=$(find "artifacts/$target" -type f | wc -l)
    log="artifacts/$target.log"
    # -max_len keeps one input under the size where html5ever's quadratic nesting dominates.
    "${cargo_fuzz[@]}" run -O "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -max_len=65536 -timeout=20 -rss_limit_mb=2048 \
        -print_final_stats=1 -close_fd_mask=3 >"$log" 2>&1 || true
    after=$(find "artifacts/$target" -type f | wc -l)
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    found=$((after - before))
    printf '%-15s %8s %12s %10s %9s %s\n' "$target" "$seconds" "${execs:-?}" "${rate:-?}" "$found" "fuzz/artifacts/$target/"
    if [ "$found" -gt 0 ]; then
        status=1
        grep -m3 -E 'panicked|ERROR: libFuzzer|SUMMARY' "$log" | sed 's/^/    /'
    fi
done
exit $status
