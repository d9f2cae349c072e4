/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The machine's configuration file (include/magassay/store.h,
 * docs/install.md): [store] data_dir and database, read with the suite's one
 * INI reader, strictly: a typo in a file that decides where every user's
 * results go is an error, never a silent default. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "magassay/fileio.h"
#include "inifile.h"
#include "internal.h"
#include "store_internal.h"

struct conf_parse {
	mg_store_conf *conf;
	long data_dir_line, database_line;
};

static int set_once(const mg_ini_item *it, char **field, long *line)
{
	if (*field)
		return mg_ini_fail(it, "%s is given twice (first on line %ld)", it->key, *line);
	if (it->value_len == 0)
		return mg_ini_fail(it, "%s has no value", it->key);
	for (size_t i = 0; i < it->value_len; i++)
		if ((unsigned char)it->value[i] < 0x20 || it->value[i] == 0x7f)
			return mg_ini_fail(it, "%s: control character in the value", it->key);
	if (!(*field = strndup(it->value, it->value_len)))
		return mg_fail(MG_ERR_NOMEM, STORE_DOM, "out of memory");
	*line = it->line;
	return MG_OK;
}

static int on_item(const mg_ini_item *it, void *userdata)
{
	struct conf_parse *p = userdata;
	char shown[48];
	if (!mg_ini_section_is(it, "store")) {
		mg_ini_show(it->section, it->section_len, shown, sizeof shown);
		return mg_ini_fail(it, "unknown section [%s] (the only one is [store])", shown);
	}
	if (!it->key)
		return MG_OK;
	if (mg_ini_key_is(it, "data_dir")) {
		if (it->value_len && it->value[0] != '/')
			return mg_ini_fail(it, "data_dir must be an absolute path");
		return set_once(it, &p->conf->data_dir, &p->data_dir_line);
	}
	if (mg_ini_key_is(it, "database")) {
		if (it->value_len && !(it->value_len == 6 && strncasecmp(it->value, "sqlite", 6) == 0) &&
		    strncmp(it->value, "postgresql://", 13) != 0 && strncmp(it->value, "postgres://", 11) != 0)
			return mg_ini_fail(it, "database must be a PostgreSQL URL (postgresql://user@host/dbname) or "
			                       "'sqlite'");
		return set_once(it, &p->conf->database, &p->database_line);
	}
	mg_ini_show(it->key, it->key_len, shown, sizeof shown);
	return mg_ini_fail(it, "unknown key '%s' (known: data_dir, database)", shown);
}

int mg_store_conf_parse(const char *text, size_t len, const char *name, mg_store_conf *out)
{
	if (!out || (!text && len))
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_conf_parse: bad arguments");
	memset(out, 0, sizeof *out);
	struct conf_parse p = {.conf = out};
	int rc = mg_ini_parse(text ? text : "", len, name ? name : "configuration", STORE_DOM, on_item, &p);
	if (rc != MG_OK)
		mg_store_conf_clear(out);
	return rc;
}

int mg_store_conf_read(const char *path, mg_store_conf *out)
{
	if (!path || !out)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_conf_read: bad arguments");
	memset(out, 0, sizeof *out);
	unsigned char *data = NULL;
	size_t len = 0;
	int rc = mg_file_read_all(path, 1 << 20, &data, &len);
	if (rc == MG_ERR_NOT_FOUND) {
		mg_error_clear();
		return MG_OK;
	}
	if (rc == MG_OK)
		rc = mg_store_conf_parse((const char *)data, len, path, out);
	free(data);
	return rc;
}

void mg_store_conf_clear(mg_store_conf *c)
{
	if (!c)
		return;
	free(c->data_dir);
	free(c->database);
	c->data_dir = c->database = NULL;
}
