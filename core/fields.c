/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "fields.h"
#include "internal.h"
#include "text.h"

enum kind { STR, DBL };

static const struct field {
	const char *key;
	enum kind kind;
	size_t offset;
} fields[] = {
	{"live_time_s", DBL, offsetof(mg_spectrum, live_time_s)},
	{"real_time_s", DBL, offsetof(mg_spectrum, real_time_s)},
	{"instrument.model", STR, offsetof(mg_spectrum, instrument.model)},
	{"instrument.serial", STR, offsetof(mg_spectrum, instrument.serial)},
	{"instrument.firmware", STR, offsetof(mg_spectrum, instrument.firmware)},
	{"instrument.detector", STR, offsetof(mg_spectrum, instrument.detector)},
	{"acq.anode", STR, offsetof(mg_spectrum, acq.anode)},
	{"acq.tube_kv", DBL, offsetof(mg_spectrum, acq.tube_kv)},
	{"acq.tube_ua", DBL, offsetof(mg_spectrum, acq.tube_ua)},
	{"acq.filter", STR, offsetof(mg_spectrum, acq.filter)},
	{"acq.peaking_time_us", DBL, offsetof(mg_spectrum, acq.peaking_time_us)},
	{"acq.preset_time_s", DBL, offsetof(mg_spectrum, acq.preset_time_s)},
	{"acq.preset_real_s", DBL, offsetof(mg_spectrum, acq.preset_real_s)},
	{"acq.preset_counts", DBL, offsetof(mg_spectrum, acq.preset_counts)},
	{"acq.takeoff_deg", DBL, offsetof(mg_spectrum, acq.takeoff_deg)},
	{"acq.incidence_deg", DBL, offsetof(mg_spectrum, acq.incidence_deg)},
	{"acq.atmosphere", STR, offsetof(mg_spectrum, acq.atmosphere)},
	{"sample.sample_id", STR, offsetof(mg_spectrum, sample.sample_id)},
	{"sample.batch_id", STR, offsetof(mg_spectrum, sample.batch_id)},
	{"sample.operator", STR, offsetof(mg_spectrum, sample.operator_name)},
	{"sample.description", STR, offsetof(mg_spectrum, sample.description)},
};

static int has_line_break(const char *v)
{
	return strchr(v, '\n') || strchr(v, '\r');
}

int mg_fields_write(const mg_spectrum *s, mg_buf *out, const char *prefix, const char *sep)
{
	const char *base = (const char *)s;
	if (s->start_time[0])
		mg_buf_printf(out, "%sstart_time%s%s\n", prefix, sep, s->start_time);
	if (s->cal.valid)
		mg_buf_printf(out, "%scalibration_kev%s%.17g %.17g %.17g\n", prefix, sep, s->cal.offset_kev,
		              s->cal.gain_kev, s->cal.quad_kev);
	for (size_t i = 0; i < MG_ARRAY_SIZE(fields); i++) {
		const struct field *f = &fields[i];
		if (f->kind == DBL) {
			double v = *(const double *)(base + f->offset);
			if (!isnan(v))
				mg_buf_printf(out, "%s%s%s%.17g\n", prefix, f->key, sep, v);
		} else {
			const char *v = *(char *const *)(base + f->offset);
			if (v && !has_line_break(v))
				mg_buf_printf(out, "%s%s%s%s\n", prefix, f->key, sep, v);
		}
	}
	for (size_t i = 0; i < s->meta.count; i++) {
		const mg_kv *kv = &s->meta.items[i];
		if (!has_line_break(kv->key) && !has_line_break(kv->value))
			mg_buf_printf(out, "%smeta.%s%s%s\n", prefix, kv->key, sep, kv->value);
	}
	return mg_buf_status(out);
}

int mg_fields_set(mg_spectrum *s, const char *key, const char *value)
{
	char *base = (char *)s;
	if (strcmp(key, "start_time") == 0) {
		if (strlen(value) >= sizeof(s->start_time))
			return mg_fail(MG_ERR_FORMAT, "fields", "start_time too long");
		snprintf(s->start_time, sizeof(s->start_time), "%s", value);
		return 1;
	}
	if (strcmp(key, "calibration_kev") == 0) {
		double c[3];
		if (sscanf(value, "%lf %lf %lf", &c[0], &c[1], &c[2]) != 3 || !isfinite(c[0]) ||
		    !isfinite(c[1]) || !isfinite(c[2]) || c[1] == 0)
			return mg_fail(MG_ERR_FORMAT, "fields", "calibration_kev wants 'offset gain quad', got '%s'",
			               value);
		s->cal = (mg_energy_cal){1, c[0], c[1], c[2]};
		return 1;
	}
	if (strncmp(key, "meta.", 5) == 0) {
		int rc = mg_kvlist_add(&s->meta, key + 5, value, NULL);
		return rc == MG_OK ? 1 : rc;
	}
	for (size_t i = 0; i < MG_ARRAY_SIZE(fields); i++) {
		const struct field *f = &fields[i];
		if (strcmp(key, f->key) != 0)
			continue;
		if (f->kind == DBL) {
			double v;
			if (mg_parse_double(value, strlen(value), &v) != MG_OK)
				return mg_fail(MG_ERR_FORMAT, "fields", "%s wants a number, got '%s'", key, value);
			*(double *)(base + f->offset) = v;
		} else {
			int rc = mg_str_set((char **)(base + f->offset), value);
			if (rc != MG_OK)
				return rc;
		}
		return 1;
	}
	return 0;
}
