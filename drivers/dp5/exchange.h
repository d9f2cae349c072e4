/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Private to the DP5 driver (api.c, exchange.c): the family's device state
 * and the request/answer exchange every operation goes through. */
#ifndef MAGASSAY_DRIVERS_DP5_EXCHANGE_H
#define MAGASSAY_DRIVERS_DP5_EXCHANGE_H

#include <stddef.h>
#include <stdint.h>

#include "drivers/device_internal.h"
#include "magassay/dp5.h"

#define DP5_RX_CAP (MG_DP5_MAX_PACKET + 64)

struct mg_dp5_dev {
	uint8_t *rx;       /* received bytes not consumed yet */
	size_t rx_len;
	size_t rx_hold;    /* the answer last returned occupies rx[0..rx_hold) */
	mg_kvlist config;  /* the last full configuration readback */
	int config_valid;
	size_t nchan;      /* channels per MCAC, when known (0 = not known) */
	char start_time[40];
};

enum dp5_expect {
	EXP_ACK,
	EXP_STATUS,
	EXP_SPECTRUM,
	EXP_SPECTRUM_STATUS,
	EXP_CONFIG,
	EXP_ECHO,
};

/* mg_fail() with the current detail after the message. */
int dp5_fail_wrap(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The offending command an error ACK carries, printable, into dst. */
void dp5_ack_text(const mg_dp5_response *r, char *dst, size_t cap);

/* One request, one validated answer (in dev->dp5->rx until the next exchange;
 * also an error ACK, returned as MG_ERR_DEVICE with *rsp filled).
 * idempotent: may be sent again after a failure of its answer. */
int dp5_exchange(mg_device *dev, const uint8_t *req, size_t reqlen, enum dp5_expect e, int idempotent,
                 mg_dp5_response *rsp, const char *what);

/* A request without data whose answer is an ACK. */
int dp5_simple(mg_device *dev, enum mg_dp5_request r, const char *what);

#endif
