/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The store handle: the data directory, choosing the database (SQLite in the
 * data directory, or PostgreSQL), opening SQLite with the settings the store
 * relies on (WAL, foreign keys, busy timeout, synchronous=FULL), schema
 * migrations, the statement cache, transactions and errors. */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_internal.h"

/* ---- the data directory ------------------------------------------------ */

static char *str_cat3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = malloc(la + lb + lc + 1);
	if (!s)
		return NULL;
	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

static const char *home_dir(void)
{
	const char *h = getenv("HOME");
	if (h && *h)
		return h;
	struct passwd *pw = getpwuid(geteuid());
	return pw && pw->pw_dir && *pw->pw_dir ? pw->pw_dir : NULL;
}

int mg_store_resolve_dir(const char *data_dir, char **out)
{
	const char *env;
	char *d = NULL;
	if (!out)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_resolve_dir: no output");
	*out = NULL;
	if (data_dir && *data_dir)
		d = strdup(data_dir);
	else if ((env = getenv("MAGASSAY_DATA")) && *env)
		d = strdup(env);
	else if ((env = getenv("XDG_DATA_HOME")) && env[0] == '/') /* relative values are ignored (XDG spec) */
		d = str_cat3(env, "/", "magassay");
	else {
		const char *h = home_dir();
		if (!h)
			return mg_fail(MG_ERR_NOT_FOUND, STORE_DOM,
			               "no data directory: give --data-dir or set MAGASSAY_DATA (HOME is not set)");
		d = str_cat3(h, "/.local/share/", "magassay");
	}
	if (!d)
		return mg_fail(MG_ERR_NOMEM, STORE_DOM, "out of memory");
	/* Drop trailing slashes (but keep "/"). */
	for (size_t n = strlen(d); n > 1 && d[n - 1] == '/'; n--)
		d[n - 1] = '\0';
	*out = d;
	return MG_OK;
}

static int errno_code(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return MG_ERR_NOT_FOUND;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return MG_ERR_NOSPACE;
	case ENOMEM:
		return MG_ERR_NOMEM;
	default:
		return MG_ERR_IO;
	}
}

/* mkdir -p: every missing level is created with mode 0770 less the umask
 * (0750 with the usual 022; group-writable in a shared data directory). */
static int make_dirs(const char *path)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof(buf))
		return mg_fail(MG_ERR_ARG, STORE_DOM, "%s: path empty or too long", path);
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char save = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, 0770) != 0) {
			int e = errno;
			struct stat sb;
			/* An existing folder is fine, even where we could not have created it. */
			if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode))
				return mg_fail(e == EEXIST ? MG_ERR_IO : errno_code(e), STORE_DOM,
				               "cannot create the folder %s: %s", buf,
				               e == EEXIST ? "a file of that name is in the way" : strerror(e));
		}
		buf[i] = save;
	}
	return MG_OK;
}

int store_make_dirs(const char *path)
{
	return make_dirs(path);
}

/* ---- errors ------------------------------------------------------------ */

int store_sql_fail(mg_store *st, const char *what)
{
	return db_fail(st->db, what);
}

int store_last_id(mg_store *st, const char *what, long long *id)
{
	return db_last_id(st->db, id) == DB_OK ? MG_OK : store_sql_fail(st, what);
}

/* ---- statements ---------------------------------------------------------- */

#define BATCH_COLS                                                                                       \
	"b.id, b.created_at, b.operator, b.notes, b.status, "                                            \
	"(SELECT count(*) FROM samples s WHERE s.batch_id = b.id), "                                      \
	"(SELECT count(*) FROM measurements m WHERE m.batch_id = b.id)"
#define SAMPLE_COLS                                                                                      \
	"s.id, s.batch_id, s.created_at, s.description, "                                                \
	"(SELECT count(*) FROM measurements m WHERE m.sample_id = s.id)"
#define MEAS_COLS                                                                                        \
	"m.id, m.uuid, m.sample_id, m.batch_id, m.kind, m.file, m.sha256, m.size, m.instrument_model, "  \
	"m.instrument_serial, m.instrument_firmware, m.settings, m.started_at, m.ended_at, "             \
	"m.live_time_s, m.real_time_s, m.total_counts, m.operator, m.status, m.replicate, m.notes, "     \
	"m.created_at, (SELECT count(*) FROM results r WHERE r.measurement_id = m.id)"
#define RESULT_COLS "id, measurement_id, version, calibration_id, software_version, created_at, payload"
#define CAL_COLS                                                                                         \
	"id, kind, name, version, created_at, operator, software_version, provenance, payload"

static const char *const stmt_sql[S_COUNT] = {
	[S_BATCH_INSERT] = "INSERT INTO batches(id, operator) VALUES(?1, ?2) ON CONFLICT(id) DO NOTHING",
	[S_BATCH_GET] = "SELECT " BATCH_COLS " FROM batches b WHERE b.id = ?1",
	[S_BATCH_LIST] = "SELECT " BATCH_COLS " FROM batches b ORDER BY b.created_at, b.id",
	[S_SAMPLE_INSERT] = "INSERT INTO samples(id, batch_id, description) VALUES(?1, ?2, ?3)",
	[S_SAMPLE_GET] = "SELECT " SAMPLE_COLS " FROM samples s WHERE s.id = ?1",
	[S_SAMPLE_LIST] = "SELECT " SAMPLE_COLS " FROM samples s ORDER BY s.created_at, s.id",
	[S_SAMPLE_LIST_BATCH] = "SELECT " SAMPLE_COLS " FROM samples s WHERE s.batch_id = ?1 "
	                        "ORDER BY s.created_at, s.id",
	[S_MEAS_INSERT] = "INSERT INTO measurements(uuid, sample_id, batch_id, kind, file, sha256, size, "
	                  "instrument_model, instrument_serial, instrument_firmware, settings, started_at, "
	                  "ended_at, live_time_s, real_time_s, total_counts, operator, status, replicate, notes) "
	                  "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
	                  "?19, ?20)",
	[S_MEAS_NEXT_REPLICATE] = "SELECT coalesce(max(replicate), 0) + 1 FROM measurements WHERE sample_id = ?1",
	[S_MEAS_EXISTS] = "SELECT id, uuid FROM measurements WHERE uuid = ?1 OR file = ?2 LIMIT 1",
	[S_MEAS_GET] = "SELECT " MEAS_COLS " FROM measurements m WHERE m.id = ?1",
	[S_MEAS_GET_UUID] = "SELECT " MEAS_COLS " FROM measurements m WHERE m.uuid = ?1",
	[S_MEAS_LIST] = "SELECT " MEAS_COLS " FROM measurements m WHERE (?1 IS NULL OR m.batch_id = ?1) "
	                "AND (?2 IS NULL OR m.sample_id = ?2) ORDER BY m.id",
	[S_MEAS_SCAN] = "SELECT " MEAS_COLS " FROM measurements m WHERE m.id > ?1 "
	                "AND (?2 IS NULL OR m.batch_id = ?2) AND (?3 IS NULL OR m.sample_id = ?3) "
	                "AND (?4 IS NULL OR m.kind = ?4) AND (?5 IS NULL OR coalesce(m.started_at, m.created_at) >= ?5) "
	                "ORDER BY m.id LIMIT ?6",
	[S_MEAS_FIND_UUID_PREFIX] = "SELECT id, uuid FROM measurements WHERE uuid >= ?1 AND uuid < ?1 || '~' "
	                            "ORDER BY uuid LIMIT 4",
	[S_RESULT_NEXT_VERSION] = "SELECT coalesce(max(version), 0) + 1 FROM results WHERE measurement_id = ?1",
	[S_RESULT_INSERT] = "INSERT INTO results(measurement_id, version, calibration_id, software_version, payload) "
	                    "VALUES(?1, ?2, ?3, ?4, ?5)",
	[S_RESULT_GET] = "SELECT " RESULT_COLS " FROM results WHERE measurement_id = ?1 AND version = ?2",
	[S_RESULT_LATEST] = "SELECT " RESULT_COLS " FROM results WHERE measurement_id = ?1 "
	                    "ORDER BY version DESC LIMIT 1",
	[S_RESULT_LIST] = "SELECT " RESULT_COLS " FROM results WHERE measurement_id = ?1 ORDER BY version",
	[S_CAL_NEXT_VERSION] = "SELECT coalesce(max(version), 0) + 1 FROM calibrations WHERE kind = ?1 AND name = ?2",
	[S_CAL_INSERT] = "INSERT INTO calibrations(kind, name, version, operator, software_version, provenance, "
	                 "payload) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_CAL_GET] = "SELECT " CAL_COLS " FROM calibrations WHERE id = ?1",
	[S_CAL_FIND] = "SELECT " CAL_COLS " FROM calibrations WHERE kind = ?1 AND name = ?2 AND version = ?3",
	[S_CAL_LATEST] = "SELECT " CAL_COLS " FROM calibrations WHERE kind = ?1 AND name = ?2 "
	                 "ORDER BY version DESC LIMIT 1",
	[S_CAL_LIST] = "SELECT " CAL_COLS " FROM calibrations WHERE (?1 IS NULL OR kind = ?1) "
	               "AND (?2 IS NULL OR name = ?2) ORDER BY kind, name, version",
	[S_EVENT_INSERT] = "INSERT INTO events(actor, host, pid, action, entity, entity_id, details) "
	                   "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
};

db_stmt *stmt_get(mg_store *st, enum stmt_id id)
{
	if (st->stmt[id] && !st->stmt_busy[id]) {
		st->stmt_busy[id] = 1;
		return st->stmt[id];
	}
	db_stmt *s = db_prepare(st->db, stmt_sql[id], !st->stmt[id], "preparing a query");
	if (s && !st->stmt[id]) {
		st->stmt[id] = s;
		st->stmt_busy[id] = 1;
	}
	return s;
}

void stmt_put(mg_store *st, enum stmt_id id, db_stmt *s)
{
	if (!s)
		return;
	if (s == st->stmt[id]) {
		db_reset(s);
		st->stmt_busy[id] = 0;
	} else {
		db_finalize(s);
	}
}

int bind_text(db_stmt *s, int i, const char *v)
{
	return db_bind_text(s, i, v);
}

int bind_real(db_stmt *s, int i, double v)
{
	return db_bind_double(s, i, v);
}

char *col_text(db_stmt *s, int i, int *err)
{
	const char *t = db_col_text(s, i);
	if (!t)
		return NULL;
	char *c = strdup(t);
	if (!c)
		*err = 1;
	return c;
}

double col_real(db_stmt *s, int i)
{
	return db_col_double(s, i);
}

char *col_text_as(db_stmt *s, int i, int copy, int *err)
{
	return copy ? col_text(s, i, err) : (char *)db_col_text(s, i);
}

db_stmt *store_prepare(mg_store *st, const char *sql, const char *what)
{
	return db_prepare(st->db, sql, 0, what);
}

/* ---- transactions and the audit log ----------------------------------- */

int store_begin(mg_store *st, const char *what)
{
	if (st->readonly)
		return mg_fail(MG_ERR_IO, STORE_DOM,
		               "%s: the database %s is read-only (permissions, or opened read-only)", what,
		               db_where(st->db));
	if (db_begin_write(st->db) != DB_OK)
		return store_sql_fail(st, what);
	return MG_OK;
}

int store_commit(mg_store *st, const char *what)
{
	if (db_commit(st->db) != DB_OK) {
		int e = store_sql_fail(st, what);
		store_rollback(st);
		return e;
	}
	return MG_OK;
}

void store_rollback(mg_store *st)
{
	db_rollback(st->db);
}


int store_end(mg_store *st, int e, const char *what)
{
	if (e != MG_OK) {
		store_rollback(st);
		return e;
	}
	return store_commit(st, what);
}

int store_event(mg_store *st, const char *actor, const char *action, const char *entity, const char *entity_id,
                const char *details_json)
{
	db_stmt *s = stmt_get(st, S_EVENT_INSERT);
	if (!s)
		return MG_ERR_IO;
	bind_text(s, 1, actor && *actor ? actor : st->actor);
	bind_text(s, 2, st->host[0] ? st->host : NULL);
	db_bind_int64(s, 3, (long long)getpid());
	bind_text(s, 4, action);
	bind_text(s, 5, entity);
	bind_text(s, 6, entity_id);
	bind_text(s, 7, details_json);
	int rc = db_step(s);
	int e = rc == DB_DONE ? MG_OK : store_sql_fail(st, "writing the audit log");
	stmt_put(st, S_EVENT_INSERT, s);
	return e;
}

int store_event_json(mg_store *st, const char *actor, const char *action, const char *entity,
                     const char *entity_id, json_t *details)
{
	char *text = details ? json_dumps(details, JSON_COMPACT) : NULL;
	json_decref(details);
	int e = store_event(st, actor, action, entity, entity_id, text);
	free(text);
	return e;
}


/* ---- choosing the database ------------------------------------------------- */

#define STORE_CONF "magassay.conf"

/* The value of "database = ..." in <dir>/magassay.conf (INI style: key =
 * value, comments with # or ;, [sections] ignored), malloc'ed; NULL when
 * the file or the key is absent. */
static int conf_database(const char *dir, char **out)
{
	char path[PATH_MAX], line[2048];
	*out = NULL;
	snprintf(path, sizeof(path), "%s/" STORE_CONF, dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return errno == ENOENT || errno == ENOTDIR
		               ? MG_OK
		               : mg_fail(errno_code(errno), STORE_DOM, "%s: %s", path, strerror(errno));
	int e = MG_OK;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *q;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == ';' || *p == '[' || *p == '\n' || *p == '\r' || !*p)
			continue;
		if (strncmp(p, "database", 8) != 0 || !(q = strchr(p + 8, '=')))
			continue;
		for (char *k = p + 8; k < q; k++)
			if (*k != ' ' && *k != '\t')
				goto next; /* another key that starts with "database" */
		p = q + 1;
		while (*p == ' ' || *p == '\t')
			p++;
		for (size_t n = strlen(p); n > 0 && strchr(" \t\r\n", p[n - 1]); n--)
			p[n - 1] = '\0';
		free(*out);
		if (!(*out = strdup(p))) {
			e = mg_fail(MG_ERR_NOMEM, STORE_DOM, "out of memory");
			break;
		}
next:;
	}
	fclose(f);
	return e;
}

/* Which database: *url NULL for SQLite in the data directory, else a
 * PostgreSQL URL (malloc'ed). db_url, else $MAGASSAY_DB, else magassay.conf. */
static int resolve_db(const char *dir, const char *db_url, char **url)
{
	const char *from = "--db";
	char *v = NULL;
	int e;
	*url = NULL;
	if (db_url && *db_url) {
		v = strdup(db_url);
	} else if ((db_url = getenv("MAGASSAY_DB")) && *db_url) {
		v = strdup(db_url);
		from = "MAGASSAY_DB";
	} else {
		if ((e = conf_database(dir, &v)) != MG_OK)
			return e;
		if (!v || !*v) {
			free(v);
			return MG_OK;
		}
		from = STORE_CONF;
	}
	if (!v)
		return mg_fail(MG_ERR_NOMEM, STORE_DOM, "out of memory");
	if (strcasecmp(v, "sqlite") == 0) {
		free(v);
		return MG_OK;
	}
	if (strncmp(v, "postgresql://", 13) != 0 && strncmp(v, "postgres://", 11) != 0) {
		char masked[512];
		db_mask_url(v, masked, sizeof(masked));
		free(v);
		return mg_fail(MG_ERR_ARG, STORE_DOM,
		               "the database \"%s\" (from %s) is not one magassay knows: give a PostgreSQL URL "
		               "(postgresql://user@host/dbname) or 'sqlite' (the file in the data directory)",
		               masked, from);
	}
	*url = v;
	return MG_OK;
}

/* ---- opening --------------------------------------------------------------- */

static int pragma_int(mg_store *st, const char *sql, int *v, const char *what)
{
	db_stmt *s = store_prepare(st, sql, what);
	if (!s)
		return MG_ERR_IO;
	int rc = db_step(s), e = MG_OK;
	if (rc == DB_ROW)
		*v = (int)db_col_int64(s, 0);
	else if (rc != DB_DONE)
		e = store_sql_fail(st, what);
	db_finalize(s);
	return e;
}

/* Is this a magassay database (or an empty file), and of which version? */
static int read_identity(mg_store *st, int *version)
{
	int app = 0, objects = 0, e;
	/* One read transaction so a migration by another process is seen whole or not at all. */
	if (db_begin_read(st->db) != DB_OK)
		return store_sql_fail(st, "opening the store");
	if ((e = pragma_int(st, "PRAGMA application_id", &app, "opening the store")) != MG_OK ||
	    (e = pragma_int(st, "PRAGMA user_version", version, "opening the store")) != MG_OK ||
	    (e = pragma_int(st, "SELECT count(*) FROM sqlite_schema", &objects, "opening the store")) != MG_OK) {
		store_rollback(st);
		return e;
	}
	store_rollback(st);
	if ((app != 0 && app != STORE_APP_ID) || (app == 0 && (objects > 0 || *version != 0)))
		return mg_fail(MG_ERR_FORMAT, STORE_DOM,
		               "%s/" STORE_DB_NAME " is an SQLite database but not a magassay store "
		               "(application_id 0x%08x)",
		               st->dir, (unsigned)app);
	if (*version > MG_STORE_SCHEMA_VERSION)
		return mg_fail(MG_ERR_UNSUPPORTED, STORE_DOM,
		               "%s/" STORE_DB_NAME " has schema version %d, newer than this magassay knows "
		               "(%d): it was written by a newer magassay; upgrade magassay to use it",
		               st->dir, *version, MG_STORE_SCHEMA_VERSION);
	return MG_OK;
}

int store_migrate(mg_store *st, int from, const char *const *migrations, int count,
                  int (*read_version)(mg_store *st, int *version, const char *what),
                  int (*write_version)(mg_store *st, int version))
{
	for (int v = from; v < count; v++) {
		char what[64], details[96], target[16];
		int now = 0, e;
		snprintf(what, sizeof(what), "migrating the schema to version %d", v + 1);
		/* The write lock: two processes opening a new database migrate it once. */
		if ((e = store_begin(st, what)) != MG_OK)
			return e;
		if ((e = read_version(st, &now, what)) != MG_OK) {
			store_rollback(st);
			return e;
		}
		if (now > v) { /* another process migrated while we waited for the lock */
			store_rollback(st);
			v = now - 1;
			continue;
		}
		if (db_exec(st->db, migrations[v]) != DB_OK || write_version(st, v + 1) != DB_OK) {
			e = store_sql_fail(st, what);
			store_rollback(st);
			return e;
		}
		snprintf(details, sizeof(details), "{\"from\": %d, \"to\": %d}", v, v + 1);
		snprintf(target, sizeof(target), "%d", v + 1);
		if ((e = store_event(st, NULL, "schema.migrate", "schema", target, details)) != MG_OK) {
			store_rollback(st);
			return e;
		}
		if ((e = store_commit(st, what)) != MG_OK)
			return e;
		mg_info(STORE_DOM, "%s: schema migrated to version %d", db_where(st->db), v + 1);
	}
	return MG_OK;
}

static int sqlite_version(mg_store *st, int *version, const char *what)
{
	return pragma_int(st, "PRAGMA user_version", version, what);
}

static int sqlite_set_version(mg_store *st, int version)
{
	char sql[96];
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d; PRAGMA application_id = %d", version, STORE_APP_ID);
	return db_exec(st->db, sql);
}

/* SQLite: the connection settings, the identity check and the migrations. */
static int configure(mg_store *st)
{
	if (db_exec(st->db, "PRAGMA foreign_keys = ON") != DB_OK)
		return store_sql_fail(st, "opening the store");
	int fk = 0, e;
	if ((e = pragma_int(st, "PRAGMA foreign_keys", &fk, "opening the store")) != MG_OK)
		return e;
	if (!fk)
		return mg_fail(MG_ERR_UNSUPPORTED, STORE_DOM, "this SQLite has no foreign key support");
	int version = 0;
	if ((e = read_identity(st, &version)) != MG_OK)
		return e;
	st->readonly = st->readonly || db_readonly(st->db);
	if (st->readonly) {
		if (version < MG_STORE_SCHEMA_VERSION)
			return mg_fail(MG_ERR_UNSUPPORTED, STORE_DOM,
			               "%s/" STORE_DB_NAME " has schema version %d and this magassay needs %d; it "
			               "cannot be migrated read-only: open it once with write access",
			               st->dir, version, MG_STORE_SCHEMA_VERSION);
		return MG_OK;
	}
	/* WAL: readers never block the writer and two writers queue (busy timeout). */
	db_stmt *s = store_prepare(st, "PRAGMA journal_mode = WAL", "opening the store (WAL mode)");
	if (!s)
		return MG_ERR_IO;
	int rc = db_step(s);
	if (rc == DB_ROW) {
		const char *mode = db_col_text(s, 0);
		if (!mode || strcmp(mode, "wal") != 0)
			mg_warn(STORE_DOM, "%s: the database could not be put in WAL mode (it is in %s mode); "
			                   "concurrent writers will wait longer",
			        st->dir, mode ? mode : "?");
	} else if (rc != DB_DONE) {
		e = store_sql_fail(st, "opening the store (WAL mode)");
	}
	db_finalize(s);
	if (e != MG_OK)
		return e;
	/* Every commit reaches the disk before we return: a registered measurement survives power loss. */
	if (db_exec(st->db, "PRAGMA synchronous = FULL") != DB_OK)
		return store_sql_fail(st, "opening the store");
	return version < MG_STORE_SCHEMA_VERSION
	               ? store_migrate(st, version, store_migrations, store_migration_count, sqlite_version,
	                               sqlite_set_version)
	               : MG_OK;
}

int mg_store_open(const char *data_dir, mg_store **out)
{
	return mg_store_open_db(data_dir, NULL, MG_STORE_DEFAULT, out);
}

int mg_store_open_ex(const char *data_dir, unsigned flags, mg_store **out)
{
	return mg_store_open_db(data_dir, NULL, flags, out);
}

int mg_store_open_db(const char *data_dir, const char *db_url, unsigned flags, mg_store **out)
{
	char *dir = NULL, *db = NULL, *archive = NULL, *url = NULL;
	struct stat sb;
	int e;
	if (!out)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_open: no output");
	*out = NULL;
	if (flags & MG_STORE_READONLY)
		flags |= MG_STORE_NOCREATE;
	if ((e = mg_store_resolve_dir(data_dir, &dir)) != MG_OK)
		return e;
	mg_store *st = calloc(1, sizeof(*st));
	if (!st) {
		free(dir);
		return mg_fail(MG_ERR_NOMEM, STORE_DOM, "out of memory");
	}
	st->busy_ms = MG_STORE_BUSY_TIMEOUT_MS;
	st->readonly = (flags & MG_STORE_READONLY) != 0;

	if (flags & MG_STORE_NOCREATE) {
		if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			e = mg_fail(MG_ERR_NOT_FOUND, STORE_DOM,
			            "no magassay data directory at %s (nothing stored yet? see --data-dir, "
			            "MAGASSAY_DATA)",
			            dir);
			goto fail;
		}
	} else {
		archive = str_cat3(dir, "/", STORE_ARCHIVE);
		if (!archive) {
			e = mg_fail(MG_ERR_NOMEM, STORE_DOM, "out of memory");
			goto fail;
		}
		if ((e = make_dirs(archive)) != MG_OK)
			goto fail;
	}
	char real[PATH_MAX];
	if (!realpath(dir, real)) {
		e = mg_fail(errno_code(errno), STORE_DOM, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (!(st->dir = strdup(real)) || !(db = str_cat3(real, "/", STORE_DB_NAME))) {
		e = mg_fail(MG_ERR_NOMEM, STORE_DOM, "out of memory");
		goto fail;
	}
	if ((e = resolve_db(st->dir, db_url, &url)) != MG_OK)
		goto fail;
	if (url) {
		/* PostgreSQL: the records on the server, the archive in the data directory. */
		st->pg = 1;
		if ((e = db_open_pg(url, st->readonly, &st->db)) != MG_OK)
			goto fail;
		db_set_busy_timeout(st->db, st->busy_ms);
		if ((e = store_pg_prepare_schema(st, (flags & MG_STORE_NOCREATE) != 0)) != MG_OK)
			goto fail;
	} else {
		if ((flags & MG_STORE_NOCREATE) && stat(db, &sb) != 0) {
			e = mg_fail(MG_ERR_NOT_FOUND, STORE_DOM, "%s holds no magassay database (" STORE_DB_NAME ")",
			            st->dir);
			goto fail;
		}
		if ((e = db_open_sqlite(db, st->dir, st->readonly, !(flags & MG_STORE_NOCREATE), &st->db)) != MG_OK)
			goto fail;
		db_set_busy_timeout(st->db, st->busy_ms);
		if ((e = configure(st)) != MG_OK)
			goto fail;
	}

	const char *user = getenv("USER");
	struct passwd *pw = getpwuid(geteuid());
	if (pw && pw->pw_name)
		user = pw->pw_name;
	snprintf(st->actor, sizeof(st->actor), "%s", user && *user ? user : "unknown");
	if (gethostname(st->host, sizeof(st->host)) != 0)
		st->host[0] = '\0';
	st->host[sizeof(st->host) - 1] = '\0';
	mg_dbg(STORE_DOM, "opened %s, database %s (schema %d%s)", st->dir, db_where(st->db), MG_STORE_SCHEMA_VERSION,
	       st->readonly ? ", read-only" : "");
	free(dir);
	free(db);
	free(archive);
	free(url);
	*out = st;
	return MG_OK;
fail:
	free(dir);
	free(db);
	free(archive);
	free(url);
	mg_store_close(st);
	return e;
}

void mg_store_close(mg_store *st)
{
	if (!st)
		return;
	for (int i = 0; i < S_COUNT; i++)
		db_finalize(st->stmt[i]);
	db_close(st->db);
	free(st->dir);
	free(st);
}

const char *mg_store_data_dir(const mg_store *st)
{
	return st ? st->dir : NULL;
}

const char *mg_store_backend(const mg_store *st)
{
	return !st ? NULL : st->pg ? "postgresql" : "sqlite";
}

int mg_store_set_busy_timeout(mg_store *st, int ms)
{
	if (!st || ms < 0)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "busy timeout must be >= 0 ms");
	st->busy_ms = ms;
	db_set_busy_timeout(st->db, ms);
	return MG_OK;
}
