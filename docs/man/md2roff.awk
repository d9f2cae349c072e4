# SPDX-License-Identifier: GPL-3.0-or-later
# The sections of a docs/commands page that a man page takes from it, as roff
# for a help2man include file (docs/man/mkman.sh). POSIX awk (Debian's mawk).
#
#   awk -f md2roff.awk PAGE.md
#
# Prints:
#   [NAME] from the title "# magassay analyze — one line" (the first title);
#   [EXIT STATUS], [EXAMPLES], [ENVIRONMENT], [FILES] from the "## Exit status",
#   "## Examples", "## Environment" and "## Files" sections (each section of
#   that name, in page order);
# and converts the Markdown those sections use: paragraphs, `code`, **bold**,
# *italic*, [links](...), "- " lists, tables (first column as the tag, the
# header row dropped) and fenced code blocks (kept verbatim, indented).

function esc(s) {
	gsub(/\\/, "\\e", s)
	gsub(/-/, "\\-", s)
	return s
}
function inline(s,    out, m) {
	s = esc(s)
	# [text](target) -> text
	while (match(s, /\[[^]]*\]\([^)]*\)/)) {
		m = substr(s, RSTART, RLENGTH)
		sub(/\]\(.*/, "", m)
		s = substr(s, 1, RSTART - 1) substr(m, 2) substr(s, RSTART + RLENGTH)
	}
	while (match(s, /`[^`]*`/))
		s = substr(s, 1, RSTART - 1) "\\fB" substr(s, RSTART + 1, RLENGTH - 2) "\\fR" substr(s, RSTART + RLENGTH)
	while (match(s, /\*\*[^*]+\*\*/))
		s = substr(s, 1, RSTART - 1) "\\fB" substr(s, RSTART + 2, RLENGTH - 4) "\\fR" substr(s, RSTART + RLENGTH)
	while (match(s, /\*[^* ][^*]*\*/))
		s = substr(s, 1, RSTART - 1) "\\fI" substr(s, RSTART + 1, RLENGTH - 2) "\\fR" substr(s, RSTART + RLENGTH)
	gsub(/\\\|/, "|", s)
	if (s ~ /^[.']/)
		s = "\\&" s
	return s
}
function trim(s) {
	sub(/^[ \t]+/, "", s)
	sub(/[ \t]+$/, "", s)
	return s
}
function section_of(title,    t) {
	t = tolower(title)
	if (t == "exit status") return "EXIT STATUS"
	if (t == "examples" || t == "example") return "EXAMPLES"
	if (t == "environment") return "ENVIRONMENT"
	if (t == "files") return "FILES"
	return ""
}
function flush_para() {
	if (para != "") {
		out[sect] = out[sect] ".PP\n" para "\n"
		para = ""
	}
}
function emit(s) { out[sect] = out[sect] s "\n" }

BEGIN { sect = ""; code = 0; para = ""; name = ""; nsect = 0 }

# fenced code: verbatim
/^```/ {
	if (sect == "") { code = !code; next }
	if (!code) {
		flush_para()
		emit(".PP\n.RS 4\n.nf")
		code = 1
	} else {
		emit(".fi\n.RE")
		code = 0
	}
	next
}
code {
	if (sect != "") {
		line = esc($0) # \- : a command copied from the page must keep its ASCII hyphens
		if (line ~ /^[.']/) line = "\\&" line
		emit(line)
	}
	next
}

/^# / {
	if (name == "") {
		t = substr($0, 3)
		if (index(t, " — ") > 0) {
			cmd = substr(t, 1, index(t, " — ") - 1)
			what = substr(t, index(t, " — ") + length(" — "))
			gsub(/ /, "-", cmd)
			name = cmd " \\- " what
		}
	}
	flush_para(); sect = ""
	next
}
/^##+ / {
	flush_para()
	t = $0
	sub(/^##+ /, "", t)
	s = section_of(trim(t))
	if (s != "" && !(s in out)) { order[++nsect] = s; out[s] = "" }
	sect = s
	next
}
sect == "" { next }

/^[ \t]*$/ { flush_para(); next }

# tables: the first row is the header, |---| the rule
/^\|/ {
	flush_para()
	if ($0 ~ /^\|[-: |]+\|[ \t]*$/) { next }
	if (!(sect in seen_header)) { seen_header[sect] = 1; next }
	n = split($0, cell, /[ ]\|/)
	tag = trim(cell[1]); sub(/^\|/, "", tag); tag = trim(tag)
	body = ""
	for (i = 2; i <= n; i++) {
		c = trim(cell[i]); sub(/\|$/, "", c); c = trim(c)
		if (c != "") body = body (body == "" ? "" : " ") c
	}
	emit(".TP\n.B " inline(tag) "\n" inline(body))
	next
}
/^[ \t]*[-*] / {
	flush_para()
	t = $0
	sub(/^[ \t]*[-*] /, "", t)
	emit(".IP \\(bu 2\n" inline(t))
	listing = 1
	next
}
{
	t = trim($0)
	if (listing && $0 ~ /^[ \t]+/) { emit(inline(t)); next }
	listing = 0
	para = para (para == "" ? "" : "\n") inline(t)
}

END {
	flush_para()
	if (name != "") print "[NAME]\n" name
	for (i = 1; i <= nsect; i++)
		printf "[%s]\n%s", order[i], out[order[i]]
}
