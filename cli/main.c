/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — one command, many subcommands. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "magassay/log.h"
#include "magassay/version.h"

static const cli_command commands[] = {
	{"info", "show what a spectrum file holds", cmd_info},
	{"analyze", "fit XRF spectra: calibration, line families, areas, detection limits", cmd_analyze},
	{"calibrate", "energy, resolution and quantification calibrations as versioned records", cmd_calibrate},
	{"convert", "convert a spectrum file to another format", cmd_convert},
	{"list", "list the batches, samples or measurements in the store", cmd_list},
	{"show", "show a batch, sample or measurement of the store", cmd_show},
	{"icp", "run an ICP-OES sequence with QC, or import a vendor CSV export", cmd_icp},
	{"qc", "batch quality control: control charts, Westgard rules, release", cmd_qc},
	{"reprocess", "recompute stored results with a new calibration; report what changed", cmd_reprocess},
	{"report", "certificates of analysis and batch reports (PDF, CSV, JSON, PNG)", cmd_report},
	{"devices", "list the attached instruments (USB, serial ports, simulators)", cmd_devices},
	{"sim", "serve a simulated instrument on a pseudo-terminal", cmd_sim},
	{"acquire", "measure a sample on an XRF instrument and store the spectrum", cmd_acquire},
	{"recover", "register the measurements that interrupted acquisitions left behind", cmd_recover},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: magassay [-v|-q] COMMAND [ARGS...]\n"
	           "Rare-earth assay of recycled magnets: XRF and ICP-OES, instrument to certified result.\n\n"
	           "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nOptions:\n"
	           "  -v, --verbose   more log output (repeat for protocol traces)\n"
	           "  -q, --quiet     errors only\n"
	           "  -h, --help      this help; 'magassay COMMAND --help' for a command\n"
	           "  -V, --version   print the version\n\n"
	           "Exit status: 0 success, 1 failure, 2 usage error; acquire: 3 stopped early on request\n"
	           "(what was measured is saved).\n"
	           "Documentation: docs/commands/ and man magassay-COMMAND.\n");
}

static void log_to_stderr(int level, const char *domain, const char *msg, void *ud)
{
	static const char *names[] = {"", "error", "warning", "info", "debug", "trace"};
	(void)ud;
	fprintf(stderr, "magassay: %s: %s: %s\n", names[level > 5 ? 5 : level], domain, msg);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"verbose", no_argument, NULL, 'v'}, {"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},    {"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int level = MG_LOG_WARN, c;

	/* A file-size limit must become an error we report, not a kill. */
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);

	/* Stop option parsing at the subcommand. */
	while ((c = getopt_long(argc, argv, "+vqhV", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			level++;
			break;
		case 'q':
			level = MG_LOG_ERR;
			break;
		case 'h':
			usage(stdout);
			return CLI_OK;
		case 'V':
			printf("magassay %s\n", MAGASSAY_VERSION_STRING);
			return CLI_OK;
		default:
			usage(stderr);
			return CLI_USAGE;
		}
	}
	mg_log_set_level(level);
	mg_log_set_handler(log_to_stderr, NULL);

	if (optind >= argc) {
		usage(stderr);
		return CLI_USAGE;
	}
	const char *name = argv[optind];
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, name) == 0) {
			int sub = optind;
			optind = 0; /* glibc: re-initialise getopt for the subcommand's own parse */
			return commands[i].run(argc - sub, argv + sub);
		}
	}
	cli_error("'%s' is not a command. See 'magassay --help'.", name);
	return CLI_USAGE;
}
