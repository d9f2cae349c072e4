/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "magassay/store.h"
#include "magassay/error.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;
	fputs("magassay: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "magassay %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'magassay %s --help'.\n", cmd);
	return CLI_USAGE;
}

const char *cli_lib_error(void)
{
	return mg_error_detail();
}

int cli_json_print(json_t *value)
{
	size_t flags = JSON_ENSURE_ASCII | JSON_REAL_PRECISION(10);
	if (isatty(STDOUT_FILENO))
		flags |= JSON_INDENT(2);
	else
		flags |= JSON_COMPACT;
	int rc = json_dumpf(value, stdout, flags);
	fputc('\n', stdout);
	fflush(stdout);
	return rc == 0 ? CLI_OK : CLI_FAIL;
}

json_t *cli_json_real(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *cli_json_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *cli_spectrum_json(const mg_spectrum *s)
{
	json_t *o = json_object();
	json_object_set_new(o, "channels", json_integer((json_int_t)s->nchan));
	json_object_set_new(o, "total_counts", json_real(mg_spectrum_total(s)));
	json_object_set_new(o, "live_time_s", cli_json_real(s->live_time_s));
	json_object_set_new(o, "real_time_s", cli_json_real(s->real_time_s));
	if (s->cal.valid)
		json_object_set_new(o, "calibration",
		                    json_pack("{s:f,s:f,s:f}", "offset_kev", s->cal.offset_kev, "gain_kev",
		                              s->cal.gain_kev, "quad_kev", s->cal.quad_kev));
	else
		json_object_set_new(o, "calibration", json_null());
	json_object_set_new(o, "start_time", s->start_time[0] ? json_string(s->start_time) : json_null());
	json_object_set_new(o, "sample_id", cli_json_str(s->sample.sample_id));
	json_object_set_new(o, "batch_id", cli_json_str(s->sample.batch_id));
	json_object_set_new(o, "operator", cli_json_str(s->sample.operator_name));
	json_object_set_new(o, "description", cli_json_str(s->sample.description));
	json_object_set_new(o, "instrument",
	                    json_pack("{s:o,s:o,s:o,s:o}", "model", cli_json_str(s->instrument.model), "serial",
	                              cli_json_str(s->instrument.serial), "firmware",
	                              cli_json_str(s->instrument.firmware), "detector",
	                              cli_json_str(s->instrument.detector)));
	json_object_set_new(o, "acquisition",
	                    json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}", "anode", cli_json_str(s->acq.anode), "tube_kv",
	                              cli_json_real(s->acq.tube_kv), "tube_ua", cli_json_real(s->acq.tube_ua),
	                              "filter", cli_json_str(s->acq.filter), "peaking_time_us",
	                              cli_json_real(s->acq.peaking_time_us), "preset_time_s",
	                              cli_json_real(s->acq.preset_time_s)));
	json_t *meta = json_object();
	for (size_t i = 0; i < s->meta.count; i++)
		if (!json_object_get(meta, s->meta.items[i].key))
			json_object_set_new(meta, s->meta.items[i].key, json_string(s->meta.items[i].value));
	json_object_set_new(o, "meta", meta);
	return o;
}

static void field(FILE *f, const char *name, const char *value)
{
	fprintf(f, "  %-14s %s\n", name, value && *value ? value : "-");
}

static void number(FILE *f, const char *name, double v, const char *unit)
{
	if (isnan(v))
		fprintf(f, "  %-14s -\n", name);
	else
		fprintf(f, "  %-14s %g%s\n", name, v, unit);
}

void cli_spectrum_print(FILE *f, const mg_spectrum *s)
{
	fprintf(f, "  %-14s %zu\n", "channels", s->nchan);
	fprintf(f, "  %-14s %.0f\n", "total counts", mg_spectrum_total(s));
	number(f, "live time", s->live_time_s, " s");
	number(f, "real time", s->real_time_s, " s");
	if (s->cal.valid) {
		fprintf(f, "  %-14s E = %.6g + %.6g*ch", "calibration", s->cal.offset_kev, s->cal.gain_kev);
		if (s->cal.quad_kev != 0)
			fprintf(f, " + %.6g*ch^2", s->cal.quad_kev);
		fprintf(f, " keV (%.3f to %.3f keV)\n", mg_spectrum_energy(s, 0),
		        mg_spectrum_energy(s, (double)s->nchan - 1));
	} else {
		field(f, "calibration", "none (channels only)");
	}
	field(f, "start time", s->start_time);
	field(f, "sample", s->sample.sample_id);
	field(f, "batch", s->sample.batch_id);
	field(f, "operator", s->sample.operator_name);
	field(f, "description", s->sample.description);
	field(f, "instrument", s->instrument.model);
	field(f, "serial", s->instrument.serial);
	field(f, "firmware", s->instrument.firmware);
	field(f, "detector", s->instrument.detector);
	if (s->acq.anode || !isnan(s->acq.tube_kv)) {
		char tube[128];
		snprintf(tube, sizeof(tube), "%s %g kV %g uA", s->acq.anode ? s->acq.anode : "?", s->acq.tube_kv,
		         s->acq.tube_ua);
		field(f, "tube", tube);
	}
	if (s->meta.count)
		fprintf(f, "  %-14s %zu more fields (see --json)\n", "other", s->meta.count);
}

static const char *db_url; /* --db, for the life of the command */

void cli_db_set(const char *url)
{
	db_url = url;
}

int cli_store_open_db(const char *data_dir, unsigned flags, mg_store **st)
{
	const char *dir, *db;
	int rc = cli_store_location(data_dir, db_url, &dir, &db);
	return rc != MG_OK ? rc : mg_store_open_db(dir, db, flags, st);
}
