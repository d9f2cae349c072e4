/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Calibration records (calib.h): energy, resolution and quantification
 * calibrations with their provenance, exported/imported as JSON files (an
 * export never replaces an existing file). Their versions in the store
 * (append-only: a new calibration of the same kind and name is the next
 * version, nothing is ever overwritten) are store/calib_records.c. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "magassay/calib.h"
#include "magassay/fileio.h"
#include "magassay/version.h"

#define DOM "calib"
#define FORMAT_TAG "magassay_calibration"

void mg_calib_record_clear(mg_calib_record *r)
{
	if (!r)
		return;
	free(r->provenance_json);
	free(r->payload_json);
	memset(r, 0, sizeof *r);
}

static json_t *load_json(const char *text, const char *what)
{
	if (!text)
		return json_null();
	json_error_t err;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &err);
	if (!v)
		mg_fail(MG_ERR_FORMAT, DOM, "%s is not JSON: %s", what, err.text);
	return v;
}

int mg_calib_record_export(const mg_calib_record *r, const char *path)
{
	if (!r || !path || !r->payload_json)
		return mg_fail(MG_ERR_ARG, DOM, "export: NULL argument or no payload");
	struct stat sb;
	if (stat(path, &sb) == 0)
		return mg_fail(MG_ERR_EXISTS, DOM, "%s exists: calibration files are never overwritten (choose a new name)",
		               path);
	json_t *payload = load_json(r->payload_json, "payload");
	if (!payload)
		return MG_ERR_FORMAT;
	json_t *prov = load_json(r->provenance_json, "provenance");
	if (!prov) {
		json_decref(payload);
		return MG_ERR_FORMAT;
	}
	json_t *o = json_object();
	json_object_set_new(o, FORMAT_TAG, json_integer(1));
	json_object_set_new(o, "kind", json_string(r->kind));
	json_object_set_new(o, "name", json_string(r->name));
	json_object_set_new(o, "version", json_integer(r->version));
	json_object_set_new(o, "id", r->id ? json_integer(r->id) : json_null());
	json_object_set_new(o, "created_at", json_string(r->created_at));
	json_object_set_new(o, "operator", json_string(r->operator_name));
	json_object_set_new(o, "software_version",
	                    json_string(r->software_version[0] ? r->software_version : MAGASSAY_VERSION_STRING));
	json_object_set_new(o, "provenance", prov);
	/* what `magassay analyze --calib FILE` reads: the energy/resolution object */
	if (strcmp(r->kind, "energy") == 0 || strcmp(r->kind, "resolution") == 0)
		json_object_set(o, "calibration", payload);
	else if (json_is_object(payload) && json_is_object(json_object_get(payload, "calibration")))
		json_object_set(o, "calibration", json_object_get(payload, "calibration"));
	json_object_set_new(o, "payload", payload);
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(12) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	size_t n = strlen(s);
	char *t = realloc(s, n + 2);
	if (!t) {
		free(s);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	t[n] = '\n';
	t[n + 1] = 0;
	int rc = mg_file_write_atomic(path, t, n + 1);
	free(t);
	return rc;
}

static int copy_str(json_t *o, const char *key, char *dst, size_t size, const char *name, int required)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		dst[0] = 0;
		return required ? mg_fail(MG_ERR_FORMAT, DOM, "%s: calibration record without \"%s\"", name, key) : 0;
	}
	if (!json_is_string(v) || strlen(json_string_value(v)) >= size)
		return mg_fail(MG_ERR_FORMAT, DOM, "%s: \"%s\" is not a string of at most %zu bytes", name, key, size - 1);
	snprintf(dst, size, "%s", json_string_value(v));
	return 0;
}

int mg_calib_record_parse(const char *text, size_t len, const char *name, mg_calib_record *out)
{
	if (!text || !out)
		return mg_fail(MG_ERR_ARG, DOM, "calibration record: NULL argument");
	if (!name)
		name = "(calibration)";
	memset(out, 0, sizeof *out);
	json_error_t err;
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (!o)
		return mg_fail(MG_ERR_FORMAT, DOM, "%s: line %d: %s", name, err.line, err.text);
	int rc = 0;
	if (!json_is_object(o) || !json_is_integer(json_object_get(o, FORMAT_TAG))) {
		rc = mg_fail(MG_ERR_FORMAT, DOM, "%s: not a magassay calibration record (no \"%s\")", name, FORMAT_TAG);
		goto out;
	}
	if ((rc = copy_str(o, "kind", out->kind, sizeof out->kind, name, 1)) < 0 ||
	    (rc = copy_str(o, "name", out->name, sizeof out->name, name, 1)) < 0 ||
	    (rc = copy_str(o, "created_at", out->created_at, sizeof out->created_at, name, 0)) < 0 ||
	    (rc = copy_str(o, "operator", out->operator_name, sizeof out->operator_name, name, 0)) < 0 ||
	    (rc = copy_str(o, "software_version", out->software_version, sizeof out->software_version, name, 0)) < 0)
		goto out;
	json_t *v = json_object_get(o, "version");
	out->version = json_is_integer(v) ? (int)json_integer_value(v) : 0;
	v = json_object_get(o, "id");
	out->id = json_is_integer(v) ? (long long)json_integer_value(v) : 0;
	json_t *p = json_object_get(o, "payload");
	if (!json_is_object(p)) {
		rc = mg_fail(MG_ERR_FORMAT, DOM, "%s: calibration record without a \"payload\" object", name);
		goto out;
	}
	out->payload_json = json_dumps(p, JSON_COMPACT | JSON_REAL_PRECISION(17) | JSON_PRESERVE_ORDER);
	json_t *pv = json_object_get(o, "provenance");
	if (pv && !json_is_null(pv))
		out->provenance_json = json_dumps(pv, JSON_COMPACT | JSON_REAL_PRECISION(17) | JSON_ENCODE_ANY |
		                                          JSON_PRESERVE_ORDER);
	if (!out->payload_json || (pv && !json_is_null(pv) && !out->provenance_json))
		rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
out:
	json_decref(o);
	if (rc < 0)
		mg_calib_record_clear(out);
	return rc;
}

int mg_calib_record_import(const char *path, mg_calib_record *out)
{
	if (!path || !out)
		return mg_fail(MG_ERR_ARG, DOM, "import: NULL argument");
	unsigned char *data;
	size_t len;
	int rc = mg_file_read_all(path, 64u << 20, &data, &len);
	if (rc < 0)
		return rc;
	rc = mg_calib_record_parse((const char *)data, len, path, out);
	free(data);
	return rc;
}
