/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ICP-OES sequence (worklist) files. docs/icp.md has the format:
 *
 *   # comment
 *   batch  = NDFEB-2024-0117          preamble: key = value
 *   method = ndfeb-icp-method.ini
 *   qc     = icp-qc-epa6010d.ini
 *
 *   position,type,label,solution,of,mass_g,volume_ml,dilution,notes
 *   1,cal-blank,CAL0,,,,,,
 *   2,cal-std,CAL1,STD1,,,,,
 *   ...
 *
 * The first line without '=' is the header row (',' ';' or TAB separated);
 * every row after it is one position of the run, in run order. Parsing is
 * syntax only and stops at the first error; mg_icp_sequence_validate()
 * checks the structure of the run and lists every problem with its line. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icp_internal.h"
#include "internal.h"
#include "magassay/fileio.h"
#include "magassay/id.h"
#include "text.h"

#define DOM "icp-sequence"
#define MAX_ITEMS 10000
#define MAX_COLS 16

static const struct {
	const char *word;
	mg_icp_item_type type;
} type_words[] = {
	{"cal-blank", MG_ICP_ITEM_CAL_BLANK}, {"calb", MG_ICP_ITEM_CAL_BLANK},
	{"cal-std", MG_ICP_ITEM_CAL_STD},     {"std", MG_ICP_ITEM_CAL_STD},
	{"icv", MG_ICP_ITEM_ICV},             {"icb", MG_ICP_ITEM_ICB},
	{"lloq", MG_ICP_ITEM_LLOQ},           {"llccv", MG_ICP_ITEM_LLOQ},
	{"sample", MG_ICP_ITEM_SAMPLE},       {"dup", MG_ICP_ITEM_DUPLICATE},
	{"duplicate", MG_ICP_ITEM_DUPLICATE}, {"spike", MG_ICP_ITEM_SPIKE},
	{"ms", MG_ICP_ITEM_SPIKE},            {"crm", MG_ICP_ITEM_CRM},
	{"method-blank", MG_ICP_ITEM_METHOD_BLANK}, {"mb", MG_ICP_ITEM_METHOD_BLANK},
	{"ccv", MG_ICP_ITEM_CCV},             {"ccb", MG_ICP_ITEM_CCB},
};

const char *mg_icp_item_type_name(mg_icp_item_type t)
{
	static const char *names[] = {"cal-blank", "cal-std", "icv", "icb", "lloq", "sample",
	                              "dup", "spike", "crm", "method-blank", "ccv", "ccb"};
	return (unsigned)t < MG_ARRAY_SIZE(names) ? names[t] : "?";
}

int mg_icp_item_is_sample(mg_icp_item_type t)
{
	return t == MG_ICP_ITEM_SAMPLE || t == MG_ICP_ITEM_DUPLICATE || t == MG_ICP_ITEM_SPIKE || t == MG_ICP_ITEM_CRM ||
	       t == MG_ICP_ITEM_METHOD_BLANK;
}

enum col { C_POS, C_TYPE, C_LABEL, C_SOLUTION, C_OF, C_MASS, C_VOLUME, C_DILUTION, C_NOTES, C_COUNT };

static const struct {
	const char *name;
	enum col col;
} col_names[] = {
	{"position", C_POS},   {"pos", C_POS},         {"type", C_TYPE},           {"label", C_LABEL},
	{"id", C_LABEL},       {"solution", C_SOLUTION},{"of", C_OF},              {"parent", C_OF},
	{"mass_g", C_MASS},    {"volume_ml", C_VOLUME},{"dilution", C_DILUTION},   {"df", C_DILUTION},
	{"notes", C_NOTES},    {"comment", C_NOTES},
};

static int seq_fail(long line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int seq_fail(long line, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return mg_fail(MG_ERR_FORMAT, DOM, "sequence line %ld: %s", line, msg);
}

static int preamble(mg_icp_sequence *s, long line, const char *k, size_t kn, const char *v, size_t vn)
{
	struct {
		const char *key;
		char *dst;
		size_t cap;
	} keys[] = {
		{"batch", s->batch, sizeof(s->batch)},         {"operator", s->operator_name, sizeof(s->operator_name)},
		{"method", s->method, sizeof(s->method)},      {"qc", s->qc, sizeof(s->qc)},
		{"description", s->description, sizeof(s->description)},
	};
	for (size_t i = 0; i < MG_ARRAY_SIZE(keys); i++)
		if (icp_view_eq(k, kn, keys[i].key)) {
			if (keys[i].dst[0])
				return seq_fail(line, "'%s' is given twice", keys[i].key);
			if (icp_copy(keys[i].dst, keys[i].cap, v, vn) != MG_OK)
				return seq_fail(line, "%s: at most %zu printable bytes", keys[i].key, keys[i].cap - 1);
			return MG_OK;
		}
	if (icp_view_eq(k, kn, "format")) {
		if (!icp_view_eq(v, vn, "magassay-icp-sequence 1"))
			return seq_fail(line, "format '%.*s' is not 'magassay-icp-sequence 1'", (int)(vn > 40 ? 40 : vn), v);
		return MG_OK;
	}
	return seq_fail(line, "unknown setting '%.*s' (batch, operator, method, qc, description, format)",
	                (int)(kn > 40 ? 40 : kn), k);
}

static int field_num(long line, const char *what, const char *f, double lo, double *out)
{
	size_t n = strlen(f);
	if (n == 0) {
		*out = NAN;
		return MG_OK;
	}
	double v;
	if (mg_parse_double(f, n, &v) != MG_OK || !(v >= lo) || v > 1e7)
		return seq_fail(line, "%s '%.40s' is not a number %s %g", what, f, lo > 0 ? ">=" : ">=", lo);
	if (v <= 0)
		return seq_fail(line, "%s must be positive", what);
	*out = v;
	return MG_OK;
}

int mg_icp_sequence_parse(const char *text, size_t len, mg_icp_sequence **out)
{
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "no output");
	*out = NULL;
	if (!text && len)
		return mg_fail(MG_ERR_ARG, DOM, "no text");
	if (mg_looks_binary(text, len))
		return mg_fail(MG_ERR_FORMAT, DOM, "sequence: binary data, not a text file");
	mg_icp_sequence *s = calloc(1, sizeof(*s));
	if (!s)
		return mg_fail(MG_ERR_NOMEM, DOM, "no memory");
	size_t cap = 0;
	int col_of[C_COUNT];
	int ncols = 0, have_header = 0;
	char sep = ',';
	char buf[4096];
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
			const char *eq = memchr(ln, '=', n);
			if (eq) {
				const char *k = ln, *v = eq + 1;
				size_t kn = (size_t)(eq - ln), vn = n - kn - 1;
				mg_trim(&k, &kn);
				mg_trim(&v, &vn);
				rc = preamble(s, line, k, kn, v, vn);
				continue;
			}
			/* the header row */
			if (memchr(ln, ',', n))
				sep = ',';
			else if (memchr(ln, ';', n))
				sep = ';';
			else if (memchr(ln, '\t', n))
				sep = '\t';
			int nf = icp_csv_split(ln, n, sep, buf, sizeof(buf), f, MAX_COLS + 1);
			if (nf < 0 || nf > MAX_COLS) {
				rc = seq_fail(line, "the header row is malformed (at most %d columns)", MAX_COLS);
				break;
			}
			for (int c = 0; c < C_COUNT; c++)
				col_of[c] = -1;
			for (int i = 0; i < nf && rc == MG_OK; i++) {
				int found = -1;
				for (size_t k = 0; k < MG_ARRAY_SIZE(col_names); k++)
					if (icp_view_eq(f[i], strlen(f[i]), col_names[k].name))
						found = (int)col_names[k].col;
				if (found < 0)
					rc = seq_fail(line,
					              "unknown column '%.40s' (position, type, label, solution, of, mass_g, "
					              "volume_ml, dilution, notes); a setting needs 'key = value'",
					              f[i]);
				else if (col_of[found] >= 0)
					rc = seq_fail(line, "column '%.40s' appears twice", f[i]);
				else
					col_of[found] = i;
			}
			if (rc != MG_OK)
				break;
			if (col_of[C_POS] < 0 || col_of[C_TYPE] < 0 || col_of[C_LABEL] < 0) {
				rc = seq_fail(line, "the header row needs the columns position, type and label");
				break;
			}
			ncols = nf;
			have_header = 1;
			continue;
		}
		int nf = icp_csv_split(ln, n, sep, buf, sizeof(buf), f, MAX_COLS + 1);
		if (nf < 0) {
			rc = seq_fail(line, "malformed row (an unterminated quote, or too long)");
			break;
		}
		if (nf > ncols) {
			rc = seq_fail(line, "%d fields, but the header has %d columns", nf, ncols);
			break;
		}
		if (s->nitems >= MAX_ITEMS) {
			rc = seq_fail(line, "more than %d rows", MAX_ITEMS);
			break;
		}
		if (s->nitems == cap) {
			size_t nc = cap ? 2 * cap : 32;
			mg_icp_item *p = realloc(s->items, nc * sizeof(*p));
			if (!p) {
				rc = mg_fail(MG_ERR_NOMEM, DOM, "no memory");
				break;
			}
			s->items = p;
			cap = nc;
		}
		mg_icp_item *item = &s->items[s->nitems];
		memset(item, 0, sizeof(*item));
		item->line = line;
		item->parent = (size_t)-1;
		const char *val[C_COUNT];
		for (int c = 0; c < C_COUNT; c++)
			val[c] = col_of[c] >= 0 && col_of[c] < nf ? f[col_of[c]] : "";
		long pos;
		if (mg_parse_long(val[C_POS], strlen(val[C_POS]), 1, 9999, &pos) != MG_OK) {
			rc = seq_fail(line, "position '%.20s' is not a whole number in 1..9999", val[C_POS]);
			break;
		}
		item->position = (int)pos;
		int t = -1;
		for (size_t k = 0; k < MG_ARRAY_SIZE(type_words); k++)
			if (icp_view_eq(val[C_TYPE], strlen(val[C_TYPE]), type_words[k].word))
				t = (int)type_words[k].type;
		if (t < 0) {
			rc = seq_fail(line,
			              "type '%.20s' is not one of cal-blank, cal-std, icv, icb, lloq, sample, dup, spike, crm, "
			              "method-blank, ccv, ccb",
			              val[C_TYPE]);
			break;
		}
		item->type = (mg_icp_item_type)t;
		if (!val[C_LABEL][0]) {
			rc = seq_fail(line, "the label is empty");
			break;
		}
		if (icp_copy(item->label, sizeof(item->label), val[C_LABEL], strlen(val[C_LABEL])) != MG_OK) {
			rc = seq_fail(line, "the label is longer than 64 bytes or holds control characters");
			break;
		}
		if (icp_copy(item->solution, sizeof(item->solution), val[C_SOLUTION], strlen(val[C_SOLUTION])) != MG_OK) {
			rc = seq_fail(line, "the solution name is longer than 32 bytes");
			break;
		}
		if (icp_copy(item->of, sizeof(item->of), val[C_OF], strlen(val[C_OF])) != MG_OK) {
			rc = seq_fail(line, "'of' is longer than 64 bytes");
			break;
		}
		if (icp_copy(item->notes, sizeof(item->notes), val[C_NOTES], strlen(val[C_NOTES])) != MG_OK) {
			rc = seq_fail(line, "the notes are longer than 127 bytes");
			break;
		}
		if ((rc = field_num(line, "mass_g", val[C_MASS], 1e-6, &item->mass_g)) != MG_OK ||
		    (rc = field_num(line, "volume_ml", val[C_VOLUME], 1e-3, &item->volume_ml)) != MG_OK ||
		    (rc = field_num(line, "dilution", val[C_DILUTION], 1, &item->dilution)) != MG_OK)
			break;
		s->nitems++;
	}
	if (rc == MG_OK && !have_header)
		rc = mg_fail(MG_ERR_FORMAT, DOM, "sequence: no header row (position,type,label,...) and no rows");
	if (rc != MG_OK) {
		mg_icp_sequence_free(s);
		return rc;
	}
	*out = s;
	return MG_OK;
}

int mg_icp_sequence_load(const char *path, mg_icp_sequence **out)
{
	unsigned char *data;
	size_t len;
	int rc = mg_file_read_all(path, 8u << 20, &data, &len);
	if (rc != MG_OK)
		return rc;
	rc = mg_icp_sequence_parse((const char *)data, len, out);
	free(data);
	if (rc != MG_OK)
		return mg_fail(rc, DOM, "%s: %s", path, mg_error_detail());
	return MG_OK;
}

void mg_icp_sequence_free(mg_icp_sequence *s)
{
	if (!s)
		return;
	free(s->items);
	free(s);
}

/* ---- structure ---------------------------------------------------------- */

static void prob(mg_icp_problems *p, long line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void prob(mg_icp_problems *p, long line, const char *fmt, ...)
{
	if (p->count < MG_ARRAY_SIZE(p->item)) {
		mg_icp_problem *q = &p->item[p->count];
		q->line = line;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(q->message, sizeof(q->message), fmt, ap);
		va_end(ap);
	}
	p->count++;
}

static const char *default_solution(const mg_icp_item *it)
{
	if (it->solution[0])
		return it->solution;
	switch (it->type) {
	case MG_ICP_ITEM_ICV:
		return "ICV";
	case MG_ICP_ITEM_CCV:
		return "CCV";
	case MG_ICP_ITEM_LLOQ:
		return "LLOQ";
	default:
		return it->label;
	}
}

/* What is in the vial: the calibration blank (also read as ICB and CCB), a
 * named standard or check, or the item's own digest. */
static void vial(const mg_icp_item *it, char *out, size_t cap)
{
	switch (it->type) {
	case MG_ICP_ITEM_CAL_BLANK:
	case MG_ICP_ITEM_ICB:
	case MG_ICP_ITEM_CCB:
		snprintf(out, cap, "the calibration blank");
		break;
	case MG_ICP_ITEM_CAL_STD:
		snprintf(out, cap, "standard %s", default_solution(it));
		break;
	case MG_ICP_ITEM_ICV:
	case MG_ICP_ITEM_CCV:
	case MG_ICP_ITEM_LLOQ:
		snprintf(out, cap, "check %s", default_solution(it));
		break;
	default:
		snprintf(out, cap, "'%s'", it->label);
	}
}

static int is_cal(mg_icp_item_type t)
{
	return t == MG_ICP_ITEM_CAL_BLANK || t == MG_ICP_ITEM_CAL_STD;
}

void mg_icp_item_digest(const mg_icp_sequence *s, size_t i, const mg_icp_method *m, mg_icp_digest *out)
{
	const mg_icp_item *it = &s->items[i];
	const mg_icp_item *par = it->parent != (size_t)-1 && it->parent < s->nitems ? &s->items[it->parent] : NULL;
	mg_icp_digest d = {NAN, 0, NAN, 0, NAN, 0};
	if (m)
		d = m->digest;
	d.mass_g = isfinite(it->mass_g) ? it->mass_g : par && isfinite(par->mass_g) ? par->mass_g : m ? m->digest.mass_g : NAN;
	d.volume_ml = isfinite(it->volume_ml)                     ? it->volume_ml
	              : par && isfinite(par->volume_ml)           ? par->volume_ml
	              : m                                          ? m->digest.volume_ml
	                                                           : NAN;
	d.dilution = isfinite(it->dilution)                   ? it->dilution
	             : par && isfinite(par->dilution)         ? par->dilution
	             : m && isfinite(m->digest.dilution)      ? m->digest.dilution
	                                                      : 1;
	*out = d;
}

int mg_icp_sequence_validate(const mg_icp_sequence *s, const mg_icp_method *m, const mg_icp_qc_profile *q,
                             mg_icp_problems *out)
{
	mg_icp_problems local;
	mg_icp_problems *p = out ? out : &local;
	memset(p, 0, sizeof(*p));
	if (!s)
		return mg_fail(MG_ERR_ARG, DOM, "no sequence");
	/* parents are resolved here (a const cast on our own field) */
	mg_icp_item *items = s->items;
	size_t n = s->nitems;
	if (!s->batch[0])
		prob(p, 0, "no 'batch = LOT' setting: the run belongs to a batch");
	else if (mg_id_validate(s->batch) != MG_OK)
		prob(p, 0, "batch: %s", mg_error_detail());
	if (n == 0) {
		prob(p, 0, "no rows");
		goto done;
	}
	/* calibration block */
	size_t i = 0, nstd = 0;
	if (items[0].type != MG_ICP_ITEM_CAL_BLANK)
		prob(p, items[0].line, "the run must start with the calibration blank (cal-blank), not %s",
		     mg_icp_item_type_name(items[0].type));
	while (i < n && is_cal(items[i].type)) {
		nstd += items[i].type == MG_ICP_ITEM_CAL_STD;
		i++;
	}
	int min_std = q && q->cal_min_standards > 0 ? q->cal_min_standards : 1;
	if ((int)nstd < min_std)
		prob(p, i ? items[i - 1].line : items[0].line,
		     "the calibration has %zu standard(s); the QC profile asks for at least %d", nstd, min_std);
	size_t cal_end = i;
	if (i >= n || items[i].type != MG_ICP_ITEM_ICV)
		prob(p, i < n ? items[i].line : items[n - 1].line, "an ICV must follow the calibration");
	else if (i + 1 >= n || items[i + 1].type != MG_ICP_ITEM_ICB)
		prob(p, items[i].line, "an ICB must follow the ICV");
	/* the rest, in order */
	size_t since_ccv = 0, first_sample = (size_t)-1;
	int seen_lloq = 0;
	for (size_t k = 0; k < n; k++) {
		mg_icp_item *it = &items[k];
		it->parent = (size_t)-1;
		if (k >= cal_end && is_cal(it->type))
			prob(p, it->line,
			     "%s after the calibration block: recalibration within a sequence is not supported (start a new "
			     "sequence)",
			     mg_icp_item_type_name(it->type));
		if (it->type == MG_ICP_ITEM_ICV && k != cal_end)
			prob(p, it->line, "the ICV belongs right after the calibration");
		if (it->type == MG_ICP_ITEM_ICB && (k == 0 || items[k - 1].type != MG_ICP_ITEM_ICV))
			prob(p, it->line, "an ICB belongs right after the ICV");
		if (it->type == MG_ICP_ITEM_LLOQ) {
			seen_lloq = 1;
			if (first_sample != (size_t)-1)
				prob(p, it->line, "the LLOQ check belongs at the start of the run, before the first sample");
		}
		if (mg_icp_item_is_sample(it->type)) {
			if (first_sample == (size_t)-1)
				first_sample = k;
			since_ccv++;
			if (q && q->ccv_every > 0 && since_ccv == (size_t)q->ccv_every + 1)
				prob(p, it->line,
				     "%zu samples since the last CCV (the QC profile allows %d): put a CCV and a CCB before this row",
				     since_ccv, q->ccv_every);
		}
		if (it->type == MG_ICP_ITEM_CCV) {
			since_ccv = 0;
			if (k + 1 >= n || items[k + 1].type != MG_ICP_ITEM_CCB)
				prob(p, it->line, "a CCB must follow every CCV");
		}
		if (it->type == MG_ICP_ITEM_CCB && (k == 0 || items[k - 1].type != MG_ICP_ITEM_CCV))
			prob(p, it->line, "a CCB belongs right after a CCV");
		/* ids: samples are store ids; QC solutions become <batch>.<label> */
		int sample_id = it->type == MG_ICP_ITEM_SAMPLE || it->type == MG_ICP_ITEM_DUPLICATE ||
		                it->type == MG_ICP_ITEM_SPIKE;
		if (mg_id_validate(it->label) != MG_OK)
			prob(p, it->line, "label: %s", mg_error_detail());
		else if (!sample_id && strlen(s->batch) + 1 + strlen(it->label) > MG_ID_MAX)
			prob(p, it->line, "'%s.%s' (batch.label, the id of this QC solution in the store) is longer than %d",
			     s->batch, it->label, MG_ID_MAX);
		if (sample_id)
			for (size_t j = 0; j < k; j++)
				if (strcmp(items[j].label, it->label) == 0 &&
				    (items[j].type == MG_ICP_ITEM_SAMPLE || items[j].type == MG_ICP_ITEM_DUPLICATE ||
				     items[j].type == MG_ICP_ITEM_SPIKE)) {
					prob(p, it->line, "sample '%s' is already on line %ld (sample ids are unique)", it->label,
					     items[j].line);
					break;
				}
		if (!sample_id && it->type != MG_ICP_ITEM_CRM && it->type != MG_ICP_ITEM_METHOD_BLANK)
			for (size_t j = 0; j < k; j++)
				if (strcmp(items[j].label, it->label) == 0 && items[j].type != it->type) {
					prob(p, it->line, "label '%s' is a %s on line %ld", it->label,
					     mg_icp_item_type_name(items[j].type), items[j].line);
					break;
				}
		/* one solution per position */
		char va[80], vb[80];
		vial(it, vb, sizeof(vb));
		for (size_t j = 0; j < k; j++) {
			if (items[j].position != it->position)
				continue;
			vial(&items[j], va, sizeof(va));
			if (strcmp(va, vb) != 0) {
				prob(p, it->line, "position %d holds %s (line %ld); it cannot also hold %s", it->position, va,
				     items[j].line, vb);
				break;
			}
		}
		/* duplicates and spikes */
		if (it->type == MG_ICP_ITEM_DUPLICATE || it->type == MG_ICP_ITEM_SPIKE) {
			if (!it->of[0])
				prob(p, it->line, "a %s needs 'of': the sample it was made from", mg_icp_item_type_name(it->type));
			else {
				for (size_t j = 0; j < k; j++)
					if (items[j].type == MG_ICP_ITEM_SAMPLE && strcmp(items[j].label, it->of) == 0)
						it->parent = j;
				if (it->parent == (size_t)-1)
					prob(p, it->line, "'%s' (of) is not a sample earlier in the sequence", it->of);
			}
		} else if (it->of[0]) {
			prob(p, it->line, "'of' is only for dup and spike rows");
		}
		/* solutions in the method */
		if (m) {
			const char *sol = default_solution(it);
			int kind = 0;
			switch (it->type) {
			case MG_ICP_ITEM_CAL_STD:
				kind = MG_ICP_SOL_STANDARD;
				break;
			case MG_ICP_ITEM_ICV:
			case MG_ICP_ITEM_CCV:
			case MG_ICP_ITEM_LLOQ:
				kind = MG_ICP_SOL_CHECK;
				break;
			case MG_ICP_ITEM_SPIKE:
				kind = MG_ICP_SOL_SPIKE;
				break;
			case MG_ICP_ITEM_CRM:
				kind = MG_ICP_SOL_CRM;
				break;
			default:
				break;
			}
			if (kind && !mg_icp_method_solution(m, sol, kind)) {
				static const char *kw[] = {"", "standard", "check", "spike", "crm"};
				prob(p, it->line, "the method has no [%s %s] for this %s", kw[kind], sol,
				     mg_icp_item_type_name(it->type));
			}
			if (mg_icp_item_is_sample(it->type) && it->type != MG_ICP_ITEM_METHOD_BLANK) {
				mg_icp_digest d;
				mg_icp_item_digest(s, k, m, &d);
				if (!(d.mass_g > 0))
					prob(p, it->line, "no digest mass for '%s' (mass_g here or in the method's [digest])",
					     it->label);
				if (!(d.volume_ml > 0))
					prob(p, it->line, "no digest volume for '%s' (volume_ml here or in the method's [digest])",
					     it->label);
			}
		}
	}
	if (q && isfinite(q->lloq_check.lo) && !seen_lloq)
		prob(p, cal_end < n ? items[cal_end].line : 0,
		     "the QC profile checks the LLOQ, but the run has no lloq row (after the ICB)");
	if (n < 2 || items[n - 1].type != MG_ICP_ITEM_CCB || items[n - 2].type != MG_ICP_ITEM_CCV)
		prob(p, items[n - 1].line, "the run must end with a CCV and a CCB");
done:
	if (p->count) {
		const mg_icp_problem *f0 = &p->item[0];
		if (f0->line)
			mg_fail(MG_ERR_FORMAT, DOM, "sequence line %ld: %s%s", f0->line, f0->message,
			        p->count > 1 ? " (and more problems)" : "");
		else
			mg_fail(MG_ERR_FORMAT, DOM, "sequence: %s%s", f0->message, p->count > 1 ? " (and more problems)" : "");
	}
	return (int)p->count;
}
