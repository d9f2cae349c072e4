/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay acquire --device URI --sample ID [--batch ID] [--operator NAME]
 *                  [--preset-time S | --preset-real S | --preset-counts N] [--replicates N]
 *                  [--profile FILE] [--set CMD=VAL]... [--description TEXT] [--data-dir D] [--json]
 *
 * Checkpoints left by killed runs are recovered first (as `magassay recover`).
 * Exit status: 0 every replicate complete, 1 failure, 2 usage error, 3 stopped
 * early on request (what was measured is saved, marked stopped_early). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "magassay/acq.h"
#include "magassay/error.h"
#include "magassay/store.h"

#define CLI_STOPPED 3          /* stopped early on request, measured spectra saved */
#define PLAIN_PROGRESS_S 10.0  /* a plain progress line at most this often (not a terminal) */

int cmd_acquire(int argc, char **argv);

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	if (stop_signal) {
		/* A second signal: give up at once (the last checkpoint stays for `magassay recover`). */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	stop_signal = sig;
}

static void help(void)
{
	printf("Usage: magassay acquire --device URI --sample ID [--batch ID] [--operator NAME]\n"
	       "                        [--preset-time S | --preset-real S | --preset-counts N]\n"
	       "                        [--replicates N] [--profile FILE] [--set CMD=VAL]...\n"
	       "                        [--description TEXT] [--data-dir DIR] [--json]\n"
	       "Measure a sample on an XRF instrument and store the spectrum: configure the instrument\n"
	       "(profile + overrides), clear, enable, follow the status, stop at the preset or on\n"
	       "Ctrl-C/SIGTERM, read the final spectrum and status, write it atomically as Amptek .mca\n"
	       "into the data directory's archive and register it with its SHA-256. The partial\n"
	       "spectrum is checkpointed during the measurement; checkpoints of killed runs are\n"
	       "recovered first (see 'magassay recover').\n\n"
	       "  --device URI        the instrument: usb:10c4:842a[?serial=N], usb:BUS.ADDR,\n"
	       "                      serial:/dev/ttyUSB0, sim:xrf?sample=ndfeb&speed=10 ...\n"
	       "                      (default: $MAGASSAY_DEVICE; see 'magassay devices')\n"
	       "  --sample ID         the sample (1-64 of A-Z a-z 0-9 . _ -)\n"
	       "  --batch ID          its batch (lot number); required for a new sample\n"
	       "  --operator NAME     who measures (recorded with the batch and the measurement)\n"
	       "  --preset-time S     stop after S seconds of live (accumulation) time (PRET)\n"
	       "  --preset-real S     stop after S seconds of real time (PRER)\n"
	       "  --preset-counts N   stop after N counts (PREC)\n"
	       "                      (one preset at most; default: the profile's, built-in 60 s live)\n"
	       "  --replicates N      measure N times in a row (default 1)\n"
	       "  --profile FILE      instrument profile (INI: [dp5], [acquisition], [tube],\n"
	       "                      [instrument]; see docs/acquisition.md; default: built-in)\n"
	       "  --set CMD=VAL       override a DP5 setting (--set TPEA=2.4) or a profile key\n"
	       "                      (--set acquisition.poll_ms=100); repeatable\n"
	       "  --description TEXT  the spectrum's description (default \"sample S batch B\")\n"
	       CLI_DB_HELP
	       "  --data-dir DIR      the data directory (default $MAGASSAY_DATA, then\n"
	       "                      $XDG_DATA_HOME/magassay, then ~/.local/share/magassay)\n"
	       "  --json              newline-delimited JSON events on stdout: recovered, started,\n"
	       "                      progress, checkpoint, resumed, saved, error, finished\n"
	       "  -h, --help          this help\n\n"
	       "On a terminal one line shows elapsed/preset, input and output count rates, dead time,\n"
	       "total counts and the time left; otherwise plain lines. A first Ctrl-C (or SIGTERM)\n"
	       "stops cleanly and saves the spectrum as stopped_early; a second one quits at once\n"
	       "(the last checkpoint stays for 'magassay recover').\n\n"
	       "Exit status: 0 every replicate complete and stored, 1 failure (also a lost instrument,\n"
	       "whose last good spectrum is saved as device_lost), 2 usage error, 3 stopped early on\n"
	       "request (what was measured is saved as stopped_early).\n");
}

/* ------------------------------------------------------------ output */

struct out {
	int json;
	int tty;            /* stdout is a terminal: one live line */
	int line_open;      /* a live line is on screen */
	int fatal_seen;     /* a fatal error event was reported */
	double last_plain;  /* monotonic time of the last plain progress line */
	char *data_dir;
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void utc_now(char *buf, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char tmp[24];
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, cap, "%s.%03ldZ", tmp, ts.tv_nsec / 1000000L);
}

static void end_line(struct out *o)
{
	if (o->line_open) {
		fputs("\r\033[K", stdout);
		o->line_open = 0;
	}
}

static void emit_json(json_t *ev)
{
	char now[40];
	utc_now(now, sizeof(now));
	json_object_set_new(ev, "time", json_string(now));
	char *s = json_dumps(ev, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(10) | JSON_PRESERVE_ORDER);
	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
		fflush(stdout);
		free(s);
	}
	json_decref(ev);
}

static const char *fmt_duration(char *buf, size_t cap, double s)
{
	if (!isfinite(s) || s < 0)
		return "?";
	long t = (long)s;
	if ((double)t < s)
		t++; /* round up */
	if (t >= 3600)
		snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
	else
		snprintf(buf, cap, "%ld:%02ld", t / 60, t % 60);
	return buf;
}

static const char *fmt_rate(char *buf, size_t cap, double cps)
{
	if (!isfinite(cps))
		return "-";
	if (cps >= 1e5)
		snprintf(buf, cap, "%.0fk", cps / 1e3);
	else if (cps >= 1e3)
		snprintf(buf, cap, "%.1fk", cps / 1e3);
	else
		snprintf(buf, cap, "%.0f", cps);
	return buf;
}

/* "live 12.3/60.0 s 21%" */
static void fmt_progress(char *buf, size_t cap, const mg_acq_progress *p, const mg_xrf_status *st)
{
	if (!strcmp(p->quantity, "counts"))
		snprintf(buf, cap, "counts %.0f/%.0f %3.0f%%", p->value, p->target, 100 * p->fraction);
	else if (!strcmp(p->quantity, "live_time"))
		snprintf(buf, cap, "live %.1f/%.1f s %3.0f%%", p->value, p->target, 100 * p->fraction);
	else if (!strcmp(p->quantity, "real_time"))
		snprintf(buf, cap, "real %.1f/%.1f s %3.0f%%", p->value, p->target, 100 * p->fraction);
	else
		snprintf(buf, cap, "real %.1f s (no preset)", st ? st->real_s : 0.0);
}

static void print_status_line(struct out *o, const mg_acq_event *ev, int live)
{
	const mg_xrf_status *st = ev->status;
	char prog[96], icr[16], ocr[16], left[24];
	if (!st)
		return;
	fmt_progress(prog, sizeof(prog), &ev->progress, st);
	char line[400];
	snprintf(line, sizeof(line), "%s %d/%d  %s  ICR %s/s  OCR %s/s  dead %.1f%%  %llu counts  %s left",
	         ev->sample_id, ev->replicate, ev->replicates, prog, fmt_rate(icr, sizeof(icr), st->input_rate_cps),
	         fmt_rate(ocr, sizeof(ocr), st->output_rate_cps), isfinite(st->dead_time_pct) ? st->dead_time_pct : 0.0,
	         (unsigned long long)st->slow_count, fmt_duration(left, sizeof(left), ev->progress.time_left_s));
	if (live) {
		fputs("\r\033[K", stdout);
		fputs(line, stdout);
		o->line_open = 1;
	} else {
		printf("%s\n", line);
	}
	fflush(stdout);
}

static json_t *jreal(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *event_json(const mg_acq_event *ev)
{
	json_t *o = json_object();
	json_object_set_new(o, "event", json_string(mg_acq_event_name(ev->type)));
	json_object_set_new(o, "sample", cli_json_str(ev->sample_id));
	json_object_set_new(o, "batch", cli_json_str(ev->batch_id));
	json_object_set_new(o, "replicate", json_integer(ev->replicate));
	json_object_set_new(o, "replicates", json_integer(ev->replicates));
	json_object_set_new(o, "uuid", cli_json_str(ev->uuid));
	json_object_set_new(o, "started_at", ev->started_at && *ev->started_at ? json_string(ev->started_at) : json_null());
	json_object_set_new(o, "elapsed_s", json_real(ev->wall_s));
	const mg_xrf_status *st = ev->status;
	if (st) {
		json_object_set_new(o, "live_time_s", json_real(st->accumulation_s));
		json_object_set_new(o, "real_time_s", json_real(st->real_s));
		json_object_set_new(o, "total_counts", json_integer((json_int_t)st->slow_count));
		json_object_set_new(o, "icr_cps", jreal(st->input_rate_cps));
		json_object_set_new(o, "ocr_cps", jreal(st->output_rate_cps));
		json_object_set_new(o, "dead_time_pct", jreal(st->dead_time_pct));
		json_object_set_new(o, "acquiring", json_boolean(st->acquiring));
	}
	json_object_set_new(o, "preset",
	                    json_pack("{s:o,s:o,s:o}", "live_time_s", jreal(ev->presets.live_s), "real_time_s",
	                              jreal(ev->presets.real_s), "counts", jreal(ev->presets.counts)));
	if (st)
		json_object_set_new(o, "progress",
		                    json_pack("{s:s,s:o,s:o,s:o,s:o}", "quantity", ev->progress.quantity, "value",
		                              jreal(ev->progress.value), "target", jreal(ev->progress.target), "fraction",
		                              jreal(ev->progress.fraction), "time_left_s",
		                              jreal(ev->progress.time_left_s)));
	switch (ev->type) {
	case MG_ACQ_EV_STARTED:
		if (ev->device)
			json_object_set_new(o, "instrument",
			                    json_pack("{s:o,s:o,s:o,s:o}", "uri", cli_json_str(ev->device->uri), "model",
			                              cli_json_str(ev->device->model), "serial",
			                              cli_json_str(ev->device->serial), "firmware",
			                              cli_json_str(ev->device->firmware)));
		break;
	case MG_ACQ_EV_CHECKPOINT:
	case MG_ACQ_EV_SAVED:
		json_object_set_new(o, "file", cli_json_str(ev->file));
		json_object_set_new(o, "live_time_s", jreal(ev->live_time_s));
		json_object_set_new(o, "real_time_s", jreal(ev->real_time_s));
		json_object_set_new(o, "total_counts", jreal(ev->total_counts));
		if (ev->type == MG_ACQ_EV_SAVED) {
			json_object_set_new(o, "status", cli_json_str(ev->result));
			json_object_set_new(o, "sha256", cli_json_str(ev->sha256));
			json_object_set_new(o, "measurement_id", json_integer(ev->measurement_id));
			json_object_set_new(o, "stored_replicate", json_integer(ev->stored_replicate));
		}
		break;
	case MG_ACQ_EV_ERROR:
		json_object_set_new(o, "code", json_string(mg_strerror_name(ev->error)));
		json_object_set_new(o, "message", cli_json_str(ev->message));
		json_object_set_new(o, "fatal", json_boolean(ev->fatal));
		break;
	case MG_ACQ_EV_RESUMED:
		json_object_set_new(o, "message", cli_json_str(ev->message));
		break;
	case MG_ACQ_EV_PROGRESS:
		break;
	}
	return o;
}

static int on_event(const mg_acq_event *ev, void *userdata)
{
	struct out *o = userdata;
	if (ev->type == MG_ACQ_EV_ERROR && ev->fatal)
		o->fatal_seen = 1;
	if (o->json) {
		emit_json(event_json(ev));
		return 0;
	}
	switch (ev->type) {
	case MG_ACQ_EV_STARTED:
		end_line(o);
		printf("%s %d/%d: started %s on %s %s (serial %s)\n", ev->sample_id, ev->replicate, ev->replicates,
		       ev->started_at, ev->device && ev->device->model ? ev->device->model : "?",
		       ev->device && ev->device->uri ? ev->device->uri : "",
		       ev->device && ev->device->serial ? ev->device->serial : "?");
		o->last_plain = mono();
		break;
	case MG_ACQ_EV_PROGRESS:
		if (o->tty)
			print_status_line(o, ev, 1);
		else if (mono() - o->last_plain >= PLAIN_PROGRESS_S) {
			print_status_line(o, ev, 0);
			o->last_plain = mono();
		}
		return 0;
	case MG_ACQ_EV_CHECKPOINT:
		return 0; /* quiet: the live line goes on */
	case MG_ACQ_EV_SAVED:
		end_line(o);
		printf("%s %d/%d: %s, %.1f s live, %.1f s real, %.0f counts -> measurement %lld (replicate %d)\n  %s\n",
		       ev->sample_id, ev->replicate, ev->replicates, ev->result, ev->live_time_s, ev->real_time_s,
		       ev->total_counts, ev->measurement_id, ev->stored_replicate, ev->file);
		break;
	case MG_ACQ_EV_ERROR:
		end_line(o);
		fflush(stdout);
		cli_error("acquire: %s%s", ev->fatal ? "" : "warning: ", ev->message);
		break;
	case MG_ACQ_EV_RESUMED:
		end_line(o);
		fflush(stdout);
		cli_error("acquire: %s", ev->message);
		break;
	}
	fflush(stdout);
	return 0;
}

/* ------------------------------------------------------------ recovery at start */

static void on_recovered(const mg_acq_recovery *r, void *userdata)
{
	struct out *o = userdata;
	if (o->json) {
		json_t *j = json_object();
		json_object_set_new(j, "event", json_string("recovered"));
		json_object_set_new(j, "action", json_string(mg_acq_recover_action_name(r->action)));
		json_object_set_new(j, "uuid", cli_json_str(r->uuid));
		json_object_set_new(j, "sample", cli_json_str(r->sample_id));
		json_object_set_new(j, "batch", cli_json_str(r->batch_id));
		json_object_set_new(j, "started_at", cli_json_str(r->started_at));
		json_object_set_new(j, "status", cli_json_str(r->result));
		json_object_set_new(j, "file", cli_json_str(r->file));
		json_object_set_new(j, "measurement_id", r->measurement_id ? json_integer(r->measurement_id) : json_null());
		json_object_set_new(j, "message", cli_json_str(r->message));
		emit_json(j);
		return;
	}
	if (r->action == MG_ACQ_RECOVER_BUSY)
		return;
	if (r->action == MG_ACQ_RECOVER_FAILED)
		cli_error("acquire: could not recover checkpoint %s: %s", r->uuid, r->message);
	else
		printf("recovered checkpoint %s (%s): %s\n", r->uuid, mg_acq_recover_action_name(r->action), r->message);
}

/* ------------------------------------------------------------ main */

static int parse_positive(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0)
		return -1;
	*out = v;
	return 0;
}

int cmd_acquire(int argc, char **argv)
{
	enum { O_DEVICE = 256, O_SAMPLE, O_BATCH, O_OPERATOR, O_PTIME, O_PREAL, O_PCOUNTS, O_REPL, O_PROFILE,
	       O_SET, O_DESC, O_DATA, O_JSON };
	static const struct option opts[] = {
		{"device", required_argument, NULL, O_DEVICE},        {"sample", required_argument, NULL, O_SAMPLE},
		{"batch", required_argument, NULL, O_BATCH},          {"operator", required_argument, NULL, O_OPERATOR},
		{"preset-time", required_argument, NULL, O_PTIME},    {"preset-real", required_argument, NULL, O_PREAL},
		{"preset-counts", required_argument, NULL, O_PCOUNTS},{"replicates", required_argument, NULL, O_REPL},
		{"profile", required_argument, NULL, O_PROFILE},      {"set", required_argument, NULL, O_SET},
		{"description", required_argument, NULL, O_DESC},     {"data-dir", required_argument, NULL, O_DATA}, {"db", required_argument, NULL, CLI_OPT_DB},
		{"json", no_argument, NULL, O_JSON},                  {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *device = getenv("MAGASSAY_DEVICE"), *sample = NULL, *batch = NULL, *op = NULL, *profile = NULL;
	const char *desc = NULL, *data_dir = NULL;
	const char **sets = calloc((size_t)argc + 1, sizeof(*sets));
	size_t nsets = 0;
	int json = 0, replicates = 1, npresets = 0, c;
	mg_acq_presets presets = mg_acq_presets_none();
	if (!sets) {
		cli_error("acquire: out of memory");
		return CLI_FAIL;
	}
	int rc = CLI_OK;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		double v;
		switch (c) {
		case O_DEVICE:
			device = optarg;
			break;
		case O_SAMPLE:
			sample = optarg;
			break;
		case O_BATCH:
			batch = optarg;
			break;
		case O_OPERATOR:
			op = optarg;
			break;
		case O_PTIME:
		case O_PREAL:
		case O_PCOUNTS:
			if (parse_positive(optarg, &v) < 0) {
				free(sets);
				return cli_usage("acquire", "--%s '%s': a positive number is expected",
				                 c == O_PTIME ? "preset-time" : c == O_PREAL ? "preset-real" : "preset-counts", optarg);
			}
			npresets++;
			if (c == O_PTIME)
				presets.live_s = v;
			else if (c == O_PREAL)
				presets.real_s = v;
			else
				presets.counts = v;
			break;
		case O_REPL: {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (end == optarg || *end || n < 1 || n > 1000) {
				free(sets);
				return cli_usage("acquire", "--replicates '%s': a whole number from 1 to 1000", optarg);
			}
			replicates = (int)n;
			break;
		}
		case O_PROFILE:
			profile = optarg;
			break;
		case O_SET:
			sets[nsets++] = optarg;
			break;
		case O_DESC:
			desc = optarg;
			break;
		case CLI_OPT_DB:
			cli_db_set(optarg);
			break;
		case O_DATA:
			data_dir = optarg;
			break;
		case O_JSON:
			json = 1;
			break;
		case 'h':
			free(sets);
			help();
			return CLI_OK;
		default:
			free(sets);
			return cli_usage("acquire", "unknown option");
		}
	}
	if (optind < argc) {
		free(sets);
		return cli_usage("acquire", "unexpected argument '%s'", argv[optind]);
	}
	if (!device || !*device) {
		free(sets);
		return cli_usage("acquire", "no instrument: give --device URI (or set MAGASSAY_DEVICE)");
	}
	if (!sample) {
		free(sets);
		return cli_usage("acquire", "no sample: give --sample ID");
	}
	if (npresets > 1) {
		free(sets);
		return cli_usage("acquire", "give one of --preset-time, --preset-real, --preset-counts");
	}
	if (mg_id_validate(sample) != MG_OK || (batch && mg_id_validate(batch) != MG_OK)) {
		free(sets);
		return cli_usage("acquire", "%s", mg_error_detail());
	}

	/* The profile: built-in, then the file, then --set, then the preset. */
	mg_acq_profile prof;
	if (mg_acq_profile_init(&prof) != MG_OK) {
		free(sets);
		cli_error("acquire: %s", mg_error_detail());
		return CLI_FAIL;
	}
	if (profile && mg_acq_profile_load(&prof, profile) != MG_OK) {
		cli_error("acquire: %s", mg_error_detail());
		rc = CLI_USAGE;
		goto out_prof;
	}
	for (size_t i = 0; i < nsets; i++)
		if (mg_acq_profile_set(&prof, sets[i]) != MG_OK) {
			rc = cli_usage("acquire", "%s", mg_error_detail());
			goto out_prof;
		}
	if (npresets && mg_acq_presets_apply(&presets, &prof) != MG_OK) {
		rc = cli_usage("acquire", "%s", mg_error_detail());
		goto out_prof;
	}

	struct out o = {.json = json, .tty = !json && isatty(STDOUT_FILENO)};
	mg_store *st = NULL;
	int src = cli_store_open_db(data_dir, MG_STORE_DEFAULT, &st);
	if (src != MG_OK) {
		if (json) {
			json_t *j = json_pack("{s:s,s:s,s:s,s:b}", "event", "error", "code", mg_strerror_name(src), "message",
			                      mg_error_detail(), "fatal", 1);
			emit_json(j);
		}
		cli_error("acquire: %s", mg_error_detail());
		rc = CLI_FAIL;
		goto out_prof;
	}

	/* What killed runs left behind, first. */
	mg_acq_recover_summary sum;
	if (mg_acq_recover(st, on_recovered, &o, &sum) < 0)
		cli_error("acquire: recovering checkpoints: %s", mg_error_detail());

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a sleep or a wait ends at once */
	struct sigaction old_int, old_term;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	mg_acq_request req = {
		.device_uri = device,
		.sample_id = sample,
		.batch_id = batch,
		.operator_name = op,
		.description = desc,
		.profile = &prof,
		.presets = NULL, /* applied to the profile above */
		.replicates = replicates,
		.on_event = on_event,
		.userdata = &o,
		.stop = &stop_signal,
	};
	mg_acq_result res;
	int arc = mg_acq_run(st, &req, &res);
	char detail[2000];
	snprintf(detail, sizeof(detail), "%s", mg_error_detail());
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	end_line(&o);

	const char *outcome;
	if (arc == MG_OK) {
		rc = CLI_OK;
		outcome = "complete";
	} else if (arc == MG_ERR_INTERRUPTED && res.kept_unregistered == 0) {
		rc = CLI_STOPPED;
		outcome = "stopped_early";
	} else {
		rc = CLI_FAIL;
		outcome = res.device_lost ? "device_lost" : "failed";
	}
	if (json) {
		json_t *j = json_object();
		json_object_set_new(j, "event", json_string("finished"));
		json_object_set_new(j, "sample", json_string(sample));
		json_object_set_new(j, "outcome", json_string(outcome));
		json_object_set_new(j, "exit_code", json_integer(rc));
		json_object_set_new(j, "requested", json_integer(res.requested));
		json_object_set_new(j, "saved", json_integer(res.saved));
		json_object_set_new(j, "complete", json_integer(res.complete));
		json_object_set_new(j, "stopped_early", json_integer(res.stopped_early));
		json_object_set_new(j, "device_lost", json_integer(res.device_lost));
		json_object_set_new(j, "incomplete", json_integer(res.incomplete));
		json_object_set_new(j, "kept_unregistered", json_integer(res.kept_unregistered));
		json_object_set_new(j, "code", arc == MG_OK ? json_null() : json_string(mg_strerror_name(arc)));
		json_object_set_new(j, "message", arc == MG_OK ? json_null() : json_string(detail));
		json_object_set_new(j, "data_dir", json_string(mg_store_data_dir(st)));
		emit_json(j);
	} else if (arc == MG_ERR_INTERRUPTED) {
		printf("stopped on request: %d of %d replicate(s) of %s saved (%d stopped early)\n", res.saved,
		       res.requested, sample, res.stopped_early);
	} else if (arc != MG_OK && !o.fatal_seen) {
		cli_error("acquire: %s", detail);
	}
	if (!json && arc == MG_OK)
		printf("%d spectrum(s) of %s stored in %s\n", res.saved, sample, mg_store_data_dir(st));
	mg_store_close(st);
out_prof:
	mg_acq_profile_clear(&prof);
	free(sets);
	return rc;
}
