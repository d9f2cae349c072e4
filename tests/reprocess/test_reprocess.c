/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Offline reprocessing (issue 9): idempotence, resume after SIGKILL and after
 * a stop request, the union of shards equals one run, dry runs write nothing,
 * the change report lists exactly the samples whose grade moved, a spectrum
 * changed on disk is refused without stopping the run, and concurrent writers
 * (two acquisition stations and a reprocessing) neither lose nor duplicate rows.
 *
 * The archive is simulated (bench/sim_archive.c). What these tests prove is
 * the bookkeeping (versions, keys, shards, resumption), not the physics: the
 * analysis is validated on real and independently generated spectra in
 * tests/analysis and tests/quant. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "pgtest.h"
#include "magassay/analysis.h"
#include "magassay/error.h"
#include "magassay/quant.h"
#include "magassay/reprocess.h"
#include "magassay/store.h"
#include "sim_archive.h"

#define N_SPECTRA 24

/* With "pg": every store of the test lives on the PostgreSQL server named by
 * MAGASSAY_TEST_PG, chosen through the data directory's magassay.conf (a
 * database per copy, made from the first one as a template). */
static int use_pg;

static char *dir_named(const char *base, const char *name)
{
	char *p = malloc(strlen(base) + strlen(name) + 2);
	sprintf(p, "%s/%s", base, name);
	return p;
}

static int run_cmd(const char *fmt, const char *a, const char *b)
{
	char cmd[4096];
	snprintf(cmd, sizeof cmd, fmt, a, b);
	return system(cmd);
}

/* A store with N_SPECTRA simulated measurements in two batches, each with a
 * first result made under a slightly wrong energy calibration (gain 0.1 %
 * high), so reprocessing with the right one moves the values. */
static void set_database(const char *dir, const char *url)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/magassay.conf", dir);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fprintf(f, "# the store's database (test_reprocess pg)\ndatabase = %s\n", url);
		fclose(f);
	}
}

/* "postgresql:///NAME?host=..." -> NAME */
static void db_name(const char *url, char *name, size_t size)
{
	const char *p = strstr(url, ":///");
	p = p ? p + 4 : url;
	size_t n = strcspn(p, "?");
	snprintf(name, size, "%.*s", (int)n, p);
}

/* A copy of a test store: the archive folder, and on PostgreSQL its database. */
static void copy_store(const char *from, const char *to)
{
	CHECK(run_cmd("cp -a '%s' '%s'", from, to) == 0);
	if (!use_pg)
		return;
	char *url = mg_test_pg_create(), *src_url = NULL;
	char path[4096], line[4096], src[256] = "", dst[256], sql[600], err[512];
	snprintf(path, sizeof path, "%s/magassay.conf", from);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "database = ", 11) == 0) {
			line[strcspn(line, "\n")] = 0;
			src_url = strdup(line + 11);
		}
	if (f)
		fclose(f);
	CHECK(url && src_url);
	if (!url || !src_url)
		return;
	db_name(src_url, src, sizeof src);
	db_name(url, dst, sizeof dst);
	snprintf(sql, sizeof sql, "DROP DATABASE \"%s\"", dst);
	CHECK_MSG(mg_test_pg_exec(mg_test_pg_base(), sql, err, sizeof err) == 0, "%s", err);
	snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\" TEMPLATE \"%s\"", dst, src);
	CHECK_MSG(mg_test_pg_exec(mg_test_pg_base(), sql, err, sizeof err) == 0, "%s", err);
	set_database(to, url);
	free(url);
	free(src_url);
}

static void make_archive(const char *dir, long long *ecal_good, long long *ecal_bad)
{
	mg_store *st = NULL;
	if (use_pg) {
		char *url = mg_test_pg_create();
		CHECK(url != NULL);
		CHECK(run_cmd("mkdir -p '%s'%s", dir, "") == 0);
		if (url)
			set_database(dir, url);
		free(url);
	}
	CHECK_RC(mg_store_open(dir, &st), MG_OK);
	sim_archive a;
	CHECK_RC(sim_archive_open(&a), 0);
	CHECK_RC(sim_archive_add(&a, st, "LOT-A", N_SPECTRA / 2, 2, 30, 1000, NULL, NULL, NULL), 0);
	CHECK_RC(sim_archive_add(&a, st, "LOT-B", N_SPECTRA / 2, 2, 30, 2000, NULL, NULL, NULL), 0);
	sim_archive_close(&a);
	/* two energy calibration records */
	mg_analysis_config d;
	mg_analysis_config_default(&d);
	mg_energy_cal good = {.valid = 1, .offset_kev = 0, .gain_kev = 0.02};
	mg_energy_cal bad = good;
	bad.gain_kev *= 1.001;
	d.det.noise_kev = 0.08; /* the simulator's detector */
	d.det.fano = 0.114;
	const mg_energy_cal *cals[2] = {&good, &bad};
	long long *ids[2] = {ecal_good, ecal_bad};
	for (int i = 0; i < 2; i++) {
		mg_calib_record r;
		memset(&r, 0, sizeof r);
		snprintf(r.kind, sizeof r.kind, "resolution");
		snprintf(r.name, sizeof r.name, i == 0 ? "sim-good" : "sim-bad");
		r.payload_json = mg_calib_energy_payload(cals[i], &d.det);
		CHECK(r.payload_json != NULL);
		CHECK_RC(mg_calib_record_store(st, &r), 0);
		*ids[i] = r.id;
		mg_calib_record_clear(&r);
	}
	mg_store_close(st);
	/* the lab's grade table, where reprocessing looks for it */
	CHECK(run_cmd("cp '%s/examples/grades.ini' '%s/grades.ini'", MG_SOURCE_DIR, dir) == 0);
	/* the first results */
	mg_reprocess_config c;
	mg_reprocess_config_init(&c);
	c.data_dir = dir;
	c.filter = (mg_measurement_filter){0};
	c.calib_ref[0] = "resolution:sim-bad";
	c.jobs = 2;
	mg_reprocess_summary s;
	CHECK_RC(mg_reprocess_run(&c, &s), 0);
	CHECK(s.recomputed == N_SPECTRA && s.compared == 0);
}

static void config_good(mg_reprocess_config *c, const char *dir)
{
	mg_reprocess_config_init(c);
	c->data_dir = dir;
	c->db_url = NULL;
	c->calib_ref[0] = "resolution:sim-good";
	c->jobs = 2;
	c->page = 5; /* several pages */
}

/* Every measurement's latest payload, and the number of result versions. */
typedef struct snapshot {
	long long n;
	char *payload[4 * N_SPECTRA + 8];
	int versions[4 * N_SPECTRA + 8];
	long long results;
} snapshot;

static int snap_cb(const mg_measurement *m, void *ud)
{
	snapshot *s = ud;
	(void)m;
	s->n++;
	return 0;
}

static void take(const char *dir, snapshot *out)
{
	memset(out, 0, sizeof *out);
	mg_store *st = NULL;
	CHECK_RC(mg_store_open_ex(dir, MG_STORE_READONLY, &st), MG_OK);
	CHECK(st && strcmp(mg_store_backend(st), use_pg ? "postgresql" : "sqlite") == 0);
	mg_store_measurements_list(st, NULL, NULL, snap_cb, out);
	for (long long id = 1; id <= out->n && id < (long long)(sizeof out->payload / sizeof out->payload[0]); id++) {
		mg_result r;
		memset(&r, 0, sizeof r);
		if (mg_store_result_get(st, id, 0, &r) == MG_OK) {
			out->payload[id] = r.payload_json;
			out->versions[id] = r.version;
			out->results += r.version;
			r.payload_json = NULL;
		}
		mg_result_clear(&r);
	}
	mg_store_close(st);
}

static void drop(snapshot *s)
{
	for (size_t i = 0; i < sizeof s->payload / sizeof s->payload[0]; i++)
		free(s->payload[i]);
}

/* Same latest payload for every measurement (the key included). */
static int same_payloads(const snapshot *a, const snapshot *b)
{
	if (a->n != b->n)
		return 0;
	for (long long id = 1; id <= a->n; id++)
		if (!a->payload[id] || !b->payload[id] || strcmp(a->payload[id], b->payload[id]) != 0) {
			fprintf(stderr, "measurement %lld differs\n", id);
			return 0;
		}
	return 1;
}

static void same_report(const mg_reprocess_summary *a, const mg_reprocess_summary *b)
{
	CHECK(a->compared == b->compared);
	CHECK(a->grade_changes == b->grade_changes && a->qc_changes == b->qc_changes);
	CHECK(a->nelements == b->nelements);
	for (size_t i = 0; i < a->nelements && i < b->nelements; i++) {
		CHECK(strcmp(a->el[i].element, b->el[i].element) == 0);
		CHECK(a->el[i].n == b->el[i].n && a->el[i].n_significant == b->el[i].n_significant);
		CHECK_NEAR(a->el[i].mean_delta, b->el[i].mean_delta, 1e-9);
		CHECK_NEAR(a->el[i].max_abs_delta, b->el[i].max_abs_delta, 1e-12);
	}
}

typedef struct grade_count {
	long long listed, grade_changed;
} grade_count;

static void count_change(const mg_reprocess_change *c, void *ud)
{
	grade_count *g = ud;
	g->listed++;
	if (c->grade_changed)
		g->grade_changed++;
	/* a listed sample did change */
	if (!c->grade_changed && !c->qc_changed)
		mg_test_failures++;
}

/* One uninterrupted run: the reference. Then idempotence. */
static void test_single_and_idempotent(const char *dir, mg_reprocess_summary *ref)
{
	snapshot before, after, again;
	take(dir, &before);
	mg_reprocess_config c;
	config_good(&c, dir);
	grade_count g = {0};
	c.on_change = count_change;
	c.userdata = &g;
	CHECK_RC(mg_reprocess_run(&c, ref), 0);
	CHECK(ref->total == N_SPECTRA && ref->recomputed == N_SPECTRA && ref->up_to_date == 0 && ref->failed == 0);
	CHECK(ref->compared == N_SPECTRA);
	CHECK(isfinite(ref->first_result_s) && ref->first_result_s <= ref->elapsed_s);
	/* the wrong gain moved Nd: the report says so */
	int nd = 0;
	for (size_t i = 0; i < ref->nelements; i++)
		if (strcmp(ref->el[i].element, "Nd") == 0) {
			nd = 1;
			CHECK(ref->el[i].n == N_SPECTRA && ref->el[i].mean_abs_delta > 0.01);
		}
	CHECK(nd);
	take(dir, &after);
	CHECK(after.results == before.results + N_SPECTRA); /* one new version each, old ones kept */
	/* every sample whose grade changed was listed: count them from the store */
	long long moved = 0;
	for (long long id = 1; id <= after.n; id++) {
		mg_store *st = NULL;
		mg_result v1, v2;
		memset(&v1, 0, sizeof v1);
		memset(&v2, 0, sizeof v2);
		CHECK_RC(mg_store_open_ex(dir, MG_STORE_READONLY, &st), MG_OK);
		CHECK_RC(mg_store_result_get(st, id, after.versions[id] - 1, &v1), MG_OK);
		CHECK_RC(mg_store_result_get(st, id, after.versions[id], &v2), MG_OK);
		const char *g1 = v1.payload_json ? strstr(v1.payload_json, "\"grade\":") : NULL;
		const char *g2 = v2.payload_json ? strstr(v2.payload_json, "\"grade\":") : NULL;
		size_t l1 = g1 ? strcspn(g1 + 8, ",}") : 0, l2 = g2 ? strcspn(g2 + 8, ",}") : 0;
		if (g1 && g2 && (l1 != l2 || strncmp(g1 + 8, g2 + 8, l1) != 0))
			moved++;
		mg_result_clear(&v1);
		mg_result_clear(&v2);
		mg_store_close(st);
	}
	printf("single run: %lld recomputed, %lld compared, %lld grade changes (%lld counted in the store), %lld QC "
	       "flag changes, first result after %.2f s of %.2f s\n",
	       ref->recomputed, ref->compared, ref->grade_changes, moved, ref->qc_changes, ref->first_result_s,
	       ref->elapsed_s);
	for (size_t i = 0; i < ref->nelements; i++)
		printf("  %-2s mean shift %+.3f wt%%, max |shift| %.3f wt%%\n", ref->el[i].element, ref->el[i].mean_delta,
		       ref->el[i].max_abs_delta);
	CHECK(moved > 0 && moved < N_SPECTRA); /* the check below discriminates */
	CHECK_MSG(g.grade_changed == moved && ref->grade_changes == moved, "listed %lld, counted %lld", g.grade_changed,
	          moved);

	/* twice: nothing recomputed, nothing written, the same report */
	mg_reprocess_summary s2;
	CHECK_RC(mg_reprocess_run(&c, &s2), 0);
	CHECK(s2.recomputed == 0 && s2.up_to_date == N_SPECTRA && s2.failed == 0);
	take(dir, &again);
	CHECK(again.results == after.results && same_payloads(&after, &again));
	same_report(ref, &s2);
	drop(&before);
	drop(&after);
	drop(&again);
}

static void test_shards(const char *dir, const char *ref_dir, const mg_reprocess_summary *ref)
{
	long long total = 0;
	mg_reprocess_summary s;
	for (int k = 1; k <= 3; k++) {
		mg_reprocess_config c;
		config_good(&c, dir);
		c.shard_k = k;
		c.shard_n = 3;
		c.jobs = 1;
		CHECK_RC(mg_reprocess_run(&c, &s), 0);
		CHECK(s.recomputed == s.total && s.total > 0);
		total += s.total;
	}
	CHECK(total == N_SPECTRA);
	snapshot a, b;
	take(dir, &a);
	take(ref_dir, &b);
	CHECK(same_payloads(&a, &b));
	CHECK(a.results == b.results);
	drop(&a);
	drop(&b);
	/* the report of the whole selection after the shards is the single run's */
	mg_reprocess_config c;
	config_good(&c, dir);
	CHECK_RC(mg_reprocess_run(&c, &s), 0);
	CHECK(s.up_to_date == N_SPECTRA);
	same_report(ref, &s);
	/* shards are disjoint and cover all */
	int in = 0;
	for (int k = 1; k <= 4; k++)
		in += mg_reprocess_in_shard("3f2b8c1e-0d1a-4e6b-9c7d-5a4b3c2d1e0f", k, 4);
	CHECK(in == 1);
	int sk, sn;
	CHECK_RC(mg_reprocess_parse_shard("2/8", &sk, &sn), 0);
	CHECK(sk == 2 && sn == 8);
	CHECK_RC(mg_reprocess_parse_shard("9/8", &sk, &sn), MG_ERR_ARG);
	CHECK_RC(mg_reprocess_parse_shard("0/8", &sk, &sn), MG_ERR_ARG);
	CHECK_RC(mg_reprocess_parse_shard("1/", &sk, &sn), MG_ERR_ARG);
}

static void kill_after_results(const mg_reprocess_progress *p, void *ud)
{
	(void)ud;
	if (p->recomputed >= 7)
		raise(SIGKILL); /* a real kill, with the other worker in the middle of a spectrum */
}

static void test_resume_after_kill(const char *dir, const char *ref_dir, const mg_reprocess_summary *ref)
{
	pid_t pid = fork();
	if (pid == 0) {
		mg_reprocess_config c;
		config_good(&c, dir);
		c.on_progress = kill_after_results;
		mg_reprocess_run(&c, NULL);
		_exit(0); /* not reached when the kill came */
	}
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	mg_reprocess_config c;
	config_good(&c, dir);
	mg_reprocess_summary s;
	CHECK_RC(mg_reprocess_run(&c, &s), 0);
	printf("after SIGKILL: %lld kept, %lld recomputed\n", s.up_to_date, s.recomputed);
	/* the results written before the kill are kept and not redone */
	CHECK_MSG(s.up_to_date >= 7 && s.up_to_date < N_SPECTRA && s.recomputed == N_SPECTRA - s.up_to_date,
	          "up to date %lld, recomputed %lld", s.up_to_date, s.recomputed);
	snapshot a, b;
	take(dir, &a);
	take(ref_dir, &b);
	CHECK(same_payloads(&a, &b));
	CHECK(a.results == b.results); /* nothing duplicated */
	drop(&a);
	drop(&b);
	same_report(ref, &s);
}

typedef struct stopper {
	volatile int flag;
} stopper;

static void stop_after_results(const mg_reprocess_progress *p, void *ud)
{
	stopper *s = ud;
	if (p->recomputed >= 5)
		s->flag = 1;
}

static void test_stop_and_dry_run(const char *dir)
{
	snapshot a, b;
	take(dir, &a);
	mg_reprocess_config c;
	config_good(&c, dir);
	c.dry_run = 1;
	mg_reprocess_summary s;
	CHECK_RC(mg_reprocess_run(&c, &s), 0);
	CHECK(s.recomputed == N_SPECTRA && s.compared == N_SPECTRA);
	take(dir, &b);
	CHECK(a.results == b.results && same_payloads(&a, &b)); /* nothing written */
	drop(&b);

	stopper st = {0};
	config_good(&c, dir);
	c.stop = &st.flag;
	c.on_progress = stop_after_results;
	c.userdata = &st;
	CHECK_RC(mg_reprocess_run(&c, &s), 0);
	CHECK(s.interrupted && s.recomputed >= 5 && s.recomputed < N_SPECTRA);
	long long first = s.recomputed;
	config_good(&c, dir);
	CHECK_RC(mg_reprocess_run(&c, &s), 0);
	CHECK(!s.interrupted && s.up_to_date == first && s.recomputed == N_SPECTRA - first);
	take(dir, &b);
	CHECK(b.results == a.results + N_SPECTRA);
	drop(&a);
	drop(&b);
}

typedef struct fail_log {
	int n;
	char msg[400];
} fail_log;

static void on_fail(long long mid, const char *uuid, const char *error, void *ud)
{
	(void)mid;
	(void)uuid;
	fail_log *f = ud;
	f->n++;
	snprintf(f->msg, sizeof f->msg, "%s", error);
}

static void test_changed_file(const char *dir)
{
	mg_store *st = NULL;
	mg_measurement m;
	memset(&m, 0, sizeof m);
	char *abs = NULL;
	CHECK_RC(mg_store_open(dir, &st), MG_OK);
	CHECK_RC(mg_store_measurement_get(st, 3, &m), MG_OK);
	CHECK_RC(mg_store_abspath(st, m.file, &abs), MG_OK);
	mg_store_close(st);
	FILE *f = fopen(abs, "r+b");
	CHECK(f != NULL);
	if (f) {
		fseek(f, -8, SEEK_END);
		fputc('7', f); /* a count changed behind the store's back */
		fclose(f);
	}
	mg_reprocess_config c;
	config_good(&c, dir);
	c.calib_ref[0] = "resolution:sim-bad"; /* everything is due again */
	fail_log fl = {0};
	c.on_failure = on_fail;
	c.userdata = &fl;
	mg_reprocess_summary s;
	CHECK(mg_reprocess_run(&c, &s) == 1);
	CHECK(s.failed == 1 && s.recomputed == N_SPECTRA - 1 && fl.n == 1);
	CHECK_MSG(strstr(fl.msg, "changed since it was registered") != NULL, "%s", fl.msg);
	/* bad selections and configurations are refused clearly */
	config_good(&c, dir);
	c.filter.since = "last week";
	CHECK_RC(mg_reprocess_run(&c, &s), MG_ERR_ARG);
	config_good(&c, dir);
	c.calib_ref[0] = "quant:no-such-calibration";
	CHECK_RC(mg_reprocess_run(&c, &s), MG_ERR_NOT_FOUND);
	config_good(&c, dir);
	c.calib_ref[1] = "resolution:sim-bad"; /* two energy records */
	CHECK_RC(mg_reprocess_run(&c, &s), MG_ERR_ARG);
	mg_measurement_clear(&m);
	free(abs);
}

/* Two acquisition stations register measurements while a reprocessing runs:
 * no row lost or duplicated; a second pass completes what arrived late. */
static void test_concurrent_writers(const char *dir)
{
	pid_t pid[3];
	for (int k = 0; k < 3; k++) {
		pid[k] = fork();
		if (pid[k] == 0) {
			int rc;
			if (k < 2) {
				mg_store *st = NULL;
				sim_archive a;
				rc = mg_store_open(dir, &st) < 0 || sim_archive_open(&a) < 0;
				if (!rc)
					rc = sim_archive_add(&a, st, k == 0 ? "STATION-1" : "STATION-2", 20, 1, 10,
					                     (uint64_t)(5000 + 100 * k), NULL, NULL, NULL) < 0;
				if (!rc)
					sim_archive_close(&a);
				mg_store_close(st);
			} else {
				mg_reprocess_config c;
				config_good(&c, dir);
				c.calib_ref[0] = "resolution:sim-good";
				rc = mg_reprocess_run(&c, NULL) != 0;
			}
			if (rc)
				fprintf(stderr, "child %d: %s\n", k, mg_error_detail());
			_exit(rc ? 1 : 0);
		}
	}
	for (int k = 0; k < 3; k++) {
		int status = 0;
		waitpid(pid[k], &status, 0);
		CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d", k);
	}
	mg_reprocess_config c;
	config_good(&c, dir);
	mg_reprocess_summary s;
	CHECK_RC(mg_reprocess_run(&c, &s), 0);
	CHECK(s.total == N_SPECTRA + 40 && s.recomputed + s.up_to_date == s.total);
	/* every measurement there, once, each with exactly one result of this run
	 * on top, replicates and versions contiguous */
	snapshot a;
	take(dir, &a);
	CHECK(a.n == N_SPECTRA + 40);
	mg_store *st = NULL;
	CHECK_RC(mg_store_open_ex(dir, MG_STORE_READONLY, &st), MG_OK);
	char key0[65] = "";
	for (long long id = 1; id <= a.n; id++) {
		mg_measurement m;
		memset(&m, 0, sizeof m);
		CHECK_RC(mg_store_measurement_get(st, id, &m), MG_OK);
		CHECK(m.replicate == 1 || strncmp(m.batch_id, "LOT-", 4) == 0);
		CHECK(m.n_results == a.versions[id]);
		const char *k = a.payload[id] ? strstr(a.payload[id], "\"key\":\"") : NULL;
		CHECK(k != NULL);
		mg_measurement_clear(&m);
		(void)key0;
	}
	mg_store_close(st);
	drop(&a);
}

int main(int argc, char **argv)
{
	use_pg = argc > 1 && strcmp(argv[1], "pg") == 0;
	if (use_pg)
		mg_test_pg_require();
	const char *tmp = mg_test_tmpdir();
	char *base = dir_named(tmp, "base"), *ref = dir_named(tmp, "ref"), *shard = dir_named(tmp, "shard");
	char *kill_d = dir_named(tmp, "kill"), *misc = dir_named(tmp, "misc"), *conc = dir_named(tmp, "conc");
	long long good = 0, bad = 0;
	make_archive(base, &good, &bad);
	CHECK(good > 0 && bad > 0);
	const char *copies[] = {ref, shard, kill_d, misc, conc};
	for (size_t i = 0; i < sizeof copies / sizeof copies[0]; i++)
		copy_store(base, copies[i]);
	mg_reprocess_summary reference;
	test_single_and_idempotent(ref, &reference);
	test_shards(shard, ref, &reference);
	test_resume_after_kill(kill_d, ref, &reference);
	test_stop_and_dry_run(misc);
	test_changed_file(misc);
	test_concurrent_writers(conc);
	run_cmd("rm -rf '%s'%s", tmp, "");
	if (use_pg)
		mg_test_pg_drop_all();
	free(base);
	free(ref);
	free(shard);
	free(kill_d);
	free(misc);
	free(conc);
	return mg_test_finish(use_pg ? "test_reprocess pg" : "test_reprocess");
}
