/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of the core: text parsing, buffers, key/value lists, the
 * spectrum model, calibration fitting, atomic writes, logging. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <signal.h>
#include <sys/wait.h>

#include "check.h"
#include "fields.h"
#include "magassay/buf.h"
#include "magassay/error.h"
#include "magassay/fileio.h"
#include "magassay/log.h"
#include "magassay/spectrum.h"
#include "text.h"

static void test_lines(void)
{
	const char *text = "a\r\nbb\n\nccc\rd";
	mg_lines it;
	const char *l;
	size_t n;
	const char *want[] = {"a", "bb", "", "ccc", "d"};
	mg_lines_init(&it, text, strlen(text));
	for (size_t i = 0; i < 5; i++) {
		CHECK(mg_lines_next(&it, &l, &n) == 1);
		CHECK(n == strlen(want[i]) && memcmp(l, want[i], n) == 0);
		CHECK(it.lineno == (long)i + 1);
	}
	CHECK(mg_lines_next(&it, &l, &n) == 0);
}

static void test_numbers(void)
{
	double v;
	long k;
	CHECK(mg_parse_double(" 2048. ", 7, &v) == MG_OK && v == 2048);
	CHECK(mg_parse_double("-0.9553045", 10, &v) == MG_OK && v == -0.9553045);
	CHECK(mg_parse_double("1e3", 3, &v) == MG_OK && v == 1000);
	CHECK(mg_parse_double("nan", 3, &v) == MG_ERR_FORMAT);
	CHECK(mg_parse_double("inf", 3, &v) == MG_ERR_FORMAT);
	CHECK(mg_parse_double("0x10", 4, &v) == MG_ERR_FORMAT);
	CHECK(mg_parse_double("1e999", 5, &v) == MG_ERR_FORMAT);
	CHECK(mg_parse_double("12abc", 5, &v) == MG_ERR_FORMAT);
	CHECK(mg_parse_double("", 0, &v) == MG_ERR_FORMAT);
	CHECK(mg_parse_long("4096.", 5, 1, 16384, &k) == MG_OK && k == 4096);
	CHECK(mg_parse_long("4096.5", 6, 1, 16384, &k) == MG_ERR_FORMAT);
	CHECK(mg_parse_long("99999", 5, 1, 16384, &k) == MG_ERR_FORMAT);
	CHECK(mg_looks_binary("abc\r\n\t", 6) == 0);
	CHECK(mg_looks_binary("ab\0c", 4) == 1);
}

static void test_buf(void)
{
	mg_buf b;
	mg_buf_init(&b);
	for (int i = 0; i < 1000; i++)
		mg_buf_printf(&b, "%d,", i);
	CHECK(mg_buf_status(&b) == MG_OK);
	CHECK(strncmp(b.data, "0,1,2,", 6) == 0);
	CHECK(b.len == strlen(b.data));
	char big[600];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	mg_buf_reset(&b);
	mg_buf_printf(&b, "%s|", big); /* longer than the small formatting buffer */
	CHECK(b.len == sizeof(big));
	mg_buf_free(&b);
}

static void test_kvlist_and_dup(void)
{
	mg_spectrum *s = mg_spectrum_new(8);
	CHECK(s && s->nchan == 8 && isnan(s->live_time_s) && !s->cal.valid);
	CHECK(mg_spectrum_new(0) == NULL);
	CHECK(mg_spectrum_new(MG_SPECTRUM_MAX_CHANNELS + 1) == NULL);
	mg_kvlist_add(&s->meta, "k", "1", NULL);
	mg_kvlist_add(&s->meta, "k", "2", "second");
	mg_kvlist_set(&s->meta, "k", "3", NULL); /* replaces the first only */
	CHECK(s->meta.count == 2);
	CHECK(strcmp(mg_kvlist_get(&s->meta, "k"), "3") == 0);
	CHECK(strcmp(s->meta.items[1].comment, "second") == 0);
	mg_str_set(&s->sample.sample_id, "LOT-1");
	s->counts[3] = 42;
	s->cal = (mg_energy_cal){1, -0.1, 0.01, 1e-7};
	mg_spectrum *d = mg_spectrum_dup(s);
	CHECK(d && d->counts != s->counts && d->counts[3] == 42);
	CHECK(d->sample.sample_id != s->sample.sample_id && strcmp(d->sample.sample_id, "LOT-1") == 0);
	CHECK(d->meta.count == 2 && d->meta.items != s->meta.items);
	CHECK(mg_spectrum_total(d) == 42);
	CHECK_NEAR(mg_spectrum_energy(d, 100), -0.1 + 1.0 + 1e-3, 1e-12);
	CHECK(mg_spectrum_channel(d, mg_spectrum_energy(d, 5)) == 5);
	CHECK(mg_spectrum_resize(d, 16) == MG_OK && d->counts[15] == 0 && d->counts[3] == 42);
	d->counts[2] = -1;
	CHECK(mg_spectrum_validate(d) == MG_ERR_FORMAT);
	d->counts[2] = NAN;
	CHECK(mg_spectrum_validate(d) == MG_ERR_FORMAT);
	mg_spectrum_free(d);
	mg_spectrum_free(s);
}

static void test_cal_fit(void)
{
	double ch[] = {100, 600, 1200, 2000}, e[4];
	mg_energy_cal c;
	for (int i = 0; i < 4; i++)
		e[i] = -0.2 + 0.01 * ch[i] + 2e-7 * ch[i] * ch[i];
	CHECK(mg_energy_cal_fit(&c, ch, e, 4, 1) == MG_OK);
	CHECK_NEAR(c.offset_kev, -0.2, 1e-9);
	CHECK_NEAR(c.gain_kev, 0.01, 1e-12);
	CHECK_NEAR(c.quad_kev, 2e-7, 1e-15);
	CHECK(mg_energy_cal_fit(&c, ch, e, 2, 0) == MG_OK && c.quad_kev == 0);
	double same[] = {5, 5};
	CHECK(mg_energy_cal_fit(&c, same, e, 2, 0) == MG_ERR_FORMAT);
}

static void test_fields(void)
{
	mg_spectrum *s = mg_spectrum_new(4), *t = mg_spectrum_new(4);
	mg_buf b;
	s->live_time_s = 0.1;
	s->acq.tube_kv = 40;
	mg_str_set(&s->acq.anode, "Rh");
	mg_str_set(&s->sample.operator_name, "A. Tech");
	snprintf(s->start_time, sizeof(s->start_time), "2026-11-26T04:10:05Z");
	s->cal = (mg_energy_cal){1, -0.01, 0.02, 0};
	mg_kvlist_add(&s->meta, "dp5.config.TPEA", "1.600", NULL);
	mg_buf_init(&b);
	CHECK(mg_fields_write(s, &b, "", ": ") == MG_OK);
	/* parse it back line by line */
	mg_lines it;
	const char *l;
	size_t n;
	mg_lines_init(&it, b.data, b.len);
	while (mg_lines_next(&it, &l, &n)) {
		char line[512];
		snprintf(line, sizeof(line), "%.*s", (int)n, l);
		char *sep = strstr(line, ": ");
		CHECK(sep != NULL);
		if (!sep)
			continue;
		*sep = '\0';
		CHECK(mg_fields_set(t, line, sep + 2) == 1);
	}
	CHECK(t->live_time_s == 0.1 && t->acq.tube_kv == 40);
	CHECK(strcmp(t->acq.anode, "Rh") == 0 && strcmp(t->sample.operator_name, "A. Tech") == 0);
	CHECK(strcmp(t->start_time, s->start_time) == 0);
	CHECK(t->cal.valid && t->cal.offset_kev == -0.01 && t->cal.gain_kev == 0.02);
	CHECK(strcmp(mg_kvlist_get(&t->meta, "dp5.config.TPEA"), "1.600") == 0);
	CHECK(mg_fields_set(t, "no.such.key", "x") == 0);
	CHECK(mg_fields_set(t, "acq.tube_kv", "forty") < 0);
	mg_buf_free(&b);
	mg_spectrum_free(s);
	mg_spectrum_free(t);
}

static void test_atomic_write(void)
{
	char path[512];
	unsigned char *data;
	size_t len;
	snprintf(path, sizeof(path), "%s/atomic.txt", mg_test_tmpdir());
	CHECK_RC(mg_file_write_atomic(path, "first", 5), MG_OK);
	CHECK_RC(mg_file_read_all(path, 100, &data, &len), MG_OK);
	CHECK(len == 5 && memcmp(data, "first", 5) == 0);
	free(data);
	CHECK(mg_file_read_all(path, 3, &data, &len) == MG_ERR_FORMAT); /* over the cap */
	CHECK(mg_file_read_all("/nonexistent/x", 100, &data, &len) == MG_ERR_NOT_FOUND);

	/* A write that hits the file-size limit fails cleanly and leaves the
	 * earlier file intact, with no temporary file left behind. */
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit rl = {1000, 1000};
		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &rl);
		static char big[5000];
		memset(big, 'z', sizeof(big));
		int rc = mg_file_write_atomic(path, big, sizeof(big));
		_exit(rc == MG_ERR_NOSPACE ? 0 : 3);
	}
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_RC(mg_file_read_all(path, 100, &data, &len), MG_OK);
	CHECK(len == 5 && memcmp(data, "first", 5) == 0);
	free(data);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "ls %s | grep -q tmp", mg_test_tmpdir());
	CHECK(system(cmd) != 0);
	CHECK(mg_file_write_atomic("/nonexistent-dir/x", "a", 1) == MG_ERR_NOT_FOUND);
}

static int logged;
static void count_log(int level, const char *domain, const char *msg, void *ud)
{
	(void)level;
	(void)domain;
	(void)msg;
	*(int *)ud += 1;
}

static void test_log_and_errors(void)
{
	mg_log_set_handler(count_log, &logged);
	mg_log_set_level(MG_LOG_WARN);
	mg_log(MG_LOG_INFO, "t", "dropped");
	mg_log(MG_LOG_WARN, "t", "kept");
	CHECK(logged == 1);
	mg_log_set_handler(NULL, NULL);
	mg_log(MG_LOG_ERR, "t", "no handler");
	CHECK(logged == 1);
	CHECK(strcmp(mg_strerror_name(MG_ERR_FORMAT), "MG_ERR_FORMAT") == 0);
	CHECK(strcmp(mg_strerror(12345), "unknown error") == 0);
	mg_spectrum_new(0);
	CHECK(strstr(mg_error_detail(), "channels") != NULL);
}

int main(void)
{
	test_lines();
	test_numbers();
	test_buf();
	test_kvlist_and_dup();
	test_cal_fit();
	test_fields();
	test_atomic_write();
	test_log_and_errors();
	return mg_test_finish("test_core");
}
