/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay calibrate energy|resolution|quant|list|show|export|import —
 * calibrations as versioned records with their provenance (issue 6). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "magassay/error.h"
#include "magassay/fileio.h"
#include "magassay/format.h"
#include "magassay/quant.h"
#include "magassay/store.h"
#include "magassay/version.h"

int cmd_calibrate(int argc, char **argv);

static void help(void)
{
	printf(
		"Usage: magassay calibrate energy FILE [options]\n"
		"       magassay calibrate resolution FILE [options]\n"
		"       magassay calibrate quant --standards FILE.csv [options]\n"
		"       magassay calibrate list [--kind K] [--data-dir DIR] [--json]\n"
		"       magassay calibrate show REF [--data-dir DIR]\n"
		"       magassay calibrate export REF OUT.json [--data-dir DIR]\n"
		"       magassay calibrate import FILE.json [--data-dir DIR]\n"
		"Make calibrations and keep them as versioned records: a calibration is never\n"
		"overwritten, a new one of the same kind and name is its next version, and every\n"
		"result names the version that produced it.\n\n"
		"  energy       energy calibration (offset, gain) of a spectrum: automatic peak\n"
		"               matching, then a nonlinear refinement (--quadratic: + a quadratic term)\n"
		"  resolution   the same plus the detector resolution (noise, Fano) and line shape\n"
		"               (tail, step)\n"
		"  quant        quantification calibration on standards (reference magnets assayed by\n"
		"               ICP, or any standards of known composition): FP instrument factors and\n"
		"               tube-spectrum tilt, and calibration lines with Lachance-Traill\n"
		"               influence coefficients (type standardisation)\n"
		"  REF          a record id, KIND:NAME, KIND:NAME@VERSION, or NAME (latest)\n\n"
		"Options:\n"
		"  -n, --name NAME        record name (letters, digits . _ -; default: the instrument\n"
		"                         name, or the standards file's name)\n"
		"  -i, --instrument FILE  instrument description (INI, docs/instrument-file.md)\n"
		"  -e, --elements LIST    elements to fit (default Fe,Co,Ni,Cu,Nd,Pr,Dy,Tb)\n"
		"  -s, --standards CSV    quant: file,El,...,u_El,... (wt%%; paths relative to the CSV)\n"
		"      --influences SPEC  quant: Lachance-Traill influences, \"Nd:Fe;Dy:Fe+Nd\"\n"
		"      --boron SPEC       quant: boron of the standards not in the CSV: WT[:U] (default\n"
		"                         1.0:0.15, nominal RE2Fe14B), or none\n"
		"      --quadratic        energy: fit a quadratic term too\n"
		"      --operator NAME    who made it (provenance)\n"
		CLI_DB_HELP
		"      --data-dir DIR     the store (default $MAGASSAY_DATA, else\n"
		"                         $XDG_DATA_HOME/magassay, else ~/.local/share/magassay)\n"
		"      --no-store         do not add it to the store (use with --out)\n"
		"  -o, --out FILE.json    also export the record to a file (never overwritten)\n"
		"      --kind KIND        list: only this kind\n"
		"  -j, --json             print the record (or the list) as JSON\n"
		"  -h, --help             this help\n\n"
		"Exit status: 0 done, 1 failed, 2 usage error.\n");
}

typedef struct copts {
	const char *name, *instrument, *elements, *standards, *influences, *operator_name, *data_dir, *out, *kind;
	int quadratic, no_store, json;
	int boron_none;
	double boron, boron_u;
} copts;

static void now_iso(char *buf, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int store_open(const copts *o, int write, mg_store **st)
{
	int rc = write ? cli_store_open_db(o->data_dir, MG_STORE_DEFAULT, st) : cli_store_open_db(o->data_dir, MG_STORE_READONLY, st);
	if (rc < 0)
		cli_error("store: %s", mg_error_detail());
	return rc;
}

static json_t *record_json(const mg_calib_record *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "kind", json_string(r->kind));
	json_object_set_new(o, "name", json_string(r->name));
	json_object_set_new(o, "version", json_integer(r->version));
	json_object_set_new(o, "id", r->id ? json_integer(r->id) : json_null());
	json_object_set_new(o, "created_at", json_string(r->created_at));
	json_object_set_new(o, "operator", json_string(r->operator_name));
	json_object_set_new(o, "software_version", json_string(r->software_version));
	json_t *p = r->provenance_json ? json_loads(r->provenance_json, JSON_DECODE_ANY, NULL) : NULL;
	json_object_set_new(o, "provenance", p ? p : json_null());
	json_t *pl = r->payload_json ? json_loads(r->payload_json, 0, NULL) : NULL;
	json_object_set_new(o, "payload", pl ? pl : json_null());
	return o;
}

/* Store (unless --no-store), export (--out), print. */
static int finish(const copts *o, mg_calib_record *r)
{
	if (!r->created_at[0])
		now_iso(r->created_at, sizeof r->created_at);
	if (!r->software_version[0])
		snprintf(r->software_version, sizeof r->software_version, "%s", MAGASSAY_VERSION_STRING);
	if (!o->no_store) {
		mg_store *st = NULL;
		if (store_open(o, 1, &st) < 0)
			return CLI_FAIL;
		int rc = mg_calib_record_store(st, r);
		mg_store_close(st);
		if (rc < 0) {
			cli_error("store: %s", mg_error_detail());
			return CLI_FAIL;
		}
	}
	if (o->out && mg_calib_record_export(r, o->out) < 0) {
		cli_error("%s", mg_error_detail());
		return CLI_FAIL;
	}
	if (o->json) {
		json_t *j = record_json(r);
		cli_json_print(j);
		json_decref(j);
	} else {
		if (r->id)
			printf("%s calibration '%s' version %d: store id %lld, created %s\n", r->kind, r->name, r->version,
			       r->id, r->created_at);
		else
			printf("%s calibration '%s' (not stored)\n", r->kind, r->name);
		if (o->out)
			printf("  exported to %s\n", o->out);
	}
	return CLI_OK;
}

static int engine_config(const copts *o, const mg_spectrum *s, mg_instrument_desc *ins, mg_analysis_config *c)
{
	mg_analysis_config_default(c);
	mg_instrument_desc_default(ins);
	if (o->instrument && mg_instrument_desc_read_file(o->instrument, ins) < 0) {
		cli_error("%s", mg_error_detail());
		return CLI_FAIL;
	}
	mg_instrument_conflict conf[MG_INSTR_NFIELDS];
	int nc = mg_instrument_desc_apply_spectrum(ins, s, conf, MG_INSTR_NFIELDS);
	for (int i = 0; i < nc && i < (int)MG_INSTR_NFIELDS; i++)
		fprintf(stderr, "magassay: note: %s is %s in the instrument file, %s in the spectrum (the spectrum's is used)\n",
		        conf[i].key, conf[i].file_value, conf[i].spectrum_value);
	mg_instrument_desc_to_analysis(ins, c);
	c->nchan = s->nchan;
	c->cal.valid = 0;
	mg_analysis_config_from_spectrum(c, s);
	snprintf(c->elements, sizeof c->elements, "%s", o->elements ? o->elements : "Fe,Co,Ni,Cu,Nd,Pr,Dy,Tb");
	return CLI_OK;
}

static char *provenance_spectrum(const char *path, const copts *o, const mg_instrument_desc *ins, const char *kind)
{
	char sha[MG_SHA256_HEX_SIZE] = "", date[40], ini[4096];
	mg_sha256_file(path, sha, NULL);
	now_iso(date, sizeof date);
	mg_instrument_desc_format(ins, ini, sizeof ini);
	json_t *p = json_pack("{s:s,s:{s:s,s:s},s:s,s:s,s:s,s:s,s:s}", "what", kind, "spectrum", "file", path, "sha256",
	                      sha, "elements", o->elements ? o->elements : "Fe,Co,Ni,Cu,Nd,Pr,Dy,Tb", "date", date,
	                      "operator", o->operator_name ? o->operator_name : "", "software_version",
	                      MAGASSAY_VERSION_STRING, "instrument_ini", ini);
	char *s = p ? json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(p);
	return s;
}

static int default_name(const copts *o, const mg_instrument_desc *ins, const char *fallback, char *buf, size_t n)
{
	const char *nm = o->name ? o->name : ins->name[0] ? ins->name : fallback;
	if (strlen(nm) >= n) {
		cli_error("record name '%s' longer than %zu bytes", nm, n - 1);
		return CLI_USAGE;
	}
	memcpy(buf, nm, strlen(nm) + 1);
	if (mg_id_validate(buf) < 0) {
		cli_error("record name '%s': %s (use --name)", buf, mg_error_detail());
		return CLI_USAGE;
	}
	return 0;
}

static int do_energy(const copts *o, const char *path, int resolution)
{
	mg_spectrum *s = NULL;
	if (mg_spectrum_read_file(path, NULL, &s) < 0) {
		cli_error("%s", mg_error_detail());
		return CLI_FAIL;
	}
	mg_instrument_desc ins;
	mg_analysis_config c;
	int rc = engine_config(o, s, &ins, &c);
	if (rc) {
		mg_spectrum_free(s);
		return rc;
	}
	if (!c.cal.valid) {
		mg_energy_cal cal;
		if (mg_analysis_auto_cal(&c, s->counts, s->nchan, 0, o->quadratic, &cal, NULL) < 0) {
			cli_error("%s: %s", path, mg_error_detail());
			mg_spectrum_free(s);
			return CLI_FAIL;
		}
		c.cal = cal;
	}
	unsigned what = MG_REFINE_OFFSET | MG_REFINE_GAIN | (o->quadratic ? MG_REFINE_QUAD : 0);
	if (resolution)
		what |= MG_REFINE_NOISE | MG_REFINE_FANO | MG_REFINE_TAIL | MG_REFINE_STEP;
	mg_analysis_plan *p = NULL;
	mg_analysis_refinement ref;
	rc = mg_analysis_plan_new(&c, &p);
	mg_analysis_ctx *ctx = rc == 0 ? mg_analysis_ctx_new(p) : NULL;
	if (rc == 0 && ctx)
		rc = mg_analysis_refine(p, ctx, s->counts, s->nchan, what, &ref);
	else if (rc == 0)
		rc = MG_ERR_NOMEM;
	mg_analysis_ctx_free(ctx);
	mg_analysis_plan_free(p);
	if (rc < 0) {
		cli_error("%s: %s", path, mg_error_detail());
		mg_spectrum_free(s);
		return CLI_FAIL;
	}
	mg_calib_record r;
	memset(&r, 0, sizeof r);
	snprintf(r.kind, sizeof r.kind, "%s", resolution ? "resolution" : "energy");
	if ((rc = default_name(o, &ins, "default", r.name, sizeof r.name)) != 0) {
		mg_spectrum_free(s);
		return rc;
	}
	snprintf(r.operator_name, sizeof r.operator_name, "%s", o->operator_name ? o->operator_name : "");
	r.payload_json = mg_calib_energy_payload(&ref.cal, &ref.det);
	r.provenance_json = provenance_spectrum(path, o, &ins, r.kind);
	if (!o->json)
		printf("%s: offset %.5f keV, gain %.7f keV/ch, quad %.3g; noise %.4f keV, Fano %.4f; chi2 %.3f\n", path,
		       ref.cal.offset_kev, ref.cal.gain_kev, ref.cal.quad_kev, ref.det.noise_kev, ref.det.fano,
		       ref.chi2_reduced);
	/* a calibration that fits this badly most likely matched peaks to the wrong lines
	 * (a spectrum with few lines, e.g. a pure-element check standard) */
	if (ref.chi2_reduced > (resolution ? 5.0 : 15.0))
		fprintf(stderr, "magassay calibrate: warning: %s: the fit is poor (reduced chi2 %.1f): the peaks may "
		        "be matched to the wrong lines; check the gain (%.5f keV/ch) before using this calibration, or "
		        "calibrate on a spectrum with more lines (a magnet sample)\n",
		        path, ref.chi2_reduced, ref.cal.gain_kev);
	rc = r.payload_json ? finish(o, &r) : CLI_FAIL;
	mg_calib_record_clear(&r);
	mg_spectrum_free(s);
	return rc;
}

static int do_quant(const copts *o)
{
	if (!o->standards)
		return cli_usage("calibrate", "quant needs --standards FILE.csv");
	unsigned char *data = NULL;
	size_t len = 0;
	if (mg_file_read_all(o->standards, 16u << 20, &data, &len) < 0) {
		cli_error("%s", mg_error_detail());
		return CLI_FAIL;
	}
	mg_quant_std_row *rows = NULL;
	size_t n = 0;
	int rc = mg_quant_standards_csv_parse((const char *)data, len, o->standards, &rows, &n);
	free(data);
	if (rc < 0) {
		cli_error("%s", mg_error_detail());
		return CLI_FAIL;
	}
	char dir[1024];
	snprintf(dir, sizeof dir, "%s", o->standards);
	char *slash = strrchr(dir, '/');
	if (slash)
		slash[1] = 0;
	else
		dir[0] = 0;
	mg_quant_standard *stds = calloc(n, sizeof *stds);
	mg_instrument_desc ins;
	mg_analysis_config first_cfg;
	int have_first = 0;
	json_t *prov_std = json_array();
	rc = stds ? CLI_OK : CLI_FAIL;
	for (size_t i = 0; i < n && rc == CLI_OK; i++) {
		char path[2048];
		if (rows[i].file[0] == '/')
			snprintf(path, sizeof path, "%s", rows[i].file);
		else
			snprintf(path, sizeof path, "%s%s", dir, rows[i].file);
		mg_spectrum *s = NULL;
		if (mg_spectrum_read_file(path, NULL, &s) < 0) {
			cli_error("%s", mg_error_detail());
			rc = CLI_FAIL;
			break;
		}
		mg_analysis_config c;
		mg_instrument_desc di;
		if ((rc = engine_config(o, s, &di, &c)) != CLI_OK) {
			mg_spectrum_free(s);
			break;
		}
		if (!have_first)
			ins = di;
		mg_quant_standard *st = &stds[i];
		snprintf(st->name, sizeof st->name, "%s", rows[i].name);
		if (strlen(path) >= sizeof st->file) {
			cli_error("%s: path longer than %zu bytes", path, sizeof st->file - 1);
			mg_spectrum_free(s);
			rc = CLI_FAIL;
			break;
		}
		memcpy(st->file, path, strlen(path) + 1);
		mg_sha256_file(path, st->sha256, NULL);
		st->comp = rows[i].comp;
		/* boron of a magnet standard: not in the CSV, the nominal value */
		if (!o->boron_none && mg_quant_comp_get(&st->comp, 5) == 0 &&
		    (mg_quant_comp_get(&st->comp, 60) > 0 || mg_quant_comp_get(&st->comp, 59) > 0))
			mg_quant_comp_set(&st->comp, 5, o->boron / 100, o->boron_u / 100);
		char mat[256];
		mg_quant_comp_format(&st->comp, mat, sizeof mat);
		snprintf(c.matrix, sizeof c.matrix, "%s", mat);
		if (!c.cal.valid) {
			mg_energy_cal cal;
			if (mg_analysis_auto_cal(&c, s->counts, s->nchan, 0, 0, &cal, NULL) < 0) {
				cli_error("%s: %s", path, mg_error_detail());
				mg_spectrum_free(s);
				rc = CLI_FAIL;
				break;
			}
			c.cal = cal;
		}
		mg_analysis_result *res = NULL;
		mg_analysis_plan *plan = NULL;
		int e = mg_analysis_run(&c, s->counts, s->nchan, s->live_time_s, MG_REFINE_DEFAULT, &res, &plan);
		if (e == 0)
			e = mg_quant_meas_from_result(res, s->nchan, s->live_time_s,
			                              isfinite(s->acq.tube_ua) ? s->acq.tube_ua : NAN, st->name, &st->meas);
		if (e == 0 && !have_first) {
			first_cfg = *mg_analysis_plan_config(plan);
			have_first = 1;
		}
		if (e < 0) {
			cli_error("%s: %s", path, mg_error_detail());
			rc = CLI_FAIL;
		} else if (!o->json) {
			printf("  %-24s %zu lines, chi2 %.2f\n", st->name, st->meas.n, res->chi2_reduced);
		}
		mg_analysis_result_free(res);
		mg_analysis_plan_free(plan);
		mg_spectrum_free(s);
		char comp[512];
		mg_quant_comp_format(&st->comp, comp, sizeof comp);
		json_array_append_new(prov_std, json_pack("{s:s,s:s,s:s,s:s}", "name", st->name, "file", path, "sha256",
		                                          st->sha256, "composition_wt_pct", comp));
	}
	mg_quant_calibration cal;
	memset(&cal, 0, sizeof cal);
	if (rc == CLI_OK) {
		mg_quant_options qo;
		mg_quant_options_default(&qo);
		if (o->boron_none)
			qo.fixed.n = 0;
		else {
			qo.fixed.n = 0;
			mg_quant_comp_set(&qo.fixed, 5, o->boron / 100, o->boron_u / 100);
		}
		if (mg_quant_calibrate(&ins, first_cfg.elements, &qo, stds, n, o->influences, &cal) < 0) {
			cli_error("calibration: %s", mg_error_detail());
			rc = CLI_FAIL;
		}
	}
	mg_calib_record r;
	memset(&r, 0, sizeof r);
	if (rc == CLI_OK) {
		char base[128];
		const char *b = strrchr(o->standards, '/');
		snprintf(base, sizeof base, "%s", b ? b + 1 : o->standards);
		char *dot = strrchr(base, '.');
		if (dot)
			*dot = 0;
		mg_instrument_desc none;
		memset(&none, 0, sizeof none);
		snprintf(r.kind, sizeof r.kind, "quant");
		rc = default_name(o, &none, base, r.name, sizeof r.name);
	}
	if (rc == CLI_OK) {
		snprintf(r.operator_name, sizeof r.operator_name, "%s", o->operator_name ? o->operator_name : "");
		char *js = mg_quant_calibration_to_json(&cal);
		json_t *pl = js ? json_loads(js, 0, NULL) : NULL;
		free(js);
		/* the engine's energy/resolution calibration of the standards: `analyze --calib` uses it */
		char *ec = mg_calib_energy_payload(&first_cfg.cal, &first_cfg.det);
		json_t *ej = ec ? json_loads(ec, 0, NULL) : NULL;
		free(ec);
		if (pl && ej)
			json_object_set_new(pl, "calibration", ej);
		else
			json_decref(ej);
		if (pl) {
			json_object_set_new(pl, "influences", json_string(o->influences ? o->influences : ""));
			json_object_set_new(pl, "fit_elements", json_string(first_cfg.elements));
		}
		r.payload_json = pl ? json_dumps(pl, JSON_COMPACT | JSON_REAL_PRECISION(12) | JSON_PRESERVE_ORDER) : NULL;
		json_decref(pl);
		char date[40], ini[4096];
		now_iso(date, sizeof date);
		mg_instrument_desc_format(&ins, ini, sizeof ini);
		json_t *prov = json_pack("{s:s,s:s,s:O,s:s,s:s,s:s,s:s}", "what", "quant", "standards_table", o->standards,
		                         "standards", prov_std, "date", date, "operator",
		                         o->operator_name ? o->operator_name : "", "software_version",
		                         MAGASSAY_VERSION_STRING, "instrument_ini", ini);
		r.provenance_json = prov ? json_dumps(prov, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(prov);
		if (!o->json) {
			printf("quantification calibration on %zu standards: tube tilt %.3f +- %.3f\n", n, cal.tilt, cal.tilt_u);
			static const char *const cls[3] = {"K", "L", "M"};
			for (int i = 0; i < 3; i++)
				if (cal.g_n[i])
					printf("  instrument factor %s lines: %.5g (+- %.2f %%, %d lines)\n", cls[i], cal.g[i],
					       100 * cal.g_u[i], cal.g_n[i]);
			for (size_t i = 0; i < cal.nlines; i++) {
				const mg_quant_empirical_line *e = &cal.lines[i];
				printf("  %-2s %-2s w = (%.5g + %.5g R)", e->element, e->line, e->b0, e->b1);
				for (size_t k = 0; k < e->nalpha; k++)
					printf("%s%+.4f w", k ? " " : " (1 ", e->alpha[k]);
				if (e->nalpha)
					printf(")");
				printf("  s %.3f wt%%, %.2f..%.2f wt%%, %zu standards\n", 100 * e->s_resid, 100 * e->w_min,
				       100 * e->w_max, e->nstd);
			}
		}
		rc = r.payload_json && r.provenance_json ? finish(o, &r) : CLI_FAIL;
	}
	mg_calib_record_clear(&r);
	mg_quant_calibration_clear(&cal);
	json_decref(prov_std);
	free(stds);
	free(rows);
	return rc;
}

typedef struct lister {
	int json;
	json_t *arr;
} lister;

static int list_cb(const mg_calibration *c, void *ud)
{
	lister *l = ud;
	if (l->json)
		json_array_append_new(l->arr, json_pack("{s:I,s:s,s:s,s:i,s:s,s:s,s:s}", "id", (json_int_t)c->id, "kind",
		                                        c->kind, "name", c->name, "version", c->version, "created_at",
		                                        c->created_at ? c->created_at : "", "operator",
		                                        c->operator_name ? c->operator_name : "", "software_version",
		                                        c->software_version ? c->software_version : ""));
	else
		printf("%6lld  %-10s %-24s v%-3d %s  %s\n", c->id, c->kind, c->name, c->version,
		       c->created_at ? c->created_at : "", c->operator_name ? c->operator_name : "");
	return 0;
}

int cmd_calibrate(int argc, char **argv)
{
	enum { O_INFL = 1000, O_BORON, O_QUAD, O_OPER, O_DATA, O_NOSTORE, O_KIND };
	static const struct option lopts[] = {
		{"name", required_argument, NULL, 'n'},       {"instrument", required_argument, NULL, 'i'},
		{"elements", required_argument, NULL, 'e'},   {"standards", required_argument, NULL, 's'},
		{"influences", required_argument, NULL, O_INFL}, {"boron", required_argument, NULL, O_BORON},
		{"quadratic", no_argument, NULL, O_QUAD},     {"operator", required_argument, NULL, O_OPER},
		{"data-dir", required_argument, NULL, O_DATA}, {"db", required_argument, NULL, CLI_OPT_DB}, {"no-store", no_argument, NULL, O_NOSTORE},
		{"out", required_argument, NULL, 'o'},        {"kind", required_argument, NULL, O_KIND},
		{"json", no_argument, NULL, 'j'},             {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	copts o;
	memset(&o, 0, sizeof o);
	o.boron = 1.0;
	o.boron_u = 0.15;
	int c;
	optind = 0; /* glibc: a full re-initialisation (main parsed its own options in POSIX order) */
	while ((c = getopt_long(argc, argv, "n:i:e:s:o:jh", lopts, NULL)) != -1) {
		switch (c) {
		case 'n': o.name = optarg; break;
		case 'i': o.instrument = optarg; break;
		case 'e':
			if (mg_analysis_elements_check(optarg) < 0)
				return cli_usage("calibrate", "--elements: %s", mg_error_detail());
			o.elements = optarg;
			break;
		case 's': o.standards = optarg; break;
		case O_INFL: o.influences = optarg; break;
		case O_BORON:
			if (strcmp(optarg, "none") == 0) {
				o.boron_none = 1;
			} else {
				char *end;
				errno = 0;
				o.boron = strtod(optarg, &end);
				if (*end == ':')
					o.boron_u = strtod(end + 1, &end);
				if (*end || errno || !(o.boron >= 0 && o.boron < 20) || !(o.boron_u >= 0))
					return cli_usage("calibrate", "--boron wants WT[:U] in wt%% or none, got '%s'", optarg);
			}
			break;
		case O_QUAD: o.quadratic = 1; break;
		case O_OPER: o.operator_name = optarg; break;
		case CLI_OPT_DB:
			cli_db_set(optarg);
			break;
		case O_DATA: o.data_dir = optarg; break;
		case O_NOSTORE: o.no_store = 1; break;
		case 'o': o.out = optarg; break;
		case O_KIND: o.kind = optarg; break;
		case 'j': o.json = 1; break;
		case 'h': help(); return CLI_OK;
		default: return cli_usage("calibrate", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage("calibrate", "what to calibrate: energy, resolution, quant, list, show, export, import");
	const char *what = argv[optind++];
	int nargs = argc - optind;
	if (o.no_store && !o.out && (strcmp(what, "energy") == 0 || strcmp(what, "resolution") == 0 ||
	                             strcmp(what, "quant") == 0))
		return cli_usage("calibrate", "--no-store without --out would keep nothing");
	if (strcmp(what, "energy") == 0 || strcmp(what, "resolution") == 0) {
		if (nargs != 1)
			return cli_usage("calibrate", "%s wants one spectrum file", what);
		return do_energy(&o, argv[optind], strcmp(what, "resolution") == 0);
	}
	if (strcmp(what, "quant") == 0) {
		if (nargs)
			return cli_usage("calibrate", "quant takes its spectra from --standards FILE.csv");
		return do_quant(&o);
	}
	if (strcmp(what, "list") == 0) {
		mg_store *st = NULL;
		if (store_open(&o, 0, &st) < 0)
			return CLI_FAIL;
		lister l = {.json = o.json, .arr = o.json ? json_array() : NULL};
		int rc = mg_store_calibrations_list(st, o.kind, NULL, list_cb, &l);
		mg_store_close(st);
		if (rc < 0) {
			cli_error("%s", mg_error_detail());
			json_decref(l.arr);
			return CLI_FAIL;
		}
		if (o.json) {
			cli_json_print(l.arr);
			json_decref(l.arr);
		}
		return CLI_OK;
	}
	if (strcmp(what, "show") == 0 || strcmp(what, "export") == 0) {
		int exp = strcmp(what, "export") == 0;
		if (nargs != (exp ? 2 : 1))
			return cli_usage("calibrate", exp ? "export wants REF OUT.json" : "show wants REF");
		mg_store *st = NULL;
		if (store_open(&o, 0, &st) < 0)
			return CLI_FAIL;
		mg_calib_record r;
		int rc = mg_calib_record_load(st, argv[optind], &r);
		mg_store_close(st);
		if (rc < 0) {
			cli_error("%s", mg_error_detail());
			return CLI_FAIL;
		}
		if (exp) {
			rc = mg_calib_record_export(&r, argv[optind + 1]);
			if (rc < 0)
				cli_error("%s", mg_error_detail());
			else if (!o.json)
				printf("%s calibration '%s' version %d exported to %s\n", r.kind, r.name, r.version, argv[optind + 1]);
		} else {
			json_t *j = record_json(&r);
			cli_json_print(j);
			json_decref(j);
		}
		mg_calib_record_clear(&r);
		return rc < 0 ? CLI_FAIL : CLI_OK;
	}
	if (strcmp(what, "import") == 0) {
		if (nargs != 1)
			return cli_usage("calibrate", "import wants one file");
		mg_calib_record r;
		if (mg_calib_record_import(argv[optind], &r) < 0) {
			cli_error("%s", mg_error_detail());
			return CLI_FAIL;
		}
		/* an import is a new version here; where it came from goes into the provenance */
		json_t *p = r.provenance_json ? json_loads(r.provenance_json, JSON_DECODE_ANY, NULL) : NULL;
		json_t *np = json_pack("{s:s,s:i,s:o,s:o}", "imported_from", argv[optind], "original_version", r.version,
		                       "original_id", r.id ? json_integer(r.id) : json_null(), "original_provenance",
		                       p ? p : json_null());
		free(r.provenance_json);
		r.provenance_json = np ? json_dumps(np, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(np);
		r.version = 0;
		r.id = 0;
		r.created_at[0] = 0;
		copts oi = o;
		oi.out = NULL;
		int rc = finish(&oi, &r);
		mg_calib_record_clear(&r);
		return rc;
	}
	return cli_usage("calibrate", "unknown subcommand '%s'", what);
}
