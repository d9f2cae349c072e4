/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The store's SQL layer (db.h): each call goes to the connection's backend,
 * SQLite (db_sqlite.c) or PostgreSQL (db_pg.c). */
#include "db_backend.h"

void db_close(db_conn *c)
{
	if (c)
		c->ops->close(c);
}

enum db_backend db_backend_of(const db_conn *c)
{
	return c->ops->backend;
}

const char *db_where(const db_conn *c)
{
	return c->ops->where(c);
}

int db_readonly(db_conn *c)
{
	return c->ops->readonly(c);
}

int db_set_busy_timeout(db_conn *c, int ms)
{
	return c->ops->set_busy_timeout(c, ms);
}

int db_busy_timeout(const db_conn *c)
{
	return c->ops->busy_timeout(c);
}

db_stmt *db_prepare(db_conn *c, const char *sql, int persistent, const char *what)
{
	return c->ops->prepare(c, sql, persistent, what);
}

int db_bind_int64(db_stmt *s, int i, long long v)
{
	return s->ops->bind_int64(s, i, v);
}

int db_bind_double(db_stmt *s, int i, double v)
{
	return s->ops->bind_double(s, i, v);
}

int db_bind_text(db_stmt *s, int i, const char *v)
{
	return s->ops->bind_text(s, i, v);
}

int db_bind_null(db_stmt *s, int i)
{
	return s->ops->bind_null(s, i);
}

int db_step(db_stmt *s)
{
	return s->ops->step(s);
}

long long db_col_int64(db_stmt *s, int i)
{
	return s->ops->col_int64(s, i);
}

double db_col_double(db_stmt *s, int i)
{
	return s->ops->col_double(s, i);
}

const char *db_col_text(db_stmt *s, int i)
{
	return s->ops->col_text(s, i);
}

int db_col_is_null(db_stmt *s, int i)
{
	return s->ops->col_is_null(s, i);
}

void db_reset(db_stmt *s)
{
	s->ops->reset(s);
}

void db_finalize(db_stmt *s)
{
	if (s)
		s->ops->finalize(s);
}

long long db_changes(db_conn *c)
{
	return c->ops->changes(c);
}

int db_last_id(db_conn *c, long long *id)
{
	return c->ops->last_id(c, id);
}

int db_exec(db_conn *c, const char *sql)
{
	return c->ops->exec(c, sql);
}

int db_begin_write(db_conn *c)
{
	return c->ops->begin_write(c);
}

int db_begin_read(db_conn *c)
{
	return c->ops->begin_read(c);
}

int db_commit(db_conn *c)
{
	return c->ops->commit(c);
}

void db_rollback(db_conn *c)
{
	c->ops->rollback(c);
}

int db_in_transaction(db_conn *c)
{
	return c->ops->in_transaction(c);
}

int db_fail(db_conn *c, const char *what)
{
	return c->ops->fail(c, what);
}

const char *db_now_sql(const db_conn *c)
{
	return c->ops->now_sql(c);
}
