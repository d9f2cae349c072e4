/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The instrument description (`--instrument FILE`): the field table, the
 * defaults, the file read through the suite's INI reader (core/inifile.h),
 * formatting, checks, spectrum values taking part (conflicts reported), and
 * the description as the physics layer's tube, geometry and sensor.
 * docs/instrument-file.md. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements.h"
#include "inifile.h"
#include "internal.h"
#include "magassay/fileio.h"
#include "magassay/instrument.h"
#include "text.h"

#define DOM "instrument"

/* ---------------------------------------------------------------- field table */

typedef enum ftype { F_TEXT, F_ELEMENT, F_NUM, F_FILTER, F_MATERIAL, F_PATH } ftype;

typedef struct field {
	mg_instr_field id;
	const char *section, *key;
	ftype type;
	size_t off;       /* offset of the value in the struct */
	size_t size;      /* text fields */
	double lo, hi;    /* numbers: inclusive range */
	int lo_open;      /* 1: lo excluded */
} field;

#define OFF(m) offsetof(mg_instrument_desc, m)
#define SZ(m) sizeof(((mg_instrument_desc *)0)->m)

static const field fields[] = {
	{MG_INSTR_NAME, "instrument", "name", F_TEXT, OFF(name), SZ(name), 0, 0, 0},
	{MG_INSTR_ANODE, "tube", "anode", F_ELEMENT, OFF(anode), SZ(anode), 0, 0, 0},
	{MG_INSTR_KV, "tube", "kv", F_NUM, OFF(kv), 0, 2, 100, 1},
	{MG_INSTR_UA, "tube", "ua", F_NUM, OFF(ua), 0, 0, 1e6, 1},
	{MG_INSTR_TUBE_BE, "tube", "window_be_um", F_NUM, OFF(window_be_um), 0, 0, 5000, 0},
	{MG_INSTR_FILTER, "tube", "filter", F_FILTER, OFF(filter), SZ(filter), 0, 0, 0},
	{MG_INSTR_ELECTRON_ANGLE, "tube", "electron_angle_deg", F_NUM, OFF(electron_angle_deg), 0, 0, 90, 1},
	{MG_INSTR_ANODE_TAKEOFF, "tube", "anode_takeoff_deg", F_NUM, OFF(anode_takeoff_deg), 0, 0, 90, 1},
	{MG_INSTR_BEAM_SR, "tube", "beam_sr", F_NUM, OFF(beam_sr), 0, 0, 4 * M_PI, 1},
	{MG_INSTR_INCIDENCE, "geometry", "incidence_deg", F_NUM, OFF(incidence_deg), 0, 0, 90, 1},
	{MG_INSTR_TAKEOFF, "geometry", "takeoff_deg", F_NUM, OFF(takeoff_deg), 0, 0, 90, 1},
	{MG_INSTR_DET_MATERIAL, "detector", "material", F_MATERIAL, OFF(det_material), SZ(det_material), 0, 0, 0},
	{MG_INSTR_DET_THICKNESS, "detector", "thickness_mm", F_NUM, OFF(det_thickness_mm), 0, 0, 20, 1},
	{MG_INSTR_DET_BE, "detector", "be_window_um", F_NUM, OFF(det_be_um), 0, 0, 1000, 0},
	{MG_INSTR_DET_DEAD, "detector", "dead_layer_um", F_NUM, OFF(det_dead_layer_um), 0, 0, 100, 0},
	{MG_INSTR_DET_AREA, "detector", "area_mm2", F_NUM, OFF(det_area_mm2), 0, 0, 1e4, 1},
	{MG_INSTR_DET_DISTANCE, "detector", "distance_mm", F_NUM, OFF(det_distance_mm), 0, 0, 1e4, 1},
	{MG_INSTR_DET_NOISE, "detector", "noise_kev", F_NUM, OFF(noise_kev), 0, 0, 2, 1},
	{MG_INSTR_DET_FANO, "detector", "fano", F_NUM, OFF(fano), 0, 0, 1, 1},
	{MG_INSTR_PATH, "atmosphere", "path", F_PATH, OFF(path), 0, 0, 0, 0},
	{MG_INSTR_PATH_MM, "atmosphere", "path_mm", F_NUM, OFF(path_mm), 0, 0, 1e4, 0},
	{MG_INSTR_TUBE_PATH_MM, "atmosphere", "tube_path_mm", F_NUM, OFF(tube_path_mm), 0, 0, 1e4, 0},
};

static const char *const sections[] = {"instrument", "tube", "geometry", "detector", "atmosphere"};

static const field *field_by_id(mg_instr_field f)
{
	for (size_t i = 0; i < MG_ARRAY_SIZE(fields); i++)
		if (fields[i].id == f)
			return &fields[i];
	return NULL;
}

const char *mg_instr_field_key(mg_instr_field f)
{
	static const char *const keys[MG_INSTR_NFIELDS] = {
		"instrument.name",       "tube.anode",          "tube.kv",
		"tube.ua",               "tube.window_be_um",   "tube.filter",
		"tube.electron_angle_deg", "tube.anode_takeoff_deg", "tube.beam_sr",
		"geometry.incidence_deg", "geometry.takeoff_deg", "detector.material",
		"detector.thickness_mm", "detector.be_window_um", "detector.dead_layer_um",
		"detector.area_mm2",     "detector.distance_mm", "detector.noise_kev",
		"detector.fano",         "atmosphere.path",     "atmosphere.path_mm",
		"atmosphere.tube_path_mm"};
	return (int)f >= 0 && f < MG_INSTR_NFIELDS ? keys[f] : "?";
}

void mg_instrument_desc_default(mg_instrument_desc *d)
{
	memset(d, 0, sizeof *d);
	snprintf(d->name, sizeof d->name, "benchtop-sdd");
	snprintf(d->anode, sizeof d->anode, "Rh");
	d->kv = 40;
	d->ua = 20;
	d->window_be_um = 125;
	d->filter[0] = 0;
	d->filter_um = 0;
	d->electron_angle_deg = 75;
	d->anode_takeoff_deg = 15;
	d->beam_sr = 2.5e-3;
	d->incidence_deg = 45;
	d->takeoff_deg = 45;
	snprintf(d->det_material, sizeof d->det_material, "Si");
	d->det_thickness_mm = 0.5;
	d->det_be_um = 12.5;
	d->det_dead_layer_um = 0.1;
	d->det_area_mm2 = 25;
	d->det_distance_mm = 20;
	d->noise_kev = 0.08;
	d->fano = 0.114;
	d->path = MG_INSTR_AIR;
	d->path_mm = 20;
	d->tube_path_mm = 10;
}

static const char *path_name(mg_instr_path p)
{
	return p == MG_INSTR_VACUUM ? "vacuum" : p == MG_INSTR_HELIUM ? "helium" : "air";
}

static int parse_path(const char *s, size_t n, mg_instr_path *p)
{
	if (mg_equals_ci(s, n, "vacuum"))
		*p = MG_INSTR_VACUUM;
	else if (mg_equals_ci(s, n, "air"))
		*p = MG_INSTR_AIR;
	else if (mg_equals_ci(s, n, "helium") || mg_equals_ci(s, n, "he"))
		*p = MG_INSTR_HELIUM;
	else
		return -1;
	return 0;
}

/* "none", "" → no filter; "Al:100" (µm) */
static int parse_filter(const char *s, size_t n, char sym[4], double *um)
{
	if (n == 0 || mg_equals_ci(s, n, "none")) {
		sym[0] = 0;
		*um = 0;
		return 0;
	}
	const char *c = memchr(s, ':', n);
	if (!c)
		return -1;
	const char *e = s, *t = c + 1;
	size_t en = (size_t)(c - s), tn = n - en - 1;
	mg_trim(&e, &en);
	int z = mg_element_z(e, en);
	double v;
	if (z < 3 || z > 92 || mg_parse_double(t, tn, &v) < 0 || !(v > 0 && v <= 1e5))
		return -1;
	snprintf(sym, 4, "%s", mg_element_symbol(z));
	*um = v;
	return 0;
}

static int parse_material(const char *s, size_t n, char *out, size_t size)
{
	int m = mg_xrf_sensor_parse(s, n);
	if (m < 0)
		return -1;
	snprintf(out, size, "%s", mg_xrf_sensor_name((enum mg_xrf_sensor)m));
	return 0;
}

typedef struct pstate {
	mg_instrument_desc d;
	const char *name;
	int section;           /* index in sections, -1 none */
	long seen_line[MG_INSTR_NFIELDS];
	long section_line[MG_ARRAY_SIZE(sections)];
} pstate;

static int on_item(const mg_ini_item *it, void *ud)
{
	pstate *p = ud;
	char show[48];
	if (!it->key) {
		p->section = -1;
		for (size_t i = 0; i < MG_ARRAY_SIZE(sections); i++)
			if (mg_ini_section_is(it, sections[i]))
				p->section = (int)i;
		mg_ini_show(it->section, it->section_len, show, sizeof show);
		if (p->section < 0)
			return mg_ini_fail(it, "unknown section [%s] (instrument, tube, geometry, detector, atmosphere)",
			                   show);
		if (p->section_line[p->section])
			return mg_ini_fail(it, "section [%s] given twice (first at line %ld)", show,
			                   p->section_line[p->section]);
		p->section_line[p->section] = it->line;
		return 0;
	}
	const field *f = NULL;
	for (size_t i = 0; i < MG_ARRAY_SIZE(fields); i++)
		if (strcmp(fields[i].section, sections[p->section]) == 0 && mg_ini_key_is(it, fields[i].key))
			f = &fields[i];
	mg_ini_show(it->key, it->key_len, show, sizeof show);
	if (!f)
		return mg_ini_fail(it, "unknown key '%s' in [%s]", show, sections[p->section]);
	if (p->seen_line[f->id])
		return mg_ini_fail(it, "'%s' given twice (first at line %ld)", show, p->seen_line[f->id]);
	p->seen_line[f->id] = it->line;
	char *base = (char *)&p->d;
	char val[48];
	mg_ini_show(it->value, it->value_len, val, sizeof val);
	switch (f->type) {
	case F_TEXT:
		if (it->value_len == 0 || it->value_len >= f->size)
			return mg_ini_fail(it, "%s wants 1..%zu characters", f->key, f->size - 1);
		for (size_t i = 0; i < it->value_len; i++) {
			unsigned char ch = (unsigned char)it->value[i];
			if (ch < 0x20 || ch > 0x7e || ch == '#' || ch == ';')
				return mg_ini_fail(it, "%s: byte %zu is not printable ASCII (or is '#'/';')", f->key,
				                   i + 1);
		}
		memcpy(base + f->off, it->value, it->value_len + 1);
		break;
	case F_ELEMENT: {
		int z = mg_element_z(it->value, it->value_len);
		if (z < 4 || z > 92)
			return mg_ini_fail(it, "%s: '%s' is not an element symbol", f->key, val);
		snprintf(base + f->off, f->size, "%s", mg_element_symbol(z));
		break;
	}
	case F_NUM: {
		double v;
		if (mg_parse_double(it->value, it->value_len, &v) < 0)
			return mg_ini_fail(it, "%s: '%s' is not a number", f->key, val);
		if (!((f->lo_open ? v > f->lo : v >= f->lo) && v <= f->hi))
			return mg_ini_fail(it, "%s = %g outside %s%g, %g]", f->key, v, f->lo_open ? "(" : "[", f->lo,
			                   f->hi);
		memcpy(base + f->off, &v, sizeof v);
		break;
	}
	case F_FILTER:
		if (parse_filter(it->value, it->value_len, p->d.filter, &p->d.filter_um) < 0)
			return mg_ini_fail(it, "filter: '%s' is not 'none' or ELEMENT:THICKNESS_UM (Al:100)", val);
		break;
	case F_MATERIAL:
		if (parse_material(it->value, it->value_len, p->d.det_material, sizeof p->d.det_material) < 0)
			return mg_ini_fail(it, "material: '%s' is not Si, CdTe or Ge", val);
		break;
	case F_PATH:
		if (parse_path(it->value, it->value_len, &p->d.path) < 0)
			return mg_ini_fail(it, "path: '%s' is not vacuum, air or helium", val);
		break;
	}
	p->d.set |= 1ul << f->id;
	return 0;
}

int mg_instrument_desc_parse(const char *text, size_t len, const char *name, mg_instrument_desc *out)
{
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "instrument: NULL argument");
	pstate *p = calloc(1, sizeof *p);
	if (!p)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	mg_instrument_desc_default(&p->d);
	p->name = name ? name : "(instrument)";
	p->section = -1;
	int rc = mg_ini_parse(text, len, p->name, DOM, on_item, p);
	if (rc == 0 && !p->section_line[1] && !p->section_line[2] && !p->section_line[3] &&
	    !p->section_line[4] && !p->section_line[0])
		rc = mg_fail(MG_ERR_FORMAT, DOM, "%s: no section: not an instrument file", p->name);
	if (rc == 0) {
		rc = mg_instrument_desc_check(&p->d);
		if (rc < 0)
			rc = mg_fail(MG_ERR_FORMAT, DOM, "%s: %s", p->name, mg_error_detail());
	}
	if (rc == 0)
		*out = p->d;
	free(p);
	return rc;
}

int mg_instrument_desc_read_file(const char *path, mg_instrument_desc *out)
{
	if (!path || !out)
		return mg_fail(MG_ERR_ARG, DOM, "instrument: NULL argument");
	unsigned char *data = NULL;
	size_t len = 0;
	int rc = mg_file_read_all(path, 1u << 20, &data, &len);
	if (rc < 0)
		return rc;
	rc = mg_instrument_desc_parse((const char *)data, len, path, out);
	free(data);
	return rc;
}

int mg_instrument_desc_check(const mg_instrument_desc *d)
{
	if (!d)
		return mg_fail(MG_ERR_ARG, DOM, "instrument: NULL");
	int za = mg_element_z(d->anode, strnlen(d->anode, sizeof d->anode));
	if (za < 4 || za > 92)
		return mg_fail(MG_ERR_ARG, DOM, "tube anode '%.4s' is not an element", d->anode);
	if (!(d->kv > 2 && d->kv <= 100))
		return mg_fail(MG_ERR_ARG, DOM, "tube voltage %g kV outside (2, 100]", d->kv);
	if (!(d->incidence_deg > 0 && d->incidence_deg <= 90) || !(d->takeoff_deg > 0 && d->takeoff_deg <= 90))
		return mg_fail(MG_ERR_ARG, DOM, "geometry: angles %g/%g deg outside (0, 90]", d->incidence_deg,
		               d->takeoff_deg);
	if (!(d->electron_angle_deg > 0 && d->electron_angle_deg <= 90) ||
	    !(d->anode_takeoff_deg > 0 && d->anode_takeoff_deg <= 90))
		return mg_fail(MG_ERR_ARG, DOM, "tube: anode angles %g/%g deg outside (0, 90]",
		               d->electron_angle_deg, d->anode_takeoff_deg);
	if (!(d->window_be_um >= 0) || !(d->det_be_um >= 0) || !(d->det_dead_layer_um >= 0) ||
	    !(d->det_thickness_mm > 0) || !(d->path_mm >= 0) || !(d->tube_path_mm >= 0) ||
	    !(d->filter_um >= 0) || !(d->det_area_mm2 > 0) || !(d->det_distance_mm > 0) || !(d->beam_sr > 0))
		return mg_fail(MG_ERR_ARG, DOM, "negative or zero thickness, path, area or distance");
	if (d->filter[0]) {
		int zf = mg_element_z(d->filter, strnlen(d->filter, sizeof d->filter));
		if (zf < 3 || !(d->filter_um > 0))
			return mg_fail(MG_ERR_ARG, DOM, "filter '%.4s:%g' is not ELEMENT:THICKNESS_UM", d->filter,
			               d->filter_um);
	}
	char m[8];
	if (parse_material(d->det_material, strnlen(d->det_material, sizeof d->det_material), m, sizeof m) < 0)
		return mg_fail(MG_ERR_ARG, DOM, "detector material '%.8s' is not Si, CdTe or Ge", d->det_material);
	if (!(d->noise_kev > 0 && d->noise_kev < 2) || !(d->fano > 0 && d->fano < 1))
		return mg_fail(MG_ERR_ARG, DOM, "detector noise %g keV / Fano %g out of range", d->noise_kev, d->fano);
	return 0;
}

/* ---------------------------------------------------------------- formatting */

/* The shortest of %.15g / %.17g that reads back as the same double. */
static int fmt_num(char *buf, size_t size, double v)
{
	char t[40];
	snprintf(t, sizeof t, "%.15g", v);
	if (strtod(t, NULL) != v)
		snprintf(t, sizeof t, "%.17g", v);
	return snprintf(buf, size, "%s", t);
}

static int fmt_value(const mg_instrument_desc *d, const field *f, char *buf, size_t size)
{
	const char *base = (const char *)d;
	switch (f->type) {
	case F_TEXT:
	case F_ELEMENT:
	case F_MATERIAL:
		return snprintf(buf, size, "%s", base + f->off);
	case F_NUM: {
		double v;
		memcpy(&v, base + f->off, sizeof v);
		return fmt_num(buf, size, v);
	}
	case F_FILTER:
		if (!d->filter[0])
			return snprintf(buf, size, "none");
		{
			char t[40];
			fmt_num(t, sizeof t, d->filter_um);
			return snprintf(buf, size, "%s:%s", d->filter, t);
		}
	case F_PATH:
		return snprintf(buf, size, "%s", path_name(d->path));
	}
	return 0;
}

int mg_instrument_desc_format(const mg_instrument_desc *d, char *buf, size_t size)
{
	size_t pos = 0;
	char val[64];
#define PUT(...)                                                                  \
	do {                                                                      \
		int w_ = snprintf(pos < size ? buf + pos : NULL, pos < size ? size - pos : 0, __VA_ARGS__); \
		if (w_ > 0)                                                       \
			pos += (size_t)w_;                                        \
	} while (0)
	for (size_t s = 0; s < MG_ARRAY_SIZE(sections); s++) {
		PUT("%s[%s]\n", s ? "\n" : "", sections[s]);
		for (size_t i = 0; i < MG_ARRAY_SIZE(fields); i++) {
			if (strcmp(fields[i].section, sections[s]) != 0)
				continue;
			fmt_value(d, &fields[i], val, sizeof val);
			PUT("%s = %s\n", fields[i].key, val);
		}
	}
#undef PUT
	if (size && pos >= size)
		buf[size - 1] = 0;
	return (int)pos;
}

/* ---------------------------------------------------------------- spectra */

typedef struct merger {
	mg_instrument_desc *d;
	mg_instrument_conflict *out;
	size_t max, n;
} merger;

static void conflict(merger *m, mg_instr_field f, const char *spec_value)
{
	const field *fd = field_by_id(f);
	if (m->n < m->max && fd) {
		mg_instrument_conflict *c = &m->out[m->n];
		memset(c, 0, sizeof *c);
		c->field = f;
		snprintf(c->key, sizeof c->key, "%s", mg_instr_field_key(f));
		fmt_value(m->d, fd, c->file_value, sizeof c->file_value);
		snprintf(c->spectrum_value, sizeof c->spectrum_value, "%s", spec_value);
	}
	m->n++;
}

static void take_num(merger *m, mg_instr_field f, double v)
{
	const field *fd = field_by_id(f);
	if (!fd || !isfinite(v) || !((fd->lo_open ? v > fd->lo : v >= fd->lo) && v <= fd->hi))
		return;
	double *dst = (double *)((char *)m->d + fd->off);
	if ((m->d->set & (1ul << f)) && fabs(*dst - v) > 0.005 * fmax(fabs(*dst), fabs(v)) + 1e-12) {
		char sv[48];
		snprintf(sv, sizeof sv, "%.10g", v);
		conflict(m, f, sv);
	}
	*dst = v;
	m->d->from_spectrum |= 1ul << f;
}

static void take_anode(merger *m, const char *s)
{
	int z = mg_element_z(s, strlen(s));
	if (z < 4 || z > 92)
		return;
	if ((m->d->set & (1ul << MG_INSTR_ANODE)) && strcmp(m->d->anode, mg_element_symbol(z)) != 0)
		conflict(m, MG_INSTR_ANODE, mg_element_symbol(z));
	snprintf(m->d->anode, sizeof m->d->anode, "%s", mg_element_symbol(z));
	m->d->from_spectrum |= 1ul << MG_INSTR_ANODE;
}

static void take_filter(merger *m, const char *s)
{
	char sym[4];
	double um;
	if (parse_filter(s, strlen(s), sym, &um) < 0)
		return;
	if ((m->d->set & (1ul << MG_INSTR_FILTER)) &&
	    (strcmp(sym, m->d->filter) != 0 || fabs(um - m->d->filter_um) > 0.005 * fmax(um, m->d->filter_um))) {
		char sv[48];
		if (sym[0])
			snprintf(sv, sizeof sv, "%s:%g", sym, um);
		else
			snprintf(sv, sizeof sv, "none");
		conflict(m, MG_INSTR_FILTER, sv);
	}
	memcpy(m->d->filter, sym, sizeof sym);
	m->d->filter_um = um;
	m->d->from_spectrum |= 1ul << MG_INSTR_FILTER;
}

static void take_path(merger *m, const char *s)
{
	mg_instr_path p;
	if (parse_path(s, strlen(s), &p) < 0)
		return;
	if ((m->d->set & (1ul << MG_INSTR_PATH)) && p != m->d->path)
		conflict(m, MG_INSTR_PATH, path_name(p));
	m->d->path = p;
	m->d->from_spectrum |= 1ul << MG_INSTR_PATH;
}

static int meta_num(const mg_spectrum *s, const char *key, double *v)
{
	const char *t = mg_kvlist_get(&s->meta, key);
	return t && mg_parse_double(t, strlen(t), v) == 0;
}

/* "SDD 25 mm2, 500 um Si, 12.5 um Be": thickness, area and Be window from the text. */
static void take_detector_text(merger *m, const char *t)
{
	const char *p = t;
	while (*p) {
		if (!(isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1])))) {
			p++;
			continue;
		}
		char *end;
		double v = strtod(p, &end);
		if (end == p) {
			p++;
			continue;
		}
		const char *u = end;
		while (*u == ' ')
			u++;
		const char *after = u;
		while (isalnum((unsigned char)*after) || *after == '^')
			after++;
		size_t un = (size_t)(after - u);
		const char *w = after;
		while (*w == ' ')
			w++;
		int be = strncmp(w, "Be", 2) == 0 && !isalpha((unsigned char)w[2]);
		if ((un == 3 && strncmp(u, "mm2", 3) == 0) || (un == 4 && strncmp(u, "mm^2", 4) == 0))
			take_num(m, MG_INSTR_DET_AREA, v);
		else if (un == 2 && (strncmp(u, "um", 2) == 0 || strncmp(u, "\xc2\xb5m", 2) == 0) && be)
			take_num(m, MG_INSTR_DET_BE, v);
		else if (un == 2 && strncmp(u, "um", 2) == 0)
			take_num(m, MG_INSTR_DET_THICKNESS, v / 1000);
		else if (un == 2 && strncmp(u, "mm", 2) == 0 && !be)
			take_num(m, MG_INSTR_DET_THICKNESS, v);
		p = after > end ? after : end;
	}
}

int mg_instrument_desc_apply_spectrum(mg_instrument_desc *d, const mg_spectrum *s,
                                      mg_instrument_conflict *out, size_t max)
{
	if (!d || !s)
		return mg_fail(MG_ERR_ARG, DOM, "instrument: NULL argument");
	merger m = {.d = d, .out = out, .max = out ? max : 0};
	const mg_acq_settings *a = &s->acq;
	if (a->anode)
		take_anode(&m, a->anode);
	take_num(&m, MG_INSTR_KV, a->tube_kv);
	take_num(&m, MG_INSTR_UA, a->tube_ua);
	if (a->filter)
		take_filter(&m, a->filter);
	take_num(&m, MG_INSTR_INCIDENCE, a->incidence_deg);
	take_num(&m, MG_INSTR_TAKEOFF, a->takeoff_deg);
	if (a->atmosphere)
		take_path(&m, a->atmosphere);
	if (s->instrument.detector)
		take_detector_text(&m, s->instrument.detector);
	double v;
	/* EMSA/MSA (ISO 22029): thicknesses in cm */
	if (meta_num(s, "msa.#TACTLYR -cm", &v))
		take_num(&m, MG_INSTR_DET_THICKNESS, v * 10);
	if (meta_num(s, "msa.#TDEADLYR -cm", &v))
		take_num(&m, MG_INSTR_DET_DEAD, v * 1e4);
	if (meta_num(s, "msa.#TBEWIND -cm", &v))
		take_num(&m, MG_INSTR_DET_BE, v * 1e4);
	/* Bruker .spx: mm and µm */
	if (meta_num(s, "spx.TRTDetectorHeader.DetectorThickness", &v))
		take_num(&m, MG_INSTR_DET_THICKNESS, v);
	if (meta_num(s, "spx.TRTDetectorHeader.SiDeadLayerThickness", &v))
		take_num(&m, MG_INSTR_DET_DEAD, v);
	return (int)m.n;
}

/* ---------------------------------------------------------------- physics */

void mg_instrument_desc_tube(const mg_instrument_desc *d, mg_xrf_tube *t)
{
	memset(t, 0, sizeof *t);
	snprintf(t->anode, sizeof t->anode, "%s", d->anode);
	t->kv = d->kv;
	t->current_ua = d->ua;
	t->be_window_um = d->window_be_um;
	if (d->filter[0] && d->filter_um > 0) {
		snprintf(t->filter, sizeof t->filter, "%s", d->filter);
		t->filter_um = d->filter_um;
	}
	t->electron_angle_deg = d->electron_angle_deg;
	t->takeoff_angle_deg = d->anode_takeoff_deg;
}

void mg_instrument_desc_geometry(const mg_instrument_desc *d, mg_xrf_geometry *g)
{
	memset(g, 0, sizeof *g);
	g->incidence_deg = d->incidence_deg;
	g->takeoff_deg = d->takeoff_deg;
	g->beam_sr = d->beam_sr;
	g->det_area_mm2 = d->det_area_mm2;
	g->det_distance_mm = d->det_distance_mm;
	g->atmosphere = d->path == MG_INSTR_AIR ? MG_XRF_AIR : d->path == MG_INSTR_HELIUM ? MG_XRF_HELIUM
	                                                                                  : MG_XRF_VACUUM;
	g->tube_path_mm = d->tube_path_mm;
	g->det_path_mm = d->path_mm;
}

enum mg_xrf_sensor mg_instrument_desc_sensor(const mg_instrument_desc *d)
{
	int s = mg_xrf_sensor_parse(d->det_material, strnlen(d->det_material, sizeof d->det_material));
	return s < 0 ? MG_XRF_SENSOR_SI : (enum mg_xrf_sensor)s;
}
