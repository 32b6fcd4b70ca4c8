#!/usr/bin/env bash
# Speed and memory of `minibrowse --dump` beside the classic text browsers, on one page
# (default: Python's contents.html, 2.5 MB, from Debian's python3.11-doc).
#
#   cargo build --release --bins --examples && benches/compare.sh [PAGE.html]
#
# Prints hyperfine's warm timings of each tool, then each one's peak RSS (GNU time).
# The yardsticks the issue states its targets against come first when built:
# examples/bare_parse.rs parsing into markup5ever_rcdom, and html5ever's tokenizer alone.
# Missing tools are skipped (apt-get install hyperfine links2 elinks w3m lynx).
set -euo pipefail
page=${1:-/usr/share/doc/python3.11-doc/html/contents.html}
bin=${MINIBROWSE:-target/release/minibrowse}
[ -f "$page" ] || { echo "compare.sh: no $page (apt-get install python3.11-doc)" >&2; exit 1; }
cmds=("$bin --dump --width 100 $page")
bare=${bin%/minibrowse}/examples/bare_parse
if [ -x "$bare" ]; then cmds+=("$bare rcdom $page" "$bare tokenize $page"); fi
for tool in "links2 -dump -width 100" "elinks -dump -dump-width 100" "w3m -dump -cols 100" "lynx -dump -width=100"; do
  if command -v "${tool%% *}" >/dev/null; then cmds+=("$tool $page"); fi
done
if command -v hyperfine >/dev/null; then
  hyperfine --warmup 3 --runs 20 --output=null "${cmds[@]}"
else
  echo "compare.sh: hyperfine is not installed; timing once each" >&2
fi
echo
printf '%-16s %10s %10s %10s\n' tool 'wall s' 'cpu s' 'peak RSS'
for c in "${cmds[@]}"; do
  # shellcheck disable=SC2086
  /usr/bin/time -o /tmp/compare-time.$$ -f '%e %U %S %M' $c >/dev/null 2>&1 || true
  read -r wall user sys rss < /tmp/compare-time.$$
  name=$(basename "${c%% *}"); [ "$name" = bare_parse ] && name="bare $(echo "$c" | cut -d' ' -f2)"
  printf '%-16s %10s %10.2f %8d KB\n' "$name" "$wall" "$(echo "$user + $sys" | bc)" "$rss"
done
rm -f /tmp/compare-time.$$
