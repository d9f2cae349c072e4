/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Result and calibration payloads read tolerantly: the first of several
 * possible keys that holds a number or a string, flags given as a string, a
 * list or an object, numeric arrays (the first replicate of an array of
 * arrays); and the owned arrays and labels the plot data keep. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "report_internal.h"

const char *const rp_keys_element[] = {"element", "el", "symbol", "analyte", NULL};

double rp_jnum(const json_t *o, const char *const *keys)
{
	if (!json_is_object(o))
		return NAN;
	for (size_t i = 0; keys[i]; i++) {
		json_t *v = json_object_get(o, keys[i]);
		if (json_is_number(v))
			return json_number_value(v);
		if (json_is_string(v)) { /* "23.1" from a vendor export */
			char *end;
			double d = strtod(json_string_value(v), &end);
			if (end != json_string_value(v) && *end == '\0' && isfinite(d))
				return d;
		}
	}
	return NAN;
}

const char *rp_jstr(const json_t *o, const char *const *keys)
{
	if (!json_is_object(o))
		return NULL;
	for (size_t i = 0; keys[i]; i++) {
		json_t *v = json_object_get(o, keys[i]);
		if (json_is_string(v) && json_string_length(v) > 0)
			return json_string_value(v);
	}
	return NULL;
}

static int buf_add(char **b, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);
	if (*len + n + 3 > *cap) {
		size_t nc = (*len + n + 3) * 2;
		char *p = realloc(*b, nc);
		if (!p)
			return -1;
		*b = p;
		*cap = nc;
	}
	if (*len) {
		memcpy(*b + *len, ", ", 2);
		*len += 2;
	}
	memcpy(*b + *len, s, n + 1);
	*len += n;
	return 0;
}

char *rp_jflags(const json_t *v)
{
	char *b = NULL;
	size_t len = 0, cap = 0;
	if (json_is_string(v) && json_string_length(v) > 0)
		return strdup(json_string_value(v));
	if (json_is_array(v)) {
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
		{
			const char *s = json_is_string(x) ? json_string_value(x) : NULL;
			if (!s && json_is_object(x))
				s = rp_jstr(x, (const char *const[]){"flag", "name", "text", "message", NULL});
			if (s && *s && buf_add(&b, &len, &cap, s) != 0)
				break;
		}
	}
	if (json_is_object(v)) { /* {"below_lod": true, ...} */
		const char *k;
		json_t *x;
		json_object_foreach((json_t *)v, k, x)
		{
			if (json_is_true(x) && buf_add(&b, &len, &cap, k) != 0)
				break;
		}
	}
	return b;
}


/* A numeric array (first replicate when it is an array of arrays), or NULL. */
double *rp_jarray(const json_t *o, const char *const *keys, size_t *n)
{
	for (size_t k = 0; keys[k]; k++) {
		json_t *a = json_object_get(o, keys[k]);
		if (json_is_array(a) && json_array_size(a) > 0 && json_is_array(json_array_get(a, 0)))
			a = json_array_get(a, 0);
		if (!json_is_array(a) || json_array_size(a) == 0)
			continue;
		size_t m = json_array_size(a);
		double *v = malloc(m * sizeof(double));
		if (!v)
			return NULL;
		for (size_t i = 0; i < m; i++) {
			json_t *x = json_array_get(a, i);
			v[i] = json_is_number(x) ? json_number_value(x) : NAN;
		}
		*n = m;
		return v;
	}
	return NULL;
}

int rp_keep_array(double ***arr, size_t *n, double *v)
{
	double **p = realloc(*arr, (*n + 1) * sizeof(*p));
	if (!p) {
		free(v);
		return MG_ERR_NOMEM;
	}
	*arr = p;
	p[(*n)++] = v;
	return MG_OK;
}

const char *rp_keep_label(char ***arr, size_t *n, const char *s)
{
	char **p = realloc(*arr, (*n + 1) * sizeof(*p));
	if (!p)
		return NULL;
	*arr = p;
	p[*n] = strdup(s ? s : "");
	return p[*n] ? p[(*n)++] : NULL;
}

