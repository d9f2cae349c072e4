/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay reprocess: recompute stored results with a calibration and the
 * current software, and report what changed (docs/commands/reprocess.md). */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "magassay/analysis.h"
#include "magassay/error.h"
#include "magassay/reprocess.h"

/* Exit status when interrupted: what was done is kept, run it again to go on. */
#define CLI_INTERRUPTED 3

static volatile int stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void help(void)
{
	printf(
		"Usage: magassay reprocess (--batch ID | --since DATE | --all) [--calib REF] [--jobs N]\n"
		"                          [--shard K/N] [--dry-run] [--json]\n"
		"Recompute the results of stored XRF spectra with a calibration and this software:\n"
		"each result is a new version (older ones are kept), and a change report says how\n"
		"much each element moved and lists every sample whose grade or QC flags changed.\n"
		"Resumable and idempotent: a measurement that already has this run's result (same\n"
		"software, settings, calibration and spectrum) is not recomputed.\n\n"
		"Selection (one is required):\n"
		"  -b, --batch ID         the measurements of a batch\n"
		"      --sample ID        the measurements of a sample\n"
		"      --since DATE       measured on or after DATE (YYYY-MM-DD or YYYY-MM-DDThh:mm:ss, UTC)\n"
		"      --all              the whole archive\n"
		"Method:\n"
		"  -c, --calib REF        a calibration record of the store (ID, KIND:NAME[@V] or NAME; the\n"
		"                         latest version unless @V); up to twice:\n"
		"                         a quant record (default: the one each measurement's latest result\n"
		"                         used, else standardless FP), and an energy or resolution record\n"
		"                         (default: each file's energy calibration, else found from peaks)\n"
		"      --instrument FILE  instrument description (default DATA_DIR/instrument.ini, else\n"
		"                         the calibration's, else a benchtop SDD with a Rh tube)\n"
		"      --grades FILE      grade table (default DATA_DIR/grades.ini when present)\n"
		"  -e, --elements LIST    elements fitted (default Fe,Co,Nd,Pr,Dy,Tb; Ni, Cu added)\n"
		"      --refine           refine energy calibration and resolution on every spectrum, as\n"
		"                         analyze does (slower; default: the --calib energy record, else\n"
		"                         each file's calibration: one analysis plan for all)\n"
		"Execution:\n"
		"  -j, --jobs N           worker threads (default: the number of processors)\n"
		"      --shard K/N        only shard K of N (1 <= K <= N): the measurements are split\n"
		"                         by a hash of their UUID, e.g. one shard per Slurm array task\n"
		"      --dry-run          compute and report, write nothing\n"
		"      --json             the summary and the changes as one JSON object (for a LIMS)\n"
		"  -q, --quiet            no progress bar\n"
		"      --data-dir DIR     the store (default: $MAGASSAY_DATA, else the XDG data dir)\n"
		"      --db URL           the store's database: postgresql://... (default: $MAGASSAY_DB,\n"
		"                         else 'database' in DATA_DIR/magassay.conf, else SQLite in DATA_DIR)\n"
		"  -h, --help             this help\n\n"
		"Ctrl-C (or SIGTERM) finishes the spectra in flight and stops; run the same command\n"
		"again to go on.\n"
		"Exit status: 0 done, 1 some measurements failed or the store failed, 2 usage error,\n"
		"3 interrupted (what was done is kept).\n");
}

typedef struct out {
	int json, tty, quiet;
	json_t *changes, *failures;
	int bar_shown;
} out;

static void clear_bar(out *o)
{
	if (o->bar_shown) {
		fputs("\r\033[K", stderr);
		o->bar_shown = 0;
	}
}

static void fmt_time(double s, char *buf, size_t size)
{
	if (!isfinite(s) || s < 0 || s > 1e8) {
		snprintf(buf, size, "--:--");
		return;
	}
	long t = (long)(s + 0.5);
	if (t >= 3600)
		snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, size, "%02ld:%02ld", t / 60, t % 60);
}

static void on_progress(const mg_reprocess_progress *p, void *ud)
{
	out *o = ud;
	if (o->quiet || !o->tty)
		return;
	double frac = p->total > 0 ? (double)p->done / (double)p->total : 1;
	int w = 30, fill = (int)(frac * w + 0.5);
	char bar[64], eta[32];
	for (int i = 0; i < w; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[w] = 0;
	fmt_time(p->eta_s, eta, sizeof eta);
	fprintf(stderr, "\r\033[K[%s] %lld/%lld  %.1f spectra/s  left %s  (%lld new, %lld up to date, %lld failed)", bar,
	        p->done, p->total, p->rate, eta, p->recomputed, p->up_to_date, p->failed);
	o->bar_shown = 1;
}

static void on_change(const mg_reprocess_change *c, void *ud)
{
	out *o = ud;
	if (o->json) {
		json_array_append_new(
			o->changes,
			json_pack("{s:I,s:s,s:s,s:s,s:i,s:o,s:s,s:s,s:s,s:s,s:b,s:b}", "measurement_id", (json_int_t)c->measurement_id,
		              "uuid", c->uuid, "batch", c->batch_id, "sample", c->sample_id, "old_version", c->old_version,
		              "new_version", c->new_version ? json_integer(c->new_version) : json_null(), "old_grade",
		              c->old_grade, "new_grade", c->new_grade, "old_flags", c->old_flags, "new_flags", c->new_flags,
		              "grade_changed", c->grade_changed, "qc_changed", c->qc_changed));
		return;
	}
	clear_bar(o);
	printf("  changed  %s/%s  measurement %lld (v%d -> %s%d)", c->batch_id, c->sample_id, c->measurement_id,
	       c->old_version, c->new_version ? "v" : "dry run ", c->new_version);
	if (c->grade_changed)
		printf("  grade %s -> %s", c->old_grade[0] ? c->old_grade : "-", c->new_grade[0] ? c->new_grade : "-");
	if (c->qc_changed)
		printf("  QC flags [%s] -> [%s]", c->old_flags, c->new_flags);
	printf("\n");
}

static void on_failure(long long mid, const char *uuid, const char *error, void *ud)
{
	out *o = ud;
	if (o->json) {
		json_array_append_new(o->failures, json_pack("{s:I,s:s,s:s}", "measurement_id", (json_int_t)mid, "uuid",
		                                             uuid, "error", error));
		return;
	}
	clear_bar(o);
	cli_error("measurement %lld (%s): %s", mid, uuid, error);
}

static json_t *summary_json(const mg_reprocess_summary *s, const mg_reprocess_config *c)
{
	json_t *el = json_array();
	for (size_t i = 0; i < s->nelements; i++) {
		const mg_reprocess_element_change *e = &s->el[i];
		json_array_append_new(el, json_pack("{s:s,s:I,s:o,s:o,s:o,s:I,s:o,s:I}", "element", e->element, "compared",
		                                    (json_int_t)e->n, "mean_delta_wt_pct", cli_json_real(e->mean_delta),
		                                    "mean_abs_delta_wt_pct", cli_json_real(e->mean_abs_delta),
		                                    "max_abs_delta_wt_pct", cli_json_real(e->max_abs_delta),
		                                    "max_measurement_id", (json_int_t)e->max_measurement,
		                                    "mean_rel_delta", e->n_rel ? cli_json_real(e->mean_rel_delta) : json_null(),
		                                    "significant", (json_int_t)e->n_significant));
	}
	json_t *o = json_object();
	json_object_set_new(o, "selected", json_integer(s->total));
	json_object_set_new(o, "recomputed", json_integer(s->recomputed));
	json_object_set_new(o, "up_to_date", json_integer(s->up_to_date));
	json_object_set_new(o, "failed", json_integer(s->failed));
	json_object_set_new(o, "compared", json_integer(s->compared));
	json_object_set_new(o, "grade_changes", json_integer(s->grade_changes));
	json_object_set_new(o, "qc_changes", json_integer(s->qc_changes));
	json_object_set_new(o, "elements", el);
	json_object_set_new(o, "dry_run", json_boolean(c->dry_run));
	json_object_set_new(o, "interrupted", json_boolean(s->interrupted));
	if (c->shard_n > 0)
		json_object_set_new(o, "shard", json_pack("{s:i,s:i}", "k", c->shard_k, "n", c->shard_n));
	json_object_set_new(o, "jobs", json_integer(c->jobs));
	json_object_set_new(o, "settings_key", json_string(s->key_settings));
	json_object_set_new(o, "elapsed_s", cli_json_real(s->elapsed_s));
	json_object_set_new(o, "first_result_s", cli_json_real(s->first_result_s));
	return o;
}

static void summary_print(const mg_reprocess_summary *s, const mg_reprocess_config *c)
{
	printf("%s%lld selected: %lld %s, %lld up to date, %lld failed (%.1f s, %d job%s%s)\n",
	       c->dry_run ? "dry run: " : "", s->total, s->recomputed, c->dry_run ? "computed" : "new result versions",
	       s->up_to_date, s->failed, s->elapsed_s, c->jobs, c->jobs == 1 ? "" : "s",
	       s->interrupted ? "; interrupted: run the same command again to go on" : "");
	if (s->compared == 0) {
		printf("no earlier quantified result to compare with\n");
		return;
	}
	printf("compared with the previous version: %lld measurement%s; %lld grade change%s, %lld QC flag change%s\n",
	       s->compared, s->compared == 1 ? "" : "s", s->grade_changes, s->grade_changes == 1 ? "" : "s",
	       s->qc_changes, s->qc_changes == 1 ? "" : "s");
	printf("  %-3s %8s %12s %12s %12s %10s %12s\n", "el", "n", "mean d wt%", "mean |d|", "max |d|", "mean rel", "> 2 sigma");
	for (size_t i = 0; i < s->nelements; i++) {
		const mg_reprocess_element_change *e = &s->el[i];
		printf("  %-3s %8lld %12.4f %12.4f %12.4f %9.2f%% %12lld   (max at measurement %lld)\n", e->element, e->n,
		       e->mean_delta, e->mean_abs_delta, e->max_abs_delta, e->n_rel ? 100 * e->mean_rel_delta : 0.0,
		       e->n_significant, e->max_measurement);
	}
}

int cmd_reprocess(int argc, char **argv)
{
	enum { O_SINCE = 1000, O_ALL, O_SAMPLE, O_INSTR, O_GRADES, O_REFINE, O_SHARD, O_DRY, O_JSON, O_DATADIR, O_DB };
	static const struct option lopts[] = {
		{"batch", required_argument, NULL, 'b'},      {"sample", required_argument, NULL, O_SAMPLE},
		{"since", required_argument, NULL, O_SINCE},  {"all", no_argument, NULL, O_ALL},
		{"calib", required_argument, NULL, 'c'},      {"instrument", required_argument, NULL, O_INSTR},
		{"grades", required_argument, NULL, O_GRADES}, {"elements", required_argument, NULL, 'e'},
		{"refine", no_argument, NULL, O_REFINE},      {"jobs", required_argument, NULL, 'j'},
		{"shard", required_argument, NULL, O_SHARD},  {"dry-run", no_argument, NULL, O_DRY},
		{"json", no_argument, NULL, O_JSON},          {"quiet", no_argument, NULL, 'q'},
		{"data-dir", required_argument, NULL, O_DATADIR}, {"db", required_argument, NULL, O_DB},
		{"help", no_argument, NULL, 'h'},             {NULL, 0, NULL, 0},
	};
	mg_reprocess_config cfg;
	mg_reprocess_config_init(&cfg);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cfg.jobs = ncpu > 0 && ncpu <= 256 ? (int)ncpu : 1;
	out o = {0};
	int all = 0, nsel = 0, ncal = 0, c;
	while ((c = getopt_long(argc, argv, "b:c:e:j:qh", lopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			cfg.filter.batch_id = optarg;
			nsel++;
			break;
		case O_SAMPLE:
			cfg.filter.sample_id = optarg;
			nsel++;
			break;
		case O_SINCE:
			cfg.filter.since = optarg;
			nsel++;
			break;
		case O_ALL:
			all = 1;
			nsel++;
			break;
		case 'c':
			if (ncal == 2)
				return cli_usage("reprocess", "--calib at most twice: a quant record and an energy record");
			cfg.calib_ref[ncal++] = optarg;
			break;
		case O_INSTR:
			cfg.instrument_path = optarg;
			break;
		case O_GRADES:
			cfg.grades_path = optarg;
			break;
		case 'e':
			if (mg_analysis_elements_check(optarg) < 0)
				return cli_usage("reprocess", "--elements: %s", mg_error_detail());
			cfg.elements = optarg;
			break;
		case O_REFINE:
			cfg.refine = MG_REFINE_DEFAULT;
			break;
		case 'j': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (end == optarg || *end || n < 1 || n > 256)
				return cli_usage("reprocess", "--jobs wants 1..256, got '%s'", optarg);
			cfg.jobs = (int)n;
			break;
		}
		case O_SHARD:
			if (mg_reprocess_parse_shard(optarg, &cfg.shard_k, &cfg.shard_n) < 0)
				return cli_usage("reprocess", "%s", mg_error_detail());
			break;
		case O_DRY:
			cfg.dry_run = 1;
			break;
		case O_JSON:
			o.json = 1;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case O_DATADIR:
			cfg.data_dir = optarg;
			break;
		case O_DB:
			cfg.db_url = optarg;
			break;
		case 'h':
			help();
			return CLI_OK;
		default:
			return cli_usage("reprocess", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage("reprocess", "unexpected argument '%s'", argv[optind]);
	if (nsel == 0)
		return cli_usage("reprocess", "say what to reprocess: --batch ID, --sample ID, --since DATE or --all");
	if (all && nsel > 1)
		return cli_usage("reprocess", "--all excludes --batch, --sample and --since");
	if (cli_store_location(cfg.data_dir, cfg.db_url, &cfg.data_dir, &cfg.db_url) != MG_OK) {
		cli_error("reprocess: %s", mg_error_detail());
		return CLI_FAIL;
	}
	o.tty = isatty(STDERR_FILENO);
	if (o.json) {
		o.changes = json_array();
		o.failures = json_array();
	}
	cfg.on_progress = on_progress;
	cfg.on_change = on_change;
	cfg.on_failure = on_failure;
	cfg.userdata = &o;
	cfg.stop = &stop_flag;
	struct sigaction sa, old_int, old_term;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	mg_reprocess_summary sum;
	int rc = mg_reprocess_run(&cfg, &sum);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	clear_bar(&o);
	if (rc < 0 && !o.json)
		cli_error("reprocess: %s", mg_error_detail());
	if (o.json) {
		json_t *j = summary_json(&sum, &cfg);
		json_object_set_new(j, "changes", o.changes);
		json_object_set_new(j, "failures", o.failures);
		if (rc < 0)
			json_object_set_new(j, "error", json_pack("{s:s,s:s}", "code", mg_strerror_name(rc), "message",
			                                          mg_error_detail()));
		cli_json_print(j);
		json_decref(j);
	} else if (rc >= 0 || sum.total > 0) {
		summary_print(&sum, &cfg);
	}
	if (rc != 0)
		return CLI_FAIL;
	return sum.interrupted ? CLI_INTERRUPTED : CLI_OK;
}
