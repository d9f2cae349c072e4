/* SPDX-License-Identifier: GPL-3.0-or-later */
/* SCPI / IEEE 488.2 over any mg_transport — private to the library (drivers/,
 * tests; not installed).
 *
 * Two parts:
 *  - codec.c: pure functions on bytes, fuzzable: response framing over a
 *    byte stream (terminator-driven, but length-driven inside definite
 *    blocks), splitting a response message into elements (text, strings,
 *    blocks), numbers (NR1/NR2/NR3, #H/#Q/#B, the 9.9E37 / 9.91E37 specials),
 *    booleans, strings, `*IDN?` and `SYSTem:ERRor?` answers, block payloads,
 *    and the encoders a simulated instrument uses;
 *  - session.c: a session on a transport: program messages with a
 *    terminator, one response message per query (over USBTMC the message
 *    ends with EOM; over serial, ptys and the loopback with the terminator),
 *    `*OPC?`, `*IDN?`, draining `SYSTem:ERRor?` into MG_ERR_DEVICE details,
 *    device clear. Stale input (a late answer to a timed-out query) is
 *    discarded before the next program message.
 * See docs/protocol-scpi-usbtmc.md. */
#ifndef MG_SCPI_H
#define MG_SCPI_H

#include <stddef.h>
#include <stdint.h>

#include "magassay/buf.h"
#include "magassay/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MG_SCPI_MAX_RESPONSE (16u << 20) /* a response message larger than this is refused */

/* ------------------------------------------------------------ codec */

/* Find the end of the first response message in a byte stream: a LF outside
 * strings and definite-length blocks (a CR before it is not part of the
 * message). Over a byte stream an indefinite block (#0) runs to the next LF.
 * MG_OK with *msg_len (the message without its terminator) and *consumed
 * (with it); MG_ERR_NEED_MORE if no terminator yet; MG_ERR_PROTOCOL for a
 * malformed block header (the detail gives the byte offset). */
int mg_scpi_frame(const uint8_t *p, size_t n, size_t *msg_len, size_t *consumed);

typedef enum mg_scpi_element_type {
	MG_SCPI_TEXT = 1,   /* numbers, character data, anything unquoted (trimmed) */
	MG_SCPI_STRING = 2, /* "..." or '...': p/n is the quoted text, quotes included */
	MG_SCPI_BLOCK = 3,  /* #<n><len><data> or #0<data>: p/n is the data */
} mg_scpi_element_type;

typedef struct mg_scpi_element {
	mg_scpi_element_type type;
	const char *p;
	size_t n;
	size_t offset;  /* of the element in the message */
	unsigned unit;  /* response message unit (units are separated by ';') */
} mg_scpi_element;

/* The next element of a response message (without terminator) from *pos
 * (start at 0); *unit (start at 0, may be NULL) counts the ';' passed. 1 and
 * *el, 0 at the end, or MG_ERR_FORMAT with the byte offset (an empty element,
 * an unterminated string, a truncated block, junk after a string or block). */
int mg_scpi_next_element(const char *msg, size_t n, size_t *pos, unsigned *unit, mg_scpi_element *el);
/* All elements (at most cap); *count the number found. MG_ERR_FORMAT if
 * there are more than cap. */
int mg_scpi_split(const char *msg, size_t n, mg_scpi_element *els, size_t cap, size_t *count);

/* A block header at p: definite (#<d><d digits>) or indefinite (#0, whose data
 * is the rest of p). *hdr_len and *data_len; MG_ERR_NEED_MORE if the header is
 * not complete; MG_ERR_FORMAT for a malformed one. Does not need the data. */
int mg_scpi_parse_block_header(const uint8_t *p, size_t n, size_t *hdr_len, size_t *data_len);

/* A number: NR1, NR2, NR3 (leading/trailing blanks allowed), #Hhex, #Qoct,
 * #Bbin. +9.9E37 -> +inf, -9.9E37 -> -inf, 9.91E37 -> NaN (instrument
 * conventions). MG_ERR_FORMAT with a detail otherwise. */
int mg_scpi_parse_number(const char *s, size_t n, double *out);
/* An integer (any number form with an integral value in range). */
int mg_scpi_parse_long(const char *s, size_t n, long *out);
/* 1/0/ON/OFF (any case, optional sign on the digit). */
int mg_scpi_parse_bool(const char *s, size_t n, int *out);
/* Unquote "..."/'...' (doubled quotes inside stand for one) into out
 * (appended; NUL-terminated). MG_ERR_FORMAT if s is not one quoted string. */
int mg_scpi_unquote(const char *s, size_t n, mg_buf *out);

/* SYSTem:ERRor? answer: <code>,"<text>" (text may hold commas and a
 * ";device detail"). Tolerates an unquoted text. */
typedef struct mg_scpi_error {
	int code;
	char text[256];
} mg_scpi_error;
int mg_scpi_parse_error(const char *s, size_t n, mg_scpi_error *e);
/* "command error", "execution error", "device-specific error", "query error",
 * "power-on event", "user request", "request control", "operation complete",
 * "instrument-specific error", "no error". */
const char *mg_scpi_error_class(int code);
/* The SCPI-99 text of a standard code ("Undefined header"), or NULL. */
const char *mg_scpi_error_text(int code);

/* *IDN? answer: manufacturer, model, serial, firmware (3 fields accepted:
 * serial empty; an "IDN " prefix dropped; more than 4: the rest is firmware). */
typedef struct mg_scpi_idn {
	char manufacturer[64];
	char model[64];
	char serial[64];
	char firmware[64];
} mg_scpi_idn;
int mg_scpi_parse_idn(const char *s, size_t n, mg_scpi_idn *idn);

/* Block payload to numbers. */
typedef enum mg_scpi_numtype {
	MG_SCPI_REAL32 = 1,
	MG_SCPI_REAL64 = 2,
	MG_SCPI_INT16 = 3,
	MG_SCPI_INT32 = 4,
} mg_scpi_numtype;
size_t mg_scpi_numtype_size(mg_scpi_numtype t);
/* n bytes -> n / size values into out (cap). big_endian: FORMat:BORDer NORMal.
 * MG_ERR_FORMAT if n is not a multiple of the size or there are more than cap. */
int mg_scpi_decode_numbers(const uint8_t *data, size_t n, mg_scpi_numtype t, int big_endian, double *out,
                           size_t cap, size_t *count);
/* Comma-separated numbers (ASCII data): at most cap. */
int mg_scpi_parse_numbers(const char *s, size_t n, double *out, size_t cap, size_t *count);

/* The number of query message units ('?' in a header) in a program message. */
int mg_scpi_count_queries(const char *program, size_t n);

/* Encoders (simulated instruments). */
int mg_scpi_append_block(mg_buf *b, const void *data, size_t n);  /* #<d><len><data> */
int mg_scpi_append_string(mg_buf *b, const char *s);              /* "..." with "" */
int mg_scpi_append_numbers(mg_buf *b, const double *v, size_t n, mg_scpi_numtype t, int big_endian);

/* ------------------------------------------------------------ session */

typedef struct mg_scpi mg_scpi;

typedef struct mg_scpi_config {
	const char *terminator;  /* appended to program messages: "\n" (default) or "\r\n" */
	unsigned timeout_ms;     /* per response (default 2000) */
	const char *error_query; /* default "SYSTem:ERRor?" */
	unsigned max_errors;     /* error-queue reads per drain (default 32) */
} mg_scpi_config;

typedef struct mg_scpi_stats {
	unsigned messages;       /* program messages sent */
	unsigned responses;      /* response messages read */
	unsigned timeouts;
	unsigned stale;          /* bytes of stale input discarded before a message */
	unsigned errors_drained; /* instrument errors read from the queue */
	unsigned clears;
	size_t bytes_out, bytes_in;
} mg_scpi_stats;

/* A session on t (borrowed: the caller closes it after mg_scpi_free). cfg may be NULL. */
int mg_scpi_new(mg_transport *t, const mg_scpi_config *cfg, mg_scpi **out);
void mg_scpi_free(mg_scpi *s);
/* Change terminator, timeout, error query, max errors (NULL/0 fields: defaults). */
int mg_scpi_configure(mg_scpi *s, const mg_scpi_config *cfg);
mg_transport *mg_scpi_get_transport(mg_scpi *s);
void mg_scpi_set_timeout(mg_scpi *s, unsigned timeout_ms);
unsigned mg_scpi_get_timeout(const mg_scpi *s);
mg_scpi_stats mg_scpi_get_stats(const mg_scpi *s);

/* Send one program message (the terminator is added). */
int mg_scpi_send(mg_scpi *s, const char *program);
/* Read one response message into resp (reset first; terminator stripped).
 * timeout_ms 0: the session's. */
int mg_scpi_read(mg_scpi *s, mg_buf *resp, unsigned timeout_ms);
/* send + read. */
int mg_scpi_query(mg_scpi *s, const char *program, mg_buf *resp, unsigned timeout_ms);
int mg_scpi_query_number(mg_scpi *s, const char *program, double *out);
int mg_scpi_query_long(mg_scpi *s, const char *program, long *out);
/* *OPC? until it answers 1 (timeout_ms 0: the session's). */
int mg_scpi_opc(mg_scpi *s, unsigned timeout_ms);
int mg_scpi_query_idn(mg_scpi *s, const char *program, mg_scpi_idn *idn); /* program NULL: "*IDN?" */
/* Read the error queue until it reports 0 (at most max_errors reads). The
 * first cap errors go to errs; *count (may be NULL) gets how many were read. */
int mg_scpi_drain_errors(mg_scpi *s, mg_scpi_error *errs, size_t cap, size_t *count);
/* Drain; if the instrument reported errors, MG_ERR_DEVICE with a detail
 * "<context>: the instrument reported -222,"Data out of range" (execution
 * error); ...". MG_OK if the queue was empty. */
int mg_scpi_check_errors(mg_scpi *s, const char *context);
/* Device clear: USBTMC INITIATE_CLEAR; other transports: discard input. */
int mg_scpi_clear(mg_scpi *s);

#ifdef __cplusplus
}
#endif
#endif
