/* SPDX-License-Identifier: GPL-3.0-or-later */
/* GSL's default error handler aborts the process. The library checks every
 * GSL return code itself and turns failures into mg_err codes, so it switches
 * that handler off when it is loaded: a malformed spectrum must give an error
 * message, never an abort in the middle of an acquisition. (This is process-
 * wide; a host program that wants GSL's handler back can set it again.) */
#include <gsl/gsl_errno.h>

__attribute__((constructor)) static void mg_gsl_errors_off(void)
{
	gsl_set_error_handler_off();
}
