/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Batch summary (A4 PDF): the lot, its QC state and release, the QC series
 * with their limits and the rules fired, the ICP run checks, the composition
 * of every sample (one row per measurement), XRF against ICP, the batch
 * chart and the control charts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "magassay/version.h"
#include "pdf_doc.h"

typedef struct brep {
	mg_store *st;
	const rp_batch *b;
	const mg_report_opts *o;
	const char *generated;
	rp_pair *pairs;
	size_t npairs;
} brep;

static int is_ree(const char *e);

/* Nd, Pr, Dy, Tb, the other rare earths, then Fe, Co, B, ..., then the rest. */
static int element_rank(const char *e)
{
	static const char *const order[] = {"Nd", "Pr", "Dy", "Tb"};
	static const char *const other[] = {"Fe", "Co", "B", "Cu", "Ni", "Al", "Ga"};
	for (size_t i = 0; i < MG_ARRAY_SIZE(order); i++)
		if (!strcmp(e, order[i]))
			return (int)i;
	if (is_ree(e))
		return 10;
	for (size_t i = 0; i < MG_ARRAY_SIZE(other); i++)
		if (!strcmp(e, other[i]))
			return 20 + (int)i;
	return 100;
}

static int is_ree(const char *e)
{
	static const char *const ree[] = {"La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb",
	                                  "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Y"};
	for (size_t i = 0; i < MG_ARRAY_SIZE(ree); i++)
		if (!strcmp(e, ree[i]))
			return 1;
	return 0;
}

static void qc_tables(rp_doc *d, const mg_qc_status *qc)
{
	char t[600];
	rp_doc_heading(d, "Quality control", 2);
	if (qc->released)
		snprintf(t, sizeof(t), "%zu violation(s), %zu warning(s) \xC2\xB7 released by %s at %s%s%s",
		         qc->n_violations, qc->n_warnings, qc->released_by, qc->released_at,
		         qc->override_by ? " with an override by " : "", qc->override_by ? qc->override_by : "");
	else
		snprintf(t, sizeof(t), "%zu violation(s), %zu warning(s) \xC2\xB7 %s", qc->n_violations, qc->n_warnings,
		         qc->n_violations ? "cannot be released without an override" : "not released yet");
	rp_doc_badge(d, qc->state, t);
	if (qc->released && qc->override_by) {
		char why[700];
		snprintf(why, sizeof(why), "Override by %s: %s", qc->override_by, qc->override_reason ? qc->override_reason : "");
		rp_doc_paragraph(d, why, 0, pl_okabe_ito[PL_BLACK]);
	}
	rp_doc_bullets(d, qc->notes, qc->nnotes, 10, pl_okabe_ito[PL_BLACK]);
	if (qc->nseries) {
		static const char *const head[] = {"Quantity", "Instrument", "n", "Mean", "s", "Batch value(s)",
		                                   "Rules on the batch", "State"};
		static const double w[] = {0.24, 0.11, 0.05, 0.11, 0.09, 0.16, 0.15, 0.09};
		rp_table tb = {8, head, w, "llrrrrll", 7.5};
		rp_doc_table_head(d, &tb);
		for (size_t i = 0; i < qc->nseries; i++) {
			const mg_qc_series *x = &qc->series[i];
			char q[160], n[16], m[32] = "\xE2\x80\x93", s[32] = "\xE2\x80\x93", v[96] = "", r[64];
			snprintf(q, sizeof(q), "%s (%s)", x->label, x->unit);
			snprintf(n, sizeof(n), "%zu", x->n_baseline);
			/* values to the decimal place of s's second significant digit, plus one */
			int dec = 3;
			if (x->has_limits) {
				dec = 2 - (int)floor(log10(x->sd));
				dec = dec < 0 ? 0 : dec > 8 ? 8 : dec;
				snprintf(m, sizeof(m), "%.*f", dec, x->mean);
				snprintf(s, sizeof(s), "%.2g", x->sd);
			}
			size_t len = 0, shown = 0;
			for (size_t k = 0; k < x->npoints; k++) {
				if (!x->points[k].in_batch)
					continue;
				if (shown == 3) {
					snprintf(v + len, sizeof(v) - len, ", \xE2\x80\xA6");
					break;
				}
				int kk = x->has_limits ? snprintf(v + len, sizeof(v) - len, "%s%.*f", len ? ", " : "", dec,
				                                  x->points[k].value)
				                       : snprintf(v + len, sizeof(v) - len, "%s%.6g", len ? ", " : "",
				                                  x->points[k].value);
				if (kk < 0 || (size_t)kk >= sizeof(v) - len)
					break;
				len += (size_t)kk;
				shown++;
			}
			mg_wg_rules_format(x->batch_flags, r, sizeof(r));
			const char *row[] = {q, *x->instrument ? x->instrument : "\xE2\x80\x93", n, m, s, v,
			                     r[0] ? r : "none", mg_qc_state_name(x->state)};
			rp_doc_table_row(d, &tb, row, x->state == MG_QC_FAIL, i % 2 == 1);
		}
		rp_doc_table_end(d);
	}
	if (qc->nchecks) {
		rp_doc_heading(d, "ICP run checks", 3);
		static const char *const head[] = {"Check", "Outcome", "Detail", "Measurement"};
		static const double w[] = {0.22, 0.14, 0.48, 0.16};
		rp_table tb = {4, head, w, "lllr", 7.5};
		rp_doc_table_head(d, &tb);
		for (size_t i = 0; i < qc->nchecks; i++) {
			char m[32];
			snprintf(m, sizeof(m), "%lld", qc->checks[i].measurement_id);
			const char *row[] = {qc->checks[i].name, qc->checks[i].outcome, qc->checks[i].detail, m};
			rp_doc_table_row(d, &tb, row, qc->checks[i].failed, i % 2 == 1);
		}
		rp_doc_table_end(d);
	}
}

static void composition_table(rp_doc *d, const rp_batch *b)
{
	/* the elements present, in the usual order */
	const char *els[32];
	size_t nel = 0;
	for (size_t i = 0; i < b->nsamples; i++)
		for (size_t r = 0; r < b->samples[i].nres; r++)
			for (size_t c = 0; c < b->samples[i].res[r].ncomp; c++) {
				const char *e = b->samples[i].res[r].comp[c].element;
				size_t k;
				for (k = 0; k < nel && strcmp(els[k], e) != 0; k++)
					;
				if (k == nel && nel < MG_ARRAY_SIZE(els))
					els[nel++] = e;
			}
	for (size_t i = 1; i < nel; i++)
		for (size_t j = i; j > 0 && (element_rank(els[j]) < element_rank(els[j - 1]) ||
		                             (element_rank(els[j]) == element_rank(els[j - 1]) && strcmp(els[j], els[j - 1]) < 0));
		     j--) {
			const char *t = els[j];
			els[j] = els[j - 1];
			els[j - 1] = t;
		}
	rp_doc_heading(d, "Composition (wt %, \xC2\xB1 U with k = 2)", 2);
	if (nel == 0) {
		rp_doc_paragraph(d, "No result of this batch carries a composition yet.", 0, pl_grey);
		return;
	}
	/* the rare earths in one table, the other elements in a second (at most 5 columns each) */
	size_t nree = 0;
	while (nree < nel && is_ree(els[nree]))
		nree++;
	for (size_t e0 = 0; e0 < nel;) {
		size_t lim = e0 < nree ? nree : nel;
		size_t ne = lim - e0 < 5 ? lim - e0 : 5;
		const char *head[9];
		double w[9];
		char align[10];
		head[0] = "Sample";
		head[1] = "Method";
		head[2] = "Meas.";
		w[0] = 0.13;
		w[1] = 0.085;
		w[2] = 0.07;
		memcpy(align, "lll", 3);
		for (size_t k = 0; k < ne; k++) {
			head[3 + k] = els[e0 + k];
			w[3 + k] = 0.715 / (ne < 4 ? 4 : ne);
			align[3 + k] = 'r';
		}
		align[3 + ne] = '\0';
		rp_table t = {3 + ne, head, w, align, 7.5};
		rp_doc_table_head(d, &t);
		size_t row_i = 0;
		for (size_t i = 0; i < b->nsamples; i++) {
			const rp_sample *s = &b->samples[i];
			for (size_t r = 0; r < s->nres; r++) {
				const rp_result *res = &s->res[r];
				int any = 0;
				for (size_t k = 0; k < ne; k++)
					any |= rp_result_comp(res, els[e0 + k]) != NULL;
				if (!any)
					continue;
				char cells[5][64], mid[32];
				const char *row[9];
				row[0] = s->s.id;
				row[1] = res->m.kind && !strcmp(res->m.kind, "icp") ? "ICP" : "XRF";
				snprintf(mid, sizeof(mid), "%lld", res->m.id);
				row[2] = mid;
				for (size_t k = 0; k < ne; k++) {
					const rp_comp *c = rp_result_comp(res, els[e0 + k]);
					if (!c) {
						snprintf(cells[k], sizeof(cells[k]), "\xE2\x80\x93");
					} else if (isfinite(c->lod) && c->wt < c->lod) {
						char l[24];
						rp_fmt_lod(l, sizeof(l), c->lod);
						snprintf(cells[k], sizeof(cells[k]), "< %s", l);
					} else {
						char v[24], u[24];
						rp_fmt_value(v, sizeof(v), u, sizeof(u), c->wt, isfinite(c->sigma) ? 2 * c->sigma : NAN);
						if (isfinite(c->sigma))
							snprintf(cells[k], sizeof(cells[k]), "%s \xC2\xB1 %s", v, u);
						else
							snprintf(cells[k], sizeof(cells[k]), "%s", v);
					}
					row[3 + k] = cells[k];
				}
				rp_doc_table_row(d, &t, row, 0, row_i++ % 2 == 1);
			}
		}
		rp_doc_table_end(d);
		e0 += ne;
	}
}

static void samples_table(rp_doc *d, const rp_batch *b)
{
	rp_doc_heading(d, "Samples and measurements", 2);
	if (b->nsamples == 0) {
		rp_doc_paragraph(d, "No sample is registered in this lot.", 0, pl_grey);
		return;
	}
	static const char *const head[] = {"Sample", "Description", "Meas.", "Method", "Rep.", "Measured", "Result"};
	static const double w[] = {0.12, 0.22, 0.07, 0.25, 0.06, 0.16, 0.12};
	rp_table t = {7, head, w, "llrlrll", 7.5};
	rp_doc_table_head(d, &t);
	size_t row_i = 0;
	for (size_t i = 0; i < b->nsamples; i++) {
		const rp_sample *s = &b->samples[i];
		if (s->nres == 0) {
			const char *row[] = {s->s.id, s->s.description, "\xE2\x80\x93", "no measurement", "", "", ""};
			rp_doc_table_row(d, &t, row, 0, row_i++ % 2 == 1);
		}
		for (size_t r = 0; r < s->nres; r++) {
			const rp_result *res = &s->res[r];
			char mid[32], rep[16], rv[64], when[40];
			/* "2024-07-01T09:15:00.000Z" → "2024-07-01 09:15Z" */
			const char *at = res->m.started_at ? res->m.started_at : res->m.created_at;
			snprintf(when, sizeof(when), "%.16s%s", at ? at : "", at && strchr(at, 'Z') ? "Z" : "");
			if (strlen(when) > 10 && when[10] == 'T')
				when[10] = ' ';
			snprintf(mid, sizeof(mid), "%lld", res->m.id);
			snprintf(rep, sizeof(rep), "%d", res->m.replicate);
			if (res->has_result)
				snprintf(rv, sizeof(rv), "v%d%s", res->r.version,
				         res->ncomp ? "" : res->nfam ? ", areas only" : ", no values");
			else
				snprintf(rv, sizeof(rv), "none yet");
			const char *row[] = {r ? "" : s->s.id, r ? "" : s->s.description, mid, res->method, rep, when, rv};
			rp_doc_table_row(d, &t, row, 0, row_i++ % 2 == 1);
		}
	}
	rp_doc_table_end(d);
}

static void bias_table(rp_doc *d, const brep *c)
{
	if (c->npairs == 0)
		return;
	rp_doc_heading(d, "XRF against ICP-OES", 2);
	static const char *const head[] = {"Sample", "Element", "XRF (wt %)", "ICP (wt %)", "Bias (%)"};
	static const double w[] = {0.28, 0.14, 0.2, 0.2, 0.18};
	rp_table t = {5, head, w, "llrrr", 7.5};
	rp_doc_table_head(d, &t);
	for (size_t i = 0; i < c->npairs; i++) {
		const rp_pair *p = &c->pairs[i];
		char x[32], y[32], bb[32];
		snprintf(x, sizeof(x), "%.3f", p->xrf);
		snprintf(y, sizeof(y), "%.3f", p->icp);
		if (p->icp > 0)
			snprintf(bb, sizeof(bb), "%+.1f", 100 * (p->xrf - p->icp) / p->icp);
		else
			snprintf(bb, sizeof(bb), "\xE2\x80\x93");
		const char *row[] = {p->sample, p->element, x, y, bb};
		rp_doc_table_row(d, &t, row, 0, i % 2 == 1);
	}
	rp_doc_table_end(d);
}

static int render(rp_doc *d, void *ud)
{
	brep *c = ud;
	const rp_batch *b = c->b;
	char h[200], ns[32], nm[32];
	rp_font(d->cr, 9, 1);
	pl_set(d->cr, pl_grey);
	rp_text(d->cr, d->ml, d->y, c->o && c->o->laboratory ? c->o->laboratory : "magassay laboratory", 0, 0);
	d->y += 16;
	snprintf(h, sizeof(h), "Batch summary \xE2\x80\x94 lot %s", b->b.id);
	rp_doc_heading(d, h, 1);
	snprintf(ns, sizeof(ns), "%lld", b->b.n_samples);
	snprintf(nm, sizeof(nm), "%lld", b->b.n_measurements);
	const char *keys[] = {"Lot", "Registered", "Operator", "Status", "Samples", "Measurements", "Notes", "Issued"};
	const char *vals[] = {b->b.id, b->b.created_at, b->b.operator_name, b->b.status, ns, nm, b->b.notes,
	                      c->generated};
	rp_doc_kv(d, keys, vals, MG_ARRAY_SIZE(keys));
	qc_tables(d, b->qc);
	samples_table(d, b);
	composition_table(d, b);
	bias_table(d, c);

	/* figures: the batch chart, then the control charts (two per page) */
	rp_batch_point *pts = NULL;
	size_t n = 0;
	if (rp_batch_points(b, &pts, &n) == MG_OK && n > 0) {
		pl_fig f;
		rp_doc_heading(d, "Composition by sample", 2);
		if (rp_doc_figure(d, 330, &f) == MG_OK) {
			rp_fig_batch(&f, pts, n);
			pl_fig_end(&f);
		}
	}
	free(pts);
	if (b->qc->nseries) {
		rp_doc_new_page(d);
		rp_doc_heading(d, "Control charts", 2);
		/* one legend for every chart */
		pl_fig f;
		if (pl_fig_in(&f, d->cr, MG_PLOT_PAGE, d->ml, d->y, d->cw, 60) == MG_OK) {
			rp_fig_control_legend(&f);
			d->y = f.top + 3;
			pl_fig_end(&f);
		}
		for (size_t i = 0; i < b->qc->nseries; i++) {
			rp_ctl ctl;
			if (rp_ctl_from_series(&b->qc->series[i], &ctl) != MG_OK)
				continue;
			if (rp_doc_figure(d, 225, &f) == MG_OK) {
				f.bottom -= 10; /* a gap before the next chart */
				rp_fig_control(&f, &ctl.c, 1, 0);
				pl_fig_end(&f);
			}
			rp_ctl_clear(&ctl);
		}
	}
	return MG_OK;
}

int mg_report_batch_pdf(mg_store *st, const char *batch_id, const mg_report_opts *o, const char *path)
{
	if (!st || !path)
		return mg_fail(MG_ERR_ARG, RP_DOM, "mg_report_batch_pdf: bad arguments");
	rp_batch b;
	int e = rp_batch_load(st, batch_id, o ? o->qc : NULL, &b);
	if (e != MG_OK)
		return e;
	char now[40], title[160], hl[200], hr[100], fl[240], kw[120];
	rp_now(now, sizeof(now));
	brep c = {st, &b, o, o && o->generated_at ? o->generated_at : now, NULL, 0};
	if ((e = rp_batch_pairs(st, batch_id, &c.pairs, &c.npairs)) == MG_OK) {
		snprintf(title, sizeof(title), "Batch summary: lot %s", batch_id);
		snprintf(hl, sizeof(hl), "%s \xC2\xB7 batch summary", o && o->laboratory ? o->laboratory : "magassay laboratory");
		snprintf(hr, sizeof(hr), "Lot %s", batch_id);
		snprintf(fl, sizeof(fl), "Lot %s \xC2\xB7 QC %s \xC2\xB7 issued %s by magassay %s", batch_id,
		         mg_qc_state_name(b.qc->state), c.generated, MAGASSAY_VERSION_STRING);
		snprintf(kw, sizeof(kw), "batch %s", batch_id);
		e = rp_doc_render(path, title, "Batch summary", kw, hl, hr, fl, render, &c);
	}
	rp_pairs_free(c.pairs, c.npairs);
	rp_batch_clear(&b);
	return e;
}
