/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Calibration records (calib.h) in the store: a record is added as the next
 * version of its (kind, name), never overwritten, and loaded by id, by
 * kind:name[@version] or by name alone (the latest of any kind). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "magassay/calib.h"
#include "magassay/store.h"

#define DOM "calib"

static int from_store(const mg_calibration *c, mg_calib_record *out)
{
	memset(out, 0, sizeof *out);
	snprintf(out->kind, sizeof out->kind, "%s", c->kind ? c->kind : "");
	snprintf(out->name, sizeof out->name, "%s", c->name ? c->name : "");
	out->version = c->version;
	out->id = c->id;
	snprintf(out->created_at, sizeof out->created_at, "%s", c->created_at ? c->created_at : "");
	snprintf(out->operator_name, sizeof out->operator_name, "%s", c->operator_name ? c->operator_name : "");
	snprintf(out->software_version, sizeof out->software_version, "%s",
	         c->software_version ? c->software_version : "");
	out->provenance_json = c->provenance_json ? strdup(c->provenance_json) : NULL;
	out->payload_json = c->payload_json ? strdup(c->payload_json) : NULL;
	if ((c->provenance_json && !out->provenance_json) || (c->payload_json && !out->payload_json)) {
		mg_calib_record_clear(out);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	return 0;
}

int mg_calib_record_store(mg_store *st, mg_calib_record *r)
{
	if (!st || !r || !r->payload_json)
		return mg_fail(MG_ERR_ARG, DOM, "calibration record: NULL argument or no payload");
	mg_new_calibration nc = {
		.kind = r->kind,
		.name = r->name,
		.operator_name = r->operator_name[0] ? r->operator_name : NULL,
		.software_version = r->software_version[0] ? r->software_version : NULL,
		.provenance_json = r->provenance_json,
		.payload_json = r->payload_json,
	};
	int version = 0;
	long long id = 0;
	int rc = mg_store_calibration_add(st, &nc, &version, &id);
	if (rc < 0)
		return rc;
	mg_calibration c = {0};
	if ((rc = mg_store_calibration_get(st, id, &c)) < 0)
		return rc;
	r->version = version;
	r->id = id;
	snprintf(r->created_at, sizeof r->created_at, "%s", c.created_at ? c.created_at : "");
	snprintf(r->software_version, sizeof r->software_version, "%s", c.software_version ? c.software_version : "");
	mg_calibration_clear(&c);
	return 0;
}

typedef struct latest {
	const char *name;
	mg_calibration best;
	int found;
	int rc;
} latest;

static int pick_latest(const mg_calibration *c, void *ud)
{
	latest *l = ud;
	if (strcmp(c->name, l->name) != 0)
		return 0;
	if (l->found && c->id <= l->best.id)
		return 0;
	mg_calibration_clear(&l->best);
	memset(&l->best, 0, sizeof l->best);
	l->best.id = c->id;
	l->best.version = c->version;
	l->best.kind = c->kind ? strdup(c->kind) : NULL;
	l->best.name = c->name ? strdup(c->name) : NULL;
	l->found = 1;
	return 0;
}

int mg_calib_record_load(mg_store *st, const char *ref, mg_calib_record *out)
{
	if (!st || !ref || !out || !ref[0])
		return mg_fail(MG_ERR_ARG, DOM, "calibration: NULL argument");
	mg_calibration c = {0};
	int rc;
	char *end;
	errno = 0;
	long long id = strtoll(ref, &end, 10);
	if (!*end && !errno && id > 0) {
		if ((rc = mg_store_calibration_get(st, id, &c)) < 0)
			return rc;
	} else if (strchr(ref, ':')) {
		char kind[33], name[80];
		int version = 0;
		const char *colon = strchr(ref, ':');
		size_t kn = (size_t)(colon - ref);
		if (kn == 0 || kn >= sizeof kind)
			return mg_fail(MG_ERR_ARG, DOM, "calibration '%s': KIND:NAME[@VERSION] expected", ref);
		memcpy(kind, ref, kn);
		kind[kn] = 0;
		snprintf(name, sizeof name, "%s", colon + 1);
		char *at = strchr(name, '@');
		if (at) {
			*at = 0;
			version = (int)strtol(at + 1, &end, 10);
			if (*end || version < 1)
				return mg_fail(MG_ERR_ARG, DOM, "calibration '%s': bad version", ref);
		}
		if ((rc = mg_store_calibration_find(st, kind, name, version, &c)) < 0)
			return rc;
	} else {
		latest l = {.name = ref};
		rc = mg_store_calibrations_list(st, NULL, NULL, pick_latest, &l);
		if (rc < 0) {
			mg_calibration_clear(&l.best);
			return rc;
		}
		if (!l.found)
			return mg_fail(MG_ERR_NOT_FOUND, DOM, "no calibration named '%s' in the store", ref);
		rc = mg_store_calibration_get(st, l.best.id, &c);
		mg_calibration_clear(&l.best);
		if (rc < 0)
			return rc;
	}
	rc = from_store(&c, out);
	mg_calibration_clear(&c);
	return rc;
}
