/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Quantification in `magassay analyze` (issue 6): the options it adds and the
 * output it adds, kept apart from cmd_analyze.c, which calls these three
 * functions at three places:
 *   - cli_quant_options() first thing in cmd_analyze(): takes its options out of
 *     argv (--standard EL=FILE, --instrument FILE, --quant[=METHOD], --grades
 *     FILE, --boron SPEC, --balance EL) and reads --calib when it names a
 *     quantification record (a file or a store reference: ID, kind:name[@v]);
 *     the engine configuration gets the instrument's tube, geometry and
 *     detector;
 *   - cli_quant_json() on each spectrum's JSON object: adds "kratios",
 *     "composition", "calibration_id" and "quant";
 *   - cli_quant_print() after each spectrum's text output;
 *   - cli_quant_help() at the end of its help, cli_quant_done() at its end. */
#ifndef MAGASSAY_CLI_QUANT_H
#define MAGASSAY_CLI_QUANT_H

#include <jansson.h>

#include "magassay/analysis.h"
#include "magassay/spectrum.h"

/* 0 (argc/argv rewritten in place, cfg updated), or CLI_USAGE / CLI_FAIL after
 * printing the reason. */
int cli_quant_options(int *argc, char **argv, mg_analysis_config *cfg);
/* Quantify one analysed spectrum and add the keys to obj (nothing when no
 * quantification was asked for). plan: the plan its result came from, or NULL
 * (the configuration is then rebuilt from the options and the result's
 * calibration and resolution). */
void cli_quant_json(json_t *obj, const char *path, const mg_spectrum *s, const mg_analysis_result *res,
                    const mg_analysis_plan *plan);
/* The same for the text output. */
void cli_quant_print(const char *path, const mg_spectrum *s, const mg_analysis_result *res,
                     const mg_analysis_plan *plan);
/* Release what the options and the runs kept (also run at exit). */
void cli_quant_done(void);
/* The options' help, printed after analyze's. */
void cli_quant_help(void);

#endif
