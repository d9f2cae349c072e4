/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — error codes and the per-thread error detail.
 *
 * Convention (as in libsigrok): 0 = success, negative = error, positive = a count.
 * A failing library function returns one of these codes and, where it has more
 * to say (file, line, byte offset, reason), records a detail message readable
 * with mg_error_detail() on the same thread until the next failure. */
#ifndef MAGASSAY_ERROR_H
#define MAGASSAY_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

enum mg_err {
	MG_OK = 0,
	MG_ERR_ARG = -1,          /* invalid argument (a caller bug or bad user input) */
	MG_ERR_NOMEM = -2,        /* out of memory */
	MG_ERR_IO = -3,           /* operating-system I/O failure (errno in the detail) */
	MG_ERR_FORMAT = -4,       /* malformed input: file, packet or text */
	MG_ERR_UNSUPPORTED = -5,  /* valid input the suite does not handle */
	MG_ERR_TIMEOUT = -6,      /* the device did not answer in time */
	MG_ERR_CHECKSUM = -7,     /* a packet failed its checksum */
	MG_ERR_PROTOCOL = -8,     /* an answer that breaks the protocol (wrong type, length) */
	MG_ERR_DEVICE = -9,       /* the device reported an error (ACK code, SCPI error) */
	MG_ERR_NOT_FOUND = -10,   /* no such file, device, record */
	MG_ERR_DISCONNECTED = -11,/* the device went away */
	MG_ERR_NA = -12,          /* not applicable: not a failure (e.g. a field the device lacks) */
	MG_ERR_NOSPACE = -13,     /* disk full or file size limit reached */
	MG_ERR_INTERRUPTED = -14, /* stopped on request (signal, user stop) */
	MG_ERR_BUSY = -15,        /* resource in use (device claimed, database locked) */
	MG_ERR_EXISTS = -16,      /* the record or file exists already */
	MG_ERR_NEED_MORE = -17,   /* stream parsers: not enough bytes yet (not a failure) */
	MG_ERR_INTERNAL = -18,    /* a bug: an invariant did not hold */
};

/* A short, static description of an error code ("malformed input"). */
const char *mg_strerror(int err);
/* The code's symbolic name ("MG_ERR_FORMAT"). */
const char *mg_strerror_name(int err);

/* The detail recorded by the last failing call on this thread, or the
 * plain mg_strerror() text if none was recorded. Never NULL. */
const char *mg_error_detail(void);
/* Forget the recorded detail (callers rarely need this). */
void mg_error_clear(void);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
