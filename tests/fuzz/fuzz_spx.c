/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target: the spx reader (and its writer, if any, by round trip). */
#include "fuzz_format.h"

MG_FUZZ_FORMAT_TARGET(MG_FORMAT_SPX)
