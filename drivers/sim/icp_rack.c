/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The simulated ICP-OES's autosampler rack (icp_sim_internal.h): the rack
 * file (docs/commands/sim.md, read in the INI dialect of instrument files,
 * drivers/icp/ini.c), the NdFeB grade table that turns a digest into
 * concentrations, and the built-in rack. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "drivers/icp/protocol.h"
#include "drivers/sim/icp_sim_internal.h"
#include "internal.h"

#define DOM "icpsim"

/* ------------------------------------------------------------ grades */

/* Illustrative compositions of sintered NdFeB grades, mass %; Fe is the balance. */
static const struct grade {
	const char *name;
	double nd, pr, dy, tb, co, b, al, cu, ga;
} grades[] = {
	{"N35", 24.0, 6.0, 0.0, 0.0, 0.8, 0.95, 0.25, 0.12, 0.0},
	{"N42", 23.5, 6.3, 0.0, 0.0, 1.0, 0.93, 0.20, 0.10, 0.05},
	{"N52", 23.2, 6.6, 0.0, 0.0, 1.0, 0.92, 0.15, 0.10, 0.10},
	{"N42SH", 21.0, 5.5, 3.0, 0.0, 1.5, 0.96, 0.30, 0.15, 0.15},
	{"N38UH", 19.0, 5.0, 5.5, 0.8, 2.5, 0.98, 0.35, 0.15, 0.20},
	{"N45SH-GBD", 22.5, 6.0, 0.3, 0.6, 1.2, 0.94, 0.20, 0.12, 0.10},
	{"CRM-NdFeB-1", 22.1, 6.1, 1.52, 0.21, 1.05, 0.95, 0.22, 0.11, 0.09},
};

static const struct grade *find_grade(const char *name)
{
	for (size_t i = 0; i < MG_ARRAY_SIZE(grades); i++)
		if (!strcasecmp(grades[i].name, name))
			return &grades[i];
	return NULL;
}

/* ------------------------------------------------------------ the built-in rack */

static const char builtin_rack[] =
	"# magassay simulated ICP-OES: the built-in rack (docs/commands/sim.md).\n"
	"# Concentrations in mg/L of the solution measured; samples are digests of\n"
	"# NdFeB grades (mass % in the simulator's grade table).\n"
	"[rack]\n"
	"format = 1\n"
	"internal_standard = Y\n"
	"internal_standard_mg_l = 2.0\n"
	"\n"
	"[position 1]\nname = CAL BLANK\nkind = blank\n\n"
	"[position 2]\nname = STD 1\nkind = standard\n"
	"Nd = 0.5\nPr = 0.15\nDy = 0.1\nTb = 0.02\nFe = 1.2\nCo = 0.05\nB = 0.02\nAl = 0.01\nCu = 0.01\nGa = 0.01\n\n"
	"[position 3]\nname = STD 2\nkind = standard\n"
	"Nd = 2.5\nPr = 0.75\nDy = 0.5\nTb = 0.1\nFe = 6\nCo = 0.25\nB = 0.1\nAl = 0.05\nCu = 0.05\nGa = 0.05\n\n"
	"[position 4]\nname = STD 3\nkind = standard\n"
	"Nd = 10\nPr = 3\nDy = 2\nTb = 0.4\nFe = 24\nCo = 1\nB = 0.4\nAl = 0.2\nCu = 0.2\nGa = 0.2\n\n"
	"[position 5]\nname = STD 4\nkind = standard\n"
	"Nd = 25\nPr = 7.5\nDy = 5\nTb = 1\nFe = 60\nCo = 2.5\nB = 1\nAl = 0.5\nCu = 0.5\nGa = 0.5\n\n"
	"[position 6]\nname = STD 5\nkind = standard\n"
	"Nd = 50\nPr = 15\nDy = 10\nTb = 2\nFe = 120\nCo = 5\nB = 2\nAl = 1\nCu = 1\nGa = 1\n\n"
	"[position 7]\nname = ICV\nkind = icv\n"
	"Nd = 20.2\nPr = 6.05\nDy = 3.98\nTb = 0.81\nFe = 48.5\nCo = 2.02\nB = 0.79\nAl = 0.41\nCu = 0.40\nGa = 0.40\n\n"
	"[position 8]\nname = ICB\nkind = blank\n\n"
	"[position 9]\nname = CCV\nkind = ccv\n"
	"Nd = 25\nPr = 7.5\nDy = 5\nTb = 1\nFe = 60\nCo = 2.5\nB = 1\nAl = 0.5\nCu = 0.5\nGa = 0.5\n\n"
	"[position 10]\nname = CCB\nkind = blank\n\n"
	"[position 11]\nname = LLOQ\nkind = check\n"
	"Nd = 0.25\nPr = 0.075\nDy = 0.05\nTb = 0.01\nFe = 0.6\nCo = 0.025\nB = 0.01\nAl = 0.005\nCu = 0.005\nGa = 0.005\n\n"
	"[position 12]\nname = N35-A\nkind = sample\ngrade = N35\n"
	"digest_mass_g = 0.1000\ndigest_volume_ml = 100\ndilution = 10\n\n"
	"[position 13]\nname = N52-A\nkind = sample\ngrade = N52\n"
	"digest_mass_g = 0.1003\ndigest_volume_ml = 100\ndilution = 10\n\n"
	"[position 14]\nname = N42SH-A\nkind = sample\ngrade = N42SH\n"
	"digest_mass_g = 0.0998\ndigest_volume_ml = 100\ndilution = 10\n\n"
	"[position 15]\nname = N38UH-A\nkind = sample\ngrade = N38UH\n"
	"digest_mass_g = 0.1001\ndigest_volume_ml = 100\ndilution = 10\n\n"
	"[position 16]\nname = N45SH-GBD-A\nkind = sample\ngrade = N45SH-GBD\n"
	"digest_mass_g = 0.1002\ndigest_volume_ml = 100\ndilution = 10\n\n"
	"[position 17]\nname = N42SH-A DUP\nkind = sample\ngrade = N42SH\n"
	"digest_mass_g = 0.1015\ndigest_volume_ml = 100\ndilution = 10\n\n"
	"[position 18]\nname = N42SH-A SPIKE\nkind = check\ngrade = N42SH\n"
	"digest_mass_g = 0.0998\ndigest_volume_ml = 100\ndilution = 10\n"
	"# spike added to the diluted digest, mg/L\n"
	"Nd = 10\nPr = 3\nDy = 2\nTb = 0.4\nCo = 1\nB = 0.4\n\n"
	"[position 19]\nname = CRM-NdFeB-1\nkind = check\ngrade = CRM-NdFeB-1\n"
	"digest_mass_g = 0.1000\ndigest_volume_ml = 100\ndilution = 10\n\n"
	"[position 20]\nname = METHOD BLANK\nkind = blank\n";

const char *mg_icpsim_builtin_rack(size_t *n)
{
	if (n)
		*n = sizeof(builtin_rack) - 1;
	return builtin_rack;
}

int icpsim_valid_symbol(const char *e)
{
	return e[0] >= 'A' && e[0] <= 'Z' && (!e[1] || (e[1] >= 'a' && e[1] <= 'z' && !e[2]));
}

struct rack_parse {
	struct mg_icpsim *s;
	struct slot *cur;
	int in_rack;
	int seen_rack;
};

static int sol_add(mg_icpsim_solution *sol, const char *el, double c)
{
	for (size_t i = 0; i < sol->nelements; i++)
		if (!strcmp(sol->element[i], el)) {
			sol->mg_per_l[i] += c;
			return MG_OK;
		}
	if (sol->nelements >= 24)
		return mg_fail(MG_ERR_FORMAT, DOM, "more than 24 elements in one solution");
	snprintf(sol->element[sol->nelements], 4, "%s", el);
	sol->mg_per_l[sol->nelements++] = c;
	return MG_OK;
}

int icpsim_num(const char *key, const char *v, double min, double max, double *out)
{
	char *end;
	double d = strtod(v, &end);
	if (end == v || *end || !isfinite(d) || d < min || d > max)
		return mg_fail(MG_ERR_FORMAT, DOM, "%s: '%s' (a number from %g to %g)", key, v, min, max);
	*out = d;
	return MG_OK;
}

static int set_composition(struct slot *sl, const char *v)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", v);
	char *save = NULL;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		char *colon = strchr(tok, ':');
		if (!colon)
			return mg_fail(MG_ERR_FORMAT, DOM, "composition: '%s' is not Element:percent", tok);
		*colon = '\0';
		char *e = tok + strlen(tok);
		while (e > tok && e[-1] == ' ')
			*--e = '\0';
		double pct;
		if (!icpsim_valid_symbol(tok) || icpsim_num("composition", colon + 1, 0, 100, &pct))
			return mg_fail(MG_ERR_FORMAT, DOM, "composition: bad entry '%s:%s'", tok, colon + 1);
		size_t before = sl->sol.nelements;
		int rc = sol_add(&sl->sol, tok, 0);
		if (rc)
			return rc;
		size_t idx = before;
		for (size_t i = 0; i < sl->sol.nelements; i++)
			if (!strcmp(sl->sol.element[i], tok))
				idx = i;
		sl->sol.mass_pct[idx] += pct;
	}
	sl->have_grade = 1;
	return MG_OK;
}

static int set_grade(struct slot *sl, const char *v)
{
	const struct grade *g = find_grade(v);
	if (!g) {
		char list[256] = "";
		for (size_t i = 0; i < MG_ARRAY_SIZE(grades); i++) {
			strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
			strncat(list, grades[i].name, sizeof(list) - strlen(list) - 1);
		}
		return mg_fail(MG_ERR_FORMAT, DOM, "grade: unknown grade '%s' (known: %s; or composition = Nd:23.5,...)", v,
		               list);
	}
	char comp[256];
	double fe = 100 - (g->nd + g->pr + g->dy + g->tb + g->co + g->b + g->al + g->cu + g->ga);
	snprintf(comp, sizeof(comp), "Nd:%g,Pr:%g,Dy:%g,Tb:%g,Fe:%.4f,Co:%g,B:%g,Al:%g,Cu:%g,Ga:%g", g->nd, g->pr, g->dy,
	         g->tb, fe, g->co, g->b, g->al, g->cu, g->ga);
	snprintf(sl->sol.grade, sizeof(sl->sol.grade), "%s", g->name);
	return set_composition(sl, comp);
}

static int rack_key(const char *section, const char *key, const char *v, long line, void *ud)
{
	struct rack_parse *rp = ud;
	struct mg_icpsim *s = rp->s;
	(void)line;
	if (!key) {
		rp->cur = NULL;
		rp->in_rack = 0;
		if (!strcmp(section, "rack")) {
			if (rp->seen_rack)
				return mg_fail(MG_ERR_FORMAT, DOM, "[rack] appears twice");
			rp->seen_rack = rp->in_rack = 1;
			return MG_OK;
		}
		if (strncmp(section, "position ", 9))
			return mg_fail(MG_ERR_FORMAT, DOM, "unknown section [%s] (known: [rack], [position N])", section);
		char *end;
		long pos = strtol(section + 9, &end, 10);
		if (*end || pos < 1 || pos > 999)
			return mg_fail(MG_ERR_FORMAT, DOM, "[%s]: the position must be 1 to 999", section);
		for (size_t i = 0; i < s->nslots; i++)
			if (s->slots[i].sol.position == (int)pos)
				return mg_fail(MG_ERR_FORMAT, DOM, "position %ld appears twice", pos);
		if (s->nslots >= MAX_POS)
			return mg_fail(MG_ERR_FORMAT, DOM, "more than %d positions", MAX_POS);
		struct slot *n = realloc(s->slots, (s->nslots + 1) * sizeof(*n));
		if (!n)
			return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		s->slots = n;
		rp->cur = &s->slots[s->nslots++];
		memset(rp->cur, 0, sizeof(*rp->cur));
		rp->cur->sol.position = (int)pos;
		rp->cur->sol.dilution = 1;
		return MG_OK;
	}
	if (rp->in_rack) {
		double d;
		if (!strcmp(key, "format"))
			return strcmp(v, "1") ? mg_fail(MG_ERR_FORMAT, DOM, "format: %s (only 1)", v) : MG_OK;
		if (!strcmp(key, "internal_standard")) {
			if (strcmp(v, "Y") && strcmp(v, "Sc"))
				return mg_fail(MG_ERR_FORMAT, DOM, "internal_standard: '%s' (Y or Sc)", v);
			snprintf(s->is_el, sizeof(s->is_el), "%s", v);
			return MG_OK;
		}
		if (!strcmp(key, "internal_standard_mg_l")) {
			if (icpsim_num(key, v, 0, 1000, &d))
				return MG_ERR_FORMAT;
			s->is_c = d;
			return MG_OK;
		}
		if (!strcmp(key, "name"))
			return MG_OK;
		return mg_fail(MG_ERR_FORMAT, DOM, "unknown key '%s' in [rack] (format, internal_standard, internal_standard_mg_l, name)",
		               key);
	}
	struct slot *sl = rp->cur;
	if (!sl)
		return mg_fail(MG_ERR_INTERNAL, DOM, "no position");
	double d;
	if (!strcmp(key, "name")) {
		if (strlen(v) >= sizeof(sl->sol.name))
			return mg_fail(MG_ERR_FORMAT, DOM, "name: longer than 64 characters");
		snprintf(sl->sol.name, sizeof(sl->sol.name), "%s", v);
		return MG_OK;
	}
	if (!strcmp(key, "kind")) {
		static const struct {
			const char *n;
			mg_icpsim_kind k;
		} kinds[] = {{"blank", MG_ICPSIM_BLANK}, {"standard", MG_ICPSIM_STANDARD}, {"icv", MG_ICPSIM_ICV},
		             {"ccv", MG_ICPSIM_CCV},     {"sample", MG_ICPSIM_SAMPLE},     {"check", MG_ICPSIM_CHECK}};
		for (size_t i = 0; i < MG_ARRAY_SIZE(kinds); i++)
			if (!strcmp(kinds[i].n, v)) {
				sl->sol.kind = kinds[i].k;
				return MG_OK;
			}
		return mg_fail(MG_ERR_FORMAT, DOM, "kind: '%s' (blank, standard, icv, ccv, sample, check)", v);
	}
	if (!strcmp(key, "grade")) {
		if (sl->have_grade)
			return mg_fail(MG_ERR_FORMAT, DOM, "grade: a composition is already given");
		return set_grade(sl, v);
	}
	if (!strcmp(key, "composition")) {
		if (sl->have_grade)
			return mg_fail(MG_ERR_FORMAT, DOM, "composition: a grade is already given");
		return set_composition(sl, v);
	}
	if (!strcmp(key, "digest_mass_g")) {
		if (icpsim_num(key, v, 1e-4, 100, &d))
			return MG_ERR_FORMAT;
		sl->sol.digest_mass_g = d;
		sl->have_mass = 1;
		return MG_OK;
	}
	if (!strcmp(key, "digest_volume_ml")) {
		if (icpsim_num(key, v, 1, 1e5, &d))
			return MG_ERR_FORMAT;
		sl->sol.digest_volume_ml = d;
		sl->have_volume = 1;
		return MG_OK;
	}
	if (!strcmp(key, "dilution")) {
		if (icpsim_num(key, v, 1, 1e6, &d))
			return MG_ERR_FORMAT;
		sl->sol.dilution = d;
		return MG_OK;
	}
	if (icpsim_valid_symbol(key)) {
		if (icpsim_num(key, v, 0, 1e5, &d))
			return MG_ERR_FORMAT;
		if (!strcmp(key, s->is_el))
			return mg_fail(MG_ERR_FORMAT, DOM, "%s is the internal standard, added to every solution", key);
		return sol_add(&sl->sol, key, d);
	}
	return mg_fail(MG_ERR_FORMAT, DOM,
	               "unknown key '%s' in [position %d] (name, kind, grade, composition, digest_mass_g, "
	               "digest_volume_ml, dilution, or an element symbol with mg/L)",
	               key, sl->sol.position);
}

/* Concentrations from compositions, checks, internal standard. */
static int rack_finish(struct mg_icpsim *s, const char *src)
{
	for (size_t i = 0; i < s->nslots; i++) {
		struct slot *sl = &s->slots[i];
		mg_icpsim_solution *so = &sl->sol;
		if (!so->name[0] || !so->kind)
			return mg_fail(MG_ERR_FORMAT, DOM, "%s: [position %d] needs name and kind", src, so->position);
		if (sl->have_grade) {
			if (!sl->have_mass || !sl->have_volume)
				return mg_fail(MG_ERR_FORMAT, DOM, "%s: [position %d] has a grade or composition but no digest_mass_g "
				                                   "and digest_volume_ml", src, so->position);
			/* mg/L = mass fraction x mass (g) x 1e3 mg/g / (volume (mL) / 1e3) / dilution */
			for (size_t k = 0; k < so->nelements; k++)
				so->mg_per_l[k] += so->mass_pct[k] / 100.0 * so->digest_mass_g * 1e6 / so->digest_volume_ml / so->dilution;
		} else if (so->kind == MG_ICPSIM_SAMPLE) {
			return mg_fail(MG_ERR_FORMAT, DOM, "%s: [position %d] kind = sample needs a grade or a composition", src,
			               so->position);
		}
		mg_icpphys_solution *ph = &sl->phys;
		ph->n = 0;
		for (size_t k = 0; k < so->nelements; k++)
			if (so->mg_per_l[k] > 0 && ph->n < MG_ICPPHYS_MAX_EL - 1) {
				snprintf(ph->el[ph->n], 4, "%s", so->element[k]);
				ph->c[ph->n++] = so->mg_per_l[k];
			}
		if (s->is_c > 0) {
			snprintf(ph->el[ph->n], 4, "%s", s->is_el);
			ph->c[ph->n++] = s->is_c;
		}
	}
	/* ascending positions */
	for (size_t i = 1; i < s->nslots; i++)
		for (size_t j = i; j > 0 && s->slots[j - 1].sol.position > s->slots[j].sol.position; j--) {
			struct slot t = s->slots[j];
			s->slots[j] = s->slots[j - 1];
			s->slots[j - 1] = t;
		}
	return MG_OK;
}

int icpsim_parse_rack(struct mg_icpsim *s, const char *text, size_t n, const char *src)
{
	snprintf(s->is_el, sizeof(s->is_el), "Y");
	s->is_c = 2.0;
	struct rack_parse rp = {.s = s};
	int rc = mg_icp_ini_parse(text, n, src, rack_key, &rp);
	if (rc == MG_OK && !rp.seen_rack)
		rc = mg_fail(MG_ERR_FORMAT, DOM, "%s: no [rack] section", src);
	if (rc == MG_OK && s->nslots == 0)
		rc = mg_fail(MG_ERR_FORMAT, DOM, "%s: no [position N] section", src);
	if (rc == MG_OK)
		rc = rack_finish(s, src);
	return rc;
}

int icpsim_load_rack(struct mg_icpsim *s, const char *path)
{
	if (!path)
		return icpsim_parse_rack(s, builtin_rack, sizeof(builtin_rack) - 1, "(built-in rack)");
	mg_buf b;
	mg_buf_init(&b);
	FILE *f = fopen(path, "rb");
	if (!f)
		return mg_fail(MG_ERR_NOT_FOUND, DOM, "rack %s: cannot open: %s", path, strerror(errno));
	char chunk[4096];
	size_t r;
	while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < MAX_INPUT)
		mg_buf_append(&b, chunk, r);
	fclose(f);
	if (mg_buf_status(&b)) {
		mg_buf_free(&b);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	int rc = icpsim_parse_rack(s, b.data ? b.data : "", b.len, path);
	mg_buf_free(&b);
	return rc;
}

struct slot *icpsim_slot_at(struct mg_icpsim *s, int pos)
{
	for (size_t i = 0; i < s->nslots; i++)
		if (s->slots[i].sol.position == pos)
			return &s->slots[i];
	return NULL;
}
