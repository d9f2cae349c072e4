/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Private to acq/: what the loop, the checkpoints, the storage hand-off and
 * the reconnect policy share. */
#ifndef MG_ACQ_INTERNAL_H
#define MG_ACQ_INTERNAL_H

#include <signal.h>
#include <stddef.h>

#include "internal.h"
#include "magassay/acq.h"
#include "magassay/buf.h"

#define ACQ_DOM "acq"
#define ACQ_TIME_SIZE 32        /* "2026-01-02T03:04:05.678Z" + NUL, with room */
#define ACQ_SIDECAR_MAX (64u * 1024u)
#define ACQ_CHECKPOINT_FOLDER "checkpoints"

/* Meta keys the loop writes into every spectrum (the .mca keeps them in its
 * <<MAGASSAY>> section), so a file says what it is without the database. */
#define ACQ_META_UUID "acq.uuid"
#define ACQ_META_STATUS "acq.status"     /* complete | stopped_early | incomplete | device_lost */
#define ACQ_META_ENDED "acq.ended_at"
#define ACQ_META_REPLICATE "acq.replicate"

/* ---- clock.c ---- */
double acq_mono_s(void);
/* UTC now, ISO 8601 with milliseconds and Z. */
void acq_utc_now(char out[ACQ_TIME_SIZE]);
/* UTC ISO 8601 (ms, Z) of a time_t + nanoseconds. */
void acq_utc_format(long long sec, long nsec, char out[ACQ_TIME_SIZE]);
/* Sleep ms, returning early (1) once *stop is set; 0 after the full sleep. */
int acq_sleep_ms(unsigned ms, volatile sig_atomic_t *stop);
static inline int acq_stop_requested(volatile sig_atomic_t *stop)
{
	return stop && *stop;
}

/* ---- profile.c ---- */
int acq_profile_copy(mg_acq_profile *dst, const mg_acq_profile *src);

/* ---- checkpoint.c ---- */
struct acq_ckpt {
	char uuid[MG_UUID_SIZE];
	char *dir;          /* <data dir>/checkpoints */
	char *lock_path;    /* <uuid>.lock: flock'ed while the acquisition runs */
	char *json_path;    /* <uuid>.json: the sidecar */
	char *mca_path;     /* <uuid>.mca: the partial spectrum */
	int lock_fd;        /* -1 when not held */
	int have_partial;   /* a partial spectrum is on disk */
	double partial_real_s;
};
void acq_ckpt_init(struct acq_ckpt *c);
/* Create the folder, take the lock, write the sidecar (JSON text). */
int acq_ckpt_begin(struct acq_ckpt *c, mg_store *st, const char *uuid, const char *sidecar);
/* Write the partial spectrum (atomically). */
int acq_ckpt_write(struct acq_ckpt *c, const void *data, size_t len, double real_s);
/* remove: delete the partial spectrum and the sidecar. Always releases the
 * lock (and deletes the lock file when remove). Frees the paths. */
void acq_ckpt_end(struct acq_ckpt *c, int remove);

/* ---- save.c ---- */
/* Serialise as Amptek .mca into out (reset first). */
int acq_serialize_mca(const mg_spectrum *s, mg_buf *out);
/* Stamp the fields the loop owns on a spectrum read from the instrument. */
int acq_stamp(mg_spectrum *s, const char *uuid, const char *sample, const char *batch, const char *op,
              const char *description, const char *started_at, const char *ended_at, const char *status,
              int replicate, const mg_acq_profile *prof);

struct acq_saved {
	char *file;                /* absolute path (malloc'ed) */
	char sha256[MG_SHA256_HEX_SIZE];
	long long measurement_id;
	int replicate;
	int written;               /* the file is in the archive */
	int registered;
	int kept;                  /* not in the archive, but kept in the checkpoint folder */
};

struct acq_save_args {
	mg_store *st;
	const char *uuid, *sample_id, *batch_id, *operator_name;
	const char *started_at, *ended_at, *status;
	const char *settings_json;
	const char *notes;
	struct acq_ckpt *ckpt;     /* the fall-back location; may be NULL */
};

/* Write s to its place in the archive (atomically) and register it. On a
 * write failure the spectrum is written to the checkpoint location instead
 * (out->kept) and the error returned says both. out->file is set whenever
 * something was written. */
int acq_save(const struct acq_save_args *a, const mg_spectrum *s, struct acq_saved *out);
void acq_saved_clear(struct acq_saved *s);

/* ---- reconnect.c ---- */
/* The URI that finds the same unit again: usb:VID:PID?serial=S for a USB
 * unit (also when it was opened by bus.address, which changes on replug),
 * else the URI as given. *out is malloc'ed. */
int acq_reconnect_uri(const char *uri, const mg_device_info *info, char **out);

/* Is this error a lost link (worth reconnecting) rather than a refusal? */
int acq_link_error(int rc);

struct acq_reconnect {
	const char *uri;           /* acq_reconnect_uri() */
	const char *serial;        /* the unit's serial number ("" or NULL: unknown) */
	unsigned attempts, wait_ms, timeout_ms;
	volatile sig_atomic_t *stop;
	/* called before each attempt (attempt 1..attempts) so the caller can report */
	void (*on_attempt)(unsigned attempt, unsigned attempts, void *userdata);
	void *userdata;
};

/* Try to open the unit again. MG_OK and *dev with a status in *st, or the
 * last error (MG_ERR_INTERRUPTED when *stop was set). */
int acq_reconnect_open(const struct acq_reconnect *rc, mg_device **dev, mg_xrf_status *st);
/* Does the instrument still hold the spectrum measured so far? 1 if its
 * times and counts did not go back compared with `before`. */
int acq_can_resume(const mg_xrf_status *before, const mg_xrf_status *now);

#endif
