/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The latest result of a measurement as the reports see it: composition
 * (XRF quantification or ICP values), fitted families, totals, grade, boron,
 * flags and warnings, the calibrations used and the method. Payloads are read
 * tolerantly: the keys named by the XRF analysis (issue 5: calibration,
 * families, warnings), the quantification (issue 6: composition [{element,
 * wt_pct, sigma, lod_wt_pct, flags}], kratios, calibration_id) and the ICP
 * analysis (issue 7), each optional; a missing key is an empty section, never
 * an error. docs/reports.md lists what is read. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "report_internal.h"

static const char *const K_WT[] = {"wt_pct", "w_pct", "wt_percent", "mass_pct", "mass_fraction_pct",
                                   "value_wt_pct", "solid_wt_pct", NULL};
static const char *const K_SIGMA[] = {"sigma", "sigma_wt_pct", "u_w_pct", "u", "u_wt_pct", "uncertainty",
                                      "uncertainty_wt_pct", NULL};
static const char *const K_LOD[] = {"lod_wt_pct", "lod", "lod_pct", NULL};

/* ---- results ------------------------------------------------------------------------ */

void rp_result_clear(rp_result *r)
{
	if (!r)
		return;
	mg_measurement_clear(&r->m);
	mg_result_clear(&r->r);
	json_decref(r->payload);
	free(r->method);
	for (size_t i = 0; i < r->ncomp; i++) {
		free(r->comp[i].element);
		free(r->comp[i].flags);
	}
	free(r->comp);
	for (size_t i = 0; i < r->nfam; i++) {
		free(r->fam[i].element);
		free(r->fam[i].family);
		free(r->fam[i].status);
	}
	free(r->fam);
	for (size_t i = 0; i < r->ncal; i++)
		free(r->cal[i].text);
	free(r->cal);
	for (size_t i = 0; i < r->nflags; i++)
		free(r->flags[i]);
	free(r->flags);
	free(r->grade);
	free(r->boron);
	memset(r, 0, sizeof(*r));
}

static int measurement_copy(mg_measurement *d, const mg_measurement *s)
{
	memset(d, 0, sizeof(*d));
	*d = *s;
#define DUP(f) d->f = rp_strdup(s->f)
	DUP(uuid);
	DUP(sample_id);
	DUP(batch_id);
	DUP(kind);
	DUP(file);
	DUP(sha256);
	DUP(instrument_model);
	DUP(instrument_serial);
	DUP(instrument_firmware);
	DUP(settings_json);
	DUP(started_at);
	DUP(ended_at);
	DUP(operator_name);
	DUP(status);
	DUP(notes);
	DUP(created_at);
#undef DUP
	return MG_OK;
}

void rp_cal_text(mg_store *st, long long id, char *buf, size_t cap)
{
	mg_calibration c;
	if (id > 0 && mg_store_calibration_get(st, id, &c) == MG_OK) {
		snprintf(buf, cap, "%s/%s v%d (#%lld)", c.kind, c.name, c.version, id);
		mg_calibration_clear(&c);
	} else if (id > 0) {
		snprintf(buf, cap, "calibration #%lld", id);
	} else {
		snprintf(buf, cap, "-");
	}
}

static int add_cal(rp_result *r, long long id, const char *text)
{
	for (size_t i = 0; i < r->ncal; i++)
		if ((id > 0 && r->cal[i].id == id) || (id == 0 && strcmp(r->cal[i].text, text) == 0))
			return MG_OK;
	rp_calref *n = realloc(r->cal, (r->ncal + 1) * sizeof(*n));
	if (!n)
		return MG_ERR_NOMEM;
	r->cal = n;
	r->cal[r->ncal].id = id;
	r->cal[r->ncal].text = strdup(text);
	if (!r->cal[r->ncal].text)
		return MG_ERR_NOMEM;
	r->ncal++;
	return MG_OK;
}

static int add_flag(rp_result *r, const char *s)
{
	if (!s || !*s)
		return MG_OK;
	char **n = realloc(r->flags, (r->nflags + 1) * sizeof(*n));
	if (!n)
		return MG_ERR_NOMEM;
	r->flags = n;
	if (!(r->flags[r->nflags] = strdup(s)))
		return MG_ERR_NOMEM;
	r->nflags++;
	return MG_OK;
}

static int is_ree(const char *e)
{
	static const char *const ree[] = {"La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb",
	                                  "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Y",  NULL};
	for (size_t i = 0; ree[i]; i++)
		if (strcmp(e, ree[i]) == 0)
			return 1;
	return 0;
}

const rp_comp *rp_result_comp(const rp_result *r, const char *element)
{
	for (size_t i = 0; i < r->ncomp; i++)
		if (strcmp(r->comp[i].element, element) == 0)
			return &r->comp[i];
	return NULL;
}

static int comp_add(rp_result *r, const char *el, const json_t *o)
{
	if (!el || !*el || strlen(el) > 7 || rp_result_comp(r, el))
		return MG_OK; /* first entry of an element wins (ICP: several lines) */
	double wt = json_is_number(o) ? json_number_value(o) : rp_jnum(o, K_WT);
	if (!isfinite(wt))
		return MG_OK;
	rp_comp *n = realloc(r->comp, (r->ncomp + 1) * sizeof(*n));
	if (!n)
		return MG_ERR_NOMEM;
	r->comp = n;
	rp_comp *c = &r->comp[r->ncomp++];
	memset(c, 0, sizeof(*c));
	c->element = strdup(el);
	c->wt = wt;
	c->sigma = rp_jnum(o, K_SIGMA);
	c->lod = rp_jnum(o, K_LOD);
	if (!isfinite(c->lod)) {
		/* ICP: the LOD in solution, scaled like the value (solid wt% per mg/L) */
		double lod = rp_jnum(o, (const char *const[]){"lod_mg_l", NULL});
		double conc = rp_jnum(o, (const char *const[]){"conc_mg_l", NULL});
		if (isfinite(lod) && isfinite(conc) && conc > 0)
			c->lod = lod * wt / conc;
	}
	c->flags = json_is_object(o) ? rp_jflags(json_object_get(o, "flags")) : NULL;
	return c->element ? MG_OK : MG_ERR_NOMEM;
}

static void read_composition(rp_result *r, const json_t *p)
{
	/* XRF quantification: composition; ICP: values (the line reported for
	 * each element: role "report"); others tolerated */
	static const char *const keys[] = {"composition", "values", "mass_fractions", "solid", "elements",
	                                   "concentrations", NULL};
	for (size_t k = 0; keys[k] && r->ncomp == 0; k++) {
		json_t *c = json_object_get(p, keys[k]);
		if (json_is_array(c)) {
			size_t i;
			json_t *x;
			json_array_foreach(c, i, x)
			{
				const char *role = rp_jstr(x, (const char *const[]){"role", NULL});
				if (role && strcmp(role, "report") != 0)
					continue; /* alternative lines, the internal standard */
				comp_add(r, rp_jstr(x, rp_keys_element), x);
			}
		} else if (json_is_object(c)) {
			const char *el;
			json_t *x;
			json_object_foreach(c, el, x) comp_add(r, el, x);
		}
	}
}

static void read_families(rp_result *r, const json_t *p)
{
	json_t *f = json_object_get(p, "families");
	if (!json_is_array(f) || json_array_size(f) == 0)
		return;
	r->fam = calloc(json_array_size(f), sizeof(*r->fam));
	if (!r->fam)
		return;
	size_t i;
	json_t *x;
	json_array_foreach(f, i, x)
	{
		const char *el = rp_jstr(x, rp_keys_element), *fa = rp_jstr(x, (const char *const[]){"family", "line", NULL});
		rp_family *y = &r->fam[r->nfam++];
		y->element = rp_strdup(el ? el : "");
		y->family = rp_strdup(fa ? fa : "");
		y->status = rp_strdup(rp_jstr(x, (const char *const[]){"status", NULL}));
		y->area = rp_jnum(x, (const char *const[]){"area", NULL});
		y->sigma = rp_jnum(x, (const char *const[]){"sigma", NULL});
		y->cps = rp_jnum(x, (const char *const[]){"cps", NULL});
		y->energy_kev = rp_jnum(x, (const char *const[]){"energy_kev", "energy", NULL});
	}
}

static char *method_text(const rp_result *r, const json_t *p)
{
	int icp = r->m.kind && strcmp(r->m.kind, "icp") == 0;
	const char *m = rp_jstr(p, (const char *const[]){"method", "quant_method", NULL});
	const char *how = NULL;
	if (m) {
		if (strcmp(m, "fp") == 0 || strcmp(m, "fundamental_parameters") == 0)
			how = "fundamental parameters";
		else if (strcmp(m, "standards") == 0 || strcmp(m, "standards_based") == 0)
			how = "standards-based";
		else if (strcmp(m, "empirical") == 0)
			how = "empirical calibration";
		else if (strcmp(m, "kratio") == 0)
			how = "standards-based (k-ratios)";
		else
			how = m;
	} else if (!icp && r->ncomp == 0 && r->nfam > 0) {
		how = "peak areas only (not quantified)";
	}
	char buf[160];
	snprintf(buf, sizeof(buf), "%s%s%s", icp ? "ICP-OES" : "ED-XRF", how ? ", " : "", how ? how : "");
	return strdup(buf);
}

/* A total given as a number or as {wt_pct, sigma}. */
static double total_of(const json_t *t, const char *const *keys)
{
	double v = rp_jnum(t, keys);
	if (isfinite(v) || !json_is_object(t))
		return v;
	for (size_t i = 0; keys[i]; i++) {
		json_t *o = json_object_get(t, keys[i]);
		if (json_is_object(o))
			return rp_jnum(o, K_WT);
	}
	return NAN;
}

static void read_totals(rp_result *r, const json_t *p)
{
	json_t *t = json_object_get(p, "totals");
	r->tree = total_of(t, (const char *const[]){"tree", "TREE", "ree", NULL});
	r->ndpr = total_of(t, (const char *const[]){"nd_pr", "ndpr", "NdPr", "Nd+Pr", NULL});
	r->dytb = total_of(t, (const char *const[]){"dy_tb", "dytb", "DyTb", "Dy+Tb", NULL});
	r->total = total_of(t, (const char *const[]){"total", "sum", NULL});
	if (!isfinite(r->total))
		r->total = rp_jnum(p, (const char *const[]){"total_pct", NULL}); /* ICP */
	if (r->ncomp == 0)
		return;
	double tree = 0, tot = 0, ndpr = 0, dytb = 0;
	int has_ree = 0, has_ndpr = 0, has_dytb = 0;
	for (size_t i = 0; i < r->ncomp; i++) {
		const rp_comp *c = &r->comp[i];
		tot += c->wt;
		if (is_ree(c->element)) {
			tree += c->wt;
			has_ree = 1;
		}
		if (!strcmp(c->element, "Nd") || !strcmp(c->element, "Pr")) {
			ndpr += c->wt;
			has_ndpr = 1;
		}
		if (!strcmp(c->element, "Dy") || !strcmp(c->element, "Tb")) {
			dytb += c->wt;
			has_dytb = 1;
		}
	}
	if (!isfinite(r->total))
		r->total = tot;
	if (!isfinite(r->tree) && has_ree)
		r->tree = tree;
	if (!isfinite(r->ndpr) && has_ndpr)
		r->ndpr = ndpr;
	if (!isfinite(r->dytb) && has_dytb)
		r->dytb = dytb;
}

static void read_misc(mg_store *st, rp_result *r, const json_t *p)
{
	/* magassay analyze puts the quantification's own fields (grade, boron, totals)
	 * under "quant"; read them there when they are not at the top level. */
	json_t *quant = json_object_get(p, "quant");
	json_t *g = json_object_get(p, "grade");
	if (!g && json_is_object(quant))
		g = json_object_get(quant, "grade");
	const char *gd = rp_jstr(p, (const char *const[]){"grade_description", NULL});
	if (json_is_string(g) && json_string_length(g) > 0 && gd) {
		char gb[200];
		snprintf(gb, sizeof(gb), "%s (%s)", json_string_value(g), gd);
		r->grade = strdup(gb);
	} else if (json_is_string(g) && json_string_length(g) > 0)
		r->grade = strdup(json_string_value(g));
	else if (json_is_object(g) && rp_jstr(g, (const char *const[]){"name", "grade", NULL}))
		r->grade = strdup(rp_jstr(g, (const char *const[]){"name", "grade", NULL}));
	json_t *b = json_object_get(p, "boron");
	if (!b && json_is_object(quant))
		b = json_object_get(quant, "boron");
	if (json_is_string(b)) {
		r->boron = strdup(json_string_value(b));
	} else if (json_is_object(b)) {
		char buf[200];
		const char *how = rp_jstr(b, (const char *const[]){"method", "how", "source", "handling", NULL});
		double wt = rp_jnum(b, K_WT);
		const char *note = rp_jstr(b, (const char *const[]){"note", "text", NULL});
		if (isfinite(wt))
			snprintf(buf, sizeof(buf), "%s%s%.2f wt%%%s%s", how ? how : "", how ? " " : "", wt, note ? "; " : "",
			         note ? note : "");
		else
			snprintf(buf, sizeof(buf), "%s%s%s", how ? how : "", how && note ? "; " : "", note ? note : "");
		if (buf[0])
			r->boron = strdup(buf);
	}
	/* result-level flags and warnings */
	char *f = rp_jflags(json_object_get(p, "flags"));
	if (f) {
		add_flag(r, f);
		free(f);
	}
	static const char *const lists[] = {"warnings", "notes", NULL};
	for (size_t k = 0; lists[k]; k++) {
		json_t *w = json_object_get(p, lists[k]);
		if (!json_is_array(w))
			continue;
		size_t i;
		json_t *x;
		json_array_foreach(w, i, x)
		{
			const char *s = json_is_string(x) ? json_string_value(x)
			                                  : rp_jstr(x, (const char *const[]){"text", "message", NULL});
			add_flag(r, s);
		}
	}
	/* calibrations: the result's own, the payload's id, a list, and the fitted energy calibration */
	char buf[200];
	if (r->r.calibration_id > 0) {
		rp_cal_text(st, r->r.calibration_id, buf, sizeof(buf));
		add_cal(r, r->r.calibration_id, buf);
	}
	json_t *cid = json_object_get(p, "calibration_id");
	if (json_is_integer(cid) && json_integer_value(cid) > 0) {
		rp_cal_text(st, json_integer_value(cid), buf, sizeof(buf));
		add_cal(r, json_integer_value(cid), buf);
	}
	json_t *cl = json_object_get(p, "calibrations");
	if (json_is_array(cl)) {
		size_t i;
		json_t *x;
		json_array_foreach(cl, i, x)
		{
			json_t *id = json_is_integer(x) ? x : json_object_get(x, "id");
			if (json_is_integer(id) && json_integer_value(id) > 0) {
				rp_cal_text(st, json_integer_value(id), buf, sizeof(buf));
				add_cal(r, json_integer_value(id), buf);
			} else if (json_is_object(x)) {
				const char *k = rp_jstr(x, (const char *const[]){"kind", NULL});
				const char *n = rp_jstr(x, (const char *const[]){"name", NULL});
				json_t *v = json_object_get(x, "version");
				snprintf(buf, sizeof(buf), "%s/%s v%lld", k ? k : "?", n ? n : "?",
				         json_is_integer(v) ? (long long)json_integer_value(v) : 0LL);
				add_cal(r, 0, buf);
			}
		}
	}
	json_t *ec = json_object_get(p, "calibration");
	json_t *ecid = json_object_get(ec, "id"); /* ICP: {id, version, name} */
	if (json_is_integer(ecid) && json_integer_value(ecid) > 0) {
		rp_cal_text(st, json_integer_value(ecid), buf, sizeof(buf));
		add_cal(r, json_integer_value(ecid), buf);
	} else if (json_is_string(ec) && json_string_length(ec) > 0) { /* quantification: "name v3" */
		snprintf(buf, sizeof(buf), "quantification %s", json_string_value(ec));
		if (r->ncal == 0)
			add_cal(r, 0, buf);
	}
	if (json_is_object(ec)) {
		double off = rp_jnum(ec, (const char *const[]){"offset_kev", NULL});
		double gain = rp_jnum(ec, (const char *const[]){"gain_kev", NULL});
		double noise = rp_jnum(ec, (const char *const[]){"noise_kev", NULL});
		double fano = rp_jnum(ec, (const char *const[]){"fano", NULL});
		if (isfinite(off) && isfinite(gain)) {
			snprintf(buf, sizeof(buf), "energy (fitted): offset %.4f keV, gain %.3f eV/channel", off, gain * 1000);
			add_cal(r, 0, buf);
		}
		if (isfinite(noise) && isfinite(fano)) {
			double e = 5.895;
			double fw = sqrt(noise * noise + 2.3548 * 2.3548 * fano * 0.00385 * e) * 1000;
			snprintf(buf, sizeof(buf), "resolution (fitted): %.0f eV FWHM at Mn K\xCE\xB1", fw);
			add_cal(r, 0, buf);
		}
	}
}

int rp_result_load(mg_store *st, const mg_measurement *m, rp_result *out)
{
	memset(out, 0, sizeof(*out));
	out->total = out->tree = out->ndpr = out->dytb = NAN;
	measurement_copy(&out->m, m);
	int e = mg_store_result_get(st, m->id, 0, &out->r);
	if (e == MG_ERR_NOT_FOUND) {
		mg_error_clear();
		out->method = method_text(out, NULL);
		return MG_OK;
	}
	if (e != MG_OK) {
		rp_result_clear(out);
		return e;
	}
	out->has_result = 1;
	json_error_t jerr;
	out->payload = json_loads(out->r.payload_json ? out->r.payload_json : "null", JSON_DECODE_ANY, &jerr);
	if (!json_is_object(out->payload)) {
		mg_warn(RP_DOM, "measurement %lld: result v%d payload is not a JSON object; shown without data", m->id,
		        out->r.version);
		json_decref(out->payload);
		out->payload = NULL;
	}
	const json_t *p = out->payload;
	if (p) {
		read_composition(out, p);
		read_families(out, p);
		read_totals(out, p);
	}
	read_misc(st, out, p);
	out->method = method_text(out, p);
	return MG_OK;
}

