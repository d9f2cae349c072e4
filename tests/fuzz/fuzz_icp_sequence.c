/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target: the ICP-OES sequence (worklist) parser and its structure
 * check. Oracle: a parsed sequence keeps its invariants; written back in the
 * canonical form (every setting, a fixed header, quoted labels) it parses to
 * the same items; validation and the digest lookup never crash and report
 * problems with lines that exist. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magassay/error.h"
#include "magassay/icp_analysis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK_OR_DIE(cond)          \
	do {                        \
		if (!(cond))        \
			abort();    \
	} while (0)

static void put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void put_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.17g", v);
}

static int same_num(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mg_icp_sequence *s = NULL;
	int rc = mg_icp_sequence_parse((const char *)data, size, &s);
	if (rc != MG_OK) {
		CHECK_OR_DIE(s == NULL && rc < 0);
		return 0;
	}
	long nlines = 1;
	for (size_t i = 0; i < size; i++)
		nlines += data[i] == '\n' || data[i] == '\r';
	for (size_t i = 0; i < s->nitems; i++) {
		const mg_icp_item *it = &s->items[i];
		CHECK_OR_DIE(it->position >= 1 && it->position <= 9999);
		CHECK_OR_DIE(it->label[0] && strlen(it->label) < sizeof(it->label));
		CHECK_OR_DIE((unsigned)it->type < MG_ICP_ITEM_COUNT_);
		CHECK_OR_DIE(it->line >= 1 && it->line <= nlines);
		CHECK_OR_DIE(i == 0 || it->line > s->items[i - 1].line);
		CHECK_OR_DIE(isnan(it->mass_g) || it->mass_g > 0);
		CHECK_OR_DIE(isnan(it->dilution) || it->dilution >= 1);
	}
	/* canonical form, parsed again */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CHECK_OR_DIE(f != NULL);
	if (s->batch[0])
		fprintf(f, "batch = %s\n", s->batch);
	if (s->operator_name[0])
		fprintf(f, "operator = %s\n", s->operator_name);
	if (s->method[0])
		fprintf(f, "method = %s\n", s->method);
	if (s->qc[0])
		fprintf(f, "qc = %s\n", s->qc);
	if (s->description[0])
		fprintf(f, "description = %s\n", s->description);
	fprintf(f, "position,type,label,solution,of,mass_g,volume_ml,dilution,notes\n");
	for (size_t i = 0; i < s->nitems; i++) {
		const mg_icp_item *it = &s->items[i];
		fprintf(f, "%d,%s,", it->position, mg_icp_item_type_name(it->type));
		put_quoted(f, it->label);
		fputc(',', f);
		put_quoted(f, it->solution);
		fputc(',', f);
		put_quoted(f, it->of);
		fputc(',', f);
		put_num(f, it->mass_g);
		fputc(',', f);
		put_num(f, it->volume_ml);
		fputc(',', f);
		put_num(f, it->dilution);
		fputc(',', f);
		put_quoted(f, it->notes);
		fputc('\n', f);
	}
	fclose(f);
	mg_icp_sequence *t = NULL;
	rc = mg_icp_sequence_parse(buf, len, &t);
	CHECK_OR_DIE(rc == MG_OK && t);
	CHECK_OR_DIE(t->nitems == s->nitems && !strcmp(t->batch, s->batch) && !strcmp(t->method, s->method));
	for (size_t i = 0; i < s->nitems; i++) {
		const mg_icp_item *a = &s->items[i], *b = &t->items[i];
		CHECK_OR_DIE(a->type == b->type && a->position == b->position && !strcmp(a->label, b->label));
		CHECK_OR_DIE(!strcmp(a->solution, b->solution) && !strcmp(a->of, b->of) && !strcmp(a->notes, b->notes));
		CHECK_OR_DIE(same_num(a->mass_g, b->mass_g) && same_num(a->volume_ml, b->volume_ml) &&
		             same_num(a->dilution, b->dilution));
	}
	mg_icp_sequence_free(t);
	free(buf);
	/* the structure check */
	mg_icp_problems p;
	int n = mg_icp_sequence_validate(s, NULL, NULL, &p);
	CHECK_OR_DIE(n >= 0 && (size_t)n == p.count);
	for (size_t i = 0; i < p.count && i < 64; i++)
		CHECK_OR_DIE(p.item[i].line >= 0 && p.item[i].line <= nlines && p.item[i].message[0]);
	for (size_t i = 0; i < s->nitems; i++) {
		mg_icp_digest d;
		mg_icp_item_digest(s, i, NULL, &d);
		CHECK_OR_DIE(s->items[i].parent == (size_t)-1 || s->items[i].parent < i);
	}
	mg_icp_sequence_free(s);
	return 0;
}
