/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Bare-columns reader (PyMca's simplest format): one or two columns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/format.h"

static const mg_format *fmt(void)
{
	return mg_format_get(MG_FORMAT_COLUMNS);
}

static int read_text(const char *text, mg_spectrum **s)
{
	*s = NULL;
	return fmt()->read((const unsigned char *)text, strlen(text), s);
}

static int probe_text(const char *text)
{
	return fmt()->probe((const unsigned char *)text, strlen(text));
}

static void expect_fail_len(const char *what, const char *text, size_t len, const char *needle)
{
	mg_spectrum *s = NULL;
	int rc = fmt()->read((const unsigned char *)text, len, &s);
	CHECK_MSG(rc == MG_ERR_FORMAT, "%s: rc %d (%s)", what, rc, mg_error_detail());
	CHECK_MSG(s == NULL, "%s: a spectrum was returned on failure", what);
	CHECK_MSG(strstr(mg_error_detail(), needle) != NULL, "%s: detail '%s' lacks '%s'", what,
	          mg_error_detail(), needle);
	if (rc == MG_OK)
		mg_spectrum_free(s);
}

static void expect_fail(const char *what, const char *text, const char *needle)
{
	expect_fail_len(what, text, strlen(text), needle);
}

static void test_one_column(void)
{
	const char *t = "# This is the simplest file format\n"
	                "#\n"
	                "#   Co in water  \n"
	                "5.00000000E+00\n"
	                "3.00000000E+00\r\n"
	                "\n"
	                "  0.\n"
	                "12\n";
	mg_spectrum *s;
	CHECK(probe_text(t) == 10);
	CHECK_RC(read_text(t, &s), MG_OK);
	if (!s)
		return;
	CHECK(s->nchan == 4);
	CHECK(s->counts[0] == 5 && s->counts[1] == 3 && s->counts[2] == 0 && s->counts[3] == 12);
	CHECK(!s->cal.valid && isnan(s->live_time_s));
	CHECK(s->meta.count == 3);
	if (s->meta.count == 3) {
		CHECK(strcmp(s->meta.items[0].key, "columns.comment") == 0);
		CHECK(strcmp(s->meta.items[0].value, "This is the simplest file format") == 0);
		CHECK(strcmp(s->meta.items[1].value, "") == 0);
		CHECK(strcmp(s->meta.items[2].value, "Co in water") == 0);
	}
	CHECK(mg_spectrum_validate(s) == MG_OK);
	mg_spectrum_free(s);
}

static void test_two_columns(void)
{
	mg_spectrum *s;
	/* channel, counts */
	CHECK_RC(read_text("0 5\n1\t6\n2  7\n", &s), MG_OK);
	if (s) {
		CHECK(s->nchan == 3 && s->counts[2] == 7 && !s->cal.valid);
		mg_spectrum_free(s);
	}
	/* channels starting at 2: the first two are zero */
	CHECK_RC(read_text("2 5\n3 6\n4 7\n", &s), MG_OK);
	if (s) {
		CHECK(s->nchan == 5 && s->counts[0] == 0 && s->counts[1] == 0 && s->counts[2] == 5 && s->counts[4] == 7);
		mg_spectrum_free(s);
	}
	/* energy (keV), linear: calibration from the axis */
	char buf[4096] = "";
	for (int i = 0; i < 100; i++) {
		char line[64];
		snprintf(line, sizeof(line), "%.5f %d\n", -0.95 + 0.01 * i, i % 7);
		strcat(buf, line);
	}
	CHECK(probe_text(buf) == 10);
	CHECK_RC(read_text(buf, &s), MG_OK);
	if (s) {
		CHECK(s->nchan == 100 && s->counts[8] == 1);
		CHECK(s->cal.valid);
		CHECK_NEAR(s->cal.offset_kev, -0.95, 1e-9);
		CHECK_NEAR(s->cal.gain_kev, 0.01, 1e-11);
		CHECK(s->cal.quad_kev == 0);
		mg_spectrum_free(s);
	}
	/* energy, quadratic */
	buf[0] = '\0';
	for (int i = 0; i < 50; i++) {
		char line[64];
		snprintf(line, sizeof(line), "%.9f %d\n", 0.1 + 0.02 * i + 1e-5 * i * i, 1);
		strcat(buf, line);
	}
	CHECK_RC(read_text(buf, &s), MG_OK);
	if (s) {
		CHECK(s->cal.valid);
		CHECK_NEAR(s->cal.offset_kev, 0.1, 1e-8);
		CHECK_NEAR(s->cal.gain_kev, 0.02, 1e-9);
		CHECK_NEAR(s->cal.quad_kev, 1e-5, 1e-11);
		mg_spectrum_free(s);
	}
	/* two rows of energy: linear */
	CHECK_RC(read_text("1.5 3\n1.6 4\n", &s), MG_OK);
	if (s) {
		CHECK(s->cal.valid);
		CHECK_NEAR(s->cal.offset_kev, 1.5, 1e-12);
		CHECK_NEAR(s->cal.gain_kev, 0.1, 1e-12);
		mg_spectrum_free(s);
	}
}

static void test_probe(void)
{
	CHECK(probe_text("channel,energy_keV,counts\n0,0.1,5\n") == 0);
	CHECK(probe_text("#FORMAT      : EMSA/MAS Spectral Data File\n#SPECTRUM    :\n1.0, 2.0, 3.0,\n") == 0);
	CHECK(probe_text("<<PMCA SPECTRUM>>\nTAG - live_data\n<<DATA>>\n1\n2\n<<END>>\n") == 0);
	CHECK(probe_text("$SPEC_ID:\n\n$DATA:\n0 1\n1\n2\n") == 0);
	CHECK(probe_text("<?xml version=\"1.0\"?><TRTSpectrum/>") == 0);
	CHECK(probe_text("1 2 3\n4 5 6\n") == 0);
	CHECK(probe_text("1\n2 3\n") == 0);
	CHECK(probe_text("# only comments\n") == 0);
	CHECK(probe_text("") == 0);
	const unsigned char bin[] = {0xff, 0xff, 0x00, 0x01, '1', '\n'};
	CHECK(fmt()->probe(bin, sizeof(bin)) == 0);
}

static void test_malformed(void)
{
	const unsigned char bin[] = {'1', '\n', '2', '\n', 0x00, 0x80, 0x13, 0xff};
	expect_fail_len("binary garbage", (const char *)bin, sizeof(bin), "byte 4: binary byte 0x00");
	expect_fail("empty", "", "no data lines");
	expect_fail("only comments", "# a\n# b\n", "no data lines");
	expect_fail("negative", "# c\n1\n-2\n3\n", "line 3: negative counts (-2)");
	expect_fail("NaN", "1\nnan\n3\n", "line 2: column 1: not a number");
	expect_fail("Inf", "1\n2\ninf\n", "line 3: column 1: not a number");
	expect_fail("word", "1\n2\nthree\n", "line 3: column 1: not a number");
	expect_fail("decimal comma", "1\n2,5\n", "line 2: column 1: not a number");
	expect_fail("bad second column", "0 1\n1 x\n", "line 2: column 2: not a number");
	expect_fail("three columns", "0 1 2\n", "line 1: 3 or more columns");
	expect_fail("column count changes", "0 1\n1 2\n3\n", "line 3: 1 column(s) where the data began with 2");
	expect_fail("comment in data", "1\n# late\n2\n", "line 2: comment line inside the data");
	expect_fail("energy not increasing", "0.5 1\n0.4 2\n0.6 3\n", "data row 2: x = 0.4 does not increase");
	expect_fail("energy not smooth", "0.1 1\n0.2 1\n0.3 1\n0.4 1\n2.5 1\n2.6 1\n2.7 1\n",
	            "off a smooth energy axis");
	expect_fail("one energy row", "0.5 1\n", "line 1: one row with x = 0.5");
	expect_fail("channels beyond the maximum", "16383 1\n16384 2\n", "line 1: channels 16383..16384: more than 16384");

	/* more rows than channels allowed */
	size_t n = 16385 * 2;
	char *big = malloc(n + 1);
	for (size_t i = 0; i < n; i += 2) {
		big[i] = '1';
		big[i + 1] = '\n';
	}
	big[n] = '\0';
	expect_fail("too many rows", big, "line 16385: more than 16384 channels");
	free(big);
}

int main(void)
{
	test_one_column();
	test_two_columns();
	test_probe();
	test_malformed();
	return mg_test_finish("test_columns");
}
