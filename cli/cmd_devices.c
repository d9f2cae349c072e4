/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay devices [--json] [--probe] [URI...] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "magassay/device.h"
#include "magassay/error.h"
#include "magassay/transport.h"

static void help(void)
{
	printf("Usage: magassay devices [--json] [--probe] [URI...]\n"
	       "List the instruments attached: Amptek DP5-family units on USB (each is asked for its\n"
	       "status: model, serial number, firmware), the serial ports, and the simulated instruments.\n"
	       "With URIs, ask exactly those instead (e.g. serial:/dev/pts/3 served by 'magassay sim').\n\n"
	       "  --probe     also ask every serial port for a DP5 status (this writes to the ports:\n"
	       "              only do it when nothing else is attached to them)\n"
	       "  --json      a JSON array, one object per device (keys: uri, driver, transport, model,\n"
	       "              serial, firmware, fpga, description, status, error)\n"
	       "  -h, --help  this help\n\n"
	       "A unit that is listed but cannot be opened shows why; \"permission denied\" means the\n"
	       "udev rules are not installed (see udev/README.md).\n"
	       "Exit status: 0 listed (or every URI answered), 1 a URI did not answer or the scan failed,\n"
	       "2 usage error.\n");
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static json_t *info_json(const mg_device_info *d)
{
	const char *status = d->status == MG_OK ? "ok" : d->status == MG_ERR_NA ? "not probed" : mg_strerror_name(d->status);
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:o}", "uri", cli_json_str(d->uri), "driver",
	                 cli_json_str(d->driver), "transport", cli_json_str(d->transport), "model",
	                 cli_json_str(d->model), "serial", cli_json_str(d->serial), "firmware", cli_json_str(d->firmware),
	                 "fpga", cli_json_str(d->fpga), "description", cli_json_str(d->description), "status", status,
	                 "error", cli_json_str(d->error));
}

static void print_table(const mg_device_info *items, size_t n)
{
	if (n == 0) {
		printf("no instruments found\n");
		return;
	}
	size_t w = 3;
	for (size_t i = 0; i < n; i++)
		if (items[i].uri && strlen(items[i].uri) > w)
			w = strlen(items[i].uri);
	printf("%-*s  %-6s  %-12s  %-10s  %-14s  %s\n", (int)w, "URI", "DRIVER", "MODEL", "SERIAL", "FIRMWARE",
	       "DESCRIPTION");
	for (size_t i = 0; i < n; i++) {
		const mg_device_info *d = &items[i];
		char fw[64];
		snprintf(fw, sizeof(fw), "%s", or_dash(d->firmware));
		printf("%-*s  %-6s  %-12s  %-10s  %-14s  %s\n", (int)w, or_dash(d->uri), or_dash(d->driver),
		       or_dash(d->model), or_dash(d->serial), fw, or_dash(d->description));
		if (d->status == MG_ERR_NA)
			printf("%-*s  (not probed: --probe asks it)\n", (int)w, "");
		else if (d->status != MG_OK)
			printf("%-*s  error: %s\n", (int)w, "", or_dash(d->error));
	}
}

int cmd_devices(int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
	                                     {"probe", no_argument, NULL, 'p'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	int json = 0, probe = 0, c;
	while ((c = getopt_long(argc, argv, "jph", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'p':
			probe = 1;
			break;
		case 'h':
			help();
			return CLI_OK;
		default:
			return cli_usage("devices", "unknown option");
		}
	}

	mg_device_list list = {0};
	int status = CLI_OK;
	if (optind < argc) {
		/* explicit URIs: ask each one */
		size_t n = (size_t)(argc - optind);
		list.items = calloc(n, sizeof(*list.items));
		if (!list.items) {
			cli_error("out of memory");
			return CLI_FAIL;
		}
		for (int i = optind; i < argc; i++) {
			mg_transport_uri *uri = NULL;
			if (mg_transport_uri_parse(argv[i], &uri) != MG_OK) {
				mg_device_list_free(&list);
				return cli_usage("devices", "%s", cli_lib_error());
			}
			mg_transport_uri_free(uri);
			int rc = mg_device_probe(argv[i], &list.items[list.count]);
			list.count++;
			if (rc != MG_OK)
				status = CLI_FAIL;
		}
	} else {
		int rc = mg_device_scan(probe ? MG_SCAN_PROBE_SERIAL : 0, &list);
		if (rc < 0) {
			cli_error("scan failed: %s", cli_lib_error());
			return CLI_FAIL;
		}
	}

	if (json) {
		json_t *all = json_array();
		for (size_t i = 0; i < list.count; i++)
			json_array_append_new(all, info_json(&list.items[i]));
		if (cli_json_print(all) != CLI_OK)
			status = CLI_FAIL;
		json_decref(all);
	} else {
		print_table(list.items, list.count);
	}
	mg_device_list_free(&list);
	return status;
}
