/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Certificate of analysis of one sample (A4 PDF, cairo): the sample and its
 * lot, the QC state of the lot, then for every measurement (ICP first: the
 * certified number; then XRF) the method, instrument, operator, calibration
 * versions, the composition table with uncertainties and LODs, totals and
 * flags, and the measurement's plot (XRF spectrum with the fit, or the ICP
 * line windows). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "magassay/version.h"
#include "pdf_doc.h"

typedef struct cert {
	mg_store *st;
	const rp_sample *s;
	const mg_batch *b;
	const mg_qc_status *qc;
	const mg_report_opts *o;
	const char *generated;
} cert;

static void qc_section(rp_doc *d, const mg_qc_status *qc, const char *batch)
{
	char h[160], t[600];
	snprintf(h, sizeof(h), "Quality control of lot %s", batch);
	rp_doc_heading(d, h, 2);
	if (qc->released && qc->override_by)
		snprintf(t, sizeof(t), "%zu violation(s), %zu warning(s) \xC2\xB7 released by %s at %s with an override by %s",
		         qc->n_violations, qc->n_warnings, qc->released_by, qc->released_at, qc->override_by);
	else if (qc->released)
		snprintf(t, sizeof(t), "%zu violation(s), %zu warning(s) \xC2\xB7 released by %s at %s", qc->n_violations,
		         qc->n_warnings, qc->released_by, qc->released_at);
	else
		snprintf(t, sizeof(t), "%zu violation(s), %zu warning(s) \xC2\xB7 lot not released", qc->n_violations,
		         qc->n_warnings);
	rp_doc_badge(d, qc->state, t);
	if (qc->released && qc->override_by) {
		char why[600];
		snprintf(why, sizeof(why), "Override by %s: %s", qc->override_by,
		         qc->override_reason ? qc->override_reason : "");
		rp_doc_paragraph(d, why, 0, pl_okabe_ito[PL_BLACK]);
	}
	rp_doc_bullets(d, qc->notes, qc->nnotes, 6, pl_okabe_ito[PL_BLACK]);
}

static void composition(rp_doc *d, const rp_result *r)
{
	static const char *const head[] = {"Element", "wt %", "u (k = 1)", "U (k = 2)", "LOD (wt %)", "Flags"};
	static const double width[] = {0.12, 0.14, 0.13, 0.13, 0.14, 0.34};
	rp_table t = {6, head, width, "lrrrrl", 0};
	rp_doc_table_head(d, &t);
	for (size_t i = 0; i < r->ncomp; i++) {
		const rp_comp *c = &r->comp[i];
		char v[32], u[32], U[32], lod[32], vb[40];
		int below = isfinite(c->lod) && c->wt < c->lod;
		rp_fmt_value(v, sizeof(v), u, sizeof(u), c->wt, c->sigma);
		if (isfinite(c->sigma) && c->sigma > 0) {
			char dummy[32];
			rp_fmt_value(dummy, sizeof(dummy), U, sizeof(U), c->wt, 2 * c->sigma);
		} else {
			snprintf(U, sizeof(U), "\xE2\x80\x93");
		}
		rp_fmt_lod(lod, sizeof(lod), c->lod);
		if (below) {
			snprintf(vb, sizeof(vb), "< %s", lod);
			snprintf(u, sizeof(u), "\xE2\x80\x93");
			snprintf(U, sizeof(U), "\xE2\x80\x93");
		} else {
			snprintf(vb, sizeof(vb), "%s", v);
		}
		char flags[300];
		snprintf(flags, sizeof(flags), "%s%s%s", below ? "below LOD" : "", below && c->flags ? ", " : "",
		         c->flags ? c->flags : "");
		const char *row[] = {c->element, vb, u, U, lod, flags};
		rp_doc_table_row(d, &t, row, 0, i % 2 == 1);
	}
	struct {
		const char *name;
		double v;
	} tot[] = {{"TREE", r->tree}, {"Nd + Pr", r->ndpr}, {"Dy + Tb", r->dytb}, {"Total", r->total}};
	for (size_t i = 0; i < MG_ARRAY_SIZE(tot); i++) {
		if (!isfinite(tot[i].v))
			continue;
		char v[32];
		snprintf(v, sizeof(v), fabs(tot[i].v) >= 10 ? "%.2f" : "%.3f", tot[i].v);
		const char *note = i == 3 && (tot[i].v < 98 || tot[i].v > 102) ? "outside 98\xE2\x80\x93" "102 %" : "";
		const char *row[] = {tot[i].name, v, "", "", "", note};
		rp_doc_table_row(d, &t, row, 1, 0);
	}
	rp_doc_table_end(d);
}

static void families(rp_doc *d, const rp_result *r)
{
	static const char *const head[] = {"Element", "Family", "Area (counts)", "\xCF\x83 (counts)", "Rate (cps)",
	                                   "Status"};
	static const double width[] = {0.13, 0.12, 0.2, 0.18, 0.17, 0.2};
	rp_table t = {6, head, width, "llrrrl", 0};
	rp_doc_table_head(d, &t);
	size_t row_i = 0;
	for (size_t i = 0; i < r->nfam; i++) {
		const rp_family *f = &r->fam[i];
		char a[32] = "\xE2\x80\x93", s[32] = "\xE2\x80\x93", c[32] = "\xE2\x80\x93";
		if (isfinite(f->area))
			snprintf(a, sizeof(a), "%.0f", f->area);
		if (isfinite(f->sigma))
			snprintf(s, sizeof(s), "%.0f", f->sigma);
		if (isfinite(f->cps))
			snprintf(c, sizeof(c), "%.1f", f->cps);
		const char *row[] = {f->element, f->family, a, s, c, f->status};
		rp_doc_table_row(d, &t, row, 0, row_i++ % 2 == 1);
	}
	rp_doc_table_end(d);
}

static void plot(rp_doc *d, cert *c, const rp_result *r)
{
	int icp = r->m.kind && strcmp(r->m.kind, "icp") == 0;
	double h = 300;
	pl_fig f;
	if (icp) {
		rp_icp w;
		if (rp_icp_load(c->st, r, &w) != MG_OK) {
			mg_error_clear();
			return;
		}
		if (rp_doc_figure(d, h, &f) == MG_OK) {
			pl_fig_title(&f, NULL, "first reading; line profiles re-fitted for the figure");
			rp_fig_icp(&f, w.w, w.n);
			pl_fig_end(&f);
		}
		rp_icp_clear(&w);
	} else {
		rp_xrf x;
		if (rp_xrf_load(c->st, r, &x) != MG_OK) {
			char why[300];
			snprintf(why, sizeof(why), "Spectrum plot not available: %s", mg_error_detail());
			rp_doc_paragraph(d, why, 0, pl_grey);
			mg_error_clear();
			return;
		}
		if (rp_doc_figure(d, h, &f) == MG_OK) {
			pl_fig_title(&f, NULL,
			             x.fitted      ? "log scale; the fit re-computed from the stored result, residuals below"
			             : x.d.x_label ? "log scale; no energy calibration and no result yet"
			                           : "log scale; no fit available: element lines marked");
			rp_fig_xrf(&f, &x.d, 1);
			pl_fig_end(&f);
		}
		rp_xrf_clear(&x);
	}
	d->y += 6;
}

static void result_section(rp_doc *d, cert *c, const rp_result *r, size_t idx, size_t n)
{
	char h[200];
	int icp = r->m.kind && strcmp(r->m.kind, "icp") == 0;
	if (n > 1)
		snprintf(h, sizeof(h), "%zu. %s \xE2\x80\x94 measurement %lld, replicate %d", idx + 1,
		         icp ? "ICP-OES" : "XRF", r->m.id, r->m.replicate);
	else
		snprintf(h, sizeof(h), "%s \xE2\x80\x94 measurement %lld, replicate %d", icp ? "ICP-OES" : "XRF", r->m.id,
		         r->m.replicate);
	rp_doc_heading(d, h, 2);
	char inst[200], res[200], lt[64], cal[800], sha[40];
	snprintf(inst, sizeof(inst), "%s%s%s%s%s%s", r->m.instrument_model ? r->m.instrument_model : "unknown",
	         r->m.instrument_serial ? ", serial " : "", r->m.instrument_serial ? r->m.instrument_serial : "",
	         r->m.instrument_firmware ? ", firmware " : "", r->m.instrument_firmware ? r->m.instrument_firmware : "",
	         "");
	if (r->has_result)
		snprintf(res, sizeof(res), "version %d of %s, %s", r->r.version, r->r.created_at ? r->r.created_at : "?",
		         r->r.software_version ? r->r.software_version : "");
	else
		snprintf(res, sizeof(res), "no result yet");
	if (isfinite(r->m.live_time_s))
		snprintf(lt, sizeof(lt), "%.1f s", r->m.live_time_s);
	else
		snprintf(lt, sizeof(lt), "\xE2\x80\x93");
	size_t len = 0;
	cal[0] = '\0';
	for (size_t i = 0; i < r->ncal; i++) {
		int k = snprintf(cal + len, sizeof(cal) - len, "%s%s", len ? "; " : "", r->cal[i].text);
		if (k < 0 || (size_t)k >= sizeof(cal) - len)
			break;
		len += (size_t)k;
	}
	snprintf(sha, sizeof(sha), "%.16s\xE2\x80\xA6", r->m.sha256 ? r->m.sha256 : "?");
	const char *keys[] = {"Method", "Instrument", "Operator", "Measured", "Live time", "Status",
	                      "Result", "Calibrations", "UUID", "File SHA-256"};
	const char *vals[] = {r->method, inst,
	                      r->m.operator_name ? r->m.operator_name : c->b->operator_name,
	                      r->m.started_at ? r->m.started_at : r->m.created_at,
	                      lt, r->m.status, res, cal[0] ? cal : "none recorded", r->m.uuid, sha};
	rp_doc_kv(d, keys, vals, MG_ARRAY_SIZE(keys));
	if (r->ncomp > 0) {
		rp_doc_heading(d, "Composition", 3);
		composition(d, r);
		char line[400];
		if (r->grade) {
			snprintf(line, sizeof(line), "Grade: %s", r->grade);
			rp_doc_paragraph(d, line, 0, pl_okabe_ito[PL_BLACK]);
		}
		if (r->boron) {
			snprintf(line, sizeof(line), "Boron: %s", r->boron);
			rp_doc_paragraph(d, line, 0, pl_okabe_ito[PL_BLACK]);
		} else if (!icp) {
			rp_doc_paragraph(d, "Boron: not measured (invisible to XRF); not included in the total.", 0, pl_grey);
		}
	} else if (r->nfam > 0) {
		rp_doc_paragraph(d, "No composition: this result carries no quantification yet. The fitted peak areas:", 0,
		                 pl_grey);
		families(d, r);
	} else if (r->has_result) {
		rp_doc_paragraph(d, "The result carries neither a composition nor peak areas.", 0, pl_grey);
	}
	if (r->nflags > 0) {
		rp_doc_heading(d, "Flags and warnings", 3);
		rp_doc_bullets(d, r->flags, r->nflags, 12, pl_okabe_ito[PL_VERMILLION]);
	}
}

static int render(rp_doc *d, void *ud)
{
	cert *c = ud;
	const rp_sample *s = c->s;
	char h[200];
	rp_font(d->cr, 9, 1);
	pl_set(d->cr, pl_grey);
	rp_text(d->cr, d->ml, d->y, c->o && c->o->laboratory ? c->o->laboratory : "magassay laboratory", 0, 0);
	d->y += 16;
	snprintf(h, sizeof(h), "Certificate of analysis \xE2\x80\x94 sample %s", s->s.id);
	rp_doc_heading(d, h, 1);
	const char *keys[] = {"Sample", "Lot", "Description", "Registered", "Lot operator", "Issued"};
	const char *vals[] = {s->s.id, s->s.batch_id, s->s.description, s->s.created_at, c->b->operator_name,
	                      c->generated};
	rp_doc_kv(d, keys, vals, MG_ARRAY_SIZE(keys));
	qc_section(d, c->qc, s->s.batch_id);
	if (s->nres == 0)
		rp_doc_paragraph(d, "No measurement of this sample is registered.", 0, pl_grey);
	for (size_t i = 0; i < s->nres; i++)
		result_section(d, c, &s->res[i], i, s->nres);
	/* the figures after the numbers */
	for (size_t i = 0; i < s->nres; i++) {
		const rp_result *r = &s->res[i];
		if (!r->has_result && strcmp(r->m.kind ? r->m.kind : "", "xrf") != 0)
			continue;
		char fh[200];
		int icp = r->m.kind && strcmp(r->m.kind, "icp") == 0;
		snprintf(fh, sizeof(fh), "Figure %zu \xE2\x80\x94 %s of measurement %lld", i + 1,
		         icp ? "ICP-OES line windows" : "XRF spectrum", r->m.id);
		rp_doc_need(d, 330);
		rp_doc_heading(d, fh, 2);
		plot(d, c, r);
	}
	rp_doc_space(d, 6);
	rp_doc_paragraph(d,
	                 "u: standard uncertainty (k = 1); U: expanded uncertainty (k = 2, about 95 % coverage). "
	                 "LOD: limit of detection; a value below it is reported as \"< LOD\". TREE: total rare-earth "
	                 "elements. Results relate only to the items tested; every number is traceable to the "
	                 "stored measurement (UUID, SHA-256), its result version and the calibration versions "
	                 "listed.",
	                 7.5, pl_grey);
	return MG_OK;
}

int mg_report_sample_pdf(mg_store *st, const char *sample_id, const mg_report_opts *o, const char *path)
{
	if (!st || !path)
		return mg_fail(MG_ERR_ARG, RP_DOM, "mg_report_sample_pdf: bad arguments");
	rp_sample s;
	int e = rp_sample_load(st, sample_id, &s);
	if (e != MG_OK)
		return e;
	mg_batch b;
	mg_qc_status *qc = NULL;
	if ((e = mg_store_batch_get(st, s.s.batch_id, &b)) != MG_OK) {
		rp_sample_clear(&s);
		return e;
	}
	e = mg_qc_status_get(st, s.s.batch_id, o ? o->qc : NULL, &qc);
	if (e == MG_OK) {
		char now[40], title[160], hl[200], fl[200], kw[200];
		rp_now(now, sizeof(now));
		cert c = {st, &s, &b, qc, o, o && o->generated_at ? o->generated_at : now};
		snprintf(title, sizeof(title), "Certificate of analysis: sample %s", s.s.id);
		snprintf(hl, sizeof(hl), "%s \xC2\xB7 certificate of analysis",
		         o && o->laboratory ? o->laboratory : "magassay laboratory");
		snprintf(fl, sizeof(fl), "Sample %s \xC2\xB7 lot %s \xC2\xB7 issued %s by magassay %s", s.s.id, s.s.batch_id,
		         c.generated, MAGASSAY_VERSION_STRING);
		snprintf(kw, sizeof(kw), "sample %s, batch %s", s.s.id, s.s.batch_id);
		char hr[100];
		snprintf(hr, sizeof(hr), "Sample %s", s.s.id);
		e = rp_doc_render(path, title, "Certificate of analysis", kw, hl, hr, fl, render, &c);
	}
	mg_qc_status_free(qc);
	mg_batch_clear(&b);
	rp_sample_clear(&s);
	return e;
}
