/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Every real Bruker EMSA file in ../shared/data/nist-xrf-stainless: the
 * reader against a few lines of independent parsing (sscanf/strtod here, not
 * the library), peak positions through the file's own calibration, and exact
 * round trips through .msa and .mca. Skipped where the folder is absent. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fields.h"
#include "magassay/error.h"
#include "magassay/format.h"

/* What the file says, parsed here. */
typedef struct plain {
	long npoints;
	double xperchan, offset, live, real;
	size_t nvalues, nneg;
	double *values;
	double sum_raw, sum_pos, sum_neg;
} plain;

static int plain_parse(const char *text, plain *p)
{
	memset(p, 0, sizeof(*p));
	p->values = calloc(65536, sizeof(double));
	const char *l = text;
	int in_data = 0;
	while (l && *l) {
		const char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l);
		char line[512];
		snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) - 1 ? n : sizeof(line) - 1), l);
		const char *colon = strchr(line, ':');
		if (strncmp(line, "#SPECTRUM", 9) == 0) {
			in_data = 1;
		} else if (strncmp(line, "#ENDOFDATA", 10) == 0) {
			in_data = 0;
		} else if (in_data) {
			for (char *tok = strtok(line, ", \t\r"); tok; tok = strtok(NULL, ", \t\r")) {
				double v;
				if (sscanf(tok, "%lf", &v) != 1 || p->nvalues == 65536)
					return -1;
				p->values[p->nvalues++] = v;
				p->sum_raw += v;
				if (v < 0) {
					p->sum_neg += v;
					p->nneg++;
				} else {
					p->sum_pos += v;
				}
			}
		} else if (colon) {
			double v;
			if (sscanf(colon + 1, "%lf", &v) == 1) {
				if (strncmp(line, "#NPOINTS", 8) == 0)
					p->npoints = (long)v;
				else if (strncmp(line, "#XPERCHAN", 9) == 0)
					p->xperchan = v;
				else if (strncmp(line, "#OFFSET", 7) == 0)
					p->offset = v;
				else if (strncmp(line, "#LIVETIME", 9) == 0)
					p->live = v;
				else if (strncmp(line, "#REALTIME", 9) == 0)
					p->real = v;
			}
		}
		l = e ? e + 1 : NULL;
	}
	return 0;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	fclose(f);
	return buf;
}

static int spectra_equal(const mg_spectrum *a, const mg_spectrum *b, const char *what)
{
	int ok = a->nchan == b->nchan && memcmp(a->counts, b->counts, a->nchan * sizeof(double)) == 0;
	if (!ok)
		fprintf(stderr, "%s: counts differ\n", what);
	mg_spectrum ta = *a, tb = *b;
	memset(&ta.meta, 0, sizeof(ta.meta));
	memset(&tb.meta, 0, sizeof(tb.meta));
	mg_buf ba, bb;
	mg_buf_init(&ba);
	mg_buf_init(&bb);
	mg_fields_write(&ta, &ba, "  ", " = ");
	mg_fields_write(&tb, &bb, "  ", " = ");
	if (ba.len != bb.len || (ba.len && memcmp(ba.data, bb.data, ba.len) != 0)) {
		fprintf(stderr, "%s: fields differ:\n%s  ---\n%s", what, ba.data ? ba.data : "", bb.data ? bb.data : "");
		ok = 0;
	}
	mg_buf_free(&ba);
	mg_buf_free(&bb);
	if (a->meta.count != b->meta.count) {
		fprintf(stderr, "%s: %zu vs %zu meta entries\n", what, a->meta.count, b->meta.count);
		return 0;
	}
	for (size_t i = 0; i < a->meta.count; i++) {
		const mg_kv *x = &a->meta.items[i], *y = &b->meta.items[i];
		if (strcmp(x->key, y->key) || strcmp(x->value, y->value) || (!x->comment != !y->comment)) {
			fprintf(stderr, "%s: meta[%zu] '%s'='%s' vs '%s'='%s'\n", what, i, x->key, x->value, y->key, y->value);
			return 0;
		}
	}
	return ok;
}

/* Write with fmt, read back; the copy or NULL. */
static mg_spectrum *through(const mg_spectrum *s, mg_format_id id, char **text_out)
{
	const mg_format *fmt = mg_format_get(id);
	mg_buf b;
	mg_spectrum *back = NULL;
	mg_buf_init(&b);
	if (fmt->write(s, &b) != MG_OK || fmt->read((const unsigned char *)b.data, b.len, &back) != MG_OK) {
		fprintf(stderr, "%s: %s\n", fmt->name, mg_error_detail());
		back = NULL;
	}
	if (text_out)
		*text_out = b.data;
	else
		mg_buf_free(&b);
	return back;
}

/* The energy, by the file's own calibration, of the largest channel in [lo, hi] keV. */
static double peak_energy(const mg_spectrum *s, const plain *p, double lo, double hi)
{
	long best = -1;
	for (size_t i = 0; i < s->nchan; i++) {
		double e = p->offset + p->xperchan * (double)i;
		if (e >= lo && e <= hi && (best < 0 || s->counts[i] > s->counts[best]))
			best = (long)i;
	}
	return best < 0 ? NAN : p->offset + p->xperchan * (double)best;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_file(const char *dir, const char *name)
{
	char path[8192];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	char *text = slurp(path);
	plain p;
	CHECK_MSG(text && plain_parse(text, &p) == 0, "%s: unreadable here", name);
	if (!text)
		return;
	const mg_format *fmt = NULL;
	mg_spectrum *s = NULL;
	CHECK_RC(mg_spectrum_read_file(path, &fmt, &s), MG_OK);
	if (!s) {
		free(text);
		free(p.values);
		return;
	}
	CHECK_MSG(fmt && fmt->id == MG_FORMAT_MSA, "%s: detected as %s", name, fmt ? fmt->name : "nothing");
	CHECK_MSG(s->nchan == 4096 && (long)s->nchan == p.npoints && p.nvalues == s->nchan, "%s: %zu channels", name,
	          s->nchan);
	CHECK_MSG(s->cal.valid && s->cal.offset_kev == p.offset && s->cal.gain_kev == p.xperchan && s->cal.quad_kev == 0,
	          "%s: calibration %g + %g ch", name, s->cal.offset_kev, s->cal.gain_kev);
	CHECK_MSG(s->live_time_s == p.live && s->real_time_s == p.real && p.live > 100, "%s: times %g %g", name,
	          s->live_time_s, s->real_time_s);
	/* negative values read as zero counts and are kept in meta */
	CHECK_MSG(mg_spectrum_total(s) == p.sum_pos, "%s: total %.17g, the file sums to %.17g (+ %.17g negative)", name,
	          mg_spectrum_total(s), p.sum_pos, p.sum_neg);
	const char *neg = mg_kvlist_get(&s->meta, "msa.clamped_counts");
	double kept = 0;
	size_t nkept = 0;
	for (const char *q = neg; q && *q;) {
		unsigned ch;
		double v;
		int used;
		if (sscanf(q, "%u:%lf%n", &ch, &v, &used) != 2)
			break;
		CHECK(ch < s->nchan && s->counts[ch] == 0 && p.values[ch] == v);
		kept += v;
		nkept++;
		q += used;
	}
	CHECK_MSG(nkept == p.nneg && kept == p.sum_neg, "%s: %zu negative values kept, the file has %zu", name, nkept,
	          p.nneg);
	CHECK(mg_spectrum_total(s) + kept == p.sum_raw);
	if (strncmp(name, "Fe_", 3) == 0) {
		double e = peak_energy(s, &p, 6.0, 6.8);
		CHECK_MSG(fabs(e - 6.40) <= 0.02, "%s: Fe K-alpha at %g keV", name, e);
		fprintf(stderr, "%s: Fe K-alpha maximum at %.4f keV\n", name, e);
	}
	if (strncmp(name, "Cu_", 3) == 0) {
		double e = peak_energy(s, &p, 7.7, 8.4);
		CHECK_MSG(fabs(e - 8.048) <= 0.02, "%s: Cu K-alpha at %g keV", name, e);
		fprintf(stderr, "%s: Cu K-alpha maximum at %.4f keV\n", name, e);
	}

	/* .msa -> .msa: the same spectrum, the same values in the file (negative ones too) */
	char *written = NULL;
	mg_spectrum *m = through(s, MG_FORMAT_MSA, &written);
	CHECK_MSG(m && spectra_equal(s, m, name), "%s: .msa round trip not exact", name);
	plain q;
	if (written && plain_parse(written, &q) == 0) {
		CHECK_MSG(q.nvalues == p.nvalues && memcmp(q.values, p.values, p.nvalues * sizeof(double)) == 0,
		          "%s: the written .msa holds other values", name);
		CHECK(q.offset == p.offset && q.xperchan == p.xperchan && q.live == p.live && q.real == p.real);
		free(q.values);
	}
	CHECK_MSG(written && !strstr(written, "##MG_FIELD"), "%s: standard keywords should carry all", name);
	free(written);
	/* .msa -> .mca -> .msa */
	mg_spectrum *a = through(s, MG_FORMAT_MCA, NULL);
	CHECK_MSG(a && spectra_equal(s, a, name), "%s: .mca round trip not exact", name);
	mg_spectrum *b = a ? through(a, MG_FORMAT_MSA, NULL) : NULL;
	CHECK_MSG(b && spectra_equal(s, b, name), "%s: .msa -> .mca -> .msa not exact", name);
	mg_spectrum_free(a);
	mg_spectrum_free(b);
	mg_spectrum_free(m);
	mg_spectrum_free(s);
	free(p.values);
	free(text);
}

int main(void)
{
	const char *data = mg_test_require_data_dir();
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/nist-xrf-stainless", data);
	DIR *d = opendir(dir);
	if (!d)
		mg_test_skip("../shared/data/nist-xrf-stainless is absent; real EMSA checks not run");
	char *names[256];
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 256) {
		size_t len = strlen(e->d_name);
		if (len > 4 && strcmp(e->d_name + len - 4, ".msa") == 0)
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), by_name);
	CHECK_MSG(n >= 1, "no .msa file in %s", dir);
	int fe = 0, cu = 0;
	for (size_t i = 0; i < n; i++) {
		fe += strncmp(names[i], "Fe_", 3) == 0;
		cu += strncmp(names[i], "Cu_", 3) == 0;
		check_file(dir, names[i]);
		free(names[i]);
	}
	CHECK_MSG(fe == 1 && cu == 1, "the Fe and Cu standards should be there (%d, %d)", fe, cu);
	fprintf(stderr, "%zu real EMSA files checked\n", n);
	return mg_test_finish("test_realdata_msa");
}
