/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay recover [--data-dir D] [--json]: register what killed acquisitions left. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "magassay/acq.h"
#include "magassay/error.h"
#include "magassay/store.h"

int cmd_recover(int argc, char **argv);

static void help(void)
{
	printf("Usage: magassay recover [--data-dir DIR] [--json]\n"
	       "Find the checkpoints that interrupted acquisitions left in the data directory (a run\n"
	       "killed with SIGKILL, a power cut, a spectrum that could not be written to the archive)\n"
	       "and register each as a measurement with status 'incomplete' (or the final status its\n"
	       "spectrum file records, when the whole spectrum had been written), moved to its place\n"
	       "in the archive. Checkpoints of acquisitions still running are left alone. Running it\n"
	       "again finds nothing: it is safe to run at any time ('magassay acquire' runs it first).\n\n"
	       CLI_DB_HELP
	       "  --data-dir DIR  the data directory (default $MAGASSAY_DATA, then\n"
	       "                  $XDG_DATA_HOME/magassay, then ~/.local/share/magassay)\n"
	       "  --json          one JSON object: {data_dir, registered, cleaned, empty, busy, failed,\n"
	       "                  items: [{action, uuid, sample, batch, started_at, status, file,\n"
	       "                  measurement_id, live_time_s, real_time_s, total_counts, message}]}\n"
	       "  -h, --help      this help\n\n"
	       "Actions: registered (moved into the archive and registered), cleaned (registered\n"
	       "already: leftovers removed), empty (the run ended before any spectrum was written),\n"
	       "busy (an acquisition is running), failed (left in place; the message says why).\n"
	       "Exit status: 0 nothing failed (also when there was nothing to do), 1 a checkpoint\n"
	       "could not be recovered or the data directory cannot be used, 2 usage error.\n");
}

struct ctx {
	int json;
	json_t *items;
};

static json_t *jreal(double v)
{
	return cli_json_real(v);
}

static void on_item(const mg_acq_recovery *r, void *userdata)
{
	struct ctx *c = userdata;
	if (c->json) {
		json_t *j = json_object();
		json_object_set_new(j, "action", json_string(mg_acq_recover_action_name(r->action)));
		json_object_set_new(j, "uuid", cli_json_str(r->uuid));
		json_object_set_new(j, "sample", cli_json_str(r->sample_id));
		json_object_set_new(j, "batch", cli_json_str(r->batch_id));
		json_object_set_new(j, "operator", cli_json_str(r->operator_name));
		json_object_set_new(j, "started_at", cli_json_str(r->started_at));
		json_object_set_new(j, "status", cli_json_str(r->result));
		json_object_set_new(j, "file", cli_json_str(r->file));
		json_object_set_new(j, "measurement_id", r->measurement_id ? json_integer(r->measurement_id) : json_null());
		json_object_set_new(j, "live_time_s", jreal(r->live_time_s));
		json_object_set_new(j, "real_time_s", jreal(r->real_time_s));
		json_object_set_new(j, "total_counts", jreal(r->total_counts));
		json_object_set_new(j, "code", r->error ? json_string(mg_strerror_name(r->error)) : json_null());
		json_object_set_new(j, "message", cli_json_str(r->message));
		json_array_append_new(c->items, j);
		return;
	}
	if (r->action == MG_ACQ_RECOVER_FAILED)
		cli_error("recover: %s: %s", r->uuid, r->message);
	else
		printf("%-10s %s  %s\n", mg_acq_recover_action_name(r->action), r->uuid, r->message);
}

int cmd_recover(int argc, char **argv)
{
	static const struct option opts[] = {{"data-dir", required_argument, NULL, 'd'}, {"db", required_argument, NULL, CLI_OPT_DB},
	                                     {"json", no_argument, NULL, 'j'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *data_dir = NULL;
	int json = 0, c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case CLI_OPT_DB:
			cli_db_set(optarg);
			break;
		case 'd':
			data_dir = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			help();
			return CLI_OK;
		default:
			return cli_usage("recover", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage("recover", "unexpected argument '%s'", argv[optind]);

	mg_store *st = NULL;
	if (cli_store_open_db(data_dir, MG_STORE_NOCREATE, &st) != MG_OK) {
		cli_error("recover: %s", mg_error_detail());
		return CLI_FAIL;
	}
	struct ctx ctx = {.json = json, .items = json ? json_array() : NULL};
	mg_acq_recover_summary sum;
	int n = mg_acq_recover(st, on_item, &ctx, &sum);
	int rc = CLI_OK;
	if (n < 0) {
		cli_error("recover: %s", mg_error_detail());
		rc = CLI_FAIL;
	} else if (sum.failed) {
		rc = CLI_FAIL;
	}
	if (json) {
		json_t *o = json_object();
		json_object_set_new(o, "data_dir", json_string(mg_store_data_dir(st)));
		json_object_set_new(o, "registered", json_integer(sum.registered));
		json_object_set_new(o, "cleaned", json_integer(sum.cleaned));
		json_object_set_new(o, "empty", json_integer(sum.empty));
		json_object_set_new(o, "busy", json_integer(sum.busy));
		json_object_set_new(o, "failed", json_integer(sum.failed));
		json_object_set_new(o, "items", ctx.items);
		if (n < 0)
			json_object_set_new(o, "error", json_string(mg_error_detail()));
		cli_json_print(o);
		json_decref(o);
	} else if (n >= 0) {
		if (sum.registered + sum.cleaned + sum.empty + sum.busy + sum.failed == 0)
			printf("nothing to recover in %s\n", mg_store_data_dir(st));
		else
			printf("%d registered, %d cleaned, %d empty, %d busy, %d failed\n", sum.registered, sum.cleaned,
			       sum.empty, sum.busy, sum.failed);
	}
	mg_store_close(st);
	return rc;
}
