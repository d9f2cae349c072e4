/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Where the store is when the user does not say (cli/store_location.c,
 * docs/install.md#the-store): the machine's configuration file (strict), the
 * order of --data-dir, $MAGASSAY_DATA, the configuration, the shared store
 * and the per-user default, the database's order, who may use a shared
 * store, and the umask in a shared data directory. */
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "cli/cli.h"
#include "magassay/error.h"
#include "magassay/store.h"

static int parse(const char *text, mg_store_conf *c)
{
	return mg_store_conf_parse(text, strlen(text), "magassay.conf", c);
}

/* The text must be refused with a message naming its line and containing `what`. */
static void refused(const char *text, long line, const char *what)
{
	mg_store_conf c;
	char where[64];
	snprintf(where, sizeof where, "magassay.conf line %ld", line);
	CHECK_MSG(parse(text, &c) == MG_ERR_FORMAT, "accepted: %s", text);
	CHECK_MSG(strstr(mg_error_detail(), where) && strstr(mg_error_detail(), what), "%s -> %s", text,
	          mg_error_detail());
	CHECK(!c.data_dir && !c.database);
}

static void test_conf(void)
{
	mg_store_conf c;
	CHECK_RC(parse("# comment\n[store]\n; another\ndata_dir = /srv/lab/magassay\n"
	               "database = postgresql://magassay@db/magassay\n",
	               &c),
	         MG_OK);
	CHECK(c.data_dir && strcmp(c.data_dir, "/srv/lab/magassay") == 0);
	CHECK(c.database && strcmp(c.database, "postgresql://magassay@db/magassay") == 0);
	mg_store_conf_clear(&c);
	CHECK(!c.data_dir && !c.database);

	/* the shipped file: every key commented out, so nothing is set */
	CHECK_RC(parse("[store]\n#data_dir = /srv/lab\n#database = sqlite\n", &c), MG_OK);
	CHECK(!c.data_dir && !c.database);
	CHECK_RC(parse("", &c), MG_OK);
	CHECK_RC(parse("[store]\ndatabase = SQLite\n", &c), MG_OK);
	CHECK(c.database && strcmp(c.database, "SQLite") == 0);
	mg_store_conf_clear(&c);

	refused("[store]\ndatadir = /srv\n", 2, "unknown key 'datadir' (known: data_dir, database)");
	refused("[stores]\n", 1, "unknown section [stores]");
	refused("[store]\ndata_dir = srv/lab\n", 2, "absolute path");
	refused("[store]\ndata_dir =\n", 2, "no value");
	refused("[store]\ndatabase = mysql://x\n", 2, "PostgreSQL URL");
	refused("[store]\ndata_dir = /a\n\ndata_dir = /b\n", 4, "given twice (first on line 2)");
	refused("data_dir = /a\n", 1, "");

	/* a file that is not there is an empty configuration; a folder is an error */
	const char *t = mg_test_tmpdir();
	CHECK_RC(mg_store_conf_read(mg_test_path(t, "absent.conf"), &c), MG_OK);
	CHECK(!c.data_dir && !c.database);
	CHECK(mg_store_conf_read(t, &c) < 0);
}

static void test_order(const char *shared)
{
	mg_store_conf conf = {.data_dir = "/conf/dir", .database = "postgresql://conf"};
	mg_store_conf none = {0};
	const char *dir, *db;
	unsetenv("MAGASSAY_DATA");
	unsetenv("MAGASSAY_DB");

	cli_store_choose("/given", "postgresql://given", &conf, shared, &dir, &db);
	CHECK(strcmp(dir, "/given") == 0 && strcmp(db, "postgresql://given") == 0);
	setenv("MAGASSAY_DATA", "/env", 1);
	setenv("MAGASSAY_DB", "postgresql://env", 1);
	cli_store_choose("/given", NULL, &conf, shared, &dir, &db);
	CHECK(strcmp(dir, "/given") == 0);
	CHECK(db == NULL); /* the library reads $MAGASSAY_DB */
	cli_store_choose(NULL, NULL, &conf, shared, &dir, &db);
	CHECK(strcmp(dir, "/env") == 0 && db == NULL);
	setenv("MAGASSAY_DATA", "", 1); /* empty is unset */
	unsetenv("MAGASSAY_DB");
	cli_store_choose(NULL, NULL, &conf, shared, &dir, &db);
	CHECK(strcmp(dir, "/conf/dir") == 0 && strcmp(db, "postgresql://conf") == 0);
	/* no configuration: the shared store, which this process may use */
	cli_store_choose(NULL, NULL, &none, shared, &dir, &db);
	CHECK(dir && strcmp(dir, shared) == 0 && db == NULL);
	/* no shared store: NULL, the library's per-user default */
	cli_store_choose(NULL, NULL, &none, mg_test_path(shared, "absent"), &dir, &db);
	CHECK(dir == NULL && db == NULL);
	cli_store_choose(NULL, NULL, NULL, NULL, &dir, NULL);
	CHECK(dir == NULL);
}

/* A group this process is not in, or (gid_t)-1. */
static gid_t foreign_group(void)
{
	for (gid_t g = 60000; g > 100; g--) {
		if (g == getegid())
			continue;
		gid_t list[256];
		int n = getgroups(256, list), in = 0;
		for (int i = 0; i < n; i++)
			in |= list[i] == g;
		if (!in)
			return g;
	}
	return (gid_t)-1;
}

static void test_shared(const char *shared)
{
	/* ours: our group, writable */
	CHECK(chmod(shared, 02770) == 0);
	CHECK(cli_shared_store_usable(shared));
	CHECK(!cli_shared_store_usable(NULL));
	CHECK(!cli_shared_store_usable(mg_test_path(shared, "absent")));

	/* the umask: group bits cleared in a shared (set-group-ID, group-writable) folder only */
	umask(022);
	cli_shared_umask(shared);
	mode_t m = umask(022);
	CHECK_MSG(m == 002, "umask %03o (022 before) in a shared folder", (unsigned)m);
	umask(077);
	cli_shared_umask(shared);
	m = umask(022);
	CHECK_MSG(m == 007, "umask %03o (077 before) in a shared folder", (unsigned)m);
	CHECK(chmod(shared, 0770) == 0); /* not set-group-ID: not shared */
	cli_shared_umask(shared);
	m = umask(022);
	CHECK_MSG(m == 022, "umask %03o in an ordinary folder", (unsigned)m);
	CHECK(chmod(shared, 02750) == 0); /* not group-writable: not shared */
	cli_shared_umask(shared);
	m = umask(022);
	CHECK_MSG(m == 022, "umask %03o in a read-only group folder", (unsigned)m);

	/* another group's store: not ours to use, even for root, who may write anywhere */
	gid_t g = foreign_group();
	if (geteuid() == 0 && g != (gid_t)-1) {
		CHECK(chown(shared, (uid_t)-1, g) == 0);
		CHECK(chmod(shared, 02770) == 0);
		CHECK_MSG(!cli_shared_store_usable(shared), "group %u is not ours", (unsigned)g);
		CHECK(chown(shared, (uid_t)-1, getegid()) == 0);
	} else {
		fprintf(stderr, "note: not root: the foreign-group case is checked by the package test\n");
	}
	/* ours but not writable */
	if (geteuid() != 0) {
		CHECK(chmod(shared, 02550) == 0);
		CHECK(!cli_shared_store_usable(shared));
	}
	CHECK(chmod(shared, 0700) == 0);
}

int main(void)
{
	test_conf();
	char *shared = strdup(mg_test_path(mg_test_tmpdir(), "shared"));
	CHECK(mkdir(shared, 02770) == 0 && chmod(shared, 02770) == 0);
	test_order(shared);
	test_shared(shared);
	free(shared);
	return mg_test_finish("test_store_location");
}
