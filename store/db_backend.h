/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Private to the SQL layer: what a backend (db_sqlite.c, db_pg.c) provides.
 * A backend's connection and statement structs start with struct db_conn and
 * struct db_stmt; db.c dispatches the db.h calls through the ops table. */
#ifndef MAGASSAY_STORE_DB_BACKEND_H
#define MAGASSAY_STORE_DB_BACKEND_H

#include "db.h"

struct db_ops {
	enum db_backend backend;
	void (*close)(db_conn *c);
	const char *(*where)(const db_conn *c);
	int (*readonly)(db_conn *c);
	int (*set_busy_timeout)(db_conn *c, int ms);
	int (*busy_timeout)(const db_conn *c);
	db_stmt *(*prepare)(db_conn *c, const char *sql, int persistent, const char *what);
	int (*bind_int64)(db_stmt *s, int i, long long v);
	int (*bind_double)(db_stmt *s, int i, double v);
	int (*bind_text)(db_stmt *s, int i, const char *v);
	int (*bind_null)(db_stmt *s, int i);
	int (*step)(db_stmt *s);
	long long (*col_int64)(db_stmt *s, int i);
	double (*col_double)(db_stmt *s, int i);
	const char *(*col_text)(db_stmt *s, int i);
	int (*col_is_null)(db_stmt *s, int i);
	void (*reset)(db_stmt *s);
	void (*finalize)(db_stmt *s);
	long long (*changes)(db_conn *c);
	int (*last_id)(db_conn *c, long long *id);
	int (*exec)(db_conn *c, const char *sql);
	int (*begin_write)(db_conn *c);
	int (*begin_read)(db_conn *c);
	int (*commit)(db_conn *c);
	void (*rollback)(db_conn *c);
	int (*in_transaction)(db_conn *c);
	int (*fail)(db_conn *c, const char *what);
	const char *(*now_sql)(const db_conn *c);
};

struct db_conn {
	const struct db_ops *ops;
};

struct db_stmt {
	const struct db_ops *ops;
};

extern const struct db_ops db_sqlite_ops;
extern const struct db_ops db_pg_ops;

#endif
