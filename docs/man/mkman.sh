#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# One man page: what the command's --help says (synopsis, description,
# options: help2man lays them out) and what its page docs/commands/CMD.md adds
# (NAME's one line from the page's title, EXIT STATUS, EXAMPLES, ENVIRONMENT,
# FILES: docs/man/md2roff.awk). docs/CMakeLists.txt runs it for every command.
#
#   mkman.sh MAGASSAY_BINARY COMMAND|"" PAGE.md VERSION OUT.1 ["cmd1 cmd2 ..." for magassay(1)'s SEE ALSO]
set -eu
bin=$1
cmd=$2
md=$3
version=$4
out=$5
others=${6:-}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/magassay-man.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# shellcheck disable=SC2086
"$bin" $cmd --help >"$tmp/help" 2>&1 || true
grep -q '^Usage: ' "$tmp/help" || { echo "mkman: '$bin $cmd --help' printed no Usage line" >&2; exit 1; }

# The usage block (the Usage: line and the indented lines after it) becomes the
# SYNOPSIS: one form per "magassay ..." line, continuation lines joined. The
# rest goes to help2man as the help text.
awk -v synopsis="$tmp/synopsis" -v body="$tmp/body" '
function esc(s) { gsub(/\\/, "\\e", s); gsub(/-/, "\\-", s); return s }
function form(s,   words, n, i, lead, args) {
	n = split(s, words, /[ ]+/)
	lead = words[1]; i = 2
	# the command words: magassay and the subcommand names (lower-case words)
	while (i <= n && words[i] ~ /^[a-z][a-z-]*$/ && i <= 3) { lead = lead " " words[i]; i++ }
	args = ""
	for (; i <= n; i++) args = args (args == "" ? "" : " ") words[i]
	if (nforms++) printf ".br\n" >synopsis
	printf ".B %s\n%s\n", esc(lead), esc(args) >synopsis
}
state == 0 && /^Usage: / { cur = substr($0, 8); sub(/^ +/, "", cur); state = 1; next }
state == 1 && /^[ \t]+magassay / { form(cur); cur = $0; sub(/^[ \t]+/, "", cur); next }
state == 1 && /^[ \t]+/ { t = $0; sub(/^[ \t]+/, "", t); cur = cur " " t; next }
state == 1 { form(cur); state = 2 }
state == 2 { print >body }
END { if (state == 1) form(cur) }
' "$tmp/help"

# What help2man runs: the help text without its usage block, and the version.
cat >"$tmp/prog" <<WRAP
#!/bin/sh
case "\$1" in
--version) echo "magassay $version" ;;
*) cat "$tmp/body" ;;
esac
WRAP
chmod +x "$tmp/prog"

{
	awk -f "$here/md2roff.awk" "$md"
	printf '[SYNOPSIS]\n'
	cat "$tmp/synopsis"
	printf '[SEE ALSO]\n'
	if [ -n "$cmd" ]; then
		printf '.BR magassay (1),\n'
	fi
	for c in $others; do
		printf '.BR magassay\-%s (1),\n' "$c"
	done
	printf 'the documentation in /usr/share/doc/magassay and at docs/commands/%s in the sources.\n' "$(basename "$md")"
} >"$tmp/include"
grep -q '^\[NAME\]' "$tmp/include" || { echo "mkman: $md: no title '# magassay ... — one line'" >&2; exit 1; }
grep -q '^\[EXIT STATUS\]' "$tmp/include" || { echo "mkman: $md: no '## Exit status' section" >&2; exit 1; }
grep -q '^\[EXAMPLES\]' "$tmp/include" || { echo "mkman: $md: no '## Examples' section" >&2; exit 1; }

help2man --no-info --no-discard-stderr --section=1 --source="magassay $version" \
	--manual="magassay manual" --include="$tmp/include" --output="$out" "$tmp/prog"
