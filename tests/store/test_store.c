/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of the embedded store: data directory and migrations, records
 * round trip, append-only results and calibrations, duplicate handling, id
 * validation, the archive layout, hashes, concurrent writers (two processes),
 * failing writes (file size limit, read-only database, a lock held too long)
 * and the integrity check. Run with the argument "pg", the tests that are not
 * SQLite's by nature run against PostgreSQL (a fresh database per test case on
 * the server MAGASSAY_TEST_PG names), with PostgreSQL counterparts of the
 * others: schema version and foreign databases, the write lock held by another
 * connection, read-only mode, a lost connection, masked passwords. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/log.h"
#include "magassay/store.h"
#include "pgtest.h"
#include "store/store_internal.h" /* the handle's connection, to check its settings */

/* ---- helpers ---------------------------------------------------------------- */

/* PostgreSQL mode: the current test case's database (NULL: SQLite). */
static int pg_mode;
static char *g_url;

/* A fresh data directory for a test case and, on PostgreSQL, a fresh database. */
static char *fresh_dir(const char *name)
{
	static int n;
	char *d = malloc(512);
	snprintf(d, 512, "%s/%02d-%s", mg_test_tmpdir(), ++n, name);
	if (pg_mode) {
		free(g_url);
		if (!(g_url = mg_test_pg_create())) {
			fprintf(stderr, "cannot create a test database\n");
			exit(1);
		}
	}
	return d;
}

/* Open on the backend under test. */
static int t_open(const char *dir, mg_store **st)
{
	return mg_store_open_db(dir, g_url, MG_STORE_DEFAULT, st);
}

static int t_open_ex(const char *dir, unsigned flags, mg_store **st)
{
	return mg_store_open_db(dir, g_url, flags, st);
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void rm_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int write_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t n = strlen(content);
	int ok = fwrite(content, 1, n, f) == n;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Register a measurement of `sample` with a small spectrum file; returns its id (0 on failure). */
static long long add_meas(mg_store *st, const char *batch, const char *sample, const char *content, int replicate,
                          int *rep_out, char uuid_out[MG_UUID_SIZE])
{
	char uuid[MG_UUID_SIZE];
	char *path = NULL;
	long long id = 0;
	if (mg_uuid_generate(uuid) != MG_OK || mg_store_spectrum_path(st, batch, sample, uuid, "mca", &path) != MG_OK)
		return 0;
	if (write_file(path, content) != 0) {
		free(path);
		return 0;
	}
	mg_new_measurement m;
	mg_new_measurement_init(&m);
	m.uuid = uuid;
	m.sample_id = sample;
	m.batch_id = batch;
	m.file = path;
	m.live_time_s = 100.0;
	m.real_time_s = 104.5;
	m.total_counts = 123456;
	m.replicate = replicate;
	int rc = mg_store_measurement_add(st, &m, &id, rep_out);
	free(path);
	if (rc != MG_OK) {
		fprintf(stderr, "add_meas: %s\n", mg_error_detail());
		return 0;
	}
	if (uuid_out)
		memcpy(uuid_out, uuid, MG_UUID_SIZE);
	return id;
}

/* A raw SQLite connection to a store's database. */
static sqlite3 *raw_open(const char *dir)
{
	char path[600];
	sqlite3 *db = NULL;
	snprintf(path, sizeof(path), "%s/magassay.db", dir);
	if (sqlite3_open(path, &db) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static long long raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	long long v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* One integer from the database under test (behind the store's back). */
static long long q_int(const char *dir, const char *sql)
{
	if (pg_mode)
		return mg_test_pg_int(g_url, sql);
	sqlite3 *db = raw_open(dir);
	long long n = db ? raw_int(db, sql) : -1;
	sqlite3_close(db);
	return n;
}

/* Run SQL on the database under test: 0, or -1 with the message in err. */
static int q_exec(const char *dir, const char *sql, char *err, size_t cap)
{
	if (pg_mode)
		return mg_test_pg_exec(g_url, sql, err, cap);
	sqlite3 *db = raw_open(dir);
	char *msg = NULL;
	int rc = db ? sqlite3_exec(db, sql, NULL, NULL, &msg) : SQLITE_CANTOPEN;
	if (rc != SQLITE_OK && err)
		snprintf(err, cap, "%s", msg ? msg : "error");
	sqlite3_free(msg);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static long long count_rows(const char *dir, const char *table)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	return q_int(dir, sql);
}

static int contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- ids, uuids, hashes ------------------------------------------------------ */

static void test_ids(void)
{
	const char *good[] = {"L2024-001", "a", "S_1.2", "0", "lot.42_b-c"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK_RC(mg_id_validate(good[i]), MG_OK);
	char max[65], over[66];
	memset(max, 'x', 64);
	max[64] = '\0';
	memset(over, 'y', 65);
	over[65] = '\0';
	CHECK_RC(mg_id_validate(max), MG_OK);

	struct {
		const char *id, *says;
	} bad[] = {
		{"../x", "starts with '.'"},      {"a/b", "byte 2 is '/'"},      {"x\n", "byte 2 is a control character (0x0a)"},
		{"\xc3\xa9", "byte 1 is 0xc3 (not ASCII)"}, {"", "empty"},      {over, "65 bytes long"},
		{".hidden", "starts with '.'"},   {"-rf", "starts with '-'"},    {".", "starts with '.'"},
		{"..", "starts with '.'"},        {"a b", "byte 2 is ' '"},      {"a\\b", "byte 2 is '\\'"},
		{"lot:1", "byte 4 is ':'"},       {"x*", "byte 2 is '*'"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_RC(mg_id_validate(bad[i].id), MG_ERR_ARG);
		CHECK_MSG(contains(mg_error_detail(), bad[i].says), "id #%zu: detail \"%s\" lacks \"%s\"", i,
		          mg_error_detail(), bad[i].says);
	}
	CHECK_RC(mg_id_validate(NULL), MG_ERR_ARG);
}

static void test_uuid_sha(void)
{
	char u[MG_UUID_SIZE], v[MG_UUID_SIZE];
	CHECK_RC(mg_uuid_generate(u), MG_OK);
	CHECK_RC(mg_uuid_generate(v), MG_OK);
	CHECK(strlen(u) == 36 && u[14] == '4' && strchr("89ab", u[19]) != NULL);
	CHECK(strcmp(u, v) != 0);
	CHECK_RC(mg_uuid_validate(u), MG_OK);
	CHECK_RC(mg_uuid_validate("123e4567-E89B-12d3-a456-426614174000"), MG_OK);
	CHECK_RC(mg_uuid_validate("123e4567-e89b-12d3-a456-42661417400"), MG_ERR_ARG);
	CHECK_RC(mg_uuid_validate("123e4567-e89b-12d3-a456-4266141740000"), MG_ERR_ARG);
	CHECK_RC(mg_uuid_validate("../../../../etc/passwd-xxxxxxxxxxxxx"), MG_ERR_ARG);

	char hex[MG_SHA256_HEX_SIZE];
	CHECK_RC(mg_sha256_mem("abc", 3, hex), MG_OK);
	CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
	CHECK_RC(mg_sha256_mem("", 0, hex), MG_OK);
	CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
	/* A file spanning several read blocks: 1,000,000 x 'a' (FIPS 180-2 test vector). */
	char *dir = fresh_dir("sha"), path[600];
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/million-a", dir);
	char *big = malloc(1000001);
	memset(big, 'a', 1000000);
	big[1000000] = '\0';
	CHECK(write_file(path, big) == 0);
	long long size = 0;
	CHECK_RC(mg_sha256_file(path, hex, &size), MG_OK);
	CHECK(size == 1000000);
	CHECK(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0);
	snprintf(path, sizeof(path), "%s/absent", dir);
	CHECK_RC(mg_sha256_file(path, hex, NULL), MG_ERR_NOT_FOUND);
	free(big);
	rm_tree(dir);
	free(dir);
}

/* ---- the data directory, migrations ------------------------------------------ */

static void test_resolve(void)
{
	char *d = NULL;
	setenv("MAGASSAY_DATA", "/env/data/", 1);
	setenv("XDG_DATA_HOME", "/xdg", 1);
	setenv("HOME", "/home/tech", 1);
	CHECK_RC(mg_store_resolve_dir("/explicit", &d), MG_OK);
	CHECK(d && strcmp(d, "/explicit") == 0);
	free(d);
	CHECK_RC(mg_store_resolve_dir(NULL, &d), MG_OK);
	CHECK(d && strcmp(d, "/env/data") == 0); /* trailing slash dropped */
	free(d);
	unsetenv("MAGASSAY_DATA");
	CHECK_RC(mg_store_resolve_dir("", &d), MG_OK);
	CHECK(d && strcmp(d, "/xdg/magassay") == 0);
	free(d);
	setenv("XDG_DATA_HOME", "relative/ignored", 1);
	CHECK_RC(mg_store_resolve_dir(NULL, &d), MG_OK);
	CHECK(d && strcmp(d, "/home/tech/.local/share/magassay") == 0);
	free(d);
	unsetenv("XDG_DATA_HOME");
	CHECK_RC(mg_store_resolve_dir(NULL, &d), MG_OK);
	CHECK(d && strcmp(d, "/home/tech/.local/share/magassay") == 0);
	free(d);
}

static void test_open_migrate(void)
{
	char *dir = fresh_dir("open");
	mg_store *st = NULL;
	/* Not there and not to be created. */
	CHECK_RC(t_open_ex(dir, MG_STORE_NOCREATE, &st), MG_ERR_NOT_FOUND);
	CHECK(st == NULL);
	CHECK_RC(t_open(dir, &st), MG_OK);
	CHECK(st && mg_store_data_dir(st) && strcmp(mg_store_data_dir(st), dir) == 0);
	if (st) {
		/* The connection settings the store relies on. */
		sqlite3 *c = db_sqlite_handle(st->db);
		CHECK(raw_int(c, "PRAGMA synchronous") == 2); /* FULL */
		CHECK(raw_int(c, "PRAGMA foreign_keys") == 1);
		CHECK(raw_int(c, "PRAGMA busy_timeout") == MG_STORE_BUSY_TIMEOUT_MS);
		CHECK(mg_store_set_busy_timeout(st, 1234) == MG_OK && raw_int(c, "PRAGMA busy_timeout") == 1234);
	}
	mg_store_close(st);

	struct stat sb;
	char p[600];
	CHECK(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && (sb.st_mode & 0777) == 0750);
	snprintf(p, sizeof(p), "%s/spectra", dir);
	CHECK(stat(p, &sb) == 0 && S_ISDIR(sb.st_mode) && (sb.st_mode & 0777) == 0750);
	snprintf(p, sizeof(p), "%s/magassay.db", dir);
	CHECK(stat(p, &sb) == 0 && S_ISREG(sb.st_mode));

	sqlite3 *db = raw_open(dir);
	CHECK(db != NULL);
	CHECK(raw_int(db, "PRAGMA user_version") == MG_STORE_SCHEMA_VERSION);
	CHECK(raw_int(db, "PRAGMA application_id") == 0x4D475341);
	CHECK(raw_int(db, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'") == 1);
	CHECK(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN "
	                  "('batches', 'samples', 'measurements', 'results', 'calibrations', 'events')") == 6);
	CHECK(raw_int(db, "SELECT count(*) FROM events WHERE action = 'schema.migrate'") == MG_STORE_SCHEMA_VERSION);
	sqlite3_close(db);

	/* Reopening is idempotent: no migration runs again. */
	for (int i = 0; i < 3; i++) {
		CHECK_RC(t_open(dir, &st), MG_OK);
		mg_store_close(st);
	}
	CHECK(count_rows(dir, "events") == MG_STORE_SCHEMA_VERSION);
	/* Read-only open of an existing store works. */
	CHECK_RC(t_open_ex(dir, MG_STORE_READONLY, &st), MG_OK);
	mg_store_close(st);

	/* A database from a newer magassay is refused, clearly. */
	db = raw_open(dir);
	CHECK(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK_RC(t_open(dir, &st), MG_ERR_UNSUPPORTED);
	CHECK(contains(mg_error_detail(), "schema version 99") && contains(mg_error_detail(), "newer"));
	CHECK(st == NULL);
	CHECK_RC(t_open_ex(dir, MG_STORE_READONLY, &st), MG_ERR_UNSUPPORTED);
	rm_tree(dir);
	free(dir);

	/* A database that is not ours, and a file that is not a database. */
	dir = fresh_dir("foreign");
	mkdir(dir, 0700);
	db = raw_open(dir);
	CHECK(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK_RC(t_open(dir, &st), MG_ERR_FORMAT);
	CHECK(contains(mg_error_detail(), "not a magassay store"));
	snprintf(p, sizeof(p), "%s/magassay.db", dir);
	CHECK(write_file(p, "this is not an SQLite database, just text that is long enough to have a header....") == 0);
	CHECK_RC(t_open(dir, &st), MG_ERR_FORMAT);
	rm_tree(dir);
	free(dir);

	/* A file in the way of the data directory. */
	dir = fresh_dir("blocked");
	CHECK(write_file(dir, "x") == 0);
	CHECK_RC(t_open(dir, &st), MG_ERR_IO);
	remove(dir);
	free(dir);
}

/* ---- records ------------------------------------------------------------------- */

typedef struct collect {
	int n;
	char ids[16][80];
} collect;

static int collect_batch(const mg_batch *b, void *ud)
{
	collect *c = ud;
	if (c->n < 16)
		snprintf(c->ids[c->n], sizeof(c->ids[0]), "%s:%lld:%lld", b->id, b->n_samples, b->n_measurements);
	c->n++;
	return 0;
}

static int collect_sample(const mg_sample *s, void *ud)
{
	collect *c = ud;
	if (c->n < 16)
		snprintf(c->ids[c->n], sizeof(c->ids[0]), "%s:%s:%lld", s->id, s->batch_id, s->n_measurements);
	c->n++;
	return 0;
}

static int collect_meas(const mg_measurement *m, void *ud)
{
	collect *c = ud;
	if (c->n < 16)
		snprintf(c->ids[c->n], sizeof(c->ids[0]), "%lld:%s:%d", m->id, m->sample_id, m->replicate);
	c->n++;
	return 0;
}

static int stop_after_one(const mg_batch *b, void *ud)
{
	(void)b;
	(*(int *)ud)++;
	return 1;
}

/* A callback that calls the store (same listing, nested) while the outer one runs. */
static int nested(const mg_batch *b, void *ud)
{
	collect inner = {0};
	int n = mg_store_batches_list(*(mg_store **)ud, collect_batch, &inner);
	(void)b;
	return n == inner.n && n >= 1 ? 0 : -99;
}

static void test_records(void)
{
	char *dir = fresh_dir("records");
	mg_store *st = NULL;
	enum mg_ensure how = 99;
	CHECK_RC(t_open(dir, &st), MG_OK);
	if (!st)
		return;

	CHECK_RC(mg_store_batch_ensure(st, "L2024-001", "alice", &how), MG_OK);
	CHECK(how == MG_ENSURE_CREATED);
	CHECK_RC(mg_store_batch_ensure(st, "L2024-001", "bob", &how), MG_OK);
	CHECK(how == MG_ENSURE_EXISTED);
	CHECK_RC(mg_store_batch_ensure(st, "L2024-002", NULL, &how), MG_OK);
	CHECK(how == MG_ENSURE_CREATED);
	CHECK_RC(mg_store_batch_ensure(st, "../etc", NULL, &how), MG_ERR_ARG);
	CHECK(contains(mg_error_detail(), "batch id"));

	mg_batch b;
	CHECK_RC(mg_store_batch_get(st, "L2024-001", &b), MG_OK);
	CHECK(b.id && strcmp(b.id, "L2024-001") == 0);
	CHECK(b.operator_name && strcmp(b.operator_name, "alice") == 0); /* the first operator is kept */
	CHECK(b.status && strcmp(b.status, "open") == 0);
	CHECK(b.created_at && strlen(b.created_at) == 24 && b.created_at[23] == 'Z');
	mg_batch_clear(&b);
	CHECK_RC(mg_store_batch_get(st, "L-none", &b), MG_ERR_NOT_FOUND);

	/* Samples: explicit duplicate policy. */
	CHECK_RC(mg_store_sample_ensure(st, "S1", "L2024-001", "magnet A, ground", &how), MG_OK);
	CHECK(how == MG_ENSURE_CREATED);
	CHECK_RC(mg_store_sample_ensure(st, "S1", "L2024-001", NULL, &how), MG_OK);
	CHECK(how == MG_ENSURE_EXISTED);
	CHECK_RC(mg_store_sample_ensure(st, "S1", NULL, NULL, &how), MG_OK);
	CHECK(how == MG_ENSURE_EXISTED);
	CHECK_RC(mg_store_sample_ensure(st, "S1", "L2024-002", NULL, &how), MG_ERR_EXISTS);
	CHECK(contains(mg_error_detail(), "L2024-001") && contains(mg_error_detail(), "L2024-002"));
	CHECK_RC(mg_store_sample_ensure(st, "S2", "L-none", NULL, &how), MG_ERR_NOT_FOUND);
	CHECK(contains(mg_error_detail(), "L-none"));
	CHECK_RC(mg_store_sample_ensure(st, "S2", NULL, NULL, &how), MG_ERR_NOT_FOUND);
	CHECK_RC(mg_store_sample_ensure(st, "a/b", "L2024-001", NULL, &how), MG_ERR_ARG);
	CHECK_RC(mg_store_sample_ensure(st, "S2", "L2024-001", NULL, NULL), MG_OK);
	CHECK_RC(mg_store_sample_ensure(st, "S3", "L2024-002", NULL, NULL), MG_OK);
	mg_sample s;
	CHECK_RC(mg_store_sample_get(st, "S1", &s), MG_OK);
	CHECK(s.batch_id && strcmp(s.batch_id, "L2024-001") == 0);
	CHECK(s.description && strcmp(s.description, "magnet A, ground") == 0);
	mg_sample_clear(&s);

	/* Measurements: every field round trips. */
	char uuid[MG_UUID_SIZE], *path = NULL;
	CHECK_RC(mg_uuid_generate(uuid), MG_OK);
	CHECK_RC(mg_store_spectrum_path(st, "L2024-001", "S1", uuid, NULL, &path), MG_OK);
	char want[700];
	snprintf(want, sizeof(want), "%s/spectra/L2024-001/S1/%s.mca", dir, uuid);
	CHECK(path && strcmp(path, want) == 0);
	CHECK(write_file(path, "<<PMCA SPECTRUM>>\nTAG - test\n<<DATA>>\n1\n2\n3\n<<END>>\n") == 0);
	char sha[MG_SHA256_HEX_SIZE];
	CHECK_RC(mg_sha256_file(path, sha, NULL), MG_OK);
	mg_new_measurement nm;
	mg_new_measurement_init(&nm);
	nm.uuid = uuid;
	nm.sample_id = "S1";
	nm.kind = "xrf";
	nm.file = path;
	nm.sha256 = sha;
	nm.instrument_model = "X-123SDD";
	nm.instrument_serial = "SN1234";
	nm.instrument_firmware = "6.08";
	nm.settings_json = "{\"TPEA\": \"1.6\", \"MCAC\": 2048}";
	nm.started_at = "2024-05-01T10:00:00Z";
	nm.ended_at = "2024-05-01T10:01:40Z";
	nm.live_time_s = 98.5;
	nm.real_time_s = 100.0;
	nm.total_counts = 1.5e6;
	nm.operator_name = "alice";
	nm.status = "stopped_early";
	nm.notes = "first shot";
	long long id = 0;
	int rep = 0;
	CHECK_RC(mg_store_measurement_add(st, &nm, &id, &rep), MG_OK);
	CHECK(id == 1 && rep == 1);
	/* The same uuid or file twice is refused. */
	CHECK_RC(mg_store_measurement_add(st, &nm, NULL, NULL), MG_ERR_EXISTS);

	mg_measurement m;
	CHECK_RC(mg_store_measurement_get(st, id, &m), MG_OK);
	CHECK(m.uuid && strcmp(m.uuid, uuid) == 0);
	CHECK(m.batch_id && strcmp(m.batch_id, "L2024-001") == 0); /* taken from the sample */
	CHECK(m.file && strcmp(m.file, want + strlen(dir) + 1) == 0);  /* stored relative */
	CHECK(m.sha256 && strcmp(m.sha256, sha) == 0);
	CHECK(m.size == (long long)strlen("<<PMCA SPECTRUM>>\nTAG - test\n<<DATA>>\n1\n2\n3\n<<END>>\n"));
	CHECK(m.instrument_serial && strcmp(m.instrument_serial, "SN1234") == 0);
	CHECK(m.settings_json && contains(m.settings_json, "TPEA"));
	CHECK(m.live_time_s == 98.5 && m.real_time_s == 100.0 && m.total_counts == 1.5e6);
	CHECK(m.status && strcmp(m.status, "stopped_early") == 0);
	CHECK(m.notes && strcmp(m.notes, "first shot") == 0);
	CHECK(m.replicate == 1 && m.n_results == 0);
	CHECK_RC(mg_store_measurement_verify(st, &m, NULL), MG_OK);
	mg_measurement_clear(&m);
	CHECK_RC(mg_store_measurement_get_uuid(st, uuid, &m), MG_OK);
	CHECK(m.id == id);
	mg_measurement_clear(&m);
	CHECK_RC(mg_store_measurement_get(st, 999, &m), MG_ERR_NOT_FOUND);
	free(path);

	/* Unknown numbers stay unknown (NULL in the database, NAN back). */
	long long id2 = add_meas(st, "L2024-001", "S1", "two", 0, &rep, NULL);
	CHECK(id2 == 2 && rep == 2);
	CHECK_RC(mg_store_measurement_get(st, id2, &m), MG_OK);
	CHECK(m.instrument_model == NULL && m.settings_json == NULL && strcmp(m.status, "complete") == 0);
	mg_measurement_clear(&m);
	{
		char u2[MG_UUID_SIZE], *p2 = NULL;
		mg_uuid_generate(u2);
		mg_store_spectrum_path(st, "L2024-001", "S2", u2, NULL, &p2);
		write_file(p2, "x");
		mg_new_measurement_init(&nm);
		nm.uuid = u2;
		nm.sample_id = "S2";
		nm.file = p2;
		CHECK_RC(mg_store_measurement_add(st, &nm, &id, NULL), MG_OK);
		CHECK_RC(mg_store_measurement_get(st, id, &m), MG_OK);
		CHECK(isnan(m.live_time_s) && isnan(m.real_time_s) && isnan(m.total_counts));
		mg_measurement_clear(&m);
		free(p2);
	}
	CHECK(add_meas(st, "L2024-001", "S1", "seven", 7, &rep, NULL) > 0 && rep == 7);
	CHECK(add_meas(st, "L2024-001", "S1", "eight", 0, &rep, NULL) > 0 && rep == 8);
	CHECK(add_meas(st, "L2024-002", "S3", "other lot", 0, &rep, NULL) > 0 && rep == 1);

	/* Listings. */
	collect c = {0};
	CHECK(mg_store_batches_list(st, collect_batch, &c) == 2);
	CHECK(strcmp(c.ids[0], "L2024-001:2:5") == 0 && strcmp(c.ids[1], "L2024-002:1:1") == 0);
	memset(&c, 0, sizeof(c));
	CHECK(mg_store_samples_list(st, "L2024-001", collect_sample, &c) == 2);
	CHECK(strcmp(c.ids[0], "S1:L2024-001:4") == 0 && strcmp(c.ids[1], "S2:L2024-001:1") == 0);
	memset(&c, 0, sizeof(c));
	CHECK(mg_store_samples_list(st, NULL, collect_sample, &c) == 3);
	memset(&c, 0, sizeof(c));
	CHECK(mg_store_measurements_list(st, "L2024-001", NULL, collect_meas, &c) == 5);
	memset(&c, 0, sizeof(c));
	CHECK(mg_store_measurements_list(st, NULL, "S1", collect_meas, &c) == 4);
	CHECK(strcmp(c.ids[3], "5:S1:8") == 0);
	memset(&c, 0, sizeof(c));
	CHECK(mg_store_measurements_list(st, "L2024-002", "S1", collect_meas, &c) == 0);
	CHECK(mg_store_measurements_list(st, NULL, NULL, collect_meas, &c) == 6);
	/* Keyset paging: pages of 4 walk all six in id order; filters apply. */
	memset(&c, 0, sizeof(c));
	CHECK(mg_store_measurements_scan(st, NULL, 0, 4, collect_meas, &c) == 4);
	CHECK(mg_store_measurements_scan(st, NULL, 4, 4, collect_meas, &c) == 2);
	CHECK(c.n == 6 && strncmp(c.ids[4], "5:", 2) == 0 && strncmp(c.ids[5], "6:S3:", 5) == 0);
	CHECK(mg_store_measurements_scan(st, NULL, 6, 4, collect_meas, &c) == 0);
	mg_measurement_filter mf = {.batch_id = "L2024-002"};
	memset(&c, 0, sizeof(c));
	CHECK(mg_store_measurements_scan(st, &mf, 0, 100, collect_meas, &c) == 1 && strcmp(c.ids[0], "6:S3:1") == 0);
	mf = (mg_measurement_filter){.sample_id = "S1", .kind = "xrf"};
	CHECK(mg_store_measurements_scan(st, &mf, 0, 100, collect_meas, &c) == 4);
	mf = (mg_measurement_filter){.since = "2000-01-01"};
	CHECK(mg_store_measurements_scan(st, &mf, 0, 100, collect_meas, &c) == 6);
	mf.since = "2999-12-31T00:00:00Z";
	CHECK(mg_store_measurements_scan(st, &mf, 0, 100, collect_meas, &c) == 0);
	mf.since = "yesterday";
	CHECK_RC(mg_store_measurements_scan(st, &mf, 0, 100, collect_meas, &c), MG_ERR_ARG);
	mf = (mg_measurement_filter){.kind = "gamma"};
	CHECK_RC(mg_store_measurements_scan(st, &mf, 0, 100, collect_meas, &c), MG_ERR_ARG);
	CHECK_RC(mg_store_measurements_scan(st, NULL, 0, 0, collect_meas, &c), MG_ERR_ARG);
	int seen = 0;
	CHECK(mg_store_batches_list(st, stop_after_one, &seen) == 1 && seen == 1);
	CHECK(mg_store_batches_list(st, nested, &st) == 2);

	mg_store_close(st);
	rm_tree(dir);
	free(dir);
}

static void test_measurement_refusals(void)
{
	char *dir = fresh_dir("refusals");
	mg_store *st = NULL;
	CHECK_RC(t_open(dir, &st), MG_OK);
	if (!st)
		return;
	CHECK_RC(mg_store_batch_ensure(st, "B1", NULL, NULL), MG_OK);
	CHECK_RC(mg_store_batch_ensure(st, "B2", NULL, NULL), MG_OK);
	CHECK_RC(mg_store_sample_ensure(st, "S1", "B1", NULL, NULL), MG_OK);
	char uuid[MG_UUID_SIZE], *path = NULL, outside[600];
	mg_uuid_generate(uuid);
	CHECK_RC(mg_store_spectrum_path(st, "B1", "S1", uuid, "mca", &path), MG_OK);
	CHECK(write_file(path, "spectrum") == 0);
	mg_new_measurement nm;
	mg_new_measurement_init(&nm);
	nm.uuid = uuid;
	nm.sample_id = "S1";
	nm.file = path;

	nm.kind = "xrd";
	CHECK_RC(mg_store_measurement_add(st, &nm, NULL, NULL), MG_ERR_ARG);
	nm.kind = "icp";
	nm.status = "done";
	CHECK_RC(mg_store_measurement_add(st, &nm, NULL, NULL), MG_ERR_ARG);
	nm.status = "complete";
	nm.settings_json = "[1, 2]";
	CHECK_RC(mg_store_measurement_add(st, &nm, NULL, NULL), MG_ERR_FORMAT);
	nm.settings_json = "{\"a\": ";
	CHECK_RC(mg_store_measurement_add(st, &nm, NULL, NULL), MG_ERR_FORMAT);
	nm.settings_json = NULL;
	nm.batch_id = "B2";
	CHECK_RC(mg_store_measurement_add(st, &nm, NULL, NULL), MG_ERR_ARG);
	CHECK(contains(mg_error_detail(), "belongs to batch B1"));
	nm.batch_id = NULL;
	nm.sample_id = "S9";
	CHECK_RC(mg_store_measurement_add(st, &nm, NULL, NULL), MG_ERR_NOT_FOUND);
	nm.sample_id = "S1";
	nm.sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
	CHECK_RC(mg_store_measurement_add(st, &nm, NULL, NULL), MG_ERR_CHECKSUM);
	nm.sha256 = NULL;
	nm.uuid = "not-a-uuid";
	CHECK_RC(mg_store_measurement_add(st, &nm, NULL, NULL), MG_ERR_ARG);
	nm.uuid = uuid;
	nm.replicate = -1;
	CHECK_RC(mg_store_measurement_add(st, &nm, NULL, NULL), MG_ERR_ARG);
	nm.replicate = 0;
	/* Paths: outside the data directory, traversal, missing file. */
	snprintf(outside, sizeof(outside), "%s/../outside.mca", dir);
	nm.file = outside;
	CHECK_RC(mg_store_measurement_add(st, &nm, NULL, NULL), MG_ERR_ARG);
	nm.file = "spectra/../../outside.mca";
	CHECK_RC(mg_store_measurement_add(st, &nm, NULL, NULL), MG_ERR_ARG);
	nm.file = "/etc/passwd";
	CHECK_RC(mg_store_measurement_add(st, &nm, NULL, NULL), MG_ERR_ARG);
	nm.file = "spectra//x.mca";
	CHECK_RC(mg_store_measurement_add(st, &nm, NULL, NULL), MG_ERR_ARG);
	nm.file = "spectra/B1/S1/absent.mca";
	CHECK_RC(mg_store_measurement_add(st, &nm, NULL, NULL), MG_ERR_NOT_FOUND);
	CHECK(count_rows(dir, "measurements") == 0);
	/* A relative path is fine. */
	nm.file = path + strlen(dir) + 1;
	CHECK_RC(mg_store_measurement_add(st, &nm, NULL, NULL), MG_OK);
	CHECK(count_rows(dir, "measurements") == 1);
	/* So is an absolute one reaching the data directory through a symbolic link. */
	char link[600], via[800], u2[MG_UUID_SIZE], *p2 = NULL;
	snprintf(link, sizeof(link), "%s-link", dir);
	CHECK(symlink(dir, link) == 0);
	mg_uuid_generate(u2);
	CHECK_RC(mg_store_spectrum_path(st, "B1", "S1", u2, NULL, &p2), MG_OK);
	CHECK(p2 && write_file(p2, "via a link") == 0);
	snprintf(via, sizeof(via), "%s/spectra/B1/S1/%s.mca", link, u2);
	nm.uuid = u2;
	nm.file = via;
	long long vid = 0;
	CHECK_RC(mg_store_measurement_add(st, &nm, &vid, NULL), MG_OK);
	mg_measurement vm;
	CHECK_RC(mg_store_measurement_get(st, vid, &vm), MG_OK);
	CHECK(vm.file && strncmp(vm.file, "spectra/B1/S1/", 14) == 0);
	mg_measurement_clear(&vm);
	unlink(link);
	free(p2);
	nm.uuid = uuid;

	/* The archive layout refuses anything that is not a checked id. */
	char *p = NULL;
	CHECK_RC(mg_store_spectrum_path(st, "..", "S1", uuid, NULL, &p), MG_ERR_ARG);
	CHECK_RC(mg_store_spectrum_path(st, "B1", "../../x", uuid, NULL, &p), MG_ERR_ARG);
	CHECK_RC(mg_store_spectrum_path(st, "B1", "S1", "../../../../../../etc/passwd", NULL, &p), MG_ERR_ARG);
	CHECK_RC(mg_store_spectrum_path(st, "B1", "S1", uuid, "mca/../x", &p), MG_ERR_ARG);
	CHECK_RC(mg_store_spectrum_path(st, "B1", "S1", uuid, "", &p), MG_ERR_ARG);
	CHECK(p == NULL);
	CHECK_RC(mg_store_spectrum_path(st, "New-Lot", "New.Sample", uuid, "msa", &p), MG_OK);
	char want[700];
	snprintf(want, sizeof(want), "%s/spectra/New-Lot/New.Sample/%s.msa", dir, uuid);
	CHECK(p && strcmp(p, want) == 0);
	struct stat sb;
	snprintf(want, sizeof(want), "%s/spectra/New-Lot/New.Sample", dir);
	CHECK(stat(want, &sb) == 0 && S_ISDIR(sb.st_mode) && (sb.st_mode & 0777) == 0750);
	free(p);
	CHECK_RC(mg_store_abspath(st, "../x", &p), MG_ERR_ARG);
	free(path);
	mg_store_close(st);
	rm_tree(dir);
	free(dir);
}

static int count_cal(const mg_calibration *c, void *ud)
{
	(*(int *)ud) += c->version >= 1;
	return 0;
}

static void test_results_calibrations(void)
{
	char *dir = fresh_dir("results");
	mg_store *st = NULL;
	CHECK_RC(t_open(dir, &st), MG_OK);
	if (!st)
		return;
	CHECK_RC(mg_store_batch_ensure(st, "B1", NULL, NULL), MG_OK);
	CHECK_RC(mg_store_sample_ensure(st, "S1", "B1", NULL, NULL), MG_OK);
	long long mid = add_meas(st, "B1", "S1", "spectrum", 0, NULL, NULL);
	CHECK(mid > 0);

	/* Calibrations: versions per (kind, name), never overwritten. */
	mg_new_calibration nc = {"energy", "dp5-sn1234", "alice", NULL, "{\"peaks\": [\"Fe Ka\", \"Mo Ka\"]}",
	                         "{\"offset_kev\": -0.01, \"gain_kev\": 0.01}"};
	int ver = 0;
	long long cal1 = 0, cal2 = 0, cal3 = 0;
	CHECK_RC(mg_store_calibration_add(st, &nc, &ver, &cal1), MG_OK);
	CHECK(ver == 1 && cal1 > 0);
	nc.payload_json = "{\"offset_kev\": -0.012, \"gain_kev\": 0.01001}";
	CHECK_RC(mg_store_calibration_add(st, &nc, &ver, &cal2), MG_OK);
	CHECK(ver == 2 && cal2 > cal1);
	nc.kind = "resolution";
	CHECK_RC(mg_store_calibration_add(st, &nc, &ver, &cal3), MG_OK);
	CHECK(ver == 1);
	nc.kind = "Energy!";
	CHECK_RC(mg_store_calibration_add(st, &nc, NULL, NULL), MG_ERR_ARG);
	nc.kind = "energy";
	nc.name = "../x";
	CHECK_RC(mg_store_calibration_add(st, &nc, NULL, NULL), MG_ERR_ARG);
	nc.name = "dp5-sn1234";
	nc.payload_json = "{oops}";
	CHECK_RC(mg_store_calibration_add(st, &nc, NULL, NULL), MG_ERR_FORMAT);
	nc.payload_json = NULL;
	CHECK_RC(mg_store_calibration_add(st, &nc, NULL, NULL), MG_ERR_ARG);

	mg_calibration c;
	CHECK_RC(mg_store_calibration_find(st, "energy", "dp5-sn1234", 0, &c), MG_OK);
	CHECK(c.version == 2 && c.id == cal2 && contains(c.payload_json, "0.01001"));
	CHECK(c.software_version && strncmp(c.software_version, "magassay ", 9) == 0);
	CHECK(c.operator_name && strcmp(c.operator_name, "alice") == 0);
	CHECK(c.provenance_json && contains(c.provenance_json, "Mo Ka"));
	mg_calibration_clear(&c);
	CHECK_RC(mg_store_calibration_find(st, "energy", "dp5-sn1234", 1, &c), MG_OK);
	CHECK(c.version == 1 && contains(c.payload_json, "-0.01,"));
	mg_calibration_clear(&c);
	CHECK_RC(mg_store_calibration_find(st, "energy", "dp5-sn1234", 3, &c), MG_ERR_NOT_FOUND);
	CHECK_RC(mg_store_calibration_get(st, cal3, &c), MG_OK);
	CHECK(strcmp(c.kind, "resolution") == 0);
	mg_calibration_clear(&c);
	int ncal = 0;
	CHECK(mg_store_calibrations_list(st, "energy", NULL, count_cal, &ncal) == 2 && ncal == 2);
	ncal = 0;
	CHECK(mg_store_calibrations_list(st, NULL, NULL, count_cal, &ncal) == 3 && ncal == 3);
	CHECK(mg_store_calibrations_list(st, NULL, NULL, NULL, NULL) == MG_ERR_ARG);

	/* Results: versions increase, old ones stay. */
	long long rid = 0;
	CHECK_RC(mg_store_result_add(st, mid, 0, NULL, "{\"Nd\": 23.1}", &ver, &rid), MG_OK);
	CHECK(ver == 1 && rid > 0);
	CHECK_RC(mg_store_result_add(st, mid, cal1, "magassay 0.0.9", "{\"Nd\": 23.4}", &ver, NULL), MG_OK);
	CHECK(ver == 2);
	CHECK_RC(mg_store_result_add(st, mid, cal2, NULL, "{\"Nd\": 23.5}", &ver, NULL), MG_OK);
	CHECK(ver == 3);
	CHECK_RC(mg_store_result_add(st, mid, 9999, NULL, "{}", &ver, NULL), MG_ERR_NOT_FOUND);
	CHECK_RC(mg_store_result_add(st, 9999, 0, NULL, "{}", &ver, NULL), MG_ERR_NOT_FOUND);
	CHECK_RC(mg_store_result_add(st, mid, 0, NULL, "not json", &ver, NULL), MG_ERR_FORMAT);
	CHECK_RC(mg_store_result_add(st, mid, 0, NULL, NULL, &ver, NULL), MG_ERR_ARG);
	mg_result r;
	CHECK_RC(mg_store_result_get(st, mid, 0, &r), MG_OK);
	CHECK(r.version == 3 && r.calibration_id == cal2 && contains(r.payload_json, "23.5"));
	mg_result_clear(&r);
	CHECK_RC(mg_store_result_get(st, mid, 1, &r), MG_OK);
	CHECK(r.version == 1 && r.calibration_id == 0 && contains(r.payload_json, "23.1"));
	mg_result_clear(&r);
	CHECK_RC(mg_store_result_get(st, mid, 2, &r), MG_OK);
	CHECK(r.software_version && strcmp(r.software_version, "magassay 0.0.9") == 0);
	mg_result_clear(&r);
	mg_measurement m;
	CHECK_RC(mg_store_measurement_get(st, mid, &m), MG_OK);
	CHECK(m.n_results == 3);
	mg_measurement_clear(&m);

	/* The database itself refuses to change or remove them. */
	char err[512] = "";
	CHECK(q_exec(dir, "UPDATE results SET payload = '{}' WHERE version = 1", err, sizeof(err)) != 0);
	CHECK_MSG(contains(err, "never modified"), "%s", err);
	err[0] = '\0';
	CHECK(q_exec(dir, "DELETE FROM results", err, sizeof(err)) != 0);
	CHECK_MSG(contains(err, "never deleted"), "%s", err);
	CHECK(q_exec(dir, "UPDATE calibrations SET payload = '{}'", NULL, 0) != 0);
	CHECK(q_exec(dir, "DELETE FROM calibrations WHERE id = 1", NULL, 0) != 0);
	CHECK(q_exec(dir, "INSERT INTO results(measurement_id, version, software_version, payload) "
	                  "VALUES(1, 2, 'x', '{}')",
	             NULL, 0) != 0); /* UNIQUE(measurement_id, version) */
	CHECK(q_exec(dir, "INSERT INTO results(measurement_id, version, software_version, payload) "
	                  "VALUES(1, 9, 'x', '{not json')",
	             NULL, 0) != 0); /* JSON checked by the database too */
	CHECK(q_exec(dir, "DELETE FROM measurements", NULL, 0) != 0);
	CHECK(q_exec(dir, "UPDATE measurements SET sha256 = 'x'", NULL, 0) != 0);
	CHECK(q_exec(dir, "UPDATE measurements SET notes = 'annotated later'", NULL, 0) == 0);
	CHECK(q_exec(dir, "DELETE FROM events", NULL, 0) != 0);
	CHECK(q_exec(dir, "INSERT INTO batches(id) VALUES('../evil')", NULL, 0) != 0);
	CHECK(q_exec(dir, "INSERT INTO batches(id) VALUES('-x')", NULL, 0) != 0);
	CHECK(q_int(dir, "SELECT count(*) FROM results") == 3);
	CHECK(q_int(dir, "SELECT count(*) FROM calibrations") == 3);
	CHECK(q_int(dir, "SELECT count(*) FROM events WHERE action = 'result.add'") == 3);

	/* All versions, oldest first. */
	CHECK(mg_store_results_list(st, mid, NULL, NULL) == MG_ERR_ARG);
	mg_store_close(st);
	rm_tree(dir);
	free(dir);
}

static int count_results(const mg_result *r, void *ud)
{
	int *last = ud;
	if (r->version != *last + 1)
		return -1;
	*last = r->version;
	return 0;
}

static void test_results_order(void)
{
	char *dir = fresh_dir("order");
	mg_store *st = NULL;
	CHECK_RC(t_open(dir, &st), MG_OK);
	if (!st)
		return;
	mg_store_batch_ensure(st, "B", NULL, NULL);
	mg_store_sample_ensure(st, "S", "B", NULL, NULL);
	long long mid = add_meas(st, "B", "S", "x", 0, NULL, NULL);
	for (int i = 0; i < 5; i++)
		CHECK_RC(mg_store_result_add(st, mid, 0, NULL, "{}", NULL, NULL), MG_OK);
	int last = 0;
	CHECK(mg_store_results_list(st, mid, count_results, &last) == 5 && last == 5);
	mg_store_close(st);
	rm_tree(dir);
	free(dir);
}

/* ---- find ------------------------------------------------------------------------ */

static void test_find(void)
{
	char *dir = fresh_dir("find");
	mg_store *st = NULL;
	CHECK_RC(t_open(dir, &st), MG_OK);
	if (!st)
		return;
	char uuid[MG_UUID_SIZE];
	mg_store_batch_ensure(st, "L1", NULL, NULL);
	mg_store_batch_ensure(st, "1", NULL, NULL); /* the same text as measurement 1's id */
	mg_store_batch_ensure(st, "X1", NULL, NULL);
	mg_store_sample_ensure(st, "S1", "L1", NULL, NULL);
	mg_store_sample_ensure(st, "X1", "L1", NULL, NULL); /* the same text as batch X1 */
	long long mid = add_meas(st, "L1", "S1", "a", 0, NULL, uuid);
	CHECK(mid == 1);
	mg_found f;
	CHECK_RC(mg_store_find(st, "L1", &f), MG_OK);
	CHECK(f.kind == MG_FOUND_BATCH && strcmp(f.id, "L1") == 0);
	mg_found_clear(&f);
	CHECK_RC(mg_store_find(st, "S1", &f), MG_OK);
	CHECK(f.kind == MG_FOUND_SAMPLE && strcmp(f.id, "S1") == 0);
	mg_found_clear(&f);
	CHECK_RC(mg_store_find(st, uuid, &f), MG_OK);
	CHECK(f.kind == MG_FOUND_MEASUREMENT && f.measurement_id == mid && strcmp(f.id, uuid) == 0);
	mg_found_clear(&f);
	char prefix[9];
	memcpy(prefix, uuid, 8);
	prefix[8] = '\0';
	CHECK_RC(mg_store_find(st, prefix, &f), MG_OK);
	CHECK(f.kind == MG_FOUND_MEASUREMENT && f.measurement_id == mid);
	mg_found_clear(&f);
	char upper[MG_UUID_SIZE];
	for (int i = 0; i < MG_UUID_SIZE; i++)
		upper[i] = (char)(uuid[i] >= 'a' && uuid[i] <= 'f' ? uuid[i] - 32 : uuid[i]);
	CHECK_RC(mg_store_find(st, upper, &f), MG_OK);
	CHECK(f.kind == MG_FOUND_MEASUREMENT);
	mg_found_clear(&f);
	/* Ambiguous texts are refused with the alternatives; prefixes resolve them. */
	CHECK_RC(mg_store_find(st, "1", &f), MG_ERR_ARG);
	CHECK(contains(mg_error_detail(), "ambiguous") && contains(mg_error_detail(), "batch 1") &&
	      contains(mg_error_detail(), "measurement 1"));
	CHECK_RC(mg_store_find(st, "X1", &f), MG_ERR_ARG);
	CHECK_RC(mg_store_find(st, "batch:1", &f), MG_OK);
	CHECK(f.kind == MG_FOUND_BATCH);
	mg_found_clear(&f);
	CHECK_RC(mg_store_find(st, "measurement:1", &f), MG_OK);
	CHECK(f.kind == MG_FOUND_MEASUREMENT && f.measurement_id == 1);
	mg_found_clear(&f);
	CHECK_RC(mg_store_find(st, "sample:X1", &f), MG_OK);
	CHECK(f.kind == MG_FOUND_SAMPLE);
	mg_found_clear(&f);
	CHECK_RC(mg_store_find(st, "sample:L1", &f), MG_ERR_NOT_FOUND);
	CHECK_RC(mg_store_find(st, "nothing-here", &f), MG_ERR_NOT_FOUND);
	CHECK_RC(mg_store_find(st, "42", &f), MG_ERR_NOT_FOUND);
	CHECK_RC(mg_store_find(st, "../etc/passwd", &f), MG_ERR_ARG);
	CHECK_RC(mg_store_find(st, "", &f), MG_ERR_ARG);
	CHECK_RC(mg_store_find(st, "batch:", &f), MG_ERR_ARG);
	mg_store_close(st);
	rm_tree(dir);
	free(dir);
}

/* ---- two processes writing at once --------------------------------------------------- */

#define PER_CHILD 200

static void test_concurrent(void)
{
	/* The two stations also race to create the store and migrate its schema. */
	char *dir = fresh_dir("concurrent");
	mg_store *st = NULL;
	double t0 = now_s();
	pid_t pids[2];
	for (int k = 0; k < 2; k++) {
		pids[k] = fork();
		if (pids[k] == 0) {
			mg_store *cs = NULL;
			int fails = 0;
			char station[32];
			snprintf(station, sizeof(station), "station-%d", k);
			if (t_open(dir, &cs) != MG_OK) {
				fprintf(stderr, "child %d: %s\n", k, mg_error_detail());
				_exit(2);
			}
			/* Both stations register the same lot and sample, then measurements. */
			if (mg_store_batch_ensure(cs, "LOT-C", station, NULL) != MG_OK ||
			    mg_store_sample_ensure(cs, "SC", "LOT-C", NULL, NULL) != MG_OK) {
				fprintf(stderr, "child %d: %s\n", k, mg_error_detail());
				_exit(3);
			}
			for (int i = 0; i < PER_CHILD; i++) {
				char content[64];
				snprintf(content, sizeof(content), "station %d spectrum %d\n", k, i);
				if (add_meas(cs, "LOT-C", "SC", content, 0, NULL, NULL) <= 0)
					fails++;
			}
			mg_store_close(cs);
			_exit(fails ? 1 : 0);
		}
	}
	for (int k = 0; k < 2; k++) {
		int status = 0;
		CHECK(waitpid(pids[k], &status, 0) == pids[k]);
		CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d status 0x%x", k, status);
	}
	double dt = now_s() - t0;
	fprintf(stderr, "concurrent: %d measurements from 2 processes in %.2f s\n", 2 * PER_CHILD, dt);

	CHECK(q_int(dir, "SELECT count(*) FROM measurements") == 2 * PER_CHILD);
	CHECK(q_int(dir, "SELECT count(DISTINCT uuid) FROM measurements") == 2 * PER_CHILD);
	CHECK(q_int(dir, "SELECT count(DISTINCT file) FROM measurements") == 2 * PER_CHILD);
	/* Replicate numbers were handed out inside the write transaction: 1..400, no gap, no repeat. */
	CHECK(q_int(dir, "SELECT count(DISTINCT replicate) FROM measurements") == 2 * PER_CHILD);
	CHECK(q_int(dir, "SELECT max(replicate) FROM measurements") == 2 * PER_CHILD);
	CHECK(q_int(dir, "SELECT count(*) FROM batches") == 1);
	CHECK(q_int(dir, "SELECT count(*) FROM samples") == 1);
	CHECK(q_int(dir, "SELECT count(*) FROM events WHERE action = 'measurement.add'") == 2 * PER_CHILD);
	CHECK(q_int(dir, "SELECT count(*) FROM events WHERE action = 'batch.create'") == 1);
	CHECK(q_int(dir, "SELECT count(*) FROM events WHERE action = 'schema.migrate'") == MG_STORE_SCHEMA_VERSION);
	CHECK_RC(t_open(dir, &st), MG_OK);
	CHECK(mg_store_check(st, NULL, NULL) == 0);
	mg_store_close(st);
	rm_tree(dir);
	free(dir);
}

/* ---- failing writes ---------------------------------------------------------------- */

static void test_fsize_limit(void)
{
	char *dir = fresh_dir("fsize");
	mg_store *st = NULL;
	CHECK_RC(t_open(dir, &st), MG_OK);
	if (!st)
		return;
	mg_store_batch_ensure(st, "B", NULL, NULL);
	mg_store_sample_ensure(st, "S", "B", NULL, NULL);
	for (int i = 0; i < 5; i++)
		CHECK(add_meas(st, "B", "S", "earlier spectrum", 0, NULL, NULL) > 0);
	mg_store_close(st);

	int fds[2];
	CHECK(pipe(fds) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		signal(SIGXFSZ, SIG_IGN); /* EFBIG instead of a kill, as the CLI does */
		mg_store *cs = NULL;
		if (t_open(dir, &cs) != MG_OK)
			_exit(2);
		/* Room for a few more pages in any file, whatever the database's size now. */
		char dbp[600];
		struct stat dsb;
		snprintf(dbp, sizeof(dbp), "%s/magassay.db", dir);
		rlim_t lim = (stat(dbp, &dsb) == 0 ? (rlim_t)dsb.st_size : 0) + 96 * 1024;
		struct rlimit rl = {lim, lim};
		setrlimit(RLIMIT_FSIZE, &rl);
		char notes[16384];
		memset(notes, 'n', sizeof(notes) - 1);
		notes[sizeof(notes) - 1] = '\0';
		int ok = 0, rc = MG_OK;
		for (int i = 0; i < 200 && rc == MG_OK; i++) {
			char uuid[MG_UUID_SIZE], *path = NULL;
			mg_uuid_generate(uuid);
			mg_store_spectrum_path(cs, "B", "S", uuid, NULL, &path);
			write_file(path, "a later spectrum");
			mg_new_measurement m;
			mg_new_measurement_init(&m);
			m.uuid = uuid;
			m.sample_id = "S";
			m.file = path;
			m.notes = notes;
			rc = mg_store_measurement_add(cs, &m, NULL, NULL);
			free(path);
			if (rc == MG_OK)
				ok++;
		}
		char msg[1200];
		int len = snprintf(msg, sizeof(msg), "%d %d %s", ok, rc, mg_error_detail());
		(void)!write(fds[1], msg, (size_t)len);
		_exit(0);
	}
	close(fds[1]);
	char msg[1200] = "";
	ssize_t got = read(fds[0], msg, sizeof(msg) - 1);
	msg[got > 0 ? got : 0] = '\0';
	close(fds[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	int ok = -1, rc = 0;
	CHECK(sscanf(msg, "%d %d", &ok, &rc) == 2);
	fprintf(stderr, "fsize: %d writes passed, then: %s\n", ok, msg);
	CHECK_MSG(rc == MG_ERR_NOSPACE, "the failing write gave %d, not MG_ERR_NOSPACE (%s)", rc, msg);
	CHECK(contains(msg, "database"));
	CHECK(ok >= 0 && ok < 200);

	/* Every earlier row is intact, the failed one is not half there, the database is sound. */
	CHECK_RC(t_open(dir, &st), MG_OK);
	CHECK(count_rows(dir, "measurements") == 5 + ok);
	CHECK(mg_store_check(st, NULL, NULL) == 0);
	CHECK(add_meas(st, "B", "S", "after the limit is lifted", 0, NULL, NULL) > 0);
	mg_store_close(st);
	CHECK(count_rows(dir, "measurements") == 6 + ok);
	rm_tree(dir);
	free(dir);
}

/* A store with one measurement, opened read-only: reads work, every write is
 * refused clearly. 0 when the store could not even be made. */
static int readonly_refuses_writes(const char *dir)
{
	mg_store *st = NULL;
	CHECK_RC(t_open(dir, &st), MG_OK);
	if (!st)
		return 0;
	mg_store_batch_ensure(st, "B", NULL, NULL);
	mg_store_sample_ensure(st, "S", "B", NULL, NULL);
	CHECK(add_meas(st, "B", "S", "earlier", 0, NULL, NULL) > 0);
	mg_store_close(st);
	CHECK_RC(t_open_ex(dir, MG_STORE_READONLY, &st), MG_OK);
	mg_batch b;
	CHECK_RC(mg_store_batch_get(st, "B", &b), MG_OK);
	mg_batch_clear(&b);
	CHECK_RC(mg_store_batch_ensure(st, "B2", NULL, NULL), MG_ERR_IO);
	CHECK(contains(mg_error_detail(), "read-only"));
	CHECK_RC(mg_store_result_add(st, 1, 0, NULL, "{}", NULL, NULL), MG_ERR_IO);
	mg_store_close(st);
	return 1;
}

static void test_readonly(void)
{
	char *dir = fresh_dir("readonly");
	if (!readonly_refuses_writes(dir))
		return;

	/* A database file the user may not write: as root, check it as an unprivileged user. */
	char db[600];
	snprintf(db, sizeof(db), "%s/magassay.db", dir);
	chmod(mg_test_tmpdir(), 0755);
	chmod(dir, 0555);
	chmod(db, 0444);
	pid_t pid = fork();
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(77);
		mg_store *cs = NULL;
		if (t_open(dir, &cs) != MG_OK) {
			fprintf(stderr, "readonly child: open: %s\n", mg_error_detail());
			_exit(2);
		}
		int rc = mg_store_batch_ensure(cs, "B3", NULL, NULL);
		int said = contains(mg_error_detail(), "read-only");
		if (rc != MG_ERR_IO || !said)
			fprintf(stderr, "readonly child: batch_ensure gave %d: %s\n", rc, mg_error_detail());
		mg_batch cb;
		int rrc = mg_store_batch_get(cs, "B", &cb);
		mg_batch_clear(&cb);
		mg_store_close(cs);
		_exit(rc == MG_ERR_IO && said && rrc == MG_OK ? 0 : 1);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	chmod(dir, 0750);
	chmod(db, 0640);
	chmod(mg_test_tmpdir(), 0700);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		fprintf(stderr, "readonly: could not drop privileges; file-permission case not run\n");
	else
		CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "read-only child status 0x%x", status);
	CHECK(count_rows(dir, "measurements") == 1);
	CHECK(count_rows(dir, "batches") == 1);
	rm_tree(dir);
	free(dir);
}

/* Another writer holding the store's write lock: SQLite's BEGIN IMMEDIATE
 * through a second connection, or PostgreSQL's advisory lock (docs/data-model.md). */
typedef struct other_writer {
	sqlite3 *lite;
	void *pg;
} other_writer;

static int other_lock(other_writer *o, const char *dir)
{
	if (g_url) {
		o->pg = mg_test_pg_connect(g_url);
		return o->pg && mg_test_pg_conn_exec(o->pg, "BEGIN; SELECT pg_advisory_xact_lock(5568511004369897812)",
		                                     NULL, 0) == 0;
	}
	o->lite = raw_open(dir);
	return o->lite && sqlite3_exec(o->lite, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
}

static int other_commit(other_writer *o)
{
	int ok = o->pg ? mg_test_pg_conn_exec(o->pg, "COMMIT", NULL, 0) == 0
	               : sqlite3_exec(o->lite, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
	if (o->pg)
		mg_test_pg_close(o->pg);
	else
		sqlite3_close(o->lite);
	return ok;
}

static void test_locked(void)
{
	char *dir = fresh_dir(g_url ? "pg-locked" : "locked");
	mg_store *st = NULL;
	CHECK_RC(t_open(dir, &st), MG_OK);
	if (!st)
		return;
	CHECK_RC(mg_store_batch_ensure(st, "B", NULL, NULL), MG_OK);
	/* Another writer holds the write lock longer than we wait. */
	other_writer other = {0};
	CHECK(other_lock(&other, dir));
	CHECK_RC(mg_store_set_busy_timeout(st, 200), MG_OK);
	double t0 = now_s();
	CHECK_RC(mg_store_batch_ensure(st, "B2", NULL, NULL), MG_ERR_BUSY);
	double waited = now_s() - t0;
	CHECK_MSG(contains(mg_error_detail(), "locked") && contains(mg_error_detail(), "200 ms"), "%s",
	          mg_error_detail());
	CHECK_MSG(waited >= 0.15 && waited < 3, "waited %.3f s", waited);
	/* Readers are not blocked by a writer (SQLite: WAL). */
	mg_batch b;
	CHECK_RC(mg_store_batch_get(st, "B", &b), MG_OK);
	mg_batch_clear(&b);
	/* A writer that finishes within the timeout is waited for. */
	CHECK(other_commit(&other));
	CHECK_RC(mg_store_batch_ensure(st, "B2", NULL, NULL), MG_OK);
	CHECK(count_rows(dir, "batches") == 2);
	mg_store_close(st);
	rm_tree(dir);
	free(dir);
}

/* ---- the integrity check ----------------------------------------------------------- */

typedef struct issues {
	int n;
	char what[8][32];
	long long mid[8];
} issues;

static void on_issue(const mg_check_issue *is, void *ud)
{
	issues *c = ud;
	if (c->n < 8) {
		snprintf(c->what[c->n], sizeof(c->what[0]), "%s", is->what);
		c->mid[c->n] = is->measurement_id;
	}
	c->n++;
}

static void test_check(void)
{
	char *dir = fresh_dir("check");
	mg_store *st = NULL;
	CHECK_RC(t_open(dir, &st), MG_OK);
	if (!st)
		return;
	mg_store_batch_ensure(st, "B", NULL, NULL);
	mg_store_sample_ensure(st, "S", "B", NULL, NULL);
	long long a = add_meas(st, "B", "S", "spectrum a", 0, NULL, NULL);
	long long b = add_meas(st, "B", "S", "spectrum b", 0, NULL, NULL);
	long long c = add_meas(st, "B", "S", "spectrum c", 0, NULL, NULL);
	issues is = {0};
	CHECK(mg_store_check(st, on_issue, &is) == 0 && is.n == 0);

	mg_measurement m;
	char *path = NULL;
	/* b: same size, other content; c: removed. */
	CHECK_RC(mg_store_measurement_get(st, b, &m), MG_OK);
	mg_store_abspath(st, m.file, &path);
	CHECK(write_file(path, "spectrum B") == 0);
	char got[MG_SHA256_HEX_SIZE];
	CHECK_RC(mg_store_measurement_verify(st, &m, got), MG_ERR_CHECKSUM);
	CHECK(strcmp(got, m.sha256) != 0);
	free(path);
	mg_measurement_clear(&m);
	CHECK_RC(mg_store_measurement_get(st, c, &m), MG_OK);
	mg_store_abspath(st, m.file, &path);
	CHECK(unlink(path) == 0);
	CHECK_RC(mg_store_measurement_verify(st, &m, NULL), MG_ERR_NOT_FOUND);
	free(path);
	mg_measurement_clear(&m);

	CHECK(mg_store_check(st, on_issue, &is) == 2);
	CHECK(is.n == 2);
	CHECK(strcmp(is.what[0], "file_hash") == 0 && is.mid[0] == b);
	CHECK(strcmp(is.what[1], "file_missing") == 0 && is.mid[1] == c);
	(void)a;
	mg_store_close(st);
	rm_tree(dir);
	free(dir);
}

/* ---- several writers at once: measurements, result versions, calibrations ---------- */

#define WRITERS 4
#define PER_WRITER 25

static void test_concurrent_writers(void)
{
	char *dir = fresh_dir("writers");
	mg_store *st = NULL;
	CHECK_RC(t_open(dir, &st), MG_OK);
	if (!st)
		return;
	CHECK_RC(mg_store_batch_ensure(st, "LOT-W", NULL, NULL), MG_OK);
	CHECK_RC(mg_store_sample_ensure(st, "SW", "LOT-W", NULL, NULL), MG_OK);
	long long mid = add_meas(st, "LOT-W", "SW", "the shared measurement", 0, NULL, NULL);
	CHECK(mid > 0);
	mg_store_close(st);
	double t0 = now_s();
	pid_t pids[WRITERS];
	for (int k = 0; k < WRITERS; k++) {
		pids[k] = fork();
		if (pids[k] == 0) {
			mg_store *cs = NULL;
			int fails = 0;
			if (t_open(dir, &cs) != MG_OK) {
				fprintf(stderr, "writer %d: %s\n", k, mg_error_detail());
				_exit(2);
			}
			for (int i = 0; i < PER_WRITER; i++) {
				char content[64], payload[64];
				snprintf(content, sizeof(content), "writer %d spectrum %d\n", k, i);
				if (add_meas(cs, "LOT-W", "SW", content, 0, NULL, NULL) <= 0)
					fails++;
				snprintf(payload, sizeof(payload), "{\"writer\": %d, \"i\": %d}", k, i);
				if (mg_store_result_add(cs, mid, 0, NULL, payload, NULL, NULL) != MG_OK) {
					fprintf(stderr, "writer %d: %s\n", k, mg_error_detail());
					fails++;
				}
				mg_new_calibration nc = {"energy", "det-1", "w", NULL, NULL, payload};
				if (mg_store_calibration_add(cs, &nc, NULL, NULL) != MG_OK) {
					fprintf(stderr, "writer %d: %s\n", k, mg_error_detail());
					fails++;
				}
			}
			mg_store_close(cs);
			_exit(fails ? 1 : 0);
		}
	}
	for (int k = 0; k < WRITERS; k++) {
		int status = 0;
		CHECK(waitpid(pids[k], &status, 0) == pids[k]);
		CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d status 0x%x", k, status);
	}
	const int n = WRITERS * PER_WRITER;
	fprintf(stderr, "writers: %d x 3 writes from %d processes in %.2f s\n", n, WRITERS, now_s() - t0);
	/* Nothing lost, nothing doubled, numbers contiguous from 1. */
	CHECK(count_rows(dir, "measurements") == n + 1);
	CHECK(q_int(dir, "SELECT count(DISTINCT replicate) FROM measurements WHERE sample_id = 'SW'") == n + 1);
	CHECK(q_int(dir, "SELECT min(replicate) FROM measurements") == 1);
	CHECK(q_int(dir, "SELECT max(replicate) FROM measurements") == n + 1);
	CHECK(count_rows(dir, "results") == n);
	CHECK(q_int(dir, "SELECT count(DISTINCT version) FROM results") == n);
	CHECK(q_int(dir, "SELECT min(version) FROM results") == 1);
	CHECK(q_int(dir, "SELECT max(version) FROM results") == n);
	CHECK(count_rows(dir, "calibrations") == n);
	CHECK(q_int(dir, "SELECT count(DISTINCT version) FROM calibrations WHERE kind = 'energy' AND name = 'det-1'") == n);
	CHECK(q_int(dir, "SELECT max(version) FROM calibrations") == n);
	CHECK(q_int(dir, "SELECT count(*) FROM events WHERE action IN ('measurement.add', 'result.add', "
	                 "'calibration.add')") == 3 * n + 1);
	CHECK_RC(t_open(dir, &st), MG_OK);
	mg_measurement m;
	CHECK_RC(mg_store_measurement_get(st, mid, &m), MG_OK);
	CHECK(m.n_results == n);
	mg_measurement_clear(&m);
	mg_store_close(st);
	rm_tree(dir);
	free(dir);
}

/* ---- choosing the database ------------------------------------------------------------ */

static void test_db_choice(void)
{
	char *dir = fresh_dir("choice"), conf[600];
	mg_store *st = NULL;
	mkdir(dir, 0750);
	snprintf(conf, sizeof(conf), "%s/magassay.conf", dir);
	/* Explicitly SQLite, by argument and by the configuration file. */
	CHECK_RC(mg_store_open_db(dir, "sqlite", MG_STORE_DEFAULT, &st), MG_OK);
	CHECK(st && strcmp(mg_store_backend(st), "sqlite") == 0);
	mg_store_close(st);
	CHECK(write_file(conf, "# the lab's store\n; another comment\n[store]\n  database = sqlite  \n") == 0);
	CHECK_RC(mg_store_open_db(dir, NULL, MG_STORE_DEFAULT, &st), MG_OK);
	CHECK(st && strcmp(mg_store_backend(st), "sqlite") == 0);
	mg_store_close(st);
	/* Anything else is refused, saying where it came from; passwords never shown. */
	CHECK(write_file(conf, "database = mysql://lab:s3cr3t@db.lab/assay\n") == 0);
	CHECK_RC(mg_store_open_db(dir, NULL, MG_STORE_DEFAULT, &st), MG_ERR_ARG);
	CHECK(contains(mg_error_detail(), "magassay.conf") && !contains(mg_error_detail(), "s3cr3t"));
	CHECK(contains(mg_error_detail(), "mysql://lab:***@db.lab/assay"));
	setenv("MAGASSAY_DB", "host=db.lab password=s3cr3t", 1);
	CHECK_RC(mg_store_open_db(dir, NULL, MG_STORE_DEFAULT, &st), MG_ERR_ARG);
	CHECK(contains(mg_error_detail(), "MAGASSAY_DB") && !contains(mg_error_detail(), "s3cr3t"));
	/* The argument wins over the environment, which wins over the file. */
	CHECK_RC(mg_store_open_db(dir, "sqlite", MG_STORE_DEFAULT, &st), MG_OK);
	mg_store_close(st);
	setenv("MAGASSAY_DB", "sqlite", 1);
	CHECK_RC(mg_store_open_db(dir, NULL, MG_STORE_DEFAULT, &st), MG_OK);
	mg_store_close(st);
	unsetenv("MAGASSAY_DB");
	/* A server that is not there: an I/O error, the password masked. */
	CHECK_RC(mg_store_open_db(dir, "postgresql://lab:s3cr3t@/assay?host=/nonexistent-mg-socket", MG_STORE_DEFAULT,
	                          &st),
	         MG_ERR_IO);
	CHECK_MSG(contains(mg_error_detail(), "lab:***@") && !contains(mg_error_detail(), "s3cr3t"), "%s",
	          mg_error_detail());
	CHECK_RC(mg_store_open_db(dir, "postgres:///assay?host=/nonexistent-mg-socket&password=s3cr3t",
	                          MG_STORE_DEFAULT, &st),
	         MG_ERR_IO);
	CHECK_MSG(contains(mg_error_detail(), "password=***") && !contains(mg_error_detail(), "s3cr3t"), "%s",
	          mg_error_detail());
	if (pg_mode) {
		/* The server's database, named by the configuration file or the environment. */
		char line[1200];
		snprintf(line, sizeof(line), "[store]\ndatabase = %s\n", g_url);
		CHECK(write_file(conf, line) == 0);
		CHECK_RC(mg_store_open_db(dir, NULL, MG_STORE_DEFAULT, &st), MG_OK);
		CHECK(st && strcmp(mg_store_backend(st), "postgresql") == 0);
		CHECK_RC(mg_store_batch_ensure(st, "VIA-CONF", NULL, NULL), MG_OK);
		mg_store_close(st);
		unlink(conf);
		setenv("MAGASSAY_DB", g_url, 1);
		CHECK_RC(mg_store_open_db(dir, NULL, MG_STORE_NOCREATE, &st), MG_OK);
		CHECK(st && strcmp(mg_store_backend(st), "postgresql") == 0);
		mg_batch b;
		CHECK_RC(mg_store_batch_get(st, "VIA-CONF", &b), MG_OK);
		mg_batch_clear(&b);
		mg_store_close(st);
		unsetenv("MAGASSAY_DB");
		CHECK(q_int(dir, "SELECT count(*) FROM batches") == 1);
	}
	rm_tree(dir);
	free(dir);
}

/* ---- PostgreSQL counterparts of the SQLite-specific tests ------------------------------- */

static void test_pg_open_migrate(void)
{
	char *dir = fresh_dir("pg-open");
	mg_store *st = NULL;
	/* An empty database is not a store to read. */
	mkdir(dir, 0750);
	CHECK_RC(t_open_ex(dir, MG_STORE_NOCREATE, &st), MG_ERR_NOT_FOUND);
	CHECK_RC(t_open(dir, &st), MG_OK);
	CHECK(st && strcmp(mg_store_backend(st), "postgresql") == 0);
	mg_store_close(st);
	struct stat sb;
	char p[600];
	snprintf(p, sizeof(p), "%s/spectra", dir);
	CHECK(stat(p, &sb) == 0 && S_ISDIR(sb.st_mode)); /* the archive stays in the data directory */
	snprintf(p, sizeof(p), "%s/magassay.db", dir);
	CHECK(stat(p, &sb) != 0);                        /* and no SQLite file appears */
	CHECK(q_int(dir, "SELECT value::int FROM magassay_meta WHERE key = 'schema_version'") == MG_STORE_SCHEMA_VERSION);
	CHECK(q_int(dir, "SELECT count(*) FROM magassay_meta WHERE key = 'application_id' AND value = 'MGSA'") == 1);
	CHECK(q_int(dir, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename IN "
	                 "('batches', 'samples', 'measurements', 'results', 'calibrations', 'events', 'qc_values', "
	                 "'qc_overrides', 'qc_releases')") == 9);
	CHECK(q_int(dir, "SELECT count(*) FROM events WHERE action = 'schema.migrate'") == MG_STORE_SCHEMA_VERSION);
	for (int i = 0; i < 3; i++) {
		CHECK_RC(t_open(dir, &st), MG_OK);
		mg_store_close(st);
	}
	CHECK(count_rows(dir, "events") == MG_STORE_SCHEMA_VERSION);
	CHECK_RC(t_open_ex(dir, MG_STORE_READONLY, &st), MG_OK);
	mg_store_close(st);
	/* Truncation is refused as deletion is. */
	CHECK(q_exec(dir, "TRUNCATE events", NULL, 0) != 0);
	/* A database from a newer magassay is refused. */
	CHECK(q_exec(dir, "UPDATE magassay_meta SET value = '99' WHERE key = 'schema_version'", NULL, 0) == 0);
	CHECK_RC(t_open(dir, &st), MG_ERR_UNSUPPORTED);
	CHECK(contains(mg_error_detail(), "schema version 99") && contains(mg_error_detail(), "newer"));
	CHECK(st == NULL);
	CHECK_RC(t_open_ex(dir, MG_STORE_READONLY, &st), MG_ERR_UNSUPPORTED);
	rm_tree(dir);
	free(dir);

	/* A database that is not ours. */
	dir = fresh_dir("pg-foreign");
	CHECK(q_exec(dir, "CREATE TABLE t(x int)", NULL, 0) == 0);
	CHECK_RC(t_open(dir, &st), MG_ERR_FORMAT);
	CHECK(contains(mg_error_detail(), "not a magassay store"));
	CHECK(count_rows(dir, "t") == 0); /* left alone */
	rm_tree(dir);
	free(dir);
}

static void test_pg_readonly_lost(void)
{
	char *dir = fresh_dir("pg-readonly");
	mg_store *st = NULL;
	if (!readonly_refuses_writes(dir))
		return;
	CHECK(count_rows(dir, "batches") == 1);

	/* The server ends the connection: an I/O error that says so, nothing half written. */
	CHECK_RC(t_open(dir, &st), MG_OK);
	if (!st)
		return;
	CHECK(q_int(dir, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = "
	                 "current_database() AND application_name = 'magassay' AND pid <> pg_backend_pid()") == 1);
	CHECK_RC(mg_store_batch_ensure(st, "B3", NULL, NULL), MG_ERR_IO);
	CHECK_MSG(contains(mg_error_detail(), "lost the connection"), "%s", mg_error_detail());
	mg_measurement m;
	CHECK_RC(mg_store_measurement_get(st, 1, &m), MG_ERR_IO);
	mg_store_close(st);
	CHECK(count_rows(dir, "batches") == 1);
	rm_tree(dir);
	free(dir);
}

static void log_stderr(int level, const char *domain, const char *msg, void *ud)
{
	(void)ud;
	fprintf(stderr, "[%d] %s: %s\n", level, domain, msg);
}

int main(int argc, char **argv)
{
	double t0 = now_s();
	if (getenv("MAGASSAY_TEST_LOG")) { /* MAGASSAY_TEST_LOG=4 shows the library's debug log */
		mg_log_set_handler(log_stderr, NULL);
		mg_log_set_level(atoi(getenv("MAGASSAY_TEST_LOG")));
	}
	unsetenv("MAGASSAY_DB"); /* the backend is chosen here, not by the caller's environment */
	pg_mode = argc > 1 && strcmp(argv[1], "pg") == 0;
	if (pg_mode) {
		mg_test_pg_require();
		/* Everything that does not depend on SQLite, then PostgreSQL's own cases. */
		test_records();
		test_measurement_refusals();
		test_results_calibrations();
		test_results_order();
		test_find();
		test_concurrent();
		test_concurrent_writers();
		test_db_choice();
		test_pg_open_migrate();
		test_locked();
		test_pg_readonly_lost();
		test_check();
		free(g_url);
		mg_test_pg_drop_all();
		fprintf(stderr, "test_store (PostgreSQL): %.2f s\n", now_s() - t0);
		if (!mg_test_failures)
			rm_tree(mg_test_tmpdir());
		return mg_test_finish("test_store (PostgreSQL)");
	}
	test_ids();
	test_uuid_sha();
	test_resolve();
	test_open_migrate();
	test_records();
	test_measurement_refusals();
	test_results_calibrations();
	test_results_order();
	test_find();
	test_concurrent();
	test_concurrent_writers();
	test_db_choice();
	test_fsize_limit();
	test_readonly();
	test_locked();
	test_check();
	fprintf(stderr, "test_store: %.2f s\n", now_s() - t0);
	if (!mg_test_failures)
		rm_tree(mg_test_tmpdir());
	return mg_test_finish("test_store");
}
