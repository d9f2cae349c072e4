/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Run a program as a test runs the magassay binary: arguments as given, stdout
 * and stderr captured whole, the exit status (128 + signal when killed). */
#ifndef MG_TEST_RUN_H
#define MG_TEST_RUN_H

typedef struct mg_test_output {
	char *out, *err; /* malloc'ed, NUL-terminated (free with mg_test_output_clear) */
} mg_test_output;

/* argv[0] is the program; env (may be NULL) holds "NAME=value" strings to set
 * in the child, or "NAME" to unset, NULL-terminated. */
int mg_test_run(const char *const *argv, const char *const *env, mg_test_output *o);
void mg_test_output_clear(mg_test_output *o);

#endif
