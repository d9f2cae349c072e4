/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ORTEC MAESTRO binary .Chn spectra (little-endian), as implemented here:
 *
 *   header, 32 bytes
 *     0  int16   -1 (file type)
 *     2  int16   MCA / detector number            -> meta "chn.mca_number"
 *     4  int16   segment number                   -> meta "chn.segment"
 *     6  char[2] start time, seconds "SS"
 *     8  uint32  real time, 20 ms ticks           -> real_time_s
 *    12  uint32  live time, 20 ms ticks           -> live_time_s
 *    16  char[8] start date "DDMMMYY*", '*' = '1' for 20YY, else 19YY
 *    24  char[4] start time "HHMM"                -> start_time (local)
 *    28  uint16  channel offset (first channel)   -> meta "chn.channel_offset" when > 0
 *    30  uint16  number of channels N (1..16384)
 *   data
 *    32  uint32[N] counts
 *   trailer, optional, exactly 512 bytes at 32 + 4N
 *     0  int16   -101 or -102                     -> meta "chn.trailer"
 *     2  int16   reserved
 *     4  float32 energy calibration: zero (keV)
 *     8  float32                     slope (keV/channel)
 *    12  float32                     quadratic (keV/channel^2)
 *    16  float32 FWHM calibration: zero, slope, quadratic -> meta "chn.fwhm_cal"
 *    28  reserved up to 255
 *   256  uint8   detector description length (<= 63), 257..319 text -> instrument.detector
 *   320  uint8   sample description length (<= 63), 321..383 text   -> sample.description
 *   384  reserved up to 511
 *
 * Uncertainties (no real .Chn file was at hand; the layout follows the ORTEC
 * "Software File Structure Manual" as summarised in the project's reference
 * notes): Battelle's SFChnFile.h calls -101 "linear" and -102 "quadratic";
 * the reader takes the three floats for both, so a -101 file whose third
 * float is not a quadratic term (it is 0 in the files described) would be
 * misread; the descriptions' offsets 256/320 are from the same table. The
 * calibration refers to absolute channel numbers, so with an offset k > 0 the
 * spectrum has k + N channels, the first k zero. A zero slope means "not
 * calibrated". The count words are read unsigned (MAESTRO writes int32 but
 * counts are never negative). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats.h"
#include "internal.h"

#define DOM "chn"
#define CHN_HEADER 32
#define CHN_TRAILER 512

static uint16_t u16le(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static int16_t s16le(const unsigned char *p)
{
	return (int16_t)u16le(p);
}

static uint32_t u32le(const unsigned char *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static float f32le(const unsigned char *p)
{
	uint32_t u = u32le(p);
	float f;
	memcpy(&f, &u, sizeof(f));
	return f;
}

static int probe(const unsigned char *data, size_t len)
{
	if (len < CHN_HEADER || s16le(data) != -1)
		return 0;
	size_t n = u16le(data + 30), end = CHN_HEADER + 4 * n;
	if (n >= 1 && n <= MG_SPECTRUM_MAX_CHANNELS &&
	    (len == end || (len == end + CHN_TRAILER &&
	                    (s16le(data + end) == -101 || s16le(data + end) == -102))))
		return 100;
	/* The magic matched but the size did not: let the reader say what is wrong. */
	return 50;
}

static int blank(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\0')
			return 0;
	return 1;
}

/* n bytes as text for a message, '?' for what is not printable ASCII. */
static const char *printable(const unsigned char *p, size_t n, char *buf)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	buf[n] = '\0';
	return buf;
}

static int two_digits(const unsigned char *p, int *v)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return 0;
	*v = (p[0] - '0') * 10 + (p[1] - '0');
	return 1;
}

static int parse_start(const unsigned char *data, char *out, size_t size)
{
	static const char *const months[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
	                                     "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
	const unsigned char *date = data + 16, *hm = data + 24, *sec = data + 6;
	if (blank(date, 8))
		return MG_OK; /* not recorded */
	int d, y, mo = 0, h = 0, mi = 0, sc = 0;
	char shown[9];
	for (int k = 0; k < 12; k++)
		if (strncasecmp((const char *)date + 2, months[k], 3) == 0)
			mo = k + 1;
	if (!two_digits(date, &d) || !mo || !two_digits(date + 5, &y) || d < 1 || d > 31)
		return mg_fail(MG_ERR_FORMAT, DOM, "byte 16: start date '%s' is not DDMMMYY*",
		               printable(date, 8, shown));
	y += date[7] == '1' ? 2000 : 1900;
	if (!blank(hm, 4) && (!two_digits(hm, &h) || !two_digits(hm + 2, &mi) || h > 23 || mi > 59))
		return mg_fail(MG_ERR_FORMAT, DOM, "byte 24: start time is not HHMM");
	if (!blank(sec, 2) && (!two_digits(sec, &sc) || sc > 60))
		return mg_fail(MG_ERR_FORMAT, DOM, "byte 6: start seconds are not SS");
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, h, mi, sc);
	return MG_OK;
}

/* A length-prefixed description (<= 63 bytes, Latin-1) as UTF-8, or NULL if empty. */
static int description(const unsigned char *data, size_t off, char **out)
{
	unsigned n = data[off];
	*out = NULL;
	if (n > 63)
		return mg_fail(MG_ERR_FORMAT, DOM, "byte %zu: description length %u exceeds 63", off, n);
	const unsigned char *p = data + off + 1;
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\0'))
		n--;
	if (n == 0)
		return MG_OK;
	char *s = malloc(2 * n + 1), *w = s;
	if (!s)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	for (unsigned i = 0; i < n; i++) {
		unsigned char c = p[i];
		if (c < 0x20 || c == 0x7f) {
			free(s);
			return mg_fail(MG_ERR_FORMAT, DOM, "byte %zu: control byte 0x%02x in a description",
			               off + 1 + i, c);
		}
		if (c < 0x80) {
			*w++ = (char)c;
		} else {
			*w++ = (char)(0xC0 | (c >> 6));
			*w++ = (char)(0x80 | (c & 0x3F));
		}
	}
	*w = '\0';
	*out = s;
	return MG_OK;
}

static int meta_num(mg_spectrum *s, const char *key, long v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%ld", v);
	return mg_kvlist_add(&s->meta, key, buf, NULL);
}

static int read_trailer(const unsigned char *data, size_t off, mg_spectrum *s)
{
	const unsigned char *t = data + off;
	int rc;
	float c[6];
	for (int k = 0; k < 6; k++) {
		c[k] = f32le(t + 4 + 4 * k);
		if (!isfinite(c[k]))
			return mg_fail(MG_ERR_FORMAT, DOM, "byte %zu: %s calibration coefficient is not finite",
			               off + 4 + 4 * (size_t)k, k < 3 ? "energy" : "FWHM");
	}
	if ((rc = meta_num(s, "chn.trailer", s16le(t))) != MG_OK)
		return rc;
	if (c[1] != 0) {
		s->cal.valid = 1;
		s->cal.offset_kev = c[0];
		s->cal.gain_kev = c[1];
		s->cal.quad_kev = c[2];
	} else if (c[0] != 0 || c[2] != 0) {
		char buf[96];
		snprintf(buf, sizeof(buf), "%.9g %.9g %.9g", c[0], c[1], c[2]);
		if ((rc = mg_kvlist_add(&s->meta, "chn.energy_cal", buf, NULL)) != MG_OK)
			return rc;
	}
	if (c[3] != 0 || c[4] != 0 || c[5] != 0) {
		char buf[96];
		snprintf(buf, sizeof(buf), "%.9g %.9g %.9g", c[3], c[4], c[5]);
		if ((rc = mg_kvlist_add(&s->meta, "chn.fwhm_cal", buf, NULL)) != MG_OK)
			return rc;
	}
	char *det, *sample;
	if ((rc = description(data, off + 256, &det)) != MG_OK)
		return rc;
	if ((rc = description(data, off + 320, &sample)) != MG_OK) {
		free(det);
		return rc;
	}
	if (det)
		rc = mg_str_set(&s->instrument.detector, det);
	if (rc == MG_OK && sample)
		rc = mg_str_set(&s->sample.description, sample);
	free(det);
	free(sample);
	return rc;
}

static int read_chn(const unsigned char *data, size_t len, mg_spectrum **out)
{
	if (len < CHN_HEADER)
		return mg_fail(MG_ERR_FORMAT, DOM, "byte %zu: truncated header (%d bytes needed)", len, CHN_HEADER);
	int16_t type = s16le(data);
	if (type != -1)
		return mg_fail(MG_ERR_FORMAT, DOM, "byte 0: file type %d where -1 was expected", type);
	size_t offset = u16le(data + 28), n = u16le(data + 30);
	if (n == 0)
		return mg_fail(MG_ERR_FORMAT, DOM, "byte 30: channel count 0");
	if (n > MG_SPECTRUM_MAX_CHANNELS)
		return mg_fail(MG_ERR_FORMAT, DOM, "byte 30: channel count %zu exceeds %d", n,
		               MG_SPECTRUM_MAX_CHANNELS);
	if (offset + n > MG_SPECTRUM_MAX_CHANNELS)
		return mg_fail(MG_ERR_FORMAT, DOM, "byte 28: channel offset %zu + count %zu exceed %d channels",
		               offset, n, MG_SPECTRUM_MAX_CHANNELS);
	size_t end = CHN_HEADER + 4 * n;
	if (len < end)
		return mg_fail(MG_ERR_FORMAT, DOM,
		               "byte %zu: data truncated (%zu channels need bytes %d..%zu)", len, n, CHN_HEADER,
		               end - 1);
	int has_trailer = 0;
	if (len > end) {
		int16_t tag = len - end >= 2 ? s16le(data + end) : 0;
		if (tag != -101 && tag != -102)
			return mg_fail(MG_ERR_FORMAT, DOM,
			               "byte %zu: %zu bytes after the data do not start a trailer (-101 or -102)", end,
			               len - end);
		if (len - end != CHN_TRAILER)
			return mg_fail(MG_ERR_FORMAT, DOM, "byte %zu: trailer of %zu bytes where %d were expected", end,
			               len - end, CHN_TRAILER);
		has_trailer = 1;
	}
	mg_spectrum *s = mg_spectrum_new(offset + n);
	if (!s)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	int rc;
	for (size_t i = 0; i < n; i++)
		s->counts[offset + i] = (double)u32le(data + CHN_HEADER + 4 * i);
	s->real_time_s = u32le(data + 8) * 0.02;
	s->live_time_s = u32le(data + 12) * 0.02;
	if ((rc = parse_start(data, s->start_time, sizeof(s->start_time))) != MG_OK ||
	    (rc = meta_num(s, "chn.mca_number", s16le(data + 2))) != MG_OK ||
	    (rc = meta_num(s, "chn.segment", s16le(data + 4))) != MG_OK ||
	    (offset && (rc = meta_num(s, "chn.channel_offset", (long)offset)) != MG_OK) ||
	    (has_trailer && (rc = read_trailer(data, end, s)) != MG_OK)) {
		mg_spectrum_free(s);
		return rc;
	}
	*out = s;
	return MG_OK;
}

const mg_format mg_format_chn = {
	.id = MG_FORMAT_CHN,
	.name = "chn",
	.description = "ORTEC MAESTRO binary spectrum (.Chn)",
	.extension = ".chn",
	.probe = probe,
	.read = read_chn,
	.write = NULL,
};
