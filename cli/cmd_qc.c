/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay qc status|chart|release BATCH, qc add BATCH, qc record MEASUREMENT:
 * the QC state of a lot (Westgard rules on control charts, ICP run checks),
 * its control charts as PNG, its release (refused while a rule is violated
 * unless an override names who and why), and the entry of QC values. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "magassay/error.h"
#include "magassay/qc.h"
#include "magassay/report.h"
#include "magassay/store.h"
#include "magassay/store_qc.h"

/* Registered in cli.h too. */
int cmd_qc(int argc, char **argv);

static void help(void)
{
	printf("Usage: magassay qc status BATCH [--json]\n"
	       "       magassay qc chart BATCH --png FILE [--quantity Q] [--target T] [--page] [--width PX]\n"
	       "       magassay qc release BATCH [--by NAME] [--override-by NAME --reason TEXT] [--json]\n"
	       "       magassay qc add BATCH --quantity Q --target T --value V [--unit U] [--instrument SN]\n"
	       "                   [--standard NAME] [--at TIME] [--operator NAME]\n"
	       "       magassay qc record MEASUREMENT --element EL --line LINE --energy KEV [--standard NAME]\n"
	       "                   [--reference-cal OFFSET,GAIN[,QUAD]] [--operator NAME]\n"
	       "Batch quality control: control charts of the check-standard values (peak position,\n"
	       "FWHM, intensity per instrument) and of the XRF-ICP bias per element, judged with the\n"
	       "Westgard rules (1-3s, 2-2s, R-4s, 4-1s, 10-x; 1-2s warns) against limits from history\n"
	       "(mean and s of the values before the batch); failed ICP run checks count too.\n\n"
	       "  status   the QC state of the batch: every series, its limits, the rules fired\n"
	       "  chart    the batch's control charts as a PNG (all, or one quantity/target)\n"
	       "  release  record the batch's release; refused while a rule is violated, unless\n"
	       "           --override-by and --reason say who accepts it and why (both recorded)\n"
	       "  add      record a QC value by hand (quantity: peak_position, fwhm, intensity, ...)\n"
	       "  record   derive and record the QC values of a check-standard measurement from its\n"
	       "           latest analysis result (FWHM at the line, its cps, and with\n"
	       "           --reference-cal the peak position on that axis)\n\n"
	       CLI_DB_HELP
	       "  --data-dir DIR       the data directory (default: $MAGASSAY_DATA, else\n"
	       "                       $XDG_DATA_HOME/magassay, else ~/.local/share/magassay)\n"
	       "  --json               JSON instead of text (status, release)\n"
	       "  --min-history N      values needed before the batch for limits (default 8)\n"
	       "  --max-history N      most recent values used for the limits (default 50)\n"
	       "  --rules LIST         rules to apply, e.g. 1-3s,2-2s,R-4s (default: all)\n"
	       "  --png FILE           chart: where to write the PNG\n"
	       "  --page               chart: sized for a report page (default: a screen)\n"
	       "  --width PX           chart: picture width in pixels\n"
	       "  --by NAME            release: who releases (default: the operating-system user)\n"
	       "  --override-by NAME   release: who accepts the violations\n"
	       "  --reason TEXT        release: why\n"
	       "  -h, --help           this help\n\n"
	       "Exit status: 0 done (status: whatever the state), 1 failure or release refused,\n"
	       "2 usage error.\n");
}

typedef struct opts {
	const char *data_dir, *png, *quantity, *target, *by, *override_by, *reason, *unit, *instrument, *standard,
		*at, *operator_name, *element, *line, *refcal;
	double value, energy;
	int json, page, width, have_value;
	mg_qc_options qo;
} opts;

static int parse_rules(const char *s, unsigned *out)
{
	*out = 0;
	char *dup = strdup(s), *save = NULL;
	if (!dup)
		return -1;
	for (char *t = strtok_r(dup, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		unsigned r = mg_wg_rule_parse(t);
		if (!r) {
			cli_error("qc: unknown rule '%s' (1-2s, 1-3s, 2-2s, R-4s, 4-1s, 10-x)", t);
			free(dup);
			return -1;
		}
		*out |= r;
	}
	free(dup);
	return 0;
}

static int parse_num(const char *s, double *v)
{
	char *end;
	errno = 0;
	*v = strtod(s, &end);
	return end != s && *end == '\0' && errno == 0 && isfinite(*v) ? 0 : -1;
}

/* ---- status --------------------------------------------------------------------------- */

static void print_status(const mg_qc_status *s)
{
	char r[64];
	printf("batch %s: QC %s", s->batch_id, mg_qc_state_name(s->state));
	printf(" (%zu violation%s, %zu warning%s)\n", s->n_violations, s->n_violations == 1 ? "" : "s", s->n_warnings,
	       s->n_warnings == 1 ? "" : "s");
	if (s->released)
		printf("released by %s at %s%s%s%s%s\n", s->released_by, s->released_at,
		       s->override_by ? " with an override by " : "", s->override_by ? s->override_by : "",
		       s->override_by ? ": " : "", s->override_by && s->override_reason ? s->override_reason : "");
	else
		printf("%s\n", s->n_violations ? "not released: a release needs an override (--override-by, --reason)"
		                                : "not released");
	if (s->nseries) {
		printf("\n%-28s %-10s %4s %12s %10s %-22s %-12s %s\n", "SERIES", "INSTRUMENT", "N", "MEAN", "S",
		       "BATCH VALUES", "RULES", "STATE");
		for (size_t i = 0; i < s->nseries; i++) {
			const mg_qc_series *x = &s->series[i];
			char lab[64], mean[32] = "-", sd[32] = "-", vals[64] = "";
			snprintf(lab, sizeof(lab), "%s %s (%s)", x->quantity, x->target, x->unit);
			if (x->has_limits) {
				snprintf(mean, sizeof(mean), "%.6g", x->mean);
				snprintf(sd, sizeof(sd), "%.3g", x->sd);
			}
			size_t len = 0;
			for (size_t k = 0; k < x->npoints; k++)
				if (x->points[k].in_batch && len + 16 < sizeof(vals))
					len += (size_t)snprintf(vals + len, sizeof(vals) - len, "%s%.6g", len ? "," : "",
					                        x->points[k].value);
			mg_wg_rules_format(x->batch_flags, r, sizeof(r));
			printf("%-28s %-10s %4zu %12s %10s %-22s %-12s %s\n", lab, *x->instrument ? x->instrument : "-",
			       x->n_baseline, mean, sd, vals, r[0] ? r : "-", mg_qc_state_name(x->state));
		}
	}
	if (s->nchecks) {
		size_t failed = 0;
		for (size_t i = 0; i < s->nchecks; i++)
			failed += s->checks[i].failed;
		printf("\nICP run checks: %zu, failed %zu\n", s->nchecks, failed);
		for (size_t i = 0; i < s->nchecks; i++)
			if (s->checks[i].failed)
				printf("  %s: %s%s%s (measurement %lld)\n", s->checks[i].name, s->checks[i].outcome,
				       s->checks[i].detail ? ", " : "", s->checks[i].detail ? s->checks[i].detail : "",
				       s->checks[i].measurement_id);
	}
	if (s->nnotes) {
		printf("\n");
		for (size_t i = 0; i < s->nnotes; i++)
			printf("- %s\n", s->notes[i]);
	}
}

static int print_json(const mg_qc_status *s)
{
	char *text = NULL;
	if (mg_qc_status_json(s, &text) != MG_OK) {
		cli_error("qc: %s", mg_error_detail());
		return CLI_FAIL;
	}
	json_t *j = json_loads(text, 0, NULL);
	free(text);
	int rc = j ? cli_json_print(j) : CLI_FAIL;
	json_decref(j);
	return rc;
}

static int do_status(mg_store *st, const char *batch, const opts *o)
{
	mg_qc_status *s = NULL;
	if (mg_qc_status_get(st, batch, &o->qo, &s) != MG_OK) {
		cli_error("qc status: %s", mg_error_detail());
		return CLI_FAIL;
	}
	int rc = CLI_OK;
	if (o->json)
		rc = print_json(s);
	else
		print_status(s);
	mg_qc_status_free(s);
	return rc;
}

static int do_chart(mg_store *st, const char *batch, const opts *o)
{
	mg_plot_opts po;
	mg_plot_opts_default(&po);
	po.size = o->page ? MG_PLOT_PAGE : MG_PLOT_SCREEN;
	po.width_px = o->width;
	if (mg_report_plot_qc_png(st, batch, o->quantity, o->target, &o->qo, &po, o->png) != MG_OK) {
		cli_error("qc chart: %s", mg_error_detail());
		return CLI_FAIL;
	}
	if (!o->json)
		fprintf(stderr, "wrote %s\n", o->png);
	return CLI_OK;
}

static int do_release(mg_store *st, const char *batch, const opts *o)
{
	mg_qc_status *s = NULL;
	int rc = mg_qc_release(st, batch, o->by, o->override_by, o->reason, &o->qo, &s);
	int status = CLI_OK;
	if (rc < 0) {
		cli_error("qc release: %s", mg_error_detail());
		status = CLI_FAIL;
	} else if (rc > 0) {
		cli_error("qc release: batch %s is not released: %d QC violation%s; give --override-by NAME and "
		          "--reason TEXT to release it anyway",
		          batch, rc, rc == 1 ? "" : "s");
		status = CLI_FAIL;
	}
	if (s && o->json) {
		if (print_json(s) != CLI_OK)
			status = CLI_FAIL;
	} else if (s && rc > 0) {
		for (size_t i = 0; i < s->nnotes; i++)
			fprintf(stderr, "  - %s\n", s->notes[i]);
	} else if (s && rc == 0) {
		printf("batch %s released by %s at %s%s%s\n", batch, s->released_by, s->released_at,
		       s->override_by ? " with an override by " : "", s->override_by ? s->override_by : "");
		if (o->override_by && !s->override_by)
			printf("(no violation to override: released on its QC)\n");
		if (s->state == MG_QC_NO_DATA)
			fprintf(stderr, "magassay: qc release: warning: batch %s has no QC data\n", batch);
	}
	mg_qc_status_free(s);
	return status;
}

static int do_add(mg_store *st, const char *batch, const opts *o)
{
	if (!o->quantity || !o->target || !o->have_value)
		return cli_usage("qc", "add needs --quantity, --target and --value");
	mg_new_qc_value v = {.quantity = o->quantity, .target = o->target, .standard = o->standard,
	                     .instrument = o->instrument, .value = o->value, .unit = o->unit, .batch_id = batch,
	                     .measured_at = o->at, .operator_name = o->operator_name};
	long long id;
	if (mg_store_qc_value_add(st, &v, &id) != MG_OK) {
		cli_error("qc add: %s", mg_error_detail());
		return CLI_FAIL;
	}
	if (o->json) {
		json_t *j = json_pack("{s:I,s:s,s:s,s:f,s:s}", "id", (json_int_t)id, "quantity", o->quantity, "target",
		                      o->target, "value", o->value, "batch", batch);
		int rc = cli_json_print(j);
		json_decref(j);
		return rc;
	}
	printf("QC value %lld: %s %s = %g%s%s (batch %s)\n", id, o->quantity, o->target, o->value, o->unit ? " " : "",
	       o->unit ? o->unit : "", batch);
	return CLI_OK;
}

static int do_record(mg_store *st, const char *meas, const opts *o)
{
	if (!o->element || !o->line || !(o->energy > 0))
		return cli_usage("qc", "record needs --element, --line and --energy");
	char *end;
	long long id = strtoll(meas, &end, 10);
	if (end == meas || *end || id <= 0) {
		mg_found f;
		if (mg_store_find(st, meas, &f) != MG_OK || f.kind != MG_FOUND_MEASUREMENT) {
			cli_error("qc record: '%s' is not a measurement", meas);
			mg_found_clear(&f);
			return CLI_FAIL;
		}
		id = f.measurement_id;
		mg_found_clear(&f);
	}
	double ref[3] = {0, 0, 0};
	int have_ref = 0;
	if (o->refcal) {
		int n = sscanf(o->refcal, "%lf,%lf,%lf", &ref[0], &ref[1], &ref[2]);
		if (n < 2 || !(ref[1] > 0))
			return cli_usage("qc", "--reference-cal OFFSET,GAIN[,QUAD] in keV (gain > 0)");
		have_ref = 1;
	}
	int n = mg_qc_record_check_standard(st, id, o->standard, o->element, o->line, o->energy, have_ref ? ref : NULL,
	                                    o->operator_name);
	if (n < 0) {
		cli_error("qc record: %s", mg_error_detail());
		return CLI_FAIL;
	}
	printf("recorded %d QC value%s from measurement %lld\n", n, n == 1 ? "" : "s", id);
	return n > 0 ? CLI_OK : CLI_FAIL;
}

int cmd_qc(int argc, char **argv)
{
	enum {
		O_DATA = 256, O_PNG, O_QUANTITY, O_TARGET, O_PAGE, O_WIDTH, O_BY, O_OVERRIDE, O_REASON, O_MINH, O_MAXH,
		O_RULES, O_VALUE, O_UNIT, O_INSTRUMENT, O_STANDARD, O_AT, O_OPERATOR, O_ELEMENT, O_LINE, O_ENERGY, O_REF
	};
	static const struct option lo[] = {
		{"json", no_argument, NULL, 'j'},          {"help", no_argument, NULL, 'h'},
		{"data-dir", required_argument, NULL, O_DATA}, {"db", required_argument, NULL, CLI_OPT_DB}, {"png", required_argument, NULL, O_PNG},
		{"quantity", required_argument, NULL, O_QUANTITY}, {"target", required_argument, NULL, O_TARGET},
		{"page", no_argument, NULL, O_PAGE},       {"width", required_argument, NULL, O_WIDTH},
		{"by", required_argument, NULL, O_BY},     {"override-by", required_argument, NULL, O_OVERRIDE},
		{"reason", required_argument, NULL, O_REASON}, {"min-history", required_argument, NULL, O_MINH},
		{"max-history", required_argument, NULL, O_MAXH}, {"rules", required_argument, NULL, O_RULES},
		{"value", required_argument, NULL, O_VALUE}, {"unit", required_argument, NULL, O_UNIT},
		{"instrument", required_argument, NULL, O_INSTRUMENT}, {"standard", required_argument, NULL, O_STANDARD},
		{"at", required_argument, NULL, O_AT},     {"operator", required_argument, NULL, O_OPERATOR},
		{"element", required_argument, NULL, O_ELEMENT}, {"line", required_argument, NULL, O_LINE},
		{"energy", required_argument, NULL, O_ENERGY}, {"reference-cal", required_argument, NULL, O_REF},
		{NULL, 0, NULL, 0},
	};
	opts o;
	memset(&o, 0, sizeof(o));
	mg_qc_options_default(&o.qo);
	int c;
	long n;
	char *end;
	while ((c = getopt_long(argc, argv, "jh", lo, NULL)) != -1) {
		switch (c) {
		case 'j':
			o.json = 1;
			break;
		case 'h':
			help();
			return CLI_OK;
		case CLI_OPT_DB:
			cli_db_set(optarg);
			break;
		case O_DATA:
			o.data_dir = optarg;
			break;
		case O_PNG:
			o.png = optarg;
			break;
		case O_QUANTITY:
			o.quantity = optarg;
			break;
		case O_TARGET:
			o.target = optarg;
			break;
		case O_PAGE:
			o.page = 1;
			break;
		case O_WIDTH:
			n = strtol(optarg, &end, 10);
			if (*end || n < 200 || n > 8000)
				return cli_usage("qc", "--width: 200 to 8000 pixels");
			o.width = (int)n;
			break;
		case O_BY:
			o.by = optarg;
			break;
		case O_OVERRIDE:
			o.override_by = optarg;
			break;
		case O_REASON:
			o.reason = optarg;
			break;
		case O_MINH:
		case O_MAXH:
			n = strtol(optarg, &end, 10);
			if (*end || n < 2 || n > 100000)
				return cli_usage("qc", "--%s: a count from 2", c == O_MINH ? "min-history" : "max-history");
			if (c == O_MINH)
				o.qo.min_history = (size_t)n;
			else
				o.qo.max_history = (size_t)n;
			break;
		case O_RULES:
			if (parse_rules(optarg, &o.qo.rules) != 0)
				return CLI_USAGE;
			break;
		case O_VALUE:
			if (parse_num(optarg, &o.value) != 0)
				return cli_usage("qc", "--value: a number");
			o.have_value = 1;
			break;
		case O_UNIT:
			o.unit = optarg;
			break;
		case O_INSTRUMENT:
			o.instrument = optarg;
			break;
		case O_STANDARD:
			o.standard = optarg;
			break;
		case O_AT:
			o.at = optarg;
			break;
		case O_OPERATOR:
			o.operator_name = optarg;
			break;
		case O_ELEMENT:
			o.element = optarg;
			break;
		case O_LINE:
			o.line = optarg;
			break;
		case O_ENERGY:
			if (parse_num(optarg, &o.energy) != 0 || !(o.energy > 0))
				return cli_usage("qc", "--energy: keV > 0");
			break;
		case O_REF:
			o.refcal = optarg;
			break;
		default:
			return cli_usage("qc", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage("qc", "what: status, chart, release, add or record");
	const char *what = argv[optind];
	if (optind + 1 >= argc)
		return cli_usage("qc", "%s: no %s given", what, strcmp(what, "record") == 0 ? "MEASUREMENT" : "BATCH");
	if (optind + 2 < argc)
		return cli_usage("qc", "one %s at a time ('%s' too)", strcmp(what, "record") == 0 ? "measurement" : "batch",
		                 argv[optind + 2]);
	const char *id = argv[optind + 1];
	int write = !strcmp(what, "release") || !strcmp(what, "add") || !strcmp(what, "record");
	if (strcmp(what, "status") && strcmp(what, "chart") && !write)
		return cli_usage("qc", "'%s': use status, chart, release, add or record", what);
	if (!strcmp(what, "chart") && !o.png)
		return cli_usage("qc", "chart needs --png FILE");
	if (o.reason && !o.override_by)
		return cli_usage("qc", "--reason goes with --override-by");
	if (o.override_by && !o.reason)
		return cli_usage("qc", "--override-by needs --reason: why is the batch released anyway?");

	mg_store *st = NULL;
	if (cli_store_open_db(o.data_dir, write ? MG_STORE_NOCREATE : MG_STORE_READONLY, &st) != MG_OK) {
		cli_error("qc: %s", mg_error_detail());
		return CLI_FAIL;
	}
	int rc;
	if (!strcmp(what, "status"))
		rc = do_status(st, id, &o);
	else if (!strcmp(what, "chart"))
		rc = do_chart(st, id, &o);
	else if (!strcmp(what, "release"))
		rc = do_release(st, id, &o);
	else if (!strcmp(what, "add"))
		rc = do_add(st, id, &o);
	else
		rc = do_record(st, id, &o);
	mg_store_close(st);
	return rc;
}
