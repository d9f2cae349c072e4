/* SPDX-License-Identifier: GPL-3.0-or-later */
/* `magassay qc` and `magassay report` run as a user would, on a filled test
 * store: status (text and JSON), chart (a PNG with its metadata), release
 * refused then accepted with an override, manual QC values, and the sample
 * and batch reports as PDF, CSV (to a file and to standard output), PNG and
 * JSON. The binary is argv[1]; skipped while the commands are not registered. */
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"
#include "magassay/error.h"
#include "png_check.h"

static const char *exe, *data;
static char out_path[700], err_path[700];
static char *out_text, *err_text;

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return strdup("");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int c;
	while ((c = fgetc(f)) != EOF) {
		if (len + 2 > cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
		}
		buf[len++] = (char)c;
	}
	fclose(f);
	if (!buf)
		return strdup("");
	buf[len] = '\0';
	return buf;
}

/* Run the binary with MAGASSAY_DATA set; arguments NULL-terminated. */
static int run(const char *first, ...)
{
	const char *argv[40];
	int argc = 0;
	argv[argc++] = exe;
	argv[argc++] = first;
	va_list ap;
	va_start(ap, first);
	const char *a;
	while ((a = va_arg(ap, const char *)) != NULL && argc < 39)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	free(out_text);
	free(err_text);
	pid_t pid = fork();
	if (pid == 0) {
		int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(o, 1);
		dup2(e, 2);
		setenv("MAGASSAY_DATA", data, 1);
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	out_text = slurp(out_path);
	err_text = slurp(err_path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static json_t *out_json(void)
{
	json_error_t err;
	json_t *v = json_loads(out_text, 0, &err);
	if (!v)
		fprintf(stderr, "not JSON (%s): %.300s\n", err.text, out_text);
	return v;
}

#define HAS(hay, needle) CHECK_MSG(strstr((hay), (needle)) != NULL, "\"%s\" not in: %.600s", (needle), (hay))

static void test_qc_cli(const char *tmp)
{
	char png[800];
	CHECK(run("qc", "status", "L2024-07", NULL) == 0);
	HAS(out_text, "batch L2024-07: QC fail");
	HAS(out_text, "peak_position Cu Ka");
	HAS(out_text, "2-2s");
	HAS(out_text, "not released");
	CHECK(run("qc", "status", "L2024-07", "--json", NULL) == 0);
	json_t *j = out_json();
	CHECK(j && !strcmp(json_string_value(json_object_get(j, "state")), "fail"));
	CHECK(j && json_integer_value(json_object_get(j, "violations")) == 1);
	json_decref(j);
	CHECK(run("qc", "status", "L2024-07", "--rules", "1-3s,R-4s", "--json", NULL) == 0);
	j = out_json();
	CHECK(j && !strcmp(json_string_value(json_object_get(j, "state")), "pass"));
	json_decref(j);
	CHECK(run("qc", "status", "NOPE", NULL) == 1);
	HAS(err_text, "NOPE");
	CHECK(run("qc", "status", NULL) == 2);
	CHECK(run("qc", "frobnicate", "L2024-07", NULL) == 2);
	CHECK(run("qc", "status", "L2024-07", "--rules", "3-3s", NULL) == 2);

	snprintf(png, sizeof(png), "%s/qc.png", tmp);
	CHECK(run("qc", "chart", "L2024-07", "--png", png, NULL) == 0);
	pngc p;
	CHECK(pngc_read(png, &p) == 0 && p.width == 1200);
	const char *b = pngc_text(&p, "Batch");
	CHECK(b && !strcmp(b, "L2024-07"));
	snprintf(png, sizeof(png), "%s/qc1.png", tmp);
	CHECK(run("qc", "chart", "L2024-07", "--png", png, "--quantity", "peak_position", "--page", NULL) == 0);
	CHECK(pngc_read(png, &p) == 0 && p.width == 1000 && p.height == 625);
	CHECK(run("qc", "chart", "L2024-07", NULL) == 2); /* no --png */

	/* release: refused, then the override, then never twice */
	CHECK(run("qc", "release", "L2024-07", NULL) == 1);
	HAS(err_text, "not released");
	HAS(err_text, "2-2s");
	CHECK(run("qc", "release", "L2024-07", "--override-by", "Dr. A. Lovelace", NULL) == 2); /* no reason */
	CHECK(run("qc", "release", "L2024-07", "--reason", "because", NULL) == 2);               /* no who */
	CHECK(run("qc", "release", "L2024-07", "--by", "Q. Manager", "--override-by", "Dr. A. Lovelace", "--reason",
	          "drift within the method tolerance after a manual check", NULL) == 0);
	HAS(out_text, "released by Q. Manager");
	HAS(out_text, "override by Dr. A. Lovelace");
	CHECK(run("qc", "status", "L2024-07", "--json", NULL) == 0);
	j = out_json();
	json_t *rel = json_object_get(j, "release");
	CHECK(json_is_object(rel));
	CHECK(!strcmp(json_string_value(json_object_get(json_object_get(rel, "override"), "reason")),
	              "drift within the method tolerance after a manual check"));
	json_decref(j);
	CHECK(run("qc", "release", "L2024-07", NULL) == 1);
	HAS(err_text, "released by Q. Manager");
	CHECK(run("qc", "release", "L2024-08", NULL) == 0);

	/* a value by hand */
	CHECK(run("qc", "add", "L2024-08", "--quantity", "fwhm", "--target", "Mn Ka", "--value", "141.2", "--unit", "eV",
	          "--instrument", "SN-4711", "--json", NULL) == 0);
	j = out_json();
	CHECK(j && json_integer_value(json_object_get(j, "id")) > 0);
	json_decref(j);
	CHECK(run("qc", "add", "L2024-08", "--quantity", "fwhm", "--target", "Mn Ka", NULL) == 2);
	CHECK(run("qc", "add", "L2024-08", "--quantity", "fwhm", "--target", "Mn Ka", "--value", "abc", NULL) == 2);
	CHECK(run("qc", "add", "NOPE", "--quantity", "fwhm", "--target", "Mn Ka", "--value", "1", NULL) == 1);
	CHECK(run("qc", "--help", NULL) == 0);
	HAS(out_text, "Usage: magassay qc status BATCH");
}

static void test_report_cli(const char *tmp)
{
	char pdf[800], csv[800], png[800];
	snprintf(pdf, sizeof(pdf), "%s/S1.pdf", tmp);
	CHECK(run("report", "sample", "S1", "--pdf", pdf, "--lab", "Test Lab", NULL) == 0);
	struct stat sb;
	CHECK(stat(pdf, &sb) == 0 && sb.st_size > 2000);
	snprintf(png, sizeof(png), "%s/S1.png", tmp);
	CHECK(run("report", "sample", "S1", "--png", png, "--width", "900", NULL) == 0);
	pngc p;
	CHECK(pngc_read(png, &p) == 0 && p.width == 900);
	const char *s = pngc_text(&p, "Sample ID");
	CHECK(s && !strcmp(s, "S1"));
	CHECK(run("report", "sample", "S1", "--json", NULL) == 0);
	json_t *j = out_json();
	CHECK(j && !strcmp(json_string_value(json_object_get(j, "type")), "sample_report"));
	json_decref(j);
	CHECK(run("report", "sample", "S1", NULL) == 0);
	HAS(out_text, "sample S1 (batch L2024-07)");
	HAS(out_text, "Nd 23.1");

	snprintf(pdf, sizeof(pdf), "%s/L2024-07.pdf", tmp);
	snprintf(csv, sizeof(csv), "%s/L2024-07.csv", tmp);
	snprintf(png, sizeof(png), "%s/L2024-07.png", tmp);
	CHECK(run("report", "batch", "L2024-07", "--pdf", pdf, "--csv", csv, "--png", png, NULL) == 0);
	CHECK(stat(pdf, &sb) == 0 && sb.st_size > 2000);
	char *c = slurp(csv);
	CHECK(!strncmp(c, "batch_id,sample_id,", 19));
	HAS(c, "'=HYPERLINK(");
	free(c);
	CHECK(pngc_read(png, &p) == 0);
	const char *k = pngc_text(&p, "Plot");
	CHECK(k && !strcmp(k, "batch-composition"));
	CHECK(run("report", "batch", "L2024-07", "--csv", "-", NULL) == 0);
	CHECK(!strncmp(out_text, "batch_id,sample_id,", 19));
	CHECK(run("report", "batch", "L2024-07", "--json", NULL) == 0);
	j = out_json();
	CHECK(j && json_array_size(json_object_get(j, "samples")) == 3);
	json_decref(j);

	CHECK(run("report", "sample", "NOPE", "--pdf", pdf, NULL) == 1);
	CHECK(run("report", "sample", "S1", "--csv", csv, NULL) == 2);
	CHECK(run("report", "lot", "L2024-07", NULL) == 2);
	CHECK(run("report", "batch", NULL) == 2);
	snprintf(pdf, sizeof(pdf), "%s/no/such/dir/x.pdf", tmp);
	CHECK(run("report", "batch", "L2024-07", "--pdf", pdf, NULL) == 1);
	CHECK(run("report", "--help", NULL) == 0);
	HAS(out_text, "Usage: magassay report sample ID");
}

int main(int argc, char **argv)
{
	if (argc < 2)
		mg_test_skip("usage: test_report_cli PATH-TO-MAGASSAY");
	exe = argv[1];
	const char *tmp = mg_test_tmpdir();
	snprintf(out_path, sizeof(out_path), "%s/out.txt", tmp);
	snprintf(err_path, sizeof(err_path), "%s/err.txt", tmp);
	static char sdir[700];
	snprintf(sdir, sizeof(sdir), "%s/store", tmp);
	data = sdir;
	/* registered yet? */
	int rc = run("qc", "--help", NULL);
	if (rc != 0 || !strstr(out_text, "magassay qc"))
		mg_test_skip("the qc and report commands are not registered in cli/main.c yet");
	fx f;
	if (fx_build(sdir, &f) != MG_OK)
		return 1;
	fx_close(&f);
	test_qc_cli(tmp);
	test_report_cli(tmp);
	free(out_text);
	free(err_text);
	return mg_test_finish("test_report_cli");
}
