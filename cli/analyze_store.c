/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "analyze_store.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "magassay/error.h"
#include "magassay/store.h"
#include "magassay/version.h"

static int add(cli_analyze_inputs *in, const char *path, long long mid)
{
	char **p = realloc(in->path, (in->n + 1) * sizeof *p);
	if (p)
		in->path = p;
	long long *m = realloc(in->measurement, (in->n + 1) * sizeof *m);
	if (m)
		in->measurement = m;
	if (!p || !m || !(in->path[in->n] = strdup(path))) {
		cli_error("out of memory");
		return CLI_FAIL;
	}
	in->measurement[in->n++] = mid;
	return CLI_OK;
}

static int add_measurement(cli_analyze_inputs *in, long long id)
{
	mg_measurement m;
	char *abs = NULL;
	memset(&m, 0, sizeof m);
	if (mg_store_measurement_get(in->store, id, &m) != MG_OK ||
	    mg_store_abspath(in->store, m.file, &abs) != MG_OK) {
		cli_error("analyze: %s", mg_error_detail());
		mg_measurement_clear(&m);
		return CLI_FAIL;
	}
	int rc = add(in, abs, id);
	free(abs);
	mg_measurement_clear(&m);
	return rc;
}

typedef struct collect {
	long long *ids;
	size_t n;
	int failed;
} collect;

static int collect_cb(const mg_measurement *m, void *ud)
{
	collect *c = ud;
	long long *p = realloc(c->ids, (c->n + 1) * sizeof *p);
	if (!p) {
		c->failed = 1;
		return 1;
	}
	c->ids = p;
	c->ids[c->n++] = m->id;
	return 0;
}

static int open_store(cli_analyze_inputs *in, const char *data_dir, int writable)
{
	if (in->store)
		return CLI_OK;
	int rc = writable ? cli_store_open_db(data_dir, MG_STORE_DEFAULT, &in->store)
	                  : cli_store_open_db(data_dir, MG_STORE_NOCREATE | MG_STORE_READONLY, &in->store);
	if (rc != MG_OK) {
		cli_error("analyze: %s", mg_error_detail());
		return CLI_FAIL;
	}
	return CLI_OK;
}

int cli_analyze_inputs_resolve(cli_analyze_inputs *in, const char *data_dir, int writable, int argc,
                               char **argv)
{
	memset(in, 0, sizeof *in);
	if (writable && open_store(in, data_dir, 1) != CLI_OK)
		return CLI_FAIL;
	for (int i = 0; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) == 0 && S_ISREG(st.st_mode)) {
			if (add(in, argv[i], 0) != CLI_OK)
				return CLI_FAIL;
			continue;
		}
		/* Not a file: a store id? If there is no store or no such id, keep it
		 * as a path so the read reports it like any missing file. */
		mg_found f;
		memset(&f, 0, sizeof f);
		if ((!in->store && cli_store_open_db(data_dir, MG_STORE_NOCREATE | MG_STORE_READONLY, &in->store) != MG_OK) ||
		    mg_store_find(in->store, argv[i], &f) != MG_OK) {
			mg_found_clear(&f);
			if (add(in, argv[i], 0) != CLI_OK)
				return CLI_FAIL;
			continue;
		}
		int rc = CLI_OK;
		if (f.kind == MG_FOUND_MEASUREMENT) {
			rc = add_measurement(in, f.measurement_id);
		} else {
			collect c = {0};
			mg_store_measurements_list(in->store, f.kind == MG_FOUND_BATCH ? f.id : NULL,
			                           f.kind == MG_FOUND_SAMPLE ? f.id : NULL, collect_cb, &c);
			if (c.failed)
				rc = CLI_FAIL;
			else if (c.n == 0)
				cli_error("analyze: %s has no measurements", argv[i]);
			for (size_t k = 0; rc == CLI_OK && k < c.n; k++)
				rc = add_measurement(in, c.ids[k]);
			if (c.n == 0)
				rc = CLI_FAIL;
			free(c.ids);
		}
		mg_found_clear(&f);
		if (rc != CLI_OK)
			return rc;
	}
	return CLI_OK;
}

void cli_analyze_inputs_free(cli_analyze_inputs *in)
{
	for (size_t i = 0; i < in->n; i++)
		free(in->path[i]);
	free(in->path);
	free(in->measurement);
	mg_store_close(in->store);
	memset(in, 0, sizeof *in);
}

int cli_analyze_save_result(cli_analyze_inputs *in, long long mid, json_t *payload, int *version)
{
	char *text = json_dumps(payload, JSON_COMPACT | JSON_REAL_PRECISION(17));
	if (!text) {
		cli_error("out of memory");
		return CLI_FAIL;
	}
	json_t *cal = json_object_get(payload, "calibration_id");
	long long cal_id = json_is_integer(cal) ? (long long)json_integer_value(cal) : 0;
	int rc = mg_store_result_add(in->store, mid, cal_id, "magassay " MAGASSAY_VERSION_STRING, text,
	                             version, NULL);
	free(text);
	if (rc != MG_OK) {
		cli_error("analyze: saving the result of measurement %lld: %s", mid, mg_error_detail());
		return CLI_FAIL;
	}
	return CLI_OK;
}
