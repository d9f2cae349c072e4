/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The store's private parts: the handle, the statement cache, transactions
 * and error reporting, over the backend-neutral SQL layer (db.h). */
#ifndef MAGASSAY_STORE_INTERNAL_H
#define MAGASSAY_STORE_INTERNAL_H

#include <jansson.h>
#include "db.h"
#include "internal.h"
#include "magassay/store.h"

#define STORE_DOM "store"
#define STORE_DB_NAME "magassay.db"
#define STORE_ARCHIVE "spectra"
/* PRAGMA application_id: "MGSA". Tells a magassay database from any other. */
#define STORE_APP_ID 0x4D475341

/* Every statement the store runs more than once; prepared on first use and
 * kept in the handle. */
enum stmt_id {
	S_BATCH_INSERT,
	S_BATCH_GET,
	S_BATCH_LIST,
	S_SAMPLE_INSERT,
	S_SAMPLE_GET,
	S_SAMPLE_LIST,
	S_SAMPLE_LIST_BATCH,
	S_MEAS_INSERT,
	S_MEAS_NEXT_REPLICATE,
	S_MEAS_EXISTS,
	S_MEAS_GET,
	S_MEAS_GET_UUID,
	S_MEAS_LIST,
	S_MEAS_SCAN,
	S_MEAS_FIND_UUID_PREFIX,
	S_RESULT_NEXT_VERSION,
	S_RESULT_INSERT,
	S_RESULT_GET,
	S_RESULT_LATEST,
	S_RESULT_LIST,
	S_CAL_NEXT_VERSION,
	S_CAL_INSERT,
	S_CAL_GET,
	S_CAL_FIND,
	S_CAL_LATEST,
	S_CAL_LIST,
	S_EVENT_INSERT,
	S_COUNT
};

struct mg_store {
	db_conn *db;
	char *dir;        /* absolute, no trailing slash */
	int readonly;
	int busy_ms;
	int pg;           /* the database is PostgreSQL (else SQLite in dir) */
	db_stmt *stmt[S_COUNT];
	int stmt_busy[S_COUNT];
	char actor[128];  /* OS user, for the audit log when no operator is given */
	char host[128];
};

/* A statement ready to bind: the cached one, or (when the cached one is in use
 * by an enclosing listing) a fresh one that stmt_put() finalises. NULL on
 * failure (detail recorded). */
db_stmt *stmt_get(mg_store *st, enum stmt_id id);
void stmt_put(mg_store *st, enum stmt_id id, db_stmt *s);

/* Map the database's last failure to an mg_err code with a detail "<what>: <reason>". */
int store_sql_fail(mg_store *st, const char *what);
/* The id of the row just inserted. */
int store_last_id(mg_store *st, const char *what, long long *id);

/* Begin a write transaction (waits for other writers up to the busy
 * timeout: BEGIN IMMEDIATE, or PostgreSQL's advisory lock), COMMIT, ROLLBACK. */
int store_begin(mg_store *st, const char *what);
int store_commit(mg_store *st, const char *what);
void store_rollback(mg_store *st);
/* End a transaction: ROLLBACK and return e when e is an error, else COMMIT. */
int store_end(mg_store *st, int e, const char *what);

/* Append to the audit log inside the current transaction. details_json may be NULL. */
int store_event(mg_store *st, const char *actor, const char *action, const char *entity, const char *entity_id,
                const char *details_json);
/* The same with details built as JSON here (a reference taken; NULL for none). */
int store_event_json(mg_store *st, const char *actor, const char *action, const char *entity,
                     const char *entity_id, json_t *details);

/* A one-off statement (no cache slot); the caller finalises it. NULL on
 * failure (detail "<what>: <reason>" recorded). */
db_stmt *store_prepare(mg_store *st, const char *sql, const char *what);

/* Bind helpers: NULL text binds NULL, NAN binds NULL. */
int bind_text(db_stmt *s, int i, const char *v);
int bind_real(db_stmt *s, int i, double v);
/* Column helpers: owned copies (NULL for SQL NULL, *err set on no memory). */
char *col_text(db_stmt *s, int i, int *err);
double col_real(db_stmt *s, int i);
/* col_text() when copy, else the column text borrowed from the statement. */
char *col_text_as(db_stmt *s, int i, int copy, int *err);

/* mkdir -p, each created level 0750. */
int store_make_dirs(const char *path);

/* "batch id "x/y": ..." — id checks with the kind of id in the message. */
int store_id_check(const char *what, const char *id);
/* A JSON text that jansson accepts (NULL is fine when allow_null). */
int store_json_check(const char *what, const char *json, int allow_null);

/* Fill a measurement from a row of the measurement columns: owned copies, or
 * borrowed column text (copy == 0). */
int store_fill_measurement(db_stmt *s, mg_measurement *m, int copy);
/* Check a measurement's file; what_out: "file_missing", "file_size" or "file_hash" on failure. */
int store_verify_file(mg_store *st, const mg_measurement *m, char got[MG_SHA256_HEX_SIZE], const char **what_out);

/* The migrations, oldest first; migration i takes user_version i to i+1. */
extern const char *const store_migrations[];
extern const int store_migration_count;
/* The same for PostgreSQL (schema_pg.c); the version is in magassay_meta. */
extern const char *const store_migrations_pg[];
extern const int store_migration_count_pg;

/* PostgreSQL: check that the database is a magassay store (or empty) of a
 * version this code knows and migrate it to MG_STORE_SCHEMA_VERSION
 * (schema_pg.c). nocreate: an empty database is MG_ERR_NOT_FOUND. */
int store_pg_prepare_schema(mg_store *st, int nocreate);

/* Run migrations[from..count-1], each in its own write transaction (the
 * version re-read under the lock, so concurrent openers migrate once), with
 * the backend's way to read and write the schema version; audit-logged. */
int store_migrate(mg_store *st, int from, const char *const *migrations, int count,
                  int (*read_version)(mg_store *st, int *version, const char *what),
                  int (*write_version)(mg_store *st, int version));

#endif
