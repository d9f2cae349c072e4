/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — ICP-OES instruments: open, identify, configure lines, measure a
 * sample position, drain the instrument's error queue; the instrument
 * profiles that map these operations to an instrument's SCPI commands; and
 * the simulated ICP-OES.
 *
 * A URI names the instrument (see transport.h for the grammar):
 *   scpi+serial:/dev/ttyUSB0[?baud=N]  SCPI over RS-232 (115200 8N1 by default; ptys too)
 *   serial:/dev/ttyUSB0[?baud=N]       the same, through this API
 *   usbtmc:VID:PID[?serial=S]          USBTMC/USB488 over libusb (serial = the iSerial string)
 *   usbtmc:BUS.ADDR                    the USBTMC device at that bus and address
 *   sim:icp[?params]                   the simulated ICP-OES, in process
 * The driver asks `*IDN?` and picks the instrument profile whose [identify]
 * patterns match (profiles in $MAGASSAY_PROFILE_PATH, then the installed
 * share/magassay/profiles, then the built-in ones), unless one is given.
 * Profiles: docs/icp-profile.md. Wire protocol: docs/protocol-scpi-usbtmc.md.
 *
 * The data delivered (mg_icp_measurement, ...) is icp.h, the contract with
 * the ICP analysis. Return values follow error.h; every wait is bounded. An
 * error the instrument reports in its SYSTem:ERRor? queue is MG_ERR_DEVICE
 * with every error number and text in mg_error_detail(). A handle is used by
 * one thread at a time. */
#ifndef MAGASSAY_ICP_DEVICE_H
#define MAGASSAY_ICP_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "magassay/buf.h"
#include "magassay/icp.h"
#include "magassay/transport.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

/* ------------------------------------------------------------ profiles */

/* An instrument profile (opaque; parsed strictly from the INI-like text
 * format of docs/icp-profile.md). */
typedef struct mg_icp_profile mg_icp_profile;

/* Parse a profile from memory. source names it in errors ("x.ini"). A
 * malformed profile is MG_ERR_FORMAT with "x.ini line N: ..." in the detail. */
int mg_icp_profile_parse(const char *text, size_t n, const char *source, mg_icp_profile **out);
/* Read and parse a file. */
int mg_icp_profile_load(const char *path, mg_icp_profile **out);
/* A built-in profile by name ("magassay-sim-icp"); NULL name: the first. */
int mg_icp_profile_builtin(const char *name, mg_icp_profile **out);
/* The text of a built-in profile (static), or NULL. *n its length. */
const char *mg_icp_profile_builtin_text(const char *name, size_t *n);
void mg_icp_profile_free(mg_icp_profile *p);
const char *mg_icp_profile_name(const mg_icp_profile *p);
const char *mg_icp_profile_description(const mg_icp_profile *p);
/* 1 if the profile's [identify] patterns match this *IDN? identity. */
int mg_icp_profile_matches(const mg_icp_profile *p, const char *manufacturer, const char *model,
                           const char *firmware);

/* ------------------------------------------------------------ the instrument */

typedef struct mg_icp_device mg_icp_device;

/* Who it is: the *IDN? fields and the profile in use. */
typedef struct mg_icp_identity {
	char manufacturer[64];
	char model[64];
	char serial[64];
	char firmware[64];
	char profile[64];        /* the profile's name */
	char transport[96];      /* mg_transport_description() */
} mg_icp_identity;

/* One error from the instrument's error queue. */
typedef struct mg_icp_instrument_error {
	int code;                /* SCPI error number (-113, -222, ...; > 0 instrument-specific) */
	char text[256];          /* its text, with the instrument's ";detail" if any */
} mg_icp_instrument_error;

typedef struct mg_icp_device_stats {
	unsigned queries;        /* program messages sent */
	unsigned measurements;   /* mg_icp_measure() calls that returned data */
	unsigned windows;        /* spectral windows read */
	unsigned retries;        /* queries sent again after a timeout or a malformed answer */
	unsigned timeouts;
	unsigned instrument_errors; /* errors drained from the instrument's queue */
	unsigned polls;          /* status polls while waiting for a run ([run] wait = poll) */
	size_t bytes_out, bytes_in;
} mg_icp_device_stats;

/* Open, ask *IDN?, choose the profile, send its [session] init messages and
 * check the error queue. *out is owned by the caller: mg_icp_close().
 * Errors: MG_ERR_ARG (bad URI), MG_ERR_NOT_FOUND (no device; or no profile
 * matches the identity: the detail says which were tried), MG_ERR_TIMEOUT,
 * MG_ERR_DEVICE (the instrument refused the initialisation), MG_ERR_IO. */
int mg_icp_open(const char *uri, mg_icp_device **out);
/* The same with a given profile (not owned: it must outlive the handle) or,
 * with profile NULL and profile_path set, a profile file. A given profile is
 * used even when its [identify] patterns do not match (logged as a warning). */
int mg_icp_open_with(const char *uri, const mg_icp_profile *profile, const char *profile_path,
                     mg_icp_device **out);
void mg_icp_close(mg_icp_device *dev);

const mg_icp_identity *mg_icp_get_identity(const mg_icp_device *dev);
/* Ask *IDN? again (a cheap round trip); fills id if not NULL. */
int mg_icp_identify(mg_icp_device *dev, mg_icp_identity *id);
/* Per-query answer timeout in ms (default: the profile's [session] timeout_ms;
 * 0 restores it). The wait for a run adds replicates × integration time and
 * the profile's [run] overhead_s. */
void mg_icp_set_timeout(mg_icp_device *dev, unsigned timeout_ms);
/* Times an idempotent query (identify, plasma status, fetch) is sent again
 * after a timeout or a malformed answer (default 1, at most 5). */
void mg_icp_set_retries(mg_icp_device *dev, unsigned retries);
mg_transport *mg_icp_get_transport(mg_icp_device *dev);
const mg_icp_profile *mg_icp_get_profile(const mg_icp_device *dev);
mg_icp_device_stats mg_icp_get_stats(const mg_icp_device *dev);

/* Plasma and gas flows now. */
int mg_icp_plasma_status(mg_icp_device *dev, mg_icp_plasma *out);

/* Configure the lines (1..MG_ICP_MAX_LINES, at most the profile's max; each
 * element "Nd", wavelength 100-1000 nm, label optional: "Nd 406.109" when
 * empty), the integration time per replicate (s) and the number of
 * replicates (1..MG_ICP_MAX_REPLICATES). Nothing is kept on failure; an
 * instrument error is MG_ERR_DEVICE naming it. */
int mg_icp_configure(mg_icp_device *dev, const mg_icp_line *lines, size_t nlines, double integration_s,
                     unsigned replicates);

/* Measure the solution at autosampler `position`: select it, start the run,
 * wait for it (bounded), drain the error queue, read the plasma status and
 * every replicate's spectral window of every configured line. label (may be
 * NULL) is what the sequence calls it (at most 64 characters). *out is
 * filled completely on success; on failure its content is undefined. An
 * error the instrument reports during the run is MG_ERR_DEVICE ("measuring
 * position 12 (N52-A): the instrument reported -240,"Hardware error;..."
 * (execution error)"). A measurement is ~660 KB: allocate it with
 * mg_icp_measurement_new(). */
int mg_icp_measure(mg_icp_device *dev, int position, const char *label, mg_icp_measurement *out);
mg_icp_measurement *mg_icp_measurement_new(void); /* zeroed; NULL on no memory */
void mg_icp_measurement_free(mg_icp_measurement *m);

/* Read the instrument's error queue until empty: the first cap errors into
 * errs (may be NULL). Returns how many were read (0 = none), or an error. */
int mg_icp_drain_errors(mg_icp_device *dev, mg_icp_instrument_error *errs, size_t cap);
/* Device clear (USBTMC INITIATE_CLEAR; other transports: discard pending input). */
int mg_icp_clear(mg_icp_device *dev);

/* ------------------------------------------------------------ the simulated ICP-OES */

/* The simulated ICP-OES (drivers/sim/icp_device.c, physics in
 * drivers/sim/icp_physics.c): an echelle ICP-OES with an autosampler rack,
 * serving the built-in profile's SCPI dialect. `sim:icp?...` opens it through
 * the loopback transport; the same object serves a pty (`magassay sim icp`),
 * the test harness's tty and pty, and an emulated USBTMC device.
 * Parameters ("k=v&k=v", docs/commands/sim.md):
 *   rack=PATH            rack file (positions and solutions); default: the built-in rack
 *   seed=N               random stream (default 1)
 *   serial=S             *IDN? serial (default ICP-0001)
 *   plasma=on|off        plasma at start (default on)
 *   drift=X              common drift, %/hour (default -1)
 *   noise=X              noise scale (default 1; 0 = noiseless)
 *   pixels=N             pixels per window (16..128, default 64)
 *   busy_polls=N         STATus:OPERation:CONDition? reports "measuring" N times per run (default 0)
 *   error_at=N[:CODE]    the Nth run (from 1) puts CODE (default -240) in the error queue and
 *                        yields no data (for "an instrument error mid-run")
 *   drift_jump=PCT@N     from the Nth run on, every non-internal-standard line reads PCT % off
 *                        (fails a CCV when |PCT| > 10)
 *   hang=N               the Nth query (from 1, counting every query) is never answered
 * The loopback's fault parameters (drop, corrupt, stall, disconnect) apply to
 * sim:icp URIs too. */
typedef struct mg_icpsim mg_icpsim;

int mg_icpsim_new(const char *params, mg_icpsim **out);
/* The same with the rack given as text (a rack= parameter is then refused);
 * source names it in errors. A malformed rack is MG_ERR_FORMAT "source line N: ...". */
int mg_icpsim_new_with_rack(const char *params, const char *rack, size_t n, const char *source, mg_icpsim **out);
void mg_icpsim_free(mg_icpsim *sim);
/* SCPI bytes from the host (any chunking, LF or CR LF terminated); answers
 * appended to out. Thread-safe. */
int mg_icpsim_feed(mg_icpsim *sim, const uint8_t *in, size_t n, mg_buf *out);
/* The same with the test harness's device signature (userdata = the simulator). */
void mg_icpsim_serve(const uint8_t *in, size_t n, mg_buf *out, void *sim);
/* As an emulated USBTMC device: bytes of Bulk-OUT transfers in, Bulk-IN
 * transfers out (harness signature). */
void mg_icpsim_serve_usbtmc(const uint8_t *in, size_t n, mg_buf *out, void *sim);
/* A USBTMC class control request (setup = 8 bytes): fills data (cap bytes),
 * returns the length or -1 to stall; *actions gets MG_USBTMC_FN_* style bits:
 * 1 = discard the Bulk-IN bytes not yet read, 2 = send a zero-length packet. */
int mg_icpsim_usbtmc_control(mg_icpsim *sim, const uint8_t setup[8], uint8_t *data, size_t cap,
                             unsigned *actions);
/* Answer the next n USBTMC CHECK_* status requests with STATUS_PENDING (tests). */
void mg_icpsim_usbtmc_pending(mg_icpsim *sim, unsigned n);
/* Let simulated time pass. */
int mg_icpsim_advance(mg_icpsim *sim, double seconds);
/* Wrap as a loopback device (ownership passes to *out). */
int mg_icpsim_simdev(mg_icpsim *sim, mg_simdev **out);
/* Register `sim:icp` (done when the library loads; idempotent). */
int mg_icpsim_register(void);

/* The simulator's truth. */
typedef enum mg_icpsim_kind {
	MG_ICPSIM_BLANK = 1,
	MG_ICPSIM_STANDARD = 2,   /* calibration standard (primary source) */
	MG_ICPSIM_ICV = 3,        /* second-source check */
	MG_ICPSIM_CCV = 4,        /* continuing check (primary source, mid-range) */
	MG_ICPSIM_SAMPLE = 5,     /* a digest of a solid */
	MG_ICPSIM_CHECK = 6,      /* any other solution of known content (LLOQ check, spike, CRM ...) */
} mg_icpsim_kind;

typedef struct mg_icpsim_solution {
	int position;
	char name[65];
	mg_icpsim_kind kind;
	char grade[32];           /* samples: the NdFeB grade ("N52", "N42SH", ...) or "" */
	double digest_mass_g;     /* samples: mass digested */
	double digest_volume_ml;  /* samples: volume made up to */
	double dilution;          /* samples: further dilution factor (>= 1) */
	size_t nelements;
	char element[24][4];      /* the elements present (internal standard excluded) */
	double mg_per_l[24];      /* their concentrations in the measured solution */
	double mass_pct[24];      /* samples: mass fractions in the solid, % (else 0) */
} mg_icpsim_solution;

/* The solution at a position (MG_ERR_NOT_FOUND for an empty position). */
int mg_icpsim_solution_at(mg_icpsim *sim, int position, mg_icpsim_solution *out);
/* The concentration (mg/L) of an element in the solution at a position (0 if absent). */
int mg_icpsim_truth(mg_icpsim *sim, int position, const char *element, double *mg_per_l);
/* The internal standard added to every solution: element and mg/L. */
int mg_icpsim_internal_standard(mg_icpsim *sim, char element[4], double *mg_per_l);
/* The positions in the rack, ascending (at most cap); returns the count. */
int mg_icpsim_positions(mg_icpsim *sim, int *positions, size_t cap);
/* The built-in rack file's text (static). */
const char *mg_icpsim_builtin_rack(size_t *n);

typedef struct mg_icpsim_stats {
	unsigned messages;        /* program messages */
	unsigned queries;         /* query units answered */
	unsigned errors;          /* errors put in the error queue */
	unsigned runs;            /* INITiate runs */
	double sim_time_s;        /* simulated seconds since creation */
	/* USBTMC (serve_usbtmc / usbtmc_control) */
	unsigned usbtmc_transfers_out, usbtmc_requests_in, usbtmc_transfers_in, usbtmc_bad_headers;
	unsigned usbtmc_aborts_in, usbtmc_aborts_out, usbtmc_clears, usbtmc_caps;
	uint8_t usbtmc_last_abort_btag;
} mg_icpsim_stats;
mg_icpsim_stats mg_icpsim_get_stats(mg_icpsim *sim);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
