/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The batch as CSV for spreadsheets and LIMS: one row per sample, measurement
 * and element ("long" layout: every element set fits, pivot tables and LIMS
 * imports take it as is). RFC 4180: CRLF line ends, fields with a comma,
 * quote, CR or LF quoted, quotes doubled. Text cells that a spreadsheet would
 * evaluate as a formula (starting with = + - @, TAB or CR: OWASP's list) get
 * a leading apostrophe. Numbers written by magassay are plain numbers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "report_internal.h"

int mg_csv_append_text(mg_buf *b, const char *text)
{
	if (!b)
		return mg_fail(MG_ERR_ARG, RP_DOM, "mg_csv_append_text: no buffer");
	if (!text || !*text)
		return mg_buf_status(b);
	int neutralise = strchr("=+-@\t\r", text[0]) != NULL;
	int quote = strpbrk(text, ",\"\r\n") != NULL;
	if (quote)
		mg_buf_puts(b, "\"");
	if (neutralise)
		mg_buf_puts(b, "'");
	for (const char *p = text; *p; p++) {
		if (*p == '"')
			mg_buf_puts(b, "\"\"");
		else
			mg_buf_append(b, p, 1);
	}
	if (quote)
		mg_buf_puts(b, "\"");
	return mg_buf_status(b);
}

static void num(mg_buf *b, double v, const char *fmt)
{
	if (isfinite(v))
		mg_buf_printf(b, fmt, v);
}

static void sep(mg_buf *b)
{
	mg_buf_puts(b, ",");
}

static const char *const columns[] = {
	"batch_id",     "sample_id",  "sample_description", "measurement_id", "measurement_uuid", "method",
	"replicate",    "measured_at", "instrument",        "operator",       "result_version",   "calibration",
	"software",     "element",    "wt_pct",             "u_wt_pct",       "U_k2_wt_pct",      "lod_wt_pct",
	"below_lod",    "flags",      "result_flags",       "batch_qc_state", "batch_released",
};

static void row(mg_buf *b, const rp_batch *bt, const rp_sample *s, const rp_result *r, const rp_comp *c)
{
	char tmp[256];
	mg_csv_append_text(b, bt->b.id);
	sep(b);
	mg_csv_append_text(b, s->s.id);
	sep(b);
	mg_csv_append_text(b, s->s.description);
	sep(b);
	if (r) {
		mg_buf_printf(b, "%lld", r->m.id);
		sep(b);
		mg_csv_append_text(b, r->m.uuid);
		sep(b);
		mg_csv_append_text(b, r->method);
		sep(b);
		mg_buf_printf(b, "%d", r->m.replicate);
		sep(b);
		mg_csv_append_text(b, r->m.started_at ? r->m.started_at : r->m.created_at);
		sep(b);
		snprintf(tmp, sizeof(tmp), "%s%s%s", r->m.instrument_model ? r->m.instrument_model : "",
		         r->m.instrument_serial ? " " : "", r->m.instrument_serial ? r->m.instrument_serial : "");
		mg_csv_append_text(b, tmp);
		sep(b);
		mg_csv_append_text(b, r->m.operator_name ? r->m.operator_name : bt->b.operator_name);
		sep(b);
		if (r->has_result)
			mg_buf_printf(b, "%d", r->r.version);
		sep(b);
		/* the calibrations used, ";"-separated */
		mg_buf tc;
		mg_buf_init(&tc);
		for (size_t i = 0; i < r->ncal; i++)
			mg_buf_printf(&tc, "%s%s", i ? "; " : "", r->cal[i].text);
		mg_csv_append_text(b, tc.len ? tc.data : NULL);
		mg_buf_free(&tc);
		sep(b);
		mg_csv_append_text(b, r->has_result ? r->r.software_version : NULL);
	} else {
		for (int i = 0; i < 9; i++)
			sep(b);
	}
	sep(b);
	if (c) {
		mg_csv_append_text(b, c->element);
		sep(b);
		num(b, c->wt, "%.6g");
		sep(b);
		num(b, c->sigma, "%.4g");
		sep(b);
		num(b, isfinite(c->sigma) ? 2 * c->sigma : NAN, "%.4g");
		sep(b);
		num(b, c->lod, "%.4g");
		sep(b);
		if (isfinite(c->lod))
			mg_buf_puts(b, c->wt < c->lod ? "yes" : "no");
		sep(b);
		mg_csv_append_text(b, c->flags);
	} else {
		for (int i = 0; i < 6; i++)
			sep(b);
	}
	sep(b);
	mg_buf tf;
	mg_buf_init(&tf);
	for (size_t i = 0; r && i < r->nflags; i++)
		mg_buf_printf(&tf, "%s%s", i ? "; " : "", r->flags[i]);
	mg_csv_append_text(b, tf.len ? tf.data : NULL);
	mg_buf_free(&tf);
	sep(b);
	mg_csv_append_text(b, mg_qc_state_name(bt->qc->state));
	sep(b);
	mg_buf_puts(b, bt->qc->released ? "yes" : "no");
	mg_buf_puts(b, "\r\n");
}

int mg_report_batch_csv(mg_store *st, const char *batch_id, const mg_report_opts *o, char **out, size_t *len)
{
	if (!st || !out)
		return mg_fail(MG_ERR_ARG, RP_DOM, "mg_report_batch_csv: bad arguments");
	*out = NULL;
	if (len)
		*len = 0;
	rp_batch bt;
	int e = rp_batch_load(st, batch_id, o ? o->qc : NULL, &bt);
	if (e != MG_OK)
		return e;
	mg_buf b;
	mg_buf_init(&b);
	for (size_t i = 0; i < MG_ARRAY_SIZE(columns); i++) {
		if (i)
			sep(&b);
		mg_buf_puts(&b, columns[i]);
	}
	mg_buf_puts(&b, "\r\n");
	for (size_t i = 0; i < bt.nsamples; i++) {
		const rp_sample *s = &bt.samples[i];
		if (s->nres == 0)
			row(&b, &bt, s, NULL, NULL);
		for (size_t r = 0; r < s->nres; r++) {
			const rp_result *res = &s->res[r];
			if (res->ncomp == 0)
				row(&b, &bt, s, res, NULL);
			for (size_t c = 0; c < res->ncomp; c++)
				row(&b, &bt, s, res, &res->comp[c]);
		}
	}
	rp_batch_clear(&bt);
	if ((e = mg_buf_status(&b)) != MG_OK) {
		mg_buf_free(&b);
		return mg_fail(e, RP_DOM, "CSV: out of memory");
	}
	if (b.len == 0 || !b.data) {
		mg_buf_free(&b);
		return mg_fail(MG_ERR_INTERNAL, RP_DOM, "CSV: empty");
	}
	if (len)
		*len = b.len;
	*out = b.data; /* the buffer's storage becomes the caller's */
	return MG_OK;
}
