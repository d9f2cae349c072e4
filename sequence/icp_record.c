/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What an ICP-OES run produces, into the store (sequence.h): the batch, a
 * sample and a measurement per item (the raw readings as a JSON file in the
 * archive), the calibration (kind "icp", named after the method, a new
 * version per run) and one result per measurement — the last two when the
 * evaluation says they are final (mg_icp_recorder). Without a store every
 * step is a no-op. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icp_run_internal.h"
#include "internal.h"
#include "magassay/fileio.h"
#include "magassay/store.h"

/* Samples, duplicates and spikes are samples of the batch; a QC solution is
 * "<batch>.<label>" (the sequence's validation checks that it fits). */
static void sample_id(const mg_icp_run *r, size_t item, char *out, size_t cap)
{
	const mg_icp_item *it = &r->seq->items[item];
	if (it->type == MG_ICP_ITEM_SAMPLE || it->type == MG_ICP_ITEM_DUPLICATE || it->type == MG_ICP_ITEM_SPIKE)
		snprintf(out, cap, "%s", it->label);
	else
		snprintf(out, cap, "%s.%s", r->seq->batch, it->label);
}

int icp_record_begin(mg_icp_run *r)
{
	if (!r->st)
		return MG_OK;
	return mg_store_batch_ensure(r->st, r->seq->batch, r->operator_name[0] ? r->operator_name : NULL, NULL);
}

int icp_record_measurement(mg_icp_run *r, size_t i, const char *raw_json)
{
	if (!r->st)
		return MG_OK;
	const mg_icp_item *it = &r->seq->items[i];
	const mg_icp_item_result *res = mg_icp_eval_result(r->ev, i);
	char sid[2 * MG_ICP_LABEL_SIZE], desc[200]; /* batch.label: validated to fit MG_ID_MAX */
	sample_id(r, i, sid, sizeof(sid));
	switch (it->type) {
	case MG_ICP_ITEM_DUPLICATE:
		snprintf(desc, sizeof(desc), "duplicate digest of %s", it->of);
		break;
	case MG_ICP_ITEM_SPIKE:
		snprintf(desc, sizeof(desc), "matrix spike of %s (%s)", it->of, it->solution);
		break;
	case MG_ICP_ITEM_SAMPLE:
		snprintf(desc, sizeof(desc), "%s", it->notes[0] ? it->notes : "ICP-OES digest");
		break;
	default:
		snprintf(desc, sizeof(desc), "ICP-OES %s %s", mg_icp_item_type_name(it->type),
		         it->solution[0] ? it->solution : it->label);
	}
	int rc = mg_store_sample_ensure(r->st, sid, r->seq->batch, desc, NULL);
	if (rc != MG_OK)
		return rc;
	char uuid[MG_UUID_SIZE], *path = NULL;
	if ((rc = mg_uuid_generate(uuid)) != MG_OK)
		return rc;
	if ((rc = mg_store_spectrum_path(r->st, r->seq->batch, sid, uuid, "json", &path)) != MG_OK)
		return rc;
	rc = mg_file_write_atomic(path, raw_json, strlen(raw_json));
	if (rc != MG_OK) {
		free(path);
		return rc;
	}
	char *settings = icp_json_settings(r, i);
	char notes[200];
	snprintf(notes, sizeof(notes), "ICP-OES %s at position %d, sequence line %ld", mg_icp_item_type_name(it->type),
	         it->position, it->line);
	mg_new_measurement nm;
	mg_new_measurement_init(&nm);
	nm.uuid = uuid;
	nm.sample_id = sid;
	nm.batch_id = r->seq->batch;
	nm.kind = "icp";
	nm.file = path;
	nm.instrument_model = r->model[0] ? r->model : NULL;
	nm.instrument_serial = r->serial[0] ? r->serial : NULL;
	nm.instrument_firmware = r->firmware[0] ? r->firmware : NULL;
	nm.settings_json = settings;
	nm.started_at = res->start_time[0] ? res->start_time : NULL;
	nm.real_time_s = r->m->integration_s * (double)(res->nreplicates ? res->nreplicates : 1);
	nm.operator_name = r->operator_name[0] ? r->operator_name : NULL;
	nm.status = "complete";
	nm.replicate = 0;
	nm.notes = notes;
	long long id = 0;
	rc = mg_store_measurement_add(r->st, &nm, &id, NULL);
	free(settings);
	free(path);
	if (rc != MG_OK)
		return rc;
	mg_icp_eval_note_measurement(r->ev, i, uuid, id);
	return MG_OK;
}

/* A final result: its payload as a new version of the measurement's result. */
static int record_result(void *ctx, mg_icp_eval *ev, size_t i)
{
	mg_icp_run *r = ctx;
	const mg_icp_item_result *res = mg_icp_eval_result(ev, i);
	if (!r->st || !res->measurement_id)
		return MG_OK;
	char *payload = icp_json_result(r, i);
	if (!payload)
		return mg_fail(MG_ERR_NOMEM, RUN_DOM, "no memory for a result");
	int ver = 0;
	long long rid = 0;
	int rc = mg_store_result_add(r->st, res->measurement_id, r->cal_id, NULL, payload, &ver, &rid);
	free(payload);
	if (rc != MG_OK)
		return rc;
	mg_icp_eval_note_result(ev, i, rid, ver);
	mg_icp_event e = {.kind = MG_ICP_EV_STORED, .item = i};
	if (icp_run_emit(r, &e))
		return MG_ERR_INTERRUPTED;
	return MG_OK;
}

/* The curves, once fitted (none fitted: nothing to record). */
static int record_calibration(void *ctx, mg_icp_eval *ev)
{
	mg_icp_run *r = ctx;
	if (!r->st)
		return MG_OK;
	int any = 0;
	for (size_t l = 0; l < mg_icp_eval_nlines(ev); l++)
		any |= mg_icp_eval_curve(ev, l) != NULL;
	if (!any)
		return MG_OK;
	char *payload = icp_json_calibration(r), *prov = icp_json_calibration_provenance(r);
	int rc = MG_OK;
	if (!payload || !prov) {
		rc = mg_fail(MG_ERR_NOMEM, RUN_DOM, "no memory for the calibration");
	} else {
		mg_new_calibration c = {.kind = "icp",
		                        .name = r->m->name,
		                        .operator_name = r->operator_name[0] ? r->operator_name : NULL,
		                        .provenance_json = prov,
		                        .payload_json = payload};
		rc = mg_store_calibration_add(r->st, &c, &r->cal_version, &r->cal_id);
	}
	free(payload);
	free(prov);
	return rc;
}

void icp_record_attach(mg_icp_run *r)
{
	mg_icp_recorder rec = {.ctx = r, .calibration = record_calibration, .result = record_result};
	mg_icp_eval_set_recorder(r->ev, &rec);
}
