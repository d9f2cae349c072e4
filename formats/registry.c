/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats.h"
#include "internal.h"
#include "magassay/fileio.h"

/* Probe order matters only on ties: specific magic first, generic last. */
static const mg_format *const formats[] = {
	&mg_format_mca, &mg_format_msa, &mg_format_spx, &mg_format_spe,
	&mg_format_chn, &mg_format_csv, &mg_format_columns,
};

const mg_format *const *mg_formats(size_t *count)
{
	if (count)
		*count = MG_ARRAY_SIZE(formats);
	return formats;
}

const mg_format *mg_format_get(mg_format_id id)
{
	for (size_t i = 0; i < MG_ARRAY_SIZE(formats); i++)
		if (formats[i]->id == id)
			return formats[i];
	return NULL;
}

const mg_format *mg_format_by_name(const char *name)
{
	static const struct {
		const char *alias;
		mg_format_id id;
	} aliases[] = {{"emsa", MG_FORMAT_MSA}, {"amptek", MG_FORMAT_MCA}, {"ortec-spe", MG_FORMAT_SPE},
	               {"ortec-chn", MG_FORMAT_CHN}, {"bruker", MG_FORMAT_SPX}};
	if (!name)
		return NULL;
	for (size_t i = 0; i < MG_ARRAY_SIZE(formats); i++)
		if (strcasecmp(formats[i]->name, name) == 0)
			return formats[i];
	for (size_t i = 0; i < MG_ARRAY_SIZE(aliases); i++)
		if (strcasecmp(aliases[i].alias, name) == 0)
			return mg_format_get(aliases[i].id);
	return NULL;
}

const mg_format *mg_format_detect(const unsigned char *data, size_t len)
{
	const mg_format *best = NULL;
	int best_score = 0;
	for (size_t i = 0; i < MG_ARRAY_SIZE(formats); i++) {
		int score = formats[i]->probe(data, len);
		if (score > best_score) {
			best = formats[i];
			best_score = score;
		}
	}
	return best;
}

int mg_check_count(double v)
{
	return isfinite(v) && v >= 0;
}

int mg_spectrum_read_mem(const unsigned char *data, size_t len, const char *name,
                         const mg_format **fmt_out, mg_spectrum **out)
{
	const char *what = name ? name : "(memory)";
	if (len == 0)
		return mg_fail(MG_ERR_FORMAT, "format", "%s: empty file", what);
	if (len > MG_FORMAT_MAX_FILE_BYTES)
		return mg_fail(MG_ERR_FORMAT, "format", "%s: larger than %u bytes", what,
		               MG_FORMAT_MAX_FILE_BYTES);
	const mg_format *fmt = mg_format_detect(data, len);
	if (!fmt)
		return mg_fail(MG_ERR_FORMAT, "format",
		               "%s: not a spectrum format magassay reads (mca, msa, csv, spx, spe, chn, columns)",
		               what);
	mg_spectrum *s = NULL;
	int rc = fmt->read(data, len, &s);
	if (rc == MG_OK && (rc = mg_spectrum_validate(s)) != MG_OK) {
		mg_spectrum_free(s);
		s = NULL;
	}
	if (rc != MG_OK) {
		return mg_fail(rc, "format", "%s: %s file: %s", what, fmt->name, mg_error_detail());
	}
	if (fmt_out)
		*fmt_out = fmt;
	*out = s;
	return MG_OK;
}

int mg_spectrum_read_file(const char *path, const mg_format **fmt_out, mg_spectrum **out)
{
	unsigned char *data;
	size_t len;
	int rc = mg_file_read_all(path, MG_FORMAT_MAX_FILE_BYTES, &data, &len);
	if (rc != MG_OK)
		return rc;
	rc = mg_spectrum_read_mem(data, len, path, fmt_out, out);
	free(data);
	return rc;
}

int mg_spectrum_write_file(const mg_spectrum *s, const char *path, const mg_format *fmt)
{
	if (!fmt || !fmt->write)
		return mg_fail(MG_ERR_UNSUPPORTED, "format", "%s: cannot write %s files", path,
		               fmt ? fmt->name : "(unknown format)");
	int rc = mg_spectrum_validate(s);
	if (rc != MG_OK)
		return rc;
	mg_buf b;
	mg_buf_init(&b);
	rc = fmt->write(s, &b);
	if (rc == MG_OK)
		rc = mg_buf_status(&b);
	if (rc == MG_OK)
		rc = mg_file_write_atomic(path, b.data ? b.data : "", b.len);
	mg_buf_free(&b);
	return rc;
}
