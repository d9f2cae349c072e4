/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — the acquisition loop: from an XRF instrument to a spectrum in the
 * store that is never lost, whatever happens to the device, the process or
 * the disk. See docs/acquisition.md.
 *
 *   mg_acq_profile   an instrument profile (INI file: [dp5] mnemonics, [acquisition]
 *                    loop settings, [tube] and [instrument] facts), plus overrides
 *   mg_acq_presets   live-time / real-time / counts presets (NAN = off)
 *   mg_acq_run()     open the instrument, then per replicate: disable, configure,
 *                    read back, clear, enable, poll status, checkpoint the partial
 *                    spectrum, stop at the preset or on request, read the final
 *                    spectrum + status, disable, write it atomically (.mca), register
 *                    it in the store with its SHA-256. Device loss: bounded
 *                    reconnection by serial number, resume or save what was measured.
 *   mg_acq_recover() register what killed acquisitions left behind (as "incomplete")
 *
 * The library never prints: progress and problems reach the caller through an
 * event callback; the detail of a failure is in mg_error_detail().
 *
 * Ownership: strings handed in are borrowed. A profile owns its strings
 * (mg_acq_profile_clear). Events and recovery records passed to callbacks are
 * borrowed and valid only during the call. */
#ifndef MAGASSAY_ACQ_H
#define MAGASSAY_ACQ_H

#include <signal.h>
#include <stddef.h>

#include "magassay/device.h"
#include "magassay/spectrum.h"
#include "magassay/store.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

/* ------------------------------------------------------------ profiles */

#define MG_ACQ_DEFAULT_POLL_MS 250u
#define MG_ACQ_DEFAULT_CHECKPOINT_S 10.0
#define MG_ACQ_DEFAULT_RECONNECT_ATTEMPTS 15u
#define MG_ACQ_DEFAULT_RECONNECT_WAIT_MS 2000u
/* Largest profile file read. */
#define MG_ACQ_PROFILE_MAX_BYTES (1024u * 1024u)

typedef struct mg_acq_profile {
	char *source;                /* the file last read, or "built-in" */
	/* [dp5]: DP5 text-configuration mnemonics and values, in order (RESC is
	 * always sent first when present). MCAE is refused: the loop enables and
	 * disables the MCA itself. */
	mg_kvlist dp5;
	/* [acquisition] */
	unsigned poll_ms;            /* poll_ms: status poll interval, ms (default 250) */
	double checkpoint_s;         /* checkpoint_s: instrument real seconds between checkpoints; 0 = none (10) */
	unsigned timeout_ms;         /* timeout_ms: per-request answer timeout; 0 = the driver's (1000) */
	unsigned reconnect_attempts; /* reconnect_attempts: after a device loss (15; 0 = never) */
	unsigned reconnect_wait_ms;  /* reconnect_wait_ms: before each attempt (2000) */
	/* `channels` in [acquisition] is the same setting as [dp5] MCAC. */
	/* [tube] — recorded in the spectrum (the pulse processor does not drive the tube) */
	char *anode;                 /* anode element symbol, "Rh" (NULL = unknown) */
	double tube_kv, tube_ua;     /* NAN = unknown */
	char *filter;                /* primary filter, "Al:100" or "none" */
	char *atmosphere;            /* "air", "vacuum", "helium" */
	/* [instrument] */
	char *detector;              /* detector description, "SDD 25 mm2 500 um" */
} mg_acq_profile;

/* The built-in profile: [dp5] MCAC=2048, PRET=60.0, PRER=OFF, PREC=OFF (the
 * analog settings the unit holds are left alone) and the defaults above.
 * MG_OK or MG_ERR_NOMEM. Release with mg_acq_profile_clear(). */
int mg_acq_profile_init(mg_acq_profile *p);
void mg_acq_profile_clear(mg_acq_profile *p);

/* Read an INI profile over what p holds (normally the built-in one): every
 * value it gives replaces the one in p; [dp5] mnemonics not yet in p are
 * appended. Strict: an unknown section or key, a value out of range, a
 * malformed line or a key given twice is MG_ERR_FORMAT with "NAME:LINE: why",
 * and p is left unchanged. `name` labels errors. */
int mg_acq_profile_parse(mg_acq_profile *p, const char *text, size_t len, const char *name);
/* The same from a file (MG_ERR_NOT_FOUND, MG_ERR_IO, MG_ERR_FORMAT). */
int mg_acq_profile_load(mg_acq_profile *p, const char *path);
/* One override, as `magassay acquire --set` takes it: "CMD=VAL" (a DP5
 * mnemonic) or "section.key=value" (acquisition.poll_ms=50, tube.kv=40).
 * MG_ERR_ARG with a detail on a bad one (p unchanged). */
int mg_acq_profile_set(mg_acq_profile *p, const char *assignment);
/* The [dp5] part as a DP5 text configuration "CMD=VAL;CMD=VAL;..." (RESC
 * first). *out is malloc'ed (free()). MG_ERR_ARG when [dp5] is empty. */
int mg_acq_profile_config_text(const mg_acq_profile *p, char **out);

/* ------------------------------------------------------------ presets */

/* What stops a measurement; NAN = that preset is off. Whichever is reached
 * first stops the instrument (the DP5's PRET, PRER, PREC). */
typedef struct mg_acq_presets {
	double live_s;  /* accumulation ("live") time, s: PRET (0.1 s resolution) */
	double real_s;  /* real time, s: PRER (0.1 s resolution) */
	double counts;  /* total counts: PREC (a whole number) */
} mg_acq_presets;

/* All off. */
mg_acq_presets mg_acq_presets_none(void);
/* Set PRET, PRER and PREC of the profile's [dp5] from p (off = "OFF").
 * MG_ERR_ARG for a value that is not positive, finite, whole (counts) or a
 * multiple of 0.1 s (times), or too large for the instrument. */
int mg_acq_presets_apply(const mg_acq_presets *p, mg_acq_profile *prof);
/* The presets a configuration says (PRET/PRER/PREC entries of a readback or
 * of a profile's [dp5]; missing or "OFF" = off). */
mg_acq_presets mg_acq_presets_from_config(const mg_kvlist *config);
/* 1 if at least one preset is on. */
int mg_acq_presets_any(const mg_acq_presets *p);

/* How far a measurement is, from a status. */
typedef struct mg_acq_progress {
	const char *quantity;  /* the preset that will stop it first: "live_time", "real_time",
	                          "counts", or "none" (no preset: runs until stopped) */
	double value;          /* that quantity now (s or counts) */
	double target;         /* its preset (NAN for "none") */
	double fraction;       /* value / target, 0..1 (NAN for "none") */
	double time_left_s;    /* estimated wall-clock seconds to the preset (NAN if unknown) */
} mg_acq_progress;

/* wall_per_instrument_s: wall seconds per instrument real second (1 for an
 * instrument; the loop measures it, as the simulator may run faster). */
void mg_acq_progress_compute(const mg_acq_presets *p, const mg_xrf_status *st, double wall_per_instrument_s,
                             mg_acq_progress *out);

/* ------------------------------------------------------------ events */

typedef enum mg_acq_event_type {
	MG_ACQ_EV_STARTED = 1, /* a replicate started (instrument enabled): uuid, started_at, presets */
	MG_ACQ_EV_PROGRESS,    /* after each status poll: status, progress */
	MG_ACQ_EV_CHECKPOINT,  /* the partial spectrum was written: file */
	MG_ACQ_EV_SAVED,       /* the spectrum was written and registered: file, sha256, result, ids */
	MG_ACQ_EV_ERROR,       /* a problem: error, message; fatal = 0 when the run goes on
	                          (a failed checkpoint, a device loss being retried) */
	MG_ACQ_EV_RESUMED,     /* the lost instrument is back and still holds the spectrum */
} mg_acq_event_type;

/* "started", "progress", "checkpoint", "saved", "error", "resumed". */
const char *mg_acq_event_name(mg_acq_event_type type);

typedef struct mg_acq_event {
	mg_acq_event_type type;
	const char *sample_id, *batch_id;
	int replicate;               /* 1..replicates: the index in this run */
	int replicates;              /* how many this run was asked for */
	const char *uuid;            /* the measurement's UUID (NULL before it has one) */
	const char *started_at;      /* ISO 8601 UTC with ms and Z ("" before the start) */
	double wall_s;               /* wall-clock seconds since this replicate started (0 before) */
	const mg_xrf_status *status; /* the latest instrument status, or NULL */
	mg_acq_presets presets;      /* in force (from the instrument's readback) */
	mg_acq_progress progress;    /* from status (quantity "none" when status is NULL) */
	const mg_device_info *device;/* the instrument (NULL when lost) */
	/* checkpoint, saved */
	const char *file;            /* absolute path of the file written */
	/* saved */
	const char *sha256;
	const char *result;          /* "complete", "stopped_early", "incomplete", "device_lost" */
	long long measurement_id;
	int stored_replicate;        /* the replicate index the store gave (1, 2, ... per sample) */
	double live_time_s, real_time_s, total_counts; /* of the spectrum written */
	/* error */
	int error;                   /* enum mg_err */
	const char *message;         /* one line (also for resumed) */
	int fatal;                   /* error: 1 = this replicate (and the run) ends */
} mg_acq_event;

/* Return 0 to go on, non-zero to request a stop (as the stop flag does). */
typedef int (*mg_acq_event_cb)(const mg_acq_event *ev, void *userdata);

/* ------------------------------------------------------------ the run */

typedef struct mg_acq_request {
	const char *device_uri;        /* required: see device.h */
	const char *sample_id;         /* required: checked with mg_id_validate */
	const char *batch_id;          /* NULL: the sample must exist (its batch is used) */
	const char *operator_name;     /* may be NULL */
	const char *description;       /* the spectrum's description (Amptek DESCRIPTION); NULL: "sample S batch B" */
	const mg_acq_profile *profile; /* NULL: the built-in profile */
	const mg_acq_presets *presets; /* NULL: as the profile's [dp5] says; else PRET/PRER/PREC from here */
	int replicates;                /* 1.. (0 counts as 1) */
	const char *device_label;      /* what the settings record as the device (NULL: device_uri) */
	mg_acq_event_cb on_event;      /* may be NULL */
	void *userdata;
	/* Stop on request: when *stop becomes non-zero (e.g. set by a signal
	 * handler: sig_atomic_t is async-signal-safe), the running replicate is
	 * stopped cleanly (instrument disabled, spectrum read, saved as
	 * stopped_early) and no further replicate starts. May be NULL. */
	volatile sig_atomic_t *stop;
} mg_acq_request;

typedef struct mg_acq_result {
	int requested;      /* replicates asked for */
	int saved;          /* spectra written and registered */
	int complete, stopped_early, device_lost, incomplete; /* of those saved, by status */
	int kept_unregistered; /* spectra kept on disk but not registered: `magassay recover` will */
	long long last_measurement_id; /* 0 if none */
} mg_acq_result;

/* Validate the request, ensure the batch and sample in the store, open the
 * instrument and measure each replicate. Returns:
 *   MG_OK                every replicate complete, written and registered;
 *   MG_ERR_INTERRUPTED   stopped on request: what was measured is saved (stopped_early);
 *   a negative error     anything else (the detail says what, and what was saved:
 *                        MG_ERR_DISCONNECTED for a lost instrument, MG_ERR_NOSPACE /
 *                        MG_ERR_IO for storage, MG_ERR_ARG for a bad request, ...).
 * res (may be NULL) is filled in every case. Never prints; events go to
 * req->on_event. Checkpoints of killed runs are NOT recovered here: call
 * mg_acq_recover() first (the CLI does). */
int mg_acq_run(mg_store *st, const mg_acq_request *req, mg_acq_result *res);

/* ------------------------------------------------------------ recovery */

/* Where checkpoints live: <data dir>/checkpoints (created 0750). *out is malloc'ed. */
int mg_acq_checkpoint_dir(mg_store *st, char **out);

typedef enum mg_acq_recover_action {
	MG_ACQ_RECOVER_REGISTERED = 1, /* moved to its place in the archive and registered */
	MG_ACQ_RECOVER_CLEANED,        /* it was registered already: leftovers removed */
	MG_ACQ_RECOVER_EMPTY,          /* the run died before any spectrum was written: nothing to register */
	MG_ACQ_RECOVER_BUSY,           /* an acquisition is still writing it: left alone */
	MG_ACQ_RECOVER_FAILED,         /* could not be recovered now: left in place (error, message) */
} mg_acq_recover_action;

/* "registered", "cleaned", "empty", "busy", "failed". */
const char *mg_acq_recover_action_name(mg_acq_recover_action a);

typedef struct mg_acq_recovery {
	mg_acq_recover_action action;
	const char *uuid;
	const char *sample_id, *batch_id, *operator_name; /* NULL if the sidecar could not be read */
	const char *started_at;
	const char *file;            /* registered: the archive file (absolute) */
	const char *result;          /* registered: the status given ("incomplete", or the final status
	                                the spectrum file says when it had been written whole) */
	long long measurement_id;    /* registered / cleaned */
	double live_time_s, real_time_s, total_counts; /* registered */
	int error;                   /* failed: enum mg_err */
	const char *message;         /* one line, every action */
} mg_acq_recovery;

typedef void (*mg_acq_recover_cb)(const mg_acq_recovery *r, void *userdata);

typedef struct mg_acq_recover_summary {
	int registered, cleaned, empty, busy, failed;
} mg_acq_recover_summary;

/* Find the checkpoints that dead acquisitions left (each is a JSON sidecar
 * with its partial spectrum, locked while its acquisition runs), register each
 * as "incomplete" (or as the status its spectrum file records, when the final
 * spectrum had been written but not registered), move it to its place in the
 * archive, and remove what is left. Idempotent: a second call finds nothing;
 * a call interrupted at any point is completed by the next one. Each item is
 * reported through cb (may be NULL); sum (may be NULL) counts them. Returns
 * the number registered, or a negative error if the checkpoint folder cannot
 * be read (items that fail are counted in sum->failed, not returned). */
int mg_acq_recover(mg_store *st, mg_acq_recover_cb cb, void *userdata, mg_acq_recover_summary *sum);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
