#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The man pages (docs/man/mkman.sh): one per command and magassay(1), each titled
# MAGASSAY-<COMMAND>(1) with NAME "magassay-<command> \- <one line>", a synopsis
# of "magassay <command> ...", the options of its --help, EXIT STATUS and
# EXAMPLES; groff renders each without a warning, and man reads it.
# Usage: test_manpages.sh BUILD_DOCS_DIR "COMMAND..."
set -euo pipefail
DIR="$1"
COMMANDS="$2"
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -f "$DIR/magassay.1" ] || { echo "no man pages in $DIR (help2man not installed?): skipped"; exit 77; }
export LANG=C.UTF-8 MANWIDTH=80
n=0
for cmd in "" $COMMANDS; do
	name=magassay${cmd:+-$cmd}
	page="$DIR/$name.1"
	[ -f "$page" ] || fail "no $name.1"
	title=$(echo "$name" | tr a-z A-Z)
	grep -q "^\.TH $title \"1\"" "$page" || fail "$name.1: title is not $title(1): $(grep '^\.TH' "$page")"
	sed -n '/^\.SH NAME/{n;p;}' "$page" | grep -q "^$name \\\\- [a-z]" || fail "$name.1: NAME line: $(sed -n '/^\.SH NAME/{n;p;}' "$page")"
	sed -n '/^\.SH SYNOPSIS/{n;p;}' "$page" | grep -q "^\.B magassay${cmd:+ $cmd}\( [a-z]*\)\?\$" || fail "$name.1: synopsis"
	for s in DESCRIPTION '"EXIT STATUS"' EXAMPLES '"SEE ALSO"'; do
		grep -q "^\.SH $s" "$page" || fail "$name.1: no $s section"
	done
	grep -q '^\\fB\\-h\\fR, \\fB\\-\\-help\\fR' "$page" || fail "$name.1: the options of --help are missing"
	warnings=$(groff -man -Tutf8 -ww -Wbreak -z "$page" 2>&1) # long example lines may overrun: not a fault || fail "$name.1: groff failed"
	[ -z "$warnings" ] || fail "$name.1: groff warns: $warnings"
	text=$(man -l "$page" 2>&1) || fail "$name.1: man -l failed"
	grep -q "^$title(1)" <<<"$text" || fail "$name.1: man shows no header"
	grep -q "^EXAMPLES" <<<"$text" || fail "$name.1: man shows no EXAMPLES"
	grep -q "^ *magassay${cmd:+ $cmd}" <<<"$text" || fail "$name.1: no example of magassay${cmd:+ $cmd}"
	n=$((n + 1))
done
echo "man pages: $n checked"
