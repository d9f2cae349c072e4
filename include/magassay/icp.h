/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — ICP-OES data model: what an ICP-OES instrument returns for one
 * sample position (replicate readings of spectral windows around the
 * configured emission lines) and what the analysis consumes.
 *
 * This header is the contract between the ICP driver (drivers/icp, SCPI over
 * serial or USBTMC, and the simulated ICP-OES) and the ICP analysis (line
 * fitting, calibration curves, QC). Plain value types with fixed capacities,
 * so a measurement is one allocation and copies are trivial. */
#ifndef MAGASSAY_ICP_H
#define MAGASSAY_ICP_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

#define MG_ICP_MAX_PIXELS 128   /* pixels in one spectral window */
#define MG_ICP_MAX_LINES 32     /* configured lines (analytes + internal standard + matrix) */
#define MG_ICP_MAX_REPLICATES 10

/* One configured emission line. */
typedef struct mg_icp_line {
	char element[4];        /* "Nd" */
	double wavelength_nm;   /* 406.109 */
	char label[24];         /* "Nd 406.109" */
	int is_internal_std;    /* 1 for the internal standard line (Y 371.030, Sc 361.383) */
} mg_icp_line;

/* The window of pixels the instrument read around one line. */
typedef struct mg_icp_window {
	size_t npix;
	double wavelength_nm[MG_ICP_MAX_PIXELS];
	double intensity[MG_ICP_MAX_PIXELS]; /* counts per integration, background included */
} mg_icp_window;

/* One replicate reading of every configured line. */
typedef struct mg_icp_reading {
	double integration_s;
	mg_icp_window window[MG_ICP_MAX_LINES]; /* index = line index */
} mg_icp_reading;

/* Plasma and instrument state reported with a measurement. */
typedef struct mg_icp_plasma {
	int lit;                 /* plasma on */
	double rf_power_w;
	double nebulizer_flow_lmin;
	double plasma_flow_lmin;
	double aux_flow_lmin;
} mg_icp_plasma;

/* Everything read for one sample position. */
typedef struct mg_icp_measurement {
	char sample_label[65];   /* what the sequence calls it */
	int position;            /* autosampler position */
	size_t nlines;
	mg_icp_line line[MG_ICP_MAX_LINES];
	size_t nreplicates;
	mg_icp_reading replicate[MG_ICP_MAX_REPLICATES];
	mg_icp_plasma plasma;
	char start_time[40];     /* ISO 8601 UTC, "…Z" */
} mg_icp_measurement;

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
