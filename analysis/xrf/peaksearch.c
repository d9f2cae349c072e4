/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Peak search after Mariscotti (NIM 50 (1967) 309): the second difference of
 * the spectrum smoothed by a Gaussian of the peak width (one FFT convolution),
 * its variance propagated from Poisson counts (the squared kernel), and the
 * significance −S/σ(S); peaks are the local maxima above a threshold, the
 * centroid from a parabola through the minimum of S. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "an.h"
#include "internal.h"

void an_second_diff(const an_fft *f, const fftw_complex *k2, const fftw_complex *k2sq,
                    const double *y, size_t n, double *z, double *s, double *tmp,
                    fftw_complex *spec)
{
	an_fft_convolve(f, k2, y, n, 1, s, tmp, spec);
	for (size_t i = 0; i < n; i++)
		z[i] = y[i] > 1 ? y[i] : 1.0;
	an_fft_convolve(f, k2sq, z, n, 1, z, tmp, spec);
	for (size_t i = 0; i < n; i++)
		z[i] = z[i] > 0 ? -s[i] / sqrt(z[i]) : 0.0;
}

static void insert_sorted(mg_peak *out, size_t max, size_t *count, const mg_peak *pk)
{
	size_t n = *count < max ? *count : max;
	size_t pos = n;
	while (pos > 0 && out[pos - 1].significance < pk->significance)
		pos--;
	if (pos >= max) {
		(*count)++;
		return;
	}
	size_t last = n < max ? n : max - 1;
	for (size_t i = last; i > pos; i--)
		out[i] = out[i - 1];
	out[pos] = *pk;
	(*count)++;
}

size_t an_find_peaks(const double *y, const double *z, const double *s, size_t n, double fwhm_ch,
                     double k, mg_peak *out, size_t max)
{
	size_t count = 0;
	long half = (long)ceil(0.5 * fwhm_ch);
	if (half < 1)
		half = 1;
	long w = (long)ceil(fwhm_ch);
	for (long i = 1; i + 1 < (long)n; i++) {
		if (!(z[i] > k) || z[i] < z[i - 1] || !(z[i] > z[i + 1]) || s[i] >= 0)
			continue;
		/* the highest within ±FWHM/2 */
		int best = 1;
		for (long j = i - half; j <= i + half && best; j++)
			if (j >= 0 && j < (long)n && j != i && z[j] > z[i])
				best = 0;
		if (!best)
			continue;
		double den = s[i - 1] - 2 * s[i] + s[i + 1];
		double d = den > 0 ? 0.5 * (s[i - 1] - s[i + 1]) / den : 0.0;
		if (d > 0.5)
			d = 0.5;
		if (d < -0.5)
			d = -0.5;
		long a = i - w < 0 ? 0 : i - w, b = i + w >= (long)n ? (long)n - 1 : i + w;
		double h = y[i] - 0.5 * (y[a] + y[b]);
		if (h < 0)
			h = 0;
		mg_peak pk = {.channel = (double)i + d, .height = h, .area = 1.0645 * h * fwhm_ch,
		              .significance = z[i], .fwhm_ch = fwhm_ch};
		insert_sorted(out, max, &count, &pk);
	}
	return count;
}

int mg_peak_search(const double *counts, size_t nchan, double fwhm_ch, double k, mg_peak *out,
                   size_t max)
{
	if (!counts || nchan < 8 || !(fwhm_ch > 0.5) || (max && !out))
		return mg_fail(MG_ERR_ARG, AN_DOM, "peak search: bad arguments");
	double sig = fwhm_ch / AN_FWHM_PER_SIGMA;
	size_t h = (size_t)ceil(5 * sig) + 4;
	an_fft f;
	int rc = an_fft_init(&f, nchan + 2 * h, 0);
	if (rc < 0)
		return rc;
	fftw_complex *k2 = an_kernel_gauss(&f, sig, 2, 0), *k2sq = an_kernel_gauss(&f, sig, 2, 1);
	double *tmp = fftw_malloc(f.nfft * sizeof(double));
	fftw_complex *spec = fftw_malloc((f.nfft / 2 + 1) * sizeof(fftw_complex));
	double *z = malloc(nchan * sizeof(double)), *s = malloc(nchan * sizeof(double));
	if (!k2 || !k2sq || !tmp || !spec || !z || !s) {
		rc = mg_fail(MG_ERR_NOMEM, AN_DOM, "peak search: out of memory");
		goto out;
	}
	an_second_diff(&f, k2, k2sq, counts, nchan, z, s, tmp, spec);
	rc = (int)an_find_peaks(counts, z, s, nchan, fwhm_ch, k, out, max);
out:
	fftw_free(k2);
	fftw_free(k2sq);
	fftw_free(tmp);
	fftw_free(spec);
	free(z);
	free(s);
	an_fft_destroy(&f);
	return rc;
}
