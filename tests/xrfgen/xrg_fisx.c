/* SPDX-License-Identifier: GPL-3.0-or-later */
/* xrfgen mode XRG_DATA_FISX: the line intensities of PyMca's fisx, computed
 * by fisx_lines.py (run with /usr/bin/python3) from the generator's tube beam
 * and geometry, for many samples in one run, and kept per sample. The beam is
 * handed over on PyMca's grid (0.2 keV bins below 20 keV, 0.5 keV above,
 * each at its photon-weighted mean energy, plus the anode lines). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xrg_internal.h"

static int find_table(const xrg_gen *g, const char *key)
{
	for (size_t i = 0; i < g->nfx; i++)
		if (strcmp(g->fx[i].key, key) == 0)
			return (int)i;
	return -1;
}

void xrg_fisx_free(xrg_gen *g)
{
	for (size_t i = 0; i < g->nfx; i++)
		free(g->fx[i].l);
	free(g->fx);
	g->fx = NULL;
	g->nfx = g->capfx = 0;
}

/* The beam rebinned for fisx. */
static void write_beam(const xrg_gen *g, FILE *f)
{
	const xrg_beamgrid *b = &g->fine;
	double acc = 0, acc_e = 0;
	size_t nbin = 0;
	double *e = malloc((b->n + 1) * sizeof(double)), *n = malloc((b->n + 1) * sizeof(double));
	int *fl = malloc((b->n + 1) * sizeof(int));
	if (!e || !n || !fl) {
		free(e);
		free(n);
		free(fl);
		fprintf(f, "beam 0\n");
		return;
	}
	double lo = 1.0, w = 0.2;
	for (size_t i = 0; i < b->n; i++) {
		if (b->line[i])
			continue;
		while (b->e[i] >= lo + w) {
			if (acc > 0) {
				e[nbin] = acc_e / acc;
				n[nbin] = acc;
				fl[nbin++] = 0;
			}
			acc = acc_e = 0;
			lo += w;
			w = lo < 20 - 1e-9 ? 0.2 : 0.5;
		}
		acc += b->f[i];
		acc_e += b->f[i] * b->e[i];
	}
	if (acc > 0) {
		e[nbin] = acc_e / acc;
		n[nbin] = acc;
		fl[nbin++] = 0;
	}
	for (size_t i = 0; i < b->n; i++)
		if (b->line[i] && b->f[i] > 0) {
			e[nbin] = b->e[i];
			n[nbin] = b->f[i];
			fl[nbin++] = 1;
		}
	fprintf(f, "beam %zu\n", nbin);
	for (size_t i = 0; i < nbin; i++)
		fprintf(f, "%.6f %.10g %d\n", e[i], n[i], fl[i]);
	free(e);
	free(n);
	free(fl);
}

static void write_sample(FILE *f, size_t index, const xrg_sample *s)
{
	fprintf(f, "sample %zu %d\n", index, s->nlayers);
	for (int k = 0; k < s->nlayers; k++) {
		const xrg_layer *L = &s->layer[k];
		fprintf(f, "layer %.6g %.8g %d\n", L->density, L->thickness_um * 1e-4, L->n);
		for (int i = 0; i < L->n; i++)
			fprintf(f, "%d %.10g\n", L->z[i], L->w[i]);
	}
}

/* Run the script; 0, XRG_SKIP or XRG_ERROR with its message. */
static int run_script(const xrg_gen *g, const char *arg1, const char *out, const char *log)
{
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "'%s' '%s' %s '%s' 2>'%s'", g->c.python, g->c.fisx_script, arg1, out, log);
	if (access(g->c.python, X_OK) != 0)
		return xrg_fail(XRG_SKIP, "fisx: no interpreter %s (python3-fisx needs Debian's python3)", g->c.python);
	int st = system(cmd);
	int code = st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	if (code == 0)
		return 0;
	char msg[512] = "";
	FILE *f = fopen(code == 77 ? out : log, "r");
	if (f) {
		char line[512];
		while (fgets(line, sizeof line, f))
			if (strlen(line) > 1)
				snprintf(msg, sizeof msg, "%s", line);
		fclose(f);
		msg[strcspn(msg, "\n")] = 0;
	}
	if (code == 77)
		return xrg_fail(XRG_SKIP, "fisx: %s", strncmp(msg, "skip ", 5) == 0 ? msg + 5 : msg);
	return xrg_fail(XRG_ERROR, "fisx: %s exited with %d: %s", g->c.fisx_script, code, msg);
}

static int parse_output(xrg_gen *g, const char *path, char (*keys)[512], size_t nkeys)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return xrg_fail(XRG_ERROR, "fisx: %s: %s", path, strerror(errno));
	char line[512];
	int rc = 0;
	if (!fgets(line, sizeof line, f) || strncmp(line, "xrfgen-fisx-lines 1", 19) != 0) {
		fclose(f);
		return xrg_fail(XRG_ERROR, "fisx: %s: not a line table", path);
	}
	while (fgets(line, sizeof line, f)) {
		size_t index, n;
		if (strncmp(line, "end", 3) == 0)
			break;
		if (sscanf(line, "sample %zu %zu", &index, &n) != 2 || index >= nkeys) {
			rc = xrg_fail(XRG_ERROR, "fisx: %s: bad line '%.60s'", path, line);
			break;
		}
		xrg_line *l = calloc(n ? n : 1, sizeof *l);
		if (!l) {
			rc = xrg_fail(XRG_ERROR, "no memory");
			break;
		}
		for (size_t i = 0; i < n && rc == 0; i++) {
			xrg_line *o = &l[i];
			if (!fgets(line, sizeof line, f) ||
			    sscanf(line, "%d %d %7s %lf %lf %lf %d", &o->z, &o->shell, o->label, &o->e, &o->primary,
			           &o->secondary, &o->layer) != 7)
				rc = xrg_fail(XRG_ERROR, "fisx: %s: bad line '%.60s'", path, line);
		}
		if (rc) {
			free(l);
			break;
		}
		if (g->nfx == g->capfx) {
			size_t nc = g->capfx ? 2 * g->capfx : 16;
			xrg_fxtab *t = realloc(g->fx, nc * sizeof *t);
			if (!t) {
				free(l);
				rc = xrg_fail(XRG_ERROR, "no memory");
				break;
			}
			g->fx = t;
			g->capfx = nc;
		}
		xrg_fxtab *t = &g->fx[g->nfx++];
		snprintf(t->key, sizeof t->key, "%s", keys[index]);
		t->n = n;
		t->l = l;
	}
	fclose(f);
	return rc;
}

int xrg_fisx_prepare(xrg_gen *g, const xrg_sample *s, size_t n)
{
	if (g->fisx_skip)
		return xrg_fail(XRG_SKIP, "fisx: absent (see the first message)");
	char dir[] = "/tmp/xrfgen-XXXXXX";
	if (!mkdtemp(dir))
		return xrg_fail(XRG_ERROR, "fisx: mkdtemp: %s", strerror(errno));
	char req[256], out[256], log[256];
	snprintf(req, sizeof req, "%s/request.txt", dir);
	snprintf(out, sizeof out, "%s/lines.txt", dir);
	snprintf(log, sizeof log, "%s/stderr.txt", dir);
	int rc = 0;
	char (*keys)[512] = calloc(n ? n : 1, sizeof *keys);
	if (!keys) {
		rc = xrg_fail(XRG_ERROR, "no memory");
		goto out;
	}
	if (!s) { /* does fisx import at all? */
		rc = run_script(g, "--check", out, log);
		if (rc == XRG_SKIP)
			g->fisx_skip = 1;
		goto out;
	}
	size_t todo = 0;
	for (size_t i = 0; i < n; i++) {
		char key[512];
		xrg_sample_key(&s[i], key, sizeof key);
		int dup = find_table(g, key) >= 0;
		for (size_t j = 0; j < todo && !dup; j++)
			dup = strcmp(keys[j], key) == 0;
		if (!dup)
			snprintf(keys[todo++], sizeof keys[0], "%s", key);
	}
	if (todo == 0)
		goto out;
	FILE *f = fopen(req, "w");
	if (!f) {
		rc = xrg_fail(XRG_ERROR, "fisx: %s: %s", req, strerror(errno));
		goto out;
	}
	fprintf(f, "xrfgen-fisx-request 1\ngeometry %.6g %.6g\nsecondary %d\n", g->c.psi1, g->c.psi2,
	        (g->c.flags & XRG_NO_SECONDARY) ? 0 : 2);
	write_beam(g, f);
	fprintf(f, "samples %zu\n", todo);
	size_t idx = 0;
	for (size_t i = 0; i < n; i++) {
		char key[512];
		xrg_sample_key(&s[i], key, sizeof key);
		if (idx < todo && strcmp(keys[idx], key) == 0)
			write_sample(f, idx++, &s[i]);
	}
	if (fclose(f) != 0) {
		rc = xrg_fail(XRG_ERROR, "fisx: writing %s failed", req);
		goto out;
	}
	rc = run_script(g, req, out, log);
	if (rc == XRG_SKIP)
		g->fisx_skip = 1;
	if (rc == 0)
		rc = parse_output(g, out, keys, todo);
out:
	free(keys);
	unlink(req);
	unlink(out);
	unlink(log);
	rmdir(dir);
	return rc;
}

int xrg_emission_fisx(xrg_gen *g, const xrg_sample *s, xrg_line **out, size_t *n)
{
	char key[512];
	xrg_sample_key(s, key, sizeof key);
	int t = find_table(g, key);
	if (t < 0) {
		int rc = xrg_fisx_prepare(g, s, 1);
		if (rc)
			return rc;
		t = find_table(g, key);
		if (t < 0)
			return xrg_fail(XRG_ERROR, "fisx: no table came back for %s", s->name);
	}
	const xrg_fxtab *T = &g->fx[t];
	xrg_line *l = malloc((T->n ? T->n : 1) * sizeof *l);
	if (!l)
		return xrg_fail(XRG_ERROR, "no memory");
	for (size_t i = 0; i < T->n; i++) {
		l[i] = T->l[i];
		l[i].primary *= g->omega_4pi;
		l[i].secondary *= g->omega_4pi;
	}
	*out = l;
	*n = T->n;
	return 0;
}
