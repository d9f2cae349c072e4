/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A test store for QC and reports, filled the way the suite fills it:
 *
 *   H01..H12   history lots: per lot two check-standard values of each QC
 *              quantity (Cu Kα peak position, Mn Kα FWHM, Cu Kα intensity on
 *              instrument SN-4711) and two samples assayed by XRF and ICP
 *              (XRF−ICP bias for Nd within ±0.5 %)
 *   L2024-07   the lot under test: its two Cu Kα peak positions at mean + 2.4s
 *              and + 2.6s (2-2s fires, 1-3s does not); samples S1, S2 (XRF
 *              spectrum + ICP line windows) and S3 (XRF, with text cells a
 *              spreadsheet would run as formulas)
 *   L2024-08   an in-control lot: QC values at the mean, one XRF sample
 *   L2024-09   XRF 5 % above ICP for Nd (the bias fires 1-3s) and a failed
 *              CCV in its ICP result
 *
 * Result payloads carry the keys of issues 5-7 (analysis: calibration,
 * families; quantification: composition, totals, grade, boron,
 * calibration_id; ICP: values with roles, checks, calibration {id}). */
#ifndef MG_TEST_REPORT_FIXTURE_H
#define MG_TEST_REPORT_FIXTURE_H

#include "magassay/store.h"

typedef struct fx {
	mg_store *st;
	char dir[512];
	long long xrf[3];      /* L2024-07 S1..S3 XRF measurements */
	long long icp[2];      /* L2024-07 S1, S2 ICP measurements */
	long long quant_cal;   /* the quantification calibration (XRF results) */
	long long icp_cal;     /* the ICP calibration (curves) */
	double peak_mean, peak_sd; /* of the history's peak positions */
} fx;

/* Build the store in a fresh folder under dir. 0 or a negative error. */
int fx_build(const char *dir, fx *out);
void fx_close(fx *f);

/* The text cells of S3 that must come out neutralised. */
extern const char *const fx_nasty[];
extern const size_t fx_nnasty;

#endif
