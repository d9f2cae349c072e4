/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The simulated ICP-OES on its own (drivers/sim/icp_device.c, icp_physics.c):
 * parameters, the rack and the truth API, the SCPI dialect byte for byte
 * (trees, short/long forms, error queue, formats, chunking), and the physics
 * (line width, curvature, interferences, suppression seen by the internal
 * standard, drift, noise, determinism). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "drivers/scpi/scpi.h"
#include "icp_common.h"
#include "magassay/error.h"
#include "magassay/icp_device.h"

/* Send one program message, return the answer without its LF ("" if none). */
static const char *q(mg_icpsim *s, const char *msg)
{
	static char ans[65536];
	mg_buf in, out;
	mg_buf_init(&in);
	mg_buf_init(&out);
	mg_buf_printf(&in, "%s\n", msg);
	CHECK_RC(mg_icpsim_feed(s, (const uint8_t *)in.data, in.len, &out), MG_OK);
	size_t n = out.len && out.data[out.len - 1] == '\n' ? out.len - 1 : out.len;
	if (n >= sizeof(ans))
		n = sizeof(ans) - 1;
	memcpy(ans, out.data ? out.data : "", n);
	ans[n] = '\0';
	mg_buf_free(&in);
	mg_buf_free(&out);
	return ans;
}

static void expect(mg_icpsim *s, const char *msg, const char *want)
{
	const char *got = q(s, msg);
	CHECK_MSG(!strcmp(got, want), "'%s' answered '%s', wanted '%s'", msg, got, want);
}

static void expect_error(mg_icpsim *s, const char *msg, int code, const char *needle)
{
	q(s, msg);
	const char *e = q(s, "SYST:ERR?");
	char want[32];
	snprintf(want, sizeof(want), "%d,\"", code);
	CHECK_MSG(!strncmp(e, want, strlen(want)) && (!needle || strstr(e, needle)), "'%s' left error '%s', wanted %d %s",
	          msg, e, code, needle ? needle : "");
	expect(s, "SYST:ERR?", "0,\"No error\"");
}

static void test_params(void)
{
	mg_icpsim *s = NULL;
	CHECK_RC(mg_icpsim_new(NULL, &s), MG_OK);
	mg_icpsim_free(s);
	const char *bad[] = {"nonsense=1", "seed=-1", "plasma=maybe", "pixels=200", "error_at=0", "error_at=2:x",
	                     "drift_jump=15", "drift_jump=x@2", "hang=0", "serial=a,b", "rack=/nonexistent/rack.ini",
	                     "noise=-1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = NULL;
		int rc = mg_icpsim_new(bad[i], &s);
		CHECK_MSG(rc < 0 && s == NULL, "'%s' accepted", bad[i]);
	}
	CHECK_RC(mg_icpsim_new("nonsense=1", &s), MG_ERR_ARG);
	CHECK(strstr(mg_error_detail(), "unknown simulator parameter 'nonsense'") != NULL);
}

static void test_truth(void)
{
	mg_icpsim *s = NULL;
	CHECK_RC(mg_icpsim_new("seed=2", &s), MG_OK);
	if (!s)
		return;
	int pos[64];
	int n = mg_icpsim_positions(s, pos, 64);
	CHECK(n == 20 && pos[0] == 1 && pos[19] == 20);
	char el[4];
	double c;
	CHECK_RC(mg_icpsim_internal_standard(s, el, &c), MG_OK);
	CHECK(!strcmp(el, "Y") && c == 2.0);
	mg_icpsim_solution sol;
	CHECK_RC(mg_icpsim_solution_at(s, POS_N42SH, &sol), MG_OK);
	CHECK(sol.kind == MG_ICPSIM_SAMPLE && !strcmp(sol.grade, "N42SH") && !strcmp(sol.name, "N42SH-A"));
	CHECK(sol.digest_mass_g == 0.0998 && sol.digest_volume_ml == 100 && sol.dilution == 10);
	double sum = 0;
	for (size_t i = 0; i < sol.nelements; i++)
		sum += sol.mass_pct[i];
	CHECK_NEAR(sum, 100.0, 1e-9);
	CHECK_RC(mg_icpsim_truth(s, POS_N42SH, "Nd", &c), MG_OK);
	CHECK_NEAR(c, 0.21 * 0.0998 * 1e6 / 100 / 10, 1e-9);
	CHECK_RC(mg_icpsim_truth(s, POS_N42SH, "Sm", &c), MG_OK);
	CHECK(c == 0);
	double dig, spk;
	mg_icpsim_truth(s, POS_N42SH, "Dy", &dig);
	mg_icpsim_truth(s, 18, "Dy", &spk);
	CHECK_NEAR(spk - dig, 2.0, 1e-9);
	CHECK_RC(mg_icpsim_solution_at(s, POS_ICV, &sol), MG_OK);
	CHECK(sol.kind == MG_ICPSIM_ICV && !strcmp(sol.name, "ICV"));
	CHECK_RC(mg_icpsim_solution_at(s, POS_BLANK, &sol), MG_OK);
	CHECK(sol.kind == MG_ICPSIM_BLANK && sol.nelements == 0);
	CHECK_RC(mg_icpsim_solution_at(s, 77, &sol), MG_ERR_NOT_FOUND);
	size_t rn;
	const char *rack = mg_icpsim_builtin_rack(&rn);
	CHECK(rack && rn > 1000 && strstr(rack, "[position 20]"));
	mg_icpsim_free(s);

	/* a rack file: Sc internal standard, a composition, a digest without dilution */
	const char *dir = mg_test_tmpdir();
	char path[512];
	snprintf(path, sizeof(path), "%s/rack.ini", dir);
	FILE *f = fopen(path, "w");
	fputs("[rack]\nformat = 1\ninternal_standard = Sc\ninternal_standard_mg_l = 1.5\n\n"
	      "[position 3]\nname = MY ALLOY\nkind = sample\ncomposition = Nd:30, Fe:69, B:1\n"
	      "digest_mass_g = 0.05\ndigest_volume_ml = 50\n\n[position 1]\nname = B\nkind = blank\n",
	      f);
	fclose(f);
	char params[600];
	snprintf(params, sizeof(params), "rack=%s", path);
	CHECK_RC(mg_icpsim_new(params, &s), MG_OK);
	if (s) {
		CHECK(mg_icpsim_positions(s, pos, 64) == 2 && pos[0] == 1 && pos[1] == 3);
		CHECK_RC(mg_icpsim_truth(s, 3, "Nd", &c), MG_OK);
		CHECK_NEAR(c, 0.30 * 0.05 * 1e6 / 50, 1e-9);
		CHECK_RC(mg_icpsim_internal_standard(s, el, &c), MG_OK);
		CHECK(!strcmp(el, "Sc") && c == 1.5);
		mg_icpsim_free(s);
	}
	static const struct {
		const char *text, *needle;
	} bad[] = {
		{"[position 1]\nname = x\nkind = blank\n", "no [rack]"},
		{"[rack]\nformat = 1\n", "no [position N]"},
		{"[rack]\n[position 0]\nname = x\nkind = blank\n", "line 2: [position 0]"},
		{"[rack]\n[position 1]\nname = x\nkind = soup\n", "line 4: kind: 'soup'"},
		{"[rack]\n[position 1]\nname = x\nkind = sample\n", "needs a grade or a composition"},
		{"[rack]\n[position 1]\nname = x\nkind = sample\ngrade = N99\n", "line 5: grade: unknown grade 'N99'"},
		{"[rack]\n[position 1]\nname = x\nkind = sample\ngrade = N52\n", "no digest_mass_g"},
		{"[rack]\n[position 1]\nname = x\nkind = blank\nNd = -1\n", "line 5: Nd"},
		{"[rack]\n[position 1]\nname = x\nkind = blank\nY = 1\n", "internal standard"},
		{"[rack]\n[position 1]\nname = x\nkind = blank\ncolour = red\n", "unknown key 'colour'"},
		{"[rack]\n[position 1]\nname = x\nkind = blank\n[position 1]\n", "line 5: position 1 appears twice"},
		{"[rack]\ninternal_standard = Ce\n[position 1]\nname = x\nkind = blank\n", "line 2: internal_standard"},
		{"[rack]\n[position 2]\nkind = blank\n", "needs name and kind"},
		{"[rack]\n[shelf]\n", "unknown section [shelf]"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = fopen(path, "w");
		fputs(bad[i].text, f);
		fclose(f);
		s = NULL;
		int rc = mg_icpsim_new(params, &s);
		CHECK_MSG(rc == MG_ERR_FORMAT && strstr(mg_error_detail(), bad[i].needle), "rack %zu: rc %d '%s' (wanted '%s')",
		          i, rc, mg_error_detail(), bad[i].needle);
		mg_icpsim_free(s);
	}
}

static void test_dialect(void)
{
	mg_icpsim *s = NULL;
	CHECK_RC(mg_icpsim_new("serial=SN-42&busy_polls=2", &s), MG_OK);
	if (!s)
		return;
	expect(s, "*IDN?", "magassay,SIM-ICP-OES,SN-42,1.0.0");
	expect(s, "*idn?", "magassay,SIM-ICP-OES,SN-42,1.0.0");
	expect(s, "*RST", "");
	expect(s, "SYSTem:ERRor?", "0,\"No error\"");
	expect(s, "syst:err:next?", "0,\"No error\"");
	expect(s, "SYST:VERS?", "1999.0");
	expect(s, "FORM?", "ASC");
	expect(s, "FORMat:DATA REAL,64;BORDer SWAPped", "");
	expect(s, "FORM:DATA?;BORD?", "REAL,64;SWAP");
	expect(s, "FORM REAL,32;:FORM:BORD NORM;:FORM:DATA?;BORD?", "REAL,32;NORM");
	expect(s, "FORM ASCii", "");
	expect(s, "INT 2.5;INT?", "2.500");
	expect(s, "SENS:INT:TIME?", "2.500");
	expect(s, "SENSe:REPLicates 4;REPL?", "4");
	expect(s, "SAMP:POS 12;POS?;:SAMP:LAB 'N52 \"x\"';LAB?", "12;\"N52 \"\"x\"\"\"");
	expect(s, "PLAS?", "1");
	expect(s, "PLAS:COND?", "1,1300.0,0.700,12.00,1.00");
	expect(s, "*OPC?", "1");
	expect(s, "*STB?", "0");
	expect(s, "*TST?", "0");
	expect(s, "*ESE 32;*ESE?", "32");
	expect(s, "SAMP:POS:CAT?", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20");
	/* errors */
	expect_error(s, "FOO:BAR", -113, "Undefined header");
	expect_error(s, "SENS:INTE 1", -113, NULL);          /* neither the short nor the long form */
	expect_error(s, "SENS:INT 100", -222, "Data out of range");
	expect_error(s, "SENS:INT", -109, NULL);
	expect_error(s, "SENS:INT 1,2", -108, NULL);
	expect_error(s, "SENS:INT abc", -104, NULL);
	expect_error(s, "SENS:REPL 2.5", -224, NULL);
	expect_error(s, "CONF:LINE 3,\"Nd\",430.358", -222, "configure lines 1 to 0 first");
	expect_error(s, "CONF:LINE 1,\"Nd\",406.2", -224, "no Nd line at 406.2000 nm");
	expect_error(s, "CONF:LINE 1,\"Nd\"", -109, NULL);
	expect_error(s, "FETC:WIND? 1,1", -230, "no measurement data");
	expect_error(s, "INIT", -221, "no lines configured");
	expect_error(s, "FORM INT", -224, NULL);
	expect_error(s, "SYST::ERR?", -102, NULL);
	expect_error(s, "CONF2:LINE?", -114, NULL);
	expect_error(s, "SAMP:LAB \"open", -103, NULL);
	/* *ESR? after a command error: CME; the status byte shows the error queue */
	q(s, "*CLS");
	q(s, "BOGUS");
	expect(s, "*STB?", "36"); /* EAV + ESB (ESE 32) */
	expect(s, "*ESR?", "32");
	expect(s, "*ESR?", "0");
	q(s, "*CLS");
	expect(s, "SYST:ERR:COUN?", "0");
	/* the queue holds 20; then the last entry says overflow */
	for (int i = 0; i < 25; i++)
		q(s, "X");
	expect(s, "SYST:ERR:COUN?", "20");
	for (int i = 0; i < 19; i++)
		q(s, "SYST:ERR?");
	expect(s, "SYST:ERR?", "-350,\"Queue overflow\"");
	expect(s, "SYST:ERR?", "0,\"No error\"");
	/* a measurement in ASCII */
	expect(s, "CONF:LINE:CLE;:CONF:LINE 1,Nd,430.358;LINE 2,\"Y\",371.03,1;:CONF:LINE:COUN?", "2");
	expect(s, "CONF:LINE? 2", "\"Y\",371.0300,1");
	q(s, "SAMP:POS 5;:INIT");
	expect(s, "STAT:OPER:COND?", "16");
	expect(s, "STAT:OPER:COND?", "16");
	expect(s, "STAT:OPER:COND?", "0");
	expect(s, "FETC:COUN?", "4");
	const char *w = q(s, "FETC:WIND? 1,4");
	double v[256];
	size_t n;
	CHECK_RC(mg_scpi_parse_numbers(w, strlen(w), v, 256, &n), MG_OK);
	CHECK(n == 128 && v[0] < 430.358 && v[126] > 430.358);
	const char *wl = q(s, "FETC:WAV? 1");
	double v2[128];
	CHECK_RC(mg_scpi_parse_numbers(wl, strlen(wl), v2, 128, &n), MG_OK);
	CHECK(n == 64 && fabs(v2[10] - v[20]) < 1e-6);
	expect_error(s, "FETC:WIND? 3,1", -222, NULL);
	expect_error(s, "FETC:WIND? 1,5", -222, NULL);
	/* binary */
	q(s, "FORM REAL;BORD SWAP");
	mg_buf in, out;
	mg_buf_init(&in);
	mg_buf_init(&out);
	mg_buf_puts(&in, "FETC:WIND? 2,1\n");
	/* fed one byte at a time: the same answer */
	for (size_t i = 0; i < in.len; i++)
		mg_icpsim_feed(s, (const uint8_t *)in.data + i, 1, &out);
	CHECK(out.len == 6 + 1024 + 1 && !memcmp(out.data, "#41024", 6) && out.data[out.len - 1] == '\n');
	/* CR LF terminated, two messages in one write */
	mg_buf_reset(&out);
	mg_icpsim_feed(s, (const uint8_t *)"*OPC?\r\nPLAS?\r\n", 14, &out);
	CHECK(out.len == 4 && !memcmp(out.data, "1\n1\n", 4));
	mg_buf_free(&in);
	mg_buf_free(&out);
	/* plasma off: no run */
	q(s, "PLAS OFF");
	expect(s, "PLAS:COND?", "0,0.0,0.000,0.00,0.00");
	expect_error(s, "INIT", -221, "plasma is off");
	q(s, "PLAS ON");
	mg_icpsim_stats st = mg_icpsim_get_stats(s);
	CHECK(st.runs == 1 && st.errors > 30 && st.messages > 50 && st.sim_time_s >= 60);
	mg_icpsim_free(s);
}

/* Run position `pos` with `lines` ("CONF:LINE ..." program) and return line l's window, replicate 1. */
static void window(mg_icpsim *s, int pos, int line, mg_icp_window *w)
{
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "SAMP:POS %d;:INIT", pos);
	q(s, cmd);
	snprintf(cmd, sizeof(cmd), "FETC:WIND? %d,1", line);
	const char *a = q(s, cmd);
	double v[256];
	size_t n = 0;
	CHECK_RC(mg_scpi_parse_numbers(a, strlen(a), v, 256, &n), MG_OK);
	memset(w, 0, sizeof(*w));
	w->npix = n / 2;
	for (size_t i = 0; i < w->npix; i++) {
		w->wavelength_nm[i] = v[2 * i];
		w->intensity[i] = v[2 * i + 1];
	}
}

static void test_physics(void)
{
	mg_icpsim *s = NULL;
	CHECK_RC(mg_icpsim_new("noise=0&drift=0", &s), MG_OK);
	if (!s)
		return;
	q(s, "CONF:LINE 1,Nd,430.358;LINE 2,Y,371.030,1;LINE 3,Sm,359.260;LINE 4,Dy,400.045;LINE 5,B,208.957");
	q(s, "INT 1;REPL 1");
	mg_icp_window w4, w5, wb, y4, y5, yb, sm, dy;
	window(s, POS_STD4, 1, &w4);
	window(s, POS_STD4, 2, &y4);
	window(s, POS_STD5, 1, &w5);
	window(s, POS_STD5, 2, &y5);
	window(s, POS_BLANK, 1, &wb);
	window(s, POS_BLANK, 2, &yb);
	CHECK(w4.npix == 64);
	/* line width: the Nd 430.358 peak's FWHM is 5-10 pm */
	double peak = 0, bg = wb.intensity[32];
	size_t ip = 0;
	for (size_t i = 0; i < w4.npix; i++)
		if (w4.intensity[i] > peak)
			peak = w4.intensity[i], ip = i;
	double half = bg + 0.5 * (peak - bg), lo = NAN, hi = NAN;
	for (size_t i = ip; i > 0 && isnan(lo); i--)
		if (w4.intensity[i - 1] < half)
			lo = w4.wavelength_nm[i - 1] + (half - w4.intensity[i - 1]) / (w4.intensity[i] - w4.intensity[i - 1]) *
			                                   (w4.wavelength_nm[i] - w4.wavelength_nm[i - 1]);
	for (size_t i = ip; i + 1 < w4.npix && isnan(hi); i++)
		if (w4.intensity[i + 1] < half)
			hi = w4.wavelength_nm[i] + (w4.intensity[i] - half) / (w4.intensity[i] - w4.intensity[i + 1]) *
			                               (w4.wavelength_nm[i + 1] - w4.wavelength_nm[i]);
	double fwhm_pm = (hi - lo) * 1000;
	CHECK_MSG(fwhm_pm > 5 && fwhm_pm < 11 && fabs(w4.wavelength_nm[ip] - 430.358) < 0.0025, "FWHM %.2f pm at %.4f",
	          fwhm_pm, w4.wavelength_nm[ip]);
	/* mild curvature: STD 5 is 2 x STD 4 but reads ~0.5 % less than twice (IS-corrected) */
	double r = (icp_net(&w5, 430.358) / icp_net(&y5, 371.030)) / (icp_net(&w4, 430.358) / icp_net(&y4, 371.030));
	CHECK_MSG(r > 1.985 && r < 1.998, "STD5/STD4 Nd %.4f", r);
	/* matrix suppression: the internal standard reads less in STD 5 (TDS ~ 206 mg/L) than in the blank */
	double ys = icp_net(&y5, 371.030) / icp_net(&yb, 371.030);
	CHECK_MSG(ys > 0.985 && ys < 0.995, "Y suppression %.4f", ys);
	CHECK_MSG(fabs(icp_net(&wb, 430.358)) < 1, "blank Nd %g", icp_net(&wb, 430.358));
	/* Sm 359.260 in a digest with no Sm: a peak all the same (Nd 359.259 + Fe 359.267) */
	window(s, POS_N42SH, 3, &sm);
	double sm_apparent = icp_net(&sm, 359.260);
	CHECK_MSG(sm_apparent > 1e5, "Sm window of a Sm-free digest: net %g", sm_apparent);
	/* Dy 400.045 in a Dy-free digest (N52): the Nd 400.081 neighbour in the window, its wing under Dy */
	window(s, POS_N52, 4, &dy);
	size_t ind = 0, idy = 0;
	for (size_t i = 0; i < dy.npix; i++) {
		if (fabs(dy.wavelength_nm[i] - 400.081) < fabs(dy.wavelength_nm[ind] - 400.081))
			ind = i;
		if (fabs(dy.wavelength_nm[i] - 400.045) < fabs(dy.wavelength_nm[idy] - 400.045))
			idy = i;
	}
	CHECK_MSG(dy.intensity[ind] > 10 * dy.intensity[0] && dy.intensity[idy] > 1.5 * dy.intensity[0],
	          "Dy 400.045 window of N52: edge %g, at Dy %g, at Nd %g", dy.intensity[0], dy.intensity[idy],
	          dy.intensity[ind]);
	mg_icpsim_free(s);

	/* drift: -5 %/h common drift, seen by the internal standard */
	CHECK_RC(mg_icpsim_new("noise=0&drift=-5", &s), MG_OK);
	if (s) {
		q(s, "CONF:LINE 1,Y,371.030,1;LINE 2,Nd,430.358;:INT 1;REPL 1");
		mg_icp_window a0, a1, n0, n1;
		window(s, POS_STD4, 1, &a0);
		window(s, POS_STD4, 2, &n0);
		mg_icpsim_advance(s, 3600);
		window(s, POS_STD4, 1, &a1);
		window(s, POS_STD4, 2, &n1);
		double d = icp_net(&a1, 371.030) / icp_net(&a0, 371.030);
		CHECK_MSG(d > 0.93 && d < 0.965, "drift over an hour %.4f", d);
		double ratio = (icp_net(&n1, 430.358) / icp_net(&a1, 371.030)) / (icp_net(&n0, 430.358) / icp_net(&a0, 371.030));
		CHECK_MSG(fabs(ratio - 1) < 0.006, "the internal standard corrects the drift: %.4f", ratio);
		mg_icpsim_free(s);
	}

	/* noise: replicates differ a little, the same seed repeats, another seed does not */
	char a1[2048], a2[2048], a3[2048];
	for (int k = 0; k < 3; k++) {
		CHECK_RC(mg_icpsim_new(k < 2 ? "seed=9" : "seed=10", &s), MG_OK);
		if (!s)
			return;
		q(s, "CONF:LINE 1,Nd,430.358;:INT 1;REPL 3;:SAMP:POS 5;:INIT");
		snprintf(k == 0 ? a1 : k == 1 ? a2 : a3, 2048, "%s", q(s, "FETC:WIND? 1,2"));
		if (k == 0) {
			char r1[2048];
			snprintf(r1, sizeof(r1), "%s", q(s, "FETC:WIND? 1,1"));
			CHECK(strcmp(r1, a1) != 0);
		}
		mg_icpsim_free(s);
	}
	CHECK(!strcmp(a1, a2));
	CHECK(strcmp(a1, a3) != 0);
}

int main(void)
{
	icp_log_init();
	test_params();
	test_truth();
	test_dialect();
	test_physics();
	return mg_test_finish("test_icpsim");
}
