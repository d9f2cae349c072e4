/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Line families from xraylib: the element list parser, K (Kα/Kβ), L (L1,
 * L2, L3 sub-shell lines with radiative rates, fluorescence yields and
 * Coster–Kronig transfers through xraylib's Kissel cascade cross sections)
 * and M families, each line weighted by the excitation, the matrix absorption
 * (thick sample), the detector efficiency and the air path; Si escape
 * fractions; scatter families of the tube lines or the beam; and the table of
 * strong lines used to name unexplained residual peaks. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <xraylib-lines.h>
#include <xraylib-shells.h>

#include "an.h"
#include "elements.h"
#include "internal.h"
#include "magassay/xray.h"

/* ---------------------------------------------------------------- matrix */

int an_matrix_parse(const char *spec, an_matrix *m)
{
	memset(m, 0, sizeof(*m));
	if (!spec)
		return 0;
	const char *p = spec;
	double sum = 0;
	while (*p) {
		while (*p && (isspace((unsigned char)*p) || *p == ',' || *p == ';'))
			p++;
		if (!*p)
			break;
		const char *s = p;
		while (isalpha((unsigned char)*p))
			p++;
		int z = mg_element_z(s, (size_t)(p - s));
		if (z < 1 || *p != ':')
			return mg_fail(MG_ERR_ARG, AN_DOM, "matrix \"%s\": byte %ld: expected Element:wt%%",
			               spec, (long)(s - spec));
		p++;
		char *end;
		double w = strtod(p, &end);
		if (end == p || !(w >= 0) || !isfinite(w))
			return mg_fail(MG_ERR_ARG, AN_DOM, "matrix \"%s\": byte %ld: bad mass fraction",
			               spec, (long)(p - spec));
		p = end;
		if (m->n >= (int)MG_ARRAY_SIZE(m->z))
			return mg_fail(MG_ERR_ARG, AN_DOM, "matrix \"%s\": too many elements", spec);
		for (int i = 0; i < m->n; i++)
			if (m->z[i] == z)
				return mg_fail(MG_ERR_ARG, AN_DOM, "matrix \"%s\": %s given twice", spec,
				               mg_element_symbol(z));
		m->z[m->n] = z;
		m->w[m->n] = w;
		m->n++;
		sum += w;
	}
	if (m->n && !(sum > 0))
		return mg_fail(MG_ERR_ARG, AN_DOM, "matrix \"%s\": fractions sum to zero", spec);
	for (int i = 0; i < m->n; i++)
		m->w[i] /= sum;
	return 0;
}

/* ---------------------------------------------------------------- excitation */

double an_scatter_angle_deg(const mg_excitation *exc)
{
	if (exc->scatter_deg > 0 && exc->scatter_deg < 180)
		return exc->scatter_deg;
	double a = exc->incidence_deg + exc->takeoff_deg;
	return a > 0 && a < 180 ? a : 90.0;
}

/* ---------------------------------------------------------------- element list */

enum { FAM_K, FAM_KA, FAM_KB, FAM_L, FAM_L1, FAM_L2, FAM_L3, FAM_M, FAM_AUTO };
static const char *const famnames[] = {"K", "Ka", "Kb", "L", "L1", "L2", "L3", "M"};

typedef struct spec_item {
	int z;
	int fam; /* FAM_*; FAM_AUTO = choose */
} spec_item;

static int parse_family(const char *s, size_t len)
{
	for (int i = 0; i < FAM_AUTO; i++)
		if (strlen(famnames[i]) == len && strncasecmp(famnames[i], s, len) == 0)
			return i;
	return -1;
}

/* Parse into items; returns the count or a negative error. */
static int parse_elements(const char *spec, spec_item *items, int max)
{
	const char *p = spec;
	int n = 0;
	while (*p) {
		while (*p && (isspace((unsigned char)*p) || *p == ',' || *p == ';'))
			p++;
		if (!*p)
			break;
		const char *s = p;
		while (isalpha((unsigned char)*p))
			p++;
		int z = mg_element_z(s, (size_t)(p - s));
		if (z < 1)
			return mg_fail(MG_ERR_ARG, AN_DOM, "elements \"%s\": byte %ld: \"%.*s\" is not an element",
			               spec, (long)(s - spec), (int)(p - s > 0 ? p - s : 1), s);
		if (*p != ':') {
			if (n >= max)
				return mg_fail(MG_ERR_ARG, AN_DOM, "elements: too many");
			items[n].z = z;
			items[n].fam = FAM_AUTO;
			n++;
			continue;
		}
		p++;
		for (;;) {
			const char *f = p;
			while (isalnum((unsigned char)*p))
				p++;
			int fam = parse_family(f, (size_t)(p - f));
			if (fam < 0)
				return mg_fail(MG_ERR_ARG, AN_DOM,
				               "elements \"%s\": byte %ld: family \"%.*s\" is not one of K, Ka, "
				               "Kb, L, L1, L2, L3, M",
				               spec, (long)(f - spec), (int)(p - f), f);
			if (n >= max)
				return mg_fail(MG_ERR_ARG, AN_DOM, "elements: too many");
			items[n].z = z;
			items[n].fam = fam;
			n++;
			if (*p != '+')
				break;
			p++;
		}
		if (*p && !(isspace((unsigned char)*p) || *p == ',' || *p == ';'))
			return mg_fail(MG_ERR_ARG, AN_DOM, "elements \"%s\": byte %ld: unexpected '%c'", spec,
			               (long)(p - spec), *p);
	}
	/* duplicates (same element, overlapping families) */
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++) {
			if (items[i].z != items[j].z)
				continue;
			int a = items[i].fam, b = items[j].fam;
			int ka = a == FAM_AUTO || a <= FAM_KB, kb = b == FAM_AUTO || b <= FAM_KB;
			int la = a == FAM_AUTO || (a >= FAM_L && a <= FAM_L3),
			    lb = b == FAM_AUTO || (b >= FAM_L && b <= FAM_L3);
			int ma = a == FAM_AUTO || a == FAM_M, mb = b == FAM_AUTO || b == FAM_M;
			int clash = a == b || (ka && kb && (a == FAM_K || b == FAM_K || a == FAM_AUTO ||
			                                    b == FAM_AUTO)) ||
			            (la && lb && (a == FAM_L || b == FAM_L || a == FAM_AUTO || b == FAM_AUTO)) ||
			            (ma && mb);
			if (clash)
				return mg_fail(MG_ERR_ARG, AN_DOM,
				               "elements \"%s\": %s is listed twice (its lines would be counted twice)",
				               spec, mg_element_symbol(items[i].z));
		}
	return n;
}

int an_elements_z(const char *spec, int *z, int max)
{
	spec_item items[MG_ANALYSIS_MAX_FAMILIES];
	int n = parse_elements(spec ? spec : "", items, (int)MG_ARRAY_SIZE(items));
	if (n < 0)
		return n;
	int k = 0;
	for (int i = 0; i < n; i++) {
		int dup = 0;
		for (int j = 0; j < k; j++)
			dup |= z[j] == items[i].z;
		if (!dup && k < max)
			z[k++] = items[i].z;
	}
	return k;
}

int mg_analysis_elements_check(const char *elements)
{
	spec_item items[MG_ANALYSIS_MAX_FAMILIES];
	if (!elements)
		return mg_fail(MG_ERR_ARG, AN_DOM, "no element list");
	int n = parse_elements(elements, items, (int)MG_ARRAY_SIZE(items));
	return n < 0 ? n : 0;
}

/* ---------------------------------------------------------------- families */

typedef struct builder {
	an_family *fam;
	size_t nfam, capfam;
	size_t ngroup;
	long shared;       /* >= 0: units added now join this group */
	an_group *groups;
	size_t capgroups;
	an_line *lines;
	size_t nlines, caplines;
} builder;

static int push_line(builder *b, const an_line *l)
{
	if (b->nlines == b->caplines) {
		size_t cap = b->caplines ? 2 * b->caplines : 256;
		an_line *n = realloc(b->lines, cap * sizeof(*n));
		if (!n)
			return mg_fail(MG_ERR_NOMEM, AN_DOM, "out of memory");
		b->lines = n;
		b->caplines = cap;
	}
	b->lines[b->nlines++] = *l;
	return 0;
}

/* Add a unit; it starts a new reported family unless b->shared names one
 * (then the group is described by `gname`). */
static int push_family(builder *b, const an_family *f, const char *gname)
{
	if (b->nfam >= AN_MAX_UNITS - 1 || b->ngroup >= MG_ANALYSIS_MAX_FAMILIES - 1)
		return mg_fail(MG_ERR_ARG, AN_DOM, "more than %d families", MG_ANALYSIS_MAX_FAMILIES - 1);
	if (b->nfam == b->capfam) {
		size_t cap = b->capfam ? 2 * b->capfam : 32;
		an_family *n = realloc(b->fam, cap * sizeof(*n));
		if (!n)
			return mg_fail(MG_ERR_NOMEM, AN_DOM, "out of memory");
		b->fam = n;
		b->capfam = cap;
	}
	if (b->ngroup == b->capgroups) {
		size_t cap = b->capgroups ? 2 * b->capgroups : 32;
		an_group *n = realloc(b->groups, cap * sizeof(*n));
		if (!n)
			return mg_fail(MG_ERR_NOMEM, AN_DOM, "out of memory");
		b->groups = n;
		b->capgroups = cap;
	}
	an_family u = *f;
	if (b->shared >= 0 && (size_t)b->shared < b->ngroup) {
		an_group *g = &b->groups[b->shared];
		u.group = (size_t)b->shared;
		g->nu++;
		/* the group's main line: the strongest unit's (by the L3 > L2 > L1 order of calls) */
		if (strcmp(u.family, "L3") == 0)
			g->e_main = u.e_main;
	} else {
		an_group g = {.u0 = b->nfam, .nu = 1, .kind = f->kind, .z = f->z, .e_main = f->e_main};
		memcpy(g.element, f->element, sizeof(g.element));
		snprintf(g.family, sizeof(g.family), "%s", gname ? gname : f->family);
		u.group = b->ngroup;
		b->groups[b->ngroup++] = g;
		if (gname)
			b->shared = (long)u.group;
	}
	b->fam[b->nfam++] = u;
	return 0;
}

typedef struct ctx_lines {
	const mg_analysis_config *cfg;
	const an_matrix *mat;
	const mg_xrf_beam *beam;
	double s1, s2; /* sin ψ1, sin ψ2 */
	const double *mu_beam; /* the matrix's μ at each beam energy (use_matrix): the same for every line */
	double *q;             /* scratch: one line's fluorescence cross sections on the beam grid */
	unsigned long long grid; /* mg_xrf_grid_hash of the beam energies */
	int use_matrix;
	int escape;
} ctx_lines;

/* Relative detected intensity of one line (before the family normalisation). */
static double line_intensity(const ctx_lines *c, int z, int line, double el)
{
	double sum = 0;
	double mu_out = c->use_matrix ? mg_xrf_mix_mu(c->mat->n, c->mat->z, c->mat->w, el) / c->s2 : 0;
	mg_xrf_fluor_table_cached(z, line, el, c->beam->energy_kev, c->beam->n, c->grid, c->q);
	for (size_t i = 0; i < c->beam->n; i++) {
		double e0 = c->beam->energy_kev[i];
		if (e0 <= el)
			continue;
		double q = c->q[i];
		if (!(q > 0))
			continue;
		double f = c->use_matrix ? 1.0 / (c->mu_beam[i] / c->s1 + mu_out) : 1.0;
		sum += c->beam->flux[i] * q * f;
	}
	return sum * an_det_efficiency(&c->cfg->det, el);
}

/* Add the family of element z with lines [lo, hi] (xraylib macros, lo > hi
 * numerically: −1 down to −29 etc.). Returns 1 if added, 0 if nothing in
 * the window, negative on error. */
static int add_element_family(builder *b, const ctx_lines *c, int z, const char *name, int lo,
                              int hi, int require_main_in_window)
{
	const double emin = c->cfg->emin_kev, emax = c->cfg->emax_kev;
	size_t first = b->nlines;
	double total = 0, best = 0, ebest = 0;
	int inwin = 0;
	for (int line = lo; line >= hi; line--) {
		double e = mg_xrf_line_energy(z, line);
		if (!(e > 0.05))
			continue;
		double r = line_intensity(c, z, line, e);
		if (!(r > 0) || !isfinite(r))
			continue;
		an_line l = {.e = e, .rate = r, .iupac = line};
		int rc = push_line(b, &l);
		if (rc < 0)
			return rc;
		total += r;
		if (r > best) {
			best = r;
			ebest = e;
		}
	}
	if (!(total > 0)) {
		b->nlines = first;
		return 0;
	}
	/* optional empirical low-energy satellite of Kβ for the 3d metals (the radiative-Auger
	 * shoulder seen ~0.15–0.2 keV below Kβ in high-count spectra) */
	double fr = c->cfg->kb_sat_fraction, sh = c->cfg->kb_sat_shift_kev;
	if (fr > 0 && sh > 0 && z >= 20 && z <= 30 && hi <= KM1_LINE) {
		double kb = 0;
		for (size_t i = first; i < b->nlines; i++)
			if (b->lines[i].iupac <= KM1_LINE)
				kb += b->lines[i].rate;
		an_line l = {.e = mg_xrf_line_energy(z, KM3_LINE) - sh, .rate = fr * kb, .iupac = 0};
		push_line(b, &l);
		total += l.rate;
	}
	/* drop negligible lines, normalise, escape */
	size_t k = first;
	double kept = 0;
	for (size_t i = first; i < b->nlines; i++) {
		if (b->lines[i].rate < 1e-4 * total)
			continue;
		b->lines[k++] = b->lines[i];
		kept += b->lines[i].rate;
	}
	b->nlines = k;
	for (size_t i = first; i < b->nlines; i++) {
		an_line *l = &b->lines[i];
		l->rate /= kept;
		if (l->e >= emin && l->e <= emax && l->rate > 0.01)
			inwin = 1;
		if (c->escape) {
			double pb, pa = mg_xrf_escape_fraction(l->e, &pb);
			double full = 1.0 - pa - pb;
			l->esc_a = full > 0 ? pa / full : 0;
			l->esc_b = full > 0 ? pb / full : 0;
		}
	}
	int main_in = ebest >= emin && ebest <= emax;
	if (!inwin || (require_main_in_window && !main_in)) {
		b->nlines = first;
		return 0;
	}
	an_family f = {.kind = MG_FAMILY_ELEMENT, .z = z, .line0 = first, .nlines = b->nlines - first,
	               .e_main = ebest};
	snprintf(f.element, sizeof(f.element), "%s", mg_element_symbol(z));
	snprintf(f.family, sizeof(f.family), "%s", name);
	int rc = push_family(b, &f, b->shared == -2 ? "L" : b->shared == -3 ? "K" : NULL);
	return rc < 0 ? rc : 1;
}

/* Major elements of the matrix (>= 3 wt%) get free Kα/Kβ and L sub-shell intensities. */
static int split_subshells(const ctx_lines *c, int z)
{
	if (!(c->cfg->flags & MG_AN_FREE_MAJOR))
		return 0;
	for (int i = 0; i < c->mat->n; i++)
		if (c->mat->z[i] == z && c->mat->w[i] >= 0.03)
			return 1;
	return 0;
}

static double max_excitation(const mg_excitation *exc)
{
	return exc->mono_kev > 0 ? exc->mono_kev : exc->kv;
}

static int add_item(builder *b, const ctx_lines *c, const spec_item *it)
{
	int z = it->z;
	double emax_exc = max_excitation(&c->cfg->exc);
	int added = 0, rc;
	int want_k = it->fam == FAM_AUTO || it->fam == FAM_K;
	int want_l = it->fam == FAM_AUTO || it->fam == FAM_L;
	int want_m = it->fam == FAM_AUTO || it->fam == FAM_M;
	int strict = it->fam == FAM_AUTO;
	if (want_k && mg_xrf_edge_energy(z, K_SHELL) < emax_exc) {
		double eka = mg_xrf_line_energy(z, KL3_LINE);
		if (it->fam == FAM_AUTO && split_subshells(c, z) && eka >= c->cfg->emin_kev &&
		    eka <= c->cfg->emax_kev) {
			/* a major element: free Kα and Kβ, reported as one K family */
			int any = 0;
			b->shared = -3;
			rc = add_element_family(b, c, z, "Ka", KL1_LINE, KL3_LINE, 0);
			if (rc >= 0) {
				any |= rc;
				rc = add_element_family(b, c, z, "Kb", KM1_LINE, KP5_LINE, 0);
				any |= rc > 0;
			}
			b->shared = -1;
			if (rc < 0)
				return rc;
			added += any;
		} else {
			rc = add_element_family(b, c, z, "K", KL1_LINE, KP5_LINE, strict);
			if (rc < 0)
				return rc;
			added += rc;
		}
	}
	if (it->fam == FAM_KA || it->fam == FAM_KB) {
		if (mg_xrf_edge_energy(z, K_SHELL) < emax_exc) {
			rc = it->fam == FAM_KA ? add_element_family(b, c, z, "Ka", KL1_LINE, KL3_LINE, 0)
			                       : add_element_family(b, c, z, "Kb", KM1_LINE, KP5_LINE, 0);
			if (rc < 0)
				return rc;
			added += rc;
		}
	}
	if (want_l && mg_xrf_edge_energy(z, L3_SHELL) < emax_exc && z >= 20) {
		if (it->fam == FAM_AUTO && split_subshells(c, z)) {
			/* a major element: free L1, L2, L3 intensities, reported as one L family
			 * (secondary excitation by the matrix's own lines changes their ratios) */
			int any = 0;
			b->shared = -2;
			static const struct {
				int lo, hi, shell;
				const char *name;
			} ss[] = {{L3M1_LINE, L3Q1_LINE, L3_SHELL, "L3"},
			          {L2L3_LINE, L2Q1_LINE, L2_SHELL, "L2"},
			          {L1L2_LINE, L1P5_LINE, L1_SHELL, "L1"}};
			/* only when the L family as a whole is in the window */
			double ela = mg_xrf_line_energy(z, L3M5_LINE);
			if (ela >= c->cfg->emin_kev && ela <= c->cfg->emax_kev)
				for (size_t i = 0; i < MG_ARRAY_SIZE(ss); i++) {
					if (!(mg_xrf_edge_energy(z, ss[i].shell) < emax_exc))
						continue;
					rc = add_element_family(b, c, z, ss[i].name, ss[i].lo, ss[i].hi, 0);
					if (rc < 0) {
						b->shared = -1;
						return rc;
					}
					any |= rc;
				}
			b->shared = -1;
			added += any;
		} else {
			rc = add_element_family(b, c, z, "L", L1L2_LINE, L3Q1_LINE, strict);
			if (rc < 0)
				return rc;
			added += rc;
		}
	}
	static const struct {
		int fam, lo, hi, shell;
		const char *name;
	} sub[] = {
		{FAM_L1, L1L2_LINE, L1P5_LINE, L1_SHELL, "L1"},
		{FAM_L2, L2L3_LINE, L2Q1_LINE, L2_SHELL, "L2"},
		{FAM_L3, L3M1_LINE, L3Q1_LINE, L3_SHELL, "L3"},
	};
	for (size_t i = 0; i < MG_ARRAY_SIZE(sub); i++) {
		if (it->fam != sub[i].fam || !(mg_xrf_edge_energy(z, sub[i].shell) < emax_exc))
			continue;
		rc = add_element_family(b, c, z, sub[i].name, sub[i].lo, sub[i].hi, 0);
		if (rc < 0)
			return rc;
		added += rc;
	}
	if (want_m && z >= 50 && mg_xrf_edge_energy(z, M5_SHELL) < emax_exc) {
		rc = add_element_family(b, c, z, "M", M1M2_LINE, M5P5_LINE, strict);
		if (rc < 0)
			return rc;
		added += rc;
	}
	if (!added) {
		if (it->fam == FAM_AUTO)
			mg_warn(AN_DOM, "%s: no line family excited inside %.2f-%.2f keV; not fitted",
			        mg_element_symbol(z), c->cfg->emin_kev, c->cfg->emax_kev);
		else
			mg_warn(AN_DOM, "%s %s: not excited or outside %.2f-%.2f keV; not fitted", mg_element_symbol(z),
			        famnames[it->fam], c->cfg->emin_kev, c->cfg->emax_kev);
	}
	return added;
}

/* Scatter: Rayleigh and Compton of the beam (mono) or of the anode lines. */
static int add_scatter(builder *b, const ctx_lines *c)
{
	const mg_analysis_config *cfg = c->cfg;
	double theta = an_scatter_angle_deg(&cfg->exc) * M_PI / 180.0;
	double xs = cfg->compton_fwhm_kev > 0 ? cfg->compton_fwhm_kev / AN_FWHM_PER_SIGMA : 0;
	struct group {
		const char *el;
		int z;
		int lo, hi;
		const char *suffix;
	} groups[2];
	size_t ng = 0;
	int za = 0;
	if (cfg->exc.mono_kev > 0) {
		groups[ng++] = (struct group){"", 0, 0, 0, ""};
	} else {
		za = mg_element_z(cfg->exc.anode, strlen(cfg->exc.anode));
		if (za < 1)
			return 0;
		if (mg_xrf_edge_energy(za, K_SHELL) < cfg->exc.kv)
			groups[ng++] = (struct group){mg_element_symbol(za), za, KL1_LINE, KP5_LINE, ""};
		if (mg_xrf_edge_energy(za, L3_SHELL) < cfg->exc.kv)
			groups[ng++] = (struct group){mg_element_symbol(za), za, L1L2_LINE, L3Q1_LINE, "-L"};
	}
	for (size_t g = 0; g < ng; g++) {
		for (int compton = 0; compton < 2; compton++) {
			size_t first = b->nlines;
			double best = 0, ebest = 0, total = 0;
			int inwin = 0;
			if (groups[g].z == 0) {
				double e = cfg->exc.mono_kev;
				an_line l = {.e = compton ? mg_xrf_compton_energy(e, theta) : e, .e0 = e, .rate = 1.0};
				e = l.e;
				int rc = push_line(b, &l);
				if (rc < 0)
					return rc;
				total = best = 1.0;
				ebest = e;
			} else {
				for (int line = groups[g].lo; line >= groups[g].hi; line--) {
					double r = mg_xrf_radrate(za, line), e = mg_xrf_line_energy(za, line);
					if (!(r > 2e-3) || !(e > 0.5))
						continue;
					double e0 = e;
					if (compton)
						e = mg_xrf_compton_energy(e, theta);
					r *= an_det_efficiency(&cfg->det, e);
					an_line l = {.e = e, .e0 = e0, .rate = r, .iupac = line};
					int rc = push_line(b, &l);
					if (rc < 0)
						return rc;
					total += r;
					if (r > best) {
						best = r;
						ebest = e;
					}
				}
			}
			if (!(total > 0)) {
				b->nlines = first;
				continue;
			}
			for (size_t i = first; i < b->nlines; i++) {
				an_line *l = &b->lines[i];
				l->rate /= total;
				if (l->e >= cfg->emin_kev && l->e <= cfg->emax_kev)
					inwin = 1;
				if (c->escape) {
					double pb, pa = mg_xrf_escape_fraction(l->e, &pb);
					double full = 1.0 - pa - pb;
					l->esc_a = full > 0 ? pa / full : 0;
					l->esc_b = full > 0 ? pb / full : 0;
				}
			}
			if (!inwin || !(ebest >= cfg->emin_kev && ebest <= cfg->emax_kev)) {
				b->nlines = first;
				continue;
			}
			an_family f = {.kind = compton ? MG_FAMILY_COMPTON : MG_FAMILY_RAYLEIGH,
			               .z = groups[g].z, .line0 = first, .nlines = b->nlines - first,
			               .extra_sigma = compton ? xs : 0.0, .e_main = ebest};
			snprintf(f.element, sizeof(f.element), "%s", groups[g].el);
			snprintf(f.family, sizeof(f.family), "%s%s", compton ? "Compton" : "Rayleigh",
			         groups[g].suffix);
			int rc = push_family(b, &f, NULL);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int an_lines_build(const mg_analysis_config *cfg, an_family **fam, size_t *nfam, an_group **groups,
                   size_t *ngroup, an_line **lines, size_t *nlines)
{
	spec_item items[MG_ANALYSIS_MAX_FAMILIES];
	int nit = parse_elements(cfg->elements, items, (int)MG_ARRAY_SIZE(items));
	if (nit < 0)
		return nit;
	an_matrix mat;
	int rc = an_matrix_parse(cfg->matrix, &mat);
	if (rc < 0)
		return rc;
	const mg_excitation *x = &cfg->exc;
	mg_xrf_beam *beam = NULL;
	rc = mg_xrf_beam_new_kramers(x->mono_kev, x->anode, x->kv, x->tube_be_um, x->filter, x->filter_um,
	                             &beam);
	if (rc < 0)
		return rc;
	double psi1 = cfg->exc.incidence_deg > 0 ? cfg->exc.incidence_deg : 45.0;
	double psi2 = cfg->exc.takeoff_deg > 0 ? cfg->exc.takeoff_deg : 45.0;
	ctx_lines c = {.cfg = cfg, .mat = &mat, .beam = beam, .s1 = sin(psi1 * M_PI / 180),
	               .s2 = sin(psi2 * M_PI / 180),
	               .use_matrix = (cfg->flags & MG_AN_MATRIX) && mat.n > 0,
	               .escape = (cfg->flags & MG_AN_ESCAPE) != 0};
	builder b = {.shared = -1};
	double *mu_beam = NULL;
	c.grid = mg_xrf_grid_hash(beam->energy_kev, beam->n);
	c.q = malloc((beam->n ? beam->n : 1) * sizeof *c.q);
	if (!c.q) {
		rc = mg_fail(MG_ERR_NOMEM, AN_DOM, "out of memory");
		goto fail;
	}
	if (c.use_matrix) {
		mu_beam = malloc((beam->n ? beam->n : 1) * sizeof *mu_beam);
		if (!mu_beam) {
			rc = mg_fail(MG_ERR_NOMEM, AN_DOM, "out of memory");
			goto fail;
		}
		for (size_t i = 0; i < beam->n; i++)
			mu_beam[i] = mg_xrf_mix_mu(mat.n, mat.z, mat.w, beam->energy_kev[i]);
		c.mu_beam = mu_beam;
	}
	for (int i = 0; i < nit; i++) {
		rc = add_item(&b, &c, &items[i]);
		if (rc < 0)
			goto fail;
	}
	if (cfg->flags & MG_AN_SCATTER) {
		rc = add_scatter(&b, &c);
		if (rc < 0)
			goto fail;
	}
	mg_xrf_beam_free(beam);
	free(mu_beam);
	free(c.q);
	*fam = b.fam;
	*nfam = b.nfam;
	*groups = b.groups;
	*ngroup = b.ngroup;
	*lines = b.lines;
	*nlines = b.nlines;
	return 0;
fail:
	mg_xrf_beam_free(beam);
	free(mu_beam);
	free(c.q);
	free(b.fam);
	free(b.groups);
	free(b.lines);
	return rc;
}

/* ---------------------------------------------------------------- naming table */

int an_cands_build(an_cand **out, size_t *n, double emin, double emax)
{
	static const struct {
		int line;
		const char *name;
		float w;
	} strong[] = {
		{KL3_LINE, "Ka", 1.0f}, {KM3_LINE, "Kb", 0.15f}, {L3M5_LINE, "La", 0.7f},
		{L2M4_LINE, "Lb", 0.45f}, {L2N4_LINE, "Lg", 0.08f}, {M5N7_LINE, "Ma", 0.5f},
	};
	size_t cap = 1024, k = 0;
	an_cand *c = malloc(cap * sizeof(*c));
	if (!c)
		return mg_fail(MG_ERR_NOMEM, AN_DOM, "out of memory");
	for (int z = 11; z <= 92; z++) {
		if (z == 43 || z == 61 || (z >= 84 && z <= 89))
			continue; /* Tc, Pm, Po..Ac: not found in samples */
		for (size_t i = 0; i < MG_ARRAY_SIZE(strong); i++) {
			double e = mg_xrf_line_energy(z, strong[i].line);
			if (!(e > 0) || e < emin - 0.3 || e > emax + 0.3)
				continue;
			if (strong[i].line == M5N7_LINE && z < 57)
				continue;
			if (k == cap) {
				cap *= 2;
				an_cand *nc = realloc(c, cap * sizeof(*c));
				if (!nc) {
					free(c);
					return mg_fail(MG_ERR_NOMEM, AN_DOM, "out of memory");
				}
				c = nc;
			}
			c[k].e = e;
			c[k].weight = strong[i].w;
			c[k].z = (unsigned char)z;
			snprintf(c[k].name, sizeof(c[k].name), "%s", strong[i].name);
			k++;
		}
	}
	*out = c;
	*n = k;
	return 0;
}
