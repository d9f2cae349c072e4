/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Shared by the end-to-end tests of the instrument drivers: the acquisition
 * checks every transport must pass against the simulated DP5, and a fault
 * wrapper around the simulator for the harness transports (USB, tty, pty). */
#ifndef MG_E2E_COMMON_H
#define MG_E2E_COMMON_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "magassay/buf.h"
#include "magassay/device.h"

/* Simulated seconds per real second in the tests: a poll every ~0.1-1 ms real
 * time advances ~0.1-1 s, and nothing sleeps. */
#define E2E_SPEED "2000"

/* Log to stderr at WARN (MG_E2E_VERBOSE=N for more). */
void e2e_log_init(void);
double e2e_now_ms(void);

/* The standard acquisition checks on an open device: configure, clear,
 * start, counts grow with time, PRET / PRER / PREC stop exactly, spectrum
 * total == slow count, spectra of `sizes` channel counts (0-terminated list;
 * NULL = all six). `what` labels failures. */
void e2e_acquisition(mg_device *dev, const char *what, const size_t *sizes);

/* Poll status until the MCA stops (bounded by max_ms real time). MG_OK when
 * stopped, MG_ERR_TIMEOUT if it did not stop, or the status error. */
int e2e_wait_stopped(mg_device *dev, mg_xrf_status *st, double max_ms);

/* The simulator with faults, for the harness device callback (userdata). */
struct e2e_faulty {
	pthread_mutex_t lock;
	mg_dp5sim *sim;
	int corrupt;      /* corrupt a byte in the next N answers */
	size_t corrupt_at;/* at this offset in the answer (clamped) */
	int silent;       /* swallow the next N answers (a device that does not answer) */
	int garbage;      /* prefix the next N answers with bytes that are no packet */
	int truncate;     /* drop the last bytes of the next N answers */
	int ack_error;    /* >0: answer every request but status with this ACK code */
	unsigned answers; /* answers seen */
};
void e2e_faulty_init(struct e2e_faulty *f, mg_dp5sim *sim);
void e2e_faulty_destroy(struct e2e_faulty *f);
/* Set one fault field under the lock. */
void e2e_faulty_set(struct e2e_faulty *f, int *field, int value);
/* mg_harness_device signature */
void e2e_faulty_serve(const uint8_t *in, size_t n, mg_buf *out, void *userdata);

/* The fault checks through a harness transport serving `f` (the device open
 * on it): corruption → clean retry or a clear error, silence → bounded
 * timeout, garbage → resync, ACK errors → device errors naming the command. */
void e2e_fault_checks(mg_device *dev, struct e2e_faulty *f, const char *what);

#endif
