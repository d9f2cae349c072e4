/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — spectrum file formats: a registry, detection by content, and
 * reading/writing through one interface. One source file per format under
 * formats/. Readers parse a whole file held in memory (so they are fuzzable)
 * and never return a partial spectrum as success: on failure they return a
 * negative code and record a detail naming the line or byte offset. */
#ifndef MAGASSAY_FORMAT_H
#define MAGASSAY_FORMAT_H

#include <stddef.h>

#include "magassay/buf.h"
#include "magassay/error.h"
#include "magassay/spectrum.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

typedef enum mg_format_id {
	MG_FORMAT_UNKNOWN = 0,
	MG_FORMAT_MCA,     /* Amptek PMCA/DppMCA text .mca       read+write */
	MG_FORMAT_MSA,     /* EMSA/MSA ISO 22029                 read+write */
	MG_FORMAT_CSV,     /* channel,energy_keV,counts          read+write */
	MG_FORMAT_SPX,     /* Bruker Esprit XML                  read */
	MG_FORMAT_SPE,     /* ORTEC MAESTRO ASCII .Spe           read */
	MG_FORMAT_CHN,     /* ORTEC MAESTRO binary .Chn          read */
	MG_FORMAT_COLUMNS, /* bare column(s) of numbers (PyMca's simplest) read */
} mg_format_id;

/* Largest file any reader accepts. */
#define MG_FORMAT_MAX_FILE_BYTES (64u * 1024u * 1024u)

typedef struct mg_format {
	mg_format_id id;
	const char *name;        /* "mca" — used by --to */
	const char *description; /* "Amptek MCA (PMCA/DppMCA text)" */
	const char *extension;   /* ".mca" */
	/* How sure the content is this format: 0 = not it, 100 = magic matched. */
	int (*probe)(const unsigned char *data, size_t len);
	/* Parse; on success *out is a new spectrum owned by the caller. */
	int (*read)(const unsigned char *data, size_t len, mg_spectrum **out);
	/* Serialise (NULL for read-only formats). */
	int (*write)(const mg_spectrum *s, mg_buf *out);
} mg_format;

/* All registered formats, in a stable order. */
const mg_format *const *mg_formats(size_t *count);
const mg_format *mg_format_get(mg_format_id id);
const mg_format *mg_format_by_name(const char *name); /* "mca", "msa", "emsa", "csv" ... */
/* Best match by content, or NULL. */
const mg_format *mg_format_detect(const unsigned char *data, size_t len);

/* Detect and read. fmt_out may be NULL. `name` is used in error details. */
int mg_spectrum_read_mem(const unsigned char *data, size_t len, const char *name,
                         const mg_format **fmt_out, mg_spectrum **out);
int mg_spectrum_read_file(const char *path, const mg_format **fmt_out, mg_spectrum **out);
/* Serialise with fmt and write atomically (temporary file, fsync, rename). */
int mg_spectrum_write_file(const mg_spectrum *s, const char *path, const mg_format *fmt);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
