/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The USBTMC files of the transport layer (usbtmc.h), private to them:
 *   usbtmc_codec.c     the codec: pure functions on bytes
 *   usbtmc.c           the host transport's I/O over libusb: messages,
 *                      reads, aborts, device clear
 *   usbtmc_open.c      finding and opening the device behind a usbtmc: URI
 *   usbtmc_function.c  the device side, for simulated instruments */
#ifndef MG_USBTMC_INTERNAL_H
#define MG_USBTMC_INTERNAL_H

#include <libusb.h>
#include <stddef.h>
#include <stdint.h>

#include "transport_internal.h"
#include "usbtmc.h"

#define DEFAULT_MAX_OUT 16384u
#define DEFAULT_MAX_IN 16384u
#define CTRL_TIMEOUT_MS 500u
/* Little-endian 32-bit fields of the headers. */
#define PUT32(p, v)                                                                                \
	do {                                                                                       \
		(p)[0] = (uint8_t)(v);                                                             \
		(p)[1] = (uint8_t)((v) >> 8);                                                      \
		(p)[2] = (uint8_t)((v) >> 16);                                                     \
		(p)[3] = (uint8_t)((v) >> 24);                                                     \
	} while (0)
#define GET32(p) ((uint32_t)(p)[0] | (uint32_t)(p)[1] << 8 | (uint32_t)(p)[2] << 16 | (uint32_t)(p)[3] << 24)

/* The host transport's state (mg_transport.priv). */
struct tmc_priv {
	libusb_context *ctx;
	libusb_device_handle *h;
	int iface;
	uint8_t ep_in, ep_out;
	uint16_t in_packet;        /* wMaxPacketSize of Bulk-IN */
	int usb488;
	int reattach, claimed;
	uint8_t btag;              /* the last bTag used (0: none yet) */
	uint8_t last_out_btag;     /* of the last DEV_DEP_MSG_OUT */
	uint8_t last_req_btag;     /* of the last REQUEST_DEV_DEP_MSG_IN */
	uint8_t stb_btag;          /* READ_STATUS_BYTE: 2..127 */
	mg_usbtmc_caps caps;
	int have_caps;
	size_t max_out, max_in;
	uint8_t *rx;               /* one Bulk-IN transfer */
	size_t rx_cap;
	size_t data_pos, data_len; /* the current transfer's data in rx[12 + ...] not yet returned */
	int eom;                   /* the last transfer ended the message */
	mg_buf tx;
	mg_usbtmc_stats st;
};

/* The transport's operations (usbtmc.c). */
extern const struct mg_transport_ops usbtmc_ops;
/* A class IN control request; returns the bytes received or a libusb error. */
int usbtmc_ctrl_in(struct tmc_priv *p, uint8_t rt, uint8_t req, uint16_t value, uint16_t index, uint8_t *buf,
                   uint16_t len);

#endif
