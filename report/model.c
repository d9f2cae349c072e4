/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The report model: a sample or a batch read from the store with the latest
 * result of every measurement parsed. Result payloads are read tolerantly:
 * the keys named by the XRF analysis (issue 5: calibration, families,
 * warnings), the quantification (issue 6: composition [{element, wt_pct,
 * sigma, lod_wt_pct, flags}], kratios, calibration_id) and the ICP analysis
 * (issue 7), each optional; a missing key is an empty section, never an
 * error. docs/reports.md lists what is read. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "magassay/fileio.h"
#include "magassay/icp_analysis.h"
#include "report_internal.h"

/* ---- tolerant JSON readers ----------------------------------------------------------- */

double rp_jnum(const json_t *o, const char *const *keys)
{
	if (!json_is_object(o))
		return NAN;
	for (size_t i = 0; keys[i]; i++) {
		json_t *v = json_object_get(o, keys[i]);
		if (json_is_number(v))
			return json_number_value(v);
		if (json_is_string(v)) { /* "23.1" from a vendor export */
			char *end;
			double d = strtod(json_string_value(v), &end);
			if (end != json_string_value(v) && *end == '\0' && isfinite(d))
				return d;
		}
	}
	return NAN;
}

const char *rp_jstr(const json_t *o, const char *const *keys)
{
	if (!json_is_object(o))
		return NULL;
	for (size_t i = 0; keys[i]; i++) {
		json_t *v = json_object_get(o, keys[i]);
		if (json_is_string(v) && json_string_length(v) > 0)
			return json_string_value(v);
	}
	return NULL;
}

static int buf_add(char **b, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);
	if (*len + n + 3 > *cap) {
		size_t nc = (*len + n + 3) * 2;
		char *p = realloc(*b, nc);
		if (!p)
			return -1;
		*b = p;
		*cap = nc;
	}
	if (*len) {
		memcpy(*b + *len, ", ", 2);
		*len += 2;
	}
	memcpy(*b + *len, s, n + 1);
	*len += n;
	return 0;
}

char *rp_jflags(const json_t *v)
{
	char *b = NULL;
	size_t len = 0, cap = 0;
	if (json_is_string(v) && json_string_length(v) > 0)
		return strdup(json_string_value(v));
	if (json_is_array(v)) {
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
		{
			const char *s = json_is_string(x) ? json_string_value(x) : NULL;
			if (!s && json_is_object(x))
				s = rp_jstr(x, (const char *const[]){"flag", "name", "text", "message", NULL});
			if (s && *s && buf_add(&b, &len, &cap, s) != 0)
				break;
		}
	}
	if (json_is_object(v)) { /* {"below_lod": true, ...} */
		const char *k;
		json_t *x;
		json_object_foreach((json_t *)v, k, x)
		{
			if (json_is_true(x) && buf_add(&b, &len, &cap, k) != 0)
				break;
		}
	}
	return b;
}

static const char *const K_ELEMENT[] = {"element", "el", "symbol", "analyte", NULL};
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
				comp_add(r, rp_jstr(x, K_ELEMENT), x);
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
		const char *el = rp_jstr(x, K_ELEMENT), *fa = rp_jstr(x, (const char *const[]){"family", "line", NULL});
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

/* ---- samples and batches ---------------------------------------------------------- */

typedef struct ids {
	long long *v;
	size_t n, cap;
} ids;

static int on_meas_id(const mg_measurement *m, void *ud)
{
	ids *x = ud;
	if (rp_grow((void **)&x->v, &x->cap, x->n, sizeof(*x->v)) != MG_OK)
		return MG_ERR_NOMEM;
	x->v[x->n++] = m->id;
	return 0;
}

static int res_cmp(const void *a, const void *b)
{
	const rp_result *x = a, *y = b;
	int xi = x->m.kind && strcmp(x->m.kind, "icp") == 0, yi = y->m.kind && strcmp(y->m.kind, "icp") == 0;
	if (xi != yi)
		return yi - xi; /* ICP first: the certified number */
	return (x->m.id > y->m.id) - (x->m.id < y->m.id);
}

void rp_sample_clear(rp_sample *s)
{
	if (!s)
		return;
	mg_sample_clear(&s->s);
	for (size_t i = 0; i < s->nres; i++)
		rp_result_clear(&s->res[i]);
	free(s->res);
	memset(s, 0, sizeof(*s));
}

int rp_sample_load(mg_store *st, const char *sample_id, rp_sample *out)
{
	memset(out, 0, sizeof(*out));
	int e = mg_store_sample_get(st, sample_id, &out->s);
	if (e != MG_OK)
		return e;
	ids x = {0};
	e = mg_store_measurements_list(st, NULL, sample_id, on_meas_id, &x);
	if (e < 0) {
		free(x.v);
		rp_sample_clear(out);
		return e;
	}
	out->res = x.n ? calloc(x.n, sizeof(*out->res)) : NULL;
	if (x.n && !out->res) {
		free(x.v);
		rp_sample_clear(out);
		return mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
	}
	for (size_t i = 0; i < x.n; i++) {
		mg_measurement m;
		if ((e = mg_store_measurement_get(st, x.v[i], &m)) != MG_OK)
			break;
		e = rp_result_load(st, &m, &out->res[out->nres]);
		mg_measurement_clear(&m);
		if (e != MG_OK)
			break;
		out->nres++;
	}
	free(x.v);
	if (e < 0) {
		rp_sample_clear(out);
		return e;
	}
	qsort(out->res, out->nres, sizeof(*out->res), res_cmp);
	return MG_OK;
}

typedef struct sids {
	char **v;
	size_t n, cap;
} sids;

static int on_sample_id(const mg_sample *s, void *ud)
{
	sids *x = ud;
	if (rp_grow((void **)&x->v, &x->cap, x->n, sizeof(*x->v)) != MG_OK)
		return MG_ERR_NOMEM;
	if (!(x->v[x->n] = strdup(s->id)))
		return MG_ERR_NOMEM;
	x->n++;
	return 0;
}

static void sids_free(sids *x)
{
	for (size_t i = 0; i < x->n; i++)
		free(x->v[i]);
	free(x->v);
}

void rp_batch_clear(rp_batch *b)
{
	if (!b)
		return;
	mg_batch_clear(&b->b);
	for (size_t i = 0; i < b->nsamples; i++)
		rp_sample_clear(&b->samples[i]);
	free(b->samples);
	mg_qc_status_free(b->qc);
	memset(b, 0, sizeof(*b));
}

int rp_batch_load(mg_store *st, const char *batch_id, const mg_qc_options *qo, rp_batch *out)
{
	memset(out, 0, sizeof(*out));
	int e = mg_store_batch_get(st, batch_id, &out->b);
	if (e != MG_OK)
		return e;
	sids x = {0};
	e = mg_store_samples_list(st, batch_id, on_sample_id, &x);
	if (e >= 0 && x.n) {
		out->samples = calloc(x.n, sizeof(*out->samples));
		if (!out->samples)
			e = mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
	}
	for (size_t i = 0; e >= 0 && i < x.n; i++) {
		if ((e = rp_sample_load(st, x.v[i], &out->samples[out->nsamples])) == MG_OK)
			out->nsamples++;
	}
	sids_free(&x);
	if (e >= 0)
		e = mg_qc_status_get(st, batch_id, qo, &out->qc);
	if (e < 0) {
		rp_batch_clear(out);
		return e;
	}
	return MG_OK;
}

/* ---- XRF / ICP pairs for the bias --------------------------------------------------- */

void rp_pairs_free(rp_pair *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i].sample);
	free(p);
}

int rp_batch_pairs(mg_store *st, const char *batch_id, rp_pair **out, size_t *nout)
{
	*out = NULL;
	*nout = 0;
	sids x = {0};
	int e = mg_store_samples_list(st, batch_id, on_sample_id, &x);
	rp_pair *p = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; e >= 0 && i < x.n; i++) {
		rp_sample s;
		if ((e = rp_sample_load(st, x.v[i], &s)) != MG_OK)
			break;
		/* elements with both methods: the mean over each method's measurements */
		for (size_t a = 0; a < s.nres; a++) {
			for (size_t c = 0; c < s.res[a].ncomp; c++) {
				const char *el = s.res[a].comp[c].element;
				int done = 0;
				for (size_t k = 0; k < n; k++)
					if (strcmp(p[k].sample, s.s.id) == 0 && strcmp(p[k].element, el) == 0)
						done = 1;
				if (done)
					continue;
				double sx = 0, si = 0, lod = NAN;
				int nx = 0, ni = 0;
				for (size_t b = 0; b < s.nres; b++) {
					const rp_comp *v = rp_result_comp(&s.res[b], el);
					if (!v || !isfinite(v->wt))
						continue;
					if (s.res[b].m.kind && strcmp(s.res[b].m.kind, "icp") == 0) {
						si += v->wt;
						ni++;
						if (isfinite(v->lod))
							lod = v->lod;
					} else {
						sx += v->wt;
						nx++;
					}
				}
				if (!nx || !ni)
					continue;
				if (rp_grow((void **)&p, &cap, n, sizeof(*p)) != MG_OK) {
					e = MG_ERR_NOMEM;
					break;
				}
				p[n].sample = strdup(s.s.id);
				snprintf(p[n].element, sizeof(p[n].element), "%s", el);
				p[n].xrf = sx / nx;
				p[n].icp = si / ni;
				p[n].icp_lod = lod;
				n++;
			}
		}
		rp_sample_clear(&s);
	}
	sids_free(&x);
	if (e < 0) {
		rp_pairs_free(p, n);
		return e;
	}
	*out = p;
	*nout = n;
	return MG_OK;
}

/* ---- batch chart points ------------------------------------------------------------- */

int rp_batch_points(const rp_batch *b, rp_batch_point **out, size_t *nout)
{
	size_t n = 0, cap = 0;
	rp_batch_point *p = NULL;
	for (size_t i = 0; i < b->nsamples; i++)
		for (size_t r = 0; r < b->samples[i].nres; r++) {
			const rp_result *res = &b->samples[i].res[r];
			for (size_t c = 0; c < res->ncomp; c++) {
				if (rp_grow((void **)&p, &cap, n, sizeof(*p)) != MG_OK) {
					free(p);
					return MG_ERR_NOMEM;
				}
				p[n++] = (rp_batch_point){b->samples[i].s.id, res->comp[c].element,
				                          res->m.kind && strcmp(res->m.kind, "icp") == 0, res->comp[c].wt,
				                          res->comp[c].sigma};
			}
		}
	*out = p;
	*nout = n;
	return MG_OK;
}

/* ---- arrays from JSON ----------------------------------------------------------------- */

/* A numeric array (first replicate when it is an array of arrays), or NULL. */
static double *jarray(const json_t *o, const char *const *keys, size_t *n)
{
	for (size_t k = 0; keys[k]; k++) {
		json_t *a = json_object_get(o, keys[k]);
		if (json_is_array(a) && json_array_size(a) > 0 && json_is_array(json_array_get(a, 0)))
			a = json_array_get(a, 0);
		if (!json_is_array(a) || json_array_size(a) == 0)
			continue;
		size_t m = json_array_size(a);
		double *v = malloc(m * sizeof(double));
		if (!v)
			return NULL;
		for (size_t i = 0; i < m; i++) {
			json_t *x = json_array_get(a, i);
			v[i] = json_is_number(x) ? json_number_value(x) : NAN;
		}
		*n = m;
		return v;
	}
	return NULL;
}

static int keep(double ***arr, size_t *n, double *v)
{
	double **p = realloc(*arr, (*n + 1) * sizeof(*p));
	if (!p) {
		free(v);
		return MG_ERR_NOMEM;
	}
	*arr = p;
	p[(*n)++] = v;
	return MG_OK;
}

static const char *keep_label(char ***arr, size_t *n, const char *s)
{
	char **p = realloc(*arr, (*n + 1) * sizeof(*p));
	if (!p)
		return NULL;
	*arr = p;
	p[*n] = strdup(s ? s : "");
	return p[*n] ? p[(*n)++] : NULL;
}

void rp_icp_clear(rp_icp *x)
{
	for (size_t i = 0; i < x->narrays; i++)
		free(x->arrays[i]);
	free(x->arrays);
	for (size_t i = 0; i < x->nlabels; i++)
		free(x->labels[i]);
	free(x->labels);
	free(x->w);
	memset(x, 0, sizeof(*x));
}

int rp_icp_from_payload(const json_t *payload, rp_icp *out)
{
	memset(out, 0, sizeof(*out));
	json_t *lines = json_object_get(payload, "lines");
	if (!json_is_array(lines))
		lines = json_object_get(payload, "windows");
	if (!json_is_array(lines))
		return mg_fail(MG_ERR_NOT_FOUND, RP_DOM, "the ICP result carries no line windows (\"lines\")");
	out->w = calloc(json_array_size(lines) + 1, sizeof(*out->w));
	if (!out->w)
		return mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
	static const char *const KX[] = {"wavelength_nm", "wavelengths_nm", "wavelengths", "x", NULL};
	static const char *const KY[] = {"intensity", "intensities", "counts", "y", NULL};
	static const char *const KF[] = {"fit", "model", "profile", NULL};
	static const char *const KB[] = {"background", "bg", NULL};
	size_t i;
	json_t *l;
	json_array_foreach(lines, i, l)
	{
		if (!json_is_object(l))
			continue;
		json_t *win = json_object_get(l, "window");
		if (!json_is_object(win))
			win = l;
		size_t nx = 0, ny = 0, nf = 0, nb = 0;
		double *xv = jarray(win, KX, &nx), *yv = jarray(win, KY, &ny);
		if (!xv || !yv || nx != ny || nx < 2) {
			free(xv);
			free(yv);
			continue;
		}
		double *fv = jarray(win, KF, &nf), *bv = jarray(win, KB, &nb);
		if (fv && nf != nx) {
			free(fv);
			fv = NULL;
		}
		if (bv && nb != nx) {
			free(bv);
			bv = NULL;
		}
		mg_plot_icp_window *w = &out->w[out->n];
		if (keep(&out->arrays, &out->narrays, xv) || keep(&out->arrays, &out->narrays, yv) ||
		    (fv && keep(&out->arrays, &out->narrays, fv)) || (bv && keep(&out->arrays, &out->narrays, bv))) {
			rp_icp_clear(out);
			return mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
		}
		const char *lab = rp_jstr(l, (const char *const[]){"label", "line", "name", NULL});
		char b[64];
		double lnm = rp_jnum(l, (const char *const[]){"wavelength_nm", "line_nm", NULL});
		if (!lab) {
			const char *el = rp_jstr(l, K_ELEMENT);
			snprintf(b, sizeof(b), "%s %.3f", el ? el : "?", lnm);
			lab = b;
		}
		w->label = keep_label(&out->labels, &out->nlabels, lab);
		w->line_nm = lnm;
		w->n = nx;
		w->wavelength_nm = xv;
		w->intensity = yv;
		w->fit = fv;
		w->background = bv;
		out->n++;
	}
	if (out->n == 0) {
		rp_icp_clear(out);
		return mg_fail(MG_ERR_NOT_FOUND, RP_DOM, "the ICP result's lines carry no spectral windows");
	}
	return MG_OK;
}

/* ---- calibration curves from a calibration payload --------------------------------------- */

void rp_cal_clear(rp_cal *x)
{
	for (size_t i = 0; i < x->narrays; i++)
		free(x->arrays[i]);
	free(x->arrays);
	for (size_t i = 0; i < x->nlabels; i++)
		free(x->labels[i]);
	free(x->labels);
	free(x->c);
	memset(x, 0, sizeof(*x));
}

static int curve_from(const json_t *o, const json_t *top, rp_cal *out)
{
	static const char *const KX[] = {"concentration", "conc", "x", "reference", "reference_wt_pct", "certified",
	                                 "true", "nominal", "wt_pct", "concentration_mg_l", NULL};
	static const char *const KY[] = {"signal", "intensity", "y", "response", "ratio", "net_intensity",
	                                 "measured", "kratio", "k", "counts", "cps", NULL};
	size_t n = 0;
	double *xv = NULL, *yv = NULL;
	json_t *pts = json_object_get(o, "points");
	if (!json_is_array(pts))
		pts = json_object_get(o, "standards");
	if (json_is_array(pts) && json_array_size(pts) > 0 && json_is_object(json_array_get(pts, 0))) {
		size_t m = json_array_size(pts);
		xv = malloc(m * sizeof(double));
		yv = malloc(m * sizeof(double));
		if (!xv || !yv) {
			free(xv);
			free(yv);
			return MG_ERR_NOMEM;
		}
		size_t i;
		json_t *p;
		json_array_foreach(pts, i, p)
		{
			double a = rp_jnum(p, KX), b = rp_jnum(p, KY);
			if (isfinite(a) && isfinite(b)) {
				xv[n] = a;
				yv[n] = b;
				n++;
			}
		}
	} else {
		size_t nx = 0, ny = 0;
		xv = jarray(o, KX, &nx);
		yv = jarray(o, KY, &ny);
		n = xv && yv && nx == ny ? nx : 0;
	}
	if (n < 1) {
		free(xv);
		free(yv);
		return MG_ERR_NOT_FOUND;
	}
	mg_plot_calcurve *c = realloc(out->c, (out->n + 1) * sizeof(*c));
	if (!c || keep(&out->arrays, &out->narrays, xv) || keep(&out->arrays, &out->narrays, yv)) {
		if (c)
			out->c = c;
		return MG_ERR_NOMEM;
	}
	out->c = c;
	mg_plot_calcurve *v = &out->c[out->n++];
	memset(v, 0, sizeof(*v));
	v->n = n;
	v->x = xv;
	v->y = yv;
	v->r = rp_jnum(o, (const char *const[]){"r", "correlation", NULL});
	json_t *co = json_object_get(o, "coefficients");
	if (!json_is_array(co))
		co = json_object_get(o, "coef");
	if (json_is_array(co) && json_array_size(co) >= 2 && json_array_size(co) <= 3) {
		v->ncoef = json_array_size(co);
		for (size_t i = 0; i < v->ncoef; i++)
			v->coef[i] = json_number_value(json_array_get(co, i));
	} else {
		double a = rp_jnum(o, (const char *const[]){"intercept", "a0", NULL});
		double b = rp_jnum(o, (const char *const[]){"slope", "a1", NULL});
		double q = rp_jnum(o, (const char *const[]){"quadratic", "a2", NULL});
		if (isfinite(b)) {
			v->coef[0] = isfinite(a) ? a : 0;
			v->coef[1] = b;
			v->ncoef = 2;
			if (isfinite(q)) {
				v->coef[2] = q;
				v->ncoef = 3;
			}
		}
	}
	const char *lab = rp_jstr(o, (const char *const[]){"label", "line", "element", "name", NULL});
	v->label = keep_label(&out->labels, &out->nlabels, lab ? lab : "curve");
	const char *xl = rp_jstr(o, (const char *const[]){"x_label", NULL});
	const char *unit = rp_jstr(o, (const char *const[]){"unit", "units", "x_unit", "concentration_unit", NULL});
	if (!unit)
		unit = rp_jstr(top, (const char *const[]){"units", "unit", NULL});
	char b[96];
	if (!xl) {
		snprintf(b, sizeof(b), "Concentration (%s)", unit ? unit : "mg/L");
		xl = b;
	}
	v->x_label = keep_label(&out->labels, &out->nlabels, xl);
	const char *yl = rp_jstr(o, (const char *const[]){"y_label", NULL});
	const char *resp = rp_jstr(top, (const char *const[]){"response", NULL});
	char yb[160];
	if (!yl && resp) {
		snprintf(yb, sizeof(yb), "%c%s (counts)", resp[0] >= 'a' && resp[0] <= 'z' ? resp[0] - 32 : resp[0], resp + 1);
		yl = yb;
	}
	v->y_label = keep_label(&out->labels, &out->nlabels, yl ? yl : "Signal");
	return MG_OK;
}

int rp_cal_from_payload(const json_t *payload, rp_cal *out)
{
	memset(out, 0, sizeof(*out));
	static const char *const K[] = {"curves", "lines", "elements", "calibrations", NULL};
	int e = MG_OK;
	for (size_t k = 0; K[k] && out->n == 0; k++) {
		json_t *a = json_object_get(payload, K[k]);
		if (json_is_array(a)) {
			size_t i;
			json_t *o;
			json_array_foreach(a, i, o)
			{
				if (json_is_object(o) && (e = curve_from(o, payload, out)) == MG_ERR_NOMEM)
					break;
			}
		} else if (json_is_object(a)) {
			const char *key;
			json_t *o;
			json_object_foreach(a, key, o)
			{
				if (!json_is_object(o))
					continue;
				if ((e = curve_from(o, payload, out)) == MG_ERR_NOMEM)
					break;
				if (e == MG_OK && out->c[out->n - 1].label[0] == 'c' &&
				    strcmp(out->c[out->n - 1].label, "curve") == 0) {
					/* the key names the curve */
					const char *l = keep_label(&out->labels, &out->nlabels, key);
					if (l)
						out->c[out->n - 1].label = l;
				}
			}
		}
	}
	if (out->n == 0 && e != MG_ERR_NOMEM && json_is_object(payload))
		e = curve_from(payload, payload, out);
	if (e == MG_ERR_NOMEM) {
		rp_cal_clear(out);
		return mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
	}
	if (out->n == 0) {
		rp_cal_clear(out);
		return mg_fail(MG_ERR_NOT_FOUND, RP_DOM,
		               "the calibration carries no curve (standards with concentration and signal)");
	}
	return MG_OK;
}

/* ---- control chart inputs ---------------------------------------------------------------- */

void rp_ctl_clear(rp_ctl *c)
{
	free(c->v);
	free(c->f);
	free(c->b);
	memset(c, 0, sizeof(*c));
}

const char *rp_quantity_label(const char *q)
{
	if (!q)
		return "";
	if (!strcmp(q, MG_QC_PEAK_POSITION))
		return "Peak position";
	if (!strcmp(q, MG_QC_FWHM))
		return "FWHM";
	if (!strcmp(q, MG_QC_INTENSITY))
		return "Intensity";
	if (!strcmp(q, MG_QC_XRF_ICP_BIAS))
		return "XRF\xE2\x88\x92ICP bias";
	return q;
}

int rp_ctl_from_series(const mg_qc_series *s, rp_ctl *out)
{
	memset(out, 0, sizeof(*out));
	size_t n = s->npoints;
	out->v = malloc((n ? n : 1) * sizeof(double));
	out->f = malloc((n ? n : 1) * sizeof(unsigned));
	out->b = malloc((n ? n : 1) * sizeof(int));
	if (!out->v || !out->f || !out->b) {
		rp_ctl_clear(out);
		return mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		out->v[i] = s->points[i].value;
		out->f[i] = s->points[i].flags;
		out->b[i] = s->points[i].in_batch;
	}
	int inst = s->instrument && *s->instrument;
	snprintf(out->label, sizeof(out->label), "%s%s%s", s->label ? s->label : "", inst ? " \xE2\x80\x94 " : "",
	         inst ? s->instrument : "");
	int bias = s->quantity && !strcmp(s->quantity, MG_QC_XRF_ICP_BIAS);
	out->c = (mg_plot_control){out->label, s->unit, n, out->v, out->f, out->b, s->has_limits ? s->mean : NAN,
	                           s->has_limits ? s->sd : NAN,
	                           bias ? "Batch, one point each (oldest \xE2\x86\x92 newest)" : NULL};
	return MG_OK;
}

/* ---- ICP windows of a measurement file ----------------------------------------------------- */

static int icp_add_window(rp_icp *out, size_t cap, const char *label, double line_nm, const double *x,
                          const double *y, size_t n)
{
	if (out->n >= cap || n < 3)
		return MG_OK;
	mg_icp_window w;
	memset(&w, 0, sizeof(w));
	w.npix = n > MG_ICP_MAX_PIXELS ? MG_ICP_MAX_PIXELS : n;
	memcpy(w.wavelength_nm, x, w.npix * sizeof(double));
	memcpy(w.intensity, y, w.npix * sizeof(double));
	double *xv = malloc(w.npix * sizeof(double)), *yv = malloc(w.npix * sizeof(double));
	double *fv = malloc(w.npix * sizeof(double)), *bv = malloc(w.npix * sizeof(double));
	if (!xv || !yv || !fv || !bv) {
		free(xv);
		free(yv);
		free(fv);
		free(bv);
		return mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
	}
	memcpy(xv, x, w.npix * sizeof(double));
	memcpy(yv, y, w.npix * sizeof(double));
	mg_icp_fit_opts o;
	mg_icp_fit_opts_init(&o);
	mg_icp_linefit f;
	int fitted = isfinite(line_nm) && mg_icp_fit_line(&w, line_nm, &o, &f) == MG_OK && isfinite(f.net) &&
	             isfinite(f.background);
	if (!fitted)
		mg_error_clear();
	double dx = w.npix > 1 ? (xv[w.npix - 1] - xv[0]) / (double)(w.npix - 1) : 1;
	for (size_t i = 0; i < w.npix; i++) {
		bv[i] = fitted ? f.background : NAN;
		fv[i] = fitted ? f.background + f.net * dx * mg_icp_shape_value(o.shape, xv[i] - f.centre_nm, f.fwhm_nm, f.eta)
		               : NAN;
	}
	if (keep(&out->arrays, &out->narrays, xv) || keep(&out->arrays, &out->narrays, yv) ||
	    keep(&out->arrays, &out->narrays, fv) || keep(&out->arrays, &out->narrays, bv))
		return mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
	mg_plot_icp_window *pw = &out->w[out->n++];
	pw->label = keep_label(&out->labels, &out->nlabels, label);
	pw->line_nm = line_nm;
	pw->n = w.npix;
	pw->wavelength_nm = xv;
	pw->intensity = yv;
	pw->fit = fitted ? fv : NULL;
	pw->background = fitted ? bv : NULL;
	return MG_OK;
}

int rp_icp_load(mg_store *st, const rp_result *r, rp_icp *out)
{
	memset(out, 0, sizeof(*out));
	char *path = NULL;
	unsigned char *data = NULL;
	size_t len = 0;
	json_t *j = NULL;
	int e = mg_store_abspath(st, r->m.file, &path);
	if (e == MG_OK && mg_file_read_all(path, 64u << 20, &data, &len) == MG_OK)
		j = json_loadb((const char *)data, len, 0, NULL);
	free(path);
	free(data);
	mg_error_clear();
	const char *fmt = rp_jstr(j, (const char *const[]){"format", NULL});
	json_t *lines = json_object_get(j, "lines"), *reps = json_object_get(j, "replicates");
	if (fmt && strcmp(fmt, "magassay-icp-measurement") == 0 && json_is_array(lines) && json_is_array(reps) &&
	    json_array_size(reps) > 0) {
		size_t nl = json_array_size(lines);
		out->w = calloc(nl + 1, sizeof(*out->w));
		if (!out->w) {
			json_decref(j);
			return mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
		}
		json_t *w0 = json_object_get(json_array_get(reps, 0), "windows");
		for (size_t l = 0; l < nl && e == MG_OK; l++) {
			json_t *line = json_array_get(lines, l), *win = json_array_get(w0, l);
			size_t nx = 0, ny = 0;
			double *x = jarray(win, (const char *const[]){"wavelength_nm", NULL}, &nx);
			double *y = jarray(win, (const char *const[]){"intensity", NULL}, &ny);
			if (x && y && nx == ny) {
				const char *lab = rp_jstr(line, (const char *const[]){"label", NULL});
				const char *el = rp_jstr(line, K_ELEMENT);
				double lnm = rp_jnum(line, (const char *const[]){"wavelength_nm", NULL});
				char b[64];
				if (!lab) {
					snprintf(b, sizeof(b), "%s %.3f", el ? el : "?", lnm);
					lab = b;
				}
				json_t *is = json_object_get(line, "internal_standard");
				char lb[96];
				snprintf(lb, sizeof(lb), "%s%s", lab, json_is_true(is) ? " (internal standard)" : "");
				e = icp_add_window(out, nl, lb, lnm, x, y, nx);
			}
			free(x);
			free(y);
		}
		json_decref(j);
		if (e != MG_OK) {
			rp_icp_clear(out);
			return e;
		}
		if (out->n > 0)
			return MG_OK;
		rp_icp_clear(out);
	} else {
		json_decref(j);
	}
	if (!r->payload)
		return mg_fail(MG_ERR_NOT_FOUND, RP_DOM, "measurement %lld: no ICP line windows (file or result)", r->m.id);
	return rp_icp_from_payload(r->payload, out);
}
