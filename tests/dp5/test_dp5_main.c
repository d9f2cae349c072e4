/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The DP5 protocol codec test: packets, stream parser, requests, responses,
 * ACKs, spectrum and status coding, text configuration. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "dp5_tests.h"

static uint32_t rng_state = 0x12345678u;

uint32_t dp5_rand(void)
{
	uint32_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}

void dp5_srand(uint32_t seed)
{
	rng_state = seed ? seed : 0x12345678u;
}

unsigned dp5_sum16(const uint8_t *p, size_t n)
{
	unsigned s = 0;
	for (size_t i = 0; i < n; i++)
		s = (s + p[i]) & 0xFFFFu;
	return s;
}

int dp5_checksum_ok(const uint8_t *p, size_t n)
{
	if (n < 8)
		return 0;
	return ((dp5_sum16(p, n - 2) + 256u * p[n - 2] + p[n - 1]) & 0xFFFFu) == 0;
}

int dp5_bytes_equal(const char *what, const uint8_t *a, const uint8_t *b, size_t n)
{
	if (memcmp(a, b, n) == 0)
		return 1;
	fprintf(stderr, "%s: bytes differ\n  got: ", what);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%02X ", a[i]);
	fprintf(stderr, "\n want: ");
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%02X ", b[i]);
	fputc('\n', stderr);
	return 0;
}

int main(void)
{
	test_dp5_packets();
	test_dp5_requests();
	test_dp5_responses();
	test_dp5_spectrum();
	test_dp5_status();
	test_dp5_config();
	return mg_test_finish("test_dp5_codec");
}
