/* SPDX-License-Identifier: GPL-3.0-or-later */
/* `magassay icp` run as a user would (the built binary is argv[1]):
 *   magassay icp run examples/ndfeb-icp-sequence.csv --device sim:icp --data-dir D --json
 * reports every QC check (ICV, ICB, LLOQ, CCV, CCB, duplicate, spike, CRM,
 * method blank, internal standard, total, calibration) with value, limits
 * and outcome; a CCV failure (sim drift_jump) lists the samples to re-run; an
 * instrument error (sim error_at) fails with the instrument's error and keeps
 * what was measured; `icp import` takes a vendor CSV; `icp check` lists a
 * malformed sequence's problems with line numbers; usage errors exit 2. */
#include <fcntl.h>
#include <signal.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define SEQ MG_SOURCE_DIR "/examples/ndfeb-icp-sequence.csv"

static const char *exe;
static char out_path[600], err_path[600];
static char *out_text, *err_text;

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return strdup("");
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	size_t got = fread(buf, 1, (size_t)n, f);
	buf[got] = '\0';
	fclose(f);
	return buf;
}

/* Run the binary with the arguments (NULL-terminated); exit status. */
static int run(const char *first, ...)
{
	const char *argv[40];
	int argc = 0;
	argv[argc++] = exe;
	va_list ap;
	va_start(ap, first);
	for (const char *a = first; a && argc < 39; a = va_arg(ap, const char *))
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	free(out_text);
	free(err_text);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(o, 1);
		dup2(e, 2);
		unsetenv("MAGASSAY_DATA");
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
	json_error_t e;
	json_t *j = json_loads(out_text, 0, &e);
	CHECK_MSG(j != NULL, "stdout is not JSON (%s): %.300s", e.text, out_text);
	return j;
}

static const json_t *check_of(const json_t *checks, const char *type, const char *label, const char *el)
{
	size_t i;
	const json_t *c;
	json_array_foreach(checks, i, c)
	{
		const char *t = json_string_value(json_object_get(c, "type"));
		const char *l = json_string_value(json_object_get(c, "label"));
		const char *e = json_string_value(json_object_get(c, "element"));
		if (t && !strcmp(t, type) && (!label || (l && !strcmp(l, label))) && (!el || (e && !strcmp(e, el))))
			return c;
	}
	return NULL;
}

static const char *outcome(const json_t *c)
{
	return c ? json_string_value(json_object_get(c, "outcome")) : "(missing)";
}

static void test_run_json(const char *dir)
{
	int rc = run("icp", "run", SEQ, "--device", "sim:icp", "--data-dir", dir, "--json", NULL);
	CHECK_MSG(rc == 0, "exit %d: %s", rc, err_text);
	json_t *j = out_json();
	if (!j)
		return;
	CHECK(!strcmp(json_string_value(json_object_get(j, "status")), "complete"));
	CHECK(json_is_null(json_object_get(j, "error")));
	CHECK(!strcmp(json_string_value(json_object_get(j, "data_dir")), dir));
	CHECK(json_array_size(json_object_get(j, "items")) == 22);
	const json_t *checks = json_object_get(j, "checks");
	CHECK(json_array_size(checks) > 100);
	/* every check: type, value, limits, outcome */
	size_t i;
	const json_t *c;
	json_array_foreach(checks, i, c)
	{
		CHECK(json_is_string(json_object_get(c, "type")) && json_is_string(json_object_get(c, "outcome")));
		CHECK(json_object_get(c, "value") && json_object_get(c, "lo") && json_object_get(c, "hi"));
		CHECK(json_is_string(json_object_get(c, "unit")) && json_is_integer(json_object_get(c, "position")));
	}
	static const char *types[] = {"calibration", "ICV", "ICB", "LLOQ", "CCV", "CCB", "duplicate", "spike",
	                              "CRM", "method_blank", "internal_std", "total"};
	for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
		const json_t *x = check_of(checks, types[k], NULL, NULL);
		CHECK_MSG(x != NULL, "no %s check", types[k]);
	}
	c = check_of(checks, "CCV", "CCV", "Tb");
	CHECK(c && !strcmp(outcome(c), "pass") && json_real_value(json_object_get(c, "lo")) == 90 &&
	      json_real_value(json_object_get(c, "hi")) == 110);
	double v = c ? json_real_value(json_object_get(c, "value")) : 0;
	CHECK(v > 95 && v < 105);
	c = check_of(checks, "ICB", "ICB", "Nd");
	CHECK(c && !strcmp(outcome(c), "pass") && !strcmp(json_string_value(json_object_get(c, "unit")), "mg/L"));
	c = check_of(checks, "calibration", NULL, "B");
	CHECK(c && !strcmp(outcome(c), "pass") && json_real_value(json_object_get(c, "lo")) == 0.998);
	const json_t *sum = json_object_get(j, "summary");
	CHECK(json_integer_value(json_object_get(sum, "fail")) == 0);
	CHECK(json_array_size(json_object_get(j, "rerun")) == 0);
	const json_t *cal = json_object_get(j, "calibration");
	CHECK(json_integer_value(json_object_get(cal, "version")) == 1);
	printf("icp run --json: %zu checks, %lld pass, %lld n/a\n", json_array_size(checks),
	       (long long)json_integer_value(json_object_get(sum, "pass")),
	       (long long)json_integer_value(json_object_get(sum, "na")));
	/* the values of a sample */
	const json_t *items = json_object_get(j, "items");
	const json_t *n52 = json_array_get(items, 10);
	CHECK(!strcmp(json_string_value(json_object_get(n52, "label")), "N52-A"));
	const json_t *nd = json_array_get(json_object_get(n52, "values"), 0);
	double w = json_real_value(json_object_get(nd, "w_pct"));
	CHECK_MSG(w > 23.2 * 0.98 && w < 23.2 * 1.02, "N52-A Nd %.3f wt%%", w);
	json_decref(j);

	/* the store: 22 ICP measurements in the batch, each with a result */
	rc = run("list", "measurements", "--batch", "NDFEB-2024-0117", "--data-dir", dir, "--json", NULL);
	CHECK_MSG(rc == 0, "list: %s", err_text);
	j = out_json();
	if (j) {
		CHECK(json_array_size(j) == 22);
		json_array_foreach(j, i, c)
		{
			CHECK(!strcmp(json_string_value(json_object_get(c, "kind")), "icp"));
			CHECK(json_integer_value(json_object_get(c, "results")) == 1);
		}
		json_decref(j);
	}
}

static void test_run_text(void)
{
	int rc = run("icp", "run", SEQ, "--device", "sim:icp?seed=9", "--no-store", NULL);
	CHECK_MSG(rc == 0, "exit %d: %s", rc, err_text);
	CHECK(strstr(out_text, "run complete") && strstr(out_text, "QC checks:") && strstr(out_text, "calibration:"));
	CHECK(strstr(out_text, "N38UH-A") && strstr(out_text, "wt%"));
	CHECK(!strstr(out_text, "stored in"));
}

static void test_ccv_failure(const char *dir)
{
	int rc = run("icp", "run", SEQ, "--device", "sim:icp?drift_jump=15@18", "--data-dir", dir, "--json", NULL);
	CHECK_MSG(rc == 0, "exit %d (QC failures are outcomes): %s", rc, err_text);
	json_t *j = out_json();
	if (j) {
		const json_t *checks = json_object_get(j, "checks");
		size_t i;
		const json_t *c;
		int ccv_fail = 0;
		json_array_foreach(checks, i, c) if (!strcmp(json_string_value(json_object_get(c, "type")), "CCV") &&
		                                      !strcmp(outcome(c), "fail")) ccv_fail++;
		CHECK(ccv_fail >= 7);
		const json_t *rerun = json_object_get(j, "rerun");
		CHECK(json_array_size(rerun) == 4);
		const char *want[] = {"N38UH-A", "N45SH-GBD-A", "CRM-NdFeB-1", "MB1"};
		for (size_t k = 0; k < 4 && k < json_array_size(rerun); k++)
			CHECK(!strcmp(json_string_value(json_object_get(json_array_get(rerun, k), "label")), want[k]));
		printf("icp run with a CCV failure: %d CCV checks failed, %zu samples to re-run\n", ccv_fail,
		       json_array_size(rerun));
		json_decref(j);
	}
	rc = run("icp", "run", SEQ, "--device", "sim:icp?drift_jump=15@18", "--no-store", "--fail-on-qc", NULL);
	CHECK(rc == 1);
	CHECK(strstr(out_text, "To re-run:") && strstr(out_text, "FAIL CCV"));
}

static void test_instrument_error(const char *dir)
{
	int rc = run("icp", "run", SEQ, "--device", "sim:icp?error_at=13", "--data-dir", dir, "--json", NULL);
	CHECK(rc == 1);
	CHECK_MSG(strstr(err_text, "-240") && strstr(err_text, "position 17"), "stderr: %s", err_text);
	json_t *j = out_json();
	if (j) {
		CHECK(!strcmp(json_string_value(json_object_get(j, "status")), "failed"));
		const json_t *e = json_object_get(j, "error");
		CHECK(json_integer_value(json_object_get(e, "position")) == 17);
		CHECK(!strcmp(json_string_value(json_object_get(e, "code")), "MG_ERR_DEVICE"));
		CHECK(json_integer_value(json_object_get(json_object_get(j, "sequence"), "measured")) == 12);
		json_decref(j);
	}
	printf("icp run with an instrument error: %.160s...\n", err_text);
}

/* A vendor CSV of concentrations made from a run's report, imported. */
static void test_import(const char *dir)
{
	int rc = run("icp", "run", SEQ, "--device", "sim:icp?seed=2", "--no-store", "--json", NULL);
	CHECK(rc == 0);
	json_t *j = out_json();
	if (!j)
		return;
	char csv[700];
	snprintf(csv, sizeof(csv), "%s/export.csv", dir);
	FILE *f = fopen(csv, "w");
	fprintf(f, "Solution Label,Element,Soln Conc,Unit\n");
	size_t i, k;
	const json_t *it, *v;
	json_array_foreach(json_object_get(j, "items"), i, it)
	{
		json_array_foreach(json_object_get(it, "values"), k, v)
		{
			if (strcmp(json_string_value(json_object_get(v, "role")), "report"))
				continue;
			fprintf(f, "%s,%s,%.10g,mg/L\n", json_string_value(json_object_get(it, "label")),
			        json_string_value(json_object_get(v, "line")), json_real_value(json_object_get(v, "conc_mg_l")));
		}
	}
	fclose(f);
	json_decref(j);
	rc = run("icp", "import", csv, "--sequence", SEQ, "--data-dir", dir, "--json", NULL);
	CHECK_MSG(rc == 0, "import: exit %d: %s", rc, err_text);
	j = out_json();
	if (j) {
		CHECK(!strcmp(json_string_value(json_object_get(j, "status")), "complete"));
		CHECK(!strcmp(json_string_value(json_object_get(json_object_get(j, "source"), "mode")), "vendor concentrations"));
		const json_t *checks = json_object_get(j, "checks");
		CHECK(check_of(checks, "CCV", NULL, "Nd") && !strcmp(outcome(check_of(checks, "CCV", NULL, "Nd")), "pass"));
		CHECK(check_of(checks, "calibration", NULL, NULL) == NULL); /* the vendor calibrated */
		CHECK(json_integer_value(json_object_get(json_object_get(j, "summary"), "fail")) == 0);
		json_decref(j);
	}
	/* a CSV line that is not a number */
	f = fopen(csv, "a");
	fprintf(f, "CAL0,Nd 430.358,abc,mg/L\n");
	fclose(f);
	rc = run("icp", "import", csv, "--sequence", SEQ, "--no-store", NULL);
	CHECK(rc == 1 && strstr(err_text, "concentration 'abc'"));
}

/* Over a serial line: `magassay sim icp` serves the simulator on a
 * pseudo-terminal (a child of this test), the sequence runs on the URI it
 * prints (SCPI over termios). */
static void test_over_pty(void)
{
	int fds[2];
	if (pipe(fds) != 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 2);
		execl(exe, exe, "sim", "icp", "--seed", "6", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	char uri[256] = "";
	size_t n = 0;
	char ch;
	while (n + 1 < sizeof(uri) && read(fds[0], &ch, 1) == 1 && ch != '\n')
		uri[n++] = ch;
	uri[n] = '\0';
	CHECK_MSG(strncmp(uri, "scpi+serial:/dev/", 17) == 0, "sim icp printed '%s'", uri);
	if (uri[0]) {
		int rc = run("icp", "run", SEQ, "--device", uri, "--no-store", "--json", NULL);
		CHECK_MSG(rc == 0, "over %s: exit %d: %s", uri, rc, err_text);
		json_t *j = out_json();
		if (j) {
			CHECK(!strcmp(json_string_value(json_object_get(j, "status")), "complete"));
			CHECK(json_integer_value(json_object_get(json_object_get(j, "summary"), "fail")) == 0);
			const char *model = json_string_value(json_object_get(json_object_get(j, "source"), "model"));
			CHECK(model && !strcmp(model, "SIM-ICP-OES"));
			printf("icp run over %s: %lld checks passed\n", uri,
			       (long long)json_integer_value(json_object_get(json_object_get(j, "summary"), "pass")));
			json_decref(j);
		}
	}
	kill(pid, SIGTERM);
	int status;
	waitpid(pid, &status, 0);
	close(fds[0]);
}

static void test_check_and_usage(const char *dir)
{
	int rc = run("icp", "check", SEQ, NULL);
	CHECK_MSG(rc == 0, "check: %s", err_text);
	CHECK(strstr(out_text, "22 positions") && strstr(out_text, "valid"));
	char bad[700];
	snprintf(bad, sizeof(bad), "%s/bad-sequence.csv", dir);
	FILE *f = fopen(bad, "w");
	fprintf(f, "batch = B-1\nmethod = %s/examples/ndfeb-icp-method.ini\nqc = %s/examples/icp-qc-epa6010d.ini\n"
	           "position,type,label,solution\n1,cal-blank,CAL0,\n2,cal-std,STD1,STD1\n12,sample,S1,\n9,ccv,CCV,\n",
	        MG_SOURCE_DIR, MG_SOURCE_DIR);
	fclose(f);
	rc = run("icp", "check", bad, NULL);
	CHECK(rc == 1);
	CHECK_MSG(strstr(err_text, "bad-sequence.csv:7: an ICV must follow the calibration") &&
	              strstr(err_text, "bad-sequence.csv:8: a CCB must follow every CCV"),
	          "stderr: %s", err_text);
	rc = run("icp", "check", bad, "--json", NULL);
	CHECK(rc == 1);
	json_t *j = out_json();
	if (j) {
		CHECK(json_is_false(json_object_get(j, "valid")) && json_array_size(json_object_get(j, "problems")) >= 3);
		json_decref(j);
	}
	rc = run("icp", "run", bad, "--device", "sim:icp", "--no-store", NULL);
	CHECK(rc == 1 && strstr(err_text, "does not validate"));
	/* usage */
	CHECK(run("icp", NULL) == 2);
	CHECK(run("icp", "frob", NULL) == 2);
	CHECK(run("icp", "run", SEQ, NULL) == 2 && strstr(err_text, "--device"));
	CHECK(run("icp", "import", SEQ, NULL) == 2 && strstr(err_text, "--sequence"));
	CHECK(run("icp", "run", SEQ, SEQ, "--device", "sim:icp", NULL) == 2);
	CHECK(run("icp", "run", SEQ, "--device", "sim:icp", "--bogus", NULL) == 2);
	CHECK(run("icp", "--help", NULL) == 0 && strstr(out_text, "magassay icp run SEQUENCE"));
	CHECK(run("icp", "run", SEQ, "--device", "sim:icp", "--method", "/nonexistent.ini", "--no-store", NULL) == 1);
	CHECK(strstr(err_text, "nonexistent"));
	CHECK(run("icp", "run", SEQ, "--device", "nosuch:thing", "--no-store", NULL) == 1);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		mg_test_skip("usage: test_icp_cli PATH-TO-magassay");
	exe = argv[1];
	const char *tmp = mg_test_tmpdir();
	snprintf(out_path, sizeof(out_path), "%s/stdout", tmp);
	snprintf(err_path, sizeof(err_path), "%s/stderr", tmp);
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/data", tmp);
	test_run_json(dir);
	test_run_text();
	test_ccv_failure(dir);
	test_instrument_error(dir);
	test_import(tmp);
	test_over_pty();
	test_check_and_usage(tmp);
	free(out_text);
	free(err_text);
	return mg_test_finish("test_icp_cli");
}
