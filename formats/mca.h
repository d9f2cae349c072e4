/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Private to the Amptek .mca format (mca_read.c, mca_write.c).
 *
 * Amptek .mca spectra (PMCA, ADMCA and DppMCA text format), read and write:
 *
 *   <<PMCA SPECTRUM>>                   line 1, always
 *   TAG - live_data                     header: "KEY - value", split on the first " - "
 *   DESCRIPTION - text                  -> sample.description
 *   GAIN - 2                            channel-count code: 0 = 256 ... 6 = 16384
 *   PRESET_TIME - 120                   -> acq.preset_time_s (0 = none)
 *   LIVE_TIME - 109.68                  -> live_time_s (0 = unknown)
 *   REAL_TIME - 120                     -> real_time_s (0 = unknown)
 *   START_TIME - 10/03/2011 10:16:08    MM/DD/YYYY local time -> "2011-10-03T10:16:08"
 *   SERIAL_NUMBER - 1668                -> instrument.serial
 *   <<CALIBRATION>>                     LABEL - keV, then "channel energy" pairs
 *   <<ROI>>                             "start end" lines, kept in meta "mca.roi"
 *   <<DATA>> ... <<END>>                one whole, non-negative count per line
 *   <<DP5 CONFIGURATION>>               "CMD=value;    description" -> meta "dp5.config.CMD"
 *   <<DPP STATUS>>                      "Key: value" -> meta "dp5.status.Key"
 *   <<MAGASSAY>>                        magassay's own "key: value" lines (core/fields.h keys)
 *
 * Header lines without a named field are kept in meta "mca.header.KEY", except
 * those that say what the writer writes anyway (TAG live_data, GAIN matching
 * the channel count, THRESHOLD 0, LIVE_MODE 0): the writer puts them back.
 * Unknown <<NAME>> sections are kept line by line in meta "mca.section.NAME"
 * (after <<END>>) or "mca.presection.NAME" (before <<DATA>>), with their
 * "<<NAME END>>" line if they had one, and written back in the same place.
 *
 * Calibration: two points give a line, three or more the least-squares
 * quadratic (DppMCA's fit), dropped to a line when the quadratic term is below
 * 1e-9 keV over the points' channel range. Labels keV, eV and MeV are energy
 * units; any other label (e.g. "Channel") means no energy calibration. The raw
 * pairs stay in meta "mca.calibration.points" ("ch e; ch e") and
 * "mca.calibration.label", so a round trip writes the same pairs.
 *
 * The writer writes Amptek's sections in Amptek's order with CRLF line ends and
 * text in latin-1 where it can. Whatever the Amptek sections cannot carry
 * exactly (fields without an Amptek home, a calibration rewritten as computed
 * points, a zone in start_time, metadata of other formats) goes into a
 * trailing <<MAGASSAY>> section that Amptek software and PyMca skip; the writer
 * finds it by reading its own Amptek sections back and comparing. */
#ifndef MAGASSAY_FORMATS_MCA_H
#define MAGASSAY_FORMATS_MCA_H

#include <stddef.h>

#include "magassay/spectrum.h"

#define MCA_MAX_CAL_POINTS 256
#define MCA_MAX_SECTION_NAME 200 /* bytes of UTF-8 */
#define MCA_MAX_COUNT 9007199254740992.0 /* 2^53: every whole count below is exact */

/* mca_read.c: the reader, and the conversions the writer mirrors. */
int mca_read(const unsigned char *data, size_t len, mg_spectrum **out);
/* Amptek's GAIN header value: the channel-count code 0 = 256 ... 6 = 16384. */
int mca_gain_code(size_t nchan);
/* The calibration the reader derives from calibration pairs (cal->valid = 0
 * for a non-energy label or fewer than two points). */
int mca_cal_derive(const char *label, const double *ch, const double *e, size_t n, mg_energy_cal *cal);
/* 1 if the fields make a date and time Amptek can write. */
int mca_date_ok(int y, int mo, int d, int h, int mi, int s);
/* Amptek's "MM/DD/YYYY HH:MM[:SS]" as ISO 8601 into iso; 1 if it is one. */
int mca_amptek_time(const char *v, size_t vn, char *iso, size_t size);
/* The firmware text the reader makes of Firmware and FPGA status values. */
void mca_compose_firmware(char *out, size_t size, const char *fw, const char *fpga);

/* mca_write.c */
int mca_write(const mg_spectrum *s, mg_buf *out);

#endif
