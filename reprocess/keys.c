/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What makes a result this run's: the settings text (version, elements,
 * refinement, the instrument and grade files' SHA-256) and each result's
 * idempotence key, the SHA-256 of the settings, the calibration and the
 * spectrum. A result whose key matches is up to date. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "magassay/version.h"
#include "reprocess_internal.h"

#define DEFAULT_ELEMENTS "Fe,Co,Nd,Pr,Dy,Tb"

/* The key of one measurement's result under this run. */
void rp_make_key(const run *r, long long cal_id, const char *spectrum_sha, char key[MG_SHA256_HEX_SIZE])
{
	char text[1200];
	int n = snprintf(text, sizeof text, "%s;calibration=%lld;spectrum=%s", r->settings, cal_id, spectrum_sha);
	mg_sha256_mem(text, n > 0 ? (size_t)n : 0, key);
}


static int file_sha_or(const char *path, const char *absent, char *out, size_t size)
{
	char sha[MG_SHA256_HEX_SIZE];
	struct stat sb;
	if (!path || stat(path, &sb) != 0) {
		snprintf(out, size, "%s", absent);
		return 0;
	}
	int rc = mg_sha256_file(path, sha, NULL);
	if (rc < 0)
		return rc;
	snprintf(out, size, "sha256:%s", sha);
	return 0;
}

/* Read the run's settings: instrument, grades, elements; the settings text. */
int rp_settings(run *r, mg_store *st)
{
	const mg_reprocess_config *cfg = r->cfg;
	char ins_path[4096], grades_path[4096], ins_id[80], grades_id[80];
	int rc;
	if (cfg->instrument_path)
		snprintf(ins_path, sizeof ins_path, "%s", cfg->instrument_path);
	else
		snprintf(ins_path, sizeof ins_path, "%s/instrument.ini", mg_store_data_dir(st));
	struct stat sb;
	if (cfg->instrument_path || stat(ins_path, &sb) == 0) {
		if ((rc = mg_instrument_desc_read_file(ins_path, &r->ins_file)) < 0)
			return rc;
		r->have_ins_file = 1;
	}
	if ((rc = file_sha_or(r->have_ins_file ? ins_path : NULL, "calibration-or-default", ins_id, sizeof ins_id)) < 0)
		return rc;
	if (cfg->grades_path)
		snprintf(grades_path, sizeof grades_path, "%s", cfg->grades_path);
	else
		snprintf(grades_path, sizeof grades_path, "%s/grades.ini", mg_store_data_dir(st));
	int have_grades = cfg->grades_path || stat(grades_path, &sb) == 0;
	if (have_grades && (rc = mg_grade_table_read_file(grades_path, &r->grades)) < 0)
		return rc;
	if ((rc = file_sha_or(have_grades ? grades_path : NULL, "none", grades_id, sizeof grades_id)) < 0)
		return rc;
	const char *el = cfg->elements && *cfg->elements ? cfg->elements : DEFAULT_ELEMENTS;
	if (mg_analysis_elements_check(el) < 0)
		return mg_fail(MG_ERR_ARG, RP_DOM, "elements: %s", mg_error_detail());
	char all[MG_ANALYSIS_ELEMENTS_LEN];
	snprintf(all, sizeof all, "%s", el);
	/* the quantification needs the coating elements in the fit */
	if (!strstr(all, "Ni") && strlen(all) + 4 < sizeof all)
		strcat(all, ",Ni");
	if (!strstr(all, "Cu") && strlen(all) + 4 < sizeof all)
		strcat(all, ",Cu");
	snprintf(r->elements, sizeof r->elements, "%s", all);
	snprintf(r->settings, sizeof r->settings,
	         "magassay %s;elements=%s;refine=%u;instrument=%s;grades=%s;boron=nominal", MAGASSAY_VERSION_STRING,
	         r->elements, cfg->refine, ins_id, grades_id);
	return 0;
}
