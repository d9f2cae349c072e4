/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — the embedded store: a data directory holding the spectrum archive
 * (spectra/<batch>/<sample>/<uuid>.mca) and a database of batches, samples,
 * measurements, results and calibrations: SQLite in the data directory
 * (magassay.db, the default) or PostgreSQL on a server (mg_store_open_db).
 * The layout and the schema are described in docs/data-model.md.
 *
 * Threads: a store handle is used by one thread at a time; open one handle per
 * thread (or per process). Several processes may open the same data directory:
 * writers wait for each other (busy timeout) instead of failing.
 *
 * Ownership: strings handed to the store are borrowed (copied when kept).
 * Records filled by the store (mg_batch, mg_sample, mg_measurement, mg_result,
 * mg_calibration, mg_found) own their heap strings: release them with the
 * matching _clear() function, which also resets the struct. Records passed to
 * a listing callback are borrowed and valid only during the call.
 *
 * Errors: 0 = OK, a negative enum mg_err on failure with mg_error_detail():
 * MG_ERR_ARG (bad id or argument), MG_ERR_NOT_FOUND, MG_ERR_EXISTS,
 * MG_ERR_BUSY (the database stayed locked beyond the busy timeout),
 * MG_ERR_NOSPACE (disk full, file size limit), MG_ERR_IO (read-only database,
 * I/O error), MG_ERR_FORMAT (not a magassay database, corrupt file),
 * MG_ERR_UNSUPPORTED (a database written by a newer magassay). A write that
 * fails changes nothing: every write is one transaction. */
#ifndef MAGASSAY_STORE_H
#define MAGASSAY_STORE_H

#include <stddef.h>

#include "magassay/calib.h"
#include "magassay/id.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

typedef struct mg_store mg_store;

/* The schema version this code writes (PRAGMA user_version). */
#define MG_STORE_SCHEMA_VERSION 2
/* A canonical UUID text, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", plus the NUL. */
#define MG_UUID_SIZE 37
/* A SHA-256 digest in lowercase hex, plus the NUL. */
#define MG_SHA256_HEX_SIZE 65
/* Default wait for a database locked by another process, milliseconds. */
#define MG_STORE_BUSY_TIMEOUT_MS 15000

/* ---- ids, UUIDs, hashes ---------------------------------------------- */

/* Ids: mg_id_validate() and MG_ID_MAX, from magassay/id.h. */

/* A fresh random (version 4) UUID in lowercase text. */
int mg_uuid_generate(char out[MG_UUID_SIZE]);
/* MG_OK if s is a canonical lowercase or uppercase UUID text, else MG_ERR_ARG. */
int mg_uuid_validate(const char *s);

/* SHA-256 of a file (streamed) or of memory, as 64 lowercase hex digits.
 * size_out (may be NULL) receives the file size. */
int mg_sha256_file(const char *path, char hex_out[MG_SHA256_HEX_SIZE], long long *size_out);
int mg_sha256_mem(const void *data, size_t len, char hex_out[MG_SHA256_HEX_SIZE]);

/* ---- opening --------------------------------------------------------- */

enum mg_store_flags {
	MG_STORE_DEFAULT = 0,
	MG_STORE_NOCREATE = 1 << 0, /* the data directory and database must exist (MG_ERR_NOT_FOUND) */
	MG_STORE_READONLY = 1 << 1, /* open for reading only (implies NOCREATE); writes fail with MG_ERR_IO */
};

/* The data directory that mg_store_open() would use, without creating it:
 * data_dir if not NULL or empty, else $MAGASSAY_DATA, else $XDG_DATA_HOME/magassay
 * (when absolute), else $HOME/.local/share/magassay. *out is malloc'ed (free()). */
int mg_store_resolve_dir(const char *data_dir, char **out);

/* The machine's configuration file (/etc/magassay/magassay.conf for a system
 * install; docs/install.md): INI, one section [store] with two optional keys,
 *   data_dir = /absolute/path        the data directory for whoever names none
 *   database = postgresql://...|sqlite   the database for whoever names none
 * Anything else (another section or key, a relative data_dir, a database that
 * is neither a PostgreSQL URL nor "sqlite", a key given twice) is
 * MG_ERR_FORMAT with "<name> line <N>: <what>". Which of these a program
 * applies, and in which order, is its choice (the magassay command's:
 * docs/install.md). The fields are malloc'ed or NULL; release with
 * mg_store_conf_clear(). */
typedef struct mg_store_conf {
	char *data_dir;
	char *database;
} mg_store_conf;
int mg_store_conf_parse(const char *text, size_t len, const char *name, mg_store_conf *out);
/* The same from a file. A file that does not exist is an empty configuration
 * (MG_OK, both fields NULL); one that cannot be read is MG_ERR_IO. */
int mg_store_conf_read(const char *path, mg_store_conf *out);
void mg_store_conf_clear(mg_store_conf *c);

/* Open (and by default create) the store in the data directory resolved as
 * above: the directory (0750) with its spectra/ archive and magassay.db,
 * migrated to MG_STORE_SCHEMA_VERSION. A database of a newer schema is refused
 * (MG_ERR_UNSUPPORTED); a file that is not a magassay database too (MG_ERR_FORMAT).
 * *out is released with mg_store_close(). */
int mg_store_open(const char *data_dir, mg_store **out);
int mg_store_open_ex(const char *data_dir, unsigned flags, mg_store **out);
/* The same with a choice of database. The records live in db_url if not NULL
 * or empty, else in $MAGASSAY_DB, else in the `database = URL` line of
 * <data dir>/magassay.conf, else in SQLite in the data directory (as
 * mg_store_open). A URL is a PostgreSQL URI (postgresql://... or
 * postgres://..., anything libpq takes) or "sqlite"; anything else is
 * MG_ERR_ARG. With PostgreSQL the data directory still holds the spectrum
 * archive (spectra/); the database is on the server. Same API, same
 * behaviour; a lost connection is MG_ERR_IO. Passwords in a URL are masked in
 * every message. */
int mg_store_open_db(const char *data_dir, const char *db_url, unsigned flags, mg_store **out);
/* Close the handle (NULL is fine). */
void mg_store_close(mg_store *st);

/* The absolute data directory of an open store (owned by the store). */
const char *mg_store_data_dir(const mg_store *st);
/* The database behind the store: "sqlite" or "postgresql" (a static string). */
const char *mg_store_backend(const mg_store *st);
/* How long a write waits for a lock held by another process (default
 * MG_STORE_BUSY_TIMEOUT_MS). */
int mg_store_set_busy_timeout(mg_store *st, int ms);

/* ---- batches and samples --------------------------------------------- */

/* What an _ensure call did. */
enum mg_ensure {
	MG_ENSURE_EXISTED = 0, /* the record was there already and is reused */
	MG_ENSURE_CREATED = 1, /* a new record was written */
};

typedef struct mg_batch {
	char *id;             /* the lot number */
	char *created_at;     /* ISO 8601 UTC, "2024-05-01T12:00:00.000Z" */
	char *operator_name;  /* NULL when not given */
	char *notes;          /* NULL when none */
	char *status;         /* "open" or "closed" */
	long long n_samples;
	long long n_measurements;
} mg_batch;

typedef struct mg_sample {
	char *id;
	char *batch_id;
	char *created_at;
	char *description;    /* NULL when none */
	long long n_measurements;
} mg_sample;

void mg_batch_clear(mg_batch *b);
void mg_sample_clear(mg_sample *s);

/* Create the batch, or reuse it if it exists (the existing operator and notes
 * are kept). how (may be NULL) tells which happened. */
int mg_store_batch_ensure(mg_store *st, const char *id, const char *operator_name, enum mg_ensure *how);

/* Create the sample in the batch (which must exist: MG_ERR_NOT_FOUND), or
 * reuse it if it exists in the same batch. Sample ids are unique across the
 * store: an id that exists under another batch is MG_ERR_EXISTS with a detail
 * naming both batches. batch_id NULL reuses an existing sample whatever its
 * batch and is MG_ERR_NOT_FOUND for a new one. description may be NULL. */
int mg_store_sample_ensure(mg_store *st, const char *id, const char *batch_id, const char *description,
                           enum mg_ensure *how);

/* Lookups: MG_ERR_NOT_FOUND if absent. out is filled (owned); clear it after. */
int mg_store_batch_get(mg_store *st, const char *id, mg_batch *out);
int mg_store_sample_get(mg_store *st, const char *id, mg_sample *out);

/* ---- measurements ----------------------------------------------------- */

/* What to register (all strings borrowed; NULL = unknown; NAN doubles = unknown). */
typedef struct mg_new_measurement {
	const char *uuid;          /* required: mg_uuid_generate(), also the archive file name */
	const char *sample_id;     /* required: registered with mg_store_sample_ensure() */
	const char *batch_id;      /* NULL: the sample's batch; otherwise must be the sample's batch */
	const char *kind;          /* "xrf" or "icp" */
	const char *file;          /* the spectrum file, relative to the data directory or absolute
	                              inside it; it must exist: its size and SHA-256 are computed */
	const char *sha256;        /* NULL, or the hash the writer computed: a mismatch with the
	                              file is MG_ERR_CHECKSUM */
	const char *instrument_model, *instrument_serial, *instrument_firmware;
	const char *settings_json; /* a JSON object or NULL */
	const char *started_at, *ended_at; /* ISO 8601 */
	double live_time_s, real_time_s, total_counts;
	const char *operator_name;
	const char *status;        /* "complete", "stopped_early", "incomplete", "device_lost" */
	int replicate;             /* >= 1, or 0: the next free index for this sample */
	const char *notes;
} mg_new_measurement;

/* A mg_new_measurement with every field unknown (doubles NAN, status "complete"). */
void mg_new_measurement_init(mg_new_measurement *m);

typedef struct mg_measurement {
	long long id;
	char *uuid;
	char *sample_id, *batch_id;
	char *kind;
	char *file;                /* relative to the data directory */
	char *sha256;
	long long size;
	char *instrument_model, *instrument_serial, *instrument_firmware;
	char *settings_json;
	char *started_at, *ended_at;
	double live_time_s, real_time_s, total_counts; /* NAN when unknown */
	char *operator_name;
	char *status;
	int replicate;
	char *notes;
	char *created_at;
	long long n_results;
} mg_measurement;

void mg_measurement_clear(mg_measurement *m);

/* Register a measurement (one transaction, synchronous=FULL: durable when this
 * returns). id_out (may be NULL) receives the new numeric id, replicate_out
 * (may be NULL) the replicate index used. A uuid or file already registered is
 * MG_ERR_EXISTS. */
int mg_store_measurement_add(mg_store *st, const mg_new_measurement *m, long long *id_out, int *replicate_out);
int mg_store_measurement_get(mg_store *st, long long id, mg_measurement *out);
int mg_store_measurement_get_uuid(mg_store *st, const char *uuid, mg_measurement *out);

/* Where a spectrum of this measurement goes in the archive:
 * <data dir>/spectra/<batch>/<sample>/<uuid>.<ext> (ext NULL = "mca"), with the
 * folders created (0750). Ids and the UUID are validated first; ext is 1..8
 * bytes of [a-z0-9]. *out is malloc'ed (free()). */
int mg_store_spectrum_path(mg_store *st, const char *batch_id, const char *sample_id, const char *uuid,
                           const char *ext, char **out);
/* <data dir>/<relative path> (malloc'ed). */
int mg_store_abspath(mg_store *st, const char *relative, char **out);

/* Check one measurement's file against its registered size and SHA-256:
 * MG_OK, MG_ERR_NOT_FOUND (file missing) or MG_ERR_CHECKSUM (different
 * content), with a detail. got_sha256 (may be NULL) receives the hash read. */
int mg_store_measurement_verify(mg_store *st, const mg_measurement *m, char got_sha256[MG_SHA256_HEX_SIZE]);

/* ---- results and calibrations (append-only: never updated or deleted) ---- */

typedef struct mg_result {
	long long id;
	long long measurement_id;
	int version;               /* 1, 2, ... per measurement */
	long long calibration_id;  /* 0 when none */
	char *software_version;
	char *created_at;
	char *payload_json;
} mg_result;

void mg_result_clear(mg_result *r);

/* Add the next version of a measurement's result. calibration_id 0 = none;
 * software_version NULL = this library's version; payload_json must be valid
 * JSON. version_out / id_out may be NULL. */
int mg_store_result_add(mg_store *st, long long measurement_id, long long calibration_id,
                        const char *software_version, const char *payload_json, int *version_out,
                        long long *id_out);
/* The latest version (version 0) or a given version. */
int mg_store_result_get(mg_store *st, long long measurement_id, int version, mg_result *out);

typedef struct mg_new_calibration {
	const char *kind;            /* "energy", "resolution", "quant", ...: [a-z0-9_], 1..32 bytes */
	const char *name;            /* an id (mg_id_validate), e.g. "dp5-sn1234-rh" */
	const char *operator_name;   /* may be NULL */
	const char *software_version;/* NULL = this library's version */
	const char *provenance_json; /* JSON or NULL: what it was made from */
	const char *payload_json;    /* JSON, required: the calibration itself */
} mg_new_calibration;

typedef struct mg_calibration {
	long long id;
	char *kind, *name;
	int version;
	char *created_at;
	char *operator_name;
	char *software_version;
	char *provenance_json;
	char *payload_json;
} mg_calibration;

void mg_calibration_clear(mg_calibration *c);

/* Add the next version of (kind, name). */
int mg_store_calibration_add(mg_store *st, const mg_new_calibration *c, int *version_out, long long *id_out);
int mg_store_calibration_get(mg_store *st, long long id, mg_calibration *out);
/* The latest version (version 0) or a given version of (kind, name). */
int mg_store_calibration_find(mg_store *st, const char *kind, const char *name, int version,
                              mg_calibration *out);

/* ---- listing ---------------------------------------------------------- */

/* Callbacks get a borrowed record; return 0 to go on, non-zero to stop (a
 * negative value is then returned by the listing call). The listing calls
 * return the number of records visited, or a negative error. A callback may
 * call the store (lookups, other listings) but must not write to it. */
typedef int (*mg_batch_cb)(const mg_batch *b, void *userdata);
typedef int (*mg_sample_cb)(const mg_sample *s, void *userdata);
typedef int (*mg_measurement_cb)(const mg_measurement *m, void *userdata);
typedef int (*mg_result_cb)(const mg_result *r, void *userdata);
typedef int (*mg_calibration_cb)(const mg_calibration *c, void *userdata);

/* Oldest first. */
int mg_store_batches_list(mg_store *st, mg_batch_cb cb, void *userdata);
/* batch_id NULL: all samples. */
int mg_store_samples_list(mg_store *st, const char *batch_id, mg_sample_cb cb, void *userdata);
/* batch_id / sample_id NULL: no filter. By id (registration order). */
int mg_store_measurements_list(mg_store *st, const char *batch_id, const char *sample_id,
                               mg_measurement_cb cb, void *userdata);
/* A selection of measurements for work that walks the archive page by page
 * (reprocessing): every field NULL = no filter. */
typedef struct mg_measurement_filter {
	const char *batch_id;
	const char *sample_id;
	const char *kind;          /* "xrf" or "icp" */
	const char *since;         /* ISO 8601 date or date-time (UTC): measurements started (or,
	                              when the start is unknown, registered) at or after it */
} mg_measurement_filter;

/* Visit at most `limit` (1..100000) measurements matching f whose id is
 * greater than after_id, by id: keyset paging, so a walk over the whole
 * archive holds one page at a time, and new measurements registered during
 * the walk are reached at its end. Same callback rules and return value as
 * mg_store_measurements_list(). */
int mg_store_measurements_scan(mg_store *st, const mg_measurement_filter *f, long long after_id, int limit,
                               mg_measurement_cb cb, void *userdata);

/* Every version, oldest first. */
int mg_store_results_list(mg_store *st, long long measurement_id, mg_result_cb cb, void *userdata);
/* kind / name NULL: no filter. */
int mg_store_calibrations_list(mg_store *st, const char *kind, const char *name, mg_calibration_cb cb,
                               void *userdata);

/* ---- calibration records (calib.h) --------------------------------------- */

/* Add a calibration record to the store as the next version of (kind, name);
 * fills r's id, version, created_at and software_version. */
int mg_calib_record_store(mg_store *st, mg_calib_record *r);
/* Load by "ID" (numeric), "kind:name", "kind:name@version", or "name" (any
 * kind, latest). MG_ERR_NOT_FOUND. */
int mg_calib_record_load(mg_store *st, const char *ref, mg_calib_record *out);

/* ---- finding anything by its id (for `magassay show`) ------------------ */

enum mg_found_kind { MG_FOUND_BATCH = 1, MG_FOUND_SAMPLE = 2, MG_FOUND_MEASUREMENT = 3 };

typedef struct mg_found {
	enum mg_found_kind kind;
	char *id;                  /* the batch or sample id, or the measurement's UUID */
	long long measurement_id;  /* for a measurement */
} mg_found;

void mg_found_clear(mg_found *f);

/* Resolve a batch id, a sample id, a measurement's numeric id, its UUID or a
 * unique UUID prefix of at least 8 characters. A prefix "batch:", "sample:" or
 * "measurement:" restricts the search. No match: MG_ERR_NOT_FOUND; more than
 * one: MG_ERR_ARG with a detail listing them. */
int mg_store_find(mg_store *st, const char *query, mg_found *out);

/* ---- integrity -------------------------------------------------------- */

typedef struct mg_check_issue {
	const char *what;          /* "integrity", "foreign_key", "file_missing", "file_size", "file_hash" */
	long long measurement_id;  /* 0 when not about a measurement */
	const char *message;
} mg_check_issue;

typedef void (*mg_check_cb)(const mg_check_issue *issue, void *userdata);

/* PRAGMA integrity_check and foreign_key_check (SQLite only: PostgreSQL
 * enforces its keys itself), then every measurement's file
 * (present, same size, same SHA-256). Each problem is reported through cb
 * (may be NULL) and the check goes on. Returns the number of problems (0 =
 * all good) or a negative error if the check could not run. */
int mg_store_check(mg_store *st, mg_check_cb cb, void *userdata);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
