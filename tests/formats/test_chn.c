/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ORTEC .Chn reader. No real .Chn file is available, so the files are built
 * here byte by byte (little-endian, by hand: no writer of the project is used)
 * following the layout documented in formats/chn.c and docs/formats.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/format.h"

static const mg_format *fmt(void)
{
	return mg_format_get(MG_FORMAT_CHN);
}

static void put16(unsigned char *p, int v)
{
	p[0] = (unsigned char)(v & 0xff);
	p[1] = (unsigned char)((v >> 8) & 0xff);
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v & 0xff);
	p[1] = (unsigned char)((v >> 8) & 0xff);
	p[2] = (unsigned char)((v >> 16) & 0xff);
	p[3] = (unsigned char)((v >> 24) & 0xff);
}

static void putf(unsigned char *p, float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof(u));
	put32(p, u);
}

/* A file with n channels (counts i*i + 1, channel 3 = 3000000000 to exercise
 * the unsigned range), optional 512-byte trailer with tag `trailer` (0 = none). */
static unsigned char *make(unsigned n, unsigned offset, int trailer, size_t *len)
{
	size_t size = 32 + 4 * (size_t)n + (trailer ? 512 : 0);
	unsigned char *b = calloc(1, size);
	put16(b + 0, -1);              /* file type */
	put16(b + 2, 2);               /* MCA number */
	put16(b + 4, 1);               /* segment */
	memcpy(b + 6, "14", 2);        /* start seconds */
	put32(b + 8, 110000);          /* real time: 2200 s in 20 ms ticks */
	put32(b + 12, 109650);         /* live time: 2193 s */
	memcpy(b + 16, "21OCT101", 8); /* 21 Oct 2010 */
	memcpy(b + 24, "1146", 4);     /* 11:46 */
	put16(b + 28, (int)offset);
	put16(b + 30, (int)n);
	for (unsigned i = 0; i < n; i++)
		put32(b + 32 + 4 * i, i == 3 ? 3000000000u : i * i + 1);
	if (trailer) {
		unsigned char *t = b + 32 + 4 * n;
		put16(t, trailer);
		putf(t + 4, 0.125f);     /* energy zero, keV */
		putf(t + 8, 0.5f);       /* slope */
		putf(t + 12, 0.0009765625f); /* quadratic (2^-10, exact in float) */
		putf(t + 16, 1.5f);      /* FWHM zero */
		putf(t + 20, 0.25f);     /* FWHM slope */
		t[256] = 9;
		memcpy(t + 257, "HPGe \xe9t\xe9 ", 9); /* Latin-1, trailing blank */
		t[320] = 5;
		memcpy(t + 321, "steel", 5);
	}
	*len = size;
	return b;
}

static void expect_fail(const char *what, const unsigned char *b, size_t len, const char *needle)
{
	mg_spectrum *s = NULL;
	int rc = fmt()->read(b, len, &s);
	CHECK_MSG(rc == MG_ERR_FORMAT, "%s: rc %d (%s)", what, rc, mg_error_detail());
	CHECK_MSG(s == NULL, "%s: a spectrum was returned on failure", what);
	CHECK_MSG(strstr(mg_error_detail(), needle) != NULL, "%s: detail '%s' lacks '%s'", what,
	          mg_error_detail(), needle);
	if (rc == MG_OK)
		mg_spectrum_free(s);
}

static void test_plain(void)
{
	size_t len;
	unsigned char *b = make(8, 0, 0, &len);
	mg_spectrum *s = NULL;
	CHECK(len == 64);
	CHECK(fmt()->probe(b, len) == 100);
	CHECK_RC(fmt()->read(b, len, &s), MG_OK);
	if (s) {
		CHECK(s->nchan == 8);
		CHECK(s->counts[0] == 1 && s->counts[2] == 5 && s->counts[7] == 50);
		CHECK(s->counts[3] == 3000000000.0);
		CHECK_NEAR(s->real_time_s, 2200, 1e-9);
		CHECK_NEAR(s->live_time_s, 2193, 1e-9);
		CHECK_MSG(strcmp(s->start_time, "2010-10-21T11:46:14") == 0, "start '%s'", s->start_time);
		CHECK(!s->cal.valid);
		CHECK(s->instrument.detector == NULL && s->sample.description == NULL);
		CHECK(mg_kvlist_get(&s->meta, "chn.mca_number") && strcmp(mg_kvlist_get(&s->meta, "chn.mca_number"), "2") == 0);
		CHECK(mg_kvlist_get(&s->meta, "chn.segment") && strcmp(mg_kvlist_get(&s->meta, "chn.segment"), "1") == 0);
		CHECK(mg_kvlist_get(&s->meta, "chn.trailer") == NULL);
		CHECK(mg_spectrum_validate(s) == MG_OK);
		mg_spectrum_free(s);
	}
	/* 20th-century date ('0' after the year), blank seconds */
	memcpy(b + 16, "05jan990", 8);
	memcpy(b + 6, "  ", 2);
	CHECK_RC(fmt()->read(b, len, &s), MG_OK);
	if (s) {
		CHECK_MSG(strcmp(s->start_time, "1999-01-05T11:46:00") == 0, "start '%s'", s->start_time);
		mg_spectrum_free(s);
	}
	/* No date recorded */
	memset(b + 16, ' ', 8);
	memset(b + 24, 0, 4);
	CHECK_RC(fmt()->read(b, len, &s), MG_OK);
	if (s) {
		CHECK(s->start_time[0] == '\0');
		mg_spectrum_free(s);
	}
	free(b);
}

static void test_trailer(void)
{
	size_t len;
	mg_spectrum *s = NULL;
	unsigned char *b = make(16, 0, -102, &len);
	CHECK(len == 32 + 64 + 512);
	CHECK(fmt()->probe(b, len) == 100);
	CHECK_RC(fmt()->read(b, len, &s), MG_OK);
	if (s) {
		CHECK(s->nchan == 16 && s->counts[15] == 226);
		CHECK(s->cal.valid);
		CHECK(s->cal.offset_kev == 0.125 && s->cal.gain_kev == 0.5 && s->cal.quad_kev == 0.0009765625);
		CHECK(mg_kvlist_get(&s->meta, "chn.trailer") && strcmp(mg_kvlist_get(&s->meta, "chn.trailer"), "-102") == 0);
		CHECK(mg_kvlist_get(&s->meta, "chn.fwhm_cal") &&
		      strcmp(mg_kvlist_get(&s->meta, "chn.fwhm_cal"), "1.5 0.25 0") == 0);
		CHECK_MSG(s->instrument.detector && strcmp(s->instrument.detector, "HPGe \xc3\xa9t\xc3\xa9") == 0,
		          "detector '%s'", s->instrument.detector ? s->instrument.detector : "(null)");
		CHECK(s->sample.description && strcmp(s->sample.description, "steel") == 0);
		CHECK(mg_spectrum_validate(s) == MG_OK);
		mg_spectrum_free(s);
	}
	free(b);

	/* -101, with a channel offset: channels below it are zero */
	b = make(4, 6, -101, &len);
	CHECK_RC(fmt()->read(b, len, &s), MG_OK);
	if (s) {
		CHECK(s->nchan == 10);
		CHECK(s->counts[0] == 0 && s->counts[5] == 0 && s->counts[6] == 1 && s->counts[8] == 5);
		CHECK(s->cal.valid && s->cal.gain_kev == 0.5);
		CHECK(mg_kvlist_get(&s->meta, "chn.channel_offset") &&
		      strcmp(mg_kvlist_get(&s->meta, "chn.channel_offset"), "6") == 0);
		mg_spectrum_free(s);
	}
	/* a trailer with a zero slope: not calibrated, the values kept */
	putf(b + 32 + 16 + 8, 0.0f);
	CHECK_RC(fmt()->read(b, len, &s), MG_OK);
	if (s) {
		CHECK(!s->cal.valid);
		CHECK(mg_kvlist_get(&s->meta, "chn.energy_cal") != NULL);
		mg_spectrum_free(s);
	}
	free(b);
}

static void test_malformed(void)
{
	size_t len;
	unsigned char *b = make(8, 0, 0, &len);
	expect_fail("empty", b, 0, "byte 0: truncated header");
	expect_fail("short header", b, 20, "byte 20: truncated header (32 bytes needed)");

	put16(b, -2);
	expect_fail("file type", b, len, "byte 0: file type -2 where -1 was expected");
	CHECK(fmt()->probe(b, len) == 0);
	put16(b, -1);

	expect_fail("truncated data", b, len - 3, "byte 61: data truncated (8 channels need bytes 32..63)");
	CHECK(fmt()->probe(b, len - 3) == 50); /* the magic matched: the reader explains */

	put16(b + 30, 0);
	expect_fail("zero channels", b, len, "byte 30: channel count 0");
	put16(b + 30, 20000);
	expect_fail("absurd channels", b, len, "byte 30: channel count 20000 exceeds 16384");
	put16(b + 30, 8);
	put16(b + 28, 16380);
	expect_fail("offset too far", b, len, "byte 28: channel offset 16380 + count 8 exceed 16384");
	put16(b + 28, 0);

	memcpy(b + 16, "21XYZ101", 8);
	expect_fail("bad month", b, len, "byte 16: start date '21XYZ101' is not DDMMMYY*");
	memcpy(b + 16, "21OCT101", 8);
	memcpy(b + 24, "2561", 4);
	expect_fail("bad time", b, len, "byte 24: start time is not HHMM");
	memcpy(b + 24, "1146", 4);
	memcpy(b + 6, "x1", 2);
	expect_fail("bad seconds", b, len, "byte 6: start seconds");
	memcpy(b + 6, "14", 2);

	/* bytes after the data that are no trailer */
	unsigned char *c = realloc(b, len + 512);
	b = c;
	memset(b + len, 0, 512);
	put16(b + len, 77);
	expect_fail("bad trailer tag", b, len + 512, "byte 64: 512 bytes after the data do not start a trailer");
	expect_fail("one stray byte", b, len + 1, "byte 64: 1 bytes after the data");
	put16(b + len, -101);
	expect_fail("short trailer", b, len + 100, "byte 64: trailer of 100 bytes where 512 were expected");
	CHECK(fmt()->probe(b, len + 100) == 50);
	free(b);

	b = make(8, 0, -102, &len);
	size_t t = 32 + 32;
	putf(b + t + 8, (float)NAN);
	expect_fail("NaN slope", b, len, "byte 72: energy calibration coefficient is not finite");
	putf(b + t + 8, 0.5f);
	putf(b + t + 20, (float)INFINITY);
	expect_fail("Inf FWHM", b, len, "byte 84: FWHM calibration coefficient is not finite");
	putf(b + t + 20, 0.25f);
	b[t + 256] = 100;
	expect_fail("description length", b, len, "byte 320: description length 100 exceeds 63");
	b[t + 256] = 3;
	b[t + 257] = 0x01;
	expect_fail("control byte", b, len, "byte 321: control byte 0x01 in a description");
	free(b);

	/* text given to the binary reader */
	const char *text = "$SPEC_ID:\n\n$DATA:\n0 1\n1\n2\n0123456789012345678901234567890123\n";
	expect_fail("text", (const unsigned char *)text, strlen(text), "byte 0: file type");
	CHECK(fmt()->probe((const unsigned char *)text, strlen(text)) == 0);
}

int main(void)
{
	test_plain();
	test_trailer();
	test_malformed();
	return mg_test_finish("test_chn");
}
