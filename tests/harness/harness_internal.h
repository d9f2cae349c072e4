/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Private to the test harness. */
#ifndef MG_HARNESS_INTERNAL_H
#define MG_HARNESS_INTERNAL_H

#include <pthread.h>

#include "mg_harness.h"

#ifdef MG_HARNESS_UMOCKDEV
#include <umockdev.h>
/* The process's one umockdev testbed, created on first use, freed when the
 * last simulated device is stopped. */
UMockdevTestbed *mg_harness_testbed_ref_(void);
void mg_harness_testbed_unref_(void);
#endif

/* A thread that serves one file descriptor (a pty master) with a device
 * callback: reads what the host sent, hands it to the device, writes the
 * answer back. Every wait is bounded; stop() joins the thread. */
struct mg_fdserver {
	int fd;
	int wake[2];          /* pipe: stop request */
	pthread_t thread;
	int running;
	int stopping;         /* atomic: stop() was called */
	pthread_mutex_t lock; /* serialises device calls and writes */
	mg_harness_device device;
	void *userdata;
};
int mg_fdserver_start_(struct mg_fdserver *s, int fd, mg_harness_device device, void *userdata);
void mg_fdserver_stop_(struct mg_fdserver *s);
/* Write bytes to the fd as if the device had sent them. */
void mg_fdserver_push_(struct mg_fdserver *s, const void *data, size_t n);

#endif
