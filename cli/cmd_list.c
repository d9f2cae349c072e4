/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay list batches|samples|measurements [--batch ID] [--sample ID] [--data-dir D] [--json]
 *
 * Also home of the helpers `show` shares (records as JSON, plain tables). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "magassay/error.h"
#include "magassay/store.h"

/* Shared with cmd_show.c (to move into cli.h). */
int cmd_list(int argc, char **argv);
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

/* ---- shared helpers ------------------------------------------------------- */

json_t *cli_batch_json(const mg_batch *b)
{
	return json_pack("{s:s,s:o,s:o,s:o,s:o,s:I,s:I}", "id", b->id, "created_at", cli_json_str(b->created_at),
	                 "operator", cli_json_str(b->operator_name), "notes", cli_json_str(b->notes), "status",
	                 cli_json_str(b->status), "samples", (json_int_t)b->n_samples, "measurements",
	                 (json_int_t)b->n_measurements);
}

json_t *cli_sample_json(const mg_sample *s)
{
	return json_pack("{s:s,s:o,s:o,s:o,s:I}", "id", s->id, "batch", cli_json_str(s->batch_id), "created_at",
	                 cli_json_str(s->created_at), "description", cli_json_str(s->description), "measurements",
	                 (json_int_t)s->n_measurements);
}

/* A JSON text stored by the library, as a JSON value (the text itself if it does not parse). */
static json_t *embedded_json(const char *text)
{
	if (!text)
		return json_null();
	json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
	return v ? v : json_string(text);
}

json_t *cli_measurement_json(const mg_measurement *m)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(m->id));
	json_object_set_new(o, "uuid", cli_json_str(m->uuid));
	json_object_set_new(o, "batch", cli_json_str(m->batch_id));
	json_object_set_new(o, "sample", cli_json_str(m->sample_id));
	json_object_set_new(o, "kind", cli_json_str(m->kind));
	json_object_set_new(o, "replicate", json_integer(m->replicate));
	json_object_set_new(o, "status", cli_json_str(m->status));
	json_object_set_new(o, "file", cli_json_str(m->file));
	json_object_set_new(o, "sha256", cli_json_str(m->sha256));
	json_object_set_new(o, "size", json_integer(m->size));
	json_object_set_new(o, "instrument",
	                    json_pack("{s:o,s:o,s:o}", "model", cli_json_str(m->instrument_model), "serial",
	                              cli_json_str(m->instrument_serial), "firmware",
	                              cli_json_str(m->instrument_firmware)));
	json_object_set_new(o, "settings", embedded_json(m->settings_json));
	json_object_set_new(o, "started_at", cli_json_str(m->started_at));
	json_object_set_new(o, "ended_at", cli_json_str(m->ended_at));
	json_object_set_new(o, "live_time_s", cli_json_real(m->live_time_s));
	json_object_set_new(o, "real_time_s", cli_json_real(m->real_time_s));
	json_object_set_new(o, "total_counts", cli_json_real(m->total_counts));
	json_object_set_new(o, "operator", cli_json_str(m->operator_name));
	json_object_set_new(o, "notes", cli_json_str(m->notes));
	json_object_set_new(o, "created_at", cli_json_str(m->created_at));
	json_object_set_new(o, "results", json_integer(m->n_results));
	return o;
}

/* Text for a terminal: control bytes become '?', so stored text cannot drive the terminal. */
const char *cli_safe(char *buf, size_t cap, const char *s)
{
	size_t o = 0;
	if (!s || !*s)
		return "-";
	for (; *s && o + 1 < cap; s++)
		buf[o++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
	buf[o] = '\0';
	return buf;
}

const char *cli_num(char *buf, size_t cap, double v, const char *fmt)
{
	if (v != v) /* NAN: unknown */
		return "-";
	snprintf(buf, cap, fmt, v);
	return buf;
}

void cli_field(FILE *f, const char *name, const char *value)
{
	char buf[1024];
	fprintf(f, "  %-14s %s\n", name, cli_safe(buf, sizeof(buf), value));
}

struct cli_table {
	size_t ncols, nrows, cap;
	char **cells; /* nrows * ncols, row 0 the headers */
};

/* Display width of UTF-8 text: one column per character. */
static size_t text_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

cli_table *cli_table_new(size_t ncols, const char *const *headers)
{
	cli_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ncols = ncols;
	cli_table_add(t, headers);
	return t;
}

void cli_table_add(cli_table *t, const char *const *cells)
{
	if (!t)
		return;
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cells, cap * t->ncols * sizeof(*c));
		if (!c)
			return;
		t->cells = c;
		t->cap = cap;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		char buf[256];
		const char *v = cli_safe(buf, sizeof(buf), cells[i]);
		/* Long free text is cut so the table stays readable; --json has it whole. */
		char cut[64];
		if (text_width(v) > 40) {
			size_t b = 0, w = 0;
			while (v[b] && w < 37) {
				b++;
				while (((unsigned char)v[b] & 0xc0) == 0x80)
					b++;
				w++;
			}
			snprintf(cut, sizeof(cut), "%.*s...", (int)b, v);
			v = cut;
		}
		t->cells[t->nrows * t->ncols + i] = strdup(v);
	}
	t->nrows++;
}

void cli_table_print(FILE *f, cli_table *t)
{
	if (!t)
		return;
	size_t *w = calloc(t->ncols, sizeof(*w));
	if (!w)
		return;
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			const char *v = t->cells[r * t->ncols + c];
			size_t n = v ? text_width(v) : 0;
			if (n > w[c])
				w[c] = n;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *v = t->cells[r * t->ncols + c];
			if (!v)
				v = "?";
			if (c + 1 == t->ncols)
				fprintf(f, "%s\n", v);
			else
				fprintf(f, "%s%*s", v, (int)(w[c] - text_width(v) + 2), "");
		}
	}
	free(w);
}

void cli_table_free(cli_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

int cli_store_open(const char *cmd, const char *data_dir, mg_store **st)
{
	int rc = cli_store_open_db(data_dir, MG_STORE_READONLY, st);
	if (rc != MG_OK) {
		cli_error("%s: %s", cmd, mg_error_detail());
		return CLI_FAIL;
	}
	return CLI_OK;
}

/* ---- list ----------------------------------------------------------------- */

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static void help(void)
{
	printf("Usage: magassay list batches|samples|measurements [--batch ID] [--sample ID]\n"
	       "                     [--data-dir DIR] [--json]\n"
	       "List what the store holds: batches (lots) with their sample and measurement counts,\n"
	       "samples, or measurements (oldest first).\n\n"
	       "  --batch ID      only this batch's samples or measurements\n"
	       "  --sample ID     only this sample's measurements\n"
	       CLI_DB_HELP
	       "  --data-dir DIR  the data directory (default: $MAGASSAY_DATA, else\n"
	       "                  $XDG_DATA_HOME/magassay, else ~/.local/share/magassay)\n"
	       "  --json          a JSON array of objects, one per record\n"
	       "  -h, --help      this help\n\n"
	       "Exit status: 0 listed (possibly nothing), 1 failure (no store, unknown batch or\n"
	       "sample), 2 usage error.\n");
}

typedef struct list_ctx {
	json_t *arr;
	cli_table *table;
} list_ctx;

static int on_batch(const mg_batch *b, void *ud)
{
	list_ctx *c = ud;
	if (c->arr) {
		json_array_append_new(c->arr, cli_batch_json(b));
		return 0;
	}
	char ns[32], nm[32];
	snprintf(ns, sizeof(ns), "%lld", b->n_samples);
	snprintf(nm, sizeof(nm), "%lld", b->n_measurements);
	const char *row[] = {b->id, b->created_at, b->status, ns, nm, b->operator_name, b->notes};
	cli_table_add(c->table, row);
	return 0;
}

static int on_sample(const mg_sample *s, void *ud)
{
	list_ctx *c = ud;
	if (c->arr) {
		json_array_append_new(c->arr, cli_sample_json(s));
		return 0;
	}
	char nm[32];
	snprintf(nm, sizeof(nm), "%lld", s->n_measurements);
	const char *row[] = {s->id, s->batch_id, s->created_at, nm, s->description};
	cli_table_add(c->table, row);
	return 0;
}

static int on_measurement(const mg_measurement *m, void *ud)
{
	list_ctx *c = ud;
	if (c->arr) {
		json_array_append_new(c->arr, cli_measurement_json(m));
		return 0;
	}
	char id[32], uuid[16], rep[16], live[32], counts[32], nres[16];
	snprintf(id, sizeof(id), "%lld", m->id);
	snprintf(uuid, sizeof(uuid), "%.8s", m->uuid ? m->uuid : "");
	snprintf(rep, sizeof(rep), "%d", m->replicate);
	snprintf(nres, sizeof(nres), "%lld", m->n_results);
	const char *row[] = {id, uuid, m->batch_id, m->sample_id, m->kind, rep, m->status,
	                     cli_num(live, sizeof(live), m->live_time_s, "%.1f"),
	                     cli_num(counts, sizeof(counts), m->total_counts, "%.0f"), m->started_at, nres};
	cli_table_add(c->table, row);
	return 0;
}

int cmd_list(int argc, char **argv)
{
	enum { OPT_DATA = 256, OPT_BATCH, OPT_SAMPLE };
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
		{"data-dir", required_argument, NULL, OPT_DATA}, {"db", required_argument, NULL, CLI_OPT_DB}, {"batch", required_argument, NULL, OPT_BATCH},
		{"sample", required_argument, NULL, OPT_SAMPLE}, {NULL, 0, NULL, 0}};
	const char *data_dir = NULL, *batch = NULL, *sample = NULL;
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
		case OPT_BATCH:
			batch = optarg;
			break;
		case OPT_SAMPLE:
			sample = optarg;
			break;
		default:
			return cli_usage("list", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage("list", "say what to list: batches, samples or measurements");
	if (optind + 1 < argc)
		return cli_usage("list", "one thing to list, not '%s' too", argv[optind + 1]);
	const char *what = argv[optind];
	int kind = strcmp(what, "batches") == 0 ? 1 : strcmp(what, "samples") == 0 ? 2
	         : strcmp(what, "measurements") == 0 ? 3 : 0;
	if (!kind)
		return cli_usage("list", "'%s': list batches, samples or measurements", what);
	if (kind != 3 && sample)
		return cli_usage("list", "--sample applies to 'list measurements'");
	if (batch && mg_id_validate(batch) != MG_OK)
		return cli_usage("list", "--batch: %s", mg_error_detail());
	if (sample && mg_id_validate(sample) != MG_OK)
		return cli_usage("list", "--sample: %s", mg_error_detail());

	mg_store *st = NULL;
	if (cli_store_open("list", data_dir, &st) != CLI_OK)
		return CLI_FAIL;
	/* A filter naming nothing is an error, not an empty list (a typo would look like "no data"). */
	mg_batch the_batch = {0};
	if (batch) {
		int rc = mg_store_batch_get(st, batch, &the_batch);
		if (rc != MG_OK) {
			cli_error("list: %s", mg_error_detail());
			mg_store_close(st);
			return CLI_FAIL;
		}
	}
	if (sample) {
		mg_sample s;
		int rc = mg_store_sample_get(st, sample, &s);
		mg_sample_clear(&s);
		if (rc != MG_OK) {
			cli_error("list: %s", mg_error_detail());
			mg_store_close(st);
			return CLI_FAIL;
		}
	}

	static const char *const h_batches[] = {"BATCH", "CREATED", "STATUS", "SAMPLES", "MEASUREMENTS", "OPERATOR",
	                                        "NOTES"};
	static const char *const h_samples[] = {"SAMPLE", "BATCH", "CREATED", "MEASUREMENTS", "DESCRIPTION"};
	static const char *const h_meas[] = {"ID",     "UUID",   "BATCH",   "SAMPLE",  "KIND",   "REP",
	                                     "STATUS", "LIVE_S", "COUNTS",  "STARTED", "RESULTS"};
	list_ctx ctx = {0};
	if (json)
		ctx.arr = json_array();
	else if (kind == 1)
		ctx.table = cli_table_new(NCOLS(h_batches), h_batches);
	else if (kind == 2)
		ctx.table = cli_table_new(NCOLS(h_samples), h_samples);
	else
		ctx.table = cli_table_new(NCOLS(h_meas), h_meas);

	int n;
	if (kind == 1)
		n = batch ? (on_batch(&the_batch, &ctx), 1) : mg_store_batches_list(st, on_batch, &ctx);
	else if (kind == 2)
		n = mg_store_samples_list(st, batch, on_sample, &ctx);
	else
		n = mg_store_measurements_list(st, batch, sample, on_measurement, &ctx);
	int status = CLI_OK;
	if (n < 0) {
		cli_error("list: %s", mg_error_detail());
		status = CLI_FAIL;
	} else if (json) {
		status = cli_json_print(ctx.arr);
	} else {
		cli_table_print(stdout, ctx.table);
		if (n == 0 && isatty(STDOUT_FILENO))
			printf("(none in %s)\n", mg_store_data_dir(st));
	}
	json_decref(ctx.arr);
	cli_table_free(ctx.table);
	mg_batch_clear(&the_batch);
	mg_store_close(st);
	return status;
}
