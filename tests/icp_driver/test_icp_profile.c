/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Instrument profiles (drivers/icp/profile.c, protocol.c): the built-in
 * profile and the installed copy agree and parse; every kind of malformed
 * profile is refused with its line number and reason; command templates
 * (placeholders, formats, escapes, quoting); *IDN? glob matching; windows in
 * every data format and layout; plasma answers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "drivers/icp/protocol.h"
#include "magassay/error.h"
#include "magassay/icp_device.h"

static const char *builtin(size_t *n)
{
	const char *t = mg_icp_profile_builtin_text("magassay-sim-icp", n);
	CHECK(t != NULL && *n > 500);
	return t;
}

static void test_builtin(void)
{
	mg_icp_profile *p = NULL;
	CHECK_RC(mg_icp_profile_builtin(NULL, &p), MG_OK);
	if (p) {
		CHECK(!strcmp(mg_icp_profile_name(p), "magassay-sim-icp"));
		CHECK(strstr(mg_icp_profile_description(p), "simulated") != NULL);
		CHECK(mg_icp_profile_matches(p, "magassay", "SIM-ICP-OES", "1.0.0"));
		CHECK(mg_icp_profile_matches(p, "MAGASSAY", "sim-icp-oes-2", ""));
		CHECK(!mg_icp_profile_matches(p, "Agilent", "5110", "1"));
		CHECK(!strcmp(p->terminator, "\n") && p->timeout_ms == 2000 && p->ninit == 2);
		CHECK(p->wait == MG_ICP_WAIT_OPC && p->format == MG_ICP_DATA_BLOCK && p->number == MG_SCPI_REAL64 &&
		      !p->big_endian && p->layout == MG_ICP_LAYOUT_PAIRS && p->pixels_max == 128);
		CHECK(p->nplasma_fields == 5 && p->plasma_fields[0] == MG_ICP_PF_LIT && p->plasma_fields[4] == MG_ICP_PF_AUX);
		CHECK(p->lines_max == 32 && p->replicates_max == 10 && p->position_max == 999 && p->overhead_s == 120);
		mg_icp_profile_free(p);
	}
	CHECK_RC(mg_icp_profile_builtin("nope", &p), MG_ERR_NOT_FOUND);
	/* the file in the source tree is the one built in */
	char path[1024];
	snprintf(path, sizeof(path), "%s/drivers/icp/profiles/magassay-sim-icp.ini", MG_SOURCE_DIR);
	CHECK_RC(mg_icp_profile_load(path, &p), MG_OK);
	mg_icp_profile_free(p);
	FILE *f = fopen(path, "rb");
	size_t n;
	const char *t = builtin(&n);
	if (f) {
		char *buf = malloc(n + 1);
		size_t r = fread(buf, 1, n + 1, f);
		fclose(f);
		CHECK_MSG(r == n && !memcmp(buf, t, n), "the embedded profile differs from %s", path);
		free(buf);
	}
	CHECK_RC(mg_icp_profile_load("/nonexistent/x.ini", &p), MG_ERR_NOT_FOUND);
}

/* The built-in profile with `from` replaced by `to` must fail at `line` with `needle`. */
static void bad(const char *from, const char *to, int line, const char *needle)
{
	size_t n;
	const char *t = builtin(&n);
	const char *at = strstr(t, from);
	CHECK_MSG(at != NULL, "'%s' not in the profile", from);
	if (!at)
		return;
	size_t a = (size_t)(at - t);
	char *s = malloc(n + strlen(to) + 1);
	memcpy(s, t, a);
	strcpy(s + a, to);
	strcat(s, at + strlen(from));
	mg_icp_profile *p = (mg_icp_profile *)1;
	int rc = mg_icp_profile_parse(s, strlen(s), "t.ini", &p);
	char want[32] = "t.ini";
	if (line > 0)
		snprintf(want, sizeof(want), "t.ini line %d:", line);
	CHECK_MSG(rc == MG_ERR_FORMAT && p == NULL && strstr(mg_error_detail(), want) && strstr(mg_error_detail(), needle),
	          "'%s' -> '%s': rc %d, detail '%s' (wanted '%s' ... '%s')", from, to, rc, mg_error_detail(), want, needle);
	free(s);
}

/* Line number of the first line holding `what` in the built-in profile. */
static int line_of(const char *what)
{
	size_t n;
	const char *t = builtin(&n);
	const char *at = strstr(t, what);
	int line = 1;
	for (const char *c = t; at && c < at; c++)
		line += *c == '\n';
	return at ? line : -1;
}

static void test_malformed(void)
{
	int l;
	l = line_of("format = 1");
	bad("format = 1", "format = 2", l, "out of range");
	bad("format = 1", "format = x", l, "not a number");
	l = line_of("[identify]");
	bad("[identify]", "[identfy]", l, "unknown section [identfy]");
	bad("[identify]", "[Identify]", l, "bad section name");
	bad("[identify]", "[identify", l, "must end with ']'");
	l = line_of("timeout_ms = 2000");
	bad("timeout_ms = 2000", "timeout_ms = 10", l, "out of range");
	bad("timeout_ms = 2000", "timeout = 2000", l, "unknown key 'timeout' in [session] (known: terminator, timeout_ms");
	bad("timeout_ms = 2000", "timeout_ms =", l, "has no value");
	bad("timeout_ms = 2000", "timeout_ms 2000", l, "expected 'key = value'");
	bad("timeout_ms = 2000", "timeout_ms = 2000\ntimeout_ms = 3000", l + 1, "given twice (first on line");
	bad("timeout_ms = 2000", "timeout_ms = 20\x01", l, "control character");
	bad("timeout_ms = 2000", "2timeout = 1", l, "bad key");
	bad("terminator = LF", "terminator = CR", line_of("terminator = LF"), "LF or CRLF");
	l = line_of("init = *CLS");
	bad("init = *CLS", "init = *IDN?", l, "holds a query");
	bad("init = *CLS", "init = *CLS {x}", l, "placeholders are not allowed");
	bad("init = *CLS", "init = A\ninit = B\ninit = C\ninit = D\ninit = E\ninit = F\ninit = G\ninit = H", l + 8,
	    "more than 8");
	l = line_of("query = PLASma:CONDition?");
	bad("query = PLASma:CONDition?", "query = PLASma:CONDition", l, "exactly one query");
	bad("query = PLASma:CONDition?", "query = A?;B?", l, "exactly one query");
	l = line_of("fields = lit");
	bad("fields = lit, rf_power_w", "fields = rf_power_w", l, "'lit'");
	bad("fields = lit, rf_power_w", "fields = lit, watts", l, "unknown field 'watts'");
	bad("fields = lit, rf_power_w", "fields = lit, lit", l, "given twice");
	bad("aux_flow_lmin\n", "aux_flow_lmin,\n", l, "empty field");
	l = line_of("add = CONFigure:LINE");
	bad("{index},{element:q}", "{index},{elem:q}", l, "unknown placeholder '{elem}'");
	bad("{index},{element:q}", "{index},{seconds}", l, "no placeholder '{seconds}' here (allowed: index, index0, element");
	bad("{index},{element:q}", "{index},{element:.3f}", l, "does not apply");
	bad("{index},{element:q}", "{index},{element:q", l, "bad placeholder");
	bad("{is}\n", "{is\n", l, "without '}'");
	bad("{index},{element:q}", "{index}},{element:q}", l, "without '{'");
	bad("{wavelength:.4f}", "{wavelength:.99f}", l, "bad format");
	bad("{wavelength:.4f}", "{wavelength:x}", l, "does not apply");
	bad("{index},{element:q}", "{index:q},{element:q}", l, "integers take :d");
	bad("add = CONFigure:LINE", "add = CONFigure:LINE?", l, "holds a query");
	bad("add = CONFigure:LINE {index},{element:q},{wavelength:.4f},{is}\n", "", -1, "[lines] needs 'add'");
	l = line_of("window = FETCh");
	bad("window = FETCh:WINDow? {line}", "window = FETCh:WINDow {line}", l, "exactly one query");
	bad("wait = opc", "wait = later", line_of("wait = opc"), "opc or poll");
	bad("wait = opc", "wait = poll", line_of("wait = opc"), "wait = poll needs poll_query");
	bad("wait = opc", "wait = opc\npoll_query = X?", line_of("wait = opc") + 1, "poll_query is set but wait = opc");
	bad("layout = pairs", "layout = intensities", line_of("layout = pairs"), "needs 'wavelengths'");
	bad("layout = pairs", "layout = pairs\nwavelengths = W? {line}", line_of("layout = pairs") + 1,
	    "only used with layout = intensities");
	bad("format = block", "format = ascii", line_of("number = real64"), "apply to format = block only");
	bad("number = real64", "number = real16", line_of("number = real64"), "real64, real32, int32 or int16");
	bad("byte_order = little", "byte_order = middle", line_of("byte_order"), "little");
	bad("integration_min = 0.1", "integration_min = 100", line_of("integration_min"), "above integration_max");
	bad("position_min = 1", "position_min = 5000", line_of("position_min"), "above position_max");
	bad("\nmax = 32", "\nmax = 33", line_of("\nmax = 32") + 1, "out of range");
	bad("replicates_max = 10", "replicates_max = 2.5", line_of("replicates_max"), "whole number");
	bad("name = magassay-sim-icp", "name = bad name", line_of("name = magassay"), "letters, digits");
	bad("[fetch]", "[fetch]\n[fetch]", line_of("[fetch]") + 1, "appears twice");
	bad("[profile]", "key = value\n[profile]", line_of("[profile]"), "before any [section]");
	bad("[plasma]", "[plasmo]", line_of("[plasma]"), "unknown section");
	/* a missing section */
	size_t n;
	const char *t = builtin(&n);
	char *cut = strndup(t, (size_t)(strstr(t, "[fetch]") - t));
	mg_icp_profile *p;
	CHECK_RC(mg_icp_profile_parse(cut, strlen(cut), "t.ini", &p), MG_ERR_FORMAT);
	CHECK(strstr(mg_error_detail(), "section [fetch] is missing") != NULL);
	free(cut);
	CHECK_RC(mg_icp_profile_parse("", 0, "empty.ini", &p), MG_ERR_FORMAT);
	CHECK(strstr(mg_error_detail(), "empty.ini: section [profile] is missing") != NULL);
	/* comments, blanks, CR LF, tabs are fine */
	char *crlf = malloc(2 * n + 64);
	size_t k = 0;
	k += (size_t)sprintf(crlf, "; leading comment\r\n\t\r\n");
	for (size_t i = 0; i < n; i++) {
		if (t[i] == '\n')
			crlf[k++] = '\r';
		crlf[k++] = t[i];
	}
	CHECK_RC(mg_icp_profile_parse(crlf, k, "crlf.ini", &p), MG_OK);
	mg_icp_profile_free(p);
	free(crlf);
}

static void expand(const char *src, unsigned vars, const mg_icp_vars *v, const char *want, int want_rc)
{
	mg_icp_template t;
	int rc = mg_icp_template_compile(src, vars, &t);
	CHECK_MSG(rc == MG_OK, "compile '%s': %s", src, mg_error_detail());
	if (rc)
		return;
	mg_buf b;
	mg_buf_init(&b);
	rc = mg_icp_template_expand(&t, v, &b);
	CHECK_MSG(rc == want_rc && (want_rc || !strcmp(b.data, want)), "'%s' -> rc %d '%s', wanted %d '%s'", src, rc,
	          b.data ? b.data : "", want_rc, want ? want : "");
	mg_buf_free(&b);
	mg_icp_template_free(&t);
}

static void test_templates(void)
{
	unsigned all = ~0u;
	mg_icp_vars v = {.index = 3, .element = "Nd", .wavelength = 430.358, .label = "N52 \"A\"; x", .is = 1,
	                 .seconds = 2.5, .count = 4, .position = 17, .line = 2, .replicate = 3};
	expand("CONF:LINE {index},{element:q},{wavelength:.4f},{is}", all, &v, "CONF:LINE 3,\"Nd\",430.3580,1", 0);
	expand("X {index0} {line0} {replicate0} {line} {replicate}", all, &v, "X 2 1 2 2 3", 0);
	expand("SENS:INT {seconds}", all, &v, "SENS:INT 2.500", 0);
	expand("SENS:INT {seconds:.1f}", all, &v, "SENS:INT 2.5", 0);
	expand("W {wavelength}", all, &v, "W 430.3580", 0);
	expand("W {wavelength:.2e}", all, &v, "W 4.30E+02", 0);
	expand("P {position:d};C {count}", all, &v, "P 17;C 4", 0);
	expand("L {label:q}", all, &v, "L \"N52 \"\"A\"\"; x\"", 0);
	expand("L {label}", all, &v, NULL, MG_ERR_ARG);
	expand("E {element}", all, &v, "E Nd", 0);
	expand("{{literal}} {{{index}}}", all, &v, "{literal} {3}", 0);
	expand("*OPC?", all, &v, "*OPC?", 0);
	mg_icp_vars bad = v;
	bad.label = "a\tb";
	expand("L {label:q}", all, &bad, NULL, MG_ERR_ARG);
	bad = v;
	bad.wavelength = NAN;
	expand("W {wavelength}", all, &bad, NULL, MG_ERR_ARG);
	mg_icp_template t;
	CHECK_RC(mg_icp_template_compile("A\nB", all, &t), MG_ERR_FORMAT);
	CHECK_RC(mg_icp_template_compile("{index", all, &t), MG_ERR_FORMAT);
	CHECK_RC(mg_icp_template_compile("{}", all, &t), MG_ERR_FORMAT);
	CHECK_RC(mg_icp_template_compile("{:q}", all, &t), MG_ERR_FORMAT);
	CHECK_RC(mg_icp_template_compile("{position:.2f}", all, &t), MG_ERR_FORMAT);
	CHECK_RC(mg_icp_template_compile("{seconds:.f}", all, &t), MG_ERR_FORMAT);
	CHECK_RC(mg_icp_template_compile("A?;B? {line}", all, &t), MG_OK);
	CHECK(t.queries == 2);
	mg_icp_template_free(&t);
	/* glob */
	CHECK(mg_icp_glob("*", ""));
	CHECK(mg_icp_glob("a*b?d", "AxyzBcD"));
	CHECK(!mg_icp_glob("a*b?d", "axyzbd"));
	CHECK(mg_icp_glob("*5110*", "ICP-OES 5110 VDV"));
	CHECK(!mg_icp_glob("5110", "5110X"));
	CHECK(mg_icp_glob("**a**", "bab"));
}

static mg_icp_profile *variant(const char *from, const char *to)
{
	size_t n;
	const char *t = builtin(&n);
	const char *at = strstr(t, from);
	if (!at)
		return NULL;
	size_t a = (size_t)(at - t);
	char *s = malloc(n + strlen(to) + 1);
	memcpy(s, t, a);
	strcpy(s + a, to);
	strcat(s, at + strlen(from));
	mg_icp_profile *p = NULL;
	CHECK_RC(mg_icp_profile_parse(s, strlen(s), "v.ini", &p), MG_OK);
	free(s);
	return p;
}

static void test_answers(void)
{
	mg_icp_profile *p = NULL;
	mg_icp_profile_builtin(NULL, &p);
	if (!p)
		return;
	double v[8] = {400.0, 10, 400.1, 20, 400.2, 30, 400.3, 40};
	mg_buf b;
	mg_buf_init(&b);
	mg_buf data;
	mg_buf_init(&data);
	mg_scpi_append_numbers(&data, v, 8, MG_SCPI_REAL64, 0);
	mg_scpi_append_block(&b, data.data, data.len);
	mg_icp_window w;
	CHECK_RC(mg_icp_parse_window(p, b.data, b.len, NULL, 0, &w), MG_OK);
	CHECK(w.npix == 4 && w.wavelength_nm[2] == 400.2 && w.intensity[3] == 40);
	/* wrong: text instead of a block, an odd count, decreasing wavelengths, NaN, too few, two elements */
	CHECK_RC(mg_icp_parse_window(p, "1,2,3,4", 7, NULL, 0, &w), MG_ERR_PROTOCOL);
	CHECK(strstr(mg_error_detail(), "binary block") != NULL);
	mg_buf_reset(&b);
	mg_scpi_append_block(&b, data.data, data.len - 8);
	CHECK_RC(mg_icp_parse_window(p, b.data, b.len, NULL, 0, &w), MG_ERR_PROTOCOL);
	CHECK(strstr(mg_error_detail(), "pairs") != NULL);
	double dec[6] = {400.2, 1, 400.1, 2, 400.0, 3};
	mg_buf_reset(&data);
	mg_scpi_append_numbers(&data, dec, 6, MG_SCPI_REAL64, 0);
	mg_buf_reset(&b);
	mg_scpi_append_block(&b, data.data, data.len);
	CHECK_RC(mg_icp_parse_window(p, b.data, b.len, NULL, 0, &w), MG_ERR_PROTOCOL);
	CHECK(strstr(mg_error_detail(), "not increasing") != NULL);
	double nanv[6] = {400.0, 1, 400.1, 9.91e37, 400.2, 3};
	mg_buf_reset(&data);
	mg_scpi_append_numbers(&data, nanv, 6, MG_SCPI_REAL64, 0);
	mg_buf_reset(&b);
	mg_scpi_append_block(&b, data.data, data.len);
	CHECK_RC(mg_icp_parse_window(p, b.data, b.len, NULL, 0, &w), MG_ERR_PROTOCOL);
	CHECK(strstr(mg_error_detail(), "pixel 1 intensity is not a number") != NULL);
	mg_buf_reset(&b);
	mg_scpi_append_block(&b, data.data, 32);
	CHECK_RC(mg_icp_parse_window(p, b.data, b.len, NULL, 0, &w), MG_ERR_PROTOCOL);
	mg_buf_append(&b, ",1", 2);
	CHECK_RC(mg_icp_parse_window(p, b.data, b.len, NULL, 0, &w), MG_ERR_PROTOCOL);
	mg_icp_profile_free(p);

	/* big-endian real32 */
	p = variant("number = real64\nbyte_order = little", "number = real32\nbyte_order = big");
	if (p) {
		mg_buf_reset(&data);
		mg_scpi_append_numbers(&data, v, 8, MG_SCPI_REAL32, 1);
		mg_buf_reset(&b);
		mg_scpi_append_block(&b, data.data, data.len);
		CHECK_RC(mg_icp_parse_window(p, b.data, b.len, NULL, 0, &w), MG_OK);
		CHECK(w.npix == 4 && fabs(w.wavelength_nm[1] - 400.1) < 1e-4);
		mg_icp_profile_free(p);
	}
	/* ASCII intensities with separate wavelengths */
	p = variant("format = block\nnumber = real64\nbyte_order = little\nlayout = pairs",
	            "format = ascii\nlayout = intensities\nwavelengths = FETCh:WAVelength? {line}");
	if (p) {
		double wl[4];
		size_t nw;
		CHECK_RC(mg_icp_parse_wavelengths(p, "400.0,400.1,400.2,400.3", 23, wl, 4, &nw), MG_OK);
		CHECK(nw == 4);
		CHECK_RC(mg_icp_parse_window(p, "5,6,7,8", 7, wl, nw, &w), MG_OK);
		CHECK(w.npix == 4 && w.intensity[0] == 5 && w.wavelength_nm[3] == 400.3);
		CHECK_RC(mg_icp_parse_window(p, "5,6,7", 5, wl, nw, &w), MG_ERR_PROTOCOL);
		CHECK_RC(mg_icp_parse_wavelengths(p, "400.0,400.1", 11, wl, 4, &nw), MG_ERR_PROTOCOL);
		CHECK_RC(mg_icp_parse_wavelengths(p, "400.0,-1,400.2", 14, wl, 4, &nw), MG_ERR_PROTOCOL);
		mg_icp_profile_free(p);
	}
	/* plasma */
	p = NULL;
	mg_icp_profile_builtin(NULL, &p);
	mg_icp_plasma pl;
	CHECK_RC(mg_icp_parse_plasma(p, "1,1300.0,0.700,12.00,1.00", 25, &pl), MG_OK);
	CHECK(pl.lit == 1 && pl.rf_power_w == 1300 && pl.nebulizer_flow_lmin == 0.7 && pl.aux_flow_lmin == 1);
	CHECK_RC(mg_icp_parse_plasma(p, "ON,1300,0.7,12,1", 16, &pl), MG_OK);
	CHECK(pl.lit == 1);
	CHECK_RC(mg_icp_parse_plasma(p, "OFF,0,0,0,0", 11, &pl), MG_OK);
	CHECK(pl.lit == 0);
	CHECK_RC(mg_icp_parse_plasma(p, "1,1300", 6, &pl), MG_ERR_PROTOCOL);
	CHECK(strstr(mg_error_detail(), "2 fields, the profile expects 5") != NULL);
	CHECK_RC(mg_icp_parse_plasma(p, "MAYBE,1,1,1,1", 13, &pl), MG_ERR_PROTOCOL);
	CHECK_RC(mg_icp_parse_plasma(p, "1,x,1,1,1", 9, &pl), MG_ERR_PROTOCOL);
	CHECK_RC(mg_icp_parse_plasma(p, "1,\"1\",1,1,1", 11, &pl), MG_ERR_PROTOCOL);
	mg_icp_profile_free(p);
	p = variant("fields = lit, rf_power_w, nebulizer_flow_lmin, plasma_flow_lmin, aux_flow_lmin",
	            "fields = -, lit, rf_power_w");
	if (p) {
		CHECK_RC(mg_icp_parse_plasma(p, "\"ignored\",1,1450", 16, &pl), MG_OK);
		CHECK(pl.lit == 1 && pl.rf_power_w == 1450 && isnan(pl.aux_flow_lmin));
		mg_icp_profile_free(p);
	}
	mg_buf_free(&b);
	mg_buf_free(&data);
}

static int count_cb(const char *section, const char *key, const char *value, long line, void *ud)
{
	(void)section;
	(void)value;
	(void)line;
	(*(int *)ud) += key ? 1 : 100;
	return MG_OK;
}

static void test_ini(void)
{
	int n = 0;
	const char *t = "# c\n[a]\nk = v\n[position 12]\nNd = 5\n";
	CHECK_RC(mg_icp_ini_parse(t, strlen(t), "r", count_cb, &n), MG_OK);
	CHECK(n == 202);
	CHECK_RC(mg_icp_ini_parse("[a b c]\n", 8, "r", count_cb, &n), MG_ERR_FORMAT);
	CHECK_RC(mg_icp_ini_parse("[]\n", 3, "r", count_cb, &n), MG_ERR_FORMAT);
	CHECK_RC(mg_icp_ini_parse("[a]\n=v\n", 7, "r", count_cb, &n), MG_ERR_FORMAT);
	CHECK(strstr(mg_error_detail(), "r line 2") != NULL);
	CHECK_RC(mg_icp_ini_parse("[a]\nk = v\0w\n", 12, "r", count_cb, &n), MG_ERR_FORMAT);
	CHECK(strstr(mg_error_detail(), "control character 0x00") != NULL);
}

int main(void)
{
	test_builtin();
	test_malformed();
	test_templates();
	test_answers();
	test_ini();
	return mg_test_finish("test_icp_profile");
}
