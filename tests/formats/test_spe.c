/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ORTEC .Spe reader: hand-written files, every malformed case named. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/format.h"

static const mg_format *fmt(void)
{
	return mg_format_get(MG_FORMAT_SPE);
}

static int read_text(const char *text, mg_spectrum **s)
{
	*s = NULL;
	return fmt()->read((const unsigned char *)text, strlen(text), s);
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

static size_t count_key(const mg_kvlist *m, const char *key)
{
	size_t k = 0;
	for (size_t i = 0; i < m->count; i++)
		k += strcmp(m->items[i].key, key) == 0;
	return k;
}

/* A MAESTRO-style file with every section. */
static const char full[] = "$SPEC_ID:\n"
                           "NdFeB magnet, batch 7\n"
                           "$SPEC_REM:\n"
                           "DET# 1\n"
                           "DETDESC# MCB 129\n"
                           "AP# Maestro Version 6.08\n"
                           "$DATE_MEA:\n"
                           "10/21/2010 11:46:14\n"
                           "$MEAS_TIM:\n"
                           "2193 2200\n"
                           "$DATA:\n"
                           "0 7\n"
                           "       0\n"
                           "       5\n"
                           "      17\n"
                           "       3\n"
                           "       1\n"
                           "       0\n"
                           "       2\n"
                           "       9\n"
                           "$ROI:\n"
                           "1\n"
                           "2 5\n"
                           "$PRESETS:\n"
                           "Live Time\n"
                           "2193\n"
                           "0\n"
                           "$ENER_FIT:\n"
                           "0.500000 0.250000\n"
                           "$MCA_CAL:\n"
                           "3\n"
                           "1.000000E-001 2.000000E-002 3.000000E-006 keV\n"
                           "$SHAPE_CAL:\n"
                           "3\n"
                           "3.000000E-001 0.000000E+000 0.000000E+000\n"
                           "$KMG_ID:\n"
                           "$FOO_BAR:\n"
                           "anything\n";

static void test_full(void)
{
	mg_spectrum *s;
	CHECK_RC(read_text(full, &s), MG_OK);
	if (!s)
		return;
	CHECK(s->nchan == 8);
	static const double want[8] = {0, 5, 17, 3, 1, 0, 2, 9};
	for (int i = 0; i < 8; i++)
		CHECK(s->counts[i] == want[i]);
	CHECK(s->sample.description && strcmp(s->sample.description, "NdFeB magnet, batch 7") == 0);
	CHECK(strcmp(s->start_time, "2010-10-21T11:46:14") == 0);
	CHECK_NEAR(s->live_time_s, 2193, 0);
	CHECK_NEAR(s->real_time_s, 2200, 0);
	/* $MCA_CAL: wins over $ENER_FIT:, which stays in meta */
	CHECK(s->cal.valid);
	CHECK_NEAR(s->cal.offset_kev, 0.1, 1e-12);
	CHECK_NEAR(s->cal.gain_kev, 0.02, 1e-12);
	CHECK_NEAR(s->cal.quad_kev, 3e-6, 1e-15);
	const mg_kvlist *m = &s->meta;
	CHECK(count_key(m, "spe.$SPEC_REM") == 3);
	CHECK(mg_kvlist_get(m, "spe.$SPEC_REM") && strcmp(mg_kvlist_get(m, "spe.$SPEC_REM"), "DET# 1") == 0);
	CHECK(count_key(m, "spe.$ROI") == 2);
	CHECK(count_key(m, "spe.$PRESETS") == 3);
	CHECK(mg_kvlist_get(m, "spe.$ENER_FIT") && strcmp(mg_kvlist_get(m, "spe.$ENER_FIT"), "0.500000 0.250000") == 0);
	CHECK(mg_kvlist_get(m, "spe.$MCA_CAL") == NULL);
	CHECK(count_key(m, "spe.$SHAPE_CAL") == 2);
	CHECK(mg_kvlist_get(m, "spe.$KMG_ID") && strcmp(mg_kvlist_get(m, "spe.$KMG_ID"), "") == 0);
	CHECK(mg_kvlist_get(m, "spe.$FOO_BAR") && strcmp(mg_kvlist_get(m, "spe.$FOO_BAR"), "anything") == 0);
	CHECK(mg_kvlist_get(m, "spe.$DATA") == NULL && mg_kvlist_get(m, "spe.$MEAS_TIM") == NULL);
	CHECK(mg_spectrum_validate(s) == MG_OK);
	mg_spectrum_free(s);
	CHECK(fmt()->probe((const unsigned char *)full, strlen(full)) == 100);
}

static void test_variants(void)
{
	mg_spectrum *s;
	/* PyMca's Steel.spe layout: empty $SPEC_ID:, several "9."-style floats per line, CRLF. */
	const char *pymca = "$SPEC_ID:\r\n\r\n$DATA:\r\n       0        9\r\n"
	                    "        0.        9.        5.        5.        5.        8.        8.        7.\r\n"
	                    "        7.        1.\r\n";
	CHECK_RC(read_text(pymca, &s), MG_OK);
	if (s) {
		CHECK(s->nchan == 10 && s->counts[1] == 9 && s->counts[9] == 1);
		CHECK_NEAR(mg_spectrum_total(s), 55, 0);
		CHECK(s->sample.description == NULL && !s->cal.valid && isnan(s->live_time_s));
		CHECK(s->start_time[0] == '\0');
		mg_spectrum_free(s);
	}
	CHECK(fmt()->probe((const unsigned char *)pymca, strlen(pymca)) == 100);

	/* first > 0: channels below it are zero, channel numbers kept; $ENER_FIT: alone. */
	const char *offset = "$DATA:\n3 5\n4 5 6\n$ENER_FIT:\n-0.1 0.01\n";
	CHECK_RC(read_text(offset, &s), MG_OK);
	if (s) {
		CHECK(s->nchan == 6 && s->counts[0] == 0 && s->counts[2] == 0 && s->counts[3] == 4 &&
		      s->counts[5] == 6);
		CHECK(mg_kvlist_get(&s->meta, "spe.first_channel") &&
		      strcmp(mg_kvlist_get(&s->meta, "spe.first_channel"), "3") == 0);
		CHECK(s->cal.valid && s->cal.offset_kev == -0.1 && s->cal.gain_kev == 0.01 && s->cal.quad_kev == 0);
		CHECK(mg_kvlist_get(&s->meta, "spe.$ENER_FIT") == NULL);
		mg_spectrum_free(s);
	}

	/* $MCA_CAL: in eV, two coefficients; an all-zero $ENER_FIT: stays in meta. */
	const char *ev = "$DATA:\n0 1\n1\n2\n$MCA_CAL:\n2\n-50 10 eV\n$ENER_FIT:\n0.000000 0.000000\n";
	CHECK_RC(read_text(ev, &s), MG_OK);
	if (s) {
		CHECK(s->cal.valid);
		CHECK_NEAR(s->cal.offset_kev, -0.05, 1e-15);
		CHECK_NEAR(s->cal.gain_kev, 0.01, 1e-15);
		CHECK(s->cal.quad_kev == 0);
		CHECK(mg_kvlist_get(&s->meta, "spe.$ENER_FIT") != NULL);
		mg_spectrum_free(s);
	}

	/* Uncalibrated (all-zero) $MCA_CAL: and $ENER_FIT: both stay in meta; no unit. */
	const char *zero = "$DATA:\n0 0\n7\n$MCA_CAL:\n3\n0 0 0\n$ENER_FIT:\n0 0\n";
	CHECK_RC(read_text(zero, &s), MG_OK);
	if (s) {
		CHECK(!s->cal.valid);
		CHECK(mg_kvlist_get(&s->meta, "spe.$MCA_CAL") != NULL && mg_kvlist_get(&s->meta, "spe.$ENER_FIT") != NULL);
		mg_spectrum_free(s);
	}

	/* Probe */
	const char *csv = "channel,counts\n0,1\n";
	CHECK(fmt()->probe((const unsigned char *)csv, strlen(csv)) == 0);
	const char *late = "hello\n$DATA:\n0 0\n1\n";
	CHECK(fmt()->probe((const unsigned char *)late, strlen(late)) == 0);
}

static void test_malformed(void)
{
	const unsigned char garbage[] = {'$', 'D', 'A', 'T', 'A', ':', '\n', 0x00, 0xff, 0x01, 0x7f, 0x80};
	expect_fail_len("binary garbage", (const char *)garbage, sizeof(garbage), "byte 7: binary byte 0x00");
	expect_fail("empty", "", "no $KEYWORD: sections");
	expect_fail("no data", "$SPEC_ID:\nx\n", "no $DATA: section");
	expect_fail("text first", "hello\n$DATA:\n0 0\n1\n", "line 1: text before the first $KEYWORD: line");
	expect_fail("bad keyword", "$DATA:\n0 0\n1\n$DATE MEA:\n", "line 4: '$DATE MEA:' is not a $KEYWORD: line");
	expect_fail("keyword without colon", "$DATA\n0 0\n1\n", "line 1:");
	expect_fail("two $DATA", "$DATA:\n0 0\n1\n$DATA:\n0 0\n1\n", "line 4: a second $DATA: section");
	expect_fail("no first-last line", "$DATA:\n$ROI:\n0\n", "line 1: $DATA: without its 'first last' line");

	/* counts */
	expect_fail("fewer values", "$DATA:\n0 3\n1\n2\n3\n$ROI:\n0\n", "line 5: $DATA: 3 values where channels 0..3 need 4");
	expect_fail("fewer at eof", "$DATA:\n0 3\n1 2 3\n", "line 3: $DATA: 3 values where channels 0..3 need 4");
	expect_fail("more values", "$DATA:\n0 2\n1\n2\n3\n4\n", "line 6: $DATA: more values than channels 0..2 (3)");
	expect_fail("negative", "$DATA:\n0 2\n1\n-2\n3\n", "line 4: $DATA: negative counts (-2) in channel 1");
	expect_fail("non-numeric", "$DATA:\n0 2\n1\ntwo\n3\n", "line 4: $DATA: 'two' is not a number");
	expect_fail("NaN", "$DATA:\n0 2\n1\nnan\n3\n", "line 4: $DATA: 'nan' is not a number");
	expect_fail("Inf", "$DATA:\n0 2\n1 inf 3\n", "line 3: $DATA: 'inf' is not a number");
	expect_fail("last < first", "$DATA:\n5 2\n1\n", "line 2: $DATA: last channel 2 is below first 5");
	expect_fail("absurd size", "$DATA:\n0 99999\n1\n", "line 2: $DATA: channels 0..99999: more than 16384 channels");
	expect_fail("negative first", "$DATA:\n-1 2\n1\n", "line 2: $DATA: channels -1..2 are not non-negative");
	expect_fail("fractional", "$DATA:\n0 2.5\n1\n", "line 2:");
	expect_fail("one number", "$DATA:\n2047\n1\n", "line 2: $DATA: 'first last': 1 value(s) where 2");
	expect_fail("three numbers", "$DATA:\n0 1 2\n1\n", "line 2: $DATA: 'first last': more than 2 values");

	/* other sections */
	expect_fail("bad date", "$DATE_MEA:\n2010-10-21 11:46:14\n$DATA:\n0 0\n1\n",
	            "line 2: $DATE_MEA: '2010-10-21 11:46:14' is not mm/dd/yyyy hh:mm:ss");
	expect_fail("impossible date", "$DATE_MEA:\n13/21/2010 11:46:14\n$DATA:\n0 0\n1\n", "line 2: $DATE_MEA:");
	expect_fail("date two lines", "$DATE_MEA:\n10/21/2010 11:46:14\nx\n$DATA:\n0 0\n1\n",
	            "line 3: $DATE_MEA: more than one line");
	expect_fail("bad times", "$MEAS_TIM:\n2193\n$DATA:\n0 0\n1\n", "line 2: $MEAS_TIM: 'live real': 1 value(s)");
	expect_fail("non-numeric time", "$MEAS_TIM:\n2193 abc\n$DATA:\n0 0\n1\n", "line 2: $MEAS_TIM: 'live real': 'abc'");
	expect_fail("negative time", "$MEAS_TIM:\n-1 5\n$DATA:\n0 0\n1\n", "line 2: $MEAS_TIM: negative time");
	expect_fail("empty time", "$MEAS_TIM:\n$DATA:\n0 0\n1\n", "line 1: $MEAS_TIM: 0 lines");
	expect_fail("ener_fit", "$DATA:\n0 0\n1\n$ENER_FIT:\n0.1\n", "line 5: $ENER_FIT:: 1 value(s) where 2");
	expect_fail("mca_cal count", "$DATA:\n0 0\n1\n$MCA_CAL:\n3\n0.1 0.02 keV\n",
	            "line 6: $MCA_CAL: 2 coefficients where 3 were announced");
	expect_fail("mca_cal extra", "$DATA:\n0 0\n1\n$MCA_CAL:\n2\n0.1 0.02 0.3\n",
	            "line 6: $MCA_CAL: more than 2 coefficients");
	expect_fail("mca_cal unit", "$DATA:\n0 0\n1\n$MCA_CAL:\n2\n0.1 0.02 furlongs\n",
	            "line 6: $MCA_CAL: unknown energy unit 'furlongs'");
	expect_fail("mca_cal n", "$DATA:\n0 0\n1\n$MCA_CAL:\n7\n1 2 3 4 5 6 7\n",
	            "line 5: $MCA_CAL: 7 coefficients (1..3 supported)");
	expect_fail("mca_cal NaN", "$DATA:\n0 0\n1\n$MCA_CAL:\n2\nnan 1\n", "line 6: $MCA_CAL: 'nan' is not a number");
	expect_fail("two $MEAS_TIM", "$MEAS_TIM:\n1 1\n$MEAS_TIM:\n1 1\n$DATA:\n0 0\n1\n",
	            "line 3: a second $MEAS_TIM: section (the first is at line 1)");
}

int main(void)
{
	test_full();
	test_variants();
	test_malformed();
	return mg_test_finish("test_spe");
}
