/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The simulated ICP-OES: an echelle ICP-OES with an autosampler rack, serving
 * the SCPI dialect of the built-in profile (drivers/icp/profiles/
 * magassay-sim-icp.ini) over any byte stream (loopback `sim:icp`, pty, the
 * harness's tty) and as a USBTMC/USB488 function (the harness's emulated USB
 * device). Physics: icp_physics.c. Parameters, rack format and faults:
 * include/magassay/icp_device.h and docs/commands/sim.md.
 *
 * Time is simulated: a run advances it by uptake (30 s) + replicates x
 * integration + rinse (20 s); the loopback's tick and mg_icpsim_advance()
 * add to it. Runs complete at once (so *OPC? answers at once), unless
 * busy_polls=N keeps STATus:OPERation:CONDition? "measuring" for N polls.
 * Same seed and same commands: same numbers, on every transport. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "drivers/icp/protocol.h"
#include "drivers/scpi/scpi.h"
#include "drivers/sim/icp_physics.h"
#include "drivers/sim/simdev_glue.h"
#include "drivers/transport/usbtmc.h"
#include "internal.h"
#include "magassay/icp_device.h"

#define DOM "icpsim"
#define SIM_NAME "icp"
#define MAX_POS 256
#define ERRQ_DEPTH 20
#define UPTAKE_S 30.0
#define RINSE_S 20.0
#define MAX_INPUT (1u << 20)

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

/* ------------------------------------------------------------ state */

struct sim_line {
	char el[4];
	double wl;
	int is;
};

struct slot {
	mg_icpsim_solution sol;
	mg_icpphys_solution phys; /* + internal standard */
	int have_grade, have_mass, have_volume;
};

enum fmt { FMT_ASCII = 1, FMT_REAL32, FMT_REAL64 };

struct mg_icpsim {
	pthread_mutex_t lock;
	/* parameters */
	uint64_t seed;
	char serial[32];
	double drift_pct_h, noise;
	size_t pixels;
	unsigned busy_polls;
	unsigned error_at;
	int error_code;
	double jump_pct;
	unsigned jump_at;
	unsigned hang_at;
	/* rack */
	struct slot *slots;
	size_t nslots;
	char is_el[4];
	double is_c;
	/* instrument state */
	int plasma;
	double t_s;          /* simulated seconds since creation */
	double lit_at_s;     /* when the plasma was lit */
	struct sim_line lines[MG_ICP_MAX_LINES];
	size_t nlines;
	double integration;
	unsigned replicates;
	int position;
	char label[65];
	enum fmt fmt;
	int swapped;
	/* the last run */
	int have_data;
	unsigned data_reps;
	size_t data_lines;
	double *data_wl;     /* [MG_ICP_MAX_LINES][pixels] */
	double *data;        /* [MG_ICP_MAX_REPLICATES][MG_ICP_MAX_LINES][pixels] */
	unsigned busy_left;
	/* status */
	int errq_code[ERRQ_DEPTH];
	char errq_text[ERRQ_DEPTH][200];
	size_t nerr;
	unsigned esr, ese, sre;
	unsigned runs, query_msgs;
	/* the keywords of the last command header (SCPI: ';' stays in the subsystem) */
	char path[8][32];
	size_t npath;
	/* transports */
	mg_buf in;
	int overrun;         /* the message being received is too long: dropped at its LF */
	mg_usbtmc_fn fn;
	gsl_rng *rng;
	mg_icpsim_stats st;
};

/* ------------------------------------------------------------ errors */

static void push_error(struct mg_icpsim *s, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void push_error(struct mg_icpsim *s, int code, const char *fmt, ...)
{
	char detail[160] = "";
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	const char *std = mg_scpi_error_text(code);
	s->st.errors++;
	mg_dbg(DOM, "error %d %s%s%s", code, std ? std : "", *detail ? ";" : "", detail);
	if (code <= -100 && code >= -199)
		s->esr |= 0x20;
	else if (code <= -200 && code >= -299)
		s->esr |= 0x10;
	else if (code <= -400 && code >= -499)
		s->esr |= 0x04;
	else
		s->esr |= 0x08;
	if (s->nerr >= ERRQ_DEPTH) {
		s->errq_code[ERRQ_DEPTH - 1] = -350;
		snprintf(s->errq_text[ERRQ_DEPTH - 1], sizeof(s->errq_text[0]), "Queue overflow");
		return;
	}
	s->errq_code[s->nerr] = code;
	snprintf(s->errq_text[s->nerr], sizeof(s->errq_text[0]), "%s%s%s", std ? std : "Instrument error",
	         *detail ? ";" : "", detail);
	s->nerr++;
}

static unsigned stb(const struct mg_icpsim *s)
{
	unsigned b = 0;
	if (s->nerr)
		b |= 0x04;
	if (s->esr & s->ese)
		b |= 0x20;
	return b;
}

/* ------------------------------------------------------------ rack */

static int valid_symbol(const char *e)
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

static int num(const char *key, const char *v, double min, double max, double *out)
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
		if (!valid_symbol(tok) || num("composition", colon + 1, 0, 100, &pct))
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
			if (num(key, v, 0, 1000, &d))
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
		if (num(key, v, 1e-4, 100, &d))
			return MG_ERR_FORMAT;
		sl->sol.digest_mass_g = d;
		sl->have_mass = 1;
		return MG_OK;
	}
	if (!strcmp(key, "digest_volume_ml")) {
		if (num(key, v, 1, 1e5, &d))
			return MG_ERR_FORMAT;
		sl->sol.digest_volume_ml = d;
		sl->have_volume = 1;
		return MG_OK;
	}
	if (!strcmp(key, "dilution")) {
		if (num(key, v, 1, 1e6, &d))
			return MG_ERR_FORMAT;
		sl->sol.dilution = d;
		return MG_OK;
	}
	if (valid_symbol(key)) {
		if (num(key, v, 0, 1e5, &d))
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

static int parse_rack(struct mg_icpsim *s, const char *text, size_t n, const char *src)
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

static int load_rack(struct mg_icpsim *s, const char *path)
{
	if (!path)
		return parse_rack(s, builtin_rack, sizeof(builtin_rack) - 1, "(built-in rack)");
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
	int rc = parse_rack(s, b.data ? b.data : "", b.len, path);
	mg_buf_free(&b);
	return rc;
}

static struct slot *slot_at(struct mg_icpsim *s, int pos)
{
	for (size_t i = 0; i < s->nslots; i++)
		if (s->slots[i].sol.position == pos)
			return &s->slots[i];
	return NULL;
}

/* ------------------------------------------------------------ SCPI server: parameters */

struct args {
	size_t n;
	const char *p[8];
	size_t len[8];
};

static int split_args(const char *p, size_t n, struct args *a)
{
	a->n = 0;
	while (n && isspace((unsigned char)*p))
		p++, n--;
	if (!n)
		return 0;
	size_t start = 0;
	char q = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && q) {
			if (p[i] == q)
				q = 0;
			continue;
		}
		if (i < n && (p[i] == '"' || p[i] == '\'')) {
			q = p[i];
			continue;
		}
		if (i == n || p[i] == ',') {
			if (a->n >= 8)
				return -1;
			const char *s = p + start;
			size_t l = i - start;
			while (l && isspace((unsigned char)*s))
				s++, l--;
			while (l && isspace((unsigned char)s[l - 1]))
				l--;
			if (!l)
				return -1;
			a->p[a->n] = s;
			a->len[a->n++] = l;
			start = i + 1;
		}
	}
	return q ? -1 : 0;
}

static int arg_num(struct mg_icpsim *s, const struct args *a, size_t i, double min, double max, double *out)
{
	if (i >= a->n) {
		push_error(s, -109, NULL);
		return -1;
	}
	if (mg_scpi_parse_number(a->p[i], a->len[i], out) || !isfinite(*out)) {
		push_error(s, -104, "'%.*s' is not a number", (int)(a->len[i] > 30 ? 30 : a->len[i]), a->p[i]);
		return -1;
	}
	if (*out < min || *out > max) {
		push_error(s, -222, "%g is outside %g to %g", *out, min, max);
		return -1;
	}
	return 0;
}

static int arg_int(struct mg_icpsim *s, const struct args *a, size_t i, long min, long max, long *out)
{
	double d;
	if (arg_num(s, a, i, (double)min, (double)max, &d))
		return -1;
	if (d != floor(d)) {
		push_error(s, -224, "%g is not a whole number", d);
		return -1;
	}
	*out = (long)d;
	return 0;
}

static int arg_word(const struct args *a, size_t i, const char *shortw, const char *longw)
{
	if (i >= a->n)
		return 0;
	return (a->len[i] == strlen(shortw) && !strncasecmp(a->p[i], shortw, a->len[i])) ||
	       (a->len[i] == strlen(longw) && !strncasecmp(a->p[i], longw, a->len[i]));
}

/* A string parameter (quoted, or plain character data) into dst. */
static int arg_string(struct mg_icpsim *s, const struct args *a, size_t i, char *dst, size_t cap)
{
	if (i >= a->n) {
		push_error(s, -109, NULL);
		return -1;
	}
	if (a->p[i][0] == '"' || a->p[i][0] == '\'') {
		mg_buf b;
		mg_buf_init(&b);
		int rc = mg_scpi_unquote(a->p[i], a->len[i], &b);
		if (rc || b.len >= cap) {
			mg_buf_free(&b);
			push_error(s, rc ? -151 : -150, rc ? "bad string" : "string too long");
			return -1;
		}
		snprintf(dst, cap, "%s", b.data ? b.data : "");
		mg_buf_free(&b);
		return 0;
	}
	if (a->len[i] >= cap) {
		push_error(s, -144, NULL);
		return -1;
	}
	memcpy(dst, a->p[i], a->len[i]);
	dst[a->len[i]] = '\0';
	return 0;
}

static int no_args(struct mg_icpsim *s, const struct args *a)
{
	if (a->n) {
		push_error(s, -108, NULL);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ the run */

static void reset(struct mg_icpsim *s)
{
	s->nlines = 0;
	s->integration = 1.0;
	s->replicates = 3;
	s->position = 1;
	s->label[0] = '\0';
	s->fmt = FMT_ASCII;
	s->swapped = 0;
	s->have_data = 0;
	s->busy_left = 0;
}

static void conditions(struct mg_icpsim *s, double t_s, mg_icpphys_conditions *c)
{
	memset(c, 0, sizeof(*c));
	c->t_hours = (t_s - s->lit_at_s) / 3600.0;
	c->drift_pct_h = s->drift_pct_h;
	c->jump_factor = s->jump_at && s->runs >= s->jump_at ? 1.0 + s->jump_pct / 100.0 : 1.0;
	c->is_element = s->is_el;
	c->seed = s->seed;
	c->integration_s = s->integration;
	c->noise = s->noise;
	c->pixel_nm = 0.0025;
	c->npix = s->pixels;
}

static void run(struct mg_icpsim *s)
{
	if (!s->plasma) {
		push_error(s, -221, "plasma is off");
		return;
	}
	if (!s->nlines) {
		push_error(s, -221, "no lines configured");
		return;
	}
	struct slot *sl = slot_at(s, s->position);
	if (!sl) {
		push_error(s, -222, "position %d is empty", s->position);
		return;
	}
	s->runs++;
	s->st.runs++;
	s->have_data = 0;
	s->busy_left = s->busy_polls;
	if (s->error_at && s->runs == s->error_at) {
		push_error(s, s->error_code, "nebulizer pressure low, run %u at position %d aborted", s->runs, s->position);
		s->t_s += UPTAKE_S;
		return;
	}
	double t0 = s->t_s + UPTAKE_S;
	size_t np = s->pixels;
	for (size_t l = 0; l < s->nlines; l++) {
		mg_icpphys_conditions c;
		conditions(s, t0, &c);
		mg_icpphys_axis(&c, s->lines[l].wl, s->data_wl + l * np);
	}
	for (unsigned r = 0; r < s->replicates; r++) {
		mg_icpphys_conditions c;
		conditions(s, t0 + (r + 0.5) * s->integration, &c);
		double flicker = s->noise > 0 ? 1.0 + gsl_ran_gaussian(s->rng, 0.004 * s->noise) : 1.0;
		for (size_t l = 0; l < s->nlines; l++)
			mg_icpphys_read(&c, &sl->phys, s->data_wl + l * np, flicker, s->rng,
			                s->data + ((size_t)r * MG_ICP_MAX_LINES + l) * np);
	}
	s->t_s = t0 + s->replicates * s->integration + RINSE_S;
	s->have_data = 1;
	s->data_reps = s->replicates;
	s->data_lines = s->nlines;
	mg_dbg(DOM, "run %u: position %d (%s), %zu lines x %u replicates, t = %.1f min", s->runs, s->position,
	       sl->sol.name, s->nlines, s->replicates, s->t_s / 60.0);
}

static void put_numbers(struct mg_icpsim *s, const double *v, size_t n, int pairs_prec, mg_buf *out)
{
	if (s->fmt == FMT_ASCII) {
		for (size_t i = 0; i < n; i++) {
			if (i)
				mg_buf_append(out, ",", 1);
			if (pairs_prec && i % 2 == 0)
				mg_buf_printf(out, "%.6f", v[i]);
			else if (pairs_prec)
				mg_buf_printf(out, "%.2f", v[i]);
			else
				mg_buf_printf(out, "%.6f", v[i]);
		}
		return;
	}
	mg_buf data;
	mg_buf_init(&data);
	mg_scpi_append_numbers(&data, v, n, s->fmt == FMT_REAL32 ? MG_SCPI_REAL32 : MG_SCPI_REAL64, !s->swapped);
	mg_scpi_append_block(out, data.data ? data.data : "", data.len);
	mg_buf_free(&data);
}

static int check_fetch(struct mg_icpsim *s, const struct args *a, int with_rep, long *line, long *rep)
{
	if (!s->have_data) {
		push_error(s, -230, "no measurement data");
		return -1;
	}
	if (arg_int(s, a, 0, 1, (long)s->data_lines, line))
		return -1;
	*rep = 1;
	if (with_rep && arg_int(s, a, 1, 1, (long)s->data_reps, rep))
		return -1;
	if (a->n > (size_t)(with_rep ? 2 : 1)) {
		push_error(s, -108, NULL);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ SCPI server: commands */

typedef int (*handler)(struct mg_icpsim *s, const struct args *a, mg_buf *out);

#define H(name) static int name(struct mg_icpsim *s, const struct args *a, mg_buf *out)

H(h_idn)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "magassay,SIM-ICP-OES,%s,1.0.0", s->serial);
	return 0;
}
H(h_rst)
{
	(void)out;
	if (no_args(s, a))
		return -1;
	reset(s);
	return 0;
}
H(h_cls)
{
	(void)out;
	if (no_args(s, a))
		return -1;
	s->nerr = 0;
	s->esr = 0;
	return 0;
}
H(h_opc_set)
{
	(void)out;
	if (no_args(s, a))
		return -1;
	s->esr |= 1;
	return 0;
}
H(h_opc)
{
	if (no_args(s, a))
		return -1;
	s->busy_left = 0;
	mg_buf_puts(out, "1");
	return 0;
}
H(h_wai)
{
	(void)out;
	return no_args(s, a);
}
H(h_esr)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "%u", s->esr);
	s->esr = 0;
	return 0;
}
H(h_ese_set)
{
	(void)out;
	long v;
	if (arg_int(s, a, 0, 0, 255, &v))
		return -1;
	s->ese = (unsigned)v;
	return 0;
}
H(h_ese)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "%u", s->ese);
	return 0;
}
H(h_sre_set)
{
	(void)out;
	long v;
	if (arg_int(s, a, 0, 0, 255, &v))
		return -1;
	s->sre = (unsigned)v & ~0x40u;
	return 0;
}
H(h_sre)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "%u", s->sre);
	return 0;
}
H(h_stb)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "%u", stb(s));
	return 0;
}
H(h_tst)
{
	if (no_args(s, a))
		return -1;
	mg_buf_puts(out, "0");
	return 0;
}
H(h_err)
{
	if (no_args(s, a))
		return -1;
	if (!s->nerr) {
		mg_buf_puts(out, "0,\"No error\"");
		return 0;
	}
	mg_buf_printf(out, "%d,", s->errq_code[0]);
	mg_scpi_append_string(out, s->errq_text[0]);
	memmove(s->errq_code, s->errq_code + 1, (s->nerr - 1) * sizeof(s->errq_code[0]));
	memmove(s->errq_text, s->errq_text + 1, (s->nerr - 1) * sizeof(s->errq_text[0]));
	s->nerr--;
	return 0;
}
H(h_err_count)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "%zu", s->nerr);
	return 0;
}
H(h_version)
{
	if (no_args(s, a))
		return -1;
	mg_buf_puts(out, "1999.0");
	return 0;
}
H(h_plasma_set)
{
	(void)out;
	int on;
	if (a->n != 1) {
		push_error(s, a->n ? -108 : -109, NULL);
		return -1;
	}
	if (mg_scpi_parse_bool(a->p[0], a->len[0], &on)) {
		push_error(s, -224, "ON or OFF");
		return -1;
	}
	if (on && !s->plasma)
		s->lit_at_s = s->t_s;
	s->plasma = on;
	return 0;
}
H(h_plasma)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "%d", s->plasma);
	return 0;
}
H(h_plasma_status)
{
	if (no_args(s, a))
		return -1;
	double t = s->t_s / 3600.0;
	if (s->plasma)
		mg_buf_printf(out, "1,%.1f,%.3f,%.2f,%.2f", 1300.0 + 2.0 * sin(t * 7.0), 0.700 + 0.002 * sin(t * 5.0), 12.00,
		              1.00);
	else
		mg_buf_puts(out, "0,0.0,0.000,0.00,0.00");
	return 0;
}
H(h_line_clear)
{
	(void)out;
	if (no_args(s, a))
		return -1;
	s->nlines = 0;
	s->have_data = 0;
	return 0;
}
H(h_line_set)
{
	(void)out;
	long idx, is = 0;
	double wl;
	char el[8];
	if (a->n < 3 || a->n > 4) {
		push_error(s, a->n < 3 ? -109 : -108, "CONFigure:LINE <n>,<element>,<wavelength>[,<is>]");
		return -1;
	}
	if (arg_int(s, a, 0, 1, MG_ICP_MAX_LINES, &idx) || arg_string(s, a, 1, el, sizeof(el)) ||
	    arg_num(s, a, 2, 100, 1000, &wl) || (a->n == 4 && arg_int(s, a, 3, 0, 1, &is)))
		return -1;
	if (!valid_symbol(el)) {
		push_error(s, -224, "'%s' is not an element", el);
		return -1;
	}
	if ((size_t)idx > s->nlines + 1) {
		push_error(s, -222, "line %ld: configure lines 1 to %zu first", idx, s->nlines);
		return -1;
	}
	if (!mg_icpphys_find(el, wl, 0.01)) {
		push_error(s, -224, "no %s line at %.4f nm in the line library", el, wl);
		return -1;
	}
	struct sim_line *L = &s->lines[idx - 1];
	snprintf(L->el, sizeof(L->el), "%.3s", el);
	L->wl = wl;
	L->is = (int)is;
	if ((size_t)idx > s->nlines)
		s->nlines = (size_t)idx;
	s->have_data = 0;
	return 0;
}
H(h_line_query)
{
	long idx;
	if (arg_int(s, a, 0, 1, (long)(s->nlines ? s->nlines : 1), &idx))
		return -1;
	if ((size_t)idx > s->nlines) {
		push_error(s, -222, "no line %ld", idx);
		return -1;
	}
	const struct sim_line *L = &s->lines[idx - 1];
	mg_scpi_append_string(out, L->el);
	mg_buf_printf(out, ",%.4f,%d", L->wl, L->is);
	return 0;
}
H(h_line_count)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "%zu", s->nlines);
	return 0;
}
H(h_int_set)
{
	(void)out;
	double v;
	if (arg_num(s, a, 0, 0.1, 60, &v))
		return -1;
	if (a->n > 1) {
		push_error(s, -108, NULL);
		return -1;
	}
	s->integration = v;
	s->have_data = 0;
	return 0;
}
H(h_int)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "%.3f", s->integration);
	return 0;
}
H(h_rep_set)
{
	(void)out;
	long v;
	if (arg_int(s, a, 0, 1, MG_ICP_MAX_REPLICATES, &v))
		return -1;
	if (a->n > 1) {
		push_error(s, -108, NULL);
		return -1;
	}
	s->replicates = (unsigned)v;
	s->have_data = 0;
	return 0;
}
H(h_rep)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "%u", s->replicates);
	return 0;
}
H(h_pos_set)
{
	(void)out;
	long v;
	if (arg_int(s, a, 0, 1, 999, &v))
		return -1;
	if (a->n > 1) {
		push_error(s, -108, NULL);
		return -1;
	}
	s->position = (int)v;
	return 0;
}
H(h_pos)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "%d", s->position);
	return 0;
}
H(h_pos_cat)
{
	if (no_args(s, a))
		return -1;
	for (size_t i = 0; i < s->nslots; i++)
		mg_buf_printf(out, "%s%d", i ? "," : "", s->slots[i].sol.position);
	return 0;
}
H(h_label_set)
{
	(void)out;
	if (a->n != 1) {
		push_error(s, a->n ? -108 : -109, NULL);
		return -1;
	}
	return arg_string(s, a, 0, s->label, sizeof(s->label));
}
H(h_label)
{
	if (no_args(s, a))
		return -1;
	mg_scpi_append_string(out, s->label);
	return 0;
}
H(h_init)
{
	(void)out;
	if (no_args(s, a))
		return -1;
	run(s);
	return 0;
}
H(h_abort)
{
	(void)out;
	if (no_args(s, a))
		return -1;
	s->busy_left = 0;
	return 0;
}
H(h_oper_cond)
{
	if (no_args(s, a))
		return -1;
	if (s->busy_left) {
		s->busy_left--;
		mg_buf_puts(out, "16");
	} else {
		mg_buf_puts(out, "0");
	}
	return 0;
}
H(h_oper_event)
{
	if (no_args(s, a))
		return -1;
	mg_buf_puts(out, "0");
	return 0;
}
H(h_stat_preset)
{
	(void)out;
	return no_args(s, a);
}
H(h_fetch_count)
{
	if (no_args(s, a))
		return -1;
	mg_buf_printf(out, "%u", s->have_data ? s->data_reps : 0u);
	return 0;
}
H(h_fetch_window)
{
	long line, rep;
	if (check_fetch(s, a, 1, &line, &rep))
		return -1;
	size_t np = s->pixels;
	double v[2 * 128];
	const double *wl = s->data_wl + (size_t)(line - 1) * np;
	const double *c = s->data + ((size_t)(rep - 1) * MG_ICP_MAX_LINES + (size_t)(line - 1)) * np;
	for (size_t i = 0; i < np; i++) {
		v[2 * i] = wl[i];
		v[2 * i + 1] = c[i];
	}
	put_numbers(s, v, 2 * np, 1, out);
	return 0;
}
H(h_fetch_wl)
{
	/* the window of a configured line is known before any run */
	long line;
	if (arg_int(s, a, 0, 1, (long)(s->nlines ? s->nlines : 1), &line))
		return -1;
	if ((size_t)line > s->nlines || a->n > 1) {
		push_error(s, a->n > 1 ? -108 : -222, "no line %ld", line);
		return -1;
	}
	double wl[128];
	mg_icpphys_conditions c;
	conditions(s, s->t_s, &c);
	mg_icpphys_axis(&c, s->lines[line - 1].wl, wl);
	put_numbers(s, wl, s->pixels, 0, out);
	return 0;
}
H(h_fetch_int)
{
	long line, rep;
	if (check_fetch(s, a, 1, &line, &rep))
		return -1;
	const double *c = s->data + ((size_t)(rep - 1) * MG_ICP_MAX_LINES + (size_t)(line - 1)) * s->pixels;
	if (s->fmt == FMT_ASCII) {
		for (size_t i = 0; i < s->pixels; i++)
			mg_buf_printf(out, "%s%.2f", i ? "," : "", c[i]);
		return 0;
	}
	put_numbers(s, c, s->pixels, 0, out);
	return 0;
}
H(h_format_set)
{
	(void)out;
	if (a->n < 1 || a->n > 2) {
		push_error(s, a->n ? -108 : -109, NULL);
		return -1;
	}
	if (arg_word(a, 0, "ASC", "ASCII") && a->n == 1) {
		s->fmt = FMT_ASCII;
		return 0;
	}
	if (arg_word(a, 0, "REAL", "REAL")) {
		long bits = 64;
		if (a->n == 2 && arg_int(s, a, 1, 32, 64, &bits))
			return -1;
		if (bits != 32 && bits != 64) {
			push_error(s, -224, "REAL,32 or REAL,64");
			return -1;
		}
		s->fmt = bits == 32 ? FMT_REAL32 : FMT_REAL64;
		return 0;
	}
	push_error(s, -224, "ASCii or REAL,32|64");
	return -1;
}
H(h_format)
{
	if (no_args(s, a))
		return -1;
	mg_buf_puts(out, s->fmt == FMT_ASCII ? "ASC" : s->fmt == FMT_REAL32 ? "REAL,32" : "REAL,64");
	return 0;
}
H(h_border_set)
{
	(void)out;
	if (a->n != 1) {
		push_error(s, a->n ? -108 : -109, NULL);
		return -1;
	}
	if (arg_word(a, 0, "NORM", "NORMAL"))
		s->swapped = 0;
	else if (arg_word(a, 0, "SWAP", "SWAPPED"))
		s->swapped = 1;
	else {
		push_error(s, -224, "NORMal or SWAPped");
		return -1;
	}
	return 0;
}
H(h_border)
{
	if (no_args(s, a))
		return -1;
	mg_buf_puts(out, s->swapped ? "SWAP" : "NORM");
	return 0;
}

static const struct cmd {
	const char *pattern; /* long forms, short form in capitals, [:OPTional] nodes */
	int query;
	handler fn;
} cmds[] = {
	{"*IDN", 1, h_idn},
	{"*RST", 0, h_rst},
	{"*CLS", 0, h_cls},
	{"*OPC", 0, h_opc_set},
	{"*OPC", 1, h_opc},
	{"*WAI", 0, h_wai},
	{"*ESR", 1, h_esr},
	{"*ESE", 0, h_ese_set},
	{"*ESE", 1, h_ese},
	{"*SRE", 0, h_sre_set},
	{"*SRE", 1, h_sre},
	{"*STB", 1, h_stb},
	{"*TST", 1, h_tst},
	{"SYSTem:ERRor[:NEXT]", 1, h_err},
	{"SYSTem:ERRor:COUNt", 1, h_err_count},
	{"SYSTem:VERSion", 1, h_version},
	{"PLASma[:STATe]", 0, h_plasma_set},
	{"PLASma[:STATe]", 1, h_plasma},
	{"PLASma:CONDition", 1, h_plasma_status},
	{"CONFigure:LINE:CLEar", 0, h_line_clear},
	{"CONFigure:LINE", 0, h_line_set},
	{"CONFigure:LINE", 1, h_line_query},
	{"CONFigure:LINE:COUNt", 1, h_line_count},
	{"[SENSe]:INTegration[:TIME]", 0, h_int_set},
	{"[SENSe]:INTegration[:TIME]", 1, h_int},
	{"[SENSe]:REPLicates", 0, h_rep_set},
	{"[SENSe]:REPLicates", 1, h_rep},
	{"SAMPle:POSition", 0, h_pos_set},
	{"SAMPle:POSition", 1, h_pos},
	{"SAMPle:POSition:CATalog", 1, h_pos_cat},
	{"SAMPle:LABel", 0, h_label_set},
	{"SAMPle:LABel", 1, h_label},
	{"INITiate[:IMMediate]", 0, h_init},
	{"ABORt", 0, h_abort},
	{"STATus:OPERation:CONDition", 1, h_oper_cond},
	{"STATus:OPERation[:EVENt]", 1, h_oper_event},
	{"STATus:PRESet", 0, h_stat_preset},
	{"FETCh:COUNt", 1, h_fetch_count},
	{"FETCh:WINDow", 1, h_fetch_window},
	{"FETCh:WAVelength", 1, h_fetch_wl},
	{"FETCh:INTensity", 1, h_fetch_int},
	{"FORMat[:DATA]", 0, h_format_set},
	{"FORMat[:DATA]", 1, h_format},
	{"FORMat:BORDer", 0, h_border_set},
	{"FORMat:BORDer", 1, h_border},
};

/* A keyword against a node ("INTegration"): the short form (its capitals) or
 * the long form, any case. */
static int kw_match(const char *node, size_t nn, const char *kw, size_t kl)
{
	size_t shortlen = 0;
	while (shortlen < nn && (isupper((unsigned char)node[shortlen]) || node[shortlen] == '*'))
		shortlen++;
	if (kl == nn && !strncasecmp(node, kw, kl))
		return 1;
	return kl == shortlen && !strncasecmp(node, kw, kl);
}

struct node {
	const char *p;
	size_t n;
	int opt;
};

static size_t pattern_nodes(const char *pat, struct node *nodes, size_t cap)
{
	size_t k = 0;
	const char *p = pat;
	while (*p && k < cap) {
		int opt = 0;
		if (*p == '[') {
			opt = 1;
			p++;
		}
		if (*p == ':')
			p++;
		const char *e = p;
		while (*e && *e != ':' && *e != '[' && *e != ']')
			e++;
		nodes[k].p = p;
		nodes[k].n = (size_t)(e - p);
		nodes[k].opt = opt;
		k++;
		p = e;
		if (*p == ']')
			p++;
	}
	return k;
}

static int match_nodes(const struct node *nodes, size_t nn, char kws[][32], size_t nk)
{
	if (nn == 0)
		return nk == 0;
	if (nodes[0].opt && match_nodes(nodes + 1, nn - 1, kws, nk))
		return 1;
	return nk > 0 && kw_match(nodes[0].p, nodes[0].n, kws[0], strlen(kws[0])) &&
	       match_nodes(nodes + 1, nn - 1, kws + 1, nk - 1);
}

static const struct cmd *find_cmd(int query, char kws[][32], size_t nk)
{
	for (size_t i = 0; i < MG_ARRAY_SIZE(cmds); i++) {
		if (cmds[i].query != query)
			continue;
		struct node nodes[8];
		size_t nn = pattern_nodes(cmds[i].pattern, nodes, 8);
		if (match_nodes(nodes, nn, kws, nk))
			return &cmds[i];
	}
	return NULL;
}

/* One program message unit: header [params]. Appends the answer of a query to
 * resp. A relative header after ';' is looked up under the previous header's
 * parent node (SCPI), then under the previous header itself (when that left an
 * optional leaf implied, e.g. FORM REAL;BORD SWAP), then from the root. */
static void unit(struct mg_icpsim *s, const char *p, size_t n, mg_buf *resp, int *answers)
{
	while (n && isspace((unsigned char)*p))
		p++, n--;
	while (n && isspace((unsigned char)p[n - 1]))
		n--;
	if (!n)
		return;
	size_t h = 0;
	while (h < n && !isspace((unsigned char)p[h]))
		h++;
	int query = h > 0 && p[h - 1] == '?';
	size_t hl = query ? h - 1 : h;
	char kws[16][32];
	size_t nk = 0;
	int common = p[0] == '*';
	int absolute = p[0] == ':';
	const char *k = p + (absolute ? 1 : 0);
	const char *end = p + hl;
	if (common) {
		if (hl >= sizeof(kws[0])) {
			push_error(s, -112, NULL);
			return;
		}
		memcpy(kws[0], p, hl);
		kws[0][hl] = '\0';
		nk = 1;
	} else {
		while (k < end) {
			const char *c = memchr(k, ':', (size_t)(end - k));
			size_t len = c ? (size_t)(c - k) : (size_t)(end - k);
			if (!len || nk >= 8) {
				push_error(s, -102, "header '%.*s'", (int)(hl > 40 ? 40 : hl), p);
				return;
			}
			if (len >= sizeof(kws[0])) {
				push_error(s, -112, NULL);
				return;
			}
			for (size_t i = 0; i < len; i++)
				if (!isalpha((unsigned char)k[i])) {
					push_error(s, isdigit((unsigned char)k[i]) ? -114 : -101, "header '%.*s'",
					           (int)(hl > 40 ? 40 : hl), p);
					return;
				}
			memcpy(kws[nk], k, len);
			kws[nk++][len] = '\0';
			k += len + (c ? 1 : 0);
			if (c && k == end) {
				push_error(s, -102, "header '%.*s'", (int)(hl > 40 ? 40 : hl), p);
				return;
			}
		}
		if (nk == 0) {
			push_error(s, -102, "empty header");
			return;
		}
	}
	struct args a;
	if (split_args(p + h, n - h, &a)) {
		push_error(s, -103, "parameters of '%.*s'", (int)(hl > 40 ? 40 : hl), p);
		return;
	}
	const struct cmd *found = NULL;
	char full[16][32];
	size_t nfull = 0;
	if (common) {
		found = find_cmd(query, kws, nk);
	} else {
		size_t prefixes[3] = {s->npath ? s->npath - 1 : 0, s->npath, 0};
		for (size_t t = absolute ? 2 : 0; t < 3 && !found; t++) {
			size_t pre = prefixes[t];
			if (t == 1 && pre == prefixes[0])
				continue;
			nfull = 0;
			for (size_t i = 0; i < pre && nfull < 16; i++)
				memcpy(full[nfull++], s->path[i], sizeof(full[0]));
			for (size_t i = 0; i < nk && nfull < 16; i++)
				memcpy(full[nfull++], kws[i], sizeof(full[0]));
			found = find_cmd(query, full, nfull);
		}
	}
	if (!found) {
		push_error(s, -113, "'%.*s'", (int)(hl > 40 ? 40 : hl), p);
		return;
	}
	if (!common) {
		s->npath = nfull < 8 ? nfull : 8;
		for (size_t i = 0; i < s->npath; i++)
			memcpy(s->path[i], full[i], sizeof(full[0]));
	}
	mg_buf ans;
	mg_buf_init(&ans);
	int rc = found->fn(s, &a, &ans);
	if (query) {
		s->st.queries++;
		if (rc == 0) {
			if (*answers)
				mg_buf_append(resp, ";", 1);
			mg_buf_append(resp, ans.data ? ans.data : "", ans.len);
			(*answers)++;
		}
	}
	mg_buf_free(&ans);
}

/* One program message (without terminator): its answer (if any) + LF to out. */
static void message(struct mg_icpsim *s, const char *p, size_t n, mg_buf *out)
{
	s->st.messages++;
	s->npath = 0;
	mg_buf resp;
	mg_buf_init(&resp);
	int answers = 0;
	size_t start = 0;
	char q = 0;
	int has_query = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && q) {
			if (p[i] == q)
				q = 0;
			continue;
		}
		if (i < n && (p[i] == '"' || p[i] == '\'')) {
			q = p[i];
			continue;
		}
		if (i == n || p[i] == ';') {
			size_t before = s->st.queries;
			unit(s, p + start, i - start, &resp, &answers);
			has_query |= s->st.queries != before;
			start = i + 1;
		}
	}
	if (has_query)
		s->query_msgs++;
	if (answers) {
		if (s->hang_at && s->query_msgs == s->hang_at)
			mg_dbg(DOM, "query message %u not answered (hang fault)", s->query_msgs);
		else {
			mg_buf_append(out, resp.data, resp.len);
			mg_buf_append(out, "\n", 1);
		}
	}
	mg_buf_free(&resp);
	s->fn.stb = (uint8_t)stb(s);
}

/* ------------------------------------------------------------ public */

static int parse_params(struct mg_icpsim *s, mg_transport_uri *uri, const char **rack)
{
	const char *v;
	*rack = mg_transport_uri_take(uri, "rack");
	if ((v = mg_transport_uri_take(uri, "seed"))) {
		char *end;
		unsigned long long x = strtoull(v, &end, 10);
		if (*end || !*v || !isdigit((unsigned char)*v))
			return mg_fail(MG_ERR_ARG, DOM, "seed: '%s' (a whole number)", v);
		s->seed = x;
	}
	if ((v = mg_transport_uri_take(uri, "serial"))) {
		if (strlen(v) >= sizeof(s->serial) || strpbrk(v, ",;\"'"))
			return mg_fail(MG_ERR_ARG, DOM, "serial: '%s' (up to 31 characters, no , ; or quotes)", v);
		snprintf(s->serial, sizeof(s->serial), "%s", v);
	}
	if ((v = mg_transport_uri_take(uri, "plasma"))) {
		if (!strcmp(v, "on"))
			s->plasma = 1;
		else if (!strcmp(v, "off"))
			s->plasma = 0;
		else
			return mg_fail(MG_ERR_ARG, DOM, "plasma: '%s' (on or off)", v);
	}
	double d;
	if ((v = mg_transport_uri_take(uri, "drift"))) {
		if (num("drift", v, -100, 100, &d))
			return MG_ERR_ARG;
		s->drift_pct_h = d;
	}
	if ((v = mg_transport_uri_take(uri, "noise"))) {
		if (num("noise", v, 0, 100, &d))
			return MG_ERR_ARG;
		s->noise = d;
	}
	if ((v = mg_transport_uri_take(uri, "pixels"))) {
		if (num("pixels", v, 16, 128, &d) || d != floor(d))
			return mg_fail(MG_ERR_ARG, DOM, "pixels: '%s' (16 to 128)", v);
		s->pixels = (size_t)d;
	}
	if ((v = mg_transport_uri_take(uri, "busy_polls"))) {
		if (num("busy_polls", v, 0, 1000000, &d) || d != floor(d))
			return mg_fail(MG_ERR_ARG, DOM, "busy_polls: '%s' (a whole number)", v);
		s->busy_polls = (unsigned)d;
	}
	if ((v = mg_transport_uri_take(uri, "hang"))) {
		if (num("hang", v, 1, 1e9, &d) || d != floor(d))
			return mg_fail(MG_ERR_ARG, DOM, "hang: '%s' (the Nth query message, from 1)", v);
		s->hang_at = (unsigned)d;
	}
	if ((v = mg_transport_uri_take(uri, "error_at"))) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%s", v);
		char *colon = strchr(buf, ':');
		long code = -240;
		if (colon) {
			*colon = '\0';
			char *end;
			code = strtol(colon + 1, &end, 10);
			if (*end || code == 0 || code < -999 || code > 9999)
				return mg_fail(MG_ERR_ARG, DOM, "error_at: bad error code '%s'", colon + 1);
		}
		if (num("error_at", buf, 1, 1e9, &d) || d != floor(d))
			return mg_fail(MG_ERR_ARG, DOM, "error_at: '%s' (N[:CODE], the Nth run from 1)", v);
		s->error_at = (unsigned)d;
		s->error_code = (int)code;
	}
	if ((v = mg_transport_uri_take(uri, "drift_jump"))) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%s", v);
		char *at = strchr(buf, '@');
		if (!at)
			return mg_fail(MG_ERR_ARG, DOM, "drift_jump: '%s' (PCT@N)", v);
		*at = '\0';
		if (num("drift_jump", buf, -90, 1000, &d))
			return MG_ERR_ARG;
		s->jump_pct = d;
		if (num("drift_jump", at + 1, 1, 1e9, &d) || d != floor(d))
			return mg_fail(MG_ERR_ARG, DOM, "drift_jump: '%s' (PCT@N, the Nth run from 1)", v);
		s->jump_at = (unsigned)d;
	}
	return MG_OK;
}

void mg_icpsim_free(mg_icpsim *s)
{
	if (!s)
		return;
	free(s->slots);
	free(s->data);
	free(s->data_wl);
	mg_buf_free(&s->in);
	mg_usbtmc_fn_free(&s->fn);
	if (s->rng)
		gsl_rng_free(s->rng);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int sim_from_uri_rack(mg_transport_uri *uri, const char *rack_text, size_t rack_n, const char *rack_src,
                             mg_icpsim **out)
{
	*out = NULL;
	struct mg_icpsim *s = calloc(1, sizeof(*s));
	if (!s)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	mg_buf_init(&s->in);
	mg_usbtmc_caps caps = {.bcd_usbtmc = 0x0100, .bcd_usb488 = 0x0100, .is_488_2 = 1, .scpi = 1};
	mg_usbtmc_fn_init(&s->fn, &caps, 0x02, 0x81);
	s->seed = 1;
	snprintf(s->serial, sizeof(s->serial), "ICP-0001");
	s->plasma = 1;
	s->drift_pct_h = -1.0;
	s->noise = 1.0;
	s->pixels = 64;
	s->error_code = -240;
	const char *rack = NULL;
	int rc = parse_params(s, uri, &rack);
	if (rc == MG_OK && rack && rack_text)
		rc = mg_fail(MG_ERR_ARG, DOM, "rack=%s: the rack is given as text", rack);
	if (rc == MG_OK)
		rc = rack_text ? parse_rack(s, rack_text, rack_n, rack_src ? rack_src : "(rack)") : load_rack(s, rack);
	if (rc == MG_OK) {
		s->rng = gsl_rng_alloc(gsl_rng_mt19937);
		s->data = calloc((size_t)MG_ICP_MAX_REPLICATES * MG_ICP_MAX_LINES * s->pixels, sizeof(double));
		s->data_wl = calloc((size_t)MG_ICP_MAX_LINES * s->pixels, sizeof(double));
		if (!s->rng || !s->data || !s->data_wl)
			rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		else
			gsl_rng_set(s->rng, (unsigned long)(s->seed ^ (s->seed >> 32)) * 2654435761ul + 17ul);
	}
	if (rc) {
		mg_icpsim_free(s);
		return rc;
	}
	reset(s);
	*out = s;
	return MG_OK;
}

static int sim_from_uri(mg_transport_uri *uri, mg_icpsim **out)
{
	return sim_from_uri_rack(uri, NULL, 0, NULL, out);
}

static int new_sim(const char *params, const char *rack, size_t n, const char *source, mg_icpsim **out);

int mg_icpsim_new(const char *params, mg_icpsim **out)
{
	return new_sim(params, NULL, 0, NULL, out);
}

int mg_icpsim_new_with_rack(const char *params, const char *rack, size_t n, const char *source, mg_icpsim **out)
{
	if (!rack && n)
		return mg_fail(MG_ERR_ARG, DOM, "mg_icpsim_new_with_rack: NULL rack");
	return new_sim(params, rack ? rack : "", n, source, out);
}

static int new_sim(const char *params, const char *rack, size_t n, const char *source, mg_icpsim **out)
{
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_icpsim_new: out is NULL");
	*out = NULL;
	mg_buf text;
	mg_buf_init(&text);
	mg_buf_printf(&text, "sim:%s%s%s", SIM_NAME, params && *params ? "?" : "", params ? params : "");
	if (mg_buf_status(&text)) {
		mg_buf_free(&text);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	mg_transport_uri *uri = NULL;
	int rc = mg_transport_uri_parse(text.data, &uri);
	mg_buf_free(&text);
	if (rc < 0)
		return rc;
	rc = sim_from_uri_rack(uri, rack, n, source, out);
	for (size_t i = 0; rc == MG_OK && i < uri->nparams; i++)
		if (!uri->params[i].used) {
			rc = mg_fail(MG_ERR_ARG, DOM,
			             "unknown simulator parameter '%s' (known: rack, seed, serial, plasma, drift, noise, pixels, "
			             "busy_polls, error_at, drift_jump, hang)",
			             uri->params[i].key);
			mg_icpsim_free(*out);
			*out = NULL;
		}
	mg_transport_uri_free(uri);
	return rc;
}

int mg_icpsim_feed(mg_icpsim *s, const uint8_t *in, size_t n, mg_buf *out)
{
	if (!s || (!in && n) || !out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_icpsim_feed: NULL argument");
	pthread_mutex_lock(&s->lock);
	int rc = MG_OK;
	for (size_t i = 0; i < n; i++) {
		if (in[i] != '\n') {
			if (s->in.len < MAX_INPUT) {
				mg_buf_append(&s->in, in + i, 1);
			} else if (!s->overrun) {
				push_error(s, -363, "a program message longer than %u bytes", MAX_INPUT);
				s->overrun = 1;
			}
			continue;
		}
		size_t len = s->in.len;
		if (len && s->in.data[len - 1] == '\r')
			len--;
		if (!s->overrun)
			message(s, s->in.data ? s->in.data : "", len, out);
		s->overrun = 0;
		mg_buf_reset(&s->in);
	}
	if (mg_buf_status(&s->in) || mg_buf_status(out))
		rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void mg_icpsim_serve(const uint8_t *in, size_t n, mg_buf *out, void *sim)
{
	if (mg_icpsim_feed(sim, in, n, out))
		mg_warn(DOM, "%s", mg_error_detail());
}

static int usbtmc_message(const uint8_t *msg, size_t n, mg_buf *response, void *ud)
{
	struct mg_icpsim *s = ud;
	size_t len = n;
	if (len && msg[len - 1] == '\n')
		len--;
	if (len && msg[len - 1] == '\r')
		len--;
	if (memchr(msg, '\n', len)) {
		/* several messages in one: each LF ends one */
		size_t start = 0;
		for (size_t i = 0; i <= len; i++)
			if (i == len || msg[i] == '\n') {
				size_t l = i - start;
				if (l && msg[start + l - 1] == '\r')
					l--;
				message(s, (const char *)msg + start, l, response);
				start = i + 1;
			}
	} else {
		message(s, (const char *)msg, len, response);
	}
	return MG_OK;
}

void mg_icpsim_serve_usbtmc(const uint8_t *in, size_t n, mg_buf *out, void *sim)
{
	struct mg_icpsim *s = sim;
	pthread_mutex_lock(&s->lock);
	if (mg_usbtmc_fn_bulk_out(&s->fn, in, n, usbtmc_message, s, out))
		mg_dbg(DOM, "USBTMC: %s", mg_error_detail());
	pthread_mutex_unlock(&s->lock);
}

int mg_icpsim_usbtmc_control(mg_icpsim *s, const uint8_t setup[8], uint8_t *data, size_t cap, unsigned *actions)
{
	pthread_mutex_lock(&s->lock);
	int r = mg_usbtmc_fn_control(&s->fn, setup, data, cap, actions);
	pthread_mutex_unlock(&s->lock);
	return r;
}

void mg_icpsim_usbtmc_pending(mg_icpsim *s, unsigned n)
{
	pthread_mutex_lock(&s->lock);
	s->fn.check_pending = n;
	pthread_mutex_unlock(&s->lock);
}

int mg_icpsim_advance(mg_icpsim *s, double seconds)
{
	if (!s || !(seconds >= 0))
		return mg_fail(MG_ERR_ARG, DOM, "mg_icpsim_advance: bad argument");
	pthread_mutex_lock(&s->lock);
	s->t_s += seconds;
	pthread_mutex_unlock(&s->lock);
	return MG_OK;
}

int mg_icpsim_solution_at(mg_icpsim *s, int position, mg_icpsim_solution *out)
{
	if (!s || !out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_icpsim_solution_at: NULL argument");
	pthread_mutex_lock(&s->lock);
	struct slot *sl = slot_at(s, position);
	if (sl)
		*out = sl->sol;
	pthread_mutex_unlock(&s->lock);
	return sl ? MG_OK : mg_fail(MG_ERR_NOT_FOUND, DOM, "position %d is empty", position);
}

int mg_icpsim_truth(mg_icpsim *s, int position, const char *element, double *mg_per_l)
{
	if (!s || !element || !mg_per_l)
		return mg_fail(MG_ERR_ARG, DOM, "mg_icpsim_truth: NULL argument");
	mg_icpsim_solution sol;
	int rc = mg_icpsim_solution_at(s, position, &sol);
	if (rc)
		return rc;
	*mg_per_l = 0;
	for (size_t i = 0; i < sol.nelements; i++)
		if (!strcmp(sol.element[i], element))
			*mg_per_l = sol.mg_per_l[i];
	return MG_OK;
}

int mg_icpsim_internal_standard(mg_icpsim *s, char element[4], double *mg_per_l)
{
	if (!s || !element || !mg_per_l)
		return mg_fail(MG_ERR_ARG, DOM, "mg_icpsim_internal_standard: NULL argument");
	snprintf(element, 4, "%s", s->is_el);
	*mg_per_l = s->is_c;
	return MG_OK;
}

int mg_icpsim_positions(mg_icpsim *s, int *positions, size_t cap)
{
	if (!s)
		return mg_fail(MG_ERR_ARG, DOM, "mg_icpsim_positions: NULL simulator");
	for (size_t i = 0; i < s->nslots && i < cap && positions; i++)
		positions[i] = s->slots[i].sol.position;
	return (int)s->nslots;
}

mg_icpsim_stats mg_icpsim_get_stats(mg_icpsim *s)
{
	mg_icpsim_stats st = {0};
	if (!s)
		return st;
	pthread_mutex_lock(&s->lock);
	st = s->st;
	st.sim_time_s = s->t_s;
	st.usbtmc_transfers_out = s->fn.st.transfers_out;
	st.usbtmc_requests_in = s->fn.st.requests_in;
	st.usbtmc_transfers_in = s->fn.st.transfers_in;
	st.usbtmc_bad_headers = s->fn.st.bad_headers;
	st.usbtmc_aborts_in = s->fn.st.aborts_in;
	st.usbtmc_aborts_out = s->fn.st.aborts_out;
	st.usbtmc_clears = s->fn.st.clears;
	st.usbtmc_caps = s->fn.st.caps_requests;
	st.usbtmc_last_abort_btag = s->fn.st.last_abort_btag;
	pthread_mutex_unlock(&s->lock);
	return st;
}

/* ------------------------------------------------------------ loopback glue */

static int dev_feed(mg_simdev *dev, const uint8_t *in, size_t n, mg_buf *out)
{
	return mg_icpsim_feed(dev->ctx, in, n, out);
}

static int dev_tick(mg_simdev *dev, unsigned elapsed_ms, mg_buf *out)
{
	(void)out;
	return mg_icpsim_advance(dev->ctx, (double)elapsed_ms * 1e-3);
}

static void free_ctx(void *ctx)
{
	mg_icpsim_free(ctx);
}

static int from_uri(mg_transport_uri *uri, void **out)
{
	mg_icpsim *s = NULL;
	int rc = sim_from_uri(uri, &s);
	*out = s;
	return rc;
}

static sim_glue glue = {
	.name = SIM_NAME,
	.dom = DOM,
	.wrap_fn = "mg_icpsim_simdev",
	.from_uri = from_uri,
	.free_ctx = free_ctx,
	.feed = dev_feed,
	.tick = dev_tick,
};

int mg_icpsim_simdev(mg_icpsim *sim, mg_simdev **out)
{
	return sim_glue_simdev(&glue, sim, out);
}

int mg_icpsim_register(void)
{
	return sim_glue_register(&glue);
}

__attribute__((constructor)) static void register_at_load(void)
{
	mg_icpsim_register();
}
