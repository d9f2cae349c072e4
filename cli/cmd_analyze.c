/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay analyze FILE... — fit XRF spectra: calibration, line families,
 * areas with uncertainties, detection limits, unexplained peaks. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "magassay/analysis.h"
#include "magassay/error.h"
#include "magassay/format.h"
#include "magassay/report.h"
#include "analyze_store.h"
#include "quant_cli.h"

int cmd_analyze(int argc, char **argv);

static void help(void)
{
	printf(
		"Usage: magassay analyze FILE... [--elements LIST] [--calib FILE] [--json] [--plot OUT.png]\n"
		"                        [--jobs N] [--tube-kv KV --anode EL | --excitation-kev E]\n"
		"Fit XRF spectra: energy calibration, detector resolution, the line families of the\n"
		"elements (K, L with sub-shells, M; Si escape, pile-up, Rayleigh and Compton scatter),\n"
		"areas with uncertainties and detection limits, and peaks the fit does not explain.\n\n"
		"  -e, --elements LIST    elements (default Fe,Co,Nd,Pr,Dy,Tb); families may be given:\n"
		"                         Cr,Fe:Ka+Kb,W:L1+L2+L3,Pb:L+M (K Ka Kb L L1 L2 L3 M)\n"
		"  -m, --matrix COMP      composition for line-ratio absorption and the continuum shape,\n"
		"                         wt%% (default Fe:66,Nd:24,Pr:6,Co:2,Dy:1,B:1); 'none' to disable\n"
		"  -c, --calib FILE       energy/resolution calibration record (JSON: the \"calibration\"\n"
		"                         object of --json output, or one written by --save-calib);\n"
		"                         the spectra are then analysed without refinement (one plan)\n"
		"      --save-calib FILE  write the (refined) calibration of the first spectrum\n"
		"      --auto-cal         find the energy calibration from the peaks (ignore the file's)\n"
		"      --no-refine        keep the calibration and resolution as given (fast path only)\n"
		"      --refine-shape     also refine the detector tail and step, and the Compton geometry\n"
		"      --window LO:HI     fit window, keV (default 3 .. 0.95 x kV)\n"
		"      --tube-kv KV       X-ray tube voltage (default: from the file, else 40)\n"
		"      --anode EL         tube anode (default: from the file, else Rh)\n"
		"      --excitation-kev E monochromatic excitation (synchrotron) instead of a tube\n"
		"      --vacuum           no air between sample and detector\n"
		"      --no-escape        no Si escape peaks (processors that remove them: Bruker)\n"
		"      --no-pileup        no pile-up family\n"
		"      --kb-satellite F   model the Kβ radiative-Auger shoulder of Z 20-30 (F ≈ 0.04)\n"
		"      --model-error F    relative line-shape uncertainty in the weights (e.g. 0.01)\n"
		"  -j, --json             one JSON object per spectrum, in an array: file, calibration\n"
		"                         {offset_kev, gain_kev, quad_kev, noise_kev, fano}, chi2_reduced,\n"
		"                         families [{element, family, area, sigma, cps, dl, status,\n"
		"                         energy_kev}], warnings [text], live_time_s\n"
		"  -p, --plot OUT.png     plot the fit (log scale, families, residual); with several\n"
		"                         files OUT-<file name>.png\n"
		"      --jobs N           analyse N files at once (threads)\n"
		"      --wisdom FILE      load (and update) FFTW wisdom in FILE\n"
		"      --store            save each result of a stored measurement as its next result\n"
		"                         version in the store (old versions are kept)\n"
		CLI_DB_HELP
		"      --data-dir DIR     the store (default: $MAGASSAY_DATA, else the XDG data dir)\n"
		"FILE may also be a measurement id or UUID, a sample id or a batch id of the store:\n"
		"its measurements' spectra are analysed.\n"
		"  -h, --help             this help\n\n"
		"Areas are counts in each family's full-energy peaks (escape and pile-up excluded);\n"
		"sigma from the weighted covariance; status ok / below-dl / poor-fit / not-fitted.\n"
		"Exit status: 0 all files analysed, 1 any failed, 2 usage error.\n");
	cli_quant_help(); /* issue 6: the quantification options */
}

typedef struct opts {
	mg_analysis_config base; /* everything but nchan/cal */
	int have_calib;
	mg_energy_cal calib;
	mg_detector_model calib_det;
	int auto_cal, refine, refine_shape;
	double tube_kv, exc_kev;
	const char *anode;
	int json;
	const char *plot;
	int nfiles;
} opts;

typedef struct job {
	const char *path;
	const opts *o;
	/* out */
	int rc;
	char error[512];
	mg_analysis_result *res;
	mg_spectrum *s;
	mg_analysis_plan *plan;            /* its own (refined) plan, or */
	const mg_analysis_plan *shared;    /* a shared one */
	double live;
	char plot_path[1024];
} job;

/* Plan once, execute many: without refinement, the files that share channel
 * count, calibration and settings share one plan (kept until the end). */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static mg_analysis_plan **cache;
static size_t ncache;

static const mg_analysis_plan *shared_plan(const mg_analysis_config *c, int *rc)
{
	const mg_analysis_plan *found = NULL;
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < ncache && !found; i++) {
		const mg_analysis_config *pc = mg_analysis_plan_config(cache[i]);
		if (pc->nchan == c->nchan && memcmp(&pc->cal, &c->cal, sizeof c->cal) == 0 &&
		    memcmp(&pc->det, &c->det, sizeof c->det) == 0 &&
		    memcmp(&pc->exc, &c->exc, sizeof c->exc) == 0)
			found = cache[i];
	}
	if (!found) {
		mg_analysis_plan *np = NULL, **nc = realloc(cache, (ncache + 1) * sizeof *nc);
		*rc = nc ? mg_analysis_plan_new(c, &np) : MG_ERR_NOMEM;
		if (nc)
			cache = nc;
		if (np)
			found = cache[ncache++] = np;
	}
	pthread_mutex_unlock(&cache_lock);
	return found;
}

static void plot_name(job *j)
{
	const char *out = j->o->plot;
	if (j->o->nfiles == 1) {
		snprintf(j->plot_path, sizeof j->plot_path, "%s", out);
		return;
	}
	const char *base = strrchr(j->path, '/');
	base = base ? base + 1 : j->path;
	const char *dot = strrchr(out, '.');
	int stem = dot && strcmp(dot, ".png") == 0 ? (int)(dot - out) : (int)strlen(out);
	const char *bdot = strrchr(base, '.');
	int blen = bdot ? (int)(bdot - base) : (int)strlen(base);
	snprintf(j->plot_path, sizeof j->plot_path, "%.*s-%.*s.png", stem, out, blen, base);
}

/* The fit as a figure (report.h): titled by the sample, never by the file,
 * which is the figure's source, in small print. */
static int plot_fit(const job *j, const mg_spectrum *s)
{
	const mg_sample_info *si = &s->sample;
	const char *name = si->sample_id && *si->sample_id     ? si->sample_id
	                   : si->description && *si->description ? si->description
	                                                         : NULL;
	char title[300];
	if (name)
		snprintf(title, sizeof title, "Sample %s \xE2\x80\x94 XRF spectrum and fit", name);
	else
		snprintf(title, sizeof title, "XRF spectrum and fit (the file names no sample)");
	mg_plot_meta meta = {title, NULL, si->sample_id, si->batch_id, NULL, j->path};
	mg_plot_opts po;
	mg_plot_opts_default(&po);
	return mg_report_plot_fit_png(j->plan ? j->plan : j->shared, s->counts, s->nchan, j->res, &meta, &po,
	                              j->plot_path);
}

static void run_job(job *j)
{
	const opts *o = j->o;
	mg_spectrum *s = NULL;
	int rc = mg_spectrum_read_file(j->path, NULL, &s);
	if (rc < 0)
		goto fail;
	j->s = s;
	j->live = s->live_time_s;
	mg_analysis_config c = o->base;
	c.nchan = s->nchan;
	c.cal.valid = 0;
	mg_analysis_config_from_spectrum(&c, s); /* fills what the file knows */
	/* the command line wins over the file */
	if (o->anode)
		snprintf(c.exc.anode, sizeof c.exc.anode, "%s", o->anode);
	if (o->tube_kv > 0)
		c.exc.kv = o->tube_kv;
	if (o->exc_kev > 0)
		c.exc.mono_kev = o->exc_kev;
	if (o->have_calib) {
		c.cal = o->calib;
		c.det = o->calib_det;
	}
	if (!c.cal.valid || o->auto_cal) {
		mg_energy_cal cal;
		rc = mg_analysis_auto_cal(&c, s->counts, s->nchan, c.cal.valid && !o->auto_cal, 0, &cal,
		                          NULL);
		if (rc < 0)
			goto fail;
		c.cal = cal;
	}
	unsigned what = 0;
	if (o->refine)
		what = MG_REFINE_DEFAULT |
		       (o->refine_shape ? MG_REFINE_TAIL | MG_REFINE_STEP | MG_REFINE_COMPTON : 0);
	if (what) {
		rc = mg_analysis_run(&c, s->counts, s->nchan, s->live_time_s, what, &j->res,
		                     o->plot || o->nfiles == 1 ? &j->plan : NULL);
		if (rc < 0)
			goto fail;
	} else {
		/* plan once, execute many */
		const mg_analysis_plan *p = shared_plan(&c, &rc);
		if (!p)
			goto fail;
		j->shared = p;
		mg_analysis_ctx *ctx = mg_analysis_ctx_new(p);
		j->res = mg_analysis_result_new(p);
		if (!ctx || !j->res) {
			mg_analysis_ctx_free(ctx);
			rc = MG_ERR_NOMEM;
			goto fail;
		}
		rc = mg_analysis_execute(p, ctx, s->counts, s->nchan, s->live_time_s, j->res);
		mg_analysis_ctx_free(ctx);
		if (rc < 0)
			goto fail;
	}
	if (o->plot && (j->plan || j->shared)) {
		plot_name(j);
		rc = plot_fit(j, s);
		if (rc < 0)
			goto fail;
	}
	j->rc = 0;
	return;
fail:
	j->rc = rc < 0 ? rc : MG_ERR_INTERNAL;
	snprintf(j->error, sizeof j->error, "%s: %s", j->path, mg_error_detail());
}

/* A plain work queue over the files. */
typedef struct pool {
	job *jobs;
	int n, next;
	pthread_mutex_t lock;
} pool;

static void *worker(void *arg)
{
	pool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		int i = p->next < p->n ? p->next++ : -1;
		pthread_mutex_unlock(&p->lock);
		if (i < 0)
			return NULL;
		run_job(&p->jobs[i]);
	}
}

static json_t *result_json(const job *j)
{
	const mg_analysis_result *r = j->res;
	json_t *o = json_object();
	json_object_set_new(o, "file", json_string(j->path));
	if (j->s && j->s->sample.sample_id)
		json_object_set_new(o, "sample_id", json_string(j->s->sample.sample_id));
	char *fit = mg_analysis_result_json(r, j->live);
	json_t *fo = fit ? json_loads(fit, 0, NULL) : NULL;
	free(fit);
	json_object_update(o, fo); /* calibration, chi2_reduced, live_time_s, families, warnings */
	json_decref(fo);
	if (j->plot_path[0])
		json_object_set_new(o, "plot", json_string(j->plot_path));
	cli_quant_json(o, j->path, j->s, r, j->plan ? j->plan : j->shared); /* issue 6 */
	return o;
}

static void result_print(const job *j)
{
	const mg_analysis_result *r = j->res;
	printf("%s\n", j->path);
	printf("  calibration  E = %.5f + %.7f*ch%s keV; FWHM noise %.4f keV, Fano %.4f\n",
	       r->cal.offset_kev, r->cal.gain_kev, r->cal.quad_kev != 0 ? " + quad" : "", r->noise_kev,
	       r->fano);
	printf("  chi2_reduced %.3f (%zu channels, %zu parameters)\n", r->chi2_reduced, r->npoints,
	       r->nparams);
	printf("  %-8s %-11s %14s %11s %12s %11s  %s\n", "element", "family", "area", "sigma", "cps",
	       "dl", "status");
	for (size_t i = 0; i < r->nfamilies; i++) {
		const mg_family_result *f = &r->families[i];
		const char *el = f->element[0] ? f->element
		                 : f->kind == MG_FAMILY_PILEUP ? "pileup"
		                                               : "beam";
		printf("  %-8s %-11s %14.1f %11.1f %12.3f %11.1f  %s\n", el, f->family, f->area, f->sigma,
		       f->cps, f->dl, mg_family_status_name(f->status));
	}
	for (size_t i = 0; i < r->nwarnings; i++)
		printf("  warning: %s\n", r->warnings[i].text);
	if (j->plot_path[0])
		printf("  plot         %s\n", j->plot_path);
	cli_quant_print(j->path, j->s, r, j->plan ? j->plan : j->shared); /* issue 6 */
}

static int parse_window(const char *s, double *lo, double *hi)
{
	char *end;
	errno = 0;
	*lo = strtod(s, &end);
	if (end == s || *end != ':')
		return -1;
	const char *t = end + 1;
	*hi = strtod(t, &end);
	if (end == t || *end || errno || !(*lo >= 0) || !(*hi > *lo))
		return -1;
	return 0;
}

static int parse_pos(const char *s, double *v)
{
	char *end;
	errno = 0;
	*v = strtod(s, &end);
	return end != s && !*end && !errno && *v > 0 && isfinite(*v) ? 0 : -1;
}

int cmd_analyze(int argc, char **argv)
{
	enum {
		O_SAVE = 1000, O_AUTO, O_NOREF, O_SHAPE, O_WINDOW, O_KV, O_ANODE, O_EXC, O_VAC, O_KBSAT,
		O_MERR, O_JOBS, O_WISDOM, O_NOESC, O_NOPILE, O_STORE, O_DATADIR,
	};
	static const struct option lopts[] = {
		{"elements", required_argument, NULL, 'e'},   {"matrix", required_argument, NULL, 'm'},
		{"calib", required_argument, NULL, 'c'},      {"save-calib", required_argument, NULL, O_SAVE},
		{"auto-cal", no_argument, NULL, O_AUTO},      {"no-refine", no_argument, NULL, O_NOREF},
		{"refine-shape", no_argument, NULL, O_SHAPE}, {"window", required_argument, NULL, O_WINDOW},
		{"tube-kv", required_argument, NULL, O_KV},   {"anode", required_argument, NULL, O_ANODE},
		{"excitation-kev", required_argument, NULL, O_EXC},
		{"vacuum", no_argument, NULL, O_VAC},         {"no-escape", no_argument, NULL, O_NOESC},
		{"no-pileup", no_argument, NULL, O_NOPILE},         {"kb-satellite", required_argument, NULL, O_KBSAT},
		{"model-error", required_argument, NULL, O_MERR},
		{"json", no_argument, NULL, 'j'},             {"plot", required_argument, NULL, 'p'},
		{"jobs", required_argument, NULL, O_JOBS},    {"wisdom", required_argument, NULL, O_WISDOM},
		{"store", no_argument, NULL, O_STORE},        {"data-dir", required_argument, NULL, O_DATADIR}, {"db", required_argument, NULL, CLI_OPT_DB},
		{"help", no_argument, NULL, 'h'},             {NULL, 0, NULL, 0},
	};
	opts o;
	memset(&o, 0, sizeof o);
	mg_analysis_config_default(&o.base);
	int qrc = cli_quant_options(&argc, argv, &o.base); /* issue 6: --standard, --instrument, --quant... */
	if (qrc)
		return qrc;
	o.refine = 1;
	const char *calib_path = NULL, *save_path = NULL, *wisdom = NULL, *data_dir = NULL;
	int store_results = 0;
	int jobs = 1, c, no_refine = 0;
	while ((c = getopt_long(argc, argv, "e:m:c:jp:h", lopts, NULL)) != -1) {
		double v, lo, hi;
		switch (c) {
		case 'e':
			if (mg_analysis_elements_check(optarg) < 0)
				return cli_usage("analyze", "--elements: %s", mg_error_detail());
			snprintf(o.base.elements, sizeof o.base.elements, "%s", optarg);
			break;
		case 'm':
			if (strcmp(optarg, "none") == 0)
				o.base.matrix[0] = 0;
			else
				snprintf(o.base.matrix, sizeof o.base.matrix, "%s", optarg);
			break;
		case 'c':
			calib_path = optarg;
			break;
		case O_SAVE:
			save_path = optarg;
			break;
		case O_AUTO:
			o.auto_cal = 1;
			break;
		case O_NOREF:
			no_refine = 1;
			break;
		case O_SHAPE:
			o.refine_shape = 1;
			break;
		case O_WINDOW:
			if (parse_window(optarg, &lo, &hi) < 0)
				return cli_usage("analyze", "--window wants LO:HI in keV, got '%s'", optarg);
			o.base.emin_kev = lo;
			o.base.emax_kev = hi;
			break;
		case O_KV:
			if (parse_pos(optarg, &o.tube_kv) < 0 || o.tube_kv < 2 || o.tube_kv > 200)
				return cli_usage("analyze", "--tube-kv wants 2..200 kV, got '%s'", optarg);
			break;
		case O_ANODE:
			o.anode = optarg;
			break;
		case O_EXC:
			if (parse_pos(optarg, &o.exc_kev) < 0 || o.exc_kev > 200)
				return cli_usage("analyze", "--excitation-kev wants a positive energy, got '%s'",
				                 optarg);
			break;
		case O_VAC:
			o.base.det.air_mm = 0;
			break;
		case O_NOESC:
			o.base.flags &= ~(unsigned)MG_AN_ESCAPE;
			break;
		case O_NOPILE:
			o.base.flags &= ~(unsigned)MG_AN_PILEUP;
			break;
		case O_KBSAT:
			if (parse_pos(optarg, &v) < 0 || v > 0.5)
				return cli_usage("analyze", "--kb-satellite wants 0..0.5, got '%s'", optarg);
			o.base.kb_sat_fraction = v;
			o.base.kb_sat_shift_kev = 0.17;
			break;
		case O_MERR:
			if (parse_pos(optarg, &v) < 0 || v > 0.5)
				return cli_usage("analyze", "--model-error wants 0..0.5, got '%s'", optarg);
			o.base.model_error = v;
			break;
		case 'j':
			o.json = 1;
			break;
		case 'p':
			o.plot = optarg;
			break;
		case O_JOBS: {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (end == optarg || *end || n < 1 || n > 256)
				return cli_usage("analyze", "--jobs wants 1..256, got '%s'", optarg);
			jobs = (int)n;
			break;
		}
		case O_WISDOM:
			wisdom = optarg;
			break;
		case O_STORE:
			store_results = 1;
			break;
		case CLI_OPT_DB:
			cli_db_set(optarg);
			break;
		case O_DATADIR:
			data_dir = optarg;
			break;
		case 'h':
			help();
			return CLI_OK;
		default:
			return cli_usage("analyze", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage("analyze", "no file given");
	if (o.exc_kev > 0 && (o.tube_kv > 0 || o.anode))
		return cli_usage("analyze", "--excitation-kev excludes --tube-kv and --anode");
	if (o.anode && !o.anode[0])
		return cli_usage("analyze", "--anode wants an element symbol");
	if (o.exc_kev > 0)
		o.base.exc.mono_kev = o.exc_kev;
	if (calib_path) {
		o.calib_det = o.base.det;
		if (mg_analysis_calib_read_file(calib_path, &o.calib, &o.calib_det) < 0) {
			cli_error("%s", mg_error_detail());
			return CLI_FAIL;
		}
		o.have_calib = 1;
		o.refine = 0; /* a calibration was given: the fast path */
	}
	if (no_refine)
		o.refine = 0;
	if (o.refine_shape)
		o.refine = 1;
	if (wisdom) {
		o.base.flags |= MG_AN_FFT_MEASURE;
		(void)mg_analysis_wisdom_import(wisdom); /* absent the first time: made below */
	}
	cli_analyze_inputs in;
	if (cli_analyze_inputs_resolve(&in, data_dir, store_results, argc - optind, argv + optind) != CLI_OK) {
		cli_analyze_inputs_free(&in);
		return CLI_FAIL;
	}
	o.nfiles = (int)in.n;

	job *js = calloc((size_t)o.nfiles + 1, sizeof *js);
	if (!js) {
		cli_analyze_inputs_free(&in);
		cli_error("out of memory");
		return CLI_FAIL;
	}
	for (int i = 0; i < o.nfiles; i++) {
		js[i].path = in.path[i];
		js[i].o = &o;
	}
	pool pl = {.jobs = js, .n = o.nfiles};
	pthread_mutex_init(&pl.lock, NULL);
	int nthr = jobs < o.nfiles ? jobs : o.nfiles;
	if (nthr <= 1) {
		worker(&pl);
	} else {
		pthread_t *th = calloc((size_t)nthr, sizeof *th);
		int started = 0;
		for (int t = 0; th && t < nthr; t++)
			if (pthread_create(&th[t], NULL, worker, &pl) == 0)
				started++;
		if (!started)
			worker(&pl);
		for (int t = 0; t < started; t++)
			pthread_join(th[t], NULL);
		free(th);
	}
	pthread_mutex_destroy(&pl.lock);

	int status = CLI_OK;
	json_t *all = o.json ? json_array() : NULL;
	for (int i = 0; i < o.nfiles; i++) {
		job *j = &js[i];
		if (j->rc < 0) {
			status = CLI_FAIL;
			if (o.json)
				json_array_append_new(all, json_pack("{s:s,s:s,s:s}", "file", j->path, "error",
				                                     j->error, "error_code",
				                                     mg_strerror_name(j->rc)));
			else
				cli_error("%s", j->error);
		} else {
			int version = 0;
			if (store_results && in.measurement[i] > 0) {
				json_t *payload = result_json(j);
				if (cli_analyze_save_result(&in, in.measurement[i], payload, &version) != CLI_OK)
					status = CLI_FAIL;
				json_decref(payload);
			}
			if (o.json) {
				json_t *obj = result_json(j);
				if (version > 0) {
					json_object_set_new(obj, "measurement_id", json_integer(in.measurement[i]));
					json_object_set_new(obj, "result_version", json_integer(version));
				}
				json_array_append_new(all, obj);
			} else {
				result_print(j);
				if (version > 0)
					printf("  stored       result version %d of measurement %lld\n", version,
					       in.measurement[i]);
			}
		}
		if (i == 0 && save_path && j->rc == 0) {
			const mg_analysis_plan *jp = j->plan ? j->plan : j->shared;
			const mg_analysis_config *pc = jp ? mg_analysis_plan_config(jp) : NULL;
			mg_detector_model det = pc ? pc->det : o.base.det;
			det.noise_kev = j->res->noise_kev;
			det.fano = j->res->fano;
			if (mg_analysis_calib_write_file(save_path, &j->res->cal, &det) < 0) {
				cli_error("%s", mg_error_detail());
				status = CLI_FAIL;
			}
		}
	}
	if (o.json) {
		cli_json_print(all);
		json_decref(all);
	}
	if (wisdom && mg_analysis_wisdom_export(wisdom) < 0) {
		cli_error("%s", mg_error_detail());
		status = CLI_FAIL;
	}
	for (int i = 0; i < o.nfiles; i++) {
		mg_analysis_result_free(js[i].res);
		mg_analysis_plan_free(js[i].plan);
		mg_spectrum_free(js[i].s);
	}
	free(js);
	cli_analyze_inputs_free(&in);
	for (size_t i = 0; i < ncache; i++)
		mg_analysis_plan_free(cache[i]);
	free(cache);
	cache = NULL;
	ncache = 0;
	cli_quant_done(); /* issue 6 */
	return status;
}
