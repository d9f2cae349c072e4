/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Minimal test helpers: checks that count failures and keep going, a skip
 * exit code (77) that ctest reports as skipped, and the shared data folder. */
#ifndef MG_TEST_CHECK_H
#define MG_TEST_CHECK_H

#include <math.h>
#include <stdio.h>

extern int mg_test_failures;

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
			mg_test_failures++;                                          \
		}                                                                    \
	} while (0)

#define CHECK_MSG(cond, ...)                                                         \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                \
			fputc('\n', stderr);                                         \
			mg_test_failures++;                                          \
		}                                                                    \
	} while (0)

/* |a - b| <= tol */
#define CHECK_NEAR(a, b, tol)                                                        \
	do {                                                                         \
		double a_ = (a), b_ = (b), t_ = (tol);                               \
		if (!(fabs(a_ - b_) <= t_)) {                                        \
			fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.10g, %s = %.10g, tol %.3g\n", \
			        __FILE__, __LINE__, #a, a_, #b, b_, t_);             \
			mg_test_failures++;                                          \
		}                                                                    \
	} while (0)

/* Expect a library call to return code `want`; print the detail otherwise. */
#define CHECK_RC(call, want)                                                         \
	do {                                                                         \
		int rc_ = (call);                                                    \
		if (rc_ != (want)) {                                                 \
			fprintf(stderr, "%s:%d: %s returned %d (%s), wanted %d: %s\n", \
			        __FILE__, __LINE__, #call, rc_, mg_strerror(rc_), (want), \
			        mg_error_detail());                                  \
			mg_test_failures++;                                          \
		}                                                                    \
	} while (0)

#define MG_TEST_SKIP 77

/* Print a summary line and return the process exit code. */
int mg_test_finish(const char *name);
/* Print why and exit 77. */
void mg_test_skip(const char *why) __attribute__((noreturn));

/* The shared real-data folder (env MAGASSAY_SHARED_DATA overrides the
 * build-time default). Returns NULL if it does not exist. */
const char *mg_test_data_dir(void);
/* Like mg_test_data_dir() but skips the test with a clear message if absent. */
const char *mg_test_require_data_dir(void);
/* path = dir + "/" + rel into a static buffer (one at a time). */
const char *mg_test_path(const char *dir, const char *rel);
/* A fresh temporary directory for this test (removed by nobody: under /tmp). */
const char *mg_test_tmpdir(void);

#endif
