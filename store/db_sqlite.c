/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The store's SQL layer (db.h) on SQLite: the embedded default database,
 * <data dir>/magassay.db. Maps SQLite's result codes (and the system error
 * behind an I/O failure: full disk, file size limit) to mg_err codes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <unistd.h>

#include "db_backend.h"
#include "store_internal.h"

typedef struct sq_db {
	db_conn base;
	sqlite3 *h;
	char *dir;   /* the data directory, for messages */
	char *where; /* <dir>/magassay.db_conn */
	int busy_ms;
	/* The last failure, captured where it happened. */
	int rc, sys, err;
	char msg[512];
} sq_db;

typedef struct sq_stmt {
	db_stmt base;
	sqlite3_stmt *s;
	sq_db *c;
} sq_stmt;

static int sq_fail(db_conn *c_, const char *what);
static void sq_close(db_conn *c_);

static void remember(sq_db *c, int rc)
{
	c->err = errno; /* as the failing system call left it */
	c->rc = rc;
	c->sys = c->h ? sqlite3_system_errno(c->h) : 0;
	snprintf(c->msg, sizeof(c->msg), "%s", c->h ? sqlite3_errmsg(c->h) : sqlite3_errstr(rc));
}

static void sq_close(db_conn *c_)
{
	sq_db *c = (sq_db *)c_;
	if (!c)
		return;
	if (c->h)
		sqlite3_close(c->h);
	free(c->dir);
	free(c->where);
	free(c);
}

static const char *sq_where(const db_conn *c_)
{
	const sq_db *c = (const sq_db *)c_;
	return c->where;
}

static int sq_readonly(db_conn *c_)
{
	sq_db *c = (sq_db *)c_;
	return sqlite3_db_readonly(c->h, "main") == 1;
}

static int sq_set_busy_timeout(db_conn *c_, int ms)
{
	sq_db *c = (sq_db *)c_;
	c->busy_ms = ms;
	sqlite3_busy_timeout(c->h, ms);
	return MG_OK;
}

static int sq_busy_timeout(const db_conn *c_)
{
	const sq_db *c = (const sq_db *)c_;
	return c->busy_ms;
}

static db_stmt *sq_prepare(db_conn *c_, const char *sql, int persistent, const char *what)
{
	sq_db *c = (sq_db *)c_;
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v3(c->h, sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0, &s, NULL);
	if (rc != SQLITE_OK) {
		remember(c, rc);
		sqlite3_finalize(s);
		sq_fail(c_, what);
		return NULL;
	}
	sq_stmt *d = malloc(sizeof(*d));
	if (!d) {
		sqlite3_finalize(s);
		mg_fail(MG_ERR_NOMEM, STORE_DOM, "%s: out of memory", what);
		return NULL;
	}
	d->base.ops = &db_sqlite_ops;
	d->s = s;
	d->c = c;
	return &d->base;
}

static int sq_bind_int64(db_stmt *s_, int i, long long v)
{
	sq_stmt *s = (sq_stmt *)s_;
	return sqlite3_bind_int64(s->s, i, v);
}

static int sq_bind_double(db_stmt *s_, int i, double v)
{
	sq_stmt *s = (sq_stmt *)s_;
	return isfinite(v) ? sqlite3_bind_double(s->s, i, v) : sqlite3_bind_null(s->s, i);
}

static int sq_bind_text(db_stmt *s_, int i, const char *v)
{
	sq_stmt *s = (sq_stmt *)s_;
	return v ? sqlite3_bind_text(s->s, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(s->s, i);
}

static int sq_bind_null(db_stmt *s_, int i)
{
	sq_stmt *s = (sq_stmt *)s_;
	return sqlite3_bind_null(s->s, i);
}

static int sq_step(db_stmt *s_)
{
	sq_stmt *s = (sq_stmt *)s_;
	int rc = sqlite3_step(s->s);
	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE)
		return DB_DONE;
	remember(s->c, rc);
	return DB_ERROR;
}

static long long sq_col_int64(db_stmt *s_, int i)
{
	sq_stmt *s = (sq_stmt *)s_;
	return sqlite3_column_int64(s->s, i);
}

static double sq_col_double(db_stmt *s_, int i)
{
	sq_stmt *s = (sq_stmt *)s_;
	return sqlite3_column_type(s->s, i) == SQLITE_NULL ? NAN : sqlite3_column_double(s->s, i);
}

static const char *sq_col_text(db_stmt *s_, int i)
{
	sq_stmt *s = (sq_stmt *)s_;
	return (const char *)sqlite3_column_text(s->s, i);
}

static int sq_col_is_null(db_stmt *s_, int i)
{
	sq_stmt *s = (sq_stmt *)s_;
	return sqlite3_column_type(s->s, i) == SQLITE_NULL;
}

static void sq_reset(db_stmt *s_)
{
	sq_stmt *s = (sq_stmt *)s_;
	sqlite3_reset(s->s);
	sqlite3_clear_bindings(s->s);
}

static void sq_finalize(db_stmt *s_)
{
	sq_stmt *s = (sq_stmt *)s_;
	if (!s)
		return;
	sqlite3_finalize(s->s);
	free(s);
}

static long long sq_changes(db_conn *c_)
{
	sq_db *c = (sq_db *)c_;
	return sqlite3_changes(c->h);
}

static int sq_last_id(db_conn *c_, long long *id)
{
	sq_db *c = (sq_db *)c_;
	*id = sqlite3_last_insert_rowid(c->h);
	return DB_OK;
}

static int sq_exec(db_conn *c_, const char *sql)
{
	sq_db *c = (sq_db *)c_;
	int rc = sqlite3_exec(c->h, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		remember(c, rc);
		return DB_ERROR;
	}
	return DB_OK;
}

static int sq_begin_write(db_conn *c_)
{
	return sq_exec(c_, "BEGIN IMMEDIATE");
}

static int sq_begin_read(db_conn *c_)
{
	return sq_exec(c_, "BEGIN");
}

static int sq_commit(db_conn *c_)
{
	return sq_exec(c_, "COMMIT");
}

static void sq_rollback(db_conn *c_)
{
	sq_db *c = (sq_db *)c_;
	if (!sqlite3_get_autocommit(c->h))
		(void)sqlite3_exec(c->h, "ROLLBACK", NULL, NULL, NULL);
}

static int sq_in_transaction(db_conn *c_)
{
	sq_db *c = (sq_db *)c_;
	return !sqlite3_get_autocommit(c->h);
}

static const char *sq_now_sql(const db_conn *c_)
{
	(void)c_;
	return "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
}

void *db_sqlite_handle(db_conn *c)
{
	return c && c->ops == &db_sqlite_ops ? ((sq_db *)c)->h : NULL;
}

/* ---- errors ------------------------------------------------------------ */

/* Why a write failed for lack of room, if it did: the system error SQLite
 * saw, else errno as the failing call left it, else the process file-size
 * limit reached by the database or its log, else a full file system.
 * Writes the reason into why and returns 1, or returns 0. */
static int lack_of_room(sq_db *c, char *why, size_t cap)
{
	int codes[2] = {c->sys, c->err};
	for (int i = 0; i < 2; i++)
		if (codes[i] == ENOSPC || codes[i] == EFBIG || codes[i] == EDQUOT) {
			snprintf(why, cap, "%s", strerror(codes[i]));
			return 1;
		}
	struct rlimit rl;
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		static const char *const files[] = {STORE_DB_NAME, STORE_DB_NAME "-wal"};
		for (int i = 0; i < 2; i++) {
			char path[PATH_MAX];
			struct stat sb;
			snprintf(path, sizeof(path), "%s/%s", c->dir, files[i]);
			if (stat(path, &sb) == 0 && (unsigned long long)sb.st_size + 65536 >= (unsigned long long)rl.rlim_cur) {
				snprintf(why, cap, "%s reached the process file size limit (%llu bytes)", files[i],
				         (unsigned long long)rl.rlim_cur);
				return 1;
			}
		}
	}
	struct statvfs vfs;
	if (statvfs(c->dir, &vfs) == 0 && (unsigned long long)vfs.f_bavail * vfs.f_frsize < 65536) {
		snprintf(why, cap, "the file system is full");
		return 1;
	}
	return 0;
}

static int sq_fail(db_conn *c_, const char *what)
{
	sq_db *c = (sq_db *)c_;
	int rc = c->rc, sys = c->sys;
	const char *msg = c->msg, *dir = c->dir;
	char why[256];
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return mg_fail(MG_ERR_BUSY, STORE_DOM,
		               "%s: the database %s/" STORE_DB_NAME " is locked by another process "
		               "(waited %d ms): %s",
		               what, dir, c->busy_ms, msg);
	case SQLITE_FULL:
		if (!lack_of_room(c, why, sizeof(why)))
			snprintf(why, sizeof(why), "%.255s", msg);
		return mg_fail(MG_ERR_NOSPACE, STORE_DOM, "%s: no room to write the database in %s: %s; nothing "
		               "was changed", what, dir, why);
	case SQLITE_IOERR:
		if (lack_of_room(c, why, sizeof(why)))
			return mg_fail(MG_ERR_NOSPACE, STORE_DOM,
			               "%s: no room to write the database in %s: %s; nothing was changed", what, dir,
			               why);
		return mg_fail(MG_ERR_IO, STORE_DOM, "%s: I/O error on the database in %s: %s (SQLite code %d)%s%s",
		               what, dir, msg, rc, sys ? ": " : "", sys ? strerror(sys) : "");
	case SQLITE_READONLY:
		return mg_fail(MG_ERR_IO, STORE_DOM,
		               "%s: the database %s/" STORE_DB_NAME " is read-only (permissions, or opened "
		               "read-only): %s",
		               what, dir, msg);
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return mg_fail(MG_ERR_EXISTS, STORE_DOM, "%s: already registered (%s)", what, msg);
		if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			return mg_fail(MG_ERR_NOT_FOUND, STORE_DOM, "%s: refers to a record that does not exist (%s)",
			               what, msg);
		return mg_fail(MG_ERR_ARG, STORE_DOM, "%s: refused by the database: %s", what, msg);
	case SQLITE_NOMEM:
		return mg_fail(MG_ERR_NOMEM, STORE_DOM, "%s: out of memory", what);
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return mg_fail(MG_ERR_FORMAT, STORE_DOM, "%s: %s/" STORE_DB_NAME " is damaged or not a database: %s",
		               what, dir, msg);
	case SQLITE_CANTOPEN:
		return mg_fail(MG_ERR_IO, STORE_DOM, "%s: cannot open the database in %s: %s%s%s", what, dir, msg,
		               sys ? ": " : "", sys ? strerror(sys) : "");
	default:
		return mg_fail(MG_ERR_IO, STORE_DOM, "%s: database error: %s", what, msg);
	}
}

const struct db_ops db_sqlite_ops = {
	.backend = DB_SQLITE,
	.close = sq_close,
	.where = sq_where,
	.readonly = sq_readonly,
	.set_busy_timeout = sq_set_busy_timeout,
	.busy_timeout = sq_busy_timeout,
	.prepare = sq_prepare,
	.bind_int64 = sq_bind_int64,
	.bind_double = sq_bind_double,
	.bind_text = sq_bind_text,
	.bind_null = sq_bind_null,
	.step = sq_step,
	.col_int64 = sq_col_int64,
	.col_double = sq_col_double,
	.col_text = sq_col_text,
	.col_is_null = sq_col_is_null,
	.reset = sq_reset,
	.finalize = sq_finalize,
	.changes = sq_changes,
	.last_id = sq_last_id,
	.exec = sq_exec,
	.begin_write = sq_begin_write,
	.begin_read = sq_begin_read,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.in_transaction = sq_in_transaction,
	.fail = sq_fail,
	.now_sql = sq_now_sql,
};

int db_open_sqlite(const char *path, const char *dir, int readonly, int create, db_conn **out)
{
	sq_db *c = calloc(1, sizeof(*c));
	*out = NULL;
	if (!c || !(c->dir = strdup(dir)) || !(c->where = strdup(path))) {
		sq_close(&c->base);
		return mg_fail(MG_ERR_NOMEM, STORE_DOM, "out of memory");
	}
	c->base.ops = &db_sqlite_ops;
	*out = &c->base;
	c->busy_ms = MG_STORE_BUSY_TIMEOUT_MS;
	int oflags = SQLITE_OPEN_NOMUTEX | (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);
	if (create) {
		oflags |= SQLITE_OPEN_CREATE;
		/* SQLite creates the file 0644 less the umask, never group-writable;
		 * made here with 0666 less the umask it is the same with the usual 022
		 * and group-writable in a shared data directory (docs/install.md). An
		 * empty file is a new database to SQLite; its -wal and -shm files take
		 * its mode. */
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd >= 0)
			close(fd);
	}
	int rc = sqlite3_open_v2(path, &c->h, oflags, NULL);
	if (rc != SQLITE_OK) {
		remember(c, rc);
		return sq_fail(&c->base, "opening the store");
	}
	sqlite3_extended_result_codes(c->h, 1);
	sqlite3_busy_timeout(c->h, c->busy_ms);
	return MG_OK;
}
