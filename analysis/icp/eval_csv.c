/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The readings of a run from a vendor CSV export (icp_analysis.h,
 * mg_icp_eval_csv): rows matched to sequence items by label (repeated
 * labels, CCV and CCB, in order of appearance) and to the configured lines
 * by element and wavelength; intensities (the analysis runs as for an
 * instrument) or the vendor's concentrations. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"
#include "internal.h"

static int csv_line_index(const mg_icp_eval *e, const mg_icp_csv_row *row)
{
	int best = -1;
	double bd = 1e9;
	for (size_t l = 0; l < e->nlines; l++) {
		if (strcmp(e->lines[l].element, row->element) != 0)
			continue;
		if (isnan(row->wavelength_nm)) {
			if (e->line_primary[l] || (int)l == e->is_line)
				return (int)l;
			continue;
		}
		double d = fabs(e->lines[l].wavelength_nm - row->wavelength_nm);
		if (d < 0.011 && d < bd) {
			bd = d;
			best = (int)l;
		}
	}
	return best;
}

int mg_icp_eval_csv(mg_icp_eval *e, const mg_icp_csv *csv)
{
	if (!e || !csv)
		return mg_fail(MG_ERR_ARG, EVAL_DOM, "no evaluation or no CSV");
	if (e->csv)
		return mg_fail(MG_ERR_ARG, EVAL_DOM, "the evaluation has a CSV already");
	e->csv = csv;
	e->conc_mode = !csv->has_intensity;
	const mg_icp_sequence *s = e->seq;
	size_t nrows = csv->nrows;
	e->csv_rows = malloc((nrows ? nrows : 1) * sizeof(size_t));
	int *line_of = malloc((nrows ? nrows : 1) * sizeof(int));
	int *occ = malloc((nrows ? nrows : 1) * sizeof(int)); /* occurrence number of the label at this row */
	size_t *blocks = malloc((nrows ? nrows : 1) * sizeof(size_t)), nblocks = 0;
	if (!e->csv_rows || !line_of || !occ || !blocks) {
		free(line_of);
		free(occ);
		free(blocks);
		return mg_fail(MG_ERR_NOMEM, EVAL_DOM, "no memory");
	}
	/* occurrences: a label's rows form one measurement (a block) until another
	 * label comes between or a (line, replicate) repeats; the n-th block of a
	 * label is its n-th appearance in the sequence */
	size_t matched = 0, block_start = 0;
	for (size_t k = 0; k < nrows; k++) {
		const mg_icp_csv_row *row = &csv->rows[k];
		line_of[k] = csv_line_index(e, row);
		matched += line_of[k] >= 0;
		int newblock = k == 0 || strcmp(csv->rows[k - 1].label, row->label) != 0;
		for (size_t j = block_start; !newblock && j < k; j++) {
			const mg_icp_csv_row *o = &csv->rows[j];
			if (o->replicate == row->replicate && strcmp(o->element, row->element) == 0 &&
			    ((isnan(o->wavelength_nm) && isnan(row->wavelength_nm)) || o->wavelength_nm == row->wavelength_nm))
				newblock = 1;
		}
		if (newblock) {
			/* earlier blocks of the same label */
			int o = 0;
			for (size_t b = 0; b < nblocks; b++)
				if (strcmp(csv->rows[blocks[b]].label, row->label) == 0)
					o++;
			blocks[nblocks++] = k;
			block_start = k;
			occ[k] = o;
		} else {
			occ[k] = occ[k - 1];
		}
	}
	int rc = MG_OK;
	if (matched == 0)
		rc = mg_fail(MG_ERR_FORMAT, EVAL_DOM, "the CSV has no row for any line of the method %s", e->m->name);
	size_t used = 0;
	for (size_t i = 0; i < s->nitems && rc == MG_OK; i++) {
		int o = 0;
		for (size_t j = 0; j < i; j++)
			o += strcmp(s->items[j].label, s->items[i].label) == 0;
		icp_item_data *d = &e->data[i];
		d->csv_first = used;
		d->nrep = 0;
		for (size_t k = 0; k < nrows; k++) {
			const mg_icp_csv_row *row = &csv->rows[k];
			if (occ[k] != o || strcmp(row->label, s->items[i].label) != 0)
				continue;
			e->csv_rows[used++] = k;
			size_t rep = row->replicate > 0 ? (size_t)row->replicate : 1;
			if (rep > d->nrep)
				d->nrep = rep;
		}
		d->csv_count = used - d->csv_first;
		if (d->csv_count == 0) {
			rc = mg_fail(MG_ERR_FORMAT, EVAL_DOM,
			             "the CSV has no rows for %s (sequence line %ld, occurrence %d of that label)",
			             s->items[i].label, s->items[i].line, o + 1);
			break;
		}
		for (size_t k = d->csv_first; k < used; k++) {
			const mg_icp_csv_row *row = &csv->rows[e->csv_rows[k]];
			int l = line_of[e->csv_rows[k]];
			if (l < 0)
				continue;
			size_t rep = row->replicate > 0 ? (size_t)row->replicate - 1 : 0;
			d->net[l][rep] = row->intensity;
			d->conc[l][rep] = row->conc;
		}
		for (size_t l = 0; l < e->nlines; l++) {
			d->fit_status[l] = MG_OK;
			int any = 0;
			for (size_t k = 0; k < d->nrep; k++)
				any |= e->conc_mode ? isfinite(d->conc[l][k]) : isfinite(d->net[l][k]);
			if (!any)
				d->fit_status[l] = MG_ERR_NOT_FOUND;
		}
		if (!e->conc_mode && e->is_line >= 0 && d->fit_status[e->is_line] != MG_OK) {
			rc = mg_fail(MG_ERR_FORMAT, EVAL_DOM, "the CSV has no internal standard (%s) intensity for %s (sequence line %ld)",
			             e->lines[e->is_line].label, s->items[i].label, s->items[i].line);
			break;
		}
		d->have = 1;
	}
	free(line_of);
	free(occ);
	free(blocks);
	return rc;
}
