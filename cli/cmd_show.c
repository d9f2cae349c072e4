/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay show ID [--data-dir D] [--json]: a batch with its samples, a sample
 * with its measurements, or a measurement with its file check and results. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "magassay/error.h"
#include "magassay/store.h"

/* Defined in cmd_list.c (to move into cli.h). */
int cmd_show(int argc, char **argv);
json_t *cli_batch_json(const mg_batch *b);
json_t *cli_sample_json(const mg_sample *s);
json_t *cli_measurement_json(const mg_measurement *m);
typedef struct cli_table cli_table;
cli_table *cli_table_new(size_t ncols, const char *const *headers);
void cli_table_add(cli_table *t, const char *const *cells);
void cli_table_print(FILE *f, cli_table *t);
void cli_table_free(cli_table *t);
void cli_field(FILE *f, const char *name, const char *value);
const char *cli_safe(char *buf, size_t cap, const char *s);
const char *cli_num(char *buf, size_t cap, double v, const char *fmt);
int cli_store_open(const char *cmd, const char *data_dir, mg_store **st);

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static void help(void)
{
	printf("Usage: magassay show ID [--data-dir DIR] [--json]\n"
	       "Show one record of the store. ID is a batch id, a sample id, a measurement's\n"
	       "numeric id, its UUID or the first 8 or more characters of its UUID; prefix it with\n"
	       "batch:, sample: or measurement: when the same text names several records.\n\n"
	       "  batch        its fields and its samples with their measurement counts\n"
	       "  sample       its fields and its measurements\n"
	       "  measurement  its fields, its spectrum file with a fresh SHA-256 check against the\n"
	       "               registered hash, and every version of its results\n\n"
	       CLI_DB_HELP
	       "  --data-dir DIR  the data directory (default: $MAGASSAY_DATA, else\n"
	       "                  $XDG_DATA_HOME/magassay, else ~/.local/share/magassay)\n"
	       "  --json          one JSON object, with \"type\": \"batch\", \"sample\" or \"measurement\"\n"
	       "  -h, --help      this help\n\n"
	       "Exit status: 0 shown (a file that fails its check is reported, not an error),\n"
	       "1 unknown or ambiguous ID or no store, 2 usage error.\n");
}

/* ---- batch ----------------------------------------------------------------- */

typedef struct show_ctx {
	mg_store *st;
	json_t *arr;
	cli_table *table;
} show_ctx;

static int on_sample(const mg_sample *s, void *ud)
{
	show_ctx *c = ud;
	if (c->arr) {
		json_array_append_new(c->arr, cli_sample_json(s));
		return 0;
	}
	char nm[32];
	snprintf(nm, sizeof(nm), "%lld", s->n_measurements);
	const char *row[] = {s->id, s->created_at, nm, s->description};
	cli_table_add(c->table, row);
	return 0;
}

static int show_batch(mg_store *st, const char *id, int json)
{
	mg_batch b;
	if (mg_store_batch_get(st, id, &b) != MG_OK) {
		cli_error("show: %s", mg_error_detail());
		return CLI_FAIL;
	}
	static const char *const head[] = {"SAMPLE", "CREATED", "MEASUREMENTS", "DESCRIPTION"};
	show_ctx c = {st, NULL, NULL};
	json_t *o = NULL;
	if (json) {
		o = cli_batch_json(&b);
		json_object_set_new(o, "type", json_string("batch"));
		c.arr = json_array();
	} else {
		char n[32];
		printf("batch %s\n", b.id);
		cli_field(stdout, "created", b.created_at);
		cli_field(stdout, "status", b.status);
		cli_field(stdout, "operator", b.operator_name);
		cli_field(stdout, "notes", b.notes);
		snprintf(n, sizeof(n), "%lld", b.n_samples);
		cli_field(stdout, "samples", n);
		snprintf(n, sizeof(n), "%lld", b.n_measurements);
		cli_field(stdout, "measurements", n);
		c.table = cli_table_new(NCOLS(head), head);
	}
	int n = mg_store_samples_list(st, b.id, on_sample, &c), status = CLI_OK;
	if (n < 0) {
		cli_error("show: %s", mg_error_detail());
		status = CLI_FAIL;
	} else if (json) {
		json_object_set_new(o, "sample_list", c.arr);
		c.arr = NULL;
		status = cli_json_print(o);
	} else if (n > 0) {
		printf("\n");
		cli_table_print(stdout, c.table);
	}
	json_decref(o);
	json_decref(c.arr);
	cli_table_free(c.table);
	mg_batch_clear(&b);
	return status;
}

/* ---- sample ---------------------------------------------------------------- */

static int on_measurement(const mg_measurement *m, void *ud)
{
	show_ctx *c = ud;
	if (c->arr) {
		json_array_append_new(c->arr, cli_measurement_json(m));
		return 0;
	}
	char id[32], rep[16], live[32], counts[32], nres[16];
	snprintf(id, sizeof(id), "%lld", m->id);
	snprintf(rep, sizeof(rep), "%d", m->replicate);
	snprintf(nres, sizeof(nres), "%lld", m->n_results);
	const char *row[] = {id, m->uuid, m->kind, rep, m->status,
	                     cli_num(live, sizeof(live), m->live_time_s, "%.1f"),
	                     cli_num(counts, sizeof(counts), m->total_counts, "%.0f"), m->started_at, nres};
	cli_table_add(c->table, row);
	return 0;
}

static int show_sample(mg_store *st, const char *id, int json)
{
	mg_sample s;
	if (mg_store_sample_get(st, id, &s) != MG_OK) {
		cli_error("show: %s", mg_error_detail());
		return CLI_FAIL;
	}
	static const char *const head[] = {"ID", "UUID", "KIND", "REP", "STATUS", "LIVE_S", "COUNTS", "STARTED",
	                                   "RESULTS"};
	show_ctx c = {st, NULL, NULL};
	json_t *o = NULL;
	if (json) {
		o = cli_sample_json(&s);
		json_object_set_new(o, "type", json_string("sample"));
		c.arr = json_array();
	} else {
		char n[32];
		printf("sample %s\n", s.id);
		cli_field(stdout, "batch", s.batch_id);
		cli_field(stdout, "created", s.created_at);
		cli_field(stdout, "description", s.description);
		snprintf(n, sizeof(n), "%lld", s.n_measurements);
		cli_field(stdout, "measurements", n);
		c.table = cli_table_new(NCOLS(head), head);
	}
	int n = mg_store_measurements_list(st, NULL, s.id, on_measurement, &c), status = CLI_OK;
	if (n < 0) {
		cli_error("show: %s", mg_error_detail());
		status = CLI_FAIL;
	} else if (json) {
		json_object_set_new(o, "measurement_list", c.arr);
		c.arr = NULL;
		status = cli_json_print(o);
	} else if (n > 0) {
		printf("\n");
		cli_table_print(stdout, c.table);
	}
	json_decref(o);
	json_decref(c.arr);
	cli_table_free(c.table);
	mg_sample_clear(&s);
	return status;
}

/* ---- measurement ------------------------------------------------------------ */

static int on_result(const mg_result *r, void *ud)
{
	show_ctx *c = ud;
	mg_calibration cal = {0};
	int have_cal = r->calibration_id > 0 && mg_store_calibration_get(c->st, r->calibration_id, &cal) == MG_OK;
	if (c->arr) {
		json_t *calj = json_null();
		if (have_cal)
			calj = json_pack("{s:I,s:s,s:s,s:i}", "id", (json_int_t)cal.id, "kind", cal.kind, "name", cal.name,
			                 "version", cal.version);
		else if (r->calibration_id > 0)
			calj = json_pack("{s:I}", "id", (json_int_t)r->calibration_id);
		json_t *payload = r->payload_json ? json_loads(r->payload_json, JSON_DECODE_ANY, NULL) : NULL;
		json_array_append_new(c->arr,
		                      json_pack("{s:i,s:I,s:o,s:o,s:o,s:o}", "version", r->version, "id", (json_int_t)r->id,
		                                "created_at", cli_json_str(r->created_at), "calibration", calj,
		                                "software_version", cli_json_str(r->software_version), "payload",
		                                payload ? payload : json_null()));
	} else {
		char v[16], calt[160];
		snprintf(v, sizeof(v), "%d", r->version);
		if (have_cal)
			snprintf(calt, sizeof(calt), "%s/%s v%d (#%lld)", cal.kind, cal.name, cal.version, cal.id);
		else if (r->calibration_id > 0)
			snprintf(calt, sizeof(calt), "#%lld", r->calibration_id);
		else
			snprintf(calt, sizeof(calt), "-");
		const char *row[] = {v, r->created_at, calt, r->software_version};
		cli_table_add(c->table, row);
	}
	mg_calibration_clear(&cal);
	return 0;
}

static int show_measurement(mg_store *st, long long id, int json)
{
	mg_measurement m;
	if (mg_store_measurement_get(st, id, &m) != MG_OK) {
		cli_error("show: %s", mg_error_detail());
		return CLI_FAIL;
	}
	char *path = NULL, got[MG_SHA256_HEX_SIZE] = "";
	(void)mg_store_abspath(st, m.file, &path);
	int vrc = mg_store_measurement_verify(st, &m, got);
	const char *check = vrc == MG_OK ? "ok" : vrc == MG_ERR_CHECKSUM ? "mismatch" : "missing";
	char check_msg[1024];
	snprintf(check_msg, sizeof(check_msg), "%s", vrc == MG_OK ? "" : mg_error_detail());

	static const char *const head[] = {"VERSION", "CREATED", "CALIBRATION", "SOFTWARE"};
	show_ctx c = {st, NULL, NULL};
	json_t *o = NULL;
	if (json) {
		o = cli_measurement_json(&m);
		json_object_set_new(o, "type", json_string("measurement"));
		json_object_set_new(o, "path", cli_json_str(path));
		json_object_set_new(o, "file_check",
		                    json_pack("{s:s,s:o,s:o}", "status", check, "sha256", got[0] ? json_string(got) : json_null(),
		                              "message", vrc == MG_OK ? json_null() : json_string(check_msg)));
		c.arr = json_array();
	} else {
		char buf[1100], b2[64];
		printf("measurement %lld\n", m.id);
		cli_field(stdout, "uuid", m.uuid);
		cli_field(stdout, "batch", m.batch_id);
		cli_field(stdout, "sample", m.sample_id);
		cli_field(stdout, "kind", m.kind);
		snprintf(buf, sizeof(buf), "%d", m.replicate);
		cli_field(stdout, "replicate", buf);
		cli_field(stdout, "status", m.status);
		cli_field(stdout, "started", m.started_at);
		cli_field(stdout, "ended", m.ended_at);
		snprintf(buf, sizeof(buf), "%s s", cli_num(b2, sizeof(b2), m.live_time_s, "%g"));
		cli_field(stdout, "live time", m.live_time_s == m.live_time_s ? buf : NULL);
		snprintf(buf, sizeof(buf), "%s s", cli_num(b2, sizeof(b2), m.real_time_s, "%g"));
		cli_field(stdout, "real time", m.real_time_s == m.real_time_s ? buf : NULL);
		cli_field(stdout, "total counts", cli_num(b2, sizeof(b2), m.total_counts, "%.0f"));
		cli_field(stdout, "instrument", m.instrument_model);
		cli_field(stdout, "serial", m.instrument_serial);
		cli_field(stdout, "firmware", m.instrument_firmware);
		cli_field(stdout, "operator", m.operator_name);
		cli_field(stdout, "notes", m.notes);
		cli_field(stdout, "registered", m.created_at);
		cli_field(stdout, "file", path ? path : m.file);
		snprintf(buf, sizeof(buf), "%lld bytes", m.size);
		cli_field(stdout, "size", buf);
		cli_field(stdout, "sha256", m.sha256);
		if (vrc == MG_OK)
			cli_field(stdout, "file check", "ok (SHA-256 matches)");
		else {
			snprintf(buf, sizeof(buf), "%s: %s", vrc == MG_ERR_CHECKSUM ? "MISMATCH" : "MISSING", check_msg);
			cli_field(stdout, "file check", buf);
		}
		cli_field(stdout, "settings", m.settings_json);
		snprintf(buf, sizeof(buf), "%lld version(s)", m.n_results);
		cli_field(stdout, "results", buf);
		c.table = cli_table_new(NCOLS(head), head);
	}
	int n = mg_store_results_list(st, m.id, on_result, &c), status = CLI_OK;
	if (n < 0) {
		cli_error("show: %s", mg_error_detail());
		status = CLI_FAIL;
	} else if (json) {
		json_object_set_new(o, "result_versions", c.arr);
		c.arr = NULL;
		status = cli_json_print(o);
	} else if (n > 0) {
		printf("\n");
		cli_table_print(stdout, c.table);
	}
	json_decref(o);
	json_decref(c.arr);
	cli_table_free(c.table);
	free(path);
	mg_measurement_clear(&m);
	return status;
}

int cmd_show(int argc, char **argv)
{
	enum { OPT_DATA = 256 };
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {"data-dir", required_argument, NULL, OPT_DATA}, {"db", required_argument, NULL, CLI_OPT_DB},
	                                     {NULL, 0, NULL, 0}};
	const char *data_dir = NULL;
	int json = 0, c;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'h':
			help();
			return CLI_OK;
		case CLI_OPT_DB:
			cli_db_set(optarg);
			break;
		case OPT_DATA:
			data_dir = optarg;
			break;
		default:
			return cli_usage("show", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage("show", "no ID given");
	if (optind + 1 < argc)
		return cli_usage("show", "one ID at a time ('%s' too)", argv[optind + 1]);
	const char *query = argv[optind];

	mg_store *st = NULL;
	if (cli_store_open("show", data_dir, &st) != CLI_OK)
		return CLI_FAIL;
	mg_found f;
	int status;
	if (mg_store_find(st, query, &f) != MG_OK) {
		cli_error("show: %s", mg_error_detail());
		status = CLI_FAIL;
	} else if (f.kind == MG_FOUND_BATCH) {
		status = show_batch(st, f.id, json);
	} else if (f.kind == MG_FOUND_SAMPLE) {
		status = show_sample(st, f.id, json);
	} else {
		status = show_measurement(st, f.measurement_id, json);
	}
	mg_found_clear(&f);
	mg_store_close(st);
	return status;
}
