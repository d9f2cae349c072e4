/* SPDX-License-Identifier: GPL-3.0-or-later */
/* USBTMC / USB488 (USB test-and-measurement class) — private to the library
 * (drivers/, tests; not installed). Three parts:
 *
 *  1. The codec (usbtmc_codec.c): pure functions on bytes (no I/O),
 *     fuzzable. The 12-byte bulk headers, bTag sequencing, alignment,
 *     message splitting, the GET_CAPABILITIES answer, names of requests and
 *     status values.
 *  2. The host backend of mg_transport for `usbtmc:` URIs (libusb; opening
 *     in usbtmc_open.c, I/O in usbtmc.c): each mg_transport_write() is one
 *     device message (DEV_DEP_MSG_OUT transfers, EOM on the last);
 *     mg_transport_read() returns the data bytes of
 *     DEV_DEP_MSG_IN transfers, asking for each with REQUEST_DEV_DEP_MSG_IN.
 *     A timed-out or malformed read is aborted (INITIATE_ABORT_BULK_IN, drain,
 *     CHECK_ABORT_BULK_IN_STATUS), a failed write too (INITIATE_ABORT_BULK_OUT,
 *     CHECK_ABORT_BULK_OUT_STATUS, CLEAR_HALT); when an abort is refused the
 *     device is cleared (INITIATE_CLEAR, CHECK_CLEAR_STATUS, CLEAR_HALT).
 *  3. The device side ("function", usbtmc_function.c): a state machine a
 *     simulated instrument puts behind an emulated USB device
 *     (drivers/sim/icp_adapters.c).
 *
 * See docs/protocol-scpi-usbtmc.md. Numbers: USBTMC 1.0 and USB488 1.0 as
 * transcribed in ../shared/reference/usbtmc-scpi.md. */
#ifndef MG_USBTMC_H
#define MG_USBTMC_H

#include <stddef.h>
#include <stdint.h>

#include "magassay/buf.h"
#include "magassay/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MG_USBTMC_HEADER_LEN 12
#define MG_USBTMC_CAPS_LEN 24
#define MG_USBTMC_CLASS 0xfe    /* bInterfaceClass: application specific */
#define MG_USBTMC_SUBCLASS 0x03 /* bInterfaceSubClass: USBTMC */
#define MG_USBTMC_PROTOCOL_USB488 0x01

/* MsgID */
enum {
	MG_USBTMC_DEV_DEP_MSG_OUT = 1,
	MG_USBTMC_REQUEST_DEV_DEP_MSG_IN = 2, /* host -> device */
	MG_USBTMC_DEV_DEP_MSG_IN = 2,         /* device -> host */
	MG_USBTMC_VENDOR_SPECIFIC_OUT = 126,
	MG_USBTMC_REQUEST_VENDOR_SPECIFIC_IN = 127,
	MG_USBTMC_VENDOR_SPECIFIC_IN = 127,
	MG_USB488_TRIGGER = 128,
};

/* bmTransferAttributes */
#define MG_USBTMC_ATTR_EOM 0x01      /* DEV_DEP_MSG_OUT / DEV_DEP_MSG_IN: last byte of the message */
#define MG_USBTMC_ATTR_TERMCHAR 0x02 /* REQUEST_DEV_DEP_MSG_IN: TermChar enabled; MSG_IN: ended on it */

/* Class-specific control requests (bRequest). */
enum {
	MG_USBTMC_REQ_INITIATE_ABORT_BULK_OUT = 1,
	MG_USBTMC_REQ_CHECK_ABORT_BULK_OUT_STATUS = 2,
	MG_USBTMC_REQ_INITIATE_ABORT_BULK_IN = 3,
	MG_USBTMC_REQ_CHECK_ABORT_BULK_IN_STATUS = 4,
	MG_USBTMC_REQ_INITIATE_CLEAR = 5,
	MG_USBTMC_REQ_CHECK_CLEAR_STATUS = 6,
	MG_USBTMC_REQ_GET_CAPABILITIES = 7,
	MG_USBTMC_REQ_INDICATOR_PULSE = 64,
	MG_USB488_REQ_READ_STATUS_BYTE = 128,
	MG_USB488_REQ_REN_CONTROL = 160,
	MG_USB488_REQ_GO_TO_LOCAL = 161,
	MG_USB488_REQ_LOCAL_LOCKOUT = 162,
};

/* bmRequestType of the class requests */
#define MG_USBTMC_RT_IFACE 0xa1 /* IN | class | interface */
#define MG_USBTMC_RT_EP 0xa2    /* IN | class | endpoint */

/* USBTMC_status */
enum {
	MG_USBTMC_STATUS_SUCCESS = 0x01,
	MG_USBTMC_STATUS_PENDING = 0x02,
	MG_USBTMC_STATUS_INTERRUPT_IN_BUSY = 0x20,
	MG_USBTMC_STATUS_FAILED = 0x80,
	MG_USBTMC_STATUS_TRANSFER_NOT_IN_PROGRESS = 0x81,
	MG_USBTMC_STATUS_SPLIT_NOT_IN_PROGRESS = 0x82,
	MG_USBTMC_STATUS_SPLIT_IN_PROGRESS = 0x83,
};

/* ------------------------------------------------------------ codec */

/* A bulk header, decoded. */
typedef struct mg_usbtmc_header {
	uint8_t msg_id;
	uint8_t btag;            /* 1..255 */
	uint32_t transfer_size;  /* data bytes in this transfer (REQUEST_DEV_DEP_MSG_IN: the most wanted) */
	uint8_t attributes;      /* MG_USBTMC_ATTR_* */
	uint8_t term_char;       /* REQUEST_DEV_DEP_MSG_IN with MG_USBTMC_ATTR_TERMCHAR */
} mg_usbtmc_header;

/* GET_CAPABILITIES, decoded. */
typedef struct mg_usbtmc_caps {
	uint16_t bcd_usbtmc;     /* 0x0100 */
	int indicator_pulse;     /* byte 4 D2 */
	int talk_only;           /* byte 4 D1 */
	int listen_only;         /* byte 4 D0 */
	int term_char;           /* byte 5 D0: can end a Bulk-IN transfer on TermChar */
	uint16_t bcd_usb488;     /* bytes 12-13, 0 for a plain USBTMC interface */
	int is_488_2;            /* byte 14 D2 */
	int ren_control;         /* byte 14 D1: REN_CONTROL, GO_TO_LOCAL, LOCAL_LOCKOUT */
	int trigger;             /* byte 14 D0: the TRIGGER MsgID */
	int scpi;                /* byte 15 D3 */
	int sr1;                 /* byte 15 D2: service request (needs an interrupt-IN endpoint) */
	int rl1;                 /* byte 15 D1: remote/local */
	int dt1;                 /* byte 15 D0: device trigger */
} mg_usbtmc_caps;

/* The next bTag after `last`: 1, 2, ..., 255, 1, ... (0 is never used). */
uint8_t mg_usbtmc_next_btag(uint8_t last);
/* Bytes on the wire for a transfer of n data bytes: 12 + n rounded up to 4. */
size_t mg_usbtmc_transfer_len(size_t n);
/* Encode a header (bTagInverse and the reserved bytes filled in). */
void mg_usbtmc_encode_header(const mg_usbtmc_header *h, uint8_t dst[MG_USBTMC_HEADER_LEN]);
/* One DEV_DEP_MSG_OUT (or, with in = 1, DEV_DEP_MSG_IN) transfer: header,
 * the n data bytes, zero padding to a multiple of 4. Appends to out. */
int mg_usbtmc_encode_transfer(mg_buf *out, int in, uint8_t btag, const void *data, size_t n, int eom);
/* REQUEST_DEV_DEP_MSG_IN for at most max bytes (term < 0: no TermChar). */
void mg_usbtmc_encode_request_in(uint8_t btag, uint32_t max, int term, uint8_t dst[MG_USBTMC_HEADER_LEN]);
/* A whole message as DEV_DEP_MSG_OUT transfers of at most max_data data bytes
 * each (EOM on the last only), each with a new bTag from *btag (advanced).
 * Appends to out; *ntransfers (may be NULL) receives the count. n = 0 gives
 * one empty transfer with EOM. */
int mg_usbtmc_split_message(mg_buf *out, uint8_t *btag, const void *data, size_t n, size_t max_data,
                            size_t *ntransfers);
/* Decode and validate a header. in = 1 for the device -> host direction
 * (DEV_DEP_MSG_IN, VENDOR_SPECIFIC_IN), 0 for host -> device. Checks bTag != 0,
 * bTagInverse, the MsgID for the direction, the reserved bytes, attribute
 * bits the MsgID does not define. MG_ERR_NEED_MORE if n < 12; MG_ERR_PROTOCOL
 * with a detail naming the byte otherwise. */
int mg_usbtmc_decode_header(const uint8_t *p, size_t n, int in, mg_usbtmc_header *h);
/* The 24-byte GET_CAPABILITIES answer (status must be SUCCESS). */
int mg_usbtmc_decode_caps(const uint8_t *p, size_t n, mg_usbtmc_caps *caps);
void mg_usbtmc_encode_caps(const mg_usbtmc_caps *caps, uint8_t dst[MG_USBTMC_CAPS_LEN]);
/* "STATUS_SUCCESS", "INITIATE_ABORT_BULK_IN", "DEV_DEP_MSG_OUT" ... */
const char *mg_usbtmc_status_name(uint8_t status);
const char *mg_usbtmc_request_name(uint8_t request);
const char *mg_usbtmc_msg_name(uint8_t msg_id, int in);

/* ------------------------------------------------------------ host transport */

typedef struct mg_usbtmc_stats {
	unsigned transfers_out;  /* DEV_DEP_MSG_OUT transfers */
	unsigned requests_in;    /* REQUEST_DEV_DEP_MSG_IN sent */
	unsigned transfers_in;   /* DEV_DEP_MSG_IN received */
	unsigned empty_reads;    /* zero-length packets skipped before a header */
	unsigned continuations;  /* extra Bulk-IN reads inside one transfer (long transfers) */
	unsigned aborts_in, aborts_out, clears;
	unsigned bad_headers;
	uint8_t last_btag;       /* the last bTag used */
} mg_usbtmc_stats;

/* 1 if t is a USBTMC transport. */
int mg_usbtmc_transport_is(const mg_transport *t);
/* 1 when the bytes read so far end a device message (EOM seen, nothing
 * kept); 0 in the middle of one. MG_ERR_ARG if t is not USBTMC. */
int mg_usbtmc_transport_message_end(const mg_transport *t);
/* Device clear: INITIATE_CLEAR, CHECK_CLEAR_STATUS until done (bounded),
 * CLEAR_HALT on Bulk-OUT; the host side forgets pending input. */
int mg_usbtmc_transport_clear(mg_transport *t);
/* The capabilities read at open (MG_ERR_NA if the device refused them). */
int mg_usbtmc_transport_caps(const mg_transport *t, mg_usbtmc_caps *caps);
/* USB488 READ_STATUS_BYTE (the STB without a query). */
int mg_usbtmc_transport_read_stb(mg_transport *t, uint8_t *stb);
/* Data bytes per transfer: out (DEV_DEP_MSG_OUT) and in (asked for with each
 * REQUEST_DEV_DEP_MSG_IN); 0 keeps the current value. Defaults 16384 / 16384. */
void mg_usbtmc_transport_set_max_transfer(mg_transport *t, size_t out, size_t in);
mg_usbtmc_stats mg_usbtmc_transport_stats(const mg_transport *t);

/* ------------------------------------------------------------ device side */

/* Actions for the emulated USB device after a control request. */
#define MG_USBTMC_FN_DROP_IN 1u /* discard the Bulk-IN bytes the host has not read yet */
#define MG_USBTMC_FN_ZLP 2u     /* end the Bulk-IN transfer with a short (zero-length) packet */

typedef struct mg_usbtmc_fn_stats {
	unsigned messages;      /* complete command messages handed to the instrument */
	unsigned transfers_out; /* DEV_DEP_MSG_OUT transfers */
	unsigned requests_in;   /* REQUEST_DEV_DEP_MSG_IN */
	unsigned transfers_in;  /* DEV_DEP_MSG_IN sent */
	unsigned bad_headers;
	unsigned aborts_in, aborts_out, clears, check_status, caps_requests, stb_requests;
	unsigned controls;      /* every class request */
	uint8_t last_abort_btag;
} mg_usbtmc_fn_stats;

/* The device-side state. Zero it with mg_usbtmc_fn_init(). */
typedef struct mg_usbtmc_fn {
	mg_usbtmc_caps caps;
	uint8_t ep_out, ep_in;     /* for the wIndex checks of the abort requests */
	/* Bulk-OUT parsing */
	uint8_t hdr[MG_USBTMC_HEADER_LEN];
	size_t hdr_have;
	mg_usbtmc_header cur;
	int in_transfer;           /* inside a DEV_DEP_MSG_OUT transfer */
	size_t data_left, pad_left;
	mg_buf msg;                /* the command message being assembled */
	uint8_t last_out_btag;     /* of the last Bulk-OUT header */
	uint32_t nbytes_rxd;       /* data bytes of the current/last Bulk-OUT transfer */
	/* Bulk-IN */
	mg_buf resp;               /* the instrument's answer bytes not yet sent */
	size_t resp_pos;
	int req_pending;           /* a REQUEST_DEV_DEP_MSG_IN is waiting for data */
	uint8_t req_btag;
	uint32_t req_max;
	int in_fifo;               /* a DEV_DEP_MSG_IN went out the host may not have read */
	uint8_t in_fifo_btag;
	uint32_t nbytes_txd;
	/* split transactions (INITIATE_x ... CHECK_x) */
	int abort_in, abort_out, clearing;
	unsigned check_pending;    /* test knob: answer the next CHECK_x this many times PENDING */
	uint8_t stb;               /* the status byte READ_STATUS_BYTE reports (MAV is added) */
	mg_usbtmc_fn_stats st;
} mg_usbtmc_fn;

/* The instrument: a complete command message arrived; append its answer
 * (if any) to response. Return MG_OK or a negative error (logged). */
typedef int (*mg_usbtmc_fn_message)(const uint8_t *msg, size_t n, mg_buf *response, void *userdata);

void mg_usbtmc_fn_init(mg_usbtmc_fn *f, const mg_usbtmc_caps *caps, uint8_t ep_out, uint8_t ep_in);
void mg_usbtmc_fn_free(mg_usbtmc_fn *f);
/* Bytes of one Bulk-OUT transfer (or a part of one, in order). Messages go to
 * on_msg; DEV_DEP_MSG_IN transfers the host asked for are appended to
 * bulk_in. A malformed header drops the rest of `in` (a real device would
 * halt Bulk-OUT) and returns MG_ERR_PROTOCOL. */
int mg_usbtmc_fn_bulk_out(mg_usbtmc_fn *f, const uint8_t *in, size_t n, mg_usbtmc_fn_message on_msg,
                          void *userdata, mg_buf *bulk_in);
/* Queue answer bytes produced outside a message (e.g. when time passes);
 * sends them at once if a request is waiting. */
int mg_usbtmc_fn_respond(mg_usbtmc_fn *f, const void *data, size_t n, mg_buf *bulk_in);
/* A class control request (setup = the 8 setup bytes). Fills data (cap
 * bytes) and returns the answer length, or -1 to stall. *actions receives
 * MG_USBTMC_FN_* bits for the emulated endpoint. */
int mg_usbtmc_fn_control(mg_usbtmc_fn *f, const uint8_t setup[8], uint8_t *data, size_t cap,
                         unsigned *actions);

#ifdef __cplusplus
}
#endif
#endif
