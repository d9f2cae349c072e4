/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The run's calibration records: loaded by the coordinator from the store,
 * found by the workers (under the run's lock). */
#include <stdio.h>
#include <string.h>

#include "reprocess_internal.h"

/* The calibration entry for an id (lock held). */
const cal_entry *rp_cal_find(run *r, long long id)
{
	for (int i = 0; i < r->ncals; i++)
		if (r->cals[i].id == id)
			return &r->cals[i];
	return NULL;
}

int rp_cal_load(run *r, mg_store *st, long long id, const char *ref, long long *id_out, int energy, char *kind_out)
{
	if (id > 0) {
		pthread_mutex_lock(&r->lock);
		int have = rp_cal_find(r, id) != NULL;
		pthread_mutex_unlock(&r->lock);
		if (have) {
			*id_out = id;
			return 0;
		}
	}
	char idref[32];
	if (!ref) {
		snprintf(idref, sizeof idref, "%lld", id);
		ref = idref;
	}
	mg_calib_record rec;
	int rc = mg_calib_record_load(st, ref, &rec);
	if (rc < 0)
		return rc;
	cal_entry e;
	memset(&e, 0, sizeof e);
	e.id = rec.id;
	if (kind_out)
		snprintf(kind_out, 16, "%s", rec.kind);
	if (strcmp(rec.kind, "energy") == 0 || strcmp(rec.kind, "resolution") == 0) {
		/* the run's energy calibration: not a table entry */
		if (!energy) {
			mg_calib_record_clear(&rec);
			*id_out = e.id;
			return 0;
		}
		mg_analysis_config d;
		mg_analysis_config_default(&d);
		r->edet = d.det;
		rc = mg_analysis_calib_parse(rec.payload_json, strlen(rec.payload_json), ref, &r->ecal, &r->edet);
		r->have_energy = rc == 0;
		mg_calib_record_clear(&rec);
		*id_out = e.id;
		return rc;
	}
	if (strcmp(rec.kind, "quant") == 0) {
		rc = mg_quant_calibration_from_json(rec.payload_json, strlen(rec.payload_json), ref, &e.cal);
		if (rc == 0) {
			snprintf(e.cal.name, sizeof e.cal.name, "%s", rec.name);
			e.cal.version = rec.version;
			e.cal.id = rec.id;
			e.is_quant = 1;
		}
	}
	mg_calib_record_clear(&rec);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&r->lock);
	if (r->ncals >= MAX_CALS) {
		pthread_mutex_unlock(&r->lock);
		mg_quant_calibration_clear(&e.cal);
		return mg_fail(MG_ERR_UNSUPPORTED, RP_DOM, "more than %d calibrations in one run: select fewer measurements",
		               MAX_CALS);
	}
	if (!rp_cal_find(r, e.id))
		r->cals[r->ncals++] = e;
	else
		mg_quant_calibration_clear(&e.cal);
	pthread_mutex_unlock(&r->lock);
	*id_out = e.id;
	return 0;
}
