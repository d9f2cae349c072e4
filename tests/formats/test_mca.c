/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Amptek .mca: reading hand-written files (CRLF, latin-1, trailing blanks,
 * every section), rejecting malformed ones with the line, and exact round
 * trips of spectra built here and read from files.
 *
 * `test_mca --peer-write DIR [DATA_DIR]` instead writes the files the PyMca
 * peer test (peer_pymca.py) reads: NAME.mca, NAME.msa, NAME.ems (the .msa
 * under the name PyMca's EMSA parser wants) and NAME.expect (what magassay
 * reads back from them). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fields.h"
#include "magassay/error.h"
#include "magassay/format.h"

static const mg_format *mca;

/* ---- helpers ------------------------------------------------------------- */

static int kv_same(const mg_kv *x, const mg_kv *y)
{
	return !strcmp(x->key, y->key) && !strcmp(x->value, y->value) &&
	       ((!x->comment && !y->comment) || (x->comment && y->comment && !strcmp(x->comment, y->comment)));
}

/* The same meta entries, in any order. */
static int meta_same_set(const mg_kvlist *a, const mg_kvlist *b)
{
	if (a->count != b->count)
		return 0;
	char used[256] = {0};
	for (size_t i = 0; i < a->count; i++) {
		size_t j;
		for (j = 0; j < b->count && j < sizeof(used); j++)
			if (!used[j] && kv_same(&a->items[i], &b->items[j]))
				break;
		if (j == b->count || j == sizeof(used))
			return 0;
		used[j] = 1;
	}
	return 1;
}

static int unordered_meta;

/* Every named field, the counts bit for bit, and meta with comments (in order
 * unless unordered_meta). */
static int spectra_equal(const mg_spectrum *a, const mg_spectrum *b, const char *what)
{
	int ok = 1;
	if (a->nchan != b->nchan) {
		fprintf(stderr, "%s: %zu vs %zu channels\n", what, a->nchan, b->nchan);
		return 0;
	}
	for (size_t i = 0; i < a->nchan; i++) {
		if (memcmp(&a->counts[i], &b->counts[i], sizeof(double)) != 0) {
			fprintf(stderr, "%s: channel %zu: %.17g vs %.17g\n", what, i, a->counts[i], b->counts[i]);
			ok = 0;
			break;
		}
	}
	mg_spectrum ta = *a, tb = *b;
	memset(&ta.meta, 0, sizeof(ta.meta));
	memset(&tb.meta, 0, sizeof(tb.meta));
	mg_buf ba, bb;
	mg_buf_init(&ba);
	mg_buf_init(&bb);
	mg_fields_write(&ta, &ba, "  ", " = ");
	mg_fields_write(&tb, &bb, "  ", " = ");
	if (ba.len != bb.len || (ba.len && memcmp(ba.data, bb.data, ba.len) != 0)) {
		fprintf(stderr, "%s: fields differ:\n%s  ---\n%s", what, ba.data ? ba.data : "",
		        bb.data ? bb.data : "");
		ok = 0;
	}
	mg_buf_free(&ba);
	mg_buf_free(&bb);
	if (unordered_meta) {
		if (!meta_same_set(&a->meta, &b->meta)) {
			fprintf(stderr, "%s: meta entries differ\n", what);
			ok = 0;
		}
		return ok;
	}
	size_t n = a->meta.count > b->meta.count ? a->meta.count : b->meta.count;
	for (size_t i = 0; i < n; i++) {
		const mg_kv *x = i < a->meta.count ? &a->meta.items[i] : NULL;
		const mg_kv *y = i < b->meta.count ? &b->meta.items[i] : NULL;
		if (!x || !y || !kv_same(x, y)) {
			fprintf(stderr, "%s: meta[%zu]: '%s'='%s' (%s) vs '%s'='%s' (%s)\n", what, i, x ? x->key : "-",
			        x ? x->value : "-", x && x->comment ? x->comment : "", y ? y->key : "-",
			        y ? y->value : "-", y && y->comment ? y->comment : "");
			ok = 0;
			break;
		}
	}
	return ok;
}

static mg_spectrum *read_text(const char *text)
{
	mg_spectrum *s = NULL;
	int rc = mca->read((const unsigned char *)text, strlen(text), &s);
	if (rc != MG_OK) {
		fprintf(stderr, "read failed: %s\n", mg_error_detail());
		return NULL;
	}
	CHECK(mg_spectrum_validate(s) == MG_OK);
	return s;
}

static char *write_text(const mg_spectrum *s)
{
	mg_buf b;
	mg_buf_init(&b);
	int rc = mca->write(s, &b);
	if (rc != MG_OK) {
		fprintf(stderr, "write failed: %s\n", mg_error_detail());
		mg_buf_free(&b);
		return NULL;
	}
	return b.data;
}

/* write -> read equals the original; writing again gives the same bytes. */
static void check_round_trip(const mg_spectrum *s, const char *what)
{
	char *text = write_text(s);
	CHECK_MSG(text != NULL, "%s: write", what);
	if (!text)
		return;
	mg_spectrum *back = read_text(text);
	CHECK_MSG(back != NULL, "%s: the writer's output does not read back", what);
	if (back) {
		CHECK_MSG(spectra_equal(s, back, what), "%s: round trip not exact", what);
		char *again = write_text(back);
		CHECK_MSG(again && strcmp(again, text) == 0, "%s: second write differs", what);
		free(again);
	}
	mg_spectrum_free(back);
	free(text);
}

/* Expect a read failure with `code` whose detail contains `needle`. */
static void expect_fail(const char *text, size_t len, int code, const char *needle, const char *what)
{
	mg_spectrum *s = NULL;
	int rc = mca->read((const unsigned char *)text, len, &s);
	CHECK_MSG(rc == code, "%s: rc %d (%s), wanted %d", what, rc, mg_error_detail(), code);
	CHECK_MSG(s == NULL, "%s: a spectrum came back with the failure", what);
	if (needle)
		CHECK_MSG(strstr(mg_error_detail(), needle) != NULL, "%s: detail '%s' lacks '%s'", what,
		          mg_error_detail(), needle);
	if (rc == MG_OK)
		mg_spectrum_free(s);
}

static void expect_fail_str(const char *text, int code, const char *needle, const char *what)
{
	expect_fail(text, strlen(text), code, needle, what);
}

/* ---- a DppMCA file -------------------------------------------------------- */

#define HEAD                                                                                         \
	"<<PMCA SPECTRUM>>\r\n"                                                                      \
	"TAG - live_data\r\n"                                                                        \
	"DESCRIPTION - NdFeB scrap, 25 \xb5m Be window   \r\n"                                       \
	"GAIN - 2\r\n"                                                                               \
	"THRESHOLD - 0\r\n"                                                                          \
	"LIVE_MODE - 0\r\n"                                                                          \
	"PRESET_TIME - 120\r\n"                                                                      \
	"LIVE_TIME - 109.680000\r\n"                                                                 \
	"REAL_TIME - 120.000000\r\n"                                                                 \
	"START_TIME - 10/03/2011 10:16:08\r\n"                                                       \
	"SERIAL_NUMBER - 1668\r\n"

static const char dppmca[] =
	HEAD
	"<<CALIBRATION>>\r\n"
	"LABEL - keV\r\n"
	"2 6.404\r\n"
	"6 8.048  \r\n"
	"<<ROI>>\r\n"
	"1 3\r\n"
	"<<DATA>>\r\n"
	"0\r\n17\r\n250\r\n1033  \r\n420\r\n8\r\n1\r\n0\r\n"
	"<<END>>\r\n"
	"<<DP5 CONFIGURATION>>\r\n"
	"RESC=?;    Reset Configuration\r\n"
	"TPEA=1.600;    Peaking Time\r\n"
	"MCAC=8;    MCA/MCS Channels\r\n"
	"PRET=120.0;    Preset Time\r\n"
	"PREC=OFF;    Preset Counts\r\n"
	"<<DP5 CONFIGURATION END>>\r\n"
	"<<DPP STATUS>>\r\n"
	"Device Type: DP5\r\n"
	"Serial Number: 1668\r\n"
	"Firmware: 6.08  \r\n"
	"FPGA: 6.04\r\n"
	"Fast Count: 123456\r\n"
	"<<DPP STATUS END>>\r\n"
	"<<PMCA CONFIGURATION>>\r\n"
	"PURE=ON\r\n"
	"<<PMCA CONFIGURATION END>>\r\n";

static char *crlf_to_lf(const char *in)
{
	char *out = malloc(strlen(in) + 1), *o = out;
	for (; *in; in++)
		if (*in != '\r')
			*o++ = *in;
	*o = '\0';
	return out;
}

static void test_read_dppmca(void)
{
	mg_spectrum *s = read_text(dppmca);
	CHECK(s != NULL);
	if (!s)
		return;
	static const double want[] = {0, 17, 250, 1033, 420, 8, 1, 0};
	CHECK(s->nchan == 8);
	for (size_t i = 0; i < 8 && s->nchan == 8; i++)
		CHECK(s->counts[i] == want[i]);
	CHECK_NEAR(s->live_time_s, 109.68, 1e-12);
	CHECK_NEAR(s->real_time_s, 120.0, 1e-12);
	CHECK(strcmp(s->start_time, "2011-10-03T10:16:08") == 0);
	CHECK(s->instrument.serial && strcmp(s->instrument.serial, "1668") == 0);
	CHECK(s->instrument.model && strcmp(s->instrument.model, "DP5") == 0);
	CHECK(s->instrument.firmware && strcmp(s->instrument.firmware, "6.08/FPGA 6.04") == 0);
	/* latin-1 micro sign -> UTF-8, trailing blanks gone */
	CHECK(s->sample.description && strcmp(s->sample.description, "NdFeB scrap, 25 \xc2\xb5m Be window") == 0);
	CHECK_NEAR(s->acq.preset_time_s, 120.0, 0);
	CHECK_NEAR(s->acq.peaking_time_us, 1.6, 1e-12);
	CHECK(isnan(s->acq.preset_counts)); /* PREC=OFF */
	CHECK(s->cal.valid);
	CHECK_NEAR(s->cal.gain_kev, (8.048 - 6.404) / 4, 1e-12);
	CHECK_NEAR(s->cal.offset_kev, 6.404 - 2 * (8.048 - 6.404) / 4, 1e-12);
	CHECK(s->cal.quad_kev == 0);
	const mg_kvlist *m = &s->meta;
	CHECK(mg_kvlist_get(m, "mca.header.TAG") == NULL); /* the writer's default */
	CHECK(mg_kvlist_get(m, "mca.header.GAIN") && strcmp(mg_kvlist_get(m, "mca.header.GAIN"), "2") == 0);
	CHECK(mg_kvlist_get(m, "mca.calibration.points") &&
	      strcmp(mg_kvlist_get(m, "mca.calibration.points"), "2 6.404; 6 8.048") == 0);
	CHECK(mg_kvlist_get(m, "mca.calibration.label") && strcmp(mg_kvlist_get(m, "mca.calibration.label"), "keV") == 0);
	CHECK(mg_kvlist_get(m, "mca.roi") && strcmp(mg_kvlist_get(m, "mca.roi"), "1 3") == 0);
	const mg_kv *tpea = mg_kvlist_find(m, "dp5.config.TPEA");
	CHECK(tpea && strcmp(tpea->value, "1.600") == 0 && tpea->comment && strcmp(tpea->comment, "Peaking Time") == 0);
	CHECK(mg_kvlist_get(m, "dp5.config.PREC") && strcmp(mg_kvlist_get(m, "dp5.config.PREC"), "OFF") == 0);
	CHECK(mg_kvlist_get(m, "dp5.status.Fast Count") && strcmp(mg_kvlist_get(m, "dp5.status.Fast Count"), "123456") == 0);
	size_t unknown = 0;
	for (size_t i = 0; i < m->count; i++)
		unknown += strcmp(m->items[i].key, "mca.section.PMCA CONFIGURATION") == 0;
	CHECK(unknown == 2); /* "PURE=ON" and its end line */

	/* the same file with LF line ends */
	char *lf = crlf_to_lf(dppmca);
	mg_spectrum *s2 = read_text(lf);
	CHECK(s2 && spectra_equal(s, s2, "LF vs CRLF"));
	mg_spectrum_free(s2);
	free(lf);

	/* written back: Amptek's sections, the raw pairs, nothing for <<MAGASSAY>> */
	char *text = write_text(s);
	CHECK(text != NULL);
	if (text) {
		CHECK(strstr(text, "<<CALIBRATION>>\r\nLABEL - keV\r\n2 6.404\r\n6 8.048\r\n") != NULL);
		CHECK(strstr(text, "GAIN - 2\r\n") != NULL);
		CHECK(strstr(text, "TPEA=1.600;    Peaking Time\r\n") != NULL);
		CHECK(strstr(text, "<<PMCA CONFIGURATION>>\r\nPURE=ON\r\n<<PMCA CONFIGURATION END>>\r\n") != NULL);
		CHECK(strstr(text, "DESCRIPTION - NdFeB scrap, 25 \xb5m Be window\r\n") != NULL); /* latin-1 again */
		CHECK(strstr(text, "<<MAGASSAY>>") == NULL);
		free(text);
	}
	check_round_trip(s, "DppMCA file");
	mg_spectrum_free(s);
}

static void test_read_variants(void)
{
	/* LIVE_TIME 0 = unknown (the Amptek VB sample writes it), no calibration section */
	mg_spectrum *s = read_text("<<PMCA SPECTRUM>>\nLIVE_TIME - 0\nREAL_TIME - 12.5\n<<DATA>>\n5\n6\n<<END>>\n");
	CHECK(s && isnan(s->live_time_s) && s->real_time_s == 12.5 && !s->cal.valid && s->nchan == 2);
	if (s)
		check_round_trip(s, "LIVE_TIME 0");
	mg_spectrum_free(s);

	/* three points: the quadratic through them */
	s = read_text("<<PMCA SPECTRUM>>\n<<CALIBRATION>>\nLABEL - keV\n0 0.1\n100 1.2\n200 2.5\n<<DATA>>\n1\n<<END>>\n");
	CHECK(s && s->cal.valid);
	if (s) {
		CHECK_NEAR(mg_spectrum_energy(s, 0), 0.1, 1e-12);
		CHECK_NEAR(mg_spectrum_energy(s, 100), 1.2, 1e-12);
		CHECK_NEAR(mg_spectrum_energy(s, 200), 2.5, 1e-12);
		CHECK(s->cal.quad_kev != 0);
		check_round_trip(s, "3-point calibration");
	}
	mg_spectrum_free(s);

	/* three points on a line: a line (no round-off quadratic term); eV label */
	s = read_text("<<PMCA SPECTRUM>>\n<<CALIBRATION>>\nLABEL - eV\n10 100\n20 200\n40 400\n<<DATA>>\n1\n<<END>>\n");
	CHECK(s && s->cal.valid && s->cal.quad_kev == 0);
	if (s)
		CHECK_NEAR(s->cal.gain_kev, 0.01, 1e-15);
	mg_spectrum_free(s);

	/* "Channel" label: no energy calibration, the pairs kept */
	s = read_text("<<PMCA SPECTRUM>>\n<<CALIBRATION>>\nLABEL - Channel\n10 10\n20 20\n<<DATA>>\n1\n2\n<<END>>\n");
	CHECK(s && !s->cal.valid && mg_kvlist_get(&s->meta, "mca.calibration.points"));
	if (s)
		check_round_trip(s, "Channel label");
	mg_spectrum_free(s);

	/* an unknown section before the data, an empty one after; START_TIME odd */
	s = read_text("<<PMCA SPECTRUM>>\nSTART_TIME - yesterday\nMCA_TYPE - 8000D\n<<PMCA CONFIG>>\nX=1\n"
	              "<<DATA>>\n3\n<<END>>\n<<EMPTY>>\n");
	CHECK(s && !s->start_time[0]);
	if (s) {
		CHECK(mg_kvlist_get(&s->meta, "mca.header.START_TIME") &&
		      !strcmp(mg_kvlist_get(&s->meta, "mca.header.START_TIME"), "yesterday"));
		CHECK(mg_kvlist_get(&s->meta, "mca.header.MCA_TYPE"));
		CHECK(mg_kvlist_get(&s->meta, "mca.presection.PMCA CONFIG"));
		CHECK(mg_kvlist_find(&s->meta, "mca.section.EMPTY"));
		char *text = write_text(s);
		CHECK(text && strstr(text, "<<PMCA CONFIG>>\r\nX=1\r\n<<DATA>>") && strstr(text, "<<END>>\r\n<<EMPTY>>\r\n"));
		free(text);
		check_round_trip(s, "unknown sections");
	}
	mg_spectrum_free(s);

	/* a UTF-8 byte order mark and a lone-CR file */
	s = read_text("\xef\xbb\xbf<<PMCA SPECTRUM>>\rDESCRIPTION - x\r<<DATA>>\r7\r<<END>>\r");
	CHECK(s && s->nchan == 1 && s->counts[0] == 7);
	mg_spectrum_free(s);

	CHECK(mca->probe((const unsigned char *)dppmca, strlen(dppmca)) == 100);
	CHECK(mca->probe((const unsigned char *)"#FORMAT : EMSA/MAS", 18) == 0);
	CHECK(mca->probe((const unsigned char *)"channel,counts\n0,1\n", 19) == 0);
	const mg_format *f = mg_format_detect((const unsigned char *)dppmca, strlen(dppmca));
	CHECK(f && f->id == MG_FORMAT_MCA);
}

static void test_malformed(void)
{
	char buf[512];
	expect_fail_str(HEAD "<<DATA>>\r\n1\r\n2\r\n", MG_ERR_FORMAT, "line 14: the file ends inside <<DATA>>",
	                "truncated (no <<END>>)");
	expect_fail_str(HEAD "<<DATA>>\r\n1\r\n-2\r\n<<END>>\r\n", MG_ERR_FORMAT, "line 14: negative count",
	                "negative count");
	expect_fail_str(HEAD "<<DATA>>\r\n1\r\n2.5\r\n<<END>>\r\n", MG_ERR_FORMAT, "line 14: count 2.5 is not a whole",
	                "fractional count");
	expect_fail_str(HEAD "<<DATA>>\r\nnan\r\n<<END>>\r\n", MG_ERR_FORMAT, "line 13: 'nan' is not a count", "NaN");
	expect_fail_str(HEAD "<<DATA>>\r\n12\r\n1x3\r\n<<END>>\r\n", MG_ERR_FORMAT, "line 14: '1x3' is not a count",
	                "garbage count");
	expect_fail_str(HEAD "<<DATA>>\r\n12\r\n\r\n3\r\n<<END>>\r\n", MG_ERR_FORMAT, "line 14: empty line",
	                "blank line in the data");
	expect_fail_str(HEAD "<<DATA>>\r\n<<END>>\r\n", MG_ERR_FORMAT, "line 12: no counts", "empty data");
	expect_fail_str(HEAD "<<CALIBRATION>>\r\n", MG_ERR_FORMAT, "no <<DATA>> section", "missing <<DATA>>");
	expect_fail_str("<<PMCA SPECTRUM>>\n<<END>>\n", MG_ERR_FORMAT, "line 2: <<END>> without <<DATA>>", "stray <<END>>");
	expect_fail_str("PMCA SPECTRUM\n<<DATA>>\n1\n<<END>>\n", MG_ERR_FORMAT, "line 1: not an Amptek", "no magic");
	expect_fail_str("<<PMCA SPECTRUM>>\nLIVE_TIME - fast\n<<DATA>>\n1\n<<END>>\n", MG_ERR_FORMAT,
	                "line 2: LIVE_TIME 'fast' is not a time", "bad LIVE_TIME");
	expect_fail_str("<<PMCA SPECTRUM>>\nREAL_TIME - -3\n<<DATA>>\n1\n<<END>>\n", MG_ERR_FORMAT, "line 2:",
	                "negative REAL_TIME");
	expect_fail_str("<<PMCA SPECTRUM>>\nno separator here\n<<DATA>>\n1\n<<END>>\n", MG_ERR_FORMAT,
	                "line 2: expected 'KEY - value'", "header without ' - '");
	expect_fail_str("<<PMCA SPECTRUM>>\n<<CALIBRATION>>\nLABEL - keV\n12 six\n<<DATA>>\n1\n<<END>>\n",
	                MG_ERR_FORMAT, "line 4: expected 'channel energy'", "bad calibration pair");
	expect_fail_str("<<PMCA SPECTRUM>>\n<<CALIBRATION>>\n5 1.0\n5 2.0\n<<DATA>>\n1\n<<END>>\n", MG_ERR_FORMAT,
	                "line 2: <<CALIBRATION>>", "calibration points at one channel");
	expect_fail_str("<<PMCA SPECTRUM>>\n<<DATA>>\n1\n2\n<<END>>\n<<DP5 CONFIGURATION>>\nMCAC=4;    Channels\n",
	                MG_ERR_FORMAT, "line 7: MCAC=4 in <<DP5 CONFIGURATION>> but <<DATA>> (line 2) holds 2",
	                "MCAC mismatch");
	expect_fail_str("<<PMCA SPECTRUM>>\n<<DATA>>\n1\n<<END>>\n<<DP5 CONFIGURATION>>\nTPEA 1.6\n", MG_ERR_FORMAT,
	                "line 6: expected 'CMD=value;'", "config line without '='");
	expect_fail_str("<<PMCA SPECTRUM>>\n<<DATA>>\n1\n<<DPP STATUS>>\nDevice Type: DP5\n", MG_ERR_FORMAT,
	                "line 4: <<DPP STATUS>> inside <<DATA>>", "section inside data");
	expect_fail_str("<<PMCA SPECTRUM>>\n<<DATA>>\n1\n<<END>>\n<<DATA>>\n1\n<<END>>\n", MG_ERR_UNSUPPORTED,
	                "line 5: a second <<DATA>>", "two spectra");
	expect_fail_str("<<PMCA SPECTRUM>>\n<<DATA>>\n1\n<<END>>\nstray text\n", MG_ERR_FORMAT,
	                "line 5: text outside any", "text after <<END>>");
	expect_fail_str("<<PMCA SPECTRUM>>\n<<DATA>>\n1\n<<END>>\n<<MAGASSAY>>\nlive_time_s: soon\n", MG_ERR_FORMAT,
	                "line 6: <<MAGASSAY>>", "bad <<MAGASSAY>> value");
	expect_fail_str("", MG_ERR_FORMAT, NULL, "empty");
	/* binary garbage: a NUL byte, and pseudo-random bytes */
	static const char nul[] = "<<PMCA SPECTRUM>>\n<<DATA>>\n1\0\n<<END>>\n";
	expect_fail(nul, sizeof(nul) - 1, MG_ERR_FORMAT, "line 3: binary byte 0x00", "NUL byte");
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (char)(x >> 16);
	}
	memcpy(buf, "<<PMCA SPECTRUM>>\n", 18);
	expect_fail(buf, sizeof(buf), MG_ERR_FORMAT, NULL, "random bytes");
	/* absurd channel counts */
	mg_buf b;
	mg_buf_init(&b);
	mg_buf_puts(&b, "<<PMCA SPECTRUM>>\n<<DATA>>\n");
	for (int i = 0; i <= MG_SPECTRUM_MAX_CHANNELS; i++)
		mg_buf_puts(&b, "1\n");
	mg_buf_puts(&b, "<<END>>\n");
	snprintf(buf, sizeof(buf), "line %d: more than %d channels", MG_SPECTRUM_MAX_CHANNELS + 3,
	         MG_SPECTRUM_MAX_CHANNELS);
	expect_fail(b.data, b.len, MG_ERR_FORMAT, buf, "16385 channels");
	mg_buf_free(&b);
	expect_fail_str("<<PMCA SPECTRUM>>\n<<DATA>>\n1\n<<END>>\n<<DP5 CONFIGURATION>>\nMCAC=100000000000;\n",
	                MG_ERR_FORMAT, "line 6: MCAC", "absurd MCAC");

	/* through the registry: the file name and the format lead the detail */
	mg_spectrum *s = NULL;
	const char *bad = "<<PMCA SPECTRUM>>\n<<DATA>>\n-1\n<<END>>\n";
	CHECK_RC(mg_spectrum_read_mem((const unsigned char *)bad, strlen(bad), "bad.mca", NULL, &s), MG_ERR_FORMAT);
	CHECK(strstr(mg_error_detail(), "bad.mca: mca file: line 3: negative count") != NULL);
	CHECK(s == NULL);
}

/* ---- writing ------------------------------------------------------------- */

static mg_spectrum *built(size_t nchan)
{
	mg_spectrum *s = mg_spectrum_new(nchan);
	for (size_t i = 0; i < nchan; i++)
		s->counts[i] = (double)((i * 7919u) % 1000u) + (i == nchan / 2 ? 123456789.0 : 0);
	s->cal = (mg_energy_cal){1, -0.0123, 0.0195, 0};
	s->live_time_s = 118.765;
	s->real_time_s = 120.0;
	snprintf(s->start_time, sizeof(s->start_time), "2024-05-06T07:08:09");
	mg_str_set(&s->instrument.model, "X-123SDD");
	mg_str_set(&s->instrument.serial, "SN-42");
	mg_str_set(&s->instrument.firmware, "6.08/FPGA 6.04");
	mg_str_set(&s->instrument.detector, "SDD 25 mm2 500 um");
	mg_str_set(&s->acq.anode, "Rh");
	s->acq.tube_kv = 40;
	s->acq.tube_ua = 25.5;
	mg_str_set(&s->acq.filter, "Al:100");
	s->acq.peaking_time_us = 1.6;
	s->acq.preset_time_s = 100;
	s->acq.preset_counts = 1e6;
	s->acq.takeoff_deg = 45;
	s->acq.incidence_deg = 60;
	mg_str_set(&s->acq.atmosphere, "vacuum");
	mg_str_set(&s->sample.sample_id, "S-001");
	mg_str_set(&s->sample.batch_id, "B-7");
	mg_str_set(&s->sample.operator_name, "Zo\xc3\xab");                       /* latin-1 can carry it */
	mg_str_set(&s->sample.description, "Recycled NdFeB \xe2\x80\x93 lot 7"); /* en dash: UTF-8 */
	char mcac[16];
	snprintf(mcac, sizeof(mcac), "%zu", nchan);
	mg_kvlist_add(&s->meta, "dp5.config.TPEA", "1.600", "Peaking Time");
	mg_kvlist_add(&s->meta, "dp5.config.MCAC", mcac, "MCA/MCS Channels");
	mg_kvlist_add(&s->meta, "dp5.status.Device Type", "X-123SDD", NULL);
	mg_kvlist_add(&s->meta, "dp5.status.Firmware", "6.08", NULL);
	mg_kvlist_add(&s->meta, "dp5.status.FPGA", "6.04", NULL);
	mg_kvlist_add(&s->meta, "dp5.status.Fast Count", "98765", NULL);
	mg_kvlist_add(&s->meta, "csv.comment", "from the line", NULL);
	mg_kvlist_add(&s->meta, "msa.##FANO", "0.11", "Fano factor");
	return s;
}

static void test_write(void)
{
	mg_spectrum *s = built(1024);
	char *text = write_text(s);
	CHECK(text != NULL);
	if (text) {
		/* CRLF only */
		int bare = 0;
		for (const char *p = text; *p; p++)
			bare += *p == '\n' && (p == text || p[-1] != '\r');
		CHECK(bare == 0);
		/* Amptek's order, then ours */
		const char *order[] = {"<<PMCA SPECTRUM>>\r\nTAG - live_data\r\nDESCRIPTION - ",
		                       ("GAIN - 2\r\nTHRESHOLD - 0\r\nLIVE_MODE - 0\r\nPRESET_TIME - 100\r\n"
		                        "LIVE_TIME - 118.765\r\nREAL_TIME - 120\r\nSTART_TIME - 05/06/2024 07:08:09\r\n"
		                        "SERIAL_NUMBER - SN-42\r\n"),
		                       "<<CALIBRATION>>\r\nLABEL - keV\r\n0 -0.0123\r\n1023 ", "<<DATA>>\r\n", "<<END>>\r\n",
		                       ("<<DP5 CONFIGURATION>>\r\nTPEA=1.600;    Peaking Time\r\nMCAC=1024;    MCA/MCS Channels\r\n"
		                        "<<DP5 CONFIGURATION END>>\r\n"),
		                       "<<DPP STATUS>>\r\nDevice Type: X-123SDD\r\n", "<<DPP STATUS END>>\r\n",
		                       "<<MAGASSAY>>\r\n", "acq.tube_kv: 40\r\n", "sample.operator: Zo\xeb\r\n",
		                       "meta.msa.##FANO: 0.11\r\n# Fano factor\r\n", "<<MAGASSAY END>>\r\n"};
		const char *at = text;
		for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
			const char *p = strstr(at, order[i]);
			CHECK_MSG(p != NULL, "'%s' missing or out of order", order[i]);
			if (p)
				at = p;
		}
		CHECK(strstr(text, "DESCRIPTION - Recycled NdFeB \xe2\x80\x93 lot 7\r\n") != NULL);
		char big[32];
		snprintf(big, sizeof(big), "\r\n%.0f\r\n", s->counts[512]);
		CHECK(strstr(text, big) != NULL); /* counts as integers */
		free(text);
	}
	check_round_trip(s, "built spectrum");

	/* through the file API: atomic write, detection on read */
	char path[512];
	snprintf(path, sizeof(path), "%s/built.mca", mg_test_tmpdir());
	CHECK_RC(mg_spectrum_write_file(s, path, mca), MG_OK);
	const mg_format *f = NULL;
	mg_spectrum *back = NULL;
	CHECK_RC(mg_spectrum_read_file(path, &f, &back), MG_OK);
	CHECK(f == mca && back && spectra_equal(s, back, "file round trip"));
	mg_spectrum_free(back);

	/* a quadratic calibration: three computed pairs, exact through <<MAGASSAY>> */
	s->cal.quad_kev = 2.5e-7;
	text = write_text(s);
	CHECK(text && strstr(text, "\r\n0 -0.0123\r\n511 ") && strstr(text, "calibration_kev: "));
	free(text);
	check_round_trip(s, "quadratic calibration");

	/* no calibration, no times, start time in UTC, zero live time, odd text */
	s->cal.valid = 0;
	s->real_time_s = NAN;
	s->live_time_s = 0;
	snprintf(s->start_time, sizeof(s->start_time), "2024-05-06T07:08:09.25Z");
	mg_str_set(&s->sample.description, "  padded \xc3\x83\xc2\xa9 ");
	mg_str_set(&s->instrument.serial, NULL);
	mg_kvlist_add(&s->meta, "dp5.config.MCAC", "99", NULL); /* a repeated, stale one */
	check_round_trip(s, "odd fields");
	text = write_text(s);
	CHECK(text && strstr(text, "START_TIME - 05/06/2024 07:08:09\r\n") && !strstr(text, "<<CALIBRATION>>"));
	free(text);

	/* a resized spectrum whose MCAC is now stale still writes a readable file */
	CHECK_RC(mg_spectrum_resize(s, 16384), MG_OK);
	text = write_text(s);
	CHECK(text && strstr(text, "GAIN - 6\r\n") && !strstr(text, "MCAC="));
	free(text);
	unordered_meta = 1; /* the stale MCAC moves to <<MAGASSAY>> */
	check_round_trip(s, "16384 channels");
	unordered_meta = 0;

	/* whole counts only */
	s->counts[3] = 2.5;
	mg_buf b;
	mg_buf_init(&b);
	CHECK_RC(mca->write(s, &b), MG_ERR_UNSUPPORTED);
	CHECK(strstr(mg_error_detail(), "channel 3 holds 2.5 counts") != NULL);
	mg_buf_free(&b);
	mg_spectrum_free(s);

	/* kept entries that would set a field the spectrum has unset travel in
	 * <<MAGASSAY>>, where they set nothing; any key survives (%XX escapes) */
	s = mg_spectrum_new(2);
	mg_kvlist_add(&s->meta, "dp5.status.Device Type", "DP5", NULL);
	mg_kvlist_add(&s->meta, "dp5.status.Serial Number", "77", NULL);
	mg_kvlist_add(&s->meta, "dp5.config.TPEA", "2.4", "Peaking Time");
	mg_kvlist_add(&s->meta, "mca.header.START_TIME", "01/02/2020 03:04:05", NULL);
	mg_kvlist_add(&s->meta, "mca.header.PRESET_TIME", "60", NULL);
	mg_kvlist_add(&s->meta, "odd: key %41\x01:", "v: w", "c");
	text = write_text(s);
	CHECK(text && strstr(text, "meta.odd%3A key %2541%01%3A: v: w\r\n# c\r\n") && !strstr(text, "<<DPP STATUS>>"));
	free(text);
	check_round_trip(s, "unset fields, odd keys");
	mg_spectrum_free(s);

	/* a bare spectrum: nothing but counts, no <<MAGASSAY>> section */
	s = mg_spectrum_new(3);
	s->counts[1] = 5;
	text = write_text(s);
	CHECK(text && !strstr(text, "<<MAGASSAY>>") && !strstr(text, "SERIAL_NUMBER") && !strstr(text, "START_TIME"));
	free(text);
	check_round_trip(s, "bare spectrum");
	mg_spectrum_free(s);
}

/* ---- files for the PyMca peer test ----------------------------------------- */

static int peer_write_one(const char *dir, const char *name, const mg_spectrum *s)
{
	static const char *const ext[] = {"mca", "msa", "ems"};
	char path[1024];
	for (int i = 0; i < 3; i++) {
		const mg_format *fmt = mg_format_by_name(i == 0 ? "mca" : "msa");
		snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext[i]);
		if (mg_spectrum_write_file(s, path, fmt) != MG_OK) {
			fprintf(stderr, "%s: %s\n", path, mg_error_detail());
			return 1;
		}
		if (i == 2)
			break;
		/* what magassay reads back from the file it wrote */
		mg_spectrum *back = NULL;
		if (mg_spectrum_read_file(path, NULL, &back) != MG_OK) {
			fprintf(stderr, "%s: %s\n", path, mg_error_detail());
			return 1;
		}
		snprintf(path, sizeof(path), "%s/%s.%s.expect", dir, name, ext[i]);
		FILE *f = fopen(path, "w");
		if (!f) {
			perror(path);
			mg_spectrum_free(back);
			return 1;
		}
		fprintf(f, "nchan %zu\ncalibrated %d\noffset %.17g\ngain %.17g\nquad %.17g\nlive %.17g\nreal %.17g\n",
		        back->nchan, back->cal.valid, back->cal.offset_kev, back->cal.gain_kev, back->cal.quad_kev,
		        back->live_time_s, back->real_time_s);
		fprintf(f, "counts\n");
		for (size_t c = 0; c < back->nchan; c++)
			fprintf(f, "%.17g\n", back->counts[c]);
		fclose(f);
		mg_spectrum_free(back);
	}
	return 0;
}

static int peer_write(const char *dir, const char *data_dir)
{
	mg_spectrum *s = built(2048);
	int rc = peer_write_one(dir, "built", s);
	mg_spectrum_free(s);
	if (rc || !data_dir || !*data_dir)
		return rc;
	static const char *const real[] = {"Cu_50kv_50_ma_Rh_vac_D1", "Steel_50kv_50_ma_Rh_vac_D1"};
	for (size_t i = 0; i < 2 && !rc; i++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/nist-xrf-stainless/%s.msa", data_dir, real[i]);
		if (mg_spectrum_read_file(path, NULL, &s) != MG_OK) {
			fprintf(stderr, "%s\n", mg_error_detail());
			return 1;
		}
		rc = peer_write_one(dir, real[i], s);
		mg_spectrum_free(s);
	}
	return rc;
}

int main(int argc, char **argv)
{
	mca = mg_format_get(MG_FORMAT_MCA);
	if (argc >= 3 && strcmp(argv[1], "--peer-write") == 0)
		return peer_write(argv[2], argc >= 4 ? argv[3] : NULL);
	CHECK(mca && mca->read && mca->write && strcmp(mca->name, "mca") == 0);
	if (!mca)
		return 1;
	test_read_dppmca();
	test_read_variants();
	test_malformed();
	test_write();
	return mg_test_finish("test_mca");
}
