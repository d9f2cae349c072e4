/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target: the SCPI codec (drivers/scpi/codec.c) and the simulated
 * ICP-OES's command parser. Arbitrary bytes go through response framing
 * (an end found in a prefix stays the end with more bytes), element
 * splitting, every value parser (numbers re-parse to the same value after
 * printing; block payloads re-encode to the same bytes), the *IDN? and
 * error-queue parsers, query counting, the profile's window parser, and the
 * first 4 KiB through the simulator (any program message gives an answer or
 * an error in its queue, never a crash). Broken invariants abort(). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/icp/protocol.h"
#include "drivers/scpi/scpi.h"
#include "magassay/error.h"
#include "magassay/icp_device.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK_OR_DIE(cond)          \
	do {                        \
		if (!(cond))        \
			abort();    \
	} while (0)

static void values(const char *p, size_t n)
{
	double v;
	if (mg_scpi_parse_number(p, n, &v) == MG_OK && isfinite(v)) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%.17g", v);
		double w;
		CHECK_OR_DIE(mg_scpi_parse_number(buf, strlen(buf), &w) == MG_OK && (w == v || (fabs(v) >= 9.9e37)));
	}
	long l;
	mg_scpi_parse_long(p, n, &l);
	int b;
	if (mg_scpi_parse_bool(p, n, &b) == MG_OK)
		CHECK_OR_DIE(b == 0 || b == 1);
	mg_buf s;
	mg_buf_init(&s);
	if (mg_scpi_unquote(p, n, &s) == MG_OK) {
		/* quoting what came out and unquoting again gives it back */
		mg_buf q, r;
		mg_buf_init(&q);
		mg_buf_init(&r);
		if (!memchr(s.data, '\0', s.len)) {
			mg_scpi_append_string(&q, s.data);
			CHECK_OR_DIE(mg_scpi_unquote(q.data, q.len, &r) == MG_OK && r.len == s.len && !memcmp(r.data, s.data, s.len));
		}
		mg_buf_free(&q);
		mg_buf_free(&r);
	}
	mg_buf_free(&s);
	mg_scpi_error e;
	if (mg_scpi_parse_error(p, n, &e) == MG_OK)
		CHECK_OR_DIE(strlen(e.text) < sizeof(e.text) && mg_scpi_error_class(e.code) != NULL);
	mg_scpi_idn idn;
	if (mg_scpi_parse_idn(p, n, &idn) == MG_OK)
		CHECK_OR_DIE(idn.manufacturer[0] && idn.model[0] && strlen(idn.firmware) < sizeof(idn.firmware));
	double nums[64];
	size_t k;
	if (mg_scpi_parse_numbers(p, n, nums, 64, &k) == MG_OK)
		CHECK_OR_DIE(k <= 64);
}

static void blocks(const uint8_t *d, size_t n)
{
	static double out[4096];
	for (int t = MG_SCPI_REAL32; t <= MG_SCPI_INT32; t++)
		for (int big = 0; big < 2; big++) {
			size_t k;
			if (mg_scpi_decode_numbers(d, n, (mg_scpi_numtype)t, big, out, 4096, &k) != MG_OK)
				continue;
			CHECK_OR_DIE(k * mg_scpi_numtype_size((mg_scpi_numtype)t) == n);
			if (t == MG_SCPI_INT16 || t == MG_SCPI_INT32) {
				mg_buf b;
				mg_buf_init(&b);
				mg_scpi_append_numbers(&b, out, k, (mg_scpi_numtype)t, big);
				CHECK_OR_DIE(b.len == n && (!n || !memcmp(b.data, d, n)));
				mg_buf_free(&b);
			}
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	/* framing */
	size_t m, u;
	int rc = mg_scpi_frame(data, size, &m, &u);
	if (rc == MG_OK) {
		CHECK_OR_DIE(m < u && u <= size && data[u - 1] == '\n');
		for (size_t cut = u; cut <= size; cut += 1 + (size - u) / 4) {
			size_t m2, u2;
			CHECK_OR_DIE(mg_scpi_frame(data, cut, &m2, &u2) == MG_OK && m2 == m && u2 == u);
			if (cut == size)
				break;
		}
	} else {
		CHECK_OR_DIE(rc == MG_ERR_NEED_MORE || rc == MG_ERR_PROTOCOL);
	}
	/* elements */
	size_t pos = 0, count = 0, last = 0;
	unsigned unit = 0;
	mg_scpi_element el;
	while ((rc = mg_scpi_next_element(p, size, &pos, &unit, &el)) == 1) {
		CHECK_OR_DIE(el.offset >= last && el.offset < size && pos <= size && pos > el.offset);
		CHECK_OR_DIE(el.p >= p && el.p + el.n <= p + size);
		last = el.offset;
		if (el.type == MG_SCPI_BLOCK)
			blocks((const uint8_t *)el.p, el.n > 65536 ? 65536 : el.n);
		else if (count < 64)
			values(el.p, el.n);
		count++;
	}
	CHECK_OR_DIE(rc == 0 || rc == MG_ERR_FORMAT);
	if (size < 4096)
		values(p, size);
	mg_scpi_count_queries(p, size);
	/* the built-in profile's window parser */
	static mg_icp_profile *prof;
	if (!prof)
		mg_icp_profile_builtin(NULL, &prof);
	if (prof) {
		static mg_icp_window w;
		if (mg_icp_parse_window(prof, p, size, NULL, 0, &w) == MG_OK) {
			CHECK_OR_DIE(w.npix >= 3 && w.npix <= MG_ICP_MAX_PIXELS);
			for (size_t i = 1; i < w.npix; i++)
				CHECK_OR_DIE(w.wavelength_nm[i] > w.wavelength_nm[i - 1] && isfinite(w.intensity[i]));
		}
		mg_icp_plasma pl;
		mg_icp_parse_plasma(prof, p, size, &pl);
	}
	/* the simulator's command parser */
	mg_icpsim *sim = NULL;
	if (mg_icpsim_new("noise=0&pixels=16", &sim) == MG_OK) {
		mg_buf out;
		mg_buf_init(&out);
		CHECK_OR_DIE(mg_icpsim_feed(sim, data, size < 4096 ? size : 4096, &out) == MG_OK);
		CHECK_OR_DIE(out.len == 0 || out.data[out.len - 1] == '\n');
		mg_buf_free(&out);
		mg_icpsim_free(sim);
	}
	return 0;
}
