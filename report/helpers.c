/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Small helpers the report files share: strings, growable arrays, the time
 * now in ISO 8601, Greek line names ("Cu Ka" → "Cu Kα"), QC quantity names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "report_internal.h"

char *rp_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

int rp_grow(void **arr, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return MG_OK;
	size_t nc = *cap ? *cap * 2 : 8;
	void *p = realloc(*arr, nc * sz);
	if (!p)
		return mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
	*arr = p;
	*cap = nc;
	return MG_OK;
}

void rp_now(char *buf, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, cap, "%s.%03ldZ", base, ts.tv_nsec / 1000000);
}

const char *rp_line_label(const char *in, char *buf, size_t cap)
{
	/* "Cu Ka" → "Cu Kα"; K/L/M followed by a/b/g. */
	size_t o = 0;
	if (!in) {
		if (cap)
			buf[0] = '\0';
		return buf;
	}
	for (size_t i = 0; in[i] && o + 4 < cap; i++) {
		char c = in[i];
		int after_shell = i > 0 && (in[i - 1] == 'K' || in[i - 1] == 'L' || in[i - 1] == 'M') &&
		                  (i < 2 || in[i - 2] == ' ') && (in[i + 1] == '\0' || in[i + 1] == ' ' ||
		                                                  (in[i + 1] >= '0' && in[i + 1] <= '9'));
		const char *g = NULL;
		if (after_shell)
			g = c == 'a' ? "\xCE\xB1" : c == 'b' ? "\xCE\xB2" : c == 'g' ? "\xCE\xB3" : NULL;
		if (g) {
			memcpy(buf + o, g, 2);
			o += 2;
		} else {
			buf[o++] = c;
		}
	}
	buf[o] = '\0';
	return buf;
}

const char *rp_quantity_label(const char *q)
{
	if (!q)
		return "";
	if (!strcmp(q, MG_QC_PEAK_POSITION))
		return "Peak position";
	if (!strcmp(q, MG_QC_FWHM))
		return "FWHM";
	if (!strcmp(q, MG_QC_INTENSITY))
		return "Intensity";
	if (!strcmp(q, MG_QC_XRF_ICP_BIAS))
		return "XRF\xE2\x88\x92ICP bias";
	return q;
}
