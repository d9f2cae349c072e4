/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay analyze and the store: inputs given as measurement, sample or
 * batch ids, and results saved as new versions (never overwritten). */
#ifndef MAGASSAY_CLI_ANALYZE_STORE_H
#define MAGASSAY_CLI_ANALYZE_STORE_H

#include <jansson.h>
#include <stddef.h>

typedef struct cli_analyze_inputs {
	size_t n;
	char **path;          /* file to analyse (owned) */
	long long *measurement; /* store measurement id, 0 for a plain file */
	struct mg_store *store; /* opened when an id was given or results are saved */
} cli_analyze_inputs;

/* Resolve arguments: an existing file is taken as is; anything else is
 * looked up in the store (data_dir NULL = the default) as a measurement id or
 * UUID, a sample id (all its measurements) or a batch id (all of the batch's).
 * writable: open the store for saving results. CLI exit code. */
int cli_analyze_inputs_resolve(cli_analyze_inputs *in, const char *data_dir, int writable, int argc,
                               char **argv);
void cli_analyze_inputs_free(cli_analyze_inputs *in);

/* Save payload as the next result version of measurement mid. CLI exit code. */
int cli_analyze_save_result(cli_analyze_inputs *in, long long mid, json_t *payload, int *version);

#endif
