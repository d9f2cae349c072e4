/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — user-supplied ids: batch and sample ids, calibration and method
 * names. One rule for the whole suite (the store makes them path components
 * of its archive; the ICP method and sequence readers check them as they
 * parse), so it lives in core. */
#ifndef MAGASSAY_ID_H
#define MAGASSAY_ID_H

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

/* Ids (batch, sample) are 1..MG_ID_MAX bytes. */
#define MG_ID_MAX 64

/* Check a user-supplied id (batch or sample): 1..64 bytes of [A-Za-z0-9._-],
 * not starting with '.' or '-' (so never ".", ".." or an option). MG_OK, or
 * MG_ERR_ARG with a detail naming the offending byte and its position.
 * Only validated ids ever become path components. */
int mg_id_validate(const char *id);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
