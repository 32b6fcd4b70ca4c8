#!/usr/bin/env bash
# Compares `--dump` output (stdout and exit code) of two minibrowse binaries over a corpus
# of local pages: the guard for layout changes that must not change what a page shows.
#
#   scripts/same-output.sh BASELINE [NEW]
#
# NEW defaults to target/release/minibrowse. The pages: the fidelity corpus
# (target/fidelity-corpus), the layout and site fixtures, the Python docs, and a sample of
# the other HTML under /usr/share/doc (SAMPLE pages, default 300). Every page is dumped at
# widths 80 and 100; the fixtures and every tenth other page at 40 too. Exits non-zero when
# any output differs, listing the differences (a unified diff of the first few).
#
# Environment: SAMPLE (pages sampled from /usr/share/doc), JOBS (parallel runs, default
# the number of cores), KEEP=1 keeps the work directory.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
base=${1:?usage: same-output.sh BASELINE [NEW]}
new=${2:-$root/target/release/minibrowse}
sample=${SAMPLE:-300}
jobs=${JOBS:-$(nproc)}
work=$(mktemp -d /tmp/same-output.XXXXXX)
[ "${KEEP:-}" = 1 ] || trap 'rm -rf "$work"' EXIT

# page<TAB>width lines.
{
    # A source that is not on this machine (no corpus built, no docs installed) is skipped.
    find "$root/target/fidelity-corpus" -name '*.html' 2>/dev/null | sort || true
    find "$root/fixtures/layout" "$root/fixtures/site" -name '*.html' | sort
    find -L /usr/share/doc/python3.11/html -name '*.html' 2>/dev/null | sort || true
    # A spread of the rest: every n-th page in path order, so the sample is repeatable.
    others=$(find /usr/share/doc -name '*.html' -not -path '*/python3.11*' 2>/dev/null | sort)
    total=$(printf '%s\n' "$others" | grep -c . || true)
    if [ "$total" -gt 0 ] && [ "$sample" -gt 0 ]; then
        step=$(( total / sample > 0 ? total / sample : 1 ))
        printf '%s\n' "$others" | awk -v s="$step" -v n="$sample" 'NR % s == 0 && c < n { print; c++ }'
    fi
} | awk '!seen[$0]++' >"$work/pages"

awk -v fix="$root/fixtures/" '
    { print $0 "\t80"; print $0 "\t100" }
    index($0, fix) == 1 || NR % 10 == 0 { print $0 "\t40" }
' "$work/pages" >"$work/cases"

compare() {
    local page=$1 width=$2 work=$3 base=$4 new=$5
    local key
    key=$(printf '%s-%s' "$page" "$width" | md5sum | cut -c1-16)
    local a=$work/$key.a b=$work/$key.b ca cb
    ca=0
    timeout 60 "$base" --dump --width "$width" "$page" >"$a" 2>/dev/null || ca=$?
    cb=0
    timeout 60 "$new" --dump --width "$width" "$page" >"$b" 2>/dev/null || cb=$?
    if [ "$ca" != "$cb" ] || ! cmp -s "$a" "$b"; then
        printf '%s\t%s\texit %s/%s\t%s\n' "$page" "$width" "$ca" "$cb" "$key" >>"$work/diffs"
    else
        rm -f "$a" "$b"
    fi
}
export -f compare

touch "$work/diffs"
tr '\t' '\n' <"$work/cases" |
    xargs -d '\n' -n 2 -P "$jobs" bash -c 'compare "$4" "$5" "$1" "$2" "$3"' \
        _ "$work" "$base" "$new" 2>/dev/null ||
    true
cases=$(wc -l <"$work/cases")
pages=$(wc -l <"$work/pages")
ndiff=$(wc -l <"$work/diffs")
echo "same-output: $pages pages, $cases page×width runs, $ndiff differ"
if [ "$ndiff" -gt 0 ]; then
    sort "$work/diffs" | cut -f1-3
    sort "$work/diffs" | head -3 | while IFS=$'\t' read -r page width codes key; do
        echo "--- $page at $width ($codes)"
        diff -u "$work/$key.a" "$work/$key.b" | head -40 || true
    done
    exit 1
fi
