/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The store's SQL layer, backend-neutral: a connection, statements written
 * with SQLite-style numbered placeholders (?1 ?2 ..., a number may be used
 * more than once), binding, stepping through rows, transactions and the
 * mapping of a failure to an mg_err code with a detail "<what>: <reason>".
 * Two implementations: db_sqlite.c (SQLite, the embedded default) and
 * db_pg.c (PostgreSQL through libpq). Only those two files include the
 * client libraries' headers. */
#ifndef MAGASSAY_STORE_DB_H
#define MAGASSAY_STORE_DB_H

enum db_backend { DB_SQLITE, DB_PG };

/* db_step() results; anything else is a failure to report with db_fail(). */
enum { DB_OK = 0, DB_ERROR = 1, DB_ROW = 100, DB_DONE = 101 };

typedef struct db_conn db_conn;
typedef struct db_stmt db_stmt;

/* Open an SQLite database file. dir is the data directory, for messages.
 * Returns an mg_err code (detail recorded); *out is set even on failure
 * when there is a handle to close. */
int db_open_sqlite(const char *path, const char *dir, int readonly, int create, db_conn **out);
/* Connect to PostgreSQL (a libpq URI). readonly: every transaction read-only. */
int db_open_pg(const char *url, int readonly, db_conn **out);
void db_close(db_conn *c);
enum db_backend db_backend_of(const db_conn *c);
/* Where the database is, for messages: "<dir>/magassay.db" or the URL with
 * its password masked. */
const char *db_where(const db_conn *c);

/* The connection cannot write (SQLite: the file or its folder is read-only). */
int db_readonly(db_conn *c);
/* How long a writer waits for another one (ms). */
int db_set_busy_timeout(db_conn *c, int ms);
int db_busy_timeout(const db_conn *c);

/* Prepare; persistent: a statement kept for the life of the connection.
 * NULL on failure (detail "<what>: <reason>" recorded). */
db_stmt *db_prepare(db_conn *c, const char *sql, int persistent, const char *what);
/* Binds (1-based). db_bind_text(NULL) and db_bind_double(NAN or infinite) bind NULL. */
int db_bind_int64(db_stmt *s, int i, long long v);
int db_bind_double(db_stmt *s, int i, double v);
int db_bind_text(db_stmt *s, int i, const char *v);
int db_bind_null(db_stmt *s, int i);
/* DB_ROW, DB_DONE or DB_ERROR (the connection remembers why: db_fail()). */
int db_step(db_stmt *s);
long long db_col_int64(db_stmt *s, int i); /* 0 for NULL */
double db_col_double(db_stmt *s, int i);   /* NAN for NULL */
const char *db_col_text(db_stmt *s, int i); /* NULL for NULL; valid until the next step or reset */
int db_col_is_null(db_stmt *s, int i);
/* Back to before the first step, bindings cleared. */
void db_reset(db_stmt *s);
void db_finalize(db_stmt *s);

/* Rows changed by the last INSERT/UPDATE/DELETE; the id of the last row inserted. */
long long db_changes(db_conn *c);
int db_last_id(db_conn *c, long long *id);

/* Run a script of one or more statements without results: DB_OK or DB_ERROR. */
int db_exec(db_conn *c, const char *sql);
/* Start a write transaction: waits for other writers up to the busy timeout
 * (SQLite: BEGIN IMMEDIATE; PostgreSQL: BEGIN and a transaction-level advisory
 * lock). DB_OK or DB_ERROR. */
int db_begin_write(db_conn *c);
int db_begin_read(db_conn *c);
int db_commit(db_conn *c);
void db_rollback(db_conn *c);
int db_in_transaction(db_conn *c);

/* The last failure as an mg_err code, detail "<what>: <reason>". */
int db_fail(db_conn *c, const char *what);

/* SQL for "now" as ISO 8601 UTC text with milliseconds, for this backend. */
const char *db_now_sql(const db_conn *c);

/* "postgresql://user:secret@host/db" -> "postgresql://user:***@host/db"; also
 * password=... in a key/value string or a URI query. Writes into out (cap bytes). */
void db_mask_url(const char *url, char *out, unsigned long cap);

/* SQLite only: the raw connection (for the checks that are SQLite's own). */
void *db_sqlite_handle(db_conn *c);

#endif
