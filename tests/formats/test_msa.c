/* SPDX-License-Identifier: GPL-3.0-or-later */
/* EMSA/MSA: reading hand-written files (Bruker's layout, CRLF, trailing
 * blanks, "2048." numbers, units, NCOLUMNS 1..5, XY data), rejecting malformed
 * ones with the line, and exact round trips. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fields.h"
#include "magassay/error.h"
#include "magassay/format.h"

static const mg_format *msa;

/* ---- helpers (as in test_mca.c) ------------------------------------------ */

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
	int rc = msa->read((const unsigned char *)text, strlen(text), &s);
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
	if (msa->write(s, &b) != MG_OK) {
		fprintf(stderr, "write failed: %s\n", mg_error_detail());
		mg_buf_free(&b);
		return NULL;
	}
	return b.data;
}

/* Every line of a written file ends in CRLF and holds at most 80 characters. */
static void check_lines(const char *text, const char *what)
{
	size_t longest = 0, bare = 0;
	for (const char *p = text; *p;) {
		const char *e = strchr(p, '\n');
		if (!e)
			break;
		size_t n = (size_t)(e - p);
		bare += n == 0 || p[n - 1] != '\r';
		if (n && p[n - 1] == '\r')
			n--;
		if (n > longest)
			longest = n;
		p = e + 1;
	}
	CHECK_MSG(longest <= 80, "%s: a line of %zu characters", what, longest);
	CHECK_MSG(bare == 0, "%s: %zu lines without CRLF", what, bare);
}

static void check_round_trip(const mg_spectrum *s, const char *what)
{
	char *text = write_text(s);
	CHECK_MSG(text != NULL, "%s: write", what);
	if (!text)
		return;
	check_lines(text, what);
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

static void expect_fail(const char *text, size_t len, int code, const char *needle, const char *what)
{
	mg_spectrum *s = NULL;
	int rc = msa->read((const unsigned char *)text, len, &s);
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

static const char *meta(const mg_spectrum *s, const char *key)
{
	const char *v = mg_kvlist_get(&s->meta, key);
	return v ? v : "(none)";
}

/* ---- reading --------------------------------------------------------------- */

/* Bruker's layout (see ../shared/data/nist-xrf-stainless), shortened. */
static const char bruker[] =
	"#FORMAT      : EMSA/MAS SPECTRAL DATA FILE\r\n"
	"#VERSION     : 1.0\r\n"
	"#TITLE       : Bruker AXS spectrum Fe.txt   \r\n"
	"#DATE        : 19-NOV-2019\r\n"
	"#TIME        : 11:39\r\n"
	"#OWNER       : Bruker AXS\r\n"
	"#NPOINTS     : 10.\r\n"
	"#NCOLUMNS    : 4.0\r\n"
	"#XUNITS      : keV\r\n"
	"#YUNITS      : Counts\r\n"
	"#DATATYPE    : Y\r\n"
	"#XPERCHAN    : 0.0099990\r\n"
	"#OFFSET      : -0.9553045\r\n"
	"#SIGNALTYPE  : EDS\r\n"
	"#CHOFFSET    : 96\r\n"
	"#LIVETIME  -s: 120.005\r\n"
	"#REALTIME  -s: 134.805\r\n"
	"#BEAMKV   -kV: 50.0\r\n"
	"#PROBECUR -nA: 50000.0\r\n"
	"#ELEVANGLE-dg: 45.0\r\n"
	"##RTDET      : XFlash 430\r\n"
	"#EDSDET      : \r\n"
	"#TDEADLYR -cm: 0.000003\r\n"
	"##MNFWHM -keV: 0.1439205\r\n"
	"#SPECTRUM    : \r\n"
	"         0.0,         1.0,         2.,        -2.0,\r\n"
	"    147265.0,    5,  6 7,\r\n"
	"  8.5  , 9   \r\n"
	"#ENDOFDATA   : \r\n";

static void test_read_bruker(void)
{
	mg_spectrum *s = read_text(bruker);
	CHECK(s != NULL);
	if (!s)
		return;
	static const double want[] = {0, 1, 2, 0, 147265, 5, 6, 7, 8.5, 9};
	CHECK(s->nchan == 10);
	for (size_t i = 0; i < 10 && s->nchan == 10; i++)
		CHECK(s->counts[i] == want[i]);
	CHECK(strcmp(meta(s, "msa.clamped_counts"), "3:-2") == 0);
	CHECK(s->cal.valid && s->cal.offset_kev == -0.9553045 && s->cal.gain_kev == 0.009999 && s->cal.quad_kev == 0);
	CHECK(s->live_time_s == 120.005 && s->real_time_s == 134.805);
	CHECK(strcmp(s->start_time, "2019-11-19T11:39:00") == 0);
	CHECK(s->acq.tube_kv == 50 && s->acq.tube_ua == 50 && s->acq.takeoff_deg == 45);
	CHECK(s->sample.description && strcmp(s->sample.description, "Bruker AXS spectrum Fe.txt") == 0);
	static const char *const keys[] = {"msa.#OWNER",   "msa.#YUNITS",        "msa.#SIGNALTYPE",
	                                   "msa.#CHOFFSET", "msa.##RTDET",       "msa.#EDSDET",
	                                   "msa.#TDEADLYR -cm", "msa.##MNFWHM -keV", "msa.clamped_counts"};
	static const char *const values[] = {"Bruker AXS", "Counts", "EDS", "96", "XFlash 430", "", "0.000003",
	                                     "0.1439205", "3:-2"};
	CHECK(s->meta.count == 9);
	for (size_t i = 0; i < 9 && i < s->meta.count; i++)
		CHECK_MSG(!strcmp(s->meta.items[i].key, keys[i]) && !strcmp(s->meta.items[i].value, values[i]),
		          "meta[%zu] '%s'='%s'", i, s->meta.items[i].key, s->meta.items[i].value);
	char *text = write_text(s);
	CHECK(text != NULL);
	if (text) {
		const char *order[] = {"#FORMAT      : EMSA/MAS Spectral Data File\r\n", "#VERSION     : 1.0\r\n",
		                       "#TITLE       : Bruker AXS spectrum Fe.txt\r\n", "#DATE        : 19-NOV-2019\r\n",
		                       "#TIME        : 11:39:00\r\n", "#OWNER       : Bruker AXS\r\n",
		                       "#NPOINTS     : 10\r\n", "#NCOLUMNS    : 1\r\n", "#XUNITS      : keV\r\n",
		                       "#YUNITS      : Counts\r\n", "#DATATYPE    : Y\r\n", "#XPERCHAN    : 0.009999\r\n",
		                       "#OFFSET      : -0.9553045\r\n", "#SIGNALTYPE  : EDS\r\n",
		                       "#LIVETIME  -s: 120.005\r\n", "#REALTIME  -s: 134.805\r\n",
		                       "#BEAMKV   -kV: 50\r\n", "#PROBECUR -nA: 50000\r\n", "#ELEVANGLE -dg: 45\r\n",
		                       "#CHOFFSET    : 96\r\n", "##RTDET      : XFlash 430\r\n", "#EDSDET      : \r\n",
		                       "#TDEADLYR -cm: 0.000003\r\n", "##MNFWHM -keV: 0.1439205\r\n",
		                       "#SPECTRUM    : ", "\r\n2\r\n-2\r\n147265\r\n", "\r\n8.5\r\n9\r\n#ENDOFDATA   : \r\n"};
		const char *at = text;
		for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
			const char *p = strstr(at, order[i]);
			CHECK_MSG(p != NULL, "'%s' missing or out of order", order[i]);
			if (p)
				at = p;
		}
		CHECK(strstr(text, "##MG_FIELD") == NULL); /* the standard keywords carry it all */
		free(text);
	}
	check_round_trip(s, "Bruker layout");

	/* LF line ends and no trailing blanks give the same spectrum */
	char *lf = strdup(bruker), *o = lf;
	for (const char *p = bruker; *p; p++)
		if (*p != '\r')
			*o++ = *p;
	*o = '\0';
	mg_spectrum *s2 = read_text(lf);
	CHECK(s2 && spectra_equal(s, s2, "LF vs CRLF"));
	mg_spectrum_free(s2);
	free(lf);
	mg_spectrum_free(s);

	CHECK(msa->probe((const unsigned char *)bruker, strlen(bruker)) == 100);
	CHECK(msa->probe((const unsigned char *)"#FORMAT : something\n", 20) == 50);
	CHECK(msa->probe((const unsigned char *)"<<PMCA SPECTRUM>>\n", 18) == 0);
	CHECK(msa->probe((const unsigned char *)"# magassay spectrum\nchannel,counts\n", 35) == 0);
	const mg_format *f = mg_format_detect((const unsigned char *)bruker, strlen(bruker));
	CHECK(f && f->id == MG_FORMAT_MSA);
}

#define MIN_HEAD(npoints, ncols, type, extra)                                                     \
	"#FORMAT      : EMSA/MAS Spectral Data File\n#VERSION     : 1.0\n#TITLE       : t\n"       \
	"#DATE        : \n#TIME        : \n#OWNER       : \n#NPOINTS     : " npoints "\n"          \
	"#NCOLUMNS    : " ncols "\n#XUNITS      : keV\n#YUNITS      : counts\n"                    \
	"#DATATYPE    : " type "\n#XPERCHAN    : 0.01\n#OFFSET      : 0\n" extra "#SPECTRUM    :\n"

static void test_read_layouts(void)
{
	/* NCOLUMNS 1..5: the same twelve values however they are laid out */
	mg_spectrum *first = NULL;
	for (int k = 1; k <= 5; k++) {
		mg_buf b;
		mg_buf_init(&b);
		mg_buf_printf(&b,
		              "#FORMAT      : EMSA/MAS Spectral Data File\r\n#VERSION     : 1.0\r\n#TITLE       : cols\r\n"
		              "#DATE        : 01-JAN-2020\r\n#TIME        : 00:00\r\n#OWNER       : \r\n"
		              "#NPOINTS     : 12.\r\n#NCOLUMNS    : %d.\r\n#XUNITS      : keV\r\n#YUNITS      : counts\r\n"
		              "#DATATYPE    : Y\r\n#XPERCHAN    : 0.02\r\n#OFFSET      : -0.1\r\n#SPECTRUM    :\r\n",
		              k);
		for (int i = 0; i < 12; i++)
			mg_buf_printf(&b, "%s%d.%s", i % k ? ", " : "", i * i, (i % k == k - 1 || i == 11) ? ",\r\n" : "");
		mg_buf_puts(&b, "#ENDOFDATA   :\r\n");
		mg_spectrum *s = read_text(b.data);
		CHECK_MSG(s && s->nchan == 12 && s->counts[11] == 121, "NCOLUMNS %d", k);
		if (s && first)
			CHECK_MSG(spectra_equal(first, s, "NCOLUMNS"), "NCOLUMNS %d differs from 1", k);
		if (!first)
			first = s;
		else
			mg_spectrum_free(s);
		mg_buf_free(&b);
	}
	mg_spectrum_free(first);

	/* XY in eV, one pair a line and two pairs a line */
	mg_spectrum *s = read_text(MIN_HEAD("4", "1", "XY", "") "100, 5\n110, 6\n120, 7, 130, 8\n#ENDOFDATA :\n");
	CHECK(s && s->nchan == 4 && s->counts[3] == 8);
	mg_spectrum_free(s);
	s = read_text("#FORMAT : EMSA/MAS Spectral Data File\n#NPOINTS : 4\n#XUNITS : eV\n#DATATYPE : XY\n"
	              "#SPECTRUM :\n100, 5\n110, 6\n120, 7, 130, 8\n#ENDOFDATA :\n");
	CHECK(s && s->cal.valid && s->cal.quad_kev == 0);
	if (s) {
		CHECK_NEAR(s->cal.offset_kev, 0.1, 1e-12);
		CHECK_NEAR(s->cal.gain_kev, 0.01, 1e-12);
		check_round_trip(s, "XY eV");
	}
	mg_spectrum_free(s);
	/* XY on a curve: the quadratic */
	mg_buf b;
	mg_buf_init(&b);
	mg_buf_puts(&b, MIN_HEAD("50", "1", "XY", ""));
	for (int i = 0; i < 50; i++)
		mg_buf_printf(&b, "%.9f, %d\n", 0.5 + 0.01 * i + 1e-5 * i * i, i);
	mg_buf_puts(&b, "#ENDOFDATA :\n");
	s = read_text(b.data);
	mg_buf_free(&b);
	CHECK(s && s->cal.valid);
	if (s) {
		CHECK_NEAR(s->cal.quad_kev, 1e-5, 1e-9);
		CHECK_NEAR(mg_spectrum_energy(s, 49), 0.5 + 0.49 + 1e-5 * 49 * 49, 1e-8);
		check_round_trip(s, "XY quadratic");
	}
	mg_spectrum_free(s);

	/* other units; no XUNITS: eV per channel when XPERCHAN >= 1 */
	s = read_text("#FORMAT : EMSA/MAS Spectral Data File\n#NPOINTS : 2\n#XPERCHAN : 10\n#OFFSET : -50\n"
	              "#LIVETIME -ms: 1500\n#REALTIME : 2\n#PROBECUR -uA: 25\n#BEAMKV -V: 15000\n"
	              "#SPECTRUM :\n1 2\n#ENDOFDATA :\n");
	CHECK(s && s->cal.valid && s->cal.gain_kev == 0.01 && s->cal.offset_kev == -0.05);
	CHECK(s && s->live_time_s == 1.5 && s->real_time_s == 2 && s->acq.tube_ua == 25 && s->acq.tube_kv == 15);
	mg_spectrum_free(s);
	s = read_text("#FORMAT : EMSA/MAS Spectral Data File\n#NPOINTS : 1\n#XPERCHAN : 0.01\n#LIVETIME -min: 2\n"
	              "#SPECTRUM :\n1\n#ENDOFDATA :\n");
	CHECK(s && s->cal.gain_kev == 0.01 && isnan(s->live_time_s) && !strcmp(meta(s, "msa.#LIVETIME -min"), "2"));
	if (s)
		check_round_trip(s, "unknown unit kept");
	mg_spectrum_free(s);

	/* not an energy axis: the x keywords are kept; "Channel" is the writer's default */
	s = read_text(MIN_HEAD("2", "1", "Y", "") "1, 2\n#ENDOFDATA :\n");
	mg_spectrum_free(s);
	s = read_text("#FORMAT : EMSA/MAS Spectral Data File\n#NPOINTS : 2\n#XUNITS : nm\n#XPERCHAN : 0.5\n"
	              "#OFFSET : 200\n#DATATYPE : Y\n#SPECTRUM :\n1, 2\n#ENDOFDATA :\n");
	CHECK(s && !s->cal.valid && !strcmp(meta(s, "msa.#XUNITS"), "nm") && !strcmp(meta(s, "msa.#XPERCHAN"), "0.5") &&
	      !strcmp(meta(s, "msa.#OFFSET"), "200"));
	if (s)
		check_round_trip(s, "nm axis");
	mg_spectrum_free(s);
	s = read_text("#FORMAT : EMSA/MAS Spectral Data File\n#NPOINTS : 2\n#XUNITS : Channel\n#XPERCHAN : 1\n"
	              "#OFFSET : 0\n#SPECTRUM :\n1, 2\n#ENDOFDATA :\n");
	CHECK(s && !s->cal.valid && s->meta.count == 0);
	mg_spectrum_free(s);

	/* dates and titles */
	s = read_text(MIN_HEAD("1", "1", "Y", "#TITLE : second line\n#DATE : 1-jan-2020\n#TIME : 7:05:03\n")
	              "1\n#ENDOFDATA :\n");
	mg_spectrum_free(s); /* DATE and TIME twice: the second pair kept in meta */
	s = read_text("#FORMAT : EMSA/MAS Spectral Data File\n#TITLE : first\n#TITLE : second line\n"
	              "#DATE : 1-jan-2020\n#TIME : 7:05:03\n#NPOINTS : 1\n#SPECTRUM :\n1\n#ENDOFDATA :\n");
	CHECK(s && !strcmp(s->start_time, "2020-01-01T07:05:03") && !strcmp(s->sample.description, "first") &&
	      !strcmp(meta(s, "msa.#TITLE"), "second line"));
	if (s)
		check_round_trip(s, "two titles");
	mg_spectrum_free(s);
	s = read_text("#FORMAT : EMSA/MAS Spectral Data File\n#DATE : 01-JAN-2020\n#NPOINTS : 1\n#SPECTRUM :\n"
	              "1\n#ENDOFDATA :\n");
	CHECK(s && !strcmp(s->start_time, "2020-01-01"));
	if (s)
		check_round_trip(s, "date only");
	mg_spectrum_free(s);
	s = read_text("#FORMAT : EMSA/MAS Spectral Data File\n#DATE : 2020/01/01\n#TIME : noon\n#NPOINTS : 1\n"
	              "#SPECTRUM :\n1\n#ENDOFDATA :\n");
	CHECK(s && !s->start_time[0] && !strcmp(meta(s, "msa.#DATE"), "2020/01/01") && !strcmp(meta(s, "msa.#TIME"), "noon"));
	if (s)
		check_round_trip(s, "odd date");
	mg_spectrum_free(s);

	/* latin-1 text, a byte order mark, keywords after #ENDOFDATA */
	s = read_text("\xef\xbb\xbf#FORMAT : EMSA/MAS Spectral Data File\n#TITLE : 5 \xb5m foil\n#NPOINTS : 1\n"
	              "#SPECTRUM :\n1\n#ENDOFDATA :\n#CHECKSUM : 1234\n");
	CHECK(s && !strcmp(s->sample.description, "5 \xc2\xb5m foil") && !strcmp(meta(s, "msa.#CHECKSUM"), "1234"));
	mg_spectrum_free(s);
}

static void test_malformed(void)
{
	char buf[600];
	/* lines: 1..13 header, 14 #SPECTRUM */
	expect_fail_str(MIN_HEAD("10", "1", "Y", "") "1\n2\n3\n#ENDOFDATA :\n", MG_ERR_FORMAT,
	                "line 18: #NPOINTS (line 7) says 10 but 3 values follow #SPECTRUM (line 14)", "NPOINTS too big");
	expect_fail_str(MIN_HEAD("2", "1", "Y", "") "1\n2\n3\n#ENDOFDATA :\n", MG_ERR_FORMAT,
	                "#NPOINTS (line 7) says 2 but 3 values", "NPOINTS too small");
	expect_fail_str(MIN_HEAD("3", "1", "Y", "") "1\n2\n", MG_ERR_FORMAT,
	                "line 16: the file ends after 2 values without #ENDOFDATA", "truncated");
	expect_fail_str(MIN_HEAD("3", "1", "Y", "") "1\n12a\n3\n#ENDOFDATA :\n", MG_ERR_FORMAT,
	                "line 16: '12a' is not a number", "garbage value");
	expect_fail_str(MIN_HEAD("3", "1", "Y", "") "1\nnan\n3\n#ENDOFDATA :\n", MG_ERR_FORMAT,
	                "line 16: 'nan' is not a number", "NaN");
	expect_fail_str(MIN_HEAD("3", "1", "Y", "") "1, inf, 3\n#ENDOFDATA :\n", MG_ERR_FORMAT,
	                "line 15: 'inf' is not a number", "infinity");
	expect_fail_str(MIN_HEAD("3", "3", "Y", "") "1,,3\n#ENDOFDATA :\n", MG_ERR_FORMAT,
	                "line 15: empty value between commas", "empty value");
	expect_fail_str(MIN_HEAD("2", "3", "Y", "") ", 1, 3\n#ENDOFDATA :\n", MG_ERR_FORMAT,
	                "line 15: empty value", "leading comma");
	expect_fail_str(MIN_HEAD("100000", "1", "Y", "") "1\n#ENDOFDATA :\n", MG_ERR_FORMAT,
	                "line 7: #NPOINTS 100000 is not a point count", "absurd NPOINTS");
	expect_fail_str(MIN_HEAD("-1", "1", "Y", "") "1\n#ENDOFDATA :\n", MG_ERR_FORMAT, "line 7:", "negative NPOINTS");
	expect_fail_str(MIN_HEAD("many", "1", "Y", "") "1\n#ENDOFDATA :\n", MG_ERR_FORMAT,
	                "line 7: #NPOINTS: 'many' is not a number", "NPOINTS not a number");
	expect_fail_str("#FORMAT : EMSA/MAS Spectral Data File\n#SPECTRUM :\n1\n#ENDOFDATA :\n", MG_ERR_FORMAT,
	                "no #NPOINTS", "missing NPOINTS");
	expect_fail_str("#FORMAT : EMSA/MAS Spectral Data File\n#NPOINTS : 1\n", MG_ERR_FORMAT, "no #SPECTRUM",
	                "missing #SPECTRUM");
	expect_fail_str("#TITLE : x\n#FORMAT : EMSA/MAS Spectral Data File\n", MG_ERR_FORMAT,
	                "line 1: the first keyword must be #FORMAT", "FORMAT not first");
	expect_fail_str("#FORMAT : something else\n#NPOINTS : 1\n", MG_ERR_FORMAT, "line 1: #FORMAT is not",
	                "not EMSA");
	expect_fail_str(MIN_HEAD("1", "1", "Z", "") "1\n#ENDOFDATA :\n", MG_ERR_FORMAT, "line 11: #DATATYPE must be",
	                "DATATYPE Z");
	expect_fail_str(MIN_HEAD("1", "0", "Y", "") "1\n#ENDOFDATA :\n", MG_ERR_FORMAT, "line 8: #NCOLUMNS 0",
	                "NCOLUMNS 0");
	expect_fail_str("#FORMAT : EMSA/MAS Spectral Data File\n#NPOINTS : 1\n#XPERCHAN : 0\n#SPECTRUM :\n1\n"
	                "#ENDOFDATA :\n",
	                MG_ERR_FORMAT, "line 3: #XPERCHAN 0: must be > 0", "XPERCHAN 0");
	expect_fail_str("#FORMAT : EMSA/MAS Spectral Data File\n#XPERCHAN : ten\n", MG_ERR_FORMAT,
	                "line 2: #XPERCHAN: 'ten' is not a number", "XPERCHAN text");
	expect_fail_str("#FORMAT : EMSA/MAS Spectral Data File\n#LIVETIME -s: -1\n", MG_ERR_FORMAT,
	                "line 2: negative #LIVETIME", "negative live time");
	expect_fail_str(MIN_HEAD("2", "1", "Y", "") "1\n#CHECKSUM : 3\n2\n#ENDOFDATA :\n", MG_ERR_FORMAT,
	                "line 16: #CHECKSUM inside the data", "keyword inside the data");
	expect_fail_str("#FORMAT : EMSA/MAS Spectral Data File\nNPOINTS : 1\n", MG_ERR_FORMAT,
	                "line 2: expected a '#KEYWORD: value' line", "line without #");
	expect_fail_str("#FORMAT : EMSA/MAS Spectral Data File\n#NPOINTS 1\n", MG_ERR_FORMAT, "line 2: '#NPOINTS",
	                "keyword without ':'");
	expect_fail_str(MIN_HEAD("2", "1", "Y", "") "1\n2\n#ENDOFDATA :\ntrailing garbage\n", MG_ERR_FORMAT,
	                "line 18: expected a '#KEYWORD", "text after the data");
	expect_fail_str(MIN_HEAD("2", "1", "XY", "") "1, 5\n1, 6\n#ENDOFDATA :\n", MG_ERR_FORMAT,
	                "line 16: XY data: x = 1 after 1; x must rise", "XY x not rising");
	expect_fail_str(MIN_HEAD("2", "1", "XY", "") "1, 5\n2\n#ENDOFDATA :\n", MG_ERR_FORMAT,
	                "odd number of values", "XY odd values");
	expect_fail_str(MIN_HEAD("4", "1", "XY", "") "1, 5\n2, 5\n3, 5\n9, 5\n#ENDOFDATA :\n", MG_ERR_UNSUPPORTED,
	                "line 14: XY data: the x values", "XY x irregular");
	expect_fail_str("#FORMAT : EMSA/MAS Spectral Data File\n##MG_FIELD+  : x\n", MG_ERR_FORMAT,
	                "line 2: ##MG_FIELD+ continues no", "continuation alone");
	expect_fail_str(MIN_HEAD("1", "1", "Y", "##MG_FIELD   : live_time_s: soon\n") "1\n#ENDOFDATA :\n",
	                MG_ERR_FORMAT, "line 14: ##MG_FIELD: ", "bad MG_FIELD");
	expect_fail_str("", MG_ERR_FORMAT, "no #FORMAT", "empty");
	static const char nul[] = "#FORMAT : EMSA/MAS Spectral Data File\n#NPOINTS : 1\n#SPE\0TRUM\n";
	expect_fail(nul, sizeof(nul) - 1, MG_ERR_FORMAT, "line 3: binary byte 0x00 at offset 55", "NUL byte");
	uint32_t x = 777;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (char)(x >> 16);
	}
	memcpy(buf, "#FORMAT : EMSA\n", 15);
	expect_fail(buf, sizeof(buf), MG_ERR_FORMAT, NULL, "random bytes");
	/* more values than any spectrum holds */
	mg_buf b;
	mg_buf_init(&b);
	mg_buf_puts(&b, MIN_HEAD("16384", "1", "Y", ""));
	for (int i = 0; i <= MG_SPECTRUM_MAX_CHANNELS; i++)
		mg_buf_puts(&b, "1,\n");
	mg_buf_puts(&b, "#ENDOFDATA :\n");
	snprintf(buf, sizeof(buf), "line %d: more than %d points", 15 + MG_SPECTRUM_MAX_CHANNELS,
	         MG_SPECTRUM_MAX_CHANNELS);
	expect_fail(b.data, b.len, MG_ERR_FORMAT, buf, "16385 values");
	mg_buf_free(&b);

	mg_spectrum *s = NULL;
	const char *bad = MIN_HEAD("2", "1", "Y", "") "1\n#ENDOFDATA :\n";
	CHECK_RC(mg_spectrum_read_mem((const unsigned char *)bad, strlen(bad), "bad.msa", NULL, &s), MG_ERR_FORMAT);
	CHECK(strstr(mg_error_detail(), "bad.msa: msa file: line 16: #NPOINTS (line 7) says 2 but 1 values") != NULL);
	CHECK(s == NULL);
}

/* ---- writing ----------------------------------------------------------------- */

static mg_spectrum *built(size_t nchan)
{
	mg_spectrum *s = mg_spectrum_new(nchan);
	for (size_t i = 0; i < nchan; i++)
		s->counts[i] = (double)((i * 7919u) % 1000u) + 0.25 * (double)(i % 3);
	s->cal = (mg_energy_cal){1, -0.0123, 0.0195, 0};
	s->live_time_s = 118.765;
	s->real_time_s = 120.0;
	snprintf(s->start_time, sizeof(s->start_time), "2024-05-06T07:08:09");
	mg_str_set(&s->instrument.model, "X-123SDD");
	mg_str_set(&s->instrument.serial, "SN-42");
	mg_str_set(&s->acq.anode, "Rh");
	s->acq.tube_kv = 40;
	s->acq.tube_ua = 25.5;
	s->acq.takeoff_deg = 45;
	s->acq.peaking_time_us = 1.6;
	mg_str_set(&s->sample.sample_id, "S-001");
	mg_str_set(&s->sample.operator_name, "Zo\xc3\xab");
	mg_str_set(&s->sample.description, "Recycled NdFeB, lot 7");
	mg_kvlist_add(&s->meta, "msa.#OWNER", "Lab 3", NULL);
	mg_kvlist_add(&s->meta, "msa.#SIGNALTYPE", "EDS", NULL);
	mg_kvlist_add(&s->meta, "msa.##FANO", "0.11", NULL);
	mg_kvlist_add(&s->meta, "msa.#TACTLYR -cm", "0.045", NULL);
	mg_kvlist_add(&s->meta, "dp5.config.TPEA", "1.600", "Peaking Time");
	return s;
}

static void test_write(void)
{
	mg_buf b;
	mg_spectrum *s = built(2048);
	char *text = write_text(s);
	CHECK(text != NULL);
	if (text) {
		const char *order[] = {"#FORMAT", "#VERSION", "#TITLE       : Recycled NdFeB, lot 7\r\n",
		                       "#DATE        : 06-MAY-2024\r\n", "#TIME        : 07:08:09\r\n",
		                       "#OWNER       : Lab 3\r\n", "#NPOINTS     : 2048\r\n", "#NCOLUMNS    : 1\r\n",
		                       "#XUNITS      : keV\r\n", "#YUNITS      : counts\r\n", "#DATATYPE    : Y\r\n",
		                       "#XPERCHAN    : 0.0195\r\n", "#OFFSET      : -0.0123\r\n",
		                       "#SIGNALTYPE  : EDS\r\n", "#LIVETIME  -s: 118.765\r\n", "#REALTIME  -s: 120\r\n",
		                       "#BEAMKV   -kV: 40\r\n", "#PROBECUR -nA: 25500\r\n", "#ELEVANGLE -dg: 45\r\n",
		                       "##FANO       : 0.11\r\n", "#TACTLYR  -cm: 0.045\r\n",
		                       "##MG_FIELD   : instrument.model: X-123SDD\r\n",
		                       "##MG_FIELD   : sample.operator: Zo\xc3\xab\r\n", /* UTF-8 */
		                       "##MG_FIELD   : meta.dp5.config.TPEA: 1.600\r\n##MG_FIELD   : # Peaking Time\r\n",
		                       "#SPECTRUM", "\r\n1.25\r\n", "#ENDOFDATA"};
		const char *at = text;
		for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
			const char *p = strstr(at, order[i]);
			CHECK_MSG(p != NULL, "'%s' missing or out of order", order[i]);
			if (p)
				at = p;
		}
		free(text);
	}
	check_round_trip(s, "built spectrum");

	char path[512];
	snprintf(path, sizeof(path), "%s/built.msa", mg_test_tmpdir());
	CHECK_RC(mg_spectrum_write_file(s, path, msa), MG_OK);
	const mg_format *f = NULL;
	mg_spectrum *back = NULL;
	CHECK_RC(mg_spectrum_read_file(path, &f, &back), MG_OK);
	CHECK(f == msa && back && spectra_equal(s, back, "file round trip"));
	mg_spectrum_free(back);

	/* a quadratic calibration: XPERCHAN/OFFSET its least-squares line, exact in ##MG_FIELD */
	s->cal.quad_kev = 2.5e-7;
	text = write_text(s);
	CHECK(text && strstr(text, "##MG_FIELD   : calibration_kev: -0.0123 0.0195 2.4999999999999999e-07\r\n"));
	if (text) {
		mg_spectrum *lin = NULL;
		/* the line the file states for other readers is the least-squares one: off by
		 * q*N^2/6 at the ends (a chord would be off by q*N^2/4 in the middle) */
		char *cut = strstr(text, "##MG_FIELD   : calibration_kev");
		memcpy(cut, "##MG_OTHER  ", 12);
		CHECK_RC(msa->read((const unsigned char *)text, strlen(text), &lin), MG_OK);
		double worst = 0;
		for (size_t i = 0; lin && i < s->nchan; i++)
			worst = fmax(worst, fabs(mg_spectrum_energy(lin, (double)i) - mg_spectrum_energy(s, (double)i)));
		double n = (double)(s->nchan - 1), bound = s->cal.quad_kev * n * n / 6;
		CHECK_MSG(worst <= bound * 1.001 && worst >= bound * 0.99, "linear approximation off by %g keV, "
		          "expected %g", worst, bound);
		mg_spectrum_free(lin);
	}
	free(text);
	check_round_trip(s, "quadratic calibration");

	/* long text: TITLE cut to 64 characters, the whole kept in continued ##MG_FIELD lines */
	char longtext[700] = "";
	for (int i = 0; i < 25; i++)
		strcat(longtext, "NdFeB \xc3\xa9\xe2\x80\x93\xf0\x9f\xa7\xb2 ");
	mg_str_set(&s->sample.description, longtext);
	mg_kvlist_add(&s->meta, "lims.note", longtext + 3, NULL);
	text = write_text(s);
	CHECK(text && strstr(text, "##MG_FIELD+  : "));
	free(text);
	check_round_trip(s, "long text");

	/* no calibration, times or date; a zoned start time */
	s->cal.valid = 0;
	s->live_time_s = NAN;
	s->real_time_s = 0;
	snprintf(s->start_time, sizeof(s->start_time), "2024-05-06T07:08:09+02:00");
	text = write_text(s);
	CHECK(text && strstr(text, "#XUNITS      : Channel\r\n") && !strstr(text, "#LIVETIME") &&
	      strstr(text, "#TIME        : 07:08:09\r\n") && strstr(text, "start_time: 2024-05-06T07:08:09+02:00"));
	free(text);
	check_round_trip(s, "no calibration");
	mg_spectrum_free(s);

	/* a value no .msa can hold (a subnormal live time, from us): an error, no partial text */
	s = read_text("#FORMAT : EMSA/MAS Spectral Data File\n#NPOINTS : 1\n#LIVETIME -us: 3e-303\n"
	              "#SPECTRUM :\n1\n#ENDOFDATA :\n");
	CHECK(s != NULL);
	if (s) {
		mg_buf_init(&b);
		mg_buf_puts(&b, "keep");
		CHECK_RC(msa->write(s, &b), MG_ERR_UNSUPPORTED);
		CHECK(b.len == 4 && strcmp(b.data, "keep") == 0);
		mg_buf_free(&b);
		mg_buf_init(&b);
		CHECK_RC(mg_format_get(MG_FORMAT_MCA)->write(s, &b), MG_ERR_UNSUPPORTED);
		CHECK(b.len == 0);
		mg_buf_free(&b);
	}
	mg_spectrum_free(s);

	/* kept DATE/TIME that would read as a start time the spectrum lacks; odd keys */
	s = mg_spectrum_new(2);
	mg_kvlist_add(&s->meta, "msa.#DATE", "01-JAN-2020", NULL);
	mg_kvlist_add(&s->meta, "msa.#TIME", "10:00", NULL);
	mg_kvlist_add(&s->meta, "msa.#BAD-KEY", "1", NULL);
	mg_kvlist_add(&s->meta, "odd: key %41\x01:", "v: w", "c");
	text = write_text(s);
	CHECK(text && strstr(text, "#DATE        : \r\n") && strstr(text, "meta.odd%3A key %2541%01%3A: v: w"));
	free(text);
	unordered_meta = 1; /* the unparsed TIME is written as such and comes first */
	check_round_trip(s, "unset start time, odd keys");
	unordered_meta = 0;
	mg_spectrum_free(s);

	/* restored negative values; a bare spectrum has no ##MG_FIELD */
	s = mg_spectrum_new(4);
	s->counts[2] = 3;
	text = write_text(s);
	CHECK(text && !strstr(text, "##MG_FIELD"));
	free(text);
	mg_kvlist_add(&s->meta, "msa.clamped_counts", "1:-7.5 3:-2", NULL);
	text = write_text(s);
	CHECK(text && strstr(text, "#SPECTRUM    : Spectral Data Starts Here\r\n0\r\n-7.5\r\n3\r\n-2\r\n#ENDOFDATA"));
	free(text);
	check_round_trip(s, "clamped counts");
	mg_spectrum_free(s);
}

int main(void)
{
	msa = mg_format_get(MG_FORMAT_MSA);
	CHECK(msa && msa->read && msa->write && strcmp(msa->name, "msa") == 0);
	if (!msa)
		return 1;
	CHECK(mg_format_by_name("emsa") == msa);
	test_read_bruker();
	test_read_layouts();
	test_malformed();
	test_write();
	return mg_test_finish("test_msa");
}
