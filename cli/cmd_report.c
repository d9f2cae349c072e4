/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay report sample ID | batch ID [--pdf F] [--csv F] [--png F] [--json]:
 * the certificate of analysis of a sample, the summary of a batch (PDF, CSV
 * for spreadsheets and LIMS, JSON), and their pictures (PNG). */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "magassay/error.h"
#include "magassay/fileio.h"
#include "magassay/report.h"
#include "magassay/store.h"

/* Registered in cli.h too. */
int cmd_report(int argc, char **argv);

static void help(void)
{
	printf("Usage: magassay report sample ID [--pdf FILE] [--png FILE] [--json]\n"
	       "       magassay report batch ID [--pdf FILE] [--csv FILE] [--png FILE] [--json]\n"
	       "Reports from the store.\n\n"
	       "  sample   certificate of analysis: sample, lot, instrument, operator, method,\n"
	       "           calibration versions, composition with uncertainties and LODs, flags,\n"
	       "           the QC state of the lot, the spectrum plot; --png: the plot of its first\n"
	       "           XRF measurement (or ICP line windows)\n"
	       "  batch    batch summary: QC state and release, control charts, composition of\n"
	       "           every sample, XRF against ICP; --csv: one row per sample, measurement\n"
	       "           and element (RFC 4180; cells a spreadsheet would run as a formula are\n"
	       "           neutralised with a leading '); --png: composition by sample\n\n"
	       CLI_DB_HELP
	       "  --data-dir DIR    the data directory (default: $MAGASSAY_DATA, else\n"
	       "                    $XDG_DATA_HOME/magassay, else ~/.local/share/magassay)\n"
	       "  --pdf FILE        write the PDF report\n"
	       "  --csv FILE        batch: write the CSV ('-' = standard output)\n"
	       "  --png FILE        write the picture\n"
	       "  --page            the picture sized for a report page (default: a screen)\n"
	       "  --width PX        the picture's width in pixels\n"
	       "  --json            the report as JSON on standard output\n"
	       "  --lab NAME        the laboratory named in the header\n"
	       "  --date ISO8601    the issue date printed (default: now)\n"
	       "  -h, --help        this help\n\n"
	       "Without --pdf, --csv, --png or --json a short summary is printed. Files are written\n"
	       "atomically: a failed report leaves no half file.\n\n"
	       "Exit status: 0 written, 1 failure (no store, unknown ID, cannot write), 2 usage error.\n");
}

typedef struct ropts {
	const char *data_dir, *pdf, *csv, *png, *lab, *date;
	int json, page, width;
} ropts;

typedef struct firsts {
	long long xrf, icp;
} firsts;

static int on_meas(const mg_measurement *m, void *ud)
{
	firsts *f = ud;
	if (m->kind && !strcmp(m->kind, "xrf") && !f->xrf)
		f->xrf = m->id;
	if (m->kind && !strcmp(m->kind, "icp") && !f->icp)
		f->icp = m->id;
	return 0;
}

/* The sample's first XRF measurement, else its first ICP one; 0 if none. */
static long long first_measurement(mg_store *st, const char *sample)
{
	firsts f = {0, 0};
	if (mg_store_measurements_list(st, NULL, sample, on_meas, &f) < 0)
		return 0;
	return f.xrf ? f.xrf : f.icp;
}

static void summary(const char *json_text)
{
	json_t *j = json_loads(json_text, 0, NULL);
	if (!j)
		return;
	const char *type = json_string_value(json_object_get(j, "type"));
	int batch = type && !strcmp(type, "batch_report");
	json_t *qc = json_object_get(j, "qc");
	if (batch) {
		json_t *b = json_object_get(j, "batch");
		printf("batch %s: %lld sample(s), QC %s%s\n", json_string_value(json_object_get(b, "id")),
		       (long long)json_integer_value(json_object_get(b, "samples")),
		       json_string_value(json_object_get(qc, "state")),
		       json_is_true(json_object_get(qc, "released")) ? ", released" : ", not released");
	} else {
		json_t *s = json_object_get(j, "sample");
		printf("sample %s (batch %s): QC of the batch %s\n", json_string_value(json_object_get(s, "id")),
		       json_string_value(json_object_get(s, "batch")), json_string_value(json_object_get(qc, "state")));
	}
	json_t *samples = batch ? json_object_get(j, "samples") : NULL;
	size_t ns = batch ? json_array_size(samples) : 1;
	for (size_t k = 0; k < ns; k++) {
		json_t *holder = batch ? json_array_get(samples, k) : j;
		const char *sid = batch ? json_string_value(json_object_get(holder, "id")) : NULL;
		json_t *results = json_object_get(holder, "results");
		size_t i;
		json_t *r;
		json_array_foreach(results, i, r)
		{
			json_t *m = json_object_get(r, "measurement");
			printf("%s%s%s measurement %lld (%s):", sid ? "  " : "", sid ? sid : "", sid ? ":" : "",
			       (long long)json_integer_value(json_object_get(m, "id")),
			       json_string_value(json_object_get(r, "method")));
			json_t *comp = json_object_get(r, "composition");
			size_t c;
			json_t *e;
			if (json_array_size(comp) == 0)
				printf(" no composition");
			json_array_foreach(comp, c, e)
			{
				double wt = json_number_value(json_object_get(e, "wt_pct"));
				json_t *u = json_object_get(e, "sigma");
				if (json_is_number(u))
					printf(" %s %.3g\xC2\xB1%.2g", json_string_value(json_object_get(e, "element")), wt,
					       json_number_value(u));
				else
					printf(" %s %.3g", json_string_value(json_object_get(e, "element")), wt);
			}
			printf("\n");
		}
	}
	json_decref(j);
}

static int run(mg_store *st, int batch, const char *id, const ropts *o)
{
	mg_report_opts ro = {o->lab, o->date, NULL};
	mg_plot_opts po;
	mg_plot_opts_default(&po);
	po.size = o->page ? MG_PLOT_PAGE : MG_PLOT_SCREEN;
	po.width_px = o->width;
	const char *what = batch ? "report batch" : "report sample";
	int e = MG_OK;
	if (o->pdf) {
		e = batch ? mg_report_batch_pdf(st, id, &ro, o->pdf) : mg_report_sample_pdf(st, id, &ro, o->pdf);
		if (e != MG_OK) {
			cli_error("%s: %s", what, mg_error_detail());
			return CLI_FAIL;
		}
		fprintf(stderr, "wrote %s\n", o->pdf);
	}
	if (o->csv) {
		char *text = NULL;
		size_t len = 0;
		e = mg_report_batch_csv(st, id, &ro, &text, &len);
		if (e == MG_OK) {
			if (!strcmp(o->csv, "-"))
				e = fwrite(text, 1, len, stdout) == len ? MG_OK : MG_ERR_IO;
			else
				e = mg_file_write_atomic(o->csv, text, len);
		}
		free(text);
		if (e != MG_OK) {
			cli_error("%s: %s", what, mg_error_detail());
			return CLI_FAIL;
		}
		if (strcmp(o->csv, "-"))
			fprintf(stderr, "wrote %s\n", o->csv);
	}
	if (o->png) {
		if (batch) {
			e = mg_report_plot_batch_png(st, id, &po, o->png);
		} else {
			mg_sample s;
			e = mg_store_sample_get(st, id, &s);
			if (e == MG_OK) {
				mg_sample_clear(&s);
				long long mid = first_measurement(st, id);
				if (!mid) {
					cli_error("%s: sample %s has no measurement to plot", what, id);
					return CLI_FAIL;
				}
				e = mg_report_plot_measurement_png(st, mid, &po, o->png);
			}
		}
		if (e != MG_OK) {
			cli_error("%s: %s", what, mg_error_detail());
			return CLI_FAIL;
		}
		fprintf(stderr, "wrote %s\n", o->png);
	}
	if (o->json || (!o->pdf && !o->csv && !o->png)) {
		char *text = NULL;
		e = batch ? mg_report_batch_json(st, id, &ro, &text) : mg_report_sample_json(st, id, &ro, &text);
		if (e != MG_OK) {
			cli_error("%s: %s", what, mg_error_detail());
			return CLI_FAIL;
		}
		int rc = CLI_OK;
		if (o->json) {
			json_t *j = json_loads(text, 0, NULL);
			rc = j ? cli_json_print(j) : CLI_FAIL;
			json_decref(j);
		} else {
			summary(text);
		}
		free(text);
		return rc;
	}
	return CLI_OK;
}

int cmd_report(int argc, char **argv)
{
	enum { O_DATA = 256, O_PDF, O_CSV, O_PNG, O_PAGE, O_WIDTH, O_LAB, O_DATE };
	static const struct option lo[] = {
		{"json", no_argument, NULL, 'j'},      {"help", no_argument, NULL, 'h'},
		{"data-dir", required_argument, NULL, O_DATA}, {"db", required_argument, NULL, CLI_OPT_DB}, {"pdf", required_argument, NULL, O_PDF},
		{"csv", required_argument, NULL, O_CSV}, {"png", required_argument, NULL, O_PNG},
		{"page", no_argument, NULL, O_PAGE},   {"width", required_argument, NULL, O_WIDTH},
		{"lab", required_argument, NULL, O_LAB}, {"date", required_argument, NULL, O_DATE},
		{NULL, 0, NULL, 0},
	};
	ropts o;
	memset(&o, 0, sizeof(o));
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
		case O_PDF:
			o.pdf = optarg;
			break;
		case O_CSV:
			o.csv = optarg;
			break;
		case O_PNG:
			o.png = optarg;
			break;
		case O_PAGE:
			o.page = 1;
			break;
		case O_WIDTH:
			n = strtol(optarg, &end, 10);
			if (*end || n < 200 || n > 8000)
				return cli_usage("report", "--width: 200 to 8000 pixels");
			o.width = (int)n;
			break;
		case O_LAB:
			o.lab = optarg;
			break;
		case O_DATE:
			o.date = optarg;
			break;
		default:
			return cli_usage("report", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage("report", "what: sample ID or batch ID");
	const char *what = argv[optind];
	int batch = !strcmp(what, "batch");
	if (!batch && strcmp(what, "sample"))
		return cli_usage("report", "'%s': use sample ID or batch ID", what);
	if (optind + 1 >= argc)
		return cli_usage("report", "%s: no ID given", what);
	if (optind + 2 < argc)
		return cli_usage("report", "one %s at a time ('%s' too)", what, argv[optind + 2]);
	if (o.csv && !batch)
		return cli_usage("report", "--csv is for a batch");
	if (o.json && o.csv && !strcmp(o.csv, "-"))
		return cli_usage("report", "--json and --csv - both write to standard output");
	mg_store *st = NULL;
	if (cli_store_open_db(o.data_dir, MG_STORE_READONLY, &st) != MG_OK) {
		cli_error("report: %s", mg_error_detail());
		return CLI_FAIL;
	}
	int rc = run(st, batch, argv[optind + 1], &o);
	mg_store_close(st);
	return rc;
}
