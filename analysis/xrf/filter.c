/* SPDX-License-Identifier: GPL-3.0-or-later */
/* FFT filtering with FFTW: r2c/c2r plans made once per size (under a
 * process-wide lock: FFTW's planner is not thread-safe, execution is) and
 * applied with the new-array interface to per-thread aligned buffers.
 * FFTW's planner is also made thread-safe process-wide (fftw_make_planner_thread_safe).
 * Kernels are kept as their transforms: Gaussian smoothing and derivatives,
 * Savitzky–Golay smoothing/derivatives, the top-hat filter of filter-fit
 * quantification (Schamber; NIST DTSA-II / NeXLSpectrum), the smoothed second
 * difference of Mariscotti's peak search; plus the linear autoconvolution used
 * for pile-up. Wisdom is imported from / exported to a file. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "an.h"
#include "internal.h"
#include "magassay/fileio.h"

static pthread_mutex_t fft_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fft_once = PTHREAD_ONCE_INIT;

/* FFTW's own switch (libfftw3_threads, FFTW >= 3.3.5) makes its planner thread-safe for
 * every user in the process — the simulator plans too; our lock stays for wisdom I/O. */
static void fft_thread_safe(void)
{
	fftw_make_planner_thread_safe();
}

void an_fft_lock(void)
{
	pthread_once(&fft_once, fft_thread_safe);
	pthread_mutex_lock(&fft_lock);
}

void an_fft_unlock(void)
{
	pthread_mutex_unlock(&fft_lock);
}

static size_t good_size(size_t n)
{
	/* smallest 2^a·3^b·5^c >= n (FFTW is fast on these) */
	size_t best = 1;
	while (best < n)
		best *= 2;
	for (size_t p5 = 1; p5 < best; p5 *= 5)
		for (size_t p3 = p5; p3 < best; p3 *= 3) {
			size_t v = p3;
			while (v < n)
				v *= 2;
			if (v < best)
				best = v;
		}
	if (best % 2)
		best *= 2;
	return best;
}

int an_fft_init(an_fft *f, size_t nmin, int measure)
{
	memset(f, 0, sizeof(*f));
	f->nfft = good_size(nmin < 16 ? 16 : nmin);
	double *in = fftw_malloc(f->nfft * sizeof(double));
	fftw_complex *out = fftw_malloc((f->nfft / 2 + 1) * sizeof(fftw_complex));
	if (!in || !out) {
		fftw_free(in);
		fftw_free(out);
		return mg_fail(MG_ERR_NOMEM, AN_DOM, "out of memory");
	}
	unsigned flags = measure ? FFTW_MEASURE : FFTW_ESTIMATE;
	an_fft_lock();
	f->r2c = fftw_plan_dft_r2c_1d((int)f->nfft, in, out, flags);
	f->c2r = fftw_plan_dft_c2r_1d((int)f->nfft, out, in, flags);
	an_fft_unlock();
	fftw_free(in);
	fftw_free(out);
	if (!f->r2c || !f->c2r) {
		an_fft_destroy(f);
		return mg_fail(MG_ERR_INTERNAL, AN_DOM, "FFTW could not plan a transform of %zu", f->nfft);
	}
	return 0;
}

void an_fft_destroy(an_fft *f)
{
	an_fft_lock();
	if (f->r2c)
		fftw_destroy_plan(f->r2c);
	if (f->c2r)
		fftw_destroy_plan(f->c2r);
	an_fft_unlock();
	f->r2c = f->c2r = NULL;
}

fftw_complex *an_kernel_transform(const an_fft *f, const double *k, size_t h)
{
	size_t nc = f->nfft / 2 + 1;
	if (2 * h + 1 > f->nfft)
		return NULL;
	double *buf = fftw_malloc(f->nfft * sizeof(double));
	fftw_complex *spec = fftw_malloc(nc * sizeof(fftw_complex));
	if (!buf || !spec) {
		fftw_free(buf);
		fftw_free(spec);
		return NULL;
	}
	memset(buf, 0, f->nfft * sizeof(double));
	buf[0] = k[h];
	for (size_t j = 1; j <= h; j++) {
		buf[j] = k[h + j];
		buf[f->nfft - j] = k[h - j];
	}
	fftw_execute_dft_r2c(f->r2c, buf, spec);
	double sc = 1.0 / (double)f->nfft;
	for (size_t i = 0; i < nc; i++) {
		spec[i][0] *= sc;
		spec[i][1] *= sc;
	}
	fftw_free(buf);
	return spec;
}

static double gauss_pdf(double x, double s)
{
	return exp(-0.5 * x * x / (s * s));
}

fftw_complex *an_kernel_gauss(const an_fft *f, double sigma, int deriv, int squared)
{
	if (!(sigma > 0.3))
		sigma = 0.3;
	size_t h = (size_t)ceil(5.0 * sigma) + 2;
	if (2 * h + 3 > f->nfft)
		h = (f->nfft - 3) / 2;
	double *k = malloc((2 * h + 1) * sizeof(double));
	if (!k)
		return NULL;
	double sum = 0;
	for (size_t j = 0; j <= 2 * h; j++) {
		double x = (double)j - (double)h;
		sum += gauss_pdf(x, sigma);
	}
	for (size_t j = 0; j <= 2 * h; j++) {
		double x = (double)j - (double)h;
		double g = gauss_pdf(x, sigma) / sum;
		if (deriv == 1)
			g = (gauss_pdf(x + 1, sigma) - gauss_pdf(x - 1, sigma)) / (2 * sum);
		else if (deriv == 2) /* the second difference of the smoothed spectrum */
			g = (gauss_pdf(x - 1, sigma) - 2 * gauss_pdf(x, sigma) + gauss_pdf(x + 1, sigma)) / sum;
		k[j] = squared ? g * g : g;
	}
	fftw_complex *t = an_kernel_transform(f, k, h);
	free(k);
	return t;
}

/* Savitzky–Golay convolution coefficients by least squares on a (2m+1)
 * window: c = row `deriv` of (JᵀJ)⁻¹Jᵀ × deriv!. */
static int savgol_coef(int m, int order, int deriv, double *c)
{
	int np = order + 1;
	double a[8][16];
	if (order < 0 || order > 6 || deriv > order || m < 1)
		return -1;
	for (int r = 0; r < np; r++)
		for (int q = 0; q < np; q++) {
			double s = 0;
			for (int j = -m; j <= m; j++)
				s += pow(j, r + q);
			a[r][q] = s;
		}
	/* invert with Gauss–Jordan */
	for (int r = 0; r < np; r++)
		for (int q = 0; q < np; q++)
			a[r][np + q] = r == q;
	for (int col = 0; col < np; col++) {
		int piv = col;
		for (int r = col + 1; r < np; r++)
			if (fabs(a[r][col]) > fabs(a[piv][col]))
				piv = r;
		if (fabs(a[piv][col]) < 1e-300)
			return -1;
		if (piv != col)
			for (int q = 0; q < 2 * np; q++) {
				double t = a[col][q];
				a[col][q] = a[piv][q];
				a[piv][q] = t;
			}
		double d = a[col][col];
		for (int q = 0; q < 2 * np; q++)
			a[col][q] /= d;
		for (int r = 0; r < np; r++) {
			if (r == col)
				continue;
			double fct = a[r][col];
			for (int q = 0; q < 2 * np; q++)
				a[r][q] -= fct * a[col][q];
		}
	}
	double fact = 1;
	for (int i = 2; i <= deriv; i++)
		fact *= i;
	for (int j = -m; j <= m; j++) {
		double s = 0;
		for (int q = 0; q < np; q++)
			s += a[deriv][np + q] * pow(j, q);
		c[j + m] = s * fact;
	}
	return 0;
}

fftw_complex *an_kernel_savgol(const an_fft *f, int m, int order, int deriv)
{
	double c[2 * 64 + 1], k[2 * 64 + 1];
	if (m < 1 || m > 64 || savgol_coef(m, order, deriv, c) < 0)
		return NULL;
	/* correlation coefficients → convolution kernel: k[j] = c[−j] */
	for (int j = -m; j <= m; j++)
		k[j + m] = c[-j + m];
	return an_kernel_transform(f, k, (size_t)m);
}

fftw_complex *an_kernel_tophat(const an_fft *f, int centre_half, int side)
{
	if (centre_half < 0 || side < 1 || centre_half + side > 512)
		return NULL;
	size_t h = (size_t)(centre_half + side);
	double *k = calloc(2 * h + 1, sizeof(double));
	if (!k)
		return NULL;
	for (int j = -(int)h; j <= (int)h; j++)
		k[j + (int)h] = abs(j) <= centre_half ? 1.0 / (2 * centre_half + 1) : -1.0 / (2.0 * side);
	fftw_complex *t = an_kernel_transform(f, k, h);
	free(k);
	return t;
}

void an_fft_convolve(const an_fft *f, const fftw_complex *kernel, const double *in, size_t n,
                     int mirror, double *out, double *tmp, fftw_complex *spec)
{
	const size_t nf = f->nfft, nc = nf / 2 + 1;
	if (n > nf)
		n = nf;
	memcpy(tmp, in, n * sizeof(double));
	size_t pad = nf - n;
	if (mirror && n > 1) {
		size_t half = pad / 2;
		for (size_t j = 0; j < half; j++)
			tmp[n + j] = in[j + 1 < n ? n - 2 - j : 0];
		for (size_t j = 0; j < pad - half; j++)
			tmp[nf - 1 - j] = in[j + 1 < n ? j + 1 : n - 1];
	} else {
		memset(tmp + n, 0, pad * sizeof(double));
	}
	fftw_execute_dft_r2c(f->r2c, tmp, spec);
	for (size_t i = 0; i < nc; i++) {
		double re = spec[i][0] * kernel[i][0] - spec[i][1] * kernel[i][1];
		double im = spec[i][0] * kernel[i][1] + spec[i][1] * kernel[i][0];
		spec[i][0] = re;
		spec[i][1] = im;
	}
	fftw_execute_dft_c2r(f->c2r, spec, tmp);
	memcpy(out, tmp, n * sizeof(double));
}

void an_fft_autoconv(const an_fft *f, const double *in, size_t n, double *out, double *tmp,
                     fftw_complex *spec)
{
	const size_t nf = f->nfft, nc = nf / 2 + 1;
	memcpy(tmp, in, n * sizeof(double));
	memset(tmp + n, 0, (nf - n) * sizeof(double));
	fftw_execute_dft_r2c(f->r2c, tmp, spec);
	double sc = 1.0 / (double)nf;
	for (size_t i = 0; i < nc; i++) {
		double re = spec[i][0], im = spec[i][1];
		spec[i][0] = (re * re - im * im) * sc;
		spec[i][1] = 2 * re * im * sc;
	}
	fftw_execute_dft_c2r(f->c2r, spec, tmp);
	size_t m = 2 * n - 1 < nf ? 2 * n - 1 : nf;
	memcpy(out, tmp, m * sizeof(double));
}

/* ---------------------------------------------------------------- wisdom */

int mg_analysis_wisdom_import(const char *path)
{
	unsigned char *data = NULL;
	size_t len = 0;
	if (!path)
		return mg_fail(MG_ERR_ARG, AN_DOM, "wisdom: no path");
	int rc = mg_file_read_all(path, 16u << 20, &data, &len);
	if (rc < 0)
		return rc;
	an_fft_lock();
	int ok = fftw_import_wisdom_from_string((const char *)data);
	an_fft_unlock();
	free(data);
	if (!ok)
		return mg_fail(MG_ERR_FORMAT, AN_DOM, "%s: not FFTW wisdom", path);
	return 0;
}

int mg_analysis_wisdom_export(const char *path)
{
	if (!path)
		return mg_fail(MG_ERR_ARG, AN_DOM, "wisdom: no path");
	an_fft_lock();
	char *s = fftw_export_wisdom_to_string();
	an_fft_unlock();
	if (!s)
		return mg_fail(MG_ERR_NOMEM, AN_DOM, "wisdom: out of memory");
	int rc = mg_file_write_atomic(path, s, strlen(s));
	free(s);
	return rc;
}
