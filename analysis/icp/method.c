/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ICP-OES method file: the lines measured per analyte, how each is fitted
 * and calibrated, the internal standard, the inter-element correction
 * table, the digest defaults, and the solutions the sequence refers to
 * (calibration standards, check standards, spikes, CRMs). Format in
 * docs/icp.md. Parsed in three passes over the text ([method]/[digest],
 * then [analyte ...], then the solutions), so sections may come in any order.
 *
 * Line choice is checked against the known overlaps of NdFeB digests
 * (domain notes §5): a reporting line that a matrix element overlaps beyond
 * what a fit can separate (B 249.773 / Fe 249.782, Sm 359.260 / Nd 359.259
 * and Fe 359.267) is refused unless the method corrects it with an IEC term
 * for that element; use B 208.957 or 182.577 in an Fe matrix. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icp_internal.h"
#include "inifile.h"
#include "internal.h"
#include "magassay/fileio.h"
#include "magassay/id.h"
#include "text.h"

#define DOM "icp-method"

typedef struct overlap {
	const char *el;
	double nm;
	const char *by_el;
	const char *by;
	int unresolved; /* closer than any ICP-OES resolves: refused without an IEC term */
} overlap;

static const overlap overlaps[] = {
	{"B", 249.773, "Fe", "Fe 249.782", 1},
	{"Sm", 359.260, "Nd", "Nd 359.259", 1},
	{"Sm", 359.260, "Fe", "Fe 359.267", 1},
	{"Co", 238.892, "Fe", "Fe 238.863", 0},
	{"Nd", 401.225, "Fe", "Fe lines nearby", 0},
	{"Pr", 390.844, "Nd", "Nd/Ce wings", 0},
	{"Dy", 400.045, "Nd", "Nd matrix wings", 0},
	{"Tb", 350.917, "Fe", "Fe/Nd neighbours", 0},
};

const char *mg_icp_known_overlap(const char *element, double nm, char *interferent_out)
{
	if (!element)
		return NULL;
	for (size_t i = 0; i < MG_ARRAY_SIZE(overlaps); i++)
		if (strcmp(overlaps[i].el, element) == 0 && fabs(overlaps[i].nm - nm) < 0.002) {
			if (interferent_out)
				strcpy(interferent_out, overlaps[i].by_el);
			return overlaps[i].by;
		}
	return NULL;
}

enum sec { SEC_NONE, SEC_METHOD, SEC_DIGEST, SEC_ANALYTE, SEC_SOLUTION };

typedef struct mparse {
	mg_icp_method *m;
	int pass;
	enum sec sec;
	int cur;             /* analyte or solution index in the current section */
	mg_icp_fit_opts deffit;
	long line_key[MG_ICP_MAX_ANALYTES];   /* where each analyte's `line =` is */
	long iec_line[MG_ICP_MAX_ANALYTES];
	long sec_line[MG_ICP_MAX_ANALYTES];
	int have_name;
	int in_total_set[MG_ICP_MAX_ANALYTES];
} mparse;

/* "method line N: ..." on the item (the file is named "method" in messages) */
#define FAIL(kv, ...) mg_ini_fail(kv, __VA_ARGS__)

static int num(const mg_ini_item *kv, double *out, double lo, double hi)
{
	double v;
	if (mg_parse_double(kv->value, kv->value_len, &v) != MG_OK || v < lo || v > hi)
		return FAIL(kv, "%s = '%.*s' is not a number in %g..%g", kv->key,
		            (int)(kv->value_len > 40 ? 40 : kv->value_len), kv->value, lo, hi);
	*out = v;
	return MG_OK;
}

static int kv_is(const mg_ini_item *kv, const char *k)
{
	return mg_ini_key_is(kv, k);
}

static int bad_value(const mg_ini_item *kv, const char *expect)
{
	return FAIL(kv, "%s = '%.*s': expected %s", kv->key, (int)(kv->value_len > 40 ? 40 : kv->value_len), kv->value,
	            expect);
}

static int unknown_key(const mg_ini_item *kv, const char *where)
{
	return FAIL(kv, "unknown key '%.*s' in %s", (int)(kv->key_len > 40 ? 40 : kv->key_len), kv->key, where);
}

/* Fit settings shared by [method] (defaults) and [analyte] (overrides).
 * 1 if the key was a fit key, 0 if not, negative on error. */
static int fit_key(const mg_ini_item *kv, mg_icp_fit_opts *f)
{
	const char *v = kv->value;
	size_t vn = kv->value_len;
	if (kv_is(kv, "shape") || kv_is(kv, "profile")) {
		if (icp_view_eq(v, vn, "gaussian"))
			f->shape = MG_ICP_GAUSSIAN;
		else if (icp_view_eq(v, vn, "pseudo-voigt") || icp_view_eq(v, vn, "voigt"))
			f->shape = MG_ICP_PSEUDO_VOIGT;
		else
			return bad_value(kv, "gaussian or pseudo-voigt");
		return 1;
	}
	if (kv_is(kv, "background")) {
		if (icp_view_eq(v, vn, "linear"))
			f->background = MG_ICP_BG_LINEAR;
		else if (icp_view_eq(v, vn, "quadratic"))
			f->background = MG_ICP_BG_QUADRATIC;
		else if (icp_view_eq(v, vn, "offpeak") || icp_view_eq(v, vn, "off-peak"))
			f->background = MG_ICP_BG_OFFPEAK;
		else
			return bad_value(kv, "linear, quadratic or offpeak");
		return 1;
	}
	if (kv_is(kv, "offpeak_nm")) {
		const char *it;
		size_t itn;
		f->noffpeak = 0;
		while (icp_list_next(&v, &vn, &it, &itn)) {
			double d;
			if (f->noffpeak >= MG_ICP_MAX_OFFPEAK)
				return bad_value(kv, "at most 4 off-peak offsets");
			if (mg_parse_double(it, itn, &d) != MG_OK || d == 0 || fabs(d) > 5)
				return bad_value(kv, "offsets from the line in nm, e.g. -0.030, +0.030");
			f->offpeak_nm[f->noffpeak++] = d;
		}
		if (f->noffpeak == 0)
			return bad_value(kv, "at least one offset");
		return 1;
	}
	double d;
	int rc;
	if (kv_is(kv, "offpeak_half_nm")) {
		if ((rc = num(kv, &d, 0, 1)) < 0)
			return rc;
		f->offpeak_half_nm = d;
		return 1;
	}
	if (kv_is(kv, "offpeak_order")) {
		if ((rc = num(kv, &d, 1, 2)) < 0)
			return rc;
		f->offpeak_order = (int)d;
		return 1;
	}
	if (kv_is(kv, "half_width_nm") || kv_is(kv, "fit_half_width_nm")) {
		if ((rc = num(kv, &d, 0, 5)) < 0)
			return rc;
		f->half_width_nm = d;
		return 1;
	}
	if (kv_is(kv, "shift_max_nm")) {
		if ((rc = num(kv, &d, 0, 1)) < 0)
			return rc;
		f->shift_max_nm = d;
		return 1;
	}
	if (kv_is(kv, "fwhm_nm")) {
		if ((rc = num(kv, &d, 0, 1)) < 0)
			return rc;
		f->fwhm_nm = d;
		return 1;
	}
	if (kv_is(kv, "centre_free_snr") || kv_is(kv, "center_free_snr")) {
		if ((rc = num(kv, &d, 0, 1e6)) < 0)
			return rc;
		f->centre_free_snr = d;
		return 1;
	}
	if (kv_is(kv, "auto_neighbours") || kv_is(kv, "auto_neighbors")) {
		int b;
		if (icp_parse_bool(v, vn, &b) != MG_OK)
			return bad_value(kv, "yes or no");
		f->auto_neighbours = b;
		return 1;
	}
	if (kv_is(kv, "neighbours_nm") || kv_is(kv, "neighbors_nm") || kv_is(kv, "neighbours")) {
		const char *it;
		size_t itn;
		f->nneighbours = 0;
		while (icp_list_next(&v, &vn, &it, &itn)) {
			if (f->nneighbours >= MG_ICP_MAX_NEIGHBOURS)
				return bad_value(kv, "at most 4 neighbour lines");
			if (mg_parse_double(it, itn, &d) != MG_OK || d < 100 || d > 1000)
				return bad_value(kv, "wavelengths in nm");
			f->neighbour_nm[f->nneighbours++] = d;
		}
		return 1;
	}
	return 0;
}

static int find_analyte(const mg_icp_method *m, const char *el)
{
	for (size_t i = 0; i < m->nanalytes; i++)
		if (strcmp(m->analyte[i].element, el) == 0)
			return (int)i;
	return -1;
}

int mg_icp_method_analyte(const mg_icp_method *m, const char *element)
{
	return m && element ? find_analyte(m, element) : -1;
}

const mg_icp_solution *mg_icp_method_solution(const mg_icp_method *m, const char *name, int kind)
{
	if (!m || !name)
		return NULL;
	for (size_t i = 0; i < m->nsolutions; i++)
		if (strcmp(m->solution[i].name, name) == 0 && (kind == 0 || (int)m->solution[i].kind == kind))
			return &m->solution[i];
	return NULL;
}

static int section(const mg_ini_item *kv, mparse *p)
{
	const char *s = kv->section;
	size_t n = kv->section_len, k = 0;
	while (k < n && !isspace((unsigned char)s[k]))
		k++;
	const char *arg = s + k;
	size_t an = n - k;
	mg_trim(&arg, &an);
	mg_icp_method *m = p->m;
	p->sec = SEC_NONE;
	if (icp_view_eq(s, k, "method") && an == 0) {
		p->sec = SEC_METHOD;
		return MG_OK;
	}
	if (icp_view_eq(s, k, "digest") && an == 0) {
		p->sec = SEC_DIGEST;
		return MG_OK;
	}
	if (icp_view_eq(s, k, "analyte")) {
		p->sec = SEC_ANALYTE;
		if (p->pass != 2)
			return MG_OK;
		char el[4];
		if (icp_parse_element(arg, an, el) != MG_OK)
			return FAIL(kv, "[analyte X] needs an element symbol, e.g. [analyte Nd]");
		if (find_analyte(m, el) >= 0)
			return FAIL(kv, "[analyte %s] appears twice", el);
		if (m->nanalytes >= MG_ICP_MAX_ANALYTES)
			return FAIL(kv, "more than %d analytes", MG_ICP_MAX_ANALYTES);
		p->cur = (int)m->nanalytes++;
		mg_icp_analyte *a = &m->analyte[p->cur];
		memset(a, 0, sizeof(*a));
		strcpy(a->element, el);
		a->fit = p->deffit;
		a->curve = MG_ICP_CURVE_LINEAR;
		a->lloq = NAN;
		a->report = 1;
		a->in_total = 1;
		a->src_line = kv->line;
		p->sec_line[p->cur] = kv->line;
		return MG_OK;
	}
	static const struct {
		const char *word;
		mg_icp_solution_kind kind;
	} kinds[] = {{"standard", MG_ICP_SOL_STANDARD},
	             {"check", MG_ICP_SOL_CHECK},
	             {"spike", MG_ICP_SOL_SPIKE},
	             {"crm", MG_ICP_SOL_CRM}};
	for (size_t i = 0; i < MG_ARRAY_SIZE(kinds); i++) {
		if (!icp_view_eq(s, k, kinds[i].word))
			continue;
		p->sec = SEC_SOLUTION;
		if (p->pass != 3)
			return MG_OK;
		if (an == 0 || an >= MG_ICP_NAME_SIZE)
			return FAIL(kv, "[%s NAME] needs a name of 1..%d characters", kinds[i].word,
			            MG_ICP_NAME_SIZE - 1);
		for (size_t j = 0; j < an; j++)
			if (!isalnum((unsigned char)arg[j]) && arg[j] != '-' && arg[j] != '_' && arg[j] != '.')
				return FAIL(kv, "solution name '%.*s': only letters, digits, '-', '_' and '.'",
				            (int)an, arg);
		char name[MG_ICP_NAME_SIZE];
		icp_copy(name, sizeof(name), arg, an);
		for (size_t j = 0; j < m->nsolutions; j++)
			if (strcmp(m->solution[j].name, name) == 0)
				return FAIL(kv, "solution '%s' is defined twice (first on line %ld)", name,
				            m->solution[j].src_line);
		if (m->nsolutions >= MG_ICP_MAX_SOLUTIONS)
			return FAIL(kv, "more than %d solutions", MG_ICP_MAX_SOLUTIONS);
		p->cur = (int)m->nsolutions++;
		mg_icp_solution *so = &m->solution[p->cur];
		memset(so, 0, sizeof(*so));
		strcpy(so->name, name);
		so->kind = kinds[i].kind;
		so->src_line = kv->line;
		for (size_t j = 0; j < MG_ICP_MAX_ANALYTES; j++)
			so->value[j] = so->u[j] = NAN;
		return MG_OK;
	}
	return FAIL(kv, "unknown section [%.*s] (method, digest, analyte X, standard/check/spike/crm NAME)",
	            (int)(n > 40 ? 40 : n), s);
}

static int method_key(const mg_ini_item *kv, mparse *p)
{
	mg_icp_method *m = p->m;
	const char *v = kv->value;
	size_t vn = kv->value_len;
	double d;
	int rc;
	if (kv_is(kv, "name")) {
		if (icp_copy(m->name, sizeof(m->name), v, vn) != MG_OK || mg_id_validate(m->name) != MG_OK)
			return FAIL(kv, "the method name '%.*s' must be an id: 1..64 of A-Z a-z 0-9 . _ -",
			            (int)(vn > 64 ? 64 : vn), v);
		p->have_name = 1;
		return MG_OK;
	}
	if (kv_is(kv, "description")) {
		if (icp_copy(m->description, sizeof(m->description), v, vn) != MG_OK)
			return FAIL(kv, "description longer than %zu bytes", sizeof(m->description) - 1);
		return MG_OK;
	}
	if (kv_is(kv, "matrix")) {
		const char *it;
		size_t itn;
		m->nmatrix = 0;
		while (icp_list_next(&v, &vn, &it, &itn)) {
			if (m->nmatrix >= MG_ARRAY_SIZE(m->matrix))
				return FAIL(kv, "at most %zu matrix elements", MG_ARRAY_SIZE(m->matrix));
			if (icp_parse_element(it, itn, m->matrix[m->nmatrix]) != MG_OK)
				return bad_value(kv, "element symbols, e.g. Fe, Nd");
			m->nmatrix++;
		}
		return MG_OK;
	}
	if (kv_is(kv, "replicates")) {
		if ((rc = num(kv, &d, 1, MG_ICP_MAX_REPLICATES)) < 0)
			return rc;
		if (d != floor(d))
			return bad_value(kv, "a whole number");
		m->replicates = (int)d;
		return MG_OK;
	}
	if (kv_is(kv, "integration_s")) {
		if ((rc = num(kv, &d, 0.001, 600)) < 0)
			return rc;
		m->integration_s = d;
		return MG_OK;
	}
	if (kv_is(kv, "internal_standard")) {
		if (icp_view_eq(v, vn, "none")) {
			m->has_is = 0;
			return MG_OK;
		}
		char el[4];
		double nm;
		if (icp_parse_line_spec(v, vn, el, &nm) != MG_OK)
			return bad_value(kv, "an element and a wavelength, e.g. Y 371.030");
		icp_line_set(&m->is_line, el, nm, 1);
		m->has_is = 1;
		return MG_OK;
	}
	if (kv_is(kv, "total_other_pct")) {
		if ((rc = num(kv, &d, 0, 100)) < 0)
			return rc;
		m->total_other_pct = d;
		return MG_OK;
	}
	rc = fit_key(kv, &p->deffit);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return unknown_key(kv, "[method]");
	return MG_OK;
}

static int digest_key(const mg_ini_item *kv, mparse *p)
{
	mg_icp_digest *g = &p->m->digest;
	struct {
		const char *k;
		double *dst;
		double lo, hi;
	} keys[] = {
		{"mass_g", &g->mass_g, 1e-6, 1000},       {"u_mass_g", &g->u_mass_g, 0, 100},
		{"volume_ml", &g->volume_ml, 1e-3, 1e5},  {"u_volume_ml", &g->u_volume_ml, 0, 1e4},
		{"dilution", &g->dilution, 1, 1e7},       {"u_dilution_rel", &g->u_dilution_rel, 0, 1},
	};
	for (size_t i = 0; i < MG_ARRAY_SIZE(keys); i++)
		if (kv_is(kv, keys[i].k))
			return num(kv, keys[i].dst, keys[i].lo, keys[i].hi);
	return unknown_key(kv, "[digest]");
}

static int analyte_key(const mg_ini_item *kv, mparse *p)
{
	mg_icp_method *m = p->m;
	mg_icp_analyte *a = &m->analyte[p->cur];
	const char *v = kv->value;
	size_t vn = kv->value_len;
	double d;
	int rc;
	if (kv_is(kv, "line")) {
		if (mg_parse_double(v, vn, &d) != MG_OK || d < 100 || d > 1000)
			return bad_value(kv, "the wavelength in nm, e.g. 430.358");
		icp_line_set(&a->line, a->element, d, 0);
		p->line_key[p->cur] = kv->line;
		return MG_OK;
	}
	if (kv_is(kv, "alt") || kv_is(kv, "alternative_lines") || kv_is(kv, "also")) {
		const char *it;
		size_t itn;
		a->nalt = 0;
		while (icp_list_next(&v, &vn, &it, &itn)) {
			if (a->nalt >= MG_ICP_MAX_ALT_LINES)
				return bad_value(kv, "at most 3 alternative lines");
			if (mg_parse_double(it, itn, &d) != MG_OK || d < 100 || d > 1000)
				return bad_value(kv, "wavelengths in nm");
			icp_line_set(&a->alt[a->nalt++], a->element, d, 0);
		}
		return MG_OK;
	}
	if (kv_is(kv, "curve")) {
		if (icp_view_eq(v, vn, "linear"))
			a->curve = MG_ICP_CURVE_LINEAR;
		else if (icp_view_eq(v, vn, "weighted-1/x") || icp_view_eq(v, vn, "1/x"))
			a->curve = MG_ICP_CURVE_WEIGHTED_1X;
		else if (icp_view_eq(v, vn, "weighted-1/x2") || icp_view_eq(v, vn, "1/x2") ||
		         icp_view_eq(v, vn, "weighted-1/x^2"))
			a->curve = MG_ICP_CURVE_WEIGHTED_1X2;
		else if (icp_view_eq(v, vn, "quadratic"))
			a->curve = MG_ICP_CURVE_QUADRATIC;
		else
			return bad_value(kv, "linear, weighted-1/x, weighted-1/x2 or quadratic");
		return MG_OK;
	}
	if (kv_is(kv, "lloq") || kv_is(kv, "lloq_mg_l")) {
		if ((rc = num(kv, &d, 0, 1e6)) < 0)
			return rc;
		a->lloq = d;
		return MG_OK;
	}
	if (kv_is(kv, "report")) {
		if (icp_parse_bool(v, vn, &a->report) != MG_OK)
			return bad_value(kv, "yes or no");
		if (!a->report && !p->in_total_set[p->cur])
			a->in_total = 0;
		return MG_OK;
	}
	if (kv_is(kv, "in_total")) {
		if (icp_parse_bool(v, vn, &a->in_total) != MG_OK)
			return bad_value(kv, "yes or no");
		p->in_total_set[p->cur] = 1;
		return MG_OK;
	}
	if (kv_is(kv, "iec")) {
		/* "Fe: 0.00012 ± 0.00001, Nd: 0.0003" (or "Fe 0.00012") */
		const char *it;
		size_t itn;
		a->niec = 0;
		p->iec_line[p->cur] = kv->line;
		while (icp_list_next(&v, &vn, &it, &itn)) {
			if (a->niec >= MG_ICP_MAX_IEC)
				return bad_value(kv, "at most 6 IEC terms");
			size_t k = 0;
			while (k < itn && isalpha((unsigned char)it[k]))
				k++;
			mg_icp_iec_term *t = &a->iec[a->niec];
			if (icp_parse_element(it, k, t->element) != MG_OK)
				return bad_value(kv, "terms 'Element: factor', e.g. Fe: 0.00012");
			const char *rest = it + k;
			size_t rn = itn - k;
			mg_trim(&rest, &rn);
			if (rn && rest[0] == ':') {
				rest++;
				rn--;
			}
			if (icp_parse_value_u(rest, rn, &t->k, &t->u_k) != MG_OK)
				return bad_value(kv, "terms 'Element: factor [± u]', e.g. Fe: 0.00012 ± 0.00001");
			if (!isfinite(t->u_k))
				t->u_k = 0;
			if (strcmp(t->element, a->element) == 0)
				return FAIL(kv, "an IEC term of %s on its own line", a->element);
			a->niec++;
		}
		return MG_OK;
	}
	rc = fit_key(kv, &a->fit);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return unknown_key(kv, "[analyte]");
	return MG_OK;
}

static int solution_key(const mg_ini_item *kv, mparse *p)
{
	mg_icp_method *m = p->m;
	mg_icp_solution *so = &m->solution[p->cur];
	char el[4];
	if (icp_parse_element(kv->key, kv->key_len, el) != MG_OK)
		return FAIL(kv, "'%.*s' is not an element symbol (solutions list Element = value)",
		            (int)(kv->key_len > 20 ? 20 : kv->key_len), kv->key);
	int a = find_analyte(m, el);
	if (a < 0) {
		if (m->has_is && strcmp(el, m->is_line.element) == 0)
			return MG_OK; /* the internal standard's amount: informational */
		return FAIL(kv, "%s is not an analyte of this method (add an [analyte %s] section)", el, el);
	}
	if (isfinite(so->value[a]))
		return FAIL(kv, "%s is given twice in [%s]", el, so->name);
	double v, u;
	if (icp_parse_value_u(kv->value, kv->value_len, &v, &u) != MG_OK || v < 0 || v > 1e6)
		return bad_value(kv, so->kind == MG_ICP_SOL_CRM ? "a mass fraction in wt%, optionally ± U"
		                                                 : "a concentration in mg/L");
	if (so->kind == MG_ICP_SOL_CRM && v > 100)
		return bad_value(kv, "a mass fraction in wt% (0..100)");
	so->value[a] = v;
	so->u[a] = u;
	return MG_OK;
}

static int cb(const mg_ini_item *kv, void *ud)
{
	mparse *p = ud;
	if (!kv->key)
		return section(kv, p);
	switch (p->sec) {
	case SEC_METHOD:
		return p->pass == 1 ? method_key(kv, p) : MG_OK;
	case SEC_DIGEST:
		return p->pass == 1 ? digest_key(kv, p) : MG_OK;
	case SEC_ANALYTE:
		return p->pass == 2 ? analyte_key(kv, p) : MG_OK;
	case SEC_SOLUTION:
		return p->pass == 3 ? solution_key(kv, p) : MG_OK;
	default:
		return MG_OK;
	}
}

static int in_matrix(const mg_icp_method *m, const char *el)
{
	for (size_t i = 0; i < m->nmatrix; i++)
		if (strcmp(m->matrix[i], el) == 0)
			return 1;
	return 0;
}

static int check(mg_icp_method *m, mparse *p)
{
	if (!p->have_name)
		return mg_fail(MG_ERR_FORMAT, DOM, "method: [method] needs a name (it names the calibration)");
	if (m->nanalytes == 0)
		return mg_fail(MG_ERR_FORMAT, DOM, "method: no [analyte X] section");
	size_t nlines = m->has_is ? 1 : 0;
	for (size_t i = 0; i < m->nanalytes; i++) {
		mg_icp_analyte *a = &m->analyte[i];
		if (!p->line_key[i])
			return mg_fail(MG_ERR_FORMAT, DOM, "method line %ld: [analyte %s] has no 'line ='", p->sec_line[i],
			               a->element);
		nlines += 1 + a->nalt;
		if (a->fit.background == MG_ICP_BG_OFFPEAK && a->fit.noffpeak == 0)
			return mg_fail(MG_ERR_FORMAT, DOM,
			               "method line %ld: [analyte %s] uses an off-peak background but gives no offpeak_nm",
			               p->sec_line[i], a->element);
		for (size_t j = 0; j < a->niec; j++) {
			int k = find_analyte(m, a->iec[j].element);
			if (k < 0)
				return mg_fail(MG_ERR_FORMAT, DOM,
				               "method line %ld: the IEC term on %s needs %s measured: add an [analyte %s] "
				               "section (report = no for a monitor line)",
				               p->iec_line[i], a->element, a->iec[j].element, a->iec[j].element);
		}
		/* known overlaps */
		for (size_t k = 0; k < MG_ARRAY_SIZE(overlaps); k++) {
			const overlap *o = &overlaps[k];
			if (strcmp(o->el, a->element) != 0 || fabs(o->nm - a->line.wavelength_nm) > 0.002)
				continue;
			int corrected = 0;
			for (size_t j = 0; j < a->niec; j++)
				if (strcmp(a->iec[j].element, o->by_el) == 0)
					corrected = 1;
			if (o->unresolved && in_matrix(m, o->by_el) && !corrected) {
				const char *alt = strcmp(a->element, "B") == 0 ? ": use B 208.957 or B 182.577" : "";
				return mg_fail(MG_ERR_FORMAT, DOM,
				               "method line %ld: %s %.3f is overlapped by %s, which no line fit separates, "
				               "and %s is in the matrix%s (or give an IEC term for %s)",
				               p->line_key[i], a->element, a->line.wavelength_nm, o->by, o->by_el, alt, o->by_el);
			}
			if (!a->interference_note[0]) {
				char el[4];
				memcpy(el, a->element, sizeof(el));
				snprintf(a->interference_note, sizeof(a->interference_note), "%s %.3f: %s%s", el,
				         a->line.wavelength_nm, o->by, corrected ? " (IEC corrected)" : "");
			}
		}
		for (size_t j = 0; j < a->nalt; j++) {
			if (fabs(a->alt[j].wavelength_nm - a->line.wavelength_nm) < 0.001)
				return mg_fail(MG_ERR_FORMAT, DOM, "method line %ld: %s alternative line %.3f is the reporting line",
				               p->sec_line[i], a->element, a->alt[j].wavelength_nm);
			const char *by = mg_icp_known_overlap(a->element, a->alt[j].wavelength_nm, NULL);
			if (by && !a->interference_note[0]) {
				char el[4];
				memcpy(el, a->element, sizeof(el));
				snprintf(a->interference_note, sizeof(a->interference_note), "%s %.3f: %s", el,
				         a->alt[j].wavelength_nm, by);
			}
		}
	}
	if (nlines > MG_ICP_MAX_LINES)
		return mg_fail(MG_ERR_FORMAT, DOM, "method: %zu lines to measure (the instrument takes %d)", nlines,
		               MG_ICP_MAX_LINES);
	if (m->has_is && find_analyte(m, m->is_line.element) >= 0)
		return mg_fail(MG_ERR_FORMAT, DOM, "method: the internal standard %s is also an analyte",
		               m->is_line.element);
	/* the IS must not sit on an analyte line */
	for (size_t i = 0; m->has_is && i < m->nanalytes; i++)
		if (fabs(m->analyte[i].line.wavelength_nm - m->is_line.wavelength_nm) < 0.05)
			return mg_fail(MG_ERR_FORMAT, DOM, "method line %ld: %s %.3f is within 0.05 nm of the internal standard %s",
			               p->line_key[i], m->analyte[i].element, m->analyte[i].line.wavelength_nm,
			               m->is_line.label);
	return MG_OK;
}

int mg_icp_method_parse(const char *text, size_t len, mg_icp_method **out)
{
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "no output");
	*out = NULL;
	mg_icp_method *m = calloc(1, sizeof(*m));
	mparse *p = calloc(1, sizeof(*p));
	if (!m || !p) {
		free(m);
		free(p);
		return mg_fail(MG_ERR_NOMEM, DOM, "no memory");
	}
	m->replicates = 3;
	m->integration_s = 1.0;
	m->digest.mass_g = m->digest.volume_ml = m->digest.dilution = NAN;
	m->digest.u_mass_g = m->digest.u_volume_ml = m->digest.u_dilution_rel = 0;
	m->digest.dilution = 1;
	p->m = m;
	mg_icp_fit_opts_init(&p->deffit);
	int rc = MG_OK;
	for (p->pass = 1; p->pass <= 3 && rc == MG_OK; p->pass++) {
		p->sec = SEC_NONE;
		rc = mg_ini_parse(text, len, "method", DOM, cb, p);
	}
	if (rc == MG_OK)
		rc = check(m, p);
	if (rc == MG_OK && m->has_is)
		m->is_fit = p->deffit;
	free(p);
	if (rc != MG_OK) {
		free(m);
		return rc;
	}
	*out = m;
	return MG_OK;
}

int mg_icp_method_load(const char *path, mg_icp_method **out)
{
	unsigned char *data;
	size_t len;
	int rc = mg_file_read_all(path, 4u << 20, &data, &len);
	if (rc != MG_OK)
		return rc;
	rc = mg_icp_method_parse((const char *)data, len, out);
	free(data);
	if (rc != MG_OK)
		return mg_fail(rc, DOM, "%s: %s", path, mg_error_detail());
	return MG_OK;
}

void mg_icp_method_free(mg_icp_method *m)
{
	free(m);
}

int mg_icp_method_lines(const mg_icp_method *m, mg_icp_line *lines, size_t cap)
{
	if (!m || !lines)
		return mg_fail(MG_ERR_ARG, DOM, "lines: missing arguments");
	size_t n = 0;
	for (size_t i = 0; i < m->nanalytes; i++) {
		if (n >= cap)
			return mg_fail(MG_ERR_ARG, DOM, "lines: more than %zu", cap);
		lines[n++] = m->analyte[i].line;
	}
	for (size_t i = 0; i < m->nanalytes; i++)
		for (size_t j = 0; j < m->analyte[i].nalt; j++) {
			if (n >= cap)
				return mg_fail(MG_ERR_ARG, DOM, "lines: more than %zu", cap);
			lines[n++] = m->analyte[i].alt[j];
		}
	if (m->has_is) {
		if (n >= cap)
			return mg_fail(MG_ERR_ARG, DOM, "lines: more than %zu", cap);
		lines[n++] = m->is_line;
	}
	return (int)n;
}
