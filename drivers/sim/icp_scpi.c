/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The simulated ICP-OES's SCPI server (icp_sim_internal.h): program
 * messages split into units at ';' (outside quotes), headers resolved
 * against the previous header's path as SCPI does, parameters split at ','
 * (outside quotes), the answer of every query joined with ';' and ended by
 * LF; the error queue and the status byte. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "drivers/scpi/scpi.h"
#include "drivers/sim/icp_sim_internal.h"
#include "internal.h"

#define DOM "icpsim"

void icpsim_push_error(struct mg_icpsim *s, int code, const char *fmt, ...)
{
	char detail[160] = "";
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	const char *std = mg_scpi_error_text(code);
	s->st.errors++;
	mg_dbg(DOM, "error %d %s%s%s", code, std ? std : "", *detail ? ";" : "", detail);
	if (code <= -100 && code >= -199)
		s->esr |= 0x20;
	else if (code <= -200 && code >= -299)
		s->esr |= 0x10;
	else if (code <= -400 && code >= -499)
		s->esr |= 0x04;
	else
		s->esr |= 0x08;
	if (s->nerr >= ERRQ_DEPTH) {
		s->errq_code[ERRQ_DEPTH - 1] = -350;
		snprintf(s->errq_text[ERRQ_DEPTH - 1], sizeof(s->errq_text[0]), "Queue overflow");
		return;
	}
	s->errq_code[s->nerr] = code;
	snprintf(s->errq_text[s->nerr], sizeof(s->errq_text[0]), "%s%s%s", std ? std : "Instrument error",
	         *detail ? ";" : "", detail);
	s->nerr++;
}

unsigned icpsim_stb(const struct mg_icpsim *s)
{
	unsigned b = 0;
	if (s->nerr)
		b |= 0x04;
	if (s->esr & s->ese)
		b |= 0x20;
	return b;
}

static int split_args(const char *p, size_t n, struct args *a)
{
	a->n = 0;
	while (n && isspace((unsigned char)*p))
		p++, n--;
	if (!n)
		return 0;
	size_t start = 0;
	char q = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && q) {
			if (p[i] == q)
				q = 0;
			continue;
		}
		if (i < n && (p[i] == '"' || p[i] == '\'')) {
			q = p[i];
			continue;
		}
		if (i == n || p[i] == ',') {
			if (a->n >= 8)
				return -1;
			const char *s = p + start;
			size_t l = i - start;
			while (l && isspace((unsigned char)*s))
				s++, l--;
			while (l && isspace((unsigned char)s[l - 1]))
				l--;
			if (!l)
				return -1;
			a->p[a->n] = s;
			a->len[a->n++] = l;
			start = i + 1;
		}
	}
	return q ? -1 : 0;
}

/* One program message unit: header [params]. Appends the answer of a query to
 * resp. A relative header after ';' is looked up under the previous header's
 * parent node (SCPI), then under the previous header itself (when that left an
 * optional leaf implied, e.g. FORM REAL;BORD SWAP), then from the root. */
static void unit(struct mg_icpsim *s, const char *p, size_t n, mg_buf *resp, int *answers)
{
	while (n && isspace((unsigned char)*p))
		p++, n--;
	while (n && isspace((unsigned char)p[n - 1]))
		n--;
	if (!n)
		return;
	size_t h = 0;
	while (h < n && !isspace((unsigned char)p[h]))
		h++;
	int query = h > 0 && p[h - 1] == '?';
	size_t hl = query ? h - 1 : h;
	char kws[16][32];
	size_t nk = 0;
	int common = p[0] == '*';
	int absolute = p[0] == ':';
	const char *k = p + (absolute ? 1 : 0);
	const char *end = p + hl;
	if (common) {
		if (hl >= sizeof(kws[0])) {
			icpsim_push_error(s, -112, NULL);
			return;
		}
		memcpy(kws[0], p, hl);
		kws[0][hl] = '\0';
		nk = 1;
	} else {
		while (k < end) {
			const char *c = memchr(k, ':', (size_t)(end - k));
			size_t len = c ? (size_t)(c - k) : (size_t)(end - k);
			if (!len || nk >= 8) {
				icpsim_push_error(s, -102, "header '%.*s'", (int)(hl > 40 ? 40 : hl), p);
				return;
			}
			if (len >= sizeof(kws[0])) {
				icpsim_push_error(s, -112, NULL);
				return;
			}
			for (size_t i = 0; i < len; i++)
				if (!isalpha((unsigned char)k[i])) {
					icpsim_push_error(s, isdigit((unsigned char)k[i]) ? -114 : -101, "header '%.*s'",
					           (int)(hl > 40 ? 40 : hl), p);
					return;
				}
			memcpy(kws[nk], k, len);
			kws[nk++][len] = '\0';
			k += len + (c ? 1 : 0);
			if (c && k == end) {
				icpsim_push_error(s, -102, "header '%.*s'", (int)(hl > 40 ? 40 : hl), p);
				return;
			}
		}
		if (nk == 0) {
			icpsim_push_error(s, -102, "empty header");
			return;
		}
	}
	struct args a;
	if (split_args(p + h, n - h, &a)) {
		icpsim_push_error(s, -103, "parameters of '%.*s'", (int)(hl > 40 ? 40 : hl), p);
		return;
	}
	const struct icpsim_cmd *found = NULL;
	char full[16][32];
	size_t nfull = 0;
	if (common) {
		found = icpsim_find_cmd(query, kws, nk);
	} else {
		size_t prefixes[3] = {s->npath ? s->npath - 1 : 0, s->npath, 0};
		for (size_t t = absolute ? 2 : 0; t < 3 && !found; t++) {
			size_t pre = prefixes[t];
			if (t == 1 && pre == prefixes[0])
				continue;
			nfull = 0;
			for (size_t i = 0; i < pre && nfull < 16; i++)
				memcpy(full[nfull++], s->path[i], sizeof(full[0]));
			for (size_t i = 0; i < nk && nfull < 16; i++)
				memcpy(full[nfull++], kws[i], sizeof(full[0]));
			found = icpsim_find_cmd(query, full, nfull);
		}
	}
	if (!found) {
		icpsim_push_error(s, -113, "'%.*s'", (int)(hl > 40 ? 40 : hl), p);
		return;
	}
	if (!common) {
		s->npath = nfull < 8 ? nfull : 8;
		for (size_t i = 0; i < s->npath; i++)
			memcpy(s->path[i], full[i], sizeof(full[0]));
	}
	mg_buf ans;
	mg_buf_init(&ans);
	int rc = found->fn(s, &a, &ans);
	if (query) {
		s->st.queries++;
		if (rc == 0) {
			if (*answers)
				mg_buf_append(resp, ";", 1);
			mg_buf_append(resp, ans.data ? ans.data : "", ans.len);
			(*answers)++;
		}
	}
	mg_buf_free(&ans);
}

/* One program message (without terminator): its answer (if any) + LF to out. */
void icpsim_message(struct mg_icpsim *s, const char *p, size_t n, mg_buf *out)
{
	s->st.messages++;
	s->npath = 0;
	mg_buf resp;
	mg_buf_init(&resp);
	int answers = 0;
	size_t start = 0;
	char q = 0;
	int has_query = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && q) {
			if (p[i] == q)
				q = 0;
			continue;
		}
		if (i < n && (p[i] == '"' || p[i] == '\'')) {
			q = p[i];
			continue;
		}
		if (i == n || p[i] == ';') {
			size_t before = s->st.queries;
			unit(s, p + start, i - start, &resp, &answers);
			has_query |= s->st.queries != before;
			start = i + 1;
		}
	}
	if (has_query)
		s->query_msgs++;
	if (answers) {
		if (s->hang_at && s->query_msgs == s->hang_at)
			mg_dbg(DOM, "query message %u not answered (hang fault)", s->query_msgs);
		else {
			mg_buf_append(out, resp.data, resp.len);
			mg_buf_append(out, "\n", 1);
		}
	}
	mg_buf_free(&resp);
	s->fn.stb = (uint8_t)icpsim_stb(s);
}
