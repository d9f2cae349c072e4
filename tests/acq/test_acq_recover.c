/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mg_acq_recover at every point an acquisition can die: after its sidecar
 * only, with a partial spectrum, after writing its final spectrum but before
 * registering it, after registering it but before cleaning up, half way
 * through a recovery (moved but not registered); a live acquisition's
 * checkpoint is left alone; a corrupt sidecar fails and stays; temporary
 * files of killed writes and orphan locks go. And it is idempotent. */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acq/acq_internal.h"
#include "acq_test.h"
#include "check.h"
#include "magassay/error.h"
#include "magassay/fileio.h"

static char dir[600];

struct seen {
	int n[6];
	char status[8][24];
	int nreg;
};

static void on_item(const mg_acq_recovery *r, void *ud)
{
	struct seen *s = ud;
	s->n[r->action]++;
	CHECK(r->message && *r->message && r->uuid);
	if (r->action == MG_ACQ_RECOVER_REGISTERED) {
		CHECK(r->file && r->result && r->measurement_id > 0 && r->sample_id && r->batch_id);
		if (s->nreg < 8)
			snprintf(s->status[s->nreg++], sizeof(s->status[0]), "%s", r->result);
	}
	if (r->action == MG_ACQ_RECOVER_FAILED)
		CHECK(r->error < 0);
}

static char *sidecar(const char *uuid, const char *sample, const char *batch)
{
	char *t = malloc(600);
	snprintf(t, 600,
	         "{\"magassay_checkpoint\":1,\"uuid\":\"%s\",\"sample\":\"%s\",\"batch\":\"%s\",\"operator\":\"op\","
	         "\"started_at\":\"2026-03-01T10:00:00.000Z\",\"replicate\":1,\"settings\":{\"dp5\":{\"MCAC\":\"256\"}}}",
	         uuid, sample, batch);
	return t;
}

/* A spectrum as the loop writes it, stamped with status. */
static int spectrum_bytes(const char *uuid, const char *sample, const char *batch, const char *status, double real,
                          mg_buf *out)
{
	mg_spectrum *s = mg_spectrum_new(256);
	if (!s)
		return MG_ERR_NOMEM;
	for (size_t i = 0; i < s->nchan; i++)
		s->counts[i] = (double)(i % 17);
	s->live_time_s = real * 0.9;
	s->real_time_s = real;
	char total[32];
	snprintf(total, sizeof(total), "%.0f", mg_spectrum_total(s));
	mg_kvlist_add(&s->meta, "dp5.status.Slow Count", total, NULL);
	mg_kvlist_add(&s->meta, "dp5.config.MCAC", "256", "MCA/MCS Channels");
	mg_kvlist_add(&s->meta, "dp5.config.TPEA", "4.000", "Peaking Time");
	mg_str_set(&s->instrument.model, "DP5");
	mg_str_set(&s->instrument.serial, "31337");
	int rc = acq_stamp(s, uuid, sample, batch, "op", NULL, "2026-03-01T10:00:00.000Z", "2026-03-01T10:00:09.000Z",
	                   status, 1, NULL);
	if (rc == MG_OK)
		rc = acq_serialize_mca(s, out);
	mg_spectrum_free(s);
	return rc;
}

/* Begin a checkpoint for a new uuid (lock held until acq_ckpt_end). */
static void begin(mg_store *st, struct acq_ckpt *c, char uuid[MG_UUID_SIZE], const char *sample)
{
	acq_ckpt_init(c);
	CHECK_RC(mg_uuid_generate(uuid), MG_OK);
	char *side = sidecar(uuid, sample, "LOT-RC");
	CHECK_RC(acq_ckpt_begin(c, st, uuid, side), MG_OK);
	free(side);
}

static void write_partial(struct acq_ckpt *c, const char *sample, double real)
{
	mg_buf b;
	mg_buf_init(&b);
	CHECK_RC(spectrum_bytes(c->uuid, sample, "LOT-RC", "incomplete", real, &b), MG_OK);
	CHECK_RC(acq_ckpt_write(c, b.data, b.len, real), MG_OK);
	mg_buf_free(&b);
}

static char *write_final(mg_store *st, const char *uuid, const char *sample, const char *status)
{
	char *path = NULL;
	mg_buf b;
	mg_buf_init(&b);
	CHECK_RC(mg_store_batch_ensure(st, "LOT-RC", NULL, NULL), MG_OK);
	CHECK_RC(mg_store_sample_ensure(st, sample, "LOT-RC", NULL, NULL), MG_OK);
	CHECK_RC(mg_store_spectrum_path(st, "LOT-RC", sample, uuid, "mca", &path), MG_OK);
	CHECK_RC(spectrum_bytes(uuid, sample, "LOT-RC", status, 20, &b), MG_OK);
	if (path)
		CHECK_RC(mg_file_write_atomic(path, b.data, b.len), MG_OK);
	mg_buf_free(&b);
	return path;
}

static int run_recover(mg_store *st, struct seen *s, mg_acq_recover_summary *sum)
{
	memset(s, 0, sizeof(*s));
	return mg_acq_recover(st, on_item, s, sum);
}

int main(void)
{
	acqt_log_init();
	snprintf(dir, sizeof(dir), "%s", acqt_fresh_dir("recover"));
	mg_store *st = acqt_store(dir);
	if (!st)
		return mg_test_finish("test_acq_recover");
	struct seen seen;
	mg_acq_recover_summary sum;
	char ckdir[700];
	snprintf(ckdir, sizeof(ckdir), "%s/checkpoints", dir);

	/* nothing to do on a fresh store */
	CHECK_RC(run_recover(st, &seen, &sum), 0);
	CHECK(sum.registered + sum.cleaned + sum.empty + sum.busy + sum.failed == 0);

	/* a live acquisition (lock held) is left alone, whatever it has written */
	struct acq_ckpt live;
	char u_live[MG_UUID_SIZE];
	begin(st, &live, u_live, "rc-live");
	write_partial(&live, "rc-live", 5);
	CHECK_RC(run_recover(st, &seen, &sum), 0);
	CHECK(sum.busy == 1 && seen.n[MG_ACQ_RECOVER_BUSY] == 1 && acqt_checkpoint_files(dir) == 3);

	/* died after its sidecar: nothing measured */
	struct acq_ckpt c1;
	char u1[MG_UUID_SIZE];
	begin(st, &c1, u1, "rc-empty");
	acq_ckpt_end(&c1, 0); /* "killed": the lock goes, the files stay */
	/* died with a partial spectrum, and a temporary file of a killed checkpoint write */
	struct acq_ckpt c2;
	char u2[MG_UUID_SIZE];
	begin(st, &c2, u2, "rc-partial");
	write_partial(&c2, "rc-partial", 12.5);
	char tmp[900];
	snprintf(tmp, sizeof(tmp), "%s/%s.mca.tmp.AbC123", ckdir, u2);
	FILE *f = fopen(tmp, "w");
	if (f) {
		fputs("half a spectrum", f);
		fclose(f);
	}
	acq_ckpt_end(&c2, 0);
	/* died after writing its final spectrum (complete), before registering it */
	struct acq_ckpt c3;
	char u3[MG_UUID_SIZE];
	begin(st, &c3, u3, "rc-final");
	write_partial(&c3, "rc-final", 10);
	free(write_final(st, u3, "rc-final", "complete"));
	acq_ckpt_end(&c3, 0);
	/* died after registering, before removing its checkpoint */
	struct acq_ckpt c4;
	char u4[MG_UUID_SIZE];
	begin(st, &c4, u4, "rc-done");
	write_partial(&c4, "rc-done", 10);
	char *p4 = write_final(st, u4, "rc-done", "stopped_early");
	mg_new_measurement nm;
	mg_new_measurement_init(&nm);
	nm.uuid = u4;
	nm.sample_id = "rc-done";
	nm.file = p4;
	nm.status = "stopped_early";
	long long id4 = 0;
	CHECK_RC(mg_store_measurement_add(st, &nm, &id4, NULL), MG_OK);
	free(p4);
	acq_ckpt_end(&c4, 0);
	/* a recovery that died after moving the partial spectrum, before registering it */
	struct acq_ckpt c5;
	char u5[MG_UUID_SIZE];
	begin(st, &c5, u5, "rc-moved");
	free(write_final(st, u5, "rc-moved", "incomplete"));
	acq_ckpt_end(&c5, 0);
	/* a corrupt sidecar */
	char ubad[MG_UUID_SIZE], badpath[900];
	CHECK_RC(mg_uuid_generate(ubad), MG_OK);
	snprintf(badpath, sizeof(badpath), "%s/%s.json", ckdir, ubad);
	CHECK_RC(mg_file_write_atomic(badpath, "{\"uuid\": \"not this", 18), MG_OK);
	/* an orphan lock file */
	char uorph[MG_UUID_SIZE], orph[900];
	CHECK_RC(mg_uuid_generate(uorph), MG_OK);
	snprintf(orph, sizeof(orph), "%s/%s.lock", ckdir, uorph);
	int fd = open(orph, O_CREAT | O_WRONLY, 0640);
	if (fd >= 0)
		close(fd);
	/* a sidecar whose write was killed half way (its temporary file only) */
	char uhalf[MG_UUID_SIZE], half[900];
	CHECK_RC(mg_uuid_generate(uhalf), MG_OK);
	snprintf(half, sizeof(half), "%s/%s.json.tmp.Zz9Yy8", ckdir, uhalf);
	fd = open(half, O_CREAT | O_WRONLY, 0640);
	if (fd >= 0)
		close(fd);

	int n = run_recover(st, &seen, &sum);
	CHECK_MSG(n == 3, "registered %d: %s", n, n < 0 ? mg_error_detail() : "");
	CHECK_MSG(sum.registered == 3 && sum.cleaned == 1 && sum.empty == 1 && sum.busy == 1 && sum.failed == 1,
	          "registered %d cleaned %d empty %d busy %d failed %d", sum.registered, sum.cleaned, sum.empty, sum.busy,
	          sum.failed);
	mg_acq_presets none = mg_acq_presets_none();
	long long id;
	CHECK((id = acqt_last_id(st, "rc-partial")) > 0);
	acqt_check_measurement(st, id, "incomplete", &none, "partial");
	mg_measurement m;
	if (mg_store_measurement_get(st, id, &m) == MG_OK) {
		CHECK(!strcmp(m.uuid, u2) && m.real_time_s == 12.5 && !strcmp(m.operator_name, "op"));
		CHECK(!strcmp(m.started_at, "2026-03-01T10:00:00.000Z") && m.ended_at);
		CHECK(m.notes && strstr(m.notes, "checkpoint"));
		CHECK(m.settings_json && strstr(m.settings_json, "MCAC"));
		mg_measurement_clear(&m);
	}
	CHECK((id = acqt_last_id(st, "rc-final")) > 0);
	acqt_check_measurement(st, id, "complete", &none, "final, unregistered");
	CHECK((id = acqt_last_id(st, "rc-moved")) > 0);
	acqt_check_measurement(st, id, "incomplete", &none, "moved, unregistered");
	CHECK(acqt_count(st, "rc-done") == 1 && acqt_last_id(st, "rc-done") == id4);
	CHECK(acqt_count(st, "rc-empty") == 0);
	/* left: the live one (3 files) and the corrupt sidecar */
	CHECK_MSG(acqt_checkpoint_files(dir) == 4, "%d files left", acqt_checkpoint_files(dir));
	CHECK(access(badpath, F_OK) == 0 && access(tmp, F_OK) != 0 && access(orph, F_OK) != 0);
	CHECK(access(half, F_OK) != 0);
	acqt_check_store(st, "recover");

	/* idempotent */
	CHECK_RC(run_recover(st, &seen, &sum), 0);
	CHECK(sum.registered == 0 && sum.cleaned == 0 && sum.empty == 0 && sum.busy == 1 && sum.failed == 1);

	/* the live one ends without saving (killed): now it is recovered */
	acq_ckpt_end(&live, 0);
	unlink(badpath);
	CHECK_RC(run_recover(st, &seen, &sum), 1);
	CHECK(sum.registered == 1 && sum.failed == 0 && seen.nreg == 1 && !strcmp(seen.status[0], "incomplete"));
	CHECK(acqt_checkpoint_files(dir) == 0);
	acqt_check_store(st, "recover, end");
	mg_store_close(st);
	return mg_test_finish("test_acq_recover");
}
