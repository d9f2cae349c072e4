/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The SCPI commands of the simulated ICP-OES (icp_sim_internal.h): the
 * dialect of the built-in profile (drivers/icp/profiles/magassay-sim-icp.ini)
 * and IEEE 488.2's common commands, one handler each, their table, and the
 * match of a header's keywords against the table's patterns. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "drivers/scpi/scpi.h"
#include "drivers/sim/icp_sim_internal.h"
#include "internal.h"

#define DOM "icpsim"

/* ---- parameters ----------------------------------------------------------- */

static int arg_num(struct mg_icpsim *s, const struct args *a, size_t i, double min, double max, double *out)
{
	if (i >= a->n) {
		icpsim_push_error(s, -109, NULL);
		return -1;
	}
	if (mg_scpi_parse_number(a->p[i], a->len[i], out) || !isfinite(*out)) {
		icpsim_push_error(s, -104, "'%.*s' is not a number", (int)(a->len[i] > 30 ? 30 : a->len[i]), a->p[i]);
		return -1;
	}
	if (*out < min || *out > max) {
		icpsim_push_error(s, -222, "%g is outside %g to %g", *out, min, max);
		return -1;
	}
	return 0;
}

static int arg_int(struct mg_icpsim *s, const struct args *a, size_t i, long min, long max, long *out)
{
	double d;
	if (arg_num(s, a, i, (double)min, (double)max, &d))
		return -1;
	if (d != floor(d)) {
		icpsim_push_error(s, -224, "%g is not a whole number", d);
		return -1;
	}
	*out = (long)d;
	return 0;
}

static int arg_word(const struct args *a, size_t i, const char *shortw, const char *longw)
{
	if (i >= a->n)
		return 0;
	return (a->len[i] == strlen(shortw) && !strncasecmp(a->p[i], shortw, a->len[i])) ||
	       (a->len[i] == strlen(longw) && !strncasecmp(a->p[i], longw, a->len[i]));
}

/* A string parameter (quoted, or plain character data) into dst. */
static int arg_string(struct mg_icpsim *s, const struct args *a, size_t i, char *dst, size_t cap)
{
	if (i >= a->n) {
		icpsim_push_error(s, -109, NULL);
		return -1;
	}
	if (a->p[i][0] == '"' || a->p[i][0] == '\'') {
		mg_buf b;
		mg_buf_init(&b);
		int rc = mg_scpi_unquote(a->p[i], a->len[i], &b);
		if (rc || b.len >= cap) {
			mg_buf_free(&b);
			icpsim_push_error(s, rc ? -151 : -150, rc ? "bad string" : "string too long");
			return -1;
		}
		snprintf(dst, cap, "%s", b.data ? b.data : "");
		mg_buf_free(&b);
		return 0;
	}
	if (a->len[i] >= cap) {
		icpsim_push_error(s, -144, NULL);
		return -1;
	}
	memcpy(dst, a->p[i], a->len[i]);
	dst[a->len[i]] = '\0';
	return 0;
}

static int no_args(struct mg_icpsim *s, const struct args *a)
{
	if (a->n) {
		icpsim_push_error(s, -108, NULL);
		return -1;
	}
	return 0;
}

static int check_fetch(struct mg_icpsim *s, const struct args *a, int with_rep, long *line, long *rep)
{
	if (!s->have_data) {
		icpsim_push_error(s, -230, "no measurement data");
		return -1;
	}
	if (arg_int(s, a, 0, 1, (long)s->data_lines, line))
		return -1;
	*rep = 1;
	if (with_rep && arg_int(s, a, 1, 1, (long)s->data_reps, rep))
		return -1;
	if (a->n > (size_t)(with_rep ? 2 : 1)) {
		icpsim_push_error(s, -108, NULL);
		return -1;
	}
	return 0;
}

/* ---- commands ------------------------------------------------------------- */

#define H(name) static int name(struct mg_icpsim *s, const struct args *a, mg_buf *out)

H(h_idn)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "magassay,SIM-ICP-OES,%s,1.0.0", s->serial);
	return 0;
}
H(h_rst)
{
	(void)out;
	if (no_args(s, a))
		return -1;
	icpsim_reset(s);
	return 0;
}
H(h_cls)
{
	(void)out;
	if (no_args(s, a))
		return -1;
	s->nerr = 0;
	s->esr = 0;
	return 0;
}
H(h_opc_set)
{
	(void)out;
	if (no_args(s, a))
		return -1;
	s->esr |= 1;
	return 0;
}
H(h_opc)
{
	if (no_args(s, a))
		return -1;
	s->busy_left = 0;
	mg_buf_puts(out, "1");
	return 0;
}
H(h_wai)
{
	(void)out;
	return no_args(s, a);
}
H(h_esr)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "%u", s->esr);
	s->esr = 0;
	return 0;
}
H(h_ese_set)
{
	(void)out;
	long v;
	if (arg_int(s, a, 0, 0, 255, &v))
		return -1;
	s->ese = (unsigned)v;
	return 0;
}
H(h_ese)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "%u", s->ese);
	return 0;
}
H(h_sre_set)
{
	(void)out;
	long v;
	if (arg_int(s, a, 0, 0, 255, &v))
		return -1;
	s->sre = (unsigned)v & ~0x40u;
	return 0;
}
H(h_sre)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "%u", s->sre);
	return 0;
}
H(h_stb)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "%u", icpsim_stb(s));
	return 0;
}
H(h_tst)
{
	if (no_args(s, a))
		return -1;
	mg_buf_puts(out, "0");
	return 0;
}
H(h_err)
{
	if (no_args(s, a))
		return -1;
	if (!s->nerr) {
		mg_buf_puts(out, "0,\"No error\"");
		return 0;
	}
	mg_buf_printf(out, "%d,", s->errq_code[0]);
	mg_scpi_append_string(out, s->errq_text[0]);
	memmove(s->errq_code, s->errq_code + 1, (s->nerr - 1) * sizeof(s->errq_code[0]));
	memmove(s->errq_text, s->errq_text + 1, (s->nerr - 1) * sizeof(s->errq_text[0]));
	s->nerr--;
	return 0;
}
H(h_err_count)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "%zu", s->nerr);
	return 0;
}
H(h_version)
{
	if (no_args(s, a))
		return -1;
	mg_buf_puts(out, "1999.0");
	return 0;
}
H(h_plasma_set)
{
	(void)out;
	int on;
	if (a->n != 1) {
		icpsim_push_error(s, a->n ? -108 : -109, NULL);
		return -1;
	}
	if (mg_scpi_parse_bool(a->p[0], a->len[0], &on)) {
		icpsim_push_error(s, -224, "ON or OFF");
		return -1;
	}
	if (on && !s->plasma)
		s->lit_at_s = s->t_s;
	s->plasma = on;
	return 0;
}
H(h_plasma)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "%d", s->plasma);
	return 0;
}
H(h_plasma_status)
{
	if (no_args(s, a))
		return -1;
	double t = s->t_s / 3600.0;
	if (s->plasma)
		mg_buf_printf(out, "1,%.1f,%.3f,%.2f,%.2f", 1300.0 + 2.0 * sin(t * 7.0), 0.700 + 0.002 * sin(t * 5.0), 12.00,
		              1.00);
	else
		mg_buf_puts(out, "0,0.0,0.000,0.00,0.00");
	return 0;
}
H(h_line_clear)
{
	(void)out;
	if (no_args(s, a))
		return -1;
	s->nlines = 0;
	s->have_data = 0;
	return 0;
}
H(h_line_set)
{
	(void)out;
	long idx, is = 0;
	double wl;
	char el[8];
	if (a->n < 3 || a->n > 4) {
		icpsim_push_error(s, a->n < 3 ? -109 : -108, "CONFigure:LINE <n>,<element>,<wavelength>[,<is>]");
		return -1;
	}
	if (arg_int(s, a, 0, 1, MG_ICP_MAX_LINES, &idx) || arg_string(s, a, 1, el, sizeof(el)) ||
	    arg_num(s, a, 2, 100, 1000, &wl) || (a->n == 4 && arg_int(s, a, 3, 0, 1, &is)))
		return -1;
	if (!icpsim_valid_symbol(el)) {
		icpsim_push_error(s, -224, "'%s' is not an element", el);
		return -1;
	}
	if ((size_t)idx > s->nlines + 1) {
		icpsim_push_error(s, -222, "line %ld: configure lines 1 to %zu first", idx, s->nlines);
		return -1;
	}
	if (!mg_icpphys_find(el, wl, 0.01)) {
		icpsim_push_error(s, -224, "no %s line at %.4f nm in the line library", el, wl);
		return -1;
	}
	struct sim_line *L = &s->lines[idx - 1];
	snprintf(L->el, sizeof(L->el), "%.3s", el);
	L->wl = wl;
	L->is = (int)is;
	if ((size_t)idx > s->nlines)
		s->nlines = (size_t)idx;
	s->have_data = 0;
	return 0;
}
H(h_line_query)
{
	long idx;
	if (arg_int(s, a, 0, 1, (long)(s->nlines ? s->nlines : 1), &idx))
		return -1;
	if ((size_t)idx > s->nlines) {
		icpsim_push_error(s, -222, "no line %ld", idx);
		return -1;
	}
	const struct sim_line *L = &s->lines[idx - 1];
	mg_scpi_append_string(out, L->el);
	mg_buf_printf(out, ",%.4f,%d", L->wl, L->is);
	return 0;
}
H(h_line_count)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "%zu", s->nlines);
	return 0;
}
H(h_int_set)
{
	(void)out;
	double v;
	if (arg_num(s, a, 0, 0.1, 60, &v))
		return -1;
	if (a->n > 1) {
		icpsim_push_error(s, -108, NULL);
		return -1;
	}
	s->integration = v;
	s->have_data = 0;
	return 0;
}
H(h_int)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "%.3f", s->integration);
	return 0;
}
H(h_rep_set)
{
	(void)out;
	long v;
	if (arg_int(s, a, 0, 1, MG_ICP_MAX_REPLICATES, &v))
		return -1;
	if (a->n > 1) {
		icpsim_push_error(s, -108, NULL);
		return -1;
	}
	s->replicates = (unsigned)v;
	s->have_data = 0;
	return 0;
}
H(h_rep)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "%u", s->replicates);
	return 0;
}
H(h_pos_set)
{
	(void)out;
	long v;
	if (arg_int(s, a, 0, 1, 999, &v))
		return -1;
	if (a->n > 1) {
		icpsim_push_error(s, -108, NULL);
		return -1;
	}
	s->position = (int)v;
	return 0;
}
H(h_pos)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "%d", s->position);
	return 0;
}
H(h_pos_cat)
{
	if (no_args(s, a))
		return -1;
	for (size_t i = 0; i < s->nslots; i++)
		mg_buf_printf(out, "%s%d", i ? "," : "", s->slots[i].sol.position);
	return 0;
}
H(h_label_set)
{
	(void)out;
	if (a->n != 1) {
		icpsim_push_error(s, a->n ? -108 : -109, NULL);
		return -1;
	}
	return arg_string(s, a, 0, s->label, sizeof(s->label));
}
H(h_label)
{
	if (no_args(s, a))
		return -1;
	mg_scpi_append_string(out, s->label);
	return 0;
}
H(h_init)
{
	(void)out;
	if (no_args(s, a))
		return -1;
	icpsim_run(s);
	return 0;
}
H(h_abort)
{
	(void)out;
	if (no_args(s, a))
		return -1;
	s->busy_left = 0;
	return 0;
}
H(h_oper_cond)
{
	if (no_args(s, a))
		return -1;
	if (s->busy_left) {
		s->busy_left--;
		mg_buf_puts(out, "16");
	} else {
		mg_buf_puts(out, "0");
	}
	return 0;
}
H(h_oper_event)
{
	if (no_args(s, a))
		return -1;
	mg_buf_puts(out, "0");
	return 0;
}
H(h_stat_preset)
{
	(void)out;
	return no_args(s, a);
}
H(h_fetch_count)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "%u", s->have_data ? s->data_reps : 0u);
	return 0;
}
H(h_fetch_window)
{
	long line, rep;
	if (check_fetch(s, a, 1, &line, &rep))
		return -1;
	size_t np = s->pixels;
	double v[2 * 128];
	const double *wl = s->data_wl + (size_t)(line - 1) * np;
	const double *c = s->data + ((size_t)(rep - 1) * MG_ICP_MAX_LINES + (size_t)(line - 1)) * np;
	for (size_t i = 0; i < np; i++) {
		v[2 * i] = wl[i];
		v[2 * i + 1] = c[i];
	}
	icpsim_put_numbers(s, v, 2 * np, 1, out);
	return 0;
}
H(h_fetch_wl)
{
	/* the window of a configured line is known before any run */
	long line;
	if (arg_int(s, a, 0, 1, (long)(s->nlines ? s->nlines : 1), &line))
		return -1;
	if ((size_t)line > s->nlines || a->n > 1) {
		icpsim_push_error(s, a->n > 1 ? -108 : -222, "no line %ld", line);
		return -1;
	}
	double wl[128];
	mg_icpphys_conditions c;
	icpsim_conditions(s, s->t_s, &c);
	mg_icpphys_axis(&c, s->lines[line - 1].wl, wl);
	icpsim_put_numbers(s, wl, s->pixels, 0, out);
	return 0;
}
H(h_fetch_int)
{
	long line, rep;
	if (check_fetch(s, a, 1, &line, &rep))
		return -1;
	const double *c = s->data + ((size_t)(rep - 1) * MG_ICP_MAX_LINES + (size_t)(line - 1)) * s->pixels;
	if (s->fmt == FMT_ASCII) {
		for (size_t i = 0; i < s->pixels; i++)
			mg_buf_printf(out, "%s%.2f", i ? "," : "", c[i]);
		return 0;
	}
	icpsim_put_numbers(s, c, s->pixels, 0, out);
	return 0;
}
H(h_format_set)
{
	(void)out;
	if (a->n < 1 || a->n > 2) {
		icpsim_push_error(s, a->n ? -108 : -109, NULL);
		return -1;
	}
	if (arg_word(a, 0, "ASC", "ASCII") && a->n == 1) {
		s->fmt = FMT_ASCII;
		return 0;
	}
	if (arg_word(a, 0, "REAL", "REAL")) {
		long bits = 64;
		if (a->n == 2 && arg_int(s, a, 1, 32, 64, &bits))
			return -1;
		if (bits != 32 && bits != 64) {
			icpsim_push_error(s, -224, "REAL,32 or REAL,64");
			return -1;
		}
		s->fmt = bits == 32 ? FMT_REAL32 : FMT_REAL64;
		return 0;
	}
	icpsim_push_error(s, -224, "ASCii or REAL,32|64");
	return -1;
}
H(h_format)
{
	if (no_args(s, a))
		return -1;
	mg_buf_puts(out, s->fmt == FMT_ASCII ? "ASC" : s->fmt == FMT_REAL32 ? "REAL,32" : "REAL,64");
	return 0;
}
H(h_border_set)
{
	(void)out;
	if (a->n != 1) {
		icpsim_push_error(s, a->n ? -108 : -109, NULL);
		return -1;
	}
	if (arg_word(a, 0, "NORM", "NORMAL"))
		s->swapped = 0;
	else if (arg_word(a, 0, "SWAP", "SWAPPED"))
		s->swapped = 1;
	else {
		icpsim_push_error(s, -224, "NORMal or SWAPped");
		return -1;
	}
	return 0;
}
H(h_border)
{
	if (no_args(s, a))
		return -1;
	mg_buf_puts(out, s->swapped ? "SWAP" : "NORM");
	return 0;
}

static const struct icpsim_cmd cmds[] = {
	{"*IDN", 1, h_idn},
	{"*RST", 0, h_rst},
	{"*CLS", 0, h_cls},
	{"*OPC", 0, h_opc_set},
	{"*OPC", 1, h_opc},
	{"*WAI", 0, h_wai},
	{"*ESR", 1, h_esr},
	{"*ESE", 0, h_ese_set},
	{"*ESE", 1, h_ese},
	{"*SRE", 0, h_sre_set},
	{"*SRE", 1, h_sre},
	{"*STB", 1, h_stb},
	{"*TST", 1, h_tst},
	{"SYSTem:ERRor[:NEXT]", 1, h_err},
	{"SYSTem:ERRor:COUNt", 1, h_err_count},
	{"SYSTem:VERSion", 1, h_version},
	{"PLASma[:STATe]", 0, h_plasma_set},
	{"PLASma[:STATe]", 1, h_plasma},
	{"PLASma:CONDition", 1, h_plasma_status},
	{"CONFigure:LINE:CLEar", 0, h_line_clear},
	{"CONFigure:LINE", 0, h_line_set},
	{"CONFigure:LINE", 1, h_line_query},
	{"CONFigure:LINE:COUNt", 1, h_line_count},
	{"[SENSe]:INTegration[:TIME]", 0, h_int_set},
	{"[SENSe]:INTegration[:TIME]", 1, h_int},
	{"[SENSe]:REPLicates", 0, h_rep_set},
	{"[SENSe]:REPLicates", 1, h_rep},
	{"SAMPle:POSition", 0, h_pos_set},
	{"SAMPle:POSition", 1, h_pos},
	{"SAMPle:POSition:CATalog", 1, h_pos_cat},
	{"SAMPle:LABel", 0, h_label_set},
	{"SAMPle:LABel", 1, h_label},
	{"INITiate[:IMMediate]", 0, h_init},
	{"ABORt", 0, h_abort},
	{"STATus:OPERation:CONDition", 1, h_oper_cond},
	{"STATus:OPERation[:EVENt]", 1, h_oper_event},
	{"STATus:PRESet", 0, h_stat_preset},
	{"FETCh:COUNt", 1, h_fetch_count},
	{"FETCh:WINDow", 1, h_fetch_window},
	{"FETCh:WAVelength", 1, h_fetch_wl},
	{"FETCh:INTensity", 1, h_fetch_int},
	{"FORMat[:DATA]", 0, h_format_set},
	{"FORMat[:DATA]", 1, h_format},
	{"FORMat:BORDer", 0, h_border_set},
	{"FORMat:BORDer", 1, h_border},
};

/* ---- headers against the table ---------------------------------------------- */

/* A keyword against a node ("INTegration"): the short form (its capitals) or
 * the long form, any case. */
static int kw_match(const char *node, size_t nn, const char *kw, size_t kl)
{
	size_t shortlen = 0;
	while (shortlen < nn && (isupper((unsigned char)node[shortlen]) || node[shortlen] == '*'))
		shortlen++;
	if (kl == nn && !strncasecmp(node, kw, kl))
		return 1;
	return kl == shortlen && !strncasecmp(node, kw, kl);
}

struct node {
	const char *p;
	size_t n;
	int opt;
};

static size_t pattern_nodes(const char *pat, struct node *nodes, size_t cap)
{
	size_t k = 0;
	const char *p = pat;
	while (*p && k < cap) {
		int opt = 0;
		if (*p == '[') {
			opt = 1;
			p++;
		}
		if (*p == ':')
			p++;
		const char *e = p;
		while (*e && *e != ':' && *e != '[' && *e != ']')
			e++;
		nodes[k].p = p;
		nodes[k].n = (size_t)(e - p);
		nodes[k].opt = opt;
		k++;
		p = e;
		if (*p == ']')
			p++;
	}
	return k;
}

static int match_nodes(const struct node *nodes, size_t nn, char kws[][32], size_t nk)
{
	if (nn == 0)
		return nk == 0;
	if (nodes[0].opt && match_nodes(nodes + 1, nn - 1, kws, nk))
		return 1;
	return nk > 0 && kw_match(nodes[0].p, nodes[0].n, kws[0], strlen(kws[0])) &&
	       match_nodes(nodes + 1, nn - 1, kws + 1, nk - 1);
}

const struct icpsim_cmd *icpsim_find_cmd(int query, char kws[][32], size_t nk)
{
	for (size_t i = 0; i < MG_ARRAY_SIZE(cmds); i++) {
		if (cmds[i].query != query)
			continue;
		struct node nodes[8];
		size_t nn = pattern_nodes(cmds[i].pattern, nodes, 8);
		if (match_nodes(nodes, nn, kws, nk))
			return &cmds[i];
	}
	return NULL;
}
