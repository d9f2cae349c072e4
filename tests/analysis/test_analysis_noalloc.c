/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The fast path allocates nothing: malloc, calloc, realloc and free of the
 * whole process are counted (interposed over glibc's) around
 * mg_analysis_execute on a plan with every option the magnet default has
 * (escape, pile-up, scatter, continuum, free major ratios, warnings), and on
 * the strip-background and model-weights variants. Skipped under
 * AddressSanitizer, which owns malloc. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "magassay/analysis.h"
#include "magassay/error.h"
#include "synth.h"

#if defined(__SANITIZE_ADDRESS__)
#define MG_NOALLOC_SKIP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MG_NOALLOC_SKIP 1
#endif
#endif

#ifndef MG_NOALLOC_SKIP
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static volatile int counting;
static volatile long nalloc;

void *malloc(size_t n)
{
	if (counting)
		nalloc++;
	return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	if (counting)
		nalloc++;
	return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	if (counting)
		nalloc++;
	return __libc_realloc(p, n);
}

void free(void *p)
{
	if (counting && p)
		nalloc++;
	__libc_free(p);
}
#endif

static void one(const char *name, mg_analysis_config *c, const double *y, size_t n)
{
	mg_analysis_plan *p = NULL;
	CHECK_RC(mg_analysis_plan_new(c, &p), 0);
	if (!p)
		return;
	mg_analysis_ctx *ctx = mg_analysis_ctx_new(p);
	mg_analysis_result *r = mg_analysis_result_new(p);
	CHECK_RC(mg_analysis_execute(p, ctx, y, n, 10.0, r), 0); /* warm-up (nothing lazy expected) */
#ifndef MG_NOALLOC_SKIP
	nalloc = 0;
	counting = 1;
	int rc = 0;
	for (int k = 0; k < 5; k++)
		rc |= mg_analysis_execute(p, ctx, y, n, 10.0, r);
	counting = 0;
	CHECK(rc == 0);
	CHECK_MSG(nalloc == 0, "%s: %ld allocator calls in 5 executions", name, nalloc);
	printf("%s: %ld allocator calls in 5 executions\n", name, nalloc);
#endif
	mg_analysis_result_free(r);
	mg_analysis_ctx_free(ctx);
	mg_analysis_plan_free(p);
}

int main(void)
{
#ifdef MG_NOALLOC_SKIP
	mg_test_skip("AddressSanitizer owns malloc: the allocation count runs in the plain build");
#endif
	const size_t n = 2048;
	double *mean = calloc(n, sizeof(double)), *y = calloc(n, sizeof(double));
	synth_det d = {.noise = 0.08, .fano = 0.114};
	for (size_t k = 0; k < n; k++)
		mean[k] = 30;
	synth_family(&d, 0, 0.02, n, 26, KL1_LINE, KP5_LINE, 5e5, mean);
	synth_family(&d, 0, 0.02, n, 60, L1L2_LINE, L3Q1_LINE, 1e5, mean);
	synth_poisson(5, mean, y, n);
	mg_analysis_config c;
	mg_analysis_config_default(&c);
	c.nchan = n;
	c.cal = (mg_energy_cal){1, 0.0, 0.02, 0};
	one("magnet default", &c, y, n);
	c.background = MG_BG_STRIP;
	c.strip_iterations = 2000;
	c.flags |= MG_AN_MODEL_WEIGHTS;
	c.model_error = 0.01;
	one("strip + model weights + model error", &c, y, n);
	c.background = MG_BG_SNIP;
	c.smooth_width = 5;
	one("snip", &c, y, n);
	free(mean);
	free(y);
	return mg_test_finish("test_analysis_noalloc");
}
