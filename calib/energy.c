/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Energy and resolution calibrations as JSON (calib.h): the "calibration"
 * object of `magassay analyze --json`, read back by `--calib FILE`, and the
 * payload of "energy" and "resolution" calibration records. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "magassay/calib.h"
#include "magassay/fileio.h"

#define DOM "calib"

static int get_num(json_t *o, const char *key, double *v, int required, const char *path)
{
	json_t *x = json_object_get(o, key);
	if (!x || json_is_null(x)) {
		if (required)
			return mg_fail(MG_ERR_FORMAT, DOM, "%s: calibration has no \"%s\"", path, key);
		return 0;
	}
	if (!json_is_number(x) || !isfinite(json_number_value(x)))
		return mg_fail(MG_ERR_FORMAT, DOM, "%s: \"%s\" is not a number", path, key);
	*v = json_number_value(x);
	return 1;
}

int mg_analysis_calib_read_file(const char *path, mg_energy_cal *cal, mg_detector_model *det)
{
	if (!path || !cal || !det)
		return mg_fail(MG_ERR_ARG, DOM, "calibration record: NULL argument");
	unsigned char *data = NULL;
	size_t len = 0;
	int rc = mg_file_read_all(path, 16u << 20, &data, &len);
	if (rc < 0)
		return rc;
	rc = mg_analysis_calib_parse((const char *)data, len, path, cal, det);
	free(data);
	return rc;
}

int mg_analysis_calib_parse(const char *text, size_t len, const char *path, mg_energy_cal *cal,
                            mg_detector_model *det)
{
	if (!text || !cal || !det)
		return mg_fail(MG_ERR_ARG, DOM, "calibration record: NULL argument");
	if (!path)
		path = "calibration";
	int rc;
	json_error_t err;
	json_t *root = json_loadb(text, len, 0, &err);
	if (!root)
		return mg_fail(MG_ERR_FORMAT, DOM, "%s: line %d: %s", path, err.line, err.text);
	json_t *o = root;
	if (json_is_array(o))
		o = json_array_get(o, 0);
	if (o && json_is_object(json_object_get(o, "calibration")))
		o = json_object_get(o, "calibration");
	if (!o || !json_is_object(o)) {
		json_decref(root);
		return mg_fail(MG_ERR_FORMAT, DOM, "%s: no calibration object", path);
	}
	mg_energy_cal c = {.valid = 1};
	mg_detector_model d = *det;
	if ((rc = get_num(o, "offset_kev", &c.offset_kev, 1, path)) < 0 ||
	    (rc = get_num(o, "gain_kev", &c.gain_kev, 1, path)) < 0 ||
	    (rc = get_num(o, "quad_kev", &c.quad_kev, 0, path)) < 0 ||
	    (rc = get_num(o, "noise_kev", &d.noise_kev, 0, path)) < 0 ||
	    (rc = get_num(o, "fano", &d.fano, 0, path)) < 0 ||
	    (rc = get_num(o, "tail_fraction", &d.tail_fraction, 0, path)) < 0 ||
	    (rc = get_num(o, "tail_slope_kev", &d.tail_slope_kev, 0, path)) < 0 ||
	    (rc = get_num(o, "step_height", &d.step_height, 0, path)) < 0) {
		json_decref(root);
		return rc;
	}
	json_decref(root);
	if (!(c.gain_kev > 0))
		return mg_fail(MG_ERR_FORMAT, DOM, "%s: gain_kev must be > 0", path);
	*cal = c;
	*det = d;
	return 0;
}

int mg_analysis_calib_write_file(const char *path, const mg_energy_cal *cal,
                                 const mg_detector_model *det)
{
	if (!path || !cal || !det)
		return mg_fail(MG_ERR_ARG, DOM, "calibration record: NULL argument");
	json_t *o = json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "offset_kev", cal->offset_kev,
	                      "gain_kev", cal->gain_kev, "quad_kev", cal->quad_kev, "noise_kev",
	                      det->noise_kev, "fano", det->fano, "tail_fraction", det->tail_fraction,
	                      "tail_slope_kev", det->tail_slope_kev, "step_height", det->step_height);
	if (!o)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	json_decref(o);
	if (!s)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	size_t len = strlen(s);
	char *t = realloc(s, len + 2);
	if (!t) {
		free(s);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	t[len] = '\n';
	t[len + 1] = 0;
	int rc = mg_file_write_atomic(path, t, len + 1);
	free(t);
	return rc;
}

char *mg_calib_energy_payload(const mg_energy_cal *cal, const mg_detector_model *det)
{
	if (!cal || !det)
		return NULL;
	json_t *o = json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "offset_kev", cal->offset_kev, "gain_kev",
	                      cal->gain_kev, "quad_kev", cal->quad_kev, "noise_kev", det->noise_kev, "fano", det->fano,
	                      "tail_fraction", det->tail_fraction, "tail_slope_kev", det->tail_slope_kev,
	                      "step_height", det->step_height);
	if (!o)
		return NULL;
	char *s = json_dumps(o, JSON_REAL_PRECISION(12) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}
