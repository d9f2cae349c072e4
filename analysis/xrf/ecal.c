/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Automatic energy calibration: peak search (Mariscotti, by FFT), then every
 * pair of strong peaks is matched to every pair of known lines (Kα/Kβ, Lα/Lβ,
 * Mα of the listed elements, the tube lines scattered by the sample or the
 * beam, and the zero-energy peak some processors record); each candidate
 * (offset, gain) is scored by how many peaks land on a known line, the best is
 * refined by least squares over its matches (quadratic with enough peaks).
 * The nonlinear refinement (fit_nonlinear.c) then polishes it on the whole
 * spectrum. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <xraylib-lines.h>
#include <xraylib-shells.h>

#include "elements.h"
#include "an.h"
#include "internal.h"

#define MAXPK 16
#define MAXLN 96

typedef struct kline {
	double e, w;
	int partner; /* a Kβ/Lβ: index of its Kα/Lα (only counts together with it); −1 */
	int id;      /* pairs up an α line with its β: id of the α line */
} kline;

/* Add a line; `alpha` >= 0 marks a β line whose α is line id `alpha`. Returns
 * the new count; *id gets the line's id (its index). Lines closer than 20 eV
 * merge (the first one stays). */
static int add_line(kline *l, int n, double e, double w, int alpha, int *id)
{
	if (id)
		*id = -1;
	if (n >= MAXLN || !(e >= 0))
		return n;
	for (int i = 0; i < n; i++)
		if (fabs(l[i].e - e) < 0.02) {
			if (id)
				*id = l[i].id;
			return n;
		}
	l[n] = (kline){e, w, alpha, n};
	if (id)
		*id = n;
	return n + 1;
}

static int known_lines(const mg_analysis_config *cfg, kline *l)
{
	int zs[64], n = 0, a;
	int nz = an_elements_z(cfg->elements, zs, 64);
	double emax = cfg->exc.mono_kev > 0 ? cfg->exc.mono_kev : cfg->exc.kv;
	for (int i = 0; i < nz; i++) {
		int z = zs[i];
		if (mg_xrf_edge_energy(z, K_SHELL) < emax) {
			n = add_line(l, n, mg_xrf_line_energy(z, MG_XRF_KA_GROUP), 1.0, -1, &a);
			n = add_line(l, n, mg_xrf_line_energy(z, MG_XRF_KB_GROUP), 1.0, a, NULL);
		}
		if (z >= 20 && mg_xrf_edge_energy(z, L3_SHELL) < emax &&
		    mg_xrf_line_energy(z, MG_XRF_LA_GROUP) > 0.9) {
			n = add_line(l, n, mg_xrf_line_energy(z, MG_XRF_LA_GROUP), 1.0, -1, &a);
			n = add_line(l, n, mg_xrf_line_energy(z, L2M4_LINE), 1.0, a, NULL);
		}
		if (z >= 72 && mg_xrf_line_energy(z, M5N7_LINE) > 0.9)
			n = add_line(l, n, mg_xrf_line_energy(z, M5N7_LINE), 1.0, -1, NULL);
	}
	if (cfg->exc.mono_kev > 0) {
		n = add_line(l, n, cfg->exc.mono_kev, 1.0, -1, NULL);
	} else {
		int za = mg_element_z(cfg->exc.anode, strlen(cfg->exc.anode));
		if (za < 0)
			za = 0;
		if (za && mg_xrf_edge_energy(za, K_SHELL) < cfg->exc.kv) {
			n = add_line(l, n, mg_xrf_line_energy(za, MG_XRF_KA_GROUP), 1.0, -1, &a);
			n = add_line(l, n, mg_xrf_line_energy(za, MG_XRF_KB_GROUP), 1.0, a, NULL);
		}
		if (za && mg_xrf_edge_energy(za, L3_SHELL) < cfg->exc.kv &&
		    mg_xrf_line_energy(za, MG_XRF_LA_GROUP) > 0.9)
			n = add_line(l, n, mg_xrf_line_energy(za, MG_XRF_LA_GROUP), 1.0, -1, NULL);
	}
	n = add_line(l, n, 0.0, 1.0, -1, NULL); /* zero peak */
	/* sort by energy, keeping the α/β links through the ids */
	for (int x = 1; x < n; x++)
		for (int y = x; y > 0 && l[y].e < l[y - 1].e; y--) {
			kline t = l[y];
			l[y] = l[y - 1];
			l[y - 1] = t;
		}
	return n;
}

static double fwhm(const mg_analysis_config *cfg, double e)
{
	double nz = cfg->det.noise_kev > 0 ? cfg->det.noise_kev : 0.12;
	double f = cfg->det.fano > 0 ? cfg->det.fano : 0.12;
	return sqrt(nz * nz + AN_FWHM_PER_SIGMA * AN_FWHM_PER_SIGMA * f * AN_EPS_SI * (e > 0 ? e : 0));
}

typedef struct cand {
	double off, gain, score;
	int nmatch;
	int match[MAXPK]; /* line index per peak, −1 */
} cand;

static void score(const mg_analysis_config *cfg, const mg_peak *pk, int npk, const kline *l, int nl,
                  cand *c)
{
	unsigned char used[MAXLN] = {0};
	double gained[MAXLN] = {0};
	double unexplained[MAXPK] = {0}; /* the penalty of each peak no line explains */
	c->score = 0;
	c->nmatch = 0;
	for (int q = 0; q < npk; q++) {
		c->match[q] = -1;
		double e = c->off + c->gain * pk[q].channel;
		if (e < -0.3) { /* a peak below zero energy: impossible */
			c->score -= log1p(pk[q].significance);
			continue;
		}
		double tol = 0.5 * fwhm(cfg, e);
		if (tol < 2.5 * c->gain)
			tol = 2.5 * c->gain;
		int best = -1;
		double bd = tol;
		for (int i = 0; i < nl; i++) {
			double d = fabs(l[i].e - e);
			if (d < bd && !used[i]) {
				bd = d;
				best = i;
			}
		}
		if (best < 0) {
			/* an unexplained peak counts against the calibration (half weight:
			 * scatter is not in the list); escape and sum peaks are checked below */
			unexplained[q] = 0.5 * log1p(pk[q].significance);
			continue;
		}
		used[best] = 1;
		c->match[q] = best;
		c->nmatch++;
		gained[best] = l[best].w * (1.0 - 0.5 * bd / tol) * log1p(pk[q].significance);
		c->score += gained[best];
	}
	/* a β line without its α is no evidence (and the peak stays unexplained); an α with
	 * its β found is better evidence than two unrelated lines */
	for (int i = 0; i < nl; i++) {
		if (!used[i] || l[i].partner < 0)
			continue;
		int alpha = -1;
		for (int k = 0; k < nl; k++)
			if (l[k].id == l[i].partner)
				alpha = k;
		if (alpha >= 0 && used[alpha]) {
			c->score += 0.5 * (gained[i] < gained[alpha] ? gained[i] : gained[alpha]);
		} else {
			c->score -= 1.5 * gained[i];
			for (int q = 0; q < npk; q++)
				if (c->match[q] == i) {
					c->match[q] = -1;
					c->nmatch--;
				}
		}
	}
	/* a peak where the calibration puts the Si escape (E − 1.74 keV) or the sum
	 * peak (2E) of a line it found is explained too: the right calibration
	 * explains a pure element's whole spectrum, a wrong one leaves these over
	 * (on a spectrum with few lines this is what tells them apart) */
	for (int q = 0; q < npk; q++) {
		if (unexplained[q] <= 0)
			continue;
		double e = c->off + c->gain * pk[q].channel;
		double tol = 0.5 * fwhm(cfg, e);
		if (tol < 2.5 * c->gain)
			tol = 2.5 * c->gain;
		int explained = 0;
		for (int p = 0; p < npk && !explained; p++) {
			if (c->match[p] < 0 || pk[p].significance < pk[q].significance)
				continue;
			double E = l[c->match[p]].e;
			explained = (E > 2.5 && fabs(e - (E - AN_SI_KA_KEV)) < tol) || (E > 0.5 && fabs(e - 2 * E) < tol);
		}
		if (!explained)
			c->score -= unexplained[q];
	}
}

static int fit_matches(const mg_peak *pk, int npk, const kline *l, const cand *c, int quadratic,
                       mg_energy_cal *out)
{
	double ch[MAXPK], en[MAXPK];
	int m = 0;
	for (int q = 0; q < npk; q++)
		if (c->match[q] >= 0) {
			ch[m] = pk[q].channel;
			en[m] = l[c->match[q]].e;
			m++;
		}
	if (m < 2)
		return -1;
	out->valid = 1;
	return mg_energy_cal_fit(out, ch, en, (size_t)m, quadratic && m >= 5);
}

int mg_analysis_auto_cal(const mg_analysis_config *cfg, const double *counts, size_t nchan,
                         int use_hint, int quadratic, mg_energy_cal *out, size_t *npeaks_used)
{
	if (!cfg || !counts || !out || nchan < 64)
		return mg_fail(MG_ERR_ARG, AN_DOM, "auto calibration: bad arguments");
	kline l[MAXLN];
	int nl = known_lines(cfg, l);
	const mg_energy_cal *hint = use_hint && cfg->cal.valid && cfg->cal.gain_kev > 0 ? &cfg->cal : NULL;
	double widths[3];
	int nw = 0;
	if (hint) {
		widths[nw++] = fwhm(cfg, 6.0) / hint->gain_kev;
	} else {
		widths[nw++] = 4;
		widths[nw++] = 8;
		widths[nw++] = 16;
	}
	const double emax_exc = cfg->exc.mono_kev > 0 ? cfg->exc.mono_kev : cfg->exc.kv;
	cand best = {.score = -1e300};
	/* peaks found at every trial width, merged (the strongest of near ones kept) */
	mg_peak pk[3 * MAXPK];
	int npk = 0;
	for (int wi = 0; wi < nw; wi++) {
		mg_peak one[MAXPK];
		double w = widths[wi] < 2 ? 2 : widths[wi];
		int rc = mg_peak_search(counts, nchan, w, 4.0, one, MAXPK);
		if (rc < 0)
			return rc;
		for (int q = 0; q < rc && q < MAXPK; q++) {
			int dup = -1;
			for (int k = 0; k < npk; k++)
				if (fabs(pk[k].channel - one[q].channel) < 0.75 * (w < pk[k].fwhm_ch ? w : pk[k].fwhm_ch))
					dup = k;
			if (dup < 0)
				pk[npk++] = one[q];
			else if (one[q].significance > pk[dup].significance)
				pk[dup] = one[q];
		}
	}
	/* the strongest MAXPK */
	for (int a = 1; a < npk; a++)
		for (int b = a; b > 0 && pk[b].significance > pk[b - 1].significance; b--) {
			mg_peak t = pk[b];
			pk[b] = pk[b - 1];
			pk[b - 1] = t;
		}
	if (npk > MAXPK)
		npk = MAXPK;
	mg_peak bestpk[MAXPK];
	int bestnpk = npk;
	memcpy(bestpk, pk, (size_t)npk * sizeof(mg_peak));
	for (int a = 0; a < npk; a++)
		for (int b = 0; b < npk; b++) {
			if (pk[b].channel - pk[a].channel < 5)
				continue;
			for (int i = 0; i < nl; i++)
				for (int j = i + 1; j < nl; j++) {
					cand c;
					c.gain = (l[j].e - l[i].e) / (pk[b].channel - pk[a].channel);
					c.off = l[i].e - c.gain * pk[a].channel;
					if (hint) {
						if (fabs(c.gain / hint->gain_kev - 1) > 0.05 ||
						    fabs(c.off - hint->offset_kev) > 0.3)
							continue;
					} else if (!(c.gain > 0.002 && c.gain < 0.1) || fabs(c.off) > 2.0) {
						continue;
					} else {
						/* the axis covers a sensible part of the excitation range */
						double top = c.off + c.gain * (double)nchan;
						if (top < 0.4 * emax_exc || top > 4 * emax_exc)
							continue;
					}
					score(cfg, pk, npk, l, nl, &c);
					if (c.nmatch >= 3 && c.score > best.score)
						best = c;
				}
		}
	if (best.score <= -1e299)
		return mg_fail(MG_ERR_NOT_FOUND, AN_DOM,
		               "auto calibration: no three peaks match known lines of %s and the tube",
		               cfg->elements);
	for (int q = 0; q < bestnpk; q++)
		mg_dbg(AN_DOM, "auto calibration: peak %d at channel %.1f (%.1fσ) -> %.3f keV%s", q,
		       bestpk[q].channel, bestpk[q].significance, best.off + best.gain * bestpk[q].channel,
		       best.match[q] >= 0 ? "" : " (unmatched)");
	/* refine by least squares, re-match, refine again */
	mg_energy_cal cal = {0};
	for (int it = 0; it < 3; it++) {
		if (fit_matches(bestpk, bestnpk, l, &best, quadratic, &cal) < 0)
			break;
		cand c = best;
		c.off = cal.offset_kev;
		c.gain = cal.gain_kev;
		/* score with the current calibration (quadratic term folded in approximately) */
		score(cfg, bestpk, bestnpk, l, nl, &c);
		if (c.nmatch < 3)
			break;
		best = c;
	}
	if (!cal.valid || !(cal.gain_kev > 0))
		return mg_fail(MG_ERR_NOT_FOUND, AN_DOM, "auto calibration: the matched peaks do not fit");
	*out = cal;
	if (npeaks_used)
		*npeaks_used = (size_t)best.nmatch;
	mg_dbg(AN_DOM, "auto calibration: %d peaks matched, offset %.4f keV, gain %.6f keV/ch", best.nmatch,
	       cal.offset_kev, cal.gain_kev);
	return 0;
}
