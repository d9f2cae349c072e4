/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Fundamental parameters: the detected full-energy rate of every line family
 * of a thick homogeneous sample, from first principles with xraylib data.
 *
 *  - beam: the tube spectrum (Ebel continuum and anode lines, through the tube
 *    window and filter) of the physics layer, on a grid with a bin boundary at
 *    every absorption edge of the model's elements, the anode and the filter
 *    (so no bin straddles an edge), × the tube → sample atmosphere path
 *    (mg_xrf_beam_new_edges);
 *  - primary fluorescence (Sherman): Σ_E N(E)ΔE·w_i·Q_i,l(E)/sinψ1 / χ(E, E_l),
 *    χ = μ_s(E)/sinψ1 + μ_s(E_l)/sinψ2, Q = CS_FluorLine_Kissel_Cascade
 *    (Coster–Kronig and cascade included);
 *  - secondary fluorescence (Shiraiwa–Fujino, thick sample, as in fisx):
 *    every K/L/M line j of every element J above the analyte's shell edge,
 *    S = Σ_E N ΔE·w_i w_J Q_J,j(E) Q_i,l(E_j)/(2 sinψ1)·[ln(1 + a/μ_j)/a +
 *    ln(1 + b/μ_j)/b]/(a + b), a = μ_s(E)/sinψ1, b = μ_s(E_l)/sinψ2, μ_j = μ_s(E_j)
 *    — Fe K exciting Nd/Pr L3, Dy/Tb Lβ exciting Fe K, the analyte's own L1/L2
 *    lines exciting its L3;
 *  - detection: solid angle Ω/4π of a disc on axis, atmosphere sample →
 *    detector, detector efficiency (Be window, dead layer, full-energy
 *    absorption in the active layer of Si, Ge or CdTe), Si escape removed (the
 *    engine's areas exclude escape events): all the physics layer's
 *    (magassay/xray.h). This file is the plan-once evaluation of a thick sample
 *    for the solver; the simulator's physics/emission.c + secondary.c is the
 *    general (layers, scatter, de Boer) reference it is checked against.
 *
 * Plan once: mg_fp_model_new() tabulates μ of every element on the beam grid
 * and at every line energy, the production cross sections of every line on the
 * beam grid, and the (analyte line, source line) pairs with Q_i,l(E_j). An
 * evaluation is then arithmetic: O(elements × bins) for μ_s, O(lines × bins)
 * for the primary, O(pairs × bins) for the secondary (one division each; the
 * logarithms are per source line and bin, shared by its pairs). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xraylib-lines.h>
#include <xraylib-shells.h>

#include "internal.h"
#include "magassay/quant.h"
#include "magassay/xray.h"
#include "quant_internal.h"

#define BIN_KEV 0.1
#define BEAM_EMIN 1.0  /* the physics layer's beams start there */
#define LINE_KEEP 1e-4   /* lines below this fraction of their family are dropped (as the engine) */
#define SRC_KEEP 2e-3    /* secondary sources below this fraction of their family are ignored */
#define SF_KEEP 1e-2     /* analyte lines below this fraction get the S/P of their shell's nearest line */

const q_fp_knobs q_fp_knobs_none = {1.0, 0.0, 0, 1.0};

typedef struct fp_line {
	int el;        /* element index */
	int iupac;
	int shell;     /* xraylib shell of the vacancy: K 0, L1 1, L2 2, L3 3, M1..M5 4..8 */
	int cls;       /* 0 K, 1 L, 2 M */
	double e;      /* keV */
	double edge;   /* edge of its shell */
	double det;    /* Ω/4π × atmosphere × efficiency × (1 − escape) */
	double rel;    /* relative strength within its family (at the reference energy) */
	size_t qlo;    /* first beam bin above the edge */
	int sf_proxy;  /* line whose S/P it takes (itself when computed), -1 none */
} fp_line;

typedef struct fp_elem {
	int z;
	int first[3], count[3]; /* lines of the K, L, M families (count 0 = not excited) */
	double main_edge;       /* highest edge below kV: where the μ knob applies */
} fp_elem;

typedef struct fp_pair {
	int j;      /* source line */
	double qij; /* Q_i,l(E_j): production of the analyte line by the source photons */
} fp_pair;

struct mg_fp_model {
	mg_instrument_desc ins;
	unsigned flags;
	double s1, s2, s12;
	double solid;     /* Ω/4π */
	mg_xrf_beam *beam;
	size_t nb;
	const double *eb, *flux; /* the beam's energy and photons/s per µA */
	size_t ne;
	fp_elem el[2 * MG_QUANT_MAX_EL];
	double *mu_b;     /* ne × nb */
	size_t nl;
	fp_line *ln;
	double *mu_l;     /* ne × nl */
	double *q;        /* nl × nb */
	size_t *p0;       /* nl + 1: pairs of line l are [p0[l], p0[l+1]) */
	fp_pair *pairs;
	size_t nsrc;
	int *src;         /* source line indices */
	int *slot;        /* line → source slot, -1 */
};

/* ---------------------------------------------------------------- helpers */

int q_family_class(const char *label)
{
	if (!label || !label[0])
		return -1;
	if (label[0] == 'K')
		return 0;
	if (label[0] == 'L')
		return 1;
	if (label[0] == 'M')
		return 2;
	return -1;
}

/* Does line (iupac, shell) belong to the family label? */
static int label_has(const char *label, int iupac, int shell)
{
	if (strcmp(label, "K") == 0)
		return shell == K_SHELL;
	if (strcmp(label, "Ka") == 0)
		return iupac <= KL1_LINE && iupac >= KL3_LINE;
	if (strcmp(label, "Kb") == 0)
		return shell == K_SHELL && iupac < KL3_LINE;
	if (strcmp(label, "L") == 0)
		return shell >= L1_SHELL && shell <= L3_SHELL;
	if (strcmp(label, "L1") == 0)
		return shell == L1_SHELL;
	if (strcmp(label, "L2") == 0)
		return shell == L2_SHELL;
	if (strcmp(label, "L3") == 0)
		return shell == L3_SHELL;
	if (strcmp(label, "La") == 0)
		return iupac == L3M4_LINE || iupac == L3M5_LINE;
	if (strcmp(label, "M") == 0)
		return shell >= M1_SHELL && shell <= M5_SHELL;
	return 0;
}

double mg_fp_detector_efficiency(const mg_fp_model *m, double e_kev)
{
	if (!m)
		return 0;
	const mg_instrument_desc *d = &m->ins;
	return mg_xrf_sensor_efficiency(mg_instrument_desc_sensor(d), d->det_be_um, d->det_dead_layer_um,
	                                d->det_thickness_mm, 0.0, e_kev);
}

/* ---------------------------------------------------------------- building */

void mg_fp_model_free(mg_fp_model *m)
{
	if (!m)
		return;
	mg_xrf_beam_free(m->beam);
	free(m->mu_b);
	free(m->ln);
	free(m->mu_l);
	free(m->q);
	free(m->p0);
	free(m->pairs);
	free(m->src);
	free(m->slot);
	free(m);
}

static int parse_elements(mg_fp_model *m, const char *list)
{
	const char *p = list;
	while (p && *p) {
		while (*p == ',' || *p == ' ' || *p == ';' || *p == '\t')
			p++;
		if (!*p)
			break;
		const char *s = p;
		while (*p && *p != ',' && *p != ' ' && *p != ';' && *p != '\t' && *p != ':')
			p++;
		int z = q_symbol_z(s, (size_t)(p - s));
		if (z < 1 || z > 94)
			return mg_fail(MG_ERR_ARG, QDOM, "FP elements \"%s\": '%.*s' is not an element", list,
			               (int)(p - s > 8 ? 8 : p - s), s);
		while (*p && *p != ',' && *p != ' ' && *p != ';' && *p != '\t')
			p++; /* ignore ":family" */
		int dup = 0;
		for (size_t i = 0; i < m->ne; i++)
			dup |= m->el[i].z == z;
		if (dup)
			continue;
		if (m->ne >= MG_ARRAY_SIZE(m->el))
			return mg_fail(MG_ERR_ARG, QDOM, "FP elements: more than %zu", MG_ARRAY_SIZE(m->el));
		m->el[m->ne++].z = z;
	}
	if (!m->ne)
		return mg_fail(MG_ERR_ARG, QDOM, "FP elements: empty list");
	return 0;
}

/* The beam on a grid of bins of about BIN_KEV with a boundary at every edge
 * of the model's elements, of the anode and of the filter (physics layer). */
static int build_beam(mg_fp_model *m)
{
	mg_xrf_tube tube;
	mg_xrf_geometry geom;
	int z[2 * MG_QUANT_MAX_EL];
	mg_instrument_desc_tube(&m->ins, &tube);
	mg_instrument_desc_geometry(&m->ins, &geom);
	for (size_t i = 0; i < m->ne; i++)
		z[i] = m->el[i].z;
	int rc = mg_xrf_beam_new_edges(&tube, &geom, z, m->ne, BIN_KEV, &m->beam);
	if (rc < 0)
		return rc;
	m->eb = m->beam->energy_kev;
	m->flux = m->beam->flux;
	m->nb = m->beam->n;
	if (!m->nb)
		return mg_fail(MG_ERR_ARG, QDOM, "FP: the tube gives no photons above %g keV", BEAM_EMIN);
	return 0;
}

typedef struct lbuf {
	fp_line *v;
	size_t n, cap;
} lbuf;

static int lbuf_push(lbuf *b, const fp_line *l)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 256;
		fp_line *nv = realloc(b->v, cap * sizeof *nv);
		if (!nv)
			return mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
		b->v = nv;
		b->cap = cap;
	}
	b->v[b->n++] = *l;
	return 0;
}

/* Lines of element i's family class c (0 K, 1 L, 2 M) that the tube excites. */
static int build_family(mg_fp_model *m, lbuf *b, size_t i, int c)
{
	static const int lo[3] = {KL1_LINE, L1L2_LINE, M1M2_LINE}, hi[3] = {KP5_LINE, L3Q1_LINE, M5P5_LINE};
	static const int sh_lo[3] = {K_SHELL, L1_SHELL, M1_SHELL}, sh_hi[3] = {K_SHELL, L3_SHELL, M5_SHELL};
	int z = m->el[i].z;
	if (c == 2 && z < 50)
		return 0;
	/* reference energy: above every edge of the family that the tube excites */
	double eref = 0;
	for (int s = sh_lo[c]; s <= sh_hi[c]; s++) {
		double e = mg_xrf_edge_energy(z, s);
		if (e > 0 && e < m->ins.kv && e > eref)
			eref = e;
	}
	if (!(eref > 0))
		return 0;
	eref = fmin(eref * 1.3, m->ins.kv);
	size_t first = b->n;
	double total = 0;
	for (int line = lo[c]; line >= hi[c]; line--) {
		double e = mg_xrf_line_energy(z, line);
		if (!(e > 0.05))
			continue;
		int sh = mg_xrf_line_shell(line);
		double edge = mg_xrf_edge_energy(z, sh);
		if (!(edge > 0) || edge >= m->ins.kv)
			continue;
		double r = mg_xrf_fluor_cs(z, line, eref);
		if (!(r > 0) || !isfinite(r))
			continue;
		fp_line l = {.el = (int)i, .iupac = line, .shell = sh, .cls = c, .e = e, .edge = edge, .rel = r};
		int rc = lbuf_push(b, &l);
		if (rc < 0)
			return rc;
		total += r;
	}
	size_t k = first;
	for (size_t j = first; j < b->n; j++) {
		if (b->v[j].rel < LINE_KEEP * total)
			continue;
		b->v[k] = b->v[j];
		b->v[k].rel /= total;
		k++;
	}
	b->n = k;
	m->el[i].first[c] = (int)first;
	m->el[i].count[c] = (int)(k - first);
	return 0;
}

int mg_fp_model_new(const mg_instrument_desc *ins, const char *elements, unsigned flags, mg_fp_model **out)
{
	if (!ins || !elements || !out)
		return mg_fail(MG_ERR_ARG, QDOM, "FP model: NULL argument");
	*out = NULL;
	int rc = mg_instrument_desc_check(ins);
	if (rc < 0)
		return rc;
	mg_fp_model *m = calloc(1, sizeof *m);
	if (!m)
		return mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
	m->ins = *ins;
	m->flags = flags;
	m->s1 = sin(ins->incidence_deg * M_PI / 180);
	m->s2 = sin(ins->takeoff_deg * M_PI / 180);
	m->s12 = m->s1 / m->s2;
	m->solid = mg_xrf_solid_fraction(ins->det_area_mm2, ins->det_distance_mm);
	lbuf lb = {0};
	if ((rc = parse_elements(m, elements)) < 0 || (rc = build_beam(m)) < 0)
		goto fail;
	for (size_t i = 0; i < m->ne; i++) {
		for (int c = 0; c < 3; c++)
			if ((rc = build_family(m, &lb, i, c)) < 0)
				goto fail;
		double me = 0;
		for (int s = K_SHELL; s <= L3_SHELL; s++) {
			double e = mg_xrf_edge_energy(m->el[i].z, s);
			if (e > 0 && e < ins->kv && e > me)
				me = e;
		}
		m->el[i].main_edge = me;
	}
	m->ln = lb.v;
	m->nl = lb.n;
	lb.v = NULL;
	const size_t nb = m->nb, ne = m->ne, nl = m->nl;
	m->mu_b = malloc(ne * nb * sizeof(double));
	m->mu_l = malloc(ne * (nl ? nl : 1) * sizeof(double));
	m->q = malloc((nl ? nl : 1) * nb * sizeof(double));
	m->p0 = calloc(nl + 1, sizeof(size_t));
	m->slot = malloc((nl ? nl : 1) * sizeof(int));
	m->src = malloc((nl ? nl : 1) * sizeof(int));
	if (!m->mu_b || !m->mu_l || !m->q || !m->p0 || !m->slot || !m->src) {
		rc = mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
		goto fail;
	}
	for (size_t e = 0; e < ne; e++) {
		for (size_t b = 0; b < nb; b++)
			m->mu_b[e * nb + b] = mg_xrf_mu(m->el[e].z, m->eb[b]);
		for (size_t l = 0; l < nl; l++)
			m->mu_l[e * nl + l] = mg_xrf_mu(m->el[e].z, m->ln[l].e);
	}
	mg_xrf_geometry geom;
	mg_instrument_desc_geometry(ins, &geom);
	int si = mg_instrument_desc_sensor(ins) == MG_XRF_SENSOR_SI;
	for (size_t l = 0; l < nl; l++) {
		fp_line *L = &m->ln[l];
		int z = m->el[L->el].z;
		double *q = m->q + l * nb;
		mg_xrf_fluor_table(z, L->iupac, L->edge, m->eb, nb, q);
		L->qlo = nb;
		for (size_t b = 0; b < nb && L->qlo == nb; b++)
			if (q[b] > 0)
				L->qlo = b;
		double esc = 0, kb = 0;
		if (si)
			esc = mg_xrf_escape_fraction(L->e, &kb);
		L->det = m->solid * mg_xrf_atmosphere_transmission(geom.atmosphere, geom.det_path_mm, L->e) *
		         mg_fp_detector_efficiency(m, L->e) * (1.0 - esc - kb);
		m->slot[l] = -1;
		L->sf_proxy = -1;
	}
	/* secondary sources: lines of at least SRC_KEEP of their family */
	m->nsrc = 0;
	for (size_t l = 0; l < nl; l++)
		if (m->ln[l].rel >= SRC_KEEP && m->ln[l].e > BEAM_EMIN) {
			m->slot[l] = (int)m->nsrc;
			m->src[m->nsrc++] = (int)l;
		}
	/* analyte lines with computed secondary, the rest take the S/P of the nearest
	 * computed line of the same shell */
	if (!(flags & MG_FP_NO_SECONDARY)) {
		for (size_t l = 0; l < nl; l++)
			if (m->ln[l].rel >= SF_KEEP)
				m->ln[l].sf_proxy = (int)l;
		for (size_t l = 0; l < nl; l++) {
			if (m->ln[l].sf_proxy >= 0)
				continue;
			double best = INFINITY;
			for (size_t k = 0; k < nl; k++)
				if ((size_t)m->ln[k].sf_proxy == k && m->ln[k].el == m->ln[l].el &&
				    m->ln[k].shell == m->ln[l].shell && fabs(m->ln[k].e - m->ln[l].e) < best) {
					best = fabs(m->ln[k].e - m->ln[l].e);
					m->ln[l].sf_proxy = (int)k;
				}
		}
		size_t np = 0, cap = 0;
		for (size_t l = 0; l < nl; l++) {
			m->p0[l] = np;
			const fp_line *L = &m->ln[l];
			if ((size_t)L->sf_proxy != l)
				continue;
			int z = m->el[L->el].z;
			for (size_t s = 0; s < m->nsrc; s++) {
				const fp_line *J = &m->ln[m->src[s]];
				if (!(J->e > L->edge))
					continue;
				double qij = mg_xrf_fluor_cs(z, L->iupac, J->e);
				if (!(qij > 0) || !isfinite(qij))
					continue;
				if (np == cap) {
					cap = cap ? 2 * cap : 1024;
					fp_pair *nv = realloc(m->pairs, cap * sizeof *nv);
					if (!nv) {
						rc = mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
						goto fail;
					}
					m->pairs = nv;
				}
				m->pairs[np].j = m->src[s];
				m->pairs[np].qij = qij;
				np++;
			}
		}
		m->p0[nl] = np;
	}
	mg_dbg(QDOM, "FP model: %zu elements, %zu beam bins, %zu lines, %zu sources, %zu pairs", ne, nb, nl,
	       m->nsrc, m->p0[nl]);
	*out = m;
	return 0;
fail:
	free(lb.v);
	mg_fp_model_free(m);
	return rc;
}

/* ---------------------------------------------------------------- queries */

int q_fp_element_index(const mg_fp_model *m, int z)
{
	for (size_t i = 0; i < m->ne; i++)
		if (m->el[i].z == z)
			return (int)i;
	return -1;
}

size_t q_fp_nelements(const mg_fp_model *m)
{
	return m->ne;
}

int q_fp_element_z(const mg_fp_model *m, size_t i)
{
	return i < m->ne ? m->el[i].z : 0;
}

/* A family is encoded as element × 16 + label index. */
static const char *const labels[] = {"K", "Ka", "Kb", "L", "L1", "L2", "L3", "La", "M"};

int q_fp_family(const mg_fp_model *m, int z, const char *label)
{
	int e = q_fp_element_index(m, z);
	if (e < 0)
		return mg_fail(MG_ERR_ARG, QDOM, "FP: element %s is not in the model", q_z_symbol(z));
	int li = -1;
	for (size_t i = 0; i < MG_ARRAY_SIZE(labels); i++)
		if (label && strcmp(label, labels[i]) == 0)
			li = (int)i;
	if (li < 0)
		return mg_fail(MG_ERR_ARG, QDOM, "FP: family '%s' of %s unknown (K Ka Kb L L1 L2 L3 La M)",
		               label ? label : "", q_z_symbol(z));
	int c = q_family_class(label);
	const fp_elem *E = &m->el[e];
	int any = 0;
	for (int k = 0; k < E->count[c]; k++) {
		const fp_line *L = &m->ln[E->first[c] + k];
		any |= label_has(label, L->iupac, L->shell);
	}
	if (!any)
		return mg_fail(MG_ERR_NOT_FOUND, QDOM, "FP: %s %s not excited at %g kV", q_z_symbol(z), label,
		               m->ins.kv);
	return e * 16 + li;
}

/* ---------------------------------------------------------------- evaluation */

int q_fp_eval(const mg_fp_model *m, const double *w, const q_fp_knobs *k, const int *fam, size_t nfam,
              double *out_p, double *out_s)
{
	const size_t nb = m->nb, ne = m->ne, nl = m->nl;
	if (!k)
		k = &q_fp_knobs_none;
	double *mus_b = malloc(nb * sizeof(double)), *mus_l = malloc((nl ? nl : 1) * sizeof(double));
	double *flux = malloc(nb * sizeof(double));
	double *prim = calloc(nl ? nl : 1, sizeof(double)), *sec = calloc(nl ? nl : 1, sizeof(double));
	unsigned char *need = calloc(nl ? nl : 1, 1);
	double *la = NULL;
	if (!mus_b || !mus_l || !flux || !prim || !sec || !need) {
		free(mus_b);
		free(mus_l);
		free(flux);
		free(prim);
		free(sec);
		free(need);
		return mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
	}
	/* matrix absorption */
	int kz = k->mu_z ? q_fp_element_index(m, k->mu_z) : -1;
	for (size_t b = 0; b < nb; b++) {
		double s = 0;
		for (size_t e = 0; e < ne; e++) {
			double mu = m->mu_b[e * nb + b];
			if ((int)e == kz && m->eb[b] > m->el[e].main_edge)
				mu *= k->mu_scale;
			s += w[e] * mu;
		}
		mus_b[b] = s;
		flux[b] = m->flux[b] * (k->tilt != 0 ? pow(m->eb[b] / 10.0, k->tilt) : 1.0);
	}
	for (size_t l = 0; l < nl; l++) {
		double s = 0;
		for (size_t e = 0; e < ne; e++) {
			double mu = m->mu_l[e * nl + l];
			if ((int)e == kz && m->ln[l].e > m->el[e].main_edge)
				mu *= k->mu_scale;
			s += w[e] * mu;
		}
		mus_l[l] = s;
	}
	/* which lines are needed */
	for (size_t f = 0; f < nfam; f++) {
		int e = fam[f] / 16, li = fam[f] % 16;
		if (e < 0 || (size_t)e >= ne || li >= (int)MG_ARRAY_SIZE(labels))
			continue;
		int c = q_family_class(labels[li]);
		for (int j = 0; j < m->el[e].count[c]; j++) {
			int l = m->el[e].first[c] + j;
			if (label_has(labels[li], m->ln[l].iupac, m->ln[l].shell)) {
				need[l] = 1;
				if (m->ln[l].sf_proxy >= 0)
					need[m->ln[l].sf_proxy] = 1;
			}
		}
	}
	const double s12 = m->s12, s1 = m->s1, s2 = m->s2;
	for (size_t l = 0; l < nl; l++) {
		if (!need[l])
			continue;
		const fp_line *L = &m->ln[l];
		double wi = w[L->el];
		if (!(wi > 0))
			continue;
		const double *q = m->q + l * nb;
		double bl = mus_l[l] * s12, sum = 0;
		for (size_t b = L->qlo; b < nb; b++)
			sum += flux[b] * q[b] / (mus_b[b] + bl);
		prim[l] = wi * sum;
	}
	int do_sf = !(m->flags & MG_FP_NO_SECONDARY) && k->sf_scale != 0;
	if (do_sf && m->nsrc) {
		la = malloc((2 * m->nsrc + 1) * nb * sizeof(double));
		if (!la) {
			free(mus_b);
			free(mus_l);
			free(flux);
			free(prim);
			free(sec);
			free(need);
			return mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
		}
		/* per source and bin (sources with w_J > 0, bins above their edge): ln(1 + a/μ_j)/a
		 * and N(E)·Q_J,j(E); a = μ_s(E)/sinψ1 per bin */
		double *fqs = la + m->nsrc * nb, *ab = la + 2 * m->nsrc * nb;
		for (size_t b = 0; b < nb; b++)
			ab[b] = mus_b[b] / s1;
		for (size_t s = 0; s < m->nsrc; s++) {
			const fp_line *J = &m->ln[m->src[s]];
			if (!(w[J->el] > 0))
				continue;
			double muj = mus_l[m->src[s]];
			double *row = la + s * nb, *fq = fqs + s * nb;
			const double *q = m->q + (size_t)m->src[s] * nb;
			for (size_t b = J->qlo; b < nb; b++) {
				row[b] = log1p(ab[b] / muj) / ab[b];
				fq[b] = flux[b] * q[b];
			}
		}
		for (size_t l = 0; l < nl; l++) {
			if (!need[l] || (size_t)m->ln[l].sf_proxy != l)
				continue;
			const fp_line *L = &m->ln[l];
			double wi = w[L->el];
			if (!(wi > 0))
				continue;
			double bb = mus_l[l] / s2, total = 0;
			for (size_t p = m->p0[l]; p < m->p0[l + 1]; p++) {
				int j = m->pairs[p].j;
				const fp_line *J = &m->ln[j];
				double wj = w[J->el];
				if (!(wj > 0))
					continue;
				double muj = mus_l[j];
				double lb = log1p(bb / muj) / bb;
				const double *fq = fqs + (size_t)m->slot[j] * nb, *row = la + (size_t)m->slot[j] * nb;
				double sum = 0;
				for (size_t b = J->qlo; b < nb; b++)
					sum += fq[b] * (row[b] + lb) / (ab[b] + bb);
				total += wj * m->pairs[p].qij * sum;
			}
			sec[l] = k->sf_scale * wi * total / (2 * s1);
		}
		/* proxies: the same S/P */
		for (size_t l = 0; l < nl; l++) {
			int p = m->ln[l].sf_proxy;
			if (!need[l] || p < 0 || (size_t)p == l)
				continue;
			sec[l] = prim[p] > 0 ? prim[l] * sec[p] / prim[p] : 0;
		}
	}
	for (size_t f = 0; f < nfam; f++) {
		int e = fam[f] / 16, li = fam[f] % 16;
		double P = 0, S = 0;
		if (e >= 0 && (size_t)e < ne && li < (int)MG_ARRAY_SIZE(labels)) {
			int c = q_family_class(labels[li]);
			for (int j = 0; j < m->el[e].count[c]; j++) {
				int l = m->el[e].first[c] + j;
				if (!label_has(labels[li], m->ln[l].iupac, m->ln[l].shell))
					continue;
				P += prim[l] * m->ln[l].det;
				S += sec[l] * m->ln[l].det;
			}
		}
		if (out_p)
			out_p[f] = P;
		if (out_s)
			out_s[f] = S;
	}
	free(la);
	free(mus_b);
	free(mus_l);
	free(flux);
	free(prim);
	free(sec);
	free(need);
	return 0;
}

int mg_fp_intensity(const mg_fp_model *m, const mg_quant_comp *comp, int z, const char *line, double *primary,
                    double *secondary)
{
	if (!m || !comp || !line)
		return mg_fail(MG_ERR_ARG, QDOM, "FP intensity: NULL argument");
	double w[2 * MG_QUANT_MAX_EL] = {0}, sum = 0;
	for (size_t i = 0; i < comp->n; i++) {
		int e = q_fp_element_index(m, comp->z[i]);
		if (e < 0)
			return mg_fail(MG_ERR_ARG, QDOM, "FP intensity: %s is not in the model", q_z_symbol(comp->z[i]));
		if (comp->w[i] > 0) {
			w[e] += comp->w[i];
			sum += comp->w[i];
		}
	}
	if (!(sum > 0))
		return mg_fail(MG_ERR_ARG, QDOM, "FP intensity: empty composition");
	for (size_t e = 0; e < m->ne; e++)
		w[e] /= sum;
	int fam = q_fp_family(m, z, line);
	if (fam < 0)
		return fam;
	double p, s;
	int rc = q_fp_eval(m, w, NULL, &fam, 1, &p, &s);
	if (rc < 0)
		return rc;
	if (primary)
		*primary = p;
	if (secondary)
		*secondary = s;
	return 0;
}
