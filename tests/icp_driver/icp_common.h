/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Shared by the ICP-OES driver tests: a line set, a simple net-intensity
 * estimate for checks against the simulator's truth, and the checks every
 * transport must pass (identify, plasma, configure, blank / standard / digest,
 * replicates, an instrument error drained with a clear message). */
#ifndef MG_ICP_COMMON_H
#define MG_ICP_COMMON_H

#include <stddef.h>

#include "magassay/icp.h"
#include "magassay/icp_device.h"

/* Positions of the built-in rack. */
enum {
	POS_BLANK = 1,
	POS_STD1 = 2,
	POS_STD3 = 4,
	POS_STD4 = 5,
	POS_STD5 = 6,
	POS_ICV = 7,
	POS_CCV = 9,
	POS_N52 = 13,
	POS_N42SH = 14,
	POS_N38UH = 15,
};

void icp_log_init(void);
double icp_now_ms(void);
/* Nd 430.358, Pr 414.311, Dy 353.170, Tb 350.917, Fe 259.940, Co 228.616,
 * B 208.957, B 249.773, Y 371.030 (internal standard). Returns the count. */
size_t icp_lines(mg_icp_line *lines);
/* Net counts of the peak at wl: pixels within +-16 pm, background = median
 * of the pixels further than 25 pm from it. */
double icp_net(const mg_icp_window *w, double wl);
/* Centroid (nm) of the net counts within +-16 pm of wl. */
double icp_centroid(const mg_icp_window *w, double wl);
/* Mean over replicates of net(line l) / net(internal standard line is). */
double icp_ratio(const mg_icp_measurement *m, size_t l, size_t is);
/* Structural checks of a measurement (label, position, lines, replicates,
 * windows holding their lines, finite values, plasma). */
void icp_check_measurement(const mg_icp_measurement *m, const char *what, int position, size_t nlines,
                           unsigned reps);
/* The checks every transport passes, on an open device; truth: a simulator
 * with the same rack (for concentrations). */
void icp_e2e_basic(mg_icp_device *dev, mg_icpsim *truth, const char *what);

#endif
