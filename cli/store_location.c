/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Where the store is when the user does not say (docs/install.md#the-store):
 *
 *   data directory: --data-dir, else $MAGASSAY_DATA, else data_dir in the
 *     machine's configuration (/etc/magassay/magassay.conf), else the shared
 *     store (/var/lib/magassay) when it exists and the user is in its group
 *     and may write it, else the user's own ($XDG_DATA_HOME/magassay, else
 *     ~/.local/share/magassay: the library's default);
 *   database: --db, else $MAGASSAY_DB, else database in the configuration,
 *     else the data directory's own magassay.conf, else SQLite there.
 *
 * A data directory that is set-group-ID and group-writable is shared: the
 * files and folders magassay creates in it are made group-writable too (the
 * group bits are cleared from the umask), so the next technician can write
 * where the first one did. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "magassay/error.h"
#include "magassay/store.h"

#ifndef MAGASSAY_CONF_FILE
#define MAGASSAY_CONF_FILE "/etc/magassay/magassay.conf"
#endif
#ifndef MAGASSAY_SHARED_STORE
#define MAGASSAY_SHARED_STORE "/var/lib/magassay"
#endif

static int member_of(gid_t gid)
{
	if (getegid() == gid)
		return 1;
	int n = getgroups(0, NULL);
	if (n <= 0)
		return 0;
	gid_t *g = malloc((size_t)n * sizeof *g);
	int found = 0;
	if (g && (n = getgroups(n, g)) > 0)
		for (int i = 0; i < n && !found; i++)
			found = g[i] == gid;
	free(g);
	return found;
}

int cli_shared_store_usable(const char *dir)
{
	struct stat sb;
	return dir && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && member_of(sb.st_gid) &&
	       access(dir, W_OK | X_OK) == 0;
}

void cli_shared_umask(const char *dir)
{
	struct stat sb;
	if (!dir || stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return;
	if ((sb.st_mode & S_ISGID) && (sb.st_mode & S_IWGRP)) {
		mode_t old = umask(0);
		umask(old & (mode_t)~S_IRWXG);
	}
}

void cli_store_choose(const char *given_dir, const char *given_db, const mg_store_conf *conf, const char *shared,
                      const char **dir, const char **db)
{
	const char *env;
	if (given_dir && *given_dir)
		*dir = given_dir;
	else if ((env = getenv("MAGASSAY_DATA")) && *env)
		*dir = env;
	else if (conf && conf->data_dir)
		*dir = conf->data_dir;
	else if (cli_shared_store_usable(shared))
		*dir = shared;
	else
		*dir = NULL; /* the library's per-user default */
	if (db) {
		if (given_db && *given_db)
			*db = given_db;
		else if ((env = getenv("MAGASSAY_DB")) && *env)
			*db = NULL; /* the library reads it */
		else
			*db = conf ? conf->database : NULL;
	}
}

int cli_store_location(const char *given_dir, const char *given_db, const char **dir, const char **db)
{
	/* Read once per command and kept until the process ends (the chosen
	 * strings may point into it); a file that fails is read again by the next
	 * caller, so each one gets the parser's message. */
	static mg_store_conf conf;
	static int loaded;
	if (!loaded) {
		const char *path = getenv("MAGASSAY_CONF");
		int rc = mg_store_conf_read(path && *path ? path : MAGASSAY_CONF_FILE, &conf);
		if (rc != MG_OK)
			return rc;
		loaded = 1;
	}
	cli_store_choose(given_dir, given_db, &conf, MAGASSAY_SHARED_STORE, dir, db);
	if (*dir)
		cli_shared_umask(*dir);
	return MG_OK;
}
