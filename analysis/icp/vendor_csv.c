/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Import of ICP-OES results exported by the vendor software as CSV, the
 * offline path into the same analysis and QC (docs/icp.md, "Vendor CSV").
 *
 * One row per (solution, line[, replicate]). Columns are found by their
 * header, case-insensitively, a trailing "(unit)" ignored:
 *   label        Solution Label | Sample Label | Sample Name | Sample ID | Sample | Label
 *   element      Element | Analyte | Element Label | Line | Element Line
 *                ("Nd", "Nd 430.358", "Nd 430.358 nm", "Nd430.358")
 *   wavelength   Wavelength | Wavelength (nm) | Wavelength nm     (optional)
 *   replicate    Replicate | Rep | Replicate Number | Rep#         (optional; none = mean)
 *   intensity    Intensity | Int | Net Intensity | Int (c/s) | Counts | CPS
 *   concentration  Concentration | Conc | Soln Conc | Solution Concentration | Result
 *   unit         Unit | Units                                       (optional)
 * At least one of intensity and concentration. Other columns (Type, Rack,
 * Date, Flags, %RSD, ...) are ignored. Separators ',' ';' or TAB; with ';'
 * a decimal comma is accepted. Empty cells and "n/a", "-", "---" are missing
 * values; any other text in a number column is an error with its line.
 * Units: mg/L = ppm (default), µg/L = ug/L = ppb (÷1000), g/L (×1000). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "icp_internal.h"
#include "internal.h"
#include "magassay/fileio.h"
#include "text.h"

#define DOM "icp-csv"
#define MAX_COLS 64
#define MAX_ROWS 200000

enum vcol { V_LABEL, V_ELEMENT, V_WAVE, V_REP, V_INT, V_CONC, V_UNIT, V_COUNT };

static const struct {
	const char *name;
	enum vcol col;
} aliases[] = {
	{"solution label", V_LABEL}, {"sample label", V_LABEL}, {"sample name", V_LABEL}, {"sample id", V_LABEL},
	{"sample", V_LABEL},         {"label", V_LABEL},        {"solution", V_LABEL},
	{"element", V_ELEMENT},      {"analyte", V_ELEMENT},    {"element label", V_ELEMENT}, {"line", V_ELEMENT},
	{"element line", V_ELEMENT}, {"analyte name", V_ELEMENT},
	{"wavelength", V_WAVE},      {"wavelength nm", V_WAVE}, {"wl", V_WAVE},
	{"replicate", V_REP},        {"rep", V_REP},            {"replicate number", V_REP}, {"rep#", V_REP},
	{"replicate #", V_REP},
	{"intensity", V_INT},        {"int", V_INT},            {"net intensity", V_INT},    {"counts", V_INT},
	{"cps", V_INT},              {"net int", V_INT},
	{"concentration", V_CONC},   {"conc", V_CONC},          {"soln conc", V_CONC},       {"solution concentration", V_CONC},
	{"result", V_CONC},          {"conc.", V_CONC},
	{"unit", V_UNIT},            {"units", V_UNIT},
};

/* lower-case, collapse blanks, drop a trailing "(...)" or "[...]"; the unit inside goes to unit_out */
static void norm_header(const char *h, char *out, size_t cap, char *unit_out, size_t ucap)
{
	size_t o = 0;
	unit_out[0] = '\0';
	int blank = 0;
	for (size_t i = 0; h[i] && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)h[i];
		if (c == '(' || c == '[') {
			size_t u = 0;
			for (i++; h[i] && h[i] != ')' && h[i] != ']' && u + 1 < ucap; i++)
				unit_out[u++] = h[i];
			unit_out[u] = '\0';
			break;
		}
		if (isspace(c) || c == '_') {
			blank = 1;
			continue;
		}
		if (blank && o) {
			out[o++] = ' ';
			if (o + 1 >= cap)
				break;
		}
		blank = 0;
		out[o++] = (char)tolower(c);
	}
	while (o && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

/* mg/L per unit; 0 if unknown */
static double unit_factor(const char *u)
{
	char t[32];
	size_t o = 0;
	for (size_t i = 0; u[i] && o + 1 < sizeof(t); i++)
		if (!isspace((unsigned char)u[i]))
			t[o++] = (char)tolower((unsigned char)u[i]);
	t[o] = '\0';
	if (!t[0] || !strcmp(t, "mg/l") || !strcmp(t, "ppm") || !strcmp(t, "mg/kg") || !strcmp(t, "mgl-1") ||
	    !strcmp(t, "mg/dm3"))
		return 1;
	if (!strcmp(t, "\xc2\xb5g/l") || !strcmp(t, "\xce\xbcg/l") || !strcmp(t, "ug/l") || !strcmp(t, "ppb"))
		return 1e-3;
	if (!strcmp(t, "g/l"))
		return 1e3;
	if (!strcmp(t, "c/s") || !strcmp(t, "cps") || !strcmp(t, "counts") || !strcmp(t, "nm"))
		return 1;
	return 0;
}

static int missing(const char *s)
{
	return !s[0] || !strcmp(s, "-") || !strcmp(s, "---") || !strcasecmp(s, "n/a") || !strcasecmp(s, "na");
}

static int cell_num(const char *s, char sep, double *out)
{
	if (missing(s)) {
		*out = NAN;
		return MG_OK;
	}
	char t[64];
	size_t n = strlen(s);
	if (n >= sizeof(t))
		return MG_ERR_FORMAT;
	memcpy(t, s, n + 1);
	if (sep == ';')
		for (size_t i = 0; i < n; i++)
			if (t[i] == ',')
				t[i] = '.';
	return mg_parse_double(t, n, out);
}

/* "Nd", "Nd 430.358", "Nd 430.358 nm", "Nd430.358", "Nd (430.358)" */
static int parse_element_cell(const char *s, char el[4], double *nm)
{
	*nm = NAN;
	size_t n = strlen(s), k = 0;
	while (k < n && isalpha((unsigned char)s[k]))
		k++;
	if (icp_parse_element(s, k, el) != MG_OK)
		return MG_ERR_FORMAT;
	const char *w = s + k;
	size_t wn = n - k;
	mg_trim(&w, &wn);
	if (wn == 0)
		return MG_OK;
	if (w[0] == '(' && w[wn - 1] == ')') {
		w++;
		wn -= 2;
		mg_trim(&w, &wn);
	}
	if (wn > 2 && (w[wn - 2] == 'n' || w[wn - 2] == 'N') && (w[wn - 1] == 'm' || w[wn - 1] == 'M')) {
		wn -= 2;
		mg_trim(&w, &wn);
	}
	/* Agilent writes "Nd 430.358 nm"; some add "{a}" or a view suffix: not accepted (strict) */
	if (mg_parse_double(w, wn, nm) != MG_OK || *nm < 100 || *nm > 1000)
		return MG_ERR_FORMAT;
	return MG_OK;
}

int mg_icp_csv_parse(const char *text, size_t len, mg_icp_csv **out)
{
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "no output");
	*out = NULL;
	if (!text && len)
		return mg_fail(MG_ERR_ARG, DOM, "no text");
	/* a UTF-8 byte order mark, as spreadsheet programs write */
	if (len >= 3 && (unsigned char)text[0] == 0xef && (unsigned char)text[1] == 0xbb && (unsigned char)text[2] == 0xbf) {
		text += 3;
		len -= 3;
	}
	if (mg_looks_binary(text, len))
		return mg_fail(MG_ERR_FORMAT, DOM, "CSV: binary data, not a text file");
	mg_icp_csv *c = calloc(1, sizeof(*c));
	if (!c)
		return mg_fail(MG_ERR_NOMEM, DOM, "no memory");
	snprintf(c->source, sizeof(c->source), "generic");
	size_t cap = 0;
	int col[V_COUNT];
	for (int i = 0; i < V_COUNT; i++)
		col[i] = -1;
	double int_factor = 1, conc_factor = 1;
	int have_header = 0, ncols = 0;
	char sep = ',';
	char buf[8192];
	const char *f[MAX_COLS + 1];
	mg_lines it;
	const char *ln;
	size_t n;
	int rc = MG_OK;
	mg_lines_init(&it, text, len);
	while (rc == MG_OK && mg_lines_next(&it, &ln, &n)) {
		long line = it.lineno;
		mg_trim(&ln, &n);
		if (n == 0 || ln[0] == '#')
			continue;
		if (!have_header) {
			size_t commas = 0, semis = 0, tabs = 0;
			for (size_t i = 0; i < n; i++) {
				commas += ln[i] == ',';
				semis += ln[i] == ';';
				tabs += ln[i] == '\t';
			}
			sep = tabs > commas && tabs > semis ? '\t' : semis > commas ? ';' : ',';
			int nf = icp_csv_split(ln, n, sep, buf, sizeof(buf), f, MAX_COLS + 1);
			if (nf < 0 || nf > MAX_COLS) {
				rc = mg_fail(MG_ERR_FORMAT, DOM, "CSV line %ld: the header row is malformed (at most %d columns)",
				             line, MAX_COLS);
				break;
			}
			for (int i = 0; i < nf; i++) {
				char h[96], unit[32];
				norm_header(f[i], h, sizeof(h), unit, sizeof(unit));
				for (size_t k = 0; k < MG_ARRAY_SIZE(aliases); k++) {
					if (strcmp(h, aliases[k].name) != 0)
						continue;
					enum vcol v = aliases[k].col;
					if (col[v] >= 0) {
						rc = mg_fail(MG_ERR_FORMAT, DOM, "CSV line %ld: two columns for the %s ('%s')", line,
						             v == V_LABEL ? "label" : v == V_ELEMENT ? "element" : v == V_WAVE ? "wavelength"
						             : v == V_REP ? "replicate" : v == V_INT ? "intensity" : v == V_CONC ? "concentration" : "unit",
						             f[i]);
						break;
					}
					col[v] = i;
					if (v == V_CONC && unit[0]) {
						conc_factor = unit_factor(unit);
						if (conc_factor == 0)
							rc = mg_fail(MG_ERR_FORMAT, DOM, "CSV line %ld: unknown concentration unit '%s'", line,
							             unit);
					}
					if (v == V_INT && unit[0])
						int_factor = 1;
				}
				if (rc != MG_OK)
					break;
			}
			if (rc != MG_OK)
				break;
			if (col[V_LABEL] < 0 || col[V_ELEMENT] < 0) {
				rc = mg_fail(MG_ERR_FORMAT, DOM,
				             "CSV line %ld: no label or element column (e.g. 'Solution Label' and 'Element')", line);
				break;
			}
			if (col[V_INT] < 0 && col[V_CONC] < 0) {
				rc = mg_fail(MG_ERR_FORMAT, DOM,
				             "CSV line %ld: neither an intensity nor a concentration column", line);
				break;
			}
			c->has_intensity = col[V_INT] >= 0;
			c->has_conc = col[V_CONC] >= 0;
			if (col[V_LABEL] >= 0 && col[V_ELEMENT] >= 0 && col[V_UNIT] >= 0 && c->has_conc)
				snprintf(c->source, sizeof(c->source), "vendor table with units");
			ncols = nf;
			have_header = 1;
			continue;
		}
		int nf = icp_csv_split(ln, n, sep, buf, sizeof(buf), f, MAX_COLS + 1);
		if (nf < 0) {
			rc = mg_fail(MG_ERR_FORMAT, DOM, "CSV line %ld: malformed row (unterminated quote, or too long)", line);
			break;
		}
		if (nf > ncols) {
			rc = mg_fail(MG_ERR_FORMAT, DOM, "CSV line %ld: %d fields, but the header has %d", line, nf, ncols);
			break;
		}
		if (c->nrows >= MAX_ROWS) {
			rc = mg_fail(MG_ERR_FORMAT, DOM, "CSV line %ld: more than %d rows", line, MAX_ROWS);
			break;
		}
		if (c->nrows == cap) {
			size_t nc = cap ? cap * 2 : 256;
			mg_icp_csv_row *p = realloc(c->rows, nc * sizeof(*p));
			if (!p) {
				rc = mg_fail(MG_ERR_NOMEM, DOM, "no memory");
				break;
			}
			c->rows = p;
			cap = nc;
		}
		mg_icp_csv_row *r = &c->rows[c->nrows];
		memset(r, 0, sizeof(*r));
		r->line = line;
		r->intensity = r->conc = r->wavelength_nm = NAN;
#define CELL(v) (col[v] >= 0 && col[v] < nf ? f[col[v]] : "")
		const char *lab = CELL(V_LABEL);
		if (!lab[0] || icp_copy(r->label, sizeof(r->label), lab, strlen(lab)) != MG_OK) {
			rc = mg_fail(MG_ERR_FORMAT, DOM, "CSV line %ld: the label is empty or longer than 64 bytes", line);
			break;
		}
		if (parse_element_cell(CELL(V_ELEMENT), r->element, &r->wavelength_nm) != MG_OK) {
			rc = mg_fail(MG_ERR_FORMAT, DOM, "CSV line %ld: '%.40s' is not an element line (e.g. 'Nd 430.358')",
			             line, CELL(V_ELEMENT));
			break;
		}
		if (col[V_WAVE] >= 0) {
			double w;
			if (cell_num(CELL(V_WAVE), sep, &w) != MG_OK || (isfinite(w) && (w < 100 || w > 1000))) {
				rc = mg_fail(MG_ERR_FORMAT, DOM, "CSV line %ld: wavelength '%.40s' is not in nm", line,
				             CELL(V_WAVE));
				break;
			}
			if (isfinite(w)) {
				if (isfinite(r->wavelength_nm) && fabs(w - r->wavelength_nm) > 0.01) {
					rc = mg_fail(MG_ERR_FORMAT, DOM, "CSV line %ld: the element says %.3f nm, the wavelength %.3f",
					             line, r->wavelength_nm, w);
					break;
				}
				r->wavelength_nm = w;
			}
		}
		if (col[V_REP] >= 0) {
			const char *rs = CELL(V_REP);
			long rep = 0;
			if (!missing(rs) && (mg_parse_long(rs, strlen(rs), 1, MG_ICP_MAX_REPLICATES, &rep) != MG_OK)) {
				/* "Average"/"Mean" rows are the mean */
				if (strcasecmp(rs, "mean") && strcasecmp(rs, "average") && strcasecmp(rs, "avg")) {
					rc = mg_fail(MG_ERR_FORMAT, DOM, "CSV line %ld: replicate '%.20s' is not 1..%d or 'mean'", line,
					             rs, MG_ICP_MAX_REPLICATES);
					break;
				}
			}
			r->replicate = (int)rep;
		}
		if (col[V_INT] >= 0 && cell_num(CELL(V_INT), sep, &r->intensity) != MG_OK) {
			rc = mg_fail(MG_ERR_FORMAT, DOM, "CSV line %ld: intensity '%.40s' is not a number", line, CELL(V_INT));
			break;
		}
		r->intensity *= int_factor;
		if (col[V_CONC] >= 0) {
			if (cell_num(CELL(V_CONC), sep, &r->conc) != MG_OK) {
				rc = mg_fail(MG_ERR_FORMAT, DOM, "CSV line %ld: concentration '%.40s' is not a number", line,
				             CELL(V_CONC));
				break;
			}
			double fac = conc_factor;
			if (col[V_UNIT] >= 0 && CELL(V_UNIT)[0]) {
				fac = unit_factor(CELL(V_UNIT));
				if (fac == 0) {
					rc = mg_fail(MG_ERR_FORMAT, DOM, "CSV line %ld: unknown unit '%.20s' (mg/L, ppm, ug/L, ppb, g/L)",
					             line, CELL(V_UNIT));
					break;
				}
			}
			r->conc *= fac;
		}
#undef CELL
		if (!isfinite(r->intensity) && !isfinite(r->conc)) {
			rc = mg_fail(MG_ERR_FORMAT, DOM, "CSV line %ld: no intensity and no concentration for %s %s", line,
			             r->label, r->element);
			break;
		}
		/* the same (label, line, replicate) twice is ambiguous unless it is a repeated solution (CCV) */
		c->nrows++;
	}
	if (rc == MG_OK && !have_header)
		rc = mg_fail(MG_ERR_FORMAT, DOM, "CSV: no header row");
	if (rc == MG_OK && c->nrows == 0)
		rc = mg_fail(MG_ERR_FORMAT, DOM, "CSV: a header but no rows");
	if (rc != MG_OK) {
		mg_icp_csv_free(c);
		return rc;
	}
	*out = c;
	return MG_OK;
}

int mg_icp_csv_load(const char *path, mg_icp_csv **out)
{
	unsigned char *data;
	size_t len;
	int rc = mg_file_read_all(path, 256u << 20, &data, &len);
	if (rc != MG_OK)
		return rc;
	rc = mg_icp_csv_parse((const char *)data, len, out);
	free(data);
	if (rc != MG_OK)
		return mg_fail(rc, DOM, "%s: %s", path, mg_error_detail());
	return MG_OK;
}

void mg_icp_csv_free(mg_icp_csv *c)
{
	if (!c)
		return;
	free(c->rows);
	free(c);
}
