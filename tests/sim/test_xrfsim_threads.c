/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Models built concurrently on several threads (xraylib, GSL special
 * functions, FFTW planning under our lock) equal the serial build bit for bit. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/xrfsim.h"

struct job {
	const char *sample;
	int nchan;
	mg_xrfsim_model *m;
	int rc;
};

static void *run(void *p)
{
	struct job *j = p;
	mg_xrfsim_config cfg;
	mg_xrfsim_config_default(&cfg);
	cfg.axis.nchan = j->nchan;
	cfg.axis.gain_kev = 40.96 / j->nchan;
	j->rc = mg_xrfsim_sample_lookup(j->sample, &cfg.sample);
	if (j->rc == 0)
		j->rc = mg_xrfsim_model_new(&cfg, &j->m);
	return NULL;
}

int main(void)
{
	static const char *const samples[] = {"ndfeb-dy", "ndfeb-nicuni", "fe", "ndfeb-tb"};
	enum { N = 4 };
	struct job par[N], ser[N];
	pthread_t th[N];
	for (int i = 0; i < N; i++) {
		par[i] = (struct job){samples[i], 1024 << (i % 2), NULL, 0};
		ser[i] = par[i];
	}
	for (int i = 0; i < N; i++)
		CHECK(pthread_create(&th[i], NULL, run, &par[i]) == 0);
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < N; i++)
		run(&ser[i]);
	for (int i = 0; i < N; i++) {
		CHECK(par[i].rc == 0 && ser[i].rc == 0);
		if (!par[i].m || !ser[i].m)
			continue;
		size_t n1, n2, l1, l2;
		const double *a = mg_xrfsim_model_spectrum(par[i].m, MG_XRFSIM_RECORDED, &n1);
		const double *b = mg_xrfsim_model_spectrum(ser[i].m, MG_XRFSIM_RECORDED, &n2);
		CHECK(n1 == n2 && memcmp(a, b, n1 * sizeof(double)) == 0);
		const mg_xrf_line *la = mg_xrfsim_model_lines(par[i].m, &l1);
		const mg_xrf_line *lb = mg_xrfsim_model_lines(ser[i].m, &l2);
		CHECK(l1 == l2 && memcmp(la, lb, l1 * sizeof *la) == 0);
		mg_xrfsim_model_free(par[i].m);
		mg_xrfsim_model_free(ser[i].m);
	}
	return mg_test_finish("test_xrfsim_threads");
}
