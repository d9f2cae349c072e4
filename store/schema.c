/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The database schema as an ordered list of migrations. Migration i takes a
 * database from PRAGMA user_version i to i+1 and runs in one transaction.
 * Never edit a released migration: append a new one (and raise
 * MG_STORE_SCHEMA_VERSION in store.h). docs/data-model.md describes the result. */
#include "store_internal.h"

#define NOW "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
/* An id as mg_id_validate() accepts it (defence in depth: the C code checks first). */
#define ID_CHECK(col)                                                                    \
	"CHECK (length(" col ") BETWEEN 1 AND 64 AND " col " NOT GLOB '*[^A-Za-z0-9._-]*' AND " col \
	" NOT GLOB '[.-]*')"
#define APPEND_ONLY(table, update_msg, delete_msg)                                         \
	"CREATE TRIGGER " table "_no_update BEFORE UPDATE ON " table " BEGIN "                 \
	"SELECT RAISE(ABORT, '" update_msg "'); END;\n"                                       \
	"CREATE TRIGGER " table "_no_delete BEFORE DELETE ON " table " BEGIN "                 \
	"SELECT RAISE(ABORT, '" delete_msg "'); END;\n"

static const char v1[] =
	/* A lot of magnet material, identified by its lot number. */
	"CREATE TABLE batches (\n"
	"  id TEXT PRIMARY KEY NOT NULL " ID_CHECK("id") ",\n"
	"  created_at TEXT NOT NULL DEFAULT " NOW ",\n"
	"  operator TEXT,\n"
	"  notes TEXT,\n"
	"  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed'))\n"
	") STRICT;\n"
	/* A sample taken from a batch; ids are unique across the store. */
	"CREATE TABLE samples (\n"
	"  id TEXT PRIMARY KEY NOT NULL " ID_CHECK("id") ",\n"
	"  batch_id TEXT NOT NULL REFERENCES batches(id),\n"
	"  created_at TEXT NOT NULL DEFAULT " NOW ",\n"
	"  description TEXT,\n"
	"  UNIQUE (id, batch_id)\n"
	") STRICT;\n"
	"CREATE INDEX samples_batch ON samples(batch_id);\n"
	/* One acquisition: a spectrum file in the archive and how it was made. */
	"CREATE TABLE measurements (\n"
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"  uuid TEXT NOT NULL UNIQUE CHECK (length(uuid) = 36),\n"
	"  sample_id TEXT NOT NULL,\n"
	"  batch_id TEXT NOT NULL REFERENCES batches(id),\n"
	"  kind TEXT NOT NULL CHECK (kind IN ('xrf', 'icp')),\n"
	"  file TEXT NOT NULL UNIQUE,\n"
	"  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),\n"
	"  size INTEGER NOT NULL CHECK (size >= 0),\n"
	"  instrument_model TEXT,\n"
	"  instrument_serial TEXT,\n"
	"  instrument_firmware TEXT,\n"
	"  settings TEXT CHECK (settings IS NULL OR json_valid(settings)),\n"
	"  started_at TEXT,\n"
	"  ended_at TEXT,\n"
	"  live_time_s REAL,\n"
	"  real_time_s REAL,\n"
	"  total_counts REAL,\n"
	"  operator TEXT,\n"
	"  status TEXT NOT NULL CHECK (status IN ('complete', 'stopped_early', 'incomplete', 'device_lost')),\n"
	"  replicate INTEGER NOT NULL CHECK (replicate >= 1),\n"
	"  notes TEXT,\n"
	"  created_at TEXT NOT NULL DEFAULT " NOW ",\n"
	"  FOREIGN KEY (sample_id, batch_id) REFERENCES samples(id, batch_id)\n"
	") STRICT;\n"
	"CREATE INDEX measurements_sample ON measurements(sample_id, replicate);\n"
	"CREATE INDEX measurements_batch ON measurements(batch_id);\n"
	/* A measurement is never deleted and what identifies its spectrum never changes. */
	"CREATE TRIGGER measurements_no_delete BEFORE DELETE ON measurements BEGIN "
	"SELECT RAISE(ABORT, 'measurements are never deleted'); END;\n"
	"CREATE TRIGGER measurements_fixed BEFORE UPDATE OF id, uuid, sample_id, batch_id, kind, file, sha256, "
	"size, started_at, created_at ON measurements BEGIN "
	"SELECT RAISE(ABORT, 'a measurement''s identity, file and hash are never modified'); END;\n"
	/* Versioned calibrations (energy, resolution, quantification, ...). */
	"CREATE TABLE calibrations (\n"
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"  kind TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 32 AND kind NOT GLOB '*[^a-z0-9_]*'),\n"
	"  name TEXT NOT NULL " ID_CHECK("name") ",\n"
	"  version INTEGER NOT NULL CHECK (version >= 1),\n"
	"  created_at TEXT NOT NULL DEFAULT " NOW ",\n"
	"  operator TEXT,\n"
	"  software_version TEXT NOT NULL,\n"
	"  provenance TEXT CHECK (provenance IS NULL OR json_valid(provenance)),\n"
	"  payload TEXT NOT NULL CHECK (json_valid(payload)),\n"
	"  UNIQUE (kind, name, version)\n"
	") STRICT;\n" APPEND_ONLY("calibrations", "calibrations are never modified: add a new version",
	                          "calibrations are never deleted")
	/* Versioned results of a measurement: which calibration and software produced them. */
	"CREATE TABLE results (\n"
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"  measurement_id INTEGER NOT NULL REFERENCES measurements(id),\n"
	"  version INTEGER NOT NULL CHECK (version >= 1),\n"
	"  calibration_id INTEGER REFERENCES calibrations(id),\n"
	"  software_version TEXT NOT NULL,\n"
	"  created_at TEXT NOT NULL DEFAULT " NOW ",\n"
	"  payload TEXT NOT NULL CHECK (json_valid(payload)),\n"
	"  UNIQUE (measurement_id, version)\n"
	") STRICT;\n"
	"CREATE INDEX results_calibration ON results(calibration_id);\n" APPEND_ONLY("results", "results are never modified: add a new version",
	                          "results are never deleted")
	/* The audit log: who did what, when, from where. */
	"CREATE TABLE events (\n"
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"  at TEXT NOT NULL DEFAULT " NOW ",\n"
	"  actor TEXT NOT NULL,\n"
	"  host TEXT,\n"
	"  pid INTEGER,\n"
	"  action TEXT NOT NULL,\n"
	"  entity TEXT NOT NULL,\n"
	"  entity_id TEXT NOT NULL,\n"
	"  details TEXT CHECK (details IS NULL OR json_valid(details))\n"
	") STRICT;\n"
	"CREATE INDEX events_entity ON events(entity, entity_id);\n" APPEND_ONLY("events", "the audit log is append-only", "the audit log is append-only");

/* Batch QC (docs/qc.md): check-standard values per instrument, overrides of
 * violated QC rules (who and why) and batch releases. All append-only. */
static const char v2[] =
	"CREATE TABLE qc_values (\n"
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"  quantity TEXT NOT NULL CHECK (length(quantity) BETWEEN 1 AND 32 AND quantity NOT GLOB '*[^a-z0-9_]*'),\n"
	"  target TEXT NOT NULL CHECK (length(target) BETWEEN 1 AND 64),\n"
	"  standard TEXT,\n"
	"  instrument TEXT NOT NULL DEFAULT '',\n"
	"  value REAL NOT NULL,\n"
	"  unit TEXT,\n"
	"  batch_id TEXT REFERENCES batches(id),\n"
	"  measurement_id INTEGER REFERENCES measurements(id),\n"
	"  measured_at TEXT NOT NULL DEFAULT " NOW ",\n"
	"  operator TEXT,\n"
	"  created_at TEXT NOT NULL DEFAULT " NOW "\n"
	") STRICT;\n"
	"CREATE INDEX qc_values_series ON qc_values(quantity, target, instrument, measured_at);\n"
	"CREATE INDEX qc_values_batch ON qc_values(batch_id);\n" APPEND_ONLY("qc_values", "QC values are never modified",
	                                                                     "QC values are never deleted")
	"CREATE TABLE qc_overrides (\n"
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"  batch_id TEXT NOT NULL REFERENCES batches(id),\n"
	"  override_by TEXT NOT NULL CHECK (length(trim(override_by)) > 0),\n"
	"  reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),\n"
	"  violations TEXT NOT NULL CHECK (json_valid(violations)),\n"
	"  at TEXT NOT NULL DEFAULT " NOW "\n"
	") STRICT;\n"
	"CREATE INDEX qc_overrides_batch ON qc_overrides(batch_id);\n" APPEND_ONLY("qc_overrides",
	                                                                            "QC overrides are never modified",
	                                                                            "QC overrides are never deleted")
	"CREATE TABLE qc_releases (\n"
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"  batch_id TEXT NOT NULL UNIQUE REFERENCES batches(id),\n"
	"  released_by TEXT NOT NULL,\n"
	"  qc_state TEXT NOT NULL CHECK (qc_state IN ('pass', 'override')),\n"
	"  override_id INTEGER REFERENCES qc_overrides(id),\n"
	"  details TEXT CHECK (details IS NULL OR json_valid(details)),\n"
	"  at TEXT NOT NULL DEFAULT " NOW ",\n"
	"  CHECK ((qc_state = 'override') = (override_id IS NOT NULL))\n"
	") STRICT;\n" APPEND_ONLY("qc_releases", "a release is never modified", "a release is never deleted");

const char *const store_migrations[] = {v1, v2};
const int store_migration_count = (int)MG_ARRAY_SIZE(store_migrations);

_Static_assert(MG_ARRAY_SIZE(store_migrations) == MG_STORE_SCHEMA_VERSION,
               "MG_STORE_SCHEMA_VERSION must equal the number of migrations");
