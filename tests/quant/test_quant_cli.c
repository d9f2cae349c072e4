/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The command line of issue 6, end to end: `magassay calibrate quant
 * --standards FILE.csv` on reference magnets (spectra written here, EMSA, from
 * the independent generator ndfeb_gen.h), the record versioned in the store
 * (never overwritten), exported (an existing file is refused) and imported;
 * `calibrate energy`; `magassay analyze --json` with --calib (a store
 * reference to the quantification record) adding kratios, composition and
 * calibration_id; with --standard EL=FILE (k-ratios); usage errors.
 * Uses the real `magassay` when it has `calibrate` registered, else the
 * stand-in built from the same sources (cli_driver.c). */
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
#include "ndfeb_gen.h"

static char BIN[1024];
static char DATA[600];

static int run(const char *args, char **out)
{
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "MAGASSAY_DATA='%s' '%s' %s 2>/dev/null", DATA, BIN, args);
	FILE *f = popen(cmd, "r");
	if (!f)
		return -1;
	size_t cap = 1 << 16, len = 0, k;
	char *buf = malloc(cap);
	while (buf && (k = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += k;
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb)
				free(buf);
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

static void write_magnet(const char *path, double nd, double pr, double dy, double co, unsigned long seed)
{
	gen_cfg c;
	gen_cfg_default(&c);
	gen_sample s = {0};
	int z[] = {60, 59, 66, 27, 5, 26};
	double w[] = {nd, pr, dy, co, 1.0, 100 - nd - pr - dy - co - 1.0};
	for (int i = 0; i < 6; i++)
		if (w[i] > 0) {
			s.z[s.n] = z[i];
			s.w[s.n++] = w[i] / 100;
		}
	mg_spectrum *sp = mg_spectrum_new((size_t)c.nchan);
	double *mean = malloc((size_t)c.nchan * sizeof(double));
	gen_spectrum(&c, &s, 200, mean);
	gen_poisson(seed, mean, sp->counts, (size_t)c.nchan);
	sp->cal = (mg_energy_cal){1, c.offset, c.gain, 0};
	sp->live_time_s = 200;
	sp->real_time_s = 210;
	sp->acq.tube_kv = 40;
	sp->acq.tube_ua = 20;
	mg_str_set(&sp->sample.sample_id, "MAG");
	CHECK_RC(mg_spectrum_write_file(sp, path, mg_format_by_name("msa")), 0);
	free(mean);
	mg_spectrum_free(sp);
}

static json_t *first(json_t *arr)
{
	return json_is_array(arr) ? json_array_get(arr, 0) : NULL;
}

static const json_t *comp_el(json_t *res, const char *el)
{
	json_t *c = json_object_get(res, "composition"), *x;
	size_t i;
	json_array_foreach(c, i, x) if (strcmp(json_string_value(json_object_get(x, "element")), el) == 0) return x;
	return NULL;
}

int main(void)
{
	char *out = NULL;
	snprintf(BIN, sizeof BIN, "%s/cli/magassay", MG_BINARY_DIR);
	snprintf(DATA, sizeof DATA, "%s/store", mg_test_tmpdir());
	if (run("calibrate --help", NULL) != 0)
		snprintf(BIN, sizeof BIN, "%s/tests/quant/magassay-quant-cli", MG_BINARY_DIR);
	if (run("calibrate --help", NULL) != 0)
		mg_test_skip("no `calibrate` command built");
	printf("binary: %s\n", BIN);
	const char *dir = mg_test_tmpdir();
	char path[1024], args[8192];

	/* reference magnets "assayed by ICP" and a table of them */
	const double refs[5][4] = {{29, 0, 0, 0.5}, {23, 6.5, 0.5, 1}, {21, 7, 3, 2}, {19, 5, 8, 3}, {25, 3, 1.5, 0}};
	FILE *csv;
	snprintf(path, sizeof path, "%s/magnets.csv", dir);
	csv = fopen(path, "w");
	CHECK(csv != NULL);
	if (!csv)
		return mg_test_finish("test_quant_cli");
	fprintf(csv, "# reference magnets, ICP (wt%%)\nfile,name,Nd,Pr,Dy,Co,Fe,u_Nd\n");
	for (int i = 0; i < 5; i++) {
		char f[1024];
		snprintf(f, sizeof f, "%s/ref%d.msa", dir, i);
		write_magnet(f, refs[i][0], refs[i][1], refs[i][2], refs[i][3], 10 + (unsigned long)i);
		fprintf(csv, "ref%d.msa,REF-%d,%g,%g,%g,%g,%g,0.1\n", i, i, refs[i][0], refs[i][1], refs[i][2], refs[i][3],
		        99 - refs[i][0] - refs[i][1] - refs[i][2] - refs[i][3]);
	}
	fclose(csv);
	snprintf(path, sizeof path, "%s/unknown.msa", dir);
	write_magnet(path, 24, 5, 2, 1, 99);

	/* calibrate quant: stored as version 1, then 2 (never overwritten) */
	snprintf(args, sizeof args,
	         "calibrate quant --standards '%s/magnets.csv' --instrument '%s/examples/instruments/benchtop-sdd.ini' "
	         "--influences 'Nd:Fe;Pr:Fe;Dy:Fe' --name magnets --operator tester --json",
	         dir, MG_SOURCE_DIR);
	CHECK(run(args, &out) == 0);
	json_t *rec = out ? json_loads(out, 0, NULL) : NULL;
	free(out);
	CHECK(rec && json_integer_value(json_object_get(rec, "version")) == 1);
	CHECK(rec && strcmp(json_string_value(json_object_get(rec, "kind")), "quant") == 0);
	json_t *prov = json_object_get(rec, "provenance");
	CHECK(json_array_size(json_object_get(prov, "standards")) == 5);
	CHECK(strlen(json_string_value(json_object_get(json_array_get(json_object_get(prov, "standards"), 0), "sha256"))) ==
	      64);
	CHECK(strcmp(json_string_value(json_object_get(prov, "operator")), "tester") == 0);
	json_t *payload = json_object_get(rec, "payload");
	CHECK(json_array_size(json_object_get(payload, "lines")) >= 3);
	CHECK(json_is_object(json_object_get(payload, "calibration")));
	json_decref(rec);
	CHECK(run(args, &out) == 0);
	rec = out ? json_loads(out, 0, NULL) : NULL;
	free(out);
	long long id2 = rec ? (long long)json_integer_value(json_object_get(rec, "id")) : 0;
	CHECK(rec && json_integer_value(json_object_get(rec, "version")) == 2 && id2 > 0);
	json_decref(rec);
	CHECK(run("calibrate list --json", &out) == 0);
	json_t *lst = out ? json_loads(out, 0, NULL) : NULL;
	free(out);
	CHECK(json_array_size(lst) == 2);
	json_decref(lst);

	/* export, refuse to overwrite, import as a new version */
	snprintf(args, sizeof args, "calibrate export quant:magnets@1 '%s/magnets-v1.json'", dir);
	CHECK(run(args, NULL) == 0);
	CHECK(run(args, NULL) == 1);
	snprintf(args, sizeof args, "calibrate import '%s/magnets-v1.json' --json", dir);
	CHECK(run(args, &out) == 0);
	rec = out ? json_loads(out, 0, NULL) : NULL;
	free(out);
	CHECK(rec && json_integer_value(json_object_get(rec, "version")) == 3);
	CHECK(rec && json_object_get(json_object_get(rec, "provenance"), "imported_from"));
	json_decref(rec);

	/* calibrate energy: the record file is what `analyze --calib FILE` reads */
	snprintf(args, sizeof args, "calibrate energy '%s/ref1.msa' --name sdd1 --out '%s/energy.json'", dir, dir);
	CHECK(run(args, NULL) == 0);

	/* analyze with the quantification calibration (a store reference) */
	snprintf(args, sizeof args, "analyze '%s/unknown.msa' --json --calib quant:magnets@2 --grades '%s/examples/grades.ini'",
	         dir, MG_SOURCE_DIR);
	CHECK(run(args, &out) == 0);
	json_t *root = out ? json_loads(out, 0, NULL) : NULL, *res = first(root);
	free(out);
	CHECK(res != NULL);
	if (res) {
		CHECK(json_is_array(json_object_get(res, "families"))); /* the engine's output is intact */
		CHECK(json_is_array(json_object_get(res, "kratios")));
		CHECK(json_integer_value(json_object_get(res, "calibration_id")) == id2);
		json_t *q = json_object_get(res, "quant");
		CHECK(q && strcmp(json_string_value(json_object_get(q, "method")), "empirical") == 0);
		CHECK(q && strcmp(json_string_value(json_object_get(q, "calibration")), "magnets v2") == 0);
		const json_t *nd = comp_el(res, "Nd"), *b = comp_el(res, "B");
		CHECK(nd && json_is_number(json_object_get(nd, "wt_pct")) && json_is_number(json_object_get(nd, "sigma")) &&
		      json_is_number(json_object_get(nd, "lod_wt_pct")) && json_is_array(json_object_get(nd, "flags")));
		if (nd)
			printf("empirical: Nd %.2f +- %.2f wt%% (true 24)\n", json_number_value(json_object_get(nd, "wt_pct")),
			       json_number_value(json_object_get(nd, "sigma")));
		CHECK(nd && fabs(json_number_value(json_object_get(nd, "wt_pct")) - 24) < 1.0);
		CHECK(b && strcmp(json_string_value(json_object_get(b, "source")), "nominal") == 0);
		CHECK(q && strstr(json_string_value(json_object_get(q, "boron")), "invisible to XRF") != NULL);
		CHECK(q && json_is_string(json_object_get(q, "grade")));
	}
	json_decref(root);

	/* analyze with standards (k-ratios): the reference magnet REF-1 for everything */
	snprintf(args, sizeof args,
	         "analyze '%s/unknown.msa' --json --instrument '%s/examples/instruments/benchtop-sdd.ini' "
	         "--standard 'Nd:23,Pr:6.5,Dy:0.5,Co:1,B:1,Fe:68=%s/ref1.msa' --calib '%s/energy.json' --no-refine",
	         dir, MG_SOURCE_DIR, dir, dir);
	CHECK(run(args, &out) == 0);
	root = out ? json_loads(out, 0, NULL) : NULL;
	res = first(root);
	free(out);
	if (res) {
		json_t *kr = json_object_get(res, "kratios"), *k0 = json_array_get(kr, 0);
		CHECK(json_array_size(kr) >= 4);
		CHECK(k0 && json_is_string(json_object_get(k0, "element")) && json_is_string(json_object_get(k0, "line")) &&
		      json_is_number(json_object_get(k0, "k")) && json_is_number(json_object_get(k0, "sigma")));
		CHECK(json_is_null(json_object_get(res, "calibration_id")));
		const json_t *nd = comp_el(res, "Nd");
		if (nd)
			printf("k-ratio vs one magnet: Nd %.2f +- %.2f wt%% (true 24)\n",
			       json_number_value(json_object_get(nd, "wt_pct")), json_number_value(json_object_get(nd, "sigma")));
		CHECK(nd && fabs(json_number_value(json_object_get(nd, "wt_pct")) - 24) < 1.0);
	} else {
		CHECK(0);
	}
	json_decref(root);

	/* text output */
	snprintf(args, sizeof args, "analyze '%s/unknown.msa' --quant=fp", dir);
	CHECK(run(args, &out) == 0);
	CHECK(out && strstr(out, "composition (fp-standardless)") && strstr(out, "boron"));
	free(out);

	/* usage errors and failures */
	snprintf(args, sizeof args, "analyze '%s/unknown.msa' --standard Fe", dir);
	CHECK(run(args, NULL) == 2);
	snprintf(args, sizeof args, "analyze '%s/unknown.msa' --quant=magic", dir);
	CHECK(run(args, NULL) == 2);
	snprintf(args, sizeof args, "analyze '%s/unknown.msa' --instrument /nonexistent.ini", dir);
	CHECK(run(args, NULL) == 1);
	CHECK(run("calibrate quant", NULL) == 2);
	CHECK(run("calibrate frobnicate", NULL) == 2);
	CHECK(run("calibrate show 999", NULL) == 1);
	return mg_test_finish("test_quant_cli");
}
