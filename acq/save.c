/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The storage hand-off: a spectrum read from the instrument is stamped with
 * what the loop knows (sample, batch, operator, times, uuid, status), written
 * atomically in Amptek .mca to its place in the archive and registered in the
 * store with the SHA-256 of the bytes written. When the archive cannot be
 * written, the spectrum goes to the checkpoint folder instead, where
 * `magassay recover` finds it; the error says where it is. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acq/acq_internal.h"
#include "magassay/fileio.h"
#include "magassay/format.h"

int acq_serialize_mca(const mg_spectrum *s, mg_buf *out)
{
	const mg_format *fmt = mg_format_get(MG_FORMAT_MCA);
	mg_buf_reset(out);
	if (!fmt || !fmt->write)
		return mg_fail(MG_ERR_INTERNAL, ACQ_DOM, "no .mca writer");
	int rc = mg_spectrum_validate(s);
	if (rc == MG_OK)
		rc = fmt->write(s, out);
	if (rc == MG_OK)
		rc = mg_buf_status(out);
	return rc;
}

static int meta_set(mg_spectrum *s, const char *key, const char *value)
{
	return value ? mg_kvlist_set(&s->meta, key, value, NULL) : MG_OK;
}

int acq_stamp(mg_spectrum *s, const char *uuid, const char *sample, const char *batch, const char *op,
              const char *description, const char *started_at, const char *ended_at, const char *status,
              int replicate, const mg_acq_profile *prof)
{
	char rep[16], desc[200];
	snprintf(rep, sizeof(rep), "%d", replicate);
	if (!description) {
		snprintf(desc, sizeof(desc), "sample %s batch %s", sample, batch);
		description = desc;
	}
	int rc = mg_str_set(&s->sample.sample_id, sample) | mg_str_set(&s->sample.batch_id, batch) |
	         mg_str_set(&s->sample.operator_name, op) | mg_str_set(&s->sample.description, description);
	if (started_at)
		snprintf(s->start_time, sizeof(s->start_time), "%s", started_at);
	if (prof) {
		if (prof->anode)
			rc |= mg_str_set(&s->acq.anode, prof->anode);
		if (!isnan(prof->tube_kv))
			s->acq.tube_kv = prof->tube_kv;
		if (!isnan(prof->tube_ua))
			s->acq.tube_ua = prof->tube_ua;
		if (prof->filter)
			rc |= mg_str_set(&s->acq.filter, prof->filter);
		if (prof->atmosphere)
			rc |= mg_str_set(&s->acq.atmosphere, prof->atmosphere);
		if (prof->detector)
			rc |= mg_str_set(&s->instrument.detector, prof->detector);
	}
	rc |= meta_set(s, ACQ_META_UUID, uuid) | meta_set(s, ACQ_META_STATUS, status) |
	      meta_set(s, ACQ_META_ENDED, ended_at) | meta_set(s, ACQ_META_REPLICATE, replicate > 0 ? rep : NULL);
	return rc ? mg_fail(MG_ERR_NOMEM, ACQ_DOM, "out of memory") : MG_OK;
}

void acq_saved_clear(struct acq_saved *s)
{
	free(s->file);
	memset(s, 0, sizeof(*s));
}

int acq_save(const struct acq_save_args *a, const mg_spectrum *s, struct acq_saved *out)
{
	mg_buf b;
	char why[1000], why2[1000];
	char *path = NULL;
	int rc;
	memset(out, 0, sizeof(*out));
	mg_buf_init(&b);
	if ((rc = acq_serialize_mca(s, &b)) != MG_OK) {
		snprintf(why, sizeof(why), "%s", mg_error_detail());
		mg_buf_free(&b);
		return mg_fail(rc, ACQ_DOM, "the spectrum of sample %s cannot be written as .mca: %s", a->sample_id, why);
	}
	mg_sha256_mem(b.data, b.len, out->sha256);

	rc = mg_store_spectrum_path(a->st, a->batch_id, a->sample_id, a->uuid, "mca", &path);
	if (rc == MG_OK) {
		rc = mg_file_write_atomic(path, b.data, b.len);
		if (rc != MG_OK) {
			snprintf(why, sizeof(why), "%s", mg_error_detail());
		} else {
			out->file = path;
			path = NULL;
			out->written = 1;
		}
	} else {
		snprintf(why, sizeof(why), "%s", mg_error_detail());
	}
	free(path);

	if (!out->written) {
		/* Not in the archive: keep it in the checkpoint folder rather than drop it. */
		int rc2 = MG_ERR_NA;
		if (a->ckpt && a->ckpt->mca_path) {
			rc2 = acq_ckpt_write(a->ckpt, b.data, b.len, s->real_time_s);
			if (rc2 != MG_OK)
				snprintf(why2, sizeof(why2), "%s", mg_error_detail());
		}
		mg_buf_free(&b);
		if (rc2 == MG_OK) {
			out->kept = 1;
			out->file = strdup(a->ckpt->mca_path);
			return mg_fail(rc, ACQ_DOM,
			               "cannot write the spectrum of sample %s to the archive: %s. It is kept at %s "
			               "instead: `magassay recover` registers it once the archive can be written",
			               a->sample_id, why, a->ckpt->mca_path);
		}
		if (a->ckpt && a->ckpt->have_partial)
			return mg_fail(rc, ACQ_DOM,
			               "cannot write the spectrum of sample %s to the archive: %s; nor to the checkpoint "
			               "folder: %s. The last checkpoint (%.1f s real time) remains at %s for `magassay "
			               "recover`; the rest of this measurement is lost",
			               a->sample_id, why, rc2 == MG_ERR_NA ? "no checkpoint folder" : why2,
			               a->ckpt->partial_real_s, a->ckpt->mca_path);
		return mg_fail(rc, ACQ_DOM,
		               "cannot write the spectrum of sample %s to the archive: %s; nor to the checkpoint folder: "
		               "%s. No checkpoint had been written: this measurement is lost",
		               a->sample_id, why, rc2 == MG_ERR_NA ? "no checkpoint folder" : why2);
	}
	mg_buf_free(&b);

	mg_new_measurement m;
	mg_new_measurement_init(&m);
	m.uuid = a->uuid;
	m.sample_id = a->sample_id;
	m.batch_id = a->batch_id;
	m.kind = "xrf";
	m.file = out->file;
	m.sha256 = out->sha256;
	m.instrument_model = s->instrument.model;
	m.instrument_serial = s->instrument.serial;
	m.instrument_firmware = s->instrument.firmware;
	m.settings_json = a->settings_json;
	m.started_at = a->started_at;
	m.ended_at = a->ended_at;
	m.live_time_s = s->live_time_s;
	m.real_time_s = s->real_time_s;
	m.total_counts = mg_spectrum_total(s);
	m.operator_name = a->operator_name;
	m.status = a->status;
	m.replicate = 0; /* the next free index for this sample */
	m.notes = a->notes;
	rc = mg_store_measurement_add(a->st, &m, &out->measurement_id, &out->replicate);
	if (rc != MG_OK) {
		snprintf(why, sizeof(why), "%s", mg_error_detail());
		return mg_fail(rc, ACQ_DOM,
		               "the spectrum of sample %s was written to %s but could not be registered: %s. "
		               "`magassay recover` registers it (its checkpoint is kept)",
		               a->sample_id, out->file, why);
	}
	out->registered = 1;
	return MG_OK;
}
