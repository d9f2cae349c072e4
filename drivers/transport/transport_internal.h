/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Private to drivers/transport: the backend interface behind mg_transport. */
#ifndef MG_TRANSPORT_INTERNAL_H
#define MG_TRANSPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "magassay/transport.h"

/* Each backend implements these. The dispatch layer (transport.c) has already
 * checked the arguments, logs the bytes and remembers a disconnection. */
struct mg_transport_ops {
	/* All n bytes, or an error. */
	int (*write)(mg_transport *t, const uint8_t *data, size_t n, unsigned timeout_ms);
	/* A positive count, MG_ERR_TIMEOUT, MG_ERR_DISCONNECTED, ... (1 <= n <= INT_MAX). */
	int (*read)(mg_transport *t, uint8_t *data, size_t n, unsigned timeout_ms);
	int (*flush_input)(mg_transport *t);
	/* Release the backend state (priv); the handle itself is freed by the caller. */
	void (*close)(mg_transport *t);
};

struct mg_transport {
	const struct mg_transport_ops *ops;
	mg_transport_kind kind;
	const char *domain;   /* log domain: "usb", "serial", "pty", "loopback" */
	char *desc;           /* owned */
	double byte_time_us;  /* 0 for USB and loopback */
	int gone;             /* a backend reported MG_ERR_DISCONNECTED */
	void *priv;           /* backend state */
};

/* Allocate a handle; desc is formatted. NULL on allocation failure. */
mg_transport *mg_transport_alloc_(mg_transport_kind kind, const struct mg_transport_ops *ops,
                                  const char *domain, void *priv, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Free a handle whose ops->close has run (or that never opened). */
void mg_transport_free_(mg_transport *t);

/* A monotonic clock in milliseconds, and the time left until a deadline (0 if past). */
uint64_t mg_transport_now_ms_(void);
unsigned mg_transport_left_ms_(uint64_t deadline);

/* Parse "k=v&k=v" into params (appended to *params / *n); strict. `what`
 * names the context in errors. */
int mg_transport_parse_params_(const char *query, const char *what, mg_transport_param **params,
                               size_t *n);
void mg_transport_free_params_(mg_transport_param *params, size_t n);
/* Strict unsigned decimal, no sign, no spaces, no leading '+'. */
int mg_transport_parse_uint_(const char *s, unsigned long max, unsigned long *out);

/* Backends. */
int mg_transport_usb_open_uri_(const mg_transport_uri *uri, mg_transport **out);
/* usbtmc.c: usbtmc: (and usb:) URIs through the USBTMC backend. */
int mg_transport_usbtmc_open_uri_(const mg_transport_uri *uri, mg_transport **out);
int mg_transport_serial_open_(const char *path, unsigned baud, mg_transport **out);
int mg_transport_pty_open_(const char *path, unsigned baud, mg_transport **out);
/* 1 if path resolves to a pseudo-terminal (which libserialport refuses). */
int mg_transport_path_is_pty_(const char *path);
/* A libusb error code as an mg_err with a message naming what failed, with a
 * hint for permission and busy errors (usb.c; used by usbtmc.c too). */
int mg_usb_map_err_(int lrc, const char *dom, const char *what, const char *desc);
/* Open a sim: URI through the registry (loopback.c). */
int mg_transport_sim_open_(mg_transport_uri *uri, mg_transport **out);

#endif
