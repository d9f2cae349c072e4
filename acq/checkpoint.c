/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Checkpoints and their recovery.
 *
 * While a replicate runs, <data dir>/checkpoints/ holds, per measurement UUID:
 *   <uuid>.lock   flock'ed by the acquiring process for as long as it runs
 *                 (the kernel drops the lock when the process dies, even by SIGKILL)
 *   <uuid>.json   the sidecar, written once at the start: uuid, sample, batch,
 *                 operator, start time, presets, device, replicate
 *   <uuid>.mca    the partial spectrum, rewritten atomically every checkpoint_s
 *                 (its <<MAGASSAY>> section says acq.status = incomplete)
 * and nothing once the replicate is saved and registered.
 *
 * Recovery keys on the sidecar of an unlocked UUID and is idempotent: each
 * step can be interrupted and the next run completes it.
 *   1. registered already (uuid in the store)     -> remove leftovers ("cleaned")
 *   2. the final file exists in the archive       -> register it with the status
 *                                                    it records, remove leftovers
 *   3. else a partial spectrum exists             -> rename it into the archive (fsync), go to 2
 *   4. else                                       -> nothing was measured: remove ("empty") */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acq/acq_internal.h"
#include "magassay/fileio.h"
#include "magassay/format.h"

static char *join(const char *dir, const char *uuid, const char *ext)
{
	size_t n = strlen(dir) + strlen(uuid) + strlen(ext) + 3;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s%s", dir, uuid, ext);
	return p;
}

static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

static void fsync_parent(const char *path)
{
	char d[PATH_MAX];
	snprintf(d, sizeof(d), "%s", path);
	char *slash = strrchr(d, '/');
	if (slash && slash != d) {
		*slash = '\0';
		fsync_dir(d);
	}
}

int mg_acq_checkpoint_dir(mg_store *st, char **out)
{
	if (!st || !out)
		return mg_fail(MG_ERR_ARG, ACQ_DOM, "mg_acq_checkpoint_dir: bad arguments");
	const char *data = mg_store_data_dir(st);
	size_t n = strlen(data) + sizeof(ACQ_CHECKPOINT_FOLDER) + 2;
	char *d = malloc(n);
	if (!d)
		return mg_fail(MG_ERR_NOMEM, ACQ_DOM, "out of memory");
	snprintf(d, n, "%s/" ACQ_CHECKPOINT_FOLDER, data);
	if (mkdir(d, 0770) != 0 && errno != EEXIST) {
		int e = errno;
		free(d);
		return mg_fail(e == ENOSPC || e == EDQUOT ? MG_ERR_NOSPACE : MG_ERR_IO, ACQ_DOM,
		               "%s/" ACQ_CHECKPOINT_FOLDER ": cannot create the checkpoint folder: %s", data, strerror(e));
	}
	*out = d;
	return MG_OK;
}

/* ------------------------------------------------------------ writing */

void acq_ckpt_init(struct acq_ckpt *c)
{
	memset(c, 0, sizeof(*c));
	c->lock_fd = -1;
}

/* Open and lock <uuid>.lock without waiting. MG_OK, MG_ERR_BUSY (held by a
 * live acquisition) or an I/O error. */
static int take_lock_once(const char *path, int *fd_out)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
	if (fd < 0)
		return mg_fail(errno == ENOSPC ? MG_ERR_NOSPACE : MG_ERR_IO, ACQ_DOM, "%s: cannot create: %s", path,
		               strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK)
			return mg_fail(MG_ERR_BUSY, ACQ_DOM, "%s: an acquisition is running", path);
		return mg_fail(MG_ERR_IO, ACQ_DOM, "%s: cannot lock: %s", path, strerror(e));
	}
	*fd_out = fd;
	return MG_OK;
}

/* take_lock_once, made safe against a lock file removed between our open and
 * our flock (by a recovery that found it unused): the lock is good only if
 * the path still names the file we locked. */
static int take_lock(const char *path, int *fd_out)
{
	for (int attempt = 0; attempt < 10; attempt++) {
		int fd = -1, rc = take_lock_once(path, &fd);
		if (rc != MG_OK)
			return rc;
		struct stat a, b;
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
			*fd_out = fd;
			return MG_OK;
		}
		close(fd);
	}
	return mg_fail(MG_ERR_BUSY, ACQ_DOM, "%s: the lock file keeps changing", path);
}

int acq_ckpt_begin(struct acq_ckpt *c, mg_store *st, const char *uuid, const char *sidecar)
{
	int rc = mg_acq_checkpoint_dir(st, &c->dir);
	if (rc != MG_OK)
		return rc;
	snprintf(c->uuid, sizeof(c->uuid), "%s", uuid);
	c->lock_path = join(c->dir, uuid, ".lock");
	c->json_path = join(c->dir, uuid, ".json");
	c->mca_path = join(c->dir, uuid, ".mca");
	if (!c->lock_path || !c->json_path || !c->mca_path)
		return mg_fail(MG_ERR_NOMEM, ACQ_DOM, "out of memory");
	/* The lock first: a sidecar is never visible without a held lock. */
	if ((rc = take_lock(c->lock_path, &c->lock_fd)) != MG_OK)
		return rc;
	rc = mg_file_write_atomic(c->json_path, sidecar, strlen(sidecar));
	if (rc != MG_OK) {
		char why[800];
		snprintf(why, sizeof(why), "%s", mg_error_detail());
		return mg_fail(rc, ACQ_DOM, "checkpoint sidecar: %s", why);
	}
	return MG_OK;
}

int acq_ckpt_write(struct acq_ckpt *c, const void *data, size_t len, double real_s)
{
	if (!c->mca_path)
		return mg_fail(MG_ERR_INTERNAL, ACQ_DOM, "checkpoint not begun");
	int rc = mg_file_write_atomic(c->mca_path, data, len);
	if (rc == MG_OK) {
		c->have_partial = 1;
		c->partial_real_s = real_s;
	}
	return rc;
}

void acq_ckpt_end(struct acq_ckpt *c, int remove)
{
	if (remove) {
		if (c->mca_path)
			unlink(c->mca_path);
		if (c->json_path)
			unlink(c->json_path);
		if (c->lock_path && c->lock_fd >= 0)
			unlink(c->lock_path); /* while still holding it: nobody recovers in between */
		if (c->dir)
			fsync_dir(c->dir);
		c->have_partial = 0;
	}
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	c->lock_fd = -1;
	free(c->dir);
	free(c->lock_path);
	free(c->json_path);
	free(c->mca_path);
	c->dir = c->lock_path = c->json_path = c->mca_path = NULL;
}

/* ------------------------------------------------------------ recovery */

const char *mg_acq_recover_action_name(mg_acq_recover_action a)
{
	switch (a) {
	case MG_ACQ_RECOVER_REGISTERED:
		return "registered";
	case MG_ACQ_RECOVER_CLEANED:
		return "cleaned";
	case MG_ACQ_RECOVER_EMPTY:
		return "empty";
	case MG_ACQ_RECOVER_BUSY:
		return "busy";
	case MG_ACQ_RECOVER_FAILED:
		return "failed";
	}
	return "unknown";
}

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* Remove "<prefix>.tmp.*" files (left by a write killed half way) in dir. */
static void remove_temporaries(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	size_t pn = strlen(prefix);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, pn) == 0 && strncmp(e->d_name + pn, ".tmp.", 5) == 0) {
			char p[PATH_MAX];
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			if (unlink(p) == 0)
				mg_dbg(ACQ_DOM, "removed the temporary file %s", p);
		}
	}
	closedir(d);
}

struct sidecar {
	json_t *root;
	const char *uuid, *sample, *batch, *op, *started_at, *device, *settings_text;
	int replicate;
};

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int read_sidecar(const char *path, const char *uuid, struct sidecar *sc)
{
	unsigned char *data = NULL;
	size_t len = 0;
	memset(sc, 0, sizeof(*sc));
	int rc = mg_file_read_all(path, ACQ_SIDECAR_MAX, &data, &len);
	if (rc != MG_OK)
		return rc;
	json_error_t jerr;
	sc->root = json_loadb((const char *)data, len, 0, &jerr);
	free(data);
	if (!sc->root || !json_is_object(sc->root)) {
		json_decref(sc->root);
		sc->root = NULL;
		return mg_fail(MG_ERR_FORMAT, ACQ_DOM, "%s: not a checkpoint sidecar: line %d: %s", path, jerr.line,
		               jerr.text);
	}
	sc->uuid = jstr(sc->root, "uuid");
	sc->sample = jstr(sc->root, "sample");
	sc->batch = jstr(sc->root, "batch");
	sc->op = jstr(sc->root, "operator");
	sc->started_at = jstr(sc->root, "started_at");
	sc->device = jstr(sc->root, "device");
	json_t *rep = json_object_get(sc->root, "replicate");
	sc->replicate = json_is_integer(rep) ? (int)json_integer_value(rep) : 0;
	if (!sc->uuid || strcasecmp(sc->uuid, uuid) != 0)
		return mg_fail(MG_ERR_FORMAT, ACQ_DOM, "%s: its uuid is not %s", path, uuid);
	if (!sc->sample || mg_id_validate(sc->sample) != MG_OK || !sc->batch || mg_id_validate(sc->batch) != MG_OK)
		return mg_fail(MG_ERR_FORMAT, ACQ_DOM, "%s: no valid sample and batch ids", path);
	return MG_OK;
}

struct recover_ctx {
	mg_store *st;
	const char *dir;
	mg_acq_recover_cb cb;
	void *userdata;
	mg_acq_recover_summary *sum;
};

static void report(struct recover_ctx *x, mg_acq_recovery *r)
{
	switch (r->action) {
	case MG_ACQ_RECOVER_REGISTERED:
		x->sum->registered++;
		break;
	case MG_ACQ_RECOVER_CLEANED:
		x->sum->cleaned++;
		break;
	case MG_ACQ_RECOVER_EMPTY:
		x->sum->empty++;
		break;
	case MG_ACQ_RECOVER_BUSY:
		x->sum->busy++;
		break;
	case MG_ACQ_RECOVER_FAILED:
		x->sum->failed++;
		mg_dbg(ACQ_DOM, "checkpoint %s: %s", r->uuid, r->message); /* reported through cb */
		break;
	}
	if (x->cb)
		x->cb(r, x->userdata);
}

static void remove_leftovers(const char *dir, const char *uuid, const char *mca, const char *json,
                             const char *lock)
{
	unlink(mca);
	unlink(json);
	char prefix[MG_UUID_SIZE + 8];
	snprintf(prefix, sizeof(prefix), "%s.mca", uuid);
	remove_temporaries(dir, prefix);
	snprintf(prefix, sizeof(prefix), "%s.json", uuid);
	remove_temporaries(dir, prefix);
	unlink(lock); /* still locked by us */
	fsync_dir(dir);
}

/* A time for ended_at when the spectrum does not say: the file's mtime. */
static void file_time(const char *path, char out[ACQ_TIME_SIZE])
{
	struct stat st;
	out[0] = '\0';
	if (stat(path, &st) == 0)
		acq_utc_format((long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, out);
}

static void recover_one(struct recover_ctx *x, const char *uuid)
{
	mg_acq_recovery r;
	memset(&r, 0, sizeof(r));
	r.uuid = uuid;
	r.live_time_s = r.real_time_s = r.total_counts = NAN;
	char msg[1200];
	char *lock = join(x->dir, uuid, ".lock"), *json = join(x->dir, uuid, ".json"), *mca = join(x->dir, uuid, ".mca");
	char *final = NULL;
	struct sidecar sc = {0};
	mg_spectrum *s = NULL;
	int fd = -1, rc;
	if (!lock || !json || !mca) {
		r.action = MG_ACQ_RECOVER_FAILED;
		r.error = MG_ERR_NOMEM;
		r.message = "out of memory";
		report(x, &r);
		goto out;
	}
	rc = take_lock(lock, &fd);
	if (rc == MG_ERR_BUSY) {
		r.action = MG_ACQ_RECOVER_BUSY;
		r.message = "an acquisition is running and holds it: left alone";
		report(x, &r);
		goto out;
	}
	if (rc != MG_OK)
		goto failed;
	if (!exists(json)) { /* finished (or recovered) while we looked */
		unlink(lock);
		goto out;
	}
	if ((rc = read_sidecar(json, uuid, &sc)) != MG_OK)
		goto failed;
	r.sample_id = sc.sample;
	r.batch_id = sc.batch;
	r.operator_name = sc.op;
	r.started_at = sc.started_at;

	/* 1. registered already: only leftovers to remove */
	mg_measurement m;
	rc = mg_store_measurement_get_uuid(x->st, uuid, &m);
	if (rc == MG_OK) {
		r.measurement_id = m.id;
		mg_measurement_clear(&m);
		remove_leftovers(x->dir, uuid, mca, json, lock);
		r.action = MG_ACQ_RECOVER_CLEANED;
		snprintf(msg, sizeof(msg), "measurement %lld was registered already; its checkpoint files were removed",
		         r.measurement_id);
		r.message = msg;
		report(x, &r);
		goto out;
	}
	if (rc != MG_ERR_NOT_FOUND)
		goto failed;

	if ((rc = mg_store_batch_ensure(x->st, sc.batch, sc.op, NULL)) != MG_OK ||
	    (rc = mg_store_sample_ensure(x->st, sc.sample, sc.batch, NULL, NULL)) != MG_OK ||
	    (rc = mg_store_spectrum_path(x->st, sc.batch, sc.sample, uuid, "mca", &final)) != MG_OK)
		goto failed;
	{
		char sample_dir[PATH_MAX], prefix[MG_UUID_SIZE + 8];
		snprintf(sample_dir, sizeof(sample_dir), "%s", final);
		*strrchr(sample_dir, '/') = '\0';
		snprintf(prefix, sizeof(prefix), "%s.mca", uuid);
		remove_temporaries(sample_dir, prefix);
	}

	/* 2./3. the final file, or the partial one moved into its place */
	int moved = 0;
	if (!exists(final)) {
		if (!exists(mca)) {
			remove_leftovers(x->dir, uuid, mca, json, lock);
			r.action = MG_ACQ_RECOVER_EMPTY;
			snprintf(msg, sizeof(msg),
			         "the acquisition of sample %s (batch %s, started %s) ended before any spectrum was written: "
			         "nothing to register",
			         sc.sample, sc.batch, sc.started_at ? sc.started_at : "?");
			r.message = msg;
			report(x, &r);
			goto out;
		}
		if (rename(mca, final) != 0) {
			rc = mg_fail(MG_ERR_IO, ACQ_DOM, "cannot move %s to %s: %s", mca, final, strerror(errno));
			goto failed;
		}
		fsync_parent(final);
		fsync_dir(x->dir);
		moved = 1;
	}
	if ((rc = mg_spectrum_read_file(final, NULL, &s)) != MG_OK)
		goto failed;

	const char *status = mg_kvlist_get(&s->meta, ACQ_META_STATUS);
	if (!status || (strcmp(status, "complete") && strcmp(status, "stopped_early") && strcmp(status, "device_lost")))
		status = "incomplete";
	const char *ended = mg_kvlist_get(&s->meta, ACQ_META_ENDED);
	char ended_buf[ACQ_TIME_SIZE];
	if (!ended) {
		file_time(final, ended_buf);
		ended = ended_buf[0] ? ended_buf : NULL;
	}
	char notes[300];
	snprintf(notes, sizeof(notes),
	         "recovered by magassay recover from %s: the acquiring process ended before registering it",
	         moved ? "a checkpoint" : "an unregistered spectrum file");
	json_t *settings = json_object_get(sc.root, "settings");
	char *settings_text = json_is_object(settings) ? json_dumps(settings, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	mg_new_measurement nm;
	mg_new_measurement_init(&nm);
	nm.uuid = uuid;
	nm.sample_id = sc.sample;
	nm.batch_id = sc.batch;
	nm.kind = "xrf";
	nm.file = final;
	nm.instrument_model = s->instrument.model;
	nm.instrument_serial = s->instrument.serial;
	nm.instrument_firmware = s->instrument.firmware;
	nm.settings_json = settings_text;
	nm.started_at = sc.started_at;
	nm.ended_at = ended;
	nm.live_time_s = s->live_time_s;
	nm.real_time_s = s->real_time_s;
	nm.total_counts = mg_spectrum_total(s);
	nm.operator_name = sc.op;
	nm.status = status;
	nm.notes = notes;
	nm.replicate = 0;
	long long id = 0;
	rc = mg_store_measurement_add(x->st, &nm, &id, NULL);
	free(settings_text);
	if (rc != MG_OK)
		goto failed;
	remove_leftovers(x->dir, uuid, mca, json, lock);
	r.action = MG_ACQ_RECOVER_REGISTERED;
	r.file = final;
	r.result = status;
	r.measurement_id = id;
	r.live_time_s = s->live_time_s;
	r.real_time_s = s->real_time_s;
	r.total_counts = mg_spectrum_total(s);
	snprintf(msg, sizeof(msg), "sample %s (batch %s, started %s): %.1f s real time, %.0f counts registered as %s",
	         sc.sample, sc.batch, sc.started_at ? sc.started_at : "?", s->real_time_s, r.total_counts, status);
	r.message = msg;
	report(x, &r);
	goto out;

failed:
	snprintf(msg, sizeof(msg), "%s", mg_error_detail());
	if (fd >= 0)
		unlink(lock); /* ours (held): the next recovery makes it again */
	r.action = MG_ACQ_RECOVER_FAILED;
	r.error = rc;
	r.message = msg;
	report(x, &r);
out:
	mg_spectrum_free(s);
	json_decref(sc.root);
	if (fd >= 0)
		close(fd);
	free(final);
	free(lock);
	free(json);
	free(mca);
}

static int is_uuid_name(const char *name, const char *ext, char uuid[MG_UUID_SIZE])
{
	size_t n = strlen(name), en = strlen(ext);
	if (n != MG_UUID_SIZE - 1 + en || strcmp(name + MG_UUID_SIZE - 1, ext) != 0)
		return 0;
	memcpy(uuid, name, MG_UUID_SIZE - 1);
	uuid[MG_UUID_SIZE - 1] = '\0';
	return mg_uuid_validate(uuid) == MG_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int mg_acq_recover(mg_store *st, mg_acq_recover_cb cb, void *userdata, mg_acq_recover_summary *sum)
{
	mg_acq_recover_summary local;
	if (!sum)
		sum = &local;
	memset(sum, 0, sizeof(*sum));
	if (!st)
		return mg_fail(MG_ERR_ARG, ACQ_DOM, "mg_acq_recover: st is NULL");
	char *dir = NULL;
	int rc = mg_acq_checkpoint_dir(st, &dir);
	if (rc != MG_OK)
		return rc;
	DIR *d = opendir(dir);
	if (!d) {
		rc = mg_fail(MG_ERR_IO, ACQ_DOM, "%s: cannot read: %s", dir, strerror(errno));
		free(dir);
		return rc;
	}
	/* Collect first (recovery removes entries), sorted so the order is stable. */
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	char uuid[MG_UUID_SIZE];
	while ((e = readdir(d)) != NULL) {
		if (!is_uuid_name(e->d_name, ".json", uuid))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nn = realloc(names, cap * sizeof(*nn));
			if (!nn)
				break;
			names = nn;
		}
		if (!(names[n] = strdup(uuid)))
			break;
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	struct recover_ctx x = {.st = st, .dir = dir, .cb = cb, .userdata = userdata, .sum = sum};
	for (size_t i = 0; i < n; i++) {
		recover_one(&x, names[i]);
		free(names[i]);
	}
	free(names);

	/* What has no sidecar: a lock file or a temporary file of a run killed
	 * while it wrote its sidecar (removed), a partial spectrum whose sidecar
	 * someone deleted (left, with a warning: whose it is is unknown). */
	if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strlen(e->d_name) <= MG_UUID_SIZE || e->d_name[MG_UUID_SIZE - 1] != '.')
				continue;
			memcpy(uuid, e->d_name, MG_UUID_SIZE - 1);
			uuid[MG_UUID_SIZE - 1] = '\0';
			if (mg_uuid_validate(uuid) != MG_OK)
				continue;
			const char *rest = e->d_name + MG_UUID_SIZE - 1;
			int lockfile = !strcmp(rest, ".lock"), partial = !strcmp(rest, ".mca");
			int temporary = !strncmp(rest, ".mca.tmp.", 9) || !strncmp(rest, ".json.tmp.", 10);
			if (!lockfile && !partial && !temporary)
				continue;
			char *json = join(dir, uuid, ".json"), *lock = join(dir, uuid, ".lock");
			int fd = -1;
			if (json && lock && !exists(json) && take_lock(lock, &fd) == MG_OK && !exists(json)) {
				if (partial) {
					mg_warn(ACQ_DOM, "%s/%s has no sidecar (whose it is is unknown): left in place", dir,
					        e->d_name);
				} else if (temporary) {
					char p[PATH_MAX];
					snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
					unlink(p);
				}
				unlink(lock);
			}
			if (fd >= 0)
				close(fd);
			free(json);
			free(lock);
		}
		closedir(d);
	}
	free(dir);
	return sum->registered;
}
