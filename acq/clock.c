/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Clocks for the acquisition loop: monotonic seconds, UTC timestamps, and a
 * sleep that a stop request cuts short. */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "acq/acq_internal.h"

double acq_mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void acq_utc_format(long long sec, long nsec, char out[ACQ_TIME_SIZE])
{
	time_t t = (time_t)sec;
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t n = strftime(out, ACQ_TIME_SIZE - 6, "%Y-%m-%dT%H:%M:%S", &tm);
	int ms = (int)((nsec / 1000000L) % 1000L);
	out[n++] = '.';
	out[n++] = (char)('0' + ms / 100);
	out[n++] = (char)('0' + ms / 10 % 10);
	out[n++] = (char)('0' + ms % 10);
	out[n++] = 'Z';
	out[n] = '\0';
}

void acq_utc_now(char out[ACQ_TIME_SIZE])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	acq_utc_format((long long)ts.tv_sec, ts.tv_nsec, out);
}

int acq_sleep_ms(unsigned ms, volatile sig_atomic_t *stop)
{
	if (acq_stop_requested(stop))
		return 1;
	struct timespec ts = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
	/* nanosleep is never restarted after a signal handler: EINTR, then we look at *stop. */
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		if (acq_stop_requested(stop))
			return 1;
	return acq_stop_requested(stop);
}
