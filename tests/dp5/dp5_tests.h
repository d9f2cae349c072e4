/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The DP5 codec tests: one function per area, run by test_dp5_main.c. */
#ifndef MG_DP5_TESTS_H
#define MG_DP5_TESTS_H

#include <stddef.h>
#include <stdint.h>

#ifndef MG_ARRAY_SIZE
#define MG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

void test_dp5_packets(void);
void test_dp5_requests(void);
void test_dp5_responses(void);
void test_dp5_spectrum(void);
void test_dp5_status(void);
void test_dp5_config(void);

/* 1 if a[0..n-1] == b[0..n-1]; otherwise prints both as hex under `what`. */
int dp5_bytes_equal(const char *what, const uint8_t *a, const uint8_t *b, size_t n);
/* Deterministic pseudo-random numbers (xorshift32) so the tests never vary. */
uint32_t dp5_rand(void);
void dp5_srand(uint32_t seed);
/* Sum of bytes mod 65536, computed independently of the codec. */
unsigned dp5_sum16(const uint8_t *p, size_t n);
/* 1 if a whole packet p[0..n-1] satisfies the reference rule:
 * (sum of bytes 0..n-3) + 256*p[n-2] + p[n-1] == 0 mod 65536. */
int dp5_checksum_ok(const uint8_t *p, size_t n);

#endif
