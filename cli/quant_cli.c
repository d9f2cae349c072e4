/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Quantification in `magassay analyze`: see quant_cli.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "magassay/error.h"
#include "magassay/format.h"
#include "magassay/quant.h"
#include "magassay/store.h"
#include "quant_cli.h"

#define MAX_STD 32

typedef struct std_arg {
	char *file;
	mg_quant_comp comp;
	int measured;
	mg_quant_standard st;
} std_arg;

static struct {
	int active;                /* a quantification was asked for */
	int have_method;
	mg_quant_method method;
	const char *instrument_file;
	int instrument_given;
	mg_instrument_desc ins;    /* as the file (or the default) says */
	size_t nstd;
	std_arg std[MAX_STD];
	int have_cal;
	mg_quant_calibration cal;
	char *tmp_calib;           /* the engine calibration of a store record, exported for --calib */
	char *calib_arg;
	const char *data_dir;      /* analyze's --data-dir (left in place for it) */
	mg_grade_table *grades;
	int boron_mode;            /* 0 default (nominal 1.0), 1 given, 2 none */
	double boron, boron_u;
	int boron_icp;
	char balance[4];
	mg_analysis_config base;   /* the engine configuration after the options */
	/* the last quantification object (rebuilt when the instrument changes) */
	mg_quant *q;
	mg_instrument_desc q_ins;
	char q_elements[512];
	char error[512];
} G;

static void forget_last(void);

static void drop_args(int *argc, char **argv, int at, int n)
{
	for (int i = at; i + n <= *argc; i++)
		argv[i] = argv[i + n];
	*argc -= n;
}

static int opt_value(int *argc, char **argv, int i, const char *name, const char **val, int *used)
{
	size_t n = strlen(name);
	if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=') {
		*val = argv[i] + n + 1;
		*used = 1;
		return 1;
	}
	if (strcmp(argv[i], name) == 0) {
		if (i + 1 >= *argc)
			return -1;
		*val = argv[i + 1];
		*used = 2;
		return 1;
	}
	return 0;
}

/* --standard EL=FILE or COMPOSITION=FILE ("Fe:66,Nd:24=ref.msa") */
static int parse_standard(const char *v)
{
	const char *eq = strrchr(v, '=');
	if (!eq || eq == v || !eq[1])
		return cli_usage("analyze", "--standard wants EL=FILE or COMPOSITION=FILE, got '%s'", v);
	if (G.nstd >= MAX_STD)
		return cli_usage("analyze", "at most %d standards", MAX_STD);
	std_arg *a = &G.std[G.nstd];
	memset(a, 0, sizeof *a);
	char spec[256];
	snprintf(spec, sizeof spec, "%.*s", (int)(eq - v), v);
	if (!strchr(spec, ':'))
		strncat(spec, ":100", sizeof spec - strlen(spec) - 1);
	if (mg_quant_comp_parse(spec, &a->comp) < 0)
		return cli_usage("analyze", "--standard %s: %s", v, mg_error_detail());
	a->file = strdup(eq + 1);
	G.nstd++;
	return 0;
}

static int parse_boron(const char *v)
{
	if (strcmp(v, "none") == 0) {
		G.boron_mode = 2;
		return 0;
	}
	const char *p = v;
	if (strncmp(p, "icp:", 4) == 0) {
		G.boron_icp = 1;
		p += 4;
	}
	char *end;
	errno = 0;
	G.boron = strtod(p, &end);
	G.boron_u = 0.15;
	if (*end == ':') {
		const char *u = end + 1;
		G.boron_u = strtod(u, &end);
	}
	if (end == p || *end || errno || !(G.boron >= 0 && G.boron < 20) || !(G.boron_u >= 0))
		return cli_usage("analyze", "--boron wants WT[:U] (wt%%), icp:WT:U or none, got '%s'", v);
	G.boron_mode = 1;
	return 0;
}

/* --calib: a quantification record (file or store reference) */
static int read_calib(const char *ref)
{
	mg_calib_record r;
	struct stat sb;
	int rc;
	if (stat(ref, &sb) == 0) {
		rc = mg_calib_record_import(ref, &r);
		if (rc < 0) {
			mg_error_clear();
			return 0; /* an energy/resolution calibration object: the engine's business */
		}
	} else {
		mg_store *st = NULL;
		if (cli_store_open_db(G.data_dir, MG_STORE_READONLY, &st) < 0) {
			mg_error_clear();
			return 0; /* not ours: the engine's reader reports the missing file */
		}
		rc = mg_calib_record_load(st, ref, &r);
		mg_store_close(st);
		if (rc < 0) {
			cli_error("--calib %s: %s", ref, mg_error_detail());
			return CLI_FAIL;
		}
	}
	rc = 0;
	if (strcmp(r.kind, "quant") == 0) {
		rc = mg_quant_calibration_from_json(r.payload_json, strlen(r.payload_json), ref, &G.cal);
		if (rc < 0) {
			cli_error("--calib %s: %s", ref, mg_error_detail());
			mg_calib_record_clear(&r);
			return CLI_FAIL;
		}
		snprintf(G.cal.name, sizeof G.cal.name, "%s", r.name);
		G.cal.version = r.version;
		G.cal.id = r.id;
		G.have_cal = 1;
		G.active = 1;
	}
	/* a store reference: the engine reads a file, so give it one (with the
	 * record's energy/resolution calibration, when it has one) */
	if (stat(ref, &sb) != 0) {
		char path[] = "/tmp/magassay-calib-XXXXXX";
		int fd = mkstemp(path);
		if (fd >= 0) {
			close(fd);
			unlink(path);
			if (mg_calib_record_export(&r, path) == 0)
				G.tmp_calib = strdup(path);
		}
	}
	mg_calib_record_clear(&r);
	return rc;
}

void cli_quant_help(void)
{
	printf("\nQuantification (docs/quantification.md): wt%% with uncertainties, LOD/LOQ, flags, totals,\n"
	       "grade; the JSON gains kratios, composition, calibration_id and quant.\n"
	       "      --standard EL=FILE  a standard measured under the same conditions (repeatable): a pure\n"
	       "                          element, or COMPOSITION=FILE (\"Fe:66,Nd:24,...=ref.msa\", wt%%):\n"
	       "                          k-ratios and the FP matrix correction\n"
	       "      --instrument FILE   instrument description (docs/instrument-file.md; default\n"
	       "                          DATA_DIR/instrument.ini, else a benchtop SDD with a Rh tube)\n"
	       "      --quant[=METHOD]    quantify: fp (standardless, or with the standards' instrument\n"
	       "                          factor), kratio, empirical (needs --calib with calibration lines);\n"
	       "                          default kratio with standards, empirical with such a --calib, else fp\n"
	       "  -c, --calib REF         also a quantification calibration record: a file from\n"
	       "                          'magassay calibrate quant --out', or a store id / quant:NAME[@V]\n"
	       "      --grades FILE       grade table (examples/grades.ini)\n"
	       "      --boron SPEC        boron (invisible to XRF): WT[:U] nominal wt%% (default 1.0:0.15),\n"
	       "                          icp:WT:U from ICP, or none\n"
	       "      --balance EL        an element by difference to 100 %%\n");
}

int cli_quant_options(int *argc, char **argv, mg_analysis_config *cfg)
{
	static int registered;
	if (!registered) {
		atexit(cli_quant_done);
		registered = 1;
	}
	cli_quant_done();
	memset(&G, 0, sizeof G);
	mg_instrument_desc_default(&G.ins);
	const char *calib = NULL;
	int calib_at = -1;
	for (int i = 1; i < *argc;) {
		const char *v = NULL;
		int used = 0, r;
		if (strcmp(argv[i], "--") == 0)
			break;
		if ((r = opt_value(argc, argv, i, "--standard", &v, &used)) != 0) {
			if (r < 0)
				return cli_usage("analyze", "--standard wants EL=FILE");
			if ((r = parse_standard(v)) != 0)
				return r;
			G.active = 1;
		} else if ((r = opt_value(argc, argv, i, "--instrument", &v, &used)) != 0) {
			if (r < 0)
				return cli_usage("analyze", "--instrument wants a file");
			G.instrument_file = v;
			G.active = 1;
		} else if (strcmp(argv[i], "--quant") == 0) {
			used = 1;
			G.active = 1;
		} else if ((r = opt_value(argc, argv, i, "--quant", &v, &used)) != 0) {
			if (r < 0 || mg_quant_method_parse(v, &G.method) < 0)
				return cli_usage("analyze", "--quant wants fp, kratio or empirical");
			G.have_method = 1;
			G.active = 1;
		} else if ((r = opt_value(argc, argv, i, "--grades", &v, &used)) != 0) {
			if (r < 0)
				return cli_usage("analyze", "--grades wants a file");
			mg_grade_table_free(G.grades);
			G.grades = NULL;
			if (mg_grade_table_read_file(v, &G.grades) < 0) {
				cli_error("%s", mg_error_detail());
				return CLI_FAIL;
			}
			G.active = 1;
		} else if ((r = opt_value(argc, argv, i, "--boron", &v, &used)) != 0) {
			if (r < 0 || (r = parse_boron(v)) != 0)
				return r ? r : cli_usage("analyze", "--boron wants a value");
		} else if ((r = opt_value(argc, argv, i, "--balance", &v, &used)) != 0) {
			if (r < 0 || strlen(v) > 2)
				return cli_usage("analyze", "--balance wants an element symbol");
			snprintf(G.balance, sizeof G.balance, "%s", v);
		} else if ((r = opt_value(argc, argv, i, "--db", &v, &used)) != 0) {
			if (r > 0)
				cli_db_set(v);
			i += used ? used : 1; /* the engine's option: left in place */
			continue;
		} else if ((r = opt_value(argc, argv, i, "--data-dir", &v, &used)) != 0) {
			if (r > 0)
				G.data_dir = v;
			i += used ? used : 1; /* the engine's option: left in place */
			continue;
		} else if ((r = opt_value(argc, argv, i, "--calib", &v, &used)) != 0 ||
		           (r = opt_value(argc, argv, i, "-c", &v, &used)) != 0) {
			if (r > 0) {
				calib = v;
				calib_at = i;
			}
			i += used ? used : 1; /* the engine's option: left in place */
			continue;
		}
		if (used)
			drop_args(argc, argv, i, used);
		else
			i++;
	}
	if (G.instrument_file) {
		if (mg_instrument_desc_read_file(G.instrument_file, &G.ins) < 0) {
			cli_error("%s", mg_error_detail());
			return CLI_FAIL;
		}
		G.instrument_given = 1;
	} else {
		/* the default in the data directory, when there is one */
		char *dir = NULL;
		const char *chosen = NULL;
		if (cli_store_location(G.data_dir, NULL, &chosen, NULL) == MG_OK &&
		    mg_store_resolve_dir(chosen, &dir) == 0 && dir) {
			char path[4096];
			struct stat sb;
			snprintf(path, sizeof path, "%s/instrument.ini", dir);
			if (stat(path, &sb) == 0) {
				if (mg_instrument_desc_read_file(path, &G.ins) < 0) {
					cli_error("%s", mg_error_detail());
					free(dir);
					return CLI_FAIL;
				}
				G.instrument_given = 1;
			}
		}
		free(dir);
	}
	if (calib) {
		int r = read_calib(calib);
		if (r != 0)
			return r;
		if (G.tmp_calib && calib_at >= 0) {
			/* point the engine at the exported file */
			if (strcmp(argv[calib_at], "--calib") == 0 || strcmp(argv[calib_at], "-c") == 0) {
				argv[calib_at + 1] = G.tmp_calib;
			} else { /* "--calib=REF" */
				size_t n = strlen(G.tmp_calib) + 9;
				G.calib_arg = malloc(n);
				if (G.calib_arg) {
					snprintf(G.calib_arg, n, "--calib=%s", G.tmp_calib);
					argv[calib_at] = G.calib_arg;
				}
			}
		}
		/* a quantification record without an energy/resolution part: not the engine's */
		if (G.have_cal && calib_at >= 0) {
			const char *f = G.tmp_calib ? G.tmp_calib : calib;
			mg_energy_cal ec;
			mg_detector_model dm = cfg->det;
			if (mg_analysis_calib_read_file(f, &ec, &dm) < 0) {
				mg_error_clear();
				int two = strcmp(argv[calib_at], "--calib") == 0 || strcmp(argv[calib_at], "-c") == 0;
				drop_args(argc, argv, calib_at, two ? 2 : 1);
			}
		}
		if (G.have_cal && !G.instrument_given)
			G.ins = G.cal.instrument;
	}
	if (G.active && (G.instrument_given || G.have_cal)) {
		mg_instrument_desc_to_analysis(&G.ins, cfg);
		/* quantification needs the coating elements in the fit */
		char el[MG_ANALYSIS_ELEMENTS_LEN];
		snprintf(el, sizeof el, "%s", cfg->elements);
		if (!strstr(el, "Ni") && strlen(el) + 4 < sizeof el)
			strcat(el, ",Ni");
		if (!strstr(el, "Cu") && strlen(el) + 4 < sizeof el)
			strcat(el, ",Cu");
		snprintf(cfg->elements, sizeof cfg->elements, "%s", el);
	}
	G.base = *cfg;
	return 0;
}

void cli_quant_done(void)
{
	for (size_t i = 0; i < G.nstd; i++)
		free(G.std[i].file);
	if (G.have_cal)
		mg_quant_calibration_clear(&G.cal);
	if (G.tmp_calib) {
		unlink(G.tmp_calib);
		free(G.tmp_calib);
	}
	free(G.calib_arg);
	mg_grade_table_free(G.grades);
	mg_quant_free(G.q);
	memset(&G, 0, sizeof G);
	forget_last();
}

/* ---------------------------------------------------------------- one spectrum */

/* Every element of the fit, of the standards and of the calibration. */
static void element_list(const mg_analysis_config *c, char *buf, size_t size)
{
	snprintf(buf, size, "%s", c->elements);
	for (char *p = buf; *p; p++)
		if (*p == ':') { /* "Fe:Ka+Kb" → "Fe" */
			char *e = p;
			while (*e && *e != ',')
				e++;
			memmove(p, e, strlen(e) + 1);
		}
	for (size_t i = 0; i < G.nstd; i++)
		for (size_t k = 0; k < G.std[i].comp.n; k++) {
			char sym[8];
			mg_quant_comp one = {0};
			mg_quant_comp_set(&one, G.std[i].comp.z[k], 1, 0);
			mg_quant_comp_format(&one, sym, sizeof sym);
			char *colon = strchr(sym, ':');
			if (colon)
				*colon = 0;
			if (strlen(buf) + strlen(sym) + 2 < size) {
				strcat(buf, ",");
				strcat(buf, sym);
			}
		}
	if (G.have_cal && strlen(buf) + strlen(G.cal.elements) + 2 < size) {
		strcat(buf, ",");
		strcat(buf, G.cal.elements);
	}
	if (strlen(buf) + 3 < size)
		strcat(buf, ",B");
}

static int measure_standards(const mg_analysis_config *cfg, const mg_instrument_desc *ins)
{
	for (size_t i = 0; i < G.nstd; i++) {
		std_arg *a = &G.std[i];
		if (a->measured)
			continue;
		mg_spectrum *s = NULL;
		int rc = mg_spectrum_read_file(a->file, NULL, &s);
		if (rc < 0) {
			snprintf(G.error, sizeof G.error, "standard %s: %s", a->file, mg_error_detail());
			return rc;
		}
		mg_instrument_desc di = *ins;
		mg_instrument_conflict c[4];
		int nc = mg_instrument_desc_apply_spectrum(&di, s, c, 4);
		(void)nc;
		mg_analysis_config sc = *cfg;
		sc.nchan = s->nchan;
		if (s->cal.valid && s->nchan != cfg->nchan)
			sc.cal = s->cal;
		char mat[256];
		mg_quant_comp_format(&a->comp, mat, sizeof mat);
		snprintf(sc.matrix, sizeof sc.matrix, "%s", mat);
		mg_analysis_result *res = NULL;
		rc = mg_analysis_run(&sc, s->counts, s->nchan, s->live_time_s, MG_REFINE_OFFSET | MG_REFINE_GAIN, &res,
		                     NULL);
		if (rc == 0) {
			memset(&a->st, 0, sizeof a->st);
			const char *b = strrchr(a->file, '/');
			snprintf(a->st.name, sizeof a->st.name, "%s", b ? b + 1 : a->file);
			snprintf(a->st.file, sizeof a->st.file, "%s", a->file);
			mg_sha256_file(a->file, a->st.sha256, NULL);
			a->st.comp = a->comp;
			rc = mg_quant_meas_from_result(res, s->nchan, s->live_time_s,
			                               isfinite(s->acq.tube_ua) ? s->acq.tube_ua : NAN, a->st.name, &a->st.meas);
		}
		mg_analysis_result_free(res);
		mg_spectrum_free(s);
		if (rc < 0) {
			snprintf(G.error, sizeof G.error, "standard %s: %s", a->file, mg_error_detail());
			return rc;
		}
		a->measured = 1;
	}
	return 0;
}

typedef struct qrun {
	int ok;
	mg_quant_result res;
	mg_quant_kratio kr[MG_QUANT_MAX_EL];
	size_t nk;
	mg_instrument_conflict conf[MG_INSTR_NFIELDS];
	int nconf;
} qrun;

static int run(const mg_spectrum *s, const mg_analysis_result *res, const mg_analysis_plan *plan, qrun *out)
{
	memset(out, 0, sizeof *out);
	G.error[0] = 0;
	mg_analysis_config rebuilt;
	const mg_analysis_config *cfg;
	if (plan) {
		cfg = mg_analysis_plan_config(plan);
	} else {
		/* the plan is gone (several files, refined): the options' configuration with the
		 * result's calibration and resolution */
		rebuilt = G.base;
		rebuilt.nchan = s->nchan;
		rebuilt.cal = res->cal;
		rebuilt.det.noise_kev = res->noise_kev;
		rebuilt.det.fano = res->fano;
		if (s->acq.tube_kv > 0)
			rebuilt.exc.kv = s->acq.tube_kv;
		cfg = &rebuilt;
	}
	mg_instrument_desc ins = G.ins;
	out->nconf = mg_instrument_desc_apply_spectrum(&ins, s, out->conf, MG_INSTR_NFIELDS);
	int rc = measure_standards(cfg, &ins);
	if (rc < 0)
		return rc;
	char elements[512];
	element_list(cfg, elements, sizeof elements);
	if (!G.q || memcmp(&G.q_ins, &ins, sizeof ins) != 0 || strcmp(G.q_elements, elements) != 0) {
		mg_quant_free(G.q);
		G.q = NULL;
		mg_quant_options o;
		mg_quant_options_default(&o);
		if (G.boron_mode == 2)
			o.fixed.n = 0;
		else if (G.boron_mode == 1) {
			o.fixed.n = 0;
			mg_quant_comp_set(&o.fixed, 5, G.boron / 100, G.boron_u / 100);
			snprintf(o.fixed_source, sizeof o.fixed_source, "%s", G.boron_icp ? "icp" : "nominal");
		}
		snprintf(o.balance, sizeof o.balance, "%s", G.balance);
		o.grades = G.grades;
		o.method = G.have_method ? G.method
		           : G.nstd      ? MG_QUANT_KRATIO
		           : G.have_cal && G.cal.nlines ? MG_QUANT_EMPIRICAL
		                                        : MG_QUANT_FP;
		mg_quant_standard *stds = G.nstd ? calloc(G.nstd, sizeof *stds) : NULL;
		for (size_t i = 0; i < G.nstd && stds; i++)
			stds[i] = G.std[i].st;
		rc = mg_quant_new(&ins, elements, &o, stds, stds ? G.nstd : 0, G.have_cal ? &G.cal : NULL, &G.q);
		free(stds);
		if (rc < 0) {
			snprintf(G.error, sizeof G.error, "%s", mg_error_detail());
			return rc;
		}
		G.q_ins = ins;
		snprintf(G.q_elements, sizeof G.q_elements, "%s", elements);
	}
	/* fit again with the quantified composition as the matrix (mg_quant_analyzer) */
	mg_quant_analyzer *an = NULL;
	rc = mg_quant_analyzer_new(G.q, cfg, 0, &an);
	if (rc == 0)
		rc = mg_quant_analyzer_run(an, s->counts, s->nchan, s->live_time_s,
		                           isfinite(s->acq.tube_ua) ? s->acq.tube_ua : NAN, s->sample.sample_id, NULL, 0, NULL,
		                           &out->res, out->kr, MG_QUANT_MAX_EL, &out->nk);
	mg_quant_analyzer_free(an);
	if (rc < 0) {
		snprintf(G.error, sizeof G.error, "%s", mg_error_detail());
		return rc;
	}
	out->ok = 1;
	return 0;
}

/* result_json may be called twice for one spectrum (stored and printed): the
 * last run is kept. */
static qrun last_run;
static const mg_spectrum *last_s;
static const mg_analysis_result *last_res;

static void forget_last(void)
{
	memset(&last_run, 0, sizeof last_run);
	last_s = NULL;
	last_res = NULL;
}

static int run_cached(const mg_spectrum *s, const mg_analysis_result *res, const mg_analysis_plan *plan, qrun *out)
{
	if (s == last_s && res == last_res && last_run.ok) {
		*out = last_run;
		return 0;
	}
	int rc = run(s, res, plan, out);
	if (rc == 0) {
		last_run = *out;
		last_s = s;
		last_res = res;
	}
	return rc;
}

static json_t *flags_json(unsigned f, int sample)
{
	char buf[256];
	if (sample)
		mg_quant_sample_flags_str(f, buf, sizeof buf);
	else
		mg_quant_element_flags_str(f, buf, sizeof buf);
	json_t *a = json_array();
	for (char *t = strtok(buf, ","); t; t = strtok(NULL, ","))
		json_array_append_new(a, json_string(t));
	return a;
}

void cli_quant_json(json_t *obj, const char *path, const mg_spectrum *s, const mg_analysis_result *res,
                    const mg_analysis_plan *plan)
{
	(void)path;
	if (!G.active || !obj || !s || !res)
		return;
	qrun *r = calloc(1, sizeof *r);
	if (!r)
		return;
	if (run_cached(s, res, plan, r) < 0) {
		json_object_set_new(obj, "quant", json_pack("{s:s}", "error", G.error));
		free(r);
		return;
	}
	const mg_quant_result *q = &r->res;
	json_t *kr = json_array();
	for (size_t i = 0; i < r->nk; i++)
		json_array_append_new(kr, json_pack("{s:s,s:s,s:o,s:o,s:s}", "element", r->kr[i].element, "line",
		                                    r->kr[i].line, "k", cli_json_real(r->kr[i].k), "sigma",
		                                    cli_json_real(r->kr[i].sigma), "standard", r->kr[i].standard));
	json_object_set_new(obj, "kratios", kr);
	json_t *comp = json_array();
	for (size_t i = 0; i < q->n; i++) {
		const mg_quant_element *e = &q->el[i];
		json_t *x = json_object();
		json_object_set_new(x, "element", json_string(e->element));
		json_object_set_new(x, "line", json_string(e->line));
		json_object_set_new(x, "wt_pct", cli_json_real(e->wt_pct));
		json_object_set_new(x, "sigma", cli_json_real(e->sigma));
		json_object_set_new(x, "lod_wt_pct", cli_json_real(e->lod_wt_pct));
		json_object_set_new(x, "loq_wt_pct", cli_json_real(e->loq_wt_pct));
		json_object_set_new(x, "flags", flags_json(e->flags, 0));
		json_object_set_new(x, "source", json_string(e->source));
		json_object_set_new(x, "u_counting", cli_json_real(e->u_counting));
		json_object_set_new(x, "u_calibration", cli_json_real(e->u_calibration));
		json_object_set_new(x, "u_matrix", cli_json_real(e->u_matrix));
		json_array_append_new(comp, x);
	}
	json_object_set_new(obj, "composition", comp);
	json_object_set_new(obj, "calibration_id", q->calibration_id ? json_integer(q->calibration_id) : json_null());
	/* everything else the quantification says, from the library's own JSON */
	char *js = mg_quant_result_json(q);
	json_t *full = js ? json_loads(js, 0, NULL) : NULL;
	free(js);
	if (full) {
		json_object_del(full, "composition");
		json_object_del(full, "kratios");
		json_object_del(full, "calibration_id");
		json_t *conf = json_array();
		for (int i = 0; i < r->nconf && i < (int)MG_INSTR_NFIELDS; i++)
			json_array_append_new(conf, json_pack("{s:s,s:s,s:s}", "key", r->conf[i].key, "instrument_file",
			                                      r->conf[i].file_value, "spectrum", r->conf[i].spectrum_value));
		json_object_set_new(full, "instrument_conflicts", conf);
		json_object_set_new(obj, "quant", full);
	}
	free(r);
}

void cli_quant_print(const char *path, const mg_spectrum *s, const mg_analysis_result *res,
                     const mg_analysis_plan *plan)
{
	(void)path;
	if (!G.active || !s || !res)
		return;
	qrun *r = calloc(1, sizeof *r);
	if (!r)
		return;
	if (run_cached(s, res, plan, r) < 0) {
		printf("  quantification failed: %s\n", G.error);
		free(r);
		return;
	}
	const mg_quant_result *q = &r->res;
	for (int i = 0; i < r->nconf && i < (int)MG_INSTR_NFIELDS; i++)
		printf("  instrument: %s is %s in the file, %s in the spectrum (the spectrum's is used)\n", r->conf[i].key,
		       r->conf[i].file_value, r->conf[i].spectrum_value);
	printf("  composition (%s%s%s)\n", q->method_detail, q->calibration[0] ? ", calibration " : "", q->calibration);
	for (size_t i = 0; i < r->nk; i++)
		printf("    k %-2s %-3s %.5f +- %.5f (standard %s)\n", r->kr[i].element, r->kr[i].line, r->kr[i].k,
		       r->kr[i].sigma, r->kr[i].standard);
	for (size_t i = 0; i < q->n; i++) {
		const mg_quant_element *e = &q->el[i];
		char fl[160];
		mg_quant_element_flags_str(e->flags, fl, sizeof fl);
		printf("    %-2s %8.3f +- %.3f wt%%  LOD %.3f  %s\n", e->element, e->wt_pct, e->sigma, e->lod_wt_pct, fl);
	}
	char total[32];
	if (isfinite(q->total.wt_pct))
		snprintf(total, sizeof total, "%.2f", q->total.wt_pct);
	else
		snprintf(total, sizeof total, "- (normalised)");
	printf("    total %s, TREE %.2f, Nd+Pr %.2f, Dy+Tb %.2f wt%%; grade %s%s%s\n", total, q->tree.wt_pct,
	       q->ndpr.wt_pct, q->dytb.wt_pct, q->grade[0] ? q->grade : "-", q->grade_description[0] ? ": " : "",
	       q->grade_description);
	if (q->boron[0])
		printf("    %s\n", q->boron);
	for (size_t i = 0; i < q->nnotes; i++)
		printf("    note: %s\n", q->notes[i]);
	free(r);
}
