/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Private to the EMSA/MSA format (msa_keywords.c, msa_read.c, msa_write.c).
 *
 * EMSA/MSA spectra (EMSA/MAS Spectral Data File, ISO 22029), read and write:
 *
 *   #FORMAT      : EMSA/MAS Spectral Data File     first keyword, always
 *   #KEYWORD-unit: value                           keyword padded to column 13
 *   ##VENDORKEY  : value                           vendor keywords
 *   #SPECTRUM    :                                 then the values, then
 *   #ENDOFDATA   :
 *
 * Read: DATATYPE Y (values only; x = OFFSET + i*XPERCHAN) and XY (x, y
 * pairs; the calibration is the least-squares fit over x, which must rise).
 * Values are separated by commas and/or blanks, any number per line (NCOLUMNS
 * is only checked to be a count); "2048." numbers are fine. NPOINTS must
 * equal the number of values (pairs for XY) between #SPECTRUM and #ENDOFDATA.
 *   XUNITS keV or eV + XPERCHAN/OFFSET -> calibration (eV converted to keV; no
 *      XUNITS: eV when XPERCHAN >= 1, else keV). Other units: no calibration.
 *   LIVETIME/REALTIME (s, ms, us) -> live/real time; DATE DD-MMM-YYYY + TIME
 *      HH:MM[:SS] -> start_time (no zone); TITLE (the first) -> description;
 *      BEAMKV (kV) -> acq.tube_kv; PROBECUR (nA) -> acq.tube_ua = nA/1000;
 *      ELEVANGLE (dg) -> acq.takeoff_deg.
 *   Every other keyword -> meta "msa.#KEY" / "msa.##KEY", with " -unit" when
 *      the line had a unit ("msa.##MNFWHM -keV"), in file order. VERSION 1.0,
 *      empty OWNER, SIGNALTYPE XRF, YUNITS counts are what the writer writes
 *      anyway and are not stored.
 *   Negative values (Bruker's spectra carry a few near 0.3 keV, presumably
 *      left by its pile-up/escape corrections) are not counts: they read as 0, and meta
 *      "msa.clamped_counts" ("126:-2 130:-235") keeps them; the writer puts them
 *      back, so the file round-trips unchanged.
 *
 * Write: the required keywords in the standard's order, DATATYPE Y with one
 * value a line, keV, SIGNALTYPE XRF (or the kept one), LIVETIME/REALTIME -s,
 * BEAMKV -kV, PROBECUR -nA, ELEVANGLE -dg, the kept msa.* keywords, then what
 * these cannot carry exactly as "##MG_FIELD   : key: value" lines (core/fields.h
 * keys, e.g. "calibration_kev: o g q" for a quadratic calibration, whose
 * XPERCHAN/OFFSET are then the least-squares line) cut into 80-character lines
 * continued by "##MG_FIELD+  :". TITLE is cut to 64 characters (the whole text
 * then goes to ##MG_FIELD). Lines end in CRLF. Text is written in UTF-8 (ASCII
 * stays ASCII): PyMca's EMSA parser decodes files with the locale's encoding
 * and fails on latin-1 bytes; the reader takes UTF-8 and falls back to latin-1. */
#ifndef MAGASSAY_FORMATS_MSA_H
#define MAGASSAY_FORMATS_MSA_H

#include <stddef.h>

#include "magassay/spectrum.h"

#define MSA_MAX_VALUES (2 * MG_SPECTRUM_MAX_CHANNELS) /* XY: pairs */
#define MSA_LINE 80
#define MSA_PAYLOAD_KEY "MG_FIELD"

/* ---- msa_keywords.c: the keyword table and value conversions -------------- */

extern const char *const msa_months[12];

/* How a keyword is handled; one table for the reader and the writer. */
enum kw_class {
	KW_META,      /* kept in meta, written in the kept block */
	KW_STRUCT,    /* consumed: FORMAT, NPOINTS, NCOLUMNS, XUNITS, DATATYPE, XPERCHAN, OFFSET, ... */
	KW_DEFAULTED, /* VERSION, OWNER, SIGNALTYPE, YUNITS: meta unless the writer's default */
	KW_TITLE,
	KW_DATE,
	KW_TIME,
	KW_MAPPED,    /* a named field in a unit the reader converts */
	KW_PAYLOAD,   /* ##MG_FIELD, ##MG_FIELD+ */
};

typedef struct msa_kw {
	int vendor;         /* "##" */
	const char *key, *unit, *value, *raw;
	size_t kn, un, vn, rn; /* raw: after ": " untrimmed (##MG_FIELD) */
} msa_kw;

/* Scale of a mapped keyword's unit to the field's unit, 0 when not mapped. */
double msa_mapped_scale(const char *k, size_t kn, const char *u, size_t un);
/* How a keyword line is handled. */
enum kw_class msa_classify(int vendor, const char *k, size_t kn, const char *u, size_t un);
/* The value the writer writes for a KW_DEFAULTED keyword. */
const char *msa_default_of(const char *k, size_t kn);
/* Parse "#KEY[ -unit]: value" (line without its end). 0 or MG_ERR_FORMAT. */
int msa_parse_kw(const char *l, size_t n, msa_kw *kw, long lineno);
/* "msa.#KEY -unit" for a keyword line (UTF-8, as values are); NULL on no memory. */
char *msa_meta_key(const msa_kw *kw);
/* The parts of a meta key "msa.#KEY -unit"; 0 if it is not one. */
int msa_split_meta_key(const char *mk, msa_kw *kw);
/* 1 if the keyword and unit read back unchanged from a written line. */
int msa_kw_writable(const msa_kw *kw);
/* keV per x unit; 0 when not an energy unit. */
double msa_xunit_scale(const char *u, double xperchan);
/* DD-MMM-YYYY; 1 if it is one. */
int msa_parse_date(const char *d, int *y, int *mo, int *day);
/* HH:MM[:SS]; 1 if it is one. */
int msa_parse_time(const char *t, int *h, int *mi, int *se);

/* ---- msa_read.c, msa_write.c ---------------------------------------------- */

int msa_read(const unsigned char *data, size_t len, mg_spectrum **out);
int msa_write(const mg_spectrum *s, mg_buf *out);

#endif
