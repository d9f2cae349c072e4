/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay icp run SEQUENCE --device URI [--method FILE] [--qc FILE] [--data-dir D] [--json]
 * magassay icp import CSV --sequence SEQUENCE [...]
 * magassay icp check SEQUENCE [--method FILE] [--qc FILE] [--json]
 *
 * Runs an ICP-OES sequence (worklist) on an instrument, or takes a vendor CSV
 * export through the same analysis and QC, and reports every QC check with
 * its value, limits and outcome; results go to the store. docs/commands/icp.md. */
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "magassay/error.h"
#include "magassay/icp_analysis.h"
#include "magassay/icp_device.h"
#include "magassay/sequence.h"
#include "magassay/store.h"

int cmd_icp(int argc, char **argv);

static volatile sig_atomic_t stop_requested;

static void on_sigint(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void help(FILE *f)
{
	fprintf(f,
	        "Usage: magassay icp run SEQUENCE --device URI [OPTIONS]\n"
	        "       magassay icp import CSV --sequence SEQUENCE [OPTIONS]\n"
	        "       magassay icp check SEQUENCE [--method FILE] [--qc FILE] [--json]\n"
	        "Run an ICP-OES sequence (calibration, ICV/ICB, LLOQ check, samples, duplicates,\n"
	        "spikes, CRM, CCV/CCB) with QC evaluated as it goes, or import a vendor CSV export\n"
	        "into the same analysis and QC; results, calibration and raw readings go to the store.\n\n"
	        "  run      measure every position of SEQUENCE on the instrument at URI\n"
	        "           (sim:icp, usbtmc:VID:PID, scpi+serial:/dev/ttyUSB0)\n"
	        "  import   take the readings of SEQUENCE from a vendor CSV (intensities or concentrations)\n"
	        "  check    validate SEQUENCE (and its method and QC profile) without measuring\n\n"
	        "Options:\n"
	        "  --device URI       the instrument (run)\n"
	        "  --sequence FILE    the sequence the CSV belongs to (import)\n"
	        "  --method FILE      the method (default: 'method =' in the sequence, next to it)\n"
	        "  --qc FILE          the QC profile (default: 'qc =' in the sequence, next to it)\n"
	        CLI_DB_HELP
	        "  --data-dir DIR     the store (else $MAGASSAY_DATA, $XDG_DATA_HOME/magassay, ~/.local/share/magassay)\n"
	        "  --operator NAME    recorded with the batch and measurements (default: the sequence's)\n"
	        "  --no-store         do not write to the store\n"
	        "  --fail-on-qc       exit 1 when a QC check failed (default: only when the run failed)\n"
	        "  --json             the run report as JSON on stdout (no progress output)\n"
	        "  -h, --help         this help\n\n"
	        "Exit status: 0 the run went to its end (QC outcomes are in the report; see --fail-on-qc),\n"
	        "1 failure (instrument error, store error, bad files), 2 usage error.\n"
	        "Formats of the sequence, method, QC profile and CSV: docs/icp.md.\n");
}

typedef struct opts {
	const char *sub;
	const char *input;     /* SEQUENCE (run, check) or CSV (import) */
	const char *device;
	const char *sequence;  /* import */
	const char *method;
	const char *qc;
	const char *data_dir;
	const char *operator_name;
	int no_store, json, fail_on_qc;
} opts;

/* path relative to the directory of `base` (absolute paths kept) */
static char *beside(const char *base, const char *rel)
{
	if (rel[0] == '/')
		return strdup(rel);
	char *b = strdup(base);
	if (!b)
		return NULL;
	char *dir = dirname(b);
	size_t n = strlen(dir) + strlen(rel) + 2;
	char *out = malloc(n);
	if (out)
		snprintf(out, n, "%s/%s", dir, rel);
	free(b);
	return out;
}

typedef struct setup {
	mg_icp_sequence *seq;
	mg_icp_method *method;
	mg_icp_qc_profile *qc;
	char *seq_path;
} setup;

static void setup_free(setup *s)
{
	mg_icp_sequence_free(s->seq);
	mg_icp_method_free(s->method);
	mg_icp_qc_free(s->qc);
	free(s->seq_path);
}

/* Load the method and the QC profile named by the options or the sequence
 * (s->seq loaded). With require, both must be found. */
static int load_method_qc(const opts *o, const char *seq_path, setup *s, int require)
{
	char *mp = o->method ? strdup(o->method) : s->seq->method[0] ? beside(seq_path, s->seq->method) : NULL;
	char *qp = o->qc ? strdup(o->qc) : s->seq->qc[0] ? beside(seq_path, s->seq->qc) : NULL;
	int rc = CLI_OK;
	if (!mp && require) {
		cli_error("icp %s: no method: give --method FILE or 'method = FILE' in %s", o->sub, seq_path);
		rc = CLI_USAGE;
	} else if (!qp && require) {
		cli_error("icp %s: no QC profile: give --qc FILE or 'qc = FILE' in %s", o->sub, seq_path);
		rc = CLI_USAGE;
	} else if (mp && mg_icp_method_load(mp, &s->method) != MG_OK) {
		cli_error("icp %s: %s", o->sub, cli_lib_error());
		rc = CLI_FAIL;
	} else if (qp && mg_icp_qc_load(qp, &s->qc) != MG_OK) {
		cli_error("icp %s: %s", o->sub, cli_lib_error());
		rc = CLI_FAIL;
	}
	free(mp);
	free(qp);
	return rc;
}

/* Load the sequence, then its method and QC profile. */
static int load_setup(const opts *o, const char *seq_path, setup *s)
{
	memset(s, 0, sizeof(*s));
	s->seq_path = strdup(seq_path);
	if (mg_icp_sequence_load(seq_path, &s->seq) != MG_OK) {
		cli_error("icp %s: %s", o->sub, cli_lib_error());
		return CLI_FAIL;
	}
	return load_method_qc(o, seq_path, s, 1);
}

static void print_problems(const char *path, const mg_icp_problems *p)
{
	size_t shown = p->count < 64 ? p->count : 64;
	for (size_t i = 0; i < shown; i++) {
		if (p->item[i].line)
			fprintf(stderr, "%s:%ld: %s\n", path, p->item[i].line, p->item[i].message);
		else
			fprintf(stderr, "%s: %s\n", path, p->item[i].message);
	}
	if (p->count > shown)
		fprintf(stderr, "%s: ... and %zu more problems\n", path, p->count - shown);
}

/* ---- progress on the terminal ------------------------------------------------ */

typedef struct progress {
	const opts *o;
	const setup *s;
	mg_icp_run *run;
	size_t nflag_items;
	size_t flag_items[64];
} progress;

static const char *num(char *buf, size_t cap, double v, int digits)
{
	if (!isfinite(v))
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%.*f", digits, v);
	return buf;
}

static void print_values(const progress *p, const mg_icp_event *ev)
{
	const mg_icp_method *m = p->s->method;
	const mg_icp_item *it = ev->it;
	const mg_icp_item_result *res = ev->res;
	int solid = mg_icp_item_is_sample(it->type) && it->type != MG_ICP_ITEM_METHOD_BLANK;
	/* check standards are shown as measured: an LLOQ check sits at the LOQ */
	int check = it->type == MG_ICP_ITEM_ICV || it->type == MG_ICP_ITEM_CCV || it->type == MG_ICP_ITEM_LLOQ ||
	            it->type == MG_ICP_ITEM_SPIKE || it->type == MG_ICP_ITEM_CRM;
	printf("  ");
	for (size_t a = 0; a < m->nanalytes; a++) {
		if (!m->analyte[a].report)
			continue;
		const mg_icp_value *v = &res->line[a]; /* reporting lines come first */
		char b[32];
		if ((v->flags & MG_ICP_RF_BELOW_LOQ) && !check)
			printf(" %s <LOQ", m->analyte[a].element);
		else
			printf(" %s %s", m->analyte[a].element,
			       num(b, sizeof(b), solid ? v->w_pct : v->conc, solid ? (v->w_pct < 1 ? 3 : 2) : 4));
	}
	printf(solid ? " wt%%" : " mg/L");
	if (isfinite(res->total_pct))
		printf("  (total %.2f)", res->total_pct);
	printf("\n");
}

static int on_event(const mg_icp_event *ev, void *ud)
{
	progress *p = ud;
	const mg_icp_sequence *seq = p->s->seq;
	switch (ev->kind) {
	case MG_ICP_EV_MEASURED: {
		const mg_icp_item *it = ev->it;
		printf("[%2zu/%zu] pos %-3d %-14s %-12s", ev->item + 1, seq->nitems, it->position, it->label,
		       mg_icp_item_type_name(it->type));
		if (isfinite(ev->res->is_recovery_pct))
			printf(" IS %5.1f %%", ev->res->is_recovery_pct);
		printf("\n");
		if (it->type != MG_ICP_ITEM_CAL_BLANK && it->type != MG_ICP_ITEM_CAL_STD)
			print_values(p, ev);
		if (p->nflag_items) {
			printf("   -> flagged for re-run:");
			for (size_t k = 0; k < p->nflag_items; k++)
				printf(" %s", seq->items[p->flag_items[k]].label);
			printf("\n");
			p->nflag_items = 0;
		}
		break;
	}
	case MG_ICP_EV_CALIBRATED: {
		printf("calibration:\n  %-12s %-14s %9s %10s %10s\n", "line", "curve", "r", "LOD mg/L", "LOQ mg/L");
		for (size_t l = 0; l < mg_icp_run_nlines(p->run); l++) {
			if (mg_icp_run_line_analyte(p->run, l) < 0)
				continue;
			const mg_icp_curve *c = mg_icp_run_curve(p->run, l);
			static const char *kinds[] = {"linear", "weighted-1/x", "weighted-1/x2", "quadratic"};
			char b1[32], b2[32];
			if (c)
				printf("  %-12s %-14s %9.6f %10s %10s\n", mg_icp_run_line(p->run, l)->label, kinds[c->kind], c->r,
				       num(b1, sizeof(b1), c->lod, 5), num(b2, sizeof(b2), c->loq, 5));
			else
				printf("  %-12s %-14s\n", mg_icp_run_line(p->run, l)->label, "(no curve)");
		}
		break;
	}
	case MG_ICP_EV_CHECK:
		if (ev->check->outcome == MG_ICP_FAIL) {
			const mg_icp_check *c = ev->check;
			char lo[32], hi[32];
			printf("   FAIL %s %s %s: %.4g %s (limits %s .. %s) %s\n", mg_icp_check_name(c->type), c->label, c->element,
			       c->value, c->unit, num(lo, sizeof(lo), c->lo, 4), num(hi, sizeof(hi), c->hi, 4), c->note);
		}
		break;
	case MG_ICP_EV_FLAGGED: {
		int seen = 0;
		for (size_t k = 0; k < p->nflag_items; k++)
			seen |= p->flag_items[k] == ev->flag_item;
		if (!seen && p->nflag_items < 64)
			p->flag_items[p->nflag_items++] = ev->flag_item;
		break;
	}
	case MG_ICP_EV_ERROR:
		break; /* reported at the end */
	default:
		break;
	}
	fflush(stdout);
	return stop_requested ? 1 : 0;
}

static int quiet_event(const mg_icp_event *ev, void *ud)
{
	(void)ev;
	(void)ud;
	return stop_requested ? 1 : 0;
}

/* ---- the report ------------------------------------------------------------- */

static void print_summary(const progress *p, int rc)
{
	mg_icp_run *r = p->run;
	printf("\nQC checks:\n  %-14s %5s %5s %5s\n", "check", "pass", "fail", "n/a");
	for (int t = 0; t < MG_ICP_CHECK_COUNT_; t++) {
		size_t n[3] = {0, 0, 0};
		for (size_t k = 0; k < mg_icp_run_nchecks(r); k++)
			if ((int)mg_icp_run_check(r, k)->type == t)
				n[mg_icp_run_check(r, k)->outcome]++;
		if (n[0] + n[1] + n[2])
			printf("  %-14s %5zu %5zu %5zu\n", mg_icp_check_name((mg_icp_check_type)t), n[0], n[1], n[2]);
	}
	const mg_icp_sequence *seq = p->s->seq;
	const mg_icp_method *m = p->s->method;
	int header = 0;
	for (size_t i = 0; i < seq->nitems; i++) {
		const mg_icp_item_result *res = mg_icp_run_result(r, i);
		if (!mg_icp_item_is_sample(seq->items[i].type) || !res->measured)
			continue;
		unsigned want = MG_ICP_RF_RERUN_CCV | MG_ICP_RF_RERUN_CCB | MG_ICP_RF_UNBRACKETED;
		unsigned why = 0;
		char els[128] = "";
		for (size_t a = 0; a < m->nanalytes; a++) {
			unsigned f = res->line[a].flags & want;
			if (f) {
				why |= f;
				size_t n = strlen(els);
				snprintf(els + n, sizeof(els) - n, "%s%s", n ? "," : "", m->analyte[a].element);
			}
		}
		if (!why)
			continue;
		if (!header++)
			printf("\nTo re-run:\n");
		char reasons[128];
		printf("  pos %-3d %-14s %s (%s)\n", seq->items[i].position, seq->items[i].label, els,
		       mg_icp_flags_text(why, reasons, sizeof(reasons)));
	}
	long long cal_id;
	int cal_ver;
	mg_icp_run_calibration(r, &cal_id, &cal_ver);
	printf("\n%s: %zu checks passed, %zu failed, %zu not applicable",
	       rc == MG_OK ? "run complete" : rc == MG_ERR_INTERRUPTED ? "run stopped" : "run FAILED",
	       mg_icp_run_count(r, MG_ICP_PASS), mg_icp_run_count(r, MG_ICP_FAIL), mg_icp_run_count(r, MG_ICP_NA));
	if (cal_id)
		printf("; calibration icp/%s version %d", m->name, cal_ver);
	printf("\n");
}

static int finish_run(const opts *o, progress *p, mg_store *st, int rc)
{
	int out = rc == MG_OK ? CLI_OK : CLI_FAIL;
	if (rc != MG_OK)
		cli_error("icp %s: %s", o->sub, cli_lib_error());
	if (o->json) {
		char *text = NULL;
		if (mg_icp_run_json(p->run, &text) == MG_OK) {
			json_t *j = json_loads(text, 0, NULL);
			if (j) {
				json_object_set_new(j, "data_dir", st ? json_string(mg_store_data_dir(st)) : json_null());
				if (cli_json_print(j) != CLI_OK)
					out = CLI_FAIL;
				json_decref(j);
			}
		}
		free(text);
	} else {
		print_summary(p, rc);
		if (st)
			printf("stored in %s (batch %s)\n", mg_store_data_dir(st), p->s->seq->batch);
	}
	if (out == CLI_OK && o->fail_on_qc && mg_icp_run_count(p->run, MG_ICP_FAIL) > 0)
		out = CLI_FAIL;
	return out;
}

static int do_run(const opts *o, int import)
{
	setup s;
	const char *seq_path = import ? o->sequence : o->input;
	int rc = load_setup(o, seq_path, &s);
	if (rc != CLI_OK) {
		setup_free(&s);
		return rc;
	}
	mg_icp_problems probs;
	mg_icp_run *run = NULL;
	if (mg_icp_run_new(s.seq, s.method, s.qc, &probs, &run) != MG_OK) {
		cli_error("icp %s: %s does not validate:", o->sub, seq_path);
		print_problems(seq_path, &probs);
		setup_free(&s);
		return CLI_FAIL;
	}
	mg_icp_csv *csv = NULL;
	if (import && mg_icp_csv_load(o->input, &csv) != MG_OK) {
		cli_error("icp import: %s", cli_lib_error());
		mg_icp_run_free(run);
		setup_free(&s);
		return CLI_FAIL;
	}
	mg_store *st = NULL;
	if (!o->no_store && cli_store_open_db(o->data_dir, MG_STORE_DEFAULT, &st) != MG_OK) {
		cli_error("icp %s: %s", o->sub, cli_lib_error());
		mg_icp_csv_free(csv);
		mg_icp_run_free(run);
		setup_free(&s);
		return CLI_FAIL;
	}
	mg_icp_device *dev = NULL;
	if (!import && mg_icp_open(o->device, &dev) != MG_OK) {
		cli_error("icp run: cannot open %s: %s", o->device, cli_lib_error());
		mg_store_close(st);
		mg_icp_run_free(run);
		setup_free(&s);
		return CLI_FAIL;
	}
	progress p = {.o = o, .s = &s, .run = run};
	mg_icp_run_set_events(run, o->json ? quiet_event : on_event, &p);
	mg_icp_run_set_store(run, st, o->operator_name);
	mg_icp_run_set_origin(run, seq_path, import ? NULL : o->device);
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, &old);
	if (!o->json) {
		if (dev) {
			const mg_icp_identity *id = mg_icp_get_identity(dev);
			printf("%s: %s %s (serial %s, firmware %s), profile %s\n", o->device, id->manufacturer, id->model,
			       id->serial, id->firmware, id->profile);
		}
		printf("sequence %s: batch %s, %zu positions; method %s; QC %s\n", seq_path, s.seq->batch, s.seq->nitems,
		       s.method->name, s.qc->name);
	}
	if (import) {
		rc = mg_icp_run_csv(run, csv, o->input);
	} else {
		mg_icp_source src;
		mg_icp_source_device(dev, o->device, &src);
		rc = mg_icp_run_source(run, &src);
	}
	sigaction(SIGINT, &old, NULL);
	int out = finish_run(o, &p, st, rc);
	mg_icp_close(dev);
	mg_store_close(st);
	mg_icp_csv_free(csv);
	mg_icp_run_free(run);
	setup_free(&s);
	return out;
}

static int do_check(const opts *o)
{
	setup s;
	memset(&s, 0, sizeof(s));
	if (mg_icp_sequence_load(o->input, &s.seq) != MG_OK) {
		if (o->json) {
			json_t *j = json_pack("{s:s,s:b,s:[{s:o,s:s}]}", "file", o->input, "valid", 0, "problems", "line",
			                      json_null(), "message", cli_lib_error());
			cli_json_print(j);
			json_decref(j);
		} else {
			cli_error("icp check: %s", cli_lib_error());
		}
		return CLI_FAIL;
	}
	int rc = load_method_qc(o, o->input, &s, 0);
	if (rc != CLI_OK) {
		setup_free(&s);
		return rc;
	}
	mg_icp_problems pr;
	int n = mg_icp_sequence_validate(s.seq, s.method, s.qc, &pr);
	if (o->json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < pr.count && i < 64; i++)
			json_array_append_new(arr, json_pack("{s:o,s:s}", "line",
			                                     pr.item[i].line ? json_integer(pr.item[i].line) : json_null(),
			                                     "message", pr.item[i].message));
		json_t *j = json_pack("{s:s,s:b,s:I,s:I,s:o,s:o,s:o}", "file", o->input, "valid", n == 0, "items",
		                      (json_int_t)s.seq->nitems, "problem_count", (json_int_t)pr.count, "method",
		                      s.method ? json_string(s.method->name) : json_null(), "qc_profile",
		                      s.qc ? json_string(s.qc->name) : json_null(), "problems", arr);
		cli_json_print(j);
		json_decref(j);
	} else if (n == 0) {
		printf("%s: %zu positions, batch %s: valid%s%s%s%s\n", o->input, s.seq->nitems, s.seq->batch,
		       s.method ? " for method " : " (structure only: no method)", s.method ? s.method->name : "",
		       s.qc ? " and QC profile " : "", s.qc ? s.qc->name : "");
	} else {
		print_problems(o->input, &pr);
	}
	setup_free(&s);
	return n == 0 ? CLI_OK : CLI_FAIL;
}

int cmd_icp(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"device", required_argument, NULL, 'd'},   {"sequence", required_argument, NULL, 's'},
		{"method", required_argument, NULL, 'm'},   {"qc", required_argument, NULL, 'q'},
		{"data-dir", required_argument, NULL, 'D'}, {"db", required_argument, NULL, CLI_OPT_DB}, {"operator", required_argument, NULL, 'o'},
		{"no-store", no_argument, NULL, 'N'},       {"fail-on-qc", no_argument, NULL, 'F'},
		{"json", no_argument, NULL, 'j'},           {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	opts o = {0};
	if (argc < 2) {
		help(stderr);
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		help(stdout);
		return CLI_OK;
	}
	o.sub = argv[1];
	if (strcmp(o.sub, "run") && strcmp(o.sub, "import") && strcmp(o.sub, "check"))
		return cli_usage("icp", "'%s' is not an icp command (run, import, check)", o.sub);
	int c;
	optind = 0;
	while ((c = getopt_long(argc - 1, argv + 1, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.device = optarg;
			break;
		case 's':
			o.sequence = optarg;
			break;
		case 'm':
			o.method = optarg;
			break;
		case 'q':
			o.qc = optarg;
			break;
		case CLI_OPT_DB:
			cli_db_set(optarg);
			break;
		case 'D':
			o.data_dir = optarg;
			break;
		case 'o':
			o.operator_name = optarg;
			break;
		case 'N':
			o.no_store = 1;
			break;
		case 'F':
			o.fail_on_qc = 1;
			break;
		case 'j':
			o.json = 1;
			break;
		case 'h':
			help(stdout);
			return CLI_OK;
		default:
			return cli_usage("icp", "unknown option");
		}
	}
	int rest = argc - 1 - optind;
	if (rest != 1)
		return cli_usage("icp", "icp %s takes one %s", o.sub, !strcmp(o.sub, "import") ? "CSV file" : "sequence file");
	o.input = argv[1 + optind];
	if (!strcmp(o.sub, "run")) {
		if (!o.device)
			return cli_usage("icp", "icp run needs --device URI (e.g. --device sim:icp)");
		if (o.sequence)
			return cli_usage("icp", "--sequence is for icp import");
		return do_run(&o, 0);
	}
	if (!strcmp(o.sub, "import")) {
		if (!o.sequence)
			return cli_usage("icp", "icp import needs --sequence FILE (the worklist the CSV belongs to)");
		if (o.device)
			return cli_usage("icp", "--device is for icp run");
		return do_run(&o, 1);
	}
	if (o.device || o.sequence)
		return cli_usage("icp", "icp check takes no --device or --sequence");
	return do_check(&o);
}
