/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target: the machine's configuration file (/etc/magassay/magassay.conf,
 * mg_store_conf_parse). Oracle: what is accepted holds only what the format
 * allows (an absolute data_dir, a PostgreSQL URL or "sqlite"), and parsing is
 * the same twice. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "magassay/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mg_store_conf c, again;
	int rc = mg_store_conf_parse((const char *)data, size, "fuzz", &c);
	if (rc != 0) {
		if (c.data_dir || c.database)
			abort(); /* a refused file leaves nothing behind */
		return 0;
	}
	if (c.data_dir && c.data_dir[0] != '/')
		abort();
	if (c.database && strcasecmp(c.database, "sqlite") != 0 && strncmp(c.database, "postgresql://", 13) != 0 &&
	    strncmp(c.database, "postgres://", 11) != 0)
		abort();
	if (mg_store_conf_parse((const char *)data, size, "fuzz", &again) != 0)
		abort();
	if ((c.data_dir == NULL) != (again.data_dir == NULL) || (c.data_dir && strcmp(c.data_dir, again.data_dir)) ||
	    (c.database == NULL) != (again.database == NULL) || (c.database && strcmp(c.database, again.database)))
		abort();
	mg_store_conf_clear(&c);
	mg_store_conf_clear(&again);
	return 0;
}
