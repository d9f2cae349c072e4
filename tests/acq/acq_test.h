/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Shared by the acquisition tests: fresh data directories, a fast profile,
 * an event recorder with hooks, and the consistency checks every stored
 * measurement must pass (file and database row agree; presets honoured). */
#ifndef MG_ACQ_TEST_H
#define MG_ACQ_TEST_H

#include <signal.h>

#include "magassay/acq.h"
#include "magassay/store.h"

/* Simulated seconds per real second: a 10 s preset takes ~5 ms. */
#define ACQT_SPEED "2000"
#define ACQT_MAX_SAVED 16

/* Log to stderr at ERR (MG_ACQ_VERBOSE=N for more). */
void acqt_log_init(void);
double acqt_now_ms(void);
/* A fresh folder under the test's temporary directory (static buffer per call site: copy it). */
const char *acqt_fresh_dir(const char *name);
/* Open (create) a store there; NULL on failure (a CHECK failed). */
mg_store *acqt_store(const char *dir);

/* The built-in profile made fast for tests: poll_ms=1, checkpoint_s (0 = none),
 * reconnect after 1 ms, 2 attempts, 200 ms answer timeout. */
void acqt_profile(mg_acq_profile *p, double checkpoint_s);

typedef struct acqt_events {
	int n[8];                  /* per mg_acq_event_type */
	int fatal;                 /* fatal error events */
	char last_error[2000];
	int nsaved;
	char saved_status[ACQT_MAX_SAVED][24];
	long long saved_id[ACQT_MAX_SAVED];
	int stop_at_progress;      /* return 1 (stop) from the callback at this progress event (0: never) */
	volatile sig_atomic_t *flag;
	int flag_at_progress;      /* set *flag at this progress event (0: never) */
	int checkpoints_seen_at_stop;
	/* called on every event (after the counting) */
	void (*hook)(const mg_acq_event *ev, struct acqt_events *e);
	void *hook_data;
	int replicate_mismatch;    /* events whose replicate index was out of 1..replicates */
} acqt_events;

void acqt_events_init(acqt_events *e);
int acqt_on_event(const mg_acq_event *ev, void *userdata);

/* Every check on measurement `id`: row, file (size, SHA-256), the .mca read
 * back (counts == row total == status slow count, times, start time, sample,
 * batch, instrument, status meta), and the presets when complete. */
void acqt_check_measurement(mg_store *st, long long id, const char *want_status, const mg_acq_presets *presets,
                            const char *what);
/* mg_store_check finds no problem. */
void acqt_check_store(mg_store *st, const char *what);
/* Number of measurements of a sample (or all when sample is NULL). */
int acqt_count(mg_store *st, const char *sample);
/* The id of the sample's last measurement, 0 if none. */
long long acqt_last_id(mg_store *st, const char *sample);
/* Files in <data dir>/checkpoints (0 if none). */
int acqt_checkpoint_files(const char *data_dir);

#endif
