/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — XRF instruments: find them, open them, configure, acquire, read.
 *
 * One opaque handle (mg_device) for every instrument, whatever the family and
 * the transport beneath it. A URI names the instrument (see transport.h for the
 * grammar):
 *   usb:10c4:842a                 the first Amptek DP5-family unit on USB
 *   usb:10c4:842a?serial=12345    the unit whose *status packet* reports serial 12345
 *                                 (every unit of that VID:PID is opened and asked)
 *   usb:1.7                       the USB device at bus 1, address 7
 *   serial:/dev/ttyUSB0[?baud=N]  RS-232 (115200 8N1 by default); ptys work too
 *   sim:xrf[?sample=..&kv=..]     the simulated XRF instrument, in process
 * The instrument family (driver) is chosen from the URI: the USB VID:PID through
 * the supported-device table (usbids.h), serial ports and the `xrf` simulator go
 * to the DP5 driver (the only family today).
 *
 * Return values follow error.h: 0 = OK, a positive count, or a negative
 * enum mg_err with a detail in mg_error_detail(). Every wait is bounded.
 * A handle is not thread-safe: one thread at a time. See docs/drivers.md. */
#ifndef MAGASSAY_DEVICE_H
#define MAGASSAY_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "magassay/buf.h"
#include "magassay/dp5.h"
#include "magassay/spectrum.h"
#include "magassay/transport.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

/* ------------------------------------------------------------ discovery */

/* What a scan found. Every string is an owned heap string or NULL (unknown). */
typedef struct mg_device_info {
	char *uri;          /* open it with mg_device_open(): "usb:1.2", "serial:/dev/ttyUSB0", "sim:xrf" */
	char *driver;       /* "dp5", or NULL when no driver claims it (an unprobed serial port) */
	char *transport;    /* "usb", "serial", "pty", "sim" */
	char *model;        /* "DP5", "PX5", "DP5G", "MCA8000D", ... (from the status packet) */
	char *serial;       /* serial number from the status packet ("12345") */
	char *firmware;     /* "6.08 Build 3", FPGA apart */
	char *fpga;         /* "6.04" */
	char *description;  /* one line: what the bus says (USB id text, port description) */
	int status;         /* MG_OK: the instrument answered; MG_ERR_NA: not asked (serial
	                       port without probing); else the error of opening or asking it */
	char *error;        /* the detail when status is an error, else NULL */
} mg_device_info;

typedef struct mg_device_list {
	mg_device_info *items;
	size_t count;
} mg_device_list;

/* mg_device_scan() flags */
enum {
	MG_SCAN_PROBE_SERIAL = 1 << 0, /* ask every serial port for a DP5 status (writes to them!) */
	MG_SCAN_NO_USB = 1 << 1,
	MG_SCAN_NO_SERIAL = 1 << 2,
	MG_SCAN_NO_SIM = 1 << 3,
};

/* List what is attached: USB units of every supported family (each one is
 * opened and asked for its status, which gives model, serial number and
 * firmware; one that cannot be opened is still listed, with status and error
 * set, e.g. permission denied), the serial ports libserialport lists (probed
 * only with MG_SCAN_PROBE_SERIAL: writing to unknown ports is rude), and the
 * simulated instruments. A failure to ask one device is not a failure of the
 * scan. *out is filled (free with mg_device_list_free). Returns the number of
 * entries, or MG_ERR_NOMEM / MG_ERR_ARG. */
int mg_device_scan(unsigned flags, mg_device_list *out);
/* Ask the instrument at `uri` who it is (open, status, close). MG_OK and *out
 * filled (strings owned: mg_device_info_clear), or the error (then *out still
 * has uri/transport and status/error set). */
int mg_device_probe(const char *uri, mg_device_info *out);
void mg_device_info_clear(mg_device_info *info);
void mg_device_list_free(mg_device_list *list);

/* ------------------------------------------------------------ status */

/* The generic status of an XRF pulse processor, filled from the family's own
 * status (the DP5's 64-byte packet, kept whole in `dp5`). Plain value type. */
typedef struct mg_xrf_status {
	uint64_t fast_count;       /* fast-channel (input) counts */
	uint64_t slow_count;       /* counts in the spectrum */
	double accumulation_s;     /* accumulation time (the DP5's "live" time) */
	double live_s;             /* live time: the hardware's on MCA8000D, else accumulation */
	double real_s;             /* real time */
	double dead_time_pct;      /* 100*(1 - slow/fast) */
	double input_rate_cps;     /* ICR: fast / real; NAN before any time */
	double output_rate_cps;    /* OCR: slow / accumulation; NAN before any time */
	bool acquiring;            /* the MCA is enabled */
	bool preset_time_reached;  /* PRET/PRER (and PREL on MCA8000D) reached: the MCA stopped */
	bool preset_count_reached; /* PREC reached */
	bool preset_reached;       /* either */
	double hv_v;               /* detector high voltage, V */
	double detector_temp_k;    /* detector (TEC) temperature, K */
	double board_temp_c;       /* electronics temperature, °C */
	char serial[24];           /* "12345", "" if the unit reports none */
	char model[16];            /* "DP5", "PX5", ... */
	char firmware[24];         /* "6.08 Build 3" */
	char fpga[16];             /* "6.04" */
	mg_dp5_status dp5;         /* the raw DP5 status (DP5 family) */
} mg_xrf_status;

/* ------------------------------------------------------------ the handle */

typedef struct mg_device mg_device;

/* Open the instrument at `uri` and ask its status once (so a port that is not
 * an instrument fails here, with the reason). *out is owned by the caller:
 * mg_device_close(). Errors: MG_ERR_ARG (bad URI), MG_ERR_NOT_FOUND (no such
 * device; with ?serial= the detail lists the serials seen), MG_ERR_BUSY,
 * MG_ERR_IO (permission denied: the detail says so), MG_ERR_TIMEOUT (no
 * answer), MG_ERR_UNSUPPORTED (no driver for that device). */
int mg_device_open(const char *uri, mg_device **out);
/* Close and free (NULL is fine). Leaves the instrument as it is (acquiring or not). */
void mg_device_close(mg_device *dev);

/* Who it is: filled at open from the status (owned by the handle). */
const mg_device_info *mg_device_get_info(const mg_device *dev);
/* The transport beneath (owned by the handle), e.g. for its description. */
mg_transport *mg_device_get_transport(mg_device *dev);

/* Per-request answer timeout, ms: the margin added to the wire time of the
 * bytes moved (serial: request + answer bytes × byte time × 2). Default 1000
 * (the DP5 may take some hundred ms to apply a configuration); tests of
 * silent devices set it short. 0 restores the default. */
void mg_device_set_timeout(mg_device *dev, unsigned base_ms);
/* Attempts after a checksum, sync, length or timeout failure (default 3, max 10). */
void mg_device_set_retries(mg_device *dev, unsigned retries);

/* Send a text configuration "CMD=VAL;CMD=VAL;..." (DP5 mnemonics), split into
 * packets of whole commands, each acknowledged before the next is sent. A
 * rejected command fails with MG_ERR_DEVICE and a detail naming it and the
 * device's reason (ACK 05 bad parameter, 07 unrecognised command, ...);
 * packets before it were applied. MG_ERR_ARG for a syntax error (nothing sent). */
int mg_device_configure(mg_device *dev, const char *config);
/* Read the configuration back: mnemonics "CMD;CMD;" or NULL for the family's
 * full list (mnemonics the unit does not know are skipped). Entries are
 * appended to out (key = mnemonic, value, comment = description) and the full
 * readback is remembered for the spectra's meta. Returns the number added. */
int mg_device_read_config(mg_device *dev, const char *mnemonics, mg_kvlist *out);
/* Clear the spectrum and the counters and times. */
int mg_device_clear(mg_device *dev);
/* Enable the MCA (acquire; presets from the configuration apply) / disable it. */
int mg_device_start(mg_device *dev);
int mg_device_stop(mg_device *dev);
/* Ask the status. */
int mg_device_status(mg_device *dev, mg_xrf_status *st);
/* A keep-alive round trip (DP5: F0 21 → ACK). */
int mg_device_ping(mg_device *dev);

/* mg_device_read_spectrum() flags */
enum {
	MG_READ_CLEAR = 1 << 0,     /* clear atomically with the read (the device's own request).
	                               Not retried once sent: the device may have cleared already. */
	MG_READ_NO_CONFIG = 1 << 1, /* skip the configuration readback when none is remembered */
	MG_READ_NO_STATUS = 1 << 2, /* the spectrum alone (no times, no status meta; st zeroed) */
};

/* Read the spectrum with the status of the same instant into a new spectrum:
 * counts, live time (accumulation) and real time from the status, instrument
 * model/serial/firmware, peaking time and presets from the remembered
 * configuration, start time (UTC) if started through this handle, and meta
 * "dp5.status.KEY" (the .mca <<DPP STATUS>> lines) and "dp5.config.CMD" (the
 * last full readback; one is made first if none is remembered, unless
 * MG_READ_NO_CONFIG). st (may be NULL) receives the status. A spectrum is
 * returned only if every byte of the answer was validated; *out is NULL on error.
 * Free with mg_spectrum_free(). */
int mg_device_read_spectrum(mg_device *dev, unsigned flags, mg_spectrum **out, mg_xrf_status *st);

/* Counters since open, for logs and tests. */
typedef struct mg_device_stats {
	unsigned requests;      /* requests sent (retries included) */
	unsigned retries;       /* requests sent again after a failure */
	unsigned resyncs;       /* times bytes were skipped to find the F5 FA sync */
	unsigned checksum_errors;
	unsigned timeouts;
	unsigned stale;         /* well-formed answers that were not for the request, dropped */
	size_t bytes_out, bytes_in;
} mg_device_stats;
mg_device_stats mg_device_get_stats(const mg_device *dev);

/* ------------------------------------------------------------ the simulated DP5 */

/* The simulated XRF instrument (drivers/sim/dp5_device.c): a DP5-family pulse
 * processor behind an SDD and an X-ray tube (physics: xrfsim.h) that answers
 * the DP5 protocol byte for byte. `sim:xrf?...` opens it through the loopback
 * transport; the same object serves a pty (`magassay sim xrf`) or the test
 * harness. Parameters (the query of a sim:xrf URI, "k=v&k=v"):
 *   sample=NAME|COMPOSITION  library sample (ndfeb, ndfeb-dy, ...) or "Fe:70,Nd:30"
 *                            (',' ';' ' ' between elements; default ndfeb)
 *   kv=, ua=, anode=         tube (default 40 kV, 20 µA, Rh)
 *   serial=N                 serial number in the status (default 31337)
 *   model=DP5|PX5|DP5G|MCA8000D|TB5|DP5-X|X-123   (default DP5; X-123 reports DP5)
 *   seed=N                   random stream (default 1)
 *   speed=X                  simulated seconds per real second (default 1)
 * Fault parameters (drop, corrupt, stall, disconnect) belong to the loopback
 * transport and are not accepted here. */
typedef struct mg_dp5sim mg_dp5sim;

/* params may be NULL or "". MG_ERR_ARG with a detail for a bad parameter. */
int mg_dp5sim_new(const char *params, mg_dp5sim **out);
void mg_dp5sim_free(mg_dp5sim *sim);
/* Device side of the wire: bytes from the host (any chunking); the answers
 * are appended to out. Thread-safe (one lock per simulator). */
int mg_dp5sim_feed(mg_dp5sim *sim, const uint8_t *in, size_t n, mg_buf *out);
/* The same with the test harness's device signature (userdata = the simulator). */
void mg_dp5sim_serve(const uint8_t *in, size_t n, mg_buf *out, void *sim);
/* Let simulated time pass (on top of the monotonic clock × speed). */
int mg_dp5sim_advance(mg_dp5sim *sim, double seconds);
/* Wrap as a loopback device (ownership of sim passes to *out, whose free()
 * frees it). */
int mg_dp5sim_simdev(mg_dp5sim *sim, mg_simdev **out);
/* Register `sim:xrf` with the loopback transport (done automatically when the
 * library loads and by mg_device_open/scan; idempotent). */
int mg_dp5sim_register(void);

typedef struct mg_dp5sim_stats {
	unsigned requests;        /* valid request packets */
	unsigned bad_checksum;    /* answered ACK 04 */
	unsigned sync_errors;     /* garbage runs answered ACK 01 */
	unsigned ack_errors;      /* every ACK other than OK sent */
	unsigned spectra;         /* spectrum answers */
	unsigned model_builds;    /* physics models built (not from the cache) */
	double sim_time_s;        /* simulated time since creation */
} mg_dp5sim_stats;
mg_dp5sim_stats mg_dp5sim_get_stats(mg_dp5sim *sim);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
