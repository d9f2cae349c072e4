/* SPDX-License-Identifier: GPL-3.0-or-later */
/* `magassay analyze` end to end: JSON keys as the issue lists them, text
 * output, --plot, --save-calib / --calib round trip (one plan for every file),
 * --jobs giving the same figures as one job, usage errors and unreadable
 * files. Spectra are written here (EMSA) from the independent generator; the
 * NIST Fe standard is analysed too where ../shared/data exists. Skips (77)
 * when the binary has no `analyze` command registered yet. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/format.h"
#include "synth.h"

#define BIN MG_BINARY_DIR "/cli/magassay"

static int run(const char *args, char **out)
{
	char cmd[4096];
	snprintf(cmd, sizeof cmd, "'%s' %s 2>/dev/null", BIN, args);
	FILE *f = popen(cmd, "r");
	if (!f)
		return -1;
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	size_t k;
	while (buf && (k = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += k;
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				buf = NULL;
			}
			buf = nb;
		}
	}
	if (buf)
		buf[len] = 0;
	int st = pclose(f);
	if (out)
		*out = buf;
	else
		free(buf);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A 2048 × 10 eV NdFeB-like spectrum (Fe K, Co K, Cu K, Nd L) on a continuum. */
static void write_spectrum(const char *path, unsigned seed, double cu)
{
	const size_t n = 2048;
	mg_spectrum *s = mg_spectrum_new(n);
	double *mean = calloc(n, sizeof(double));
	synth_det d = {.noise = 0.08, .fano = 0.114};
	for (size_t k = 0; k < n; k++) {
		double e = 0.01 * (double)k;
		mean[k] = e > 1 ? 60.0 * exp(-e / 8.0) : 0;
	}
	synth_family(&d, 0, 0.01, n, 26, KL1_LINE, KP5_LINE, 4e5, mean);
	synth_family(&d, 0, 0.01, n, 27, KL1_LINE, KP5_LINE, 8e3, mean);
	synth_family(&d, 0, 0.01, n, 29, KL1_LINE, KP5_LINE, cu, mean);
	synth_family(&d, 0, 0.01, n, 60, L1L2_LINE, L3Q1_LINE, 9e4, mean);
	synth_poisson(seed, mean, s->counts, n);
	s->cal = (mg_energy_cal){1, 0.0, 0.01, 0};
	s->live_time_s = 100;
	s->real_time_s = 110;
	mg_str_set(&s->sample.sample_id, "MAG-7");
	CHECK_RC(mg_spectrum_write_file(s, path, mg_format_by_name("msa")), 0);
	free(mean);
	mg_spectrum_free(s);
}

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = text ? json_loads(text, 0, &e) : NULL;
	CHECK_MSG(j != NULL, "not JSON: %s", text ? text : "(nothing)");
	return j;
}

static void check_keys(json_t *o)
{
	CHECK(json_is_string(json_object_get(o, "file")));
	json_t *cal = json_object_get(o, "calibration");
	CHECK(json_is_object(cal));
	const char *ck[] = {"offset_kev", "gain_kev", "quad_kev", "noise_kev", "fano"};
	for (size_t i = 0; i < 5; i++)
		CHECK_MSG(json_is_number(json_object_get(cal, ck[i])), "calibration.%s", ck[i]);
	CHECK(json_is_number(json_object_get(o, "chi2_reduced")));
	json_t *fams = json_object_get(o, "families");
	CHECK(json_is_array(fams) && json_array_size(fams) > 0);
	size_t i;
	json_t *f;
	json_array_foreach(fams, i, f) {
		const char *fk[] = {"element", "family"};
		for (size_t k = 0; k < 2; k++)
			CHECK_MSG(json_is_string(json_object_get(f, fk[k])), "families[%zu].%s", i, fk[k]);
		CHECK(json_is_number(json_object_get(f, "area")));
		CHECK(json_is_number(json_object_get(f, "sigma")) || json_is_null(json_object_get(f, "sigma")));
		CHECK(json_object_get(f, "cps") != NULL);
	}
	CHECK(json_is_array(json_object_get(o, "warnings")));
}

static double area_of(json_t *o, const char *el, const char *fam)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(o, "families"), i, f) {
		if (strcmp(json_string_value(json_object_get(f, "element")), el) == 0 &&
		    strcmp(json_string_value(json_object_get(f, "family")), fam) == 0)
			return json_number_value(json_object_get(f, "area"));
	}
	return NAN;
}

int main(void)
{
	struct stat st;
	if (stat(BIN, &st) != 0)
		mg_test_skip("the magassay binary is not built");
	if (run("analyze --help", NULL) != 0)
		mg_test_skip("this magassay has no 'analyze' command registered (cli/main.c)");
	const char *tmp = mg_test_tmpdir();
	char a[512], b[512], args[4096], cal[512], png[512];
	snprintf(a, sizeof a, "%s/a.msa", tmp);
	snprintf(b, sizeof b, "%s/b.msa", tmp);
	snprintf(cal, sizeof cal, "%s/cal.json", tmp);
	snprintf(png, sizeof png, "%s/fit.png", tmp);
	write_spectrum(a, 1, 2e4);
	write_spectrum(b, 2, 0);

	/* --json on one file, with a plot and a saved calibration */
	char *out = NULL;
	snprintf(args, sizeof args,
	         "analyze --json --elements Fe,Co,Cu,Nd --matrix none --no-escape --no-pileup "
	         "--plot '%s' --save-calib '%s' '%s'",
	         png, cal, a);
	CHECK(run(args, &out) == 0);
	json_t *j = parse(out);
	free(out);
	if (j) {
		CHECK(json_is_array(j) && json_array_size(j) == 1);
		json_t *o = json_array_get(j, 0);
		check_keys(o);
		CHECK_MSG(fabs(area_of(o, "Fe", "K") / 4e5 - 1) < 0.02, "Fe K %g", area_of(o, "Fe", "K"));
		CHECK_MSG(fabs(area_of(o, "Cu", "K") / 2e4 - 1) < 0.05, "Cu K %g", area_of(o, "Cu", "K"));
		CHECK_NEAR(json_number_value(json_object_get(json_object_get(o, "calibration"), "gain_kev")),
		           0.01, 1e-5);
		CHECK(strcmp(json_string_value(json_object_get(o, "sample_id")), "MAG-7") == 0);
		json_decref(j);
	}
	CHECK(stat(png, &st) == 0 && st.st_size > 1000);
	CHECK(stat(cal, &st) == 0);

	/* --calib: both files with that calibration (fast path), 2 jobs = 1 job */
	char *o1 = NULL, *o2 = NULL;
	snprintf(args, sizeof args,
	         "analyze --json --elements Fe,Co,Cu,Nd --matrix none --no-escape --no-pileup "
	         "--calib '%s' --jobs 1 '%s' '%s'", cal, a, b);
	CHECK(run(args, &o1) == 0);
	snprintf(args, sizeof args,
	         "analyze --json --elements Fe,Co,Cu,Nd --matrix none --no-escape --no-pileup "
	         "--calib '%s' --jobs 2 '%s' '%s'", cal, a, b);
	CHECK(run(args, &o2) == 0);
	json_t *j1 = parse(o1), *j2 = parse(o2);
	if (j1 && j2) {
		CHECK(json_array_size(j1) == 2 && json_array_size(j2) == 2);
		for (size_t i = 0; i < 2; i++) {
			check_keys(json_array_get(j1, i));
			CHECK(area_of(json_array_get(j1, i), "Fe", "K") == area_of(json_array_get(j2, i), "Fe", "K"));
		}
		/* b has no Cu: below its detection limit */
		size_t k;
		json_t *f;
		json_array_foreach(json_object_get(json_array_get(j1, 1), "families"), k, f) {
			if (strcmp(json_string_value(json_object_get(f, "element")), "Cu") == 0)
				CHECK(strcmp(json_string_value(json_object_get(f, "status")), "below-dl") == 0);
		}
	}
	json_decref(j1);
	json_decref(j2);
	free(o1);
	free(o2);

	/* text output */
	snprintf(args, sizeof args, "analyze --elements Fe,Co,Cu,Nd --matrix none '%s'", a);
	CHECK(run(args, &out) == 0);
	CHECK(out && strstr(out, "chi2_reduced") && strstr(out, "Fe       K"));
	free(out);

	/* errors: usage 2, unreadable file 1 (with an "error" in JSON) */
	CHECK(run("analyze", NULL) == 2);
	CHECK(run("analyze --tube-kv 40 --excitation-kev 17 x.msa", NULL) == 2);
	CHECK(run("analyze --elements Fe,Qq x.msa", NULL) == 2);
	snprintf(args, sizeof args, "analyze --json '%s/none.msa' '%s'", tmp, a);
	CHECK(run(args, &out) == 1);
	j = parse(out);
	if (j) {
		CHECK(json_is_string(json_object_get(json_array_get(j, 0), "error")));
		check_keys(json_array_get(j, 1));
		json_decref(j);
	}
	free(out);

	/* a real spectrum where the data folder is present */
	const char *dir = mg_test_data_dir();
	if (dir) {
		snprintf(args, sizeof args,
		         "analyze --json --elements Cr,Mn,Fe,Ni --tube-kv 50 --vacuum --no-escape "
		         "--window 1.2:30 '%s/nist-xrf-stainless/Fe_50kv_50_ma_Rh_vac_D1.msa'",
		         dir);
		CHECK(run(args, &out) == 0);
		j = parse(out);
		if (j) {
			json_t *o = json_array_get(j, 0);
			check_keys(o);
			CHECK(area_of(o, "Fe", "K") > 5e6);
			json_decref(j);
		}
		free(out);
	}
	return mg_test_finish("test_analysis_cli");
}
