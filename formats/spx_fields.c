/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The named fields of a Bruker .spx spectrum (formats/spx.h): times, detector,
 * tube and geometry, the SEM header, channel count, calibration, date and the
 * counts. Every element used here is marked, so spx_meta.c skips it. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "formats.h"
#include "internal.h"
#include "spx.h"
#include "text.h"

#define DOM "spx"

static const char *const element_symbols[] = {
	"",   "H",  "He", "Li", "Be", "B",  "C",  "N",  "O",  "F",  "Ne", "Na", "Mg", "Al", "Si",
	"P",  "S",  "Cl", "Ar", "K",  "Ca", "Sc", "Ti", "V",  "Cr", "Mn", "Fe", "Co", "Ni", "Cu",
	"Zn", "Ga", "Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "Y",  "Zr", "Nb", "Mo", "Tc", "Ru",
	"Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I",  "Xe", "Cs", "Ba", "La", "Ce", "Pr",
	"Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W",
	"Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac",
	"Th", "Pa", "U",
};

/* ---- named fields ---------------------------------------------------------- */

static int parse_date_time(const char *date, const char *time_s, const xmlNode *dn, const xmlNode *tn,
                           char *out, size_t size)
{
	int d, m, y, hh = 0, mi = 0, ss = 0, k = 0;
	if (sscanf(date, "%2d.%2d.%4d%n", &d, &m, &y, &k) == 3 && (size_t)k == strlen(date)) {
		/* Esprit writes day.month.year */
	} else if (sscanf(date, "%4d-%2d-%2d%n", &y, &m, &d, &k) == 3 && (size_t)k == strlen(date)) {
		/* ISO */
	} else {
		return mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(dn),
		                    "<Date> in TRTSpectrumHeader: '%.40s' is not d.m.yyyy", date);
	}
	if (d < 1 || d > 31 || m < 1 || m > 12 || y < 1900 || y > 9999)
		return mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(dn),
		                    "<Date> in TRTSpectrumHeader: '%.40s' is not a valid date", date);
	if (!time_s) {
		snprintf(out, size, "%04d-%02d-%02d", y, m, d);
		return MG_OK;
	}
	k = 0;
	if (sscanf(time_s, "%2d:%2d:%2d%n", &hh, &mi, &ss, &k) != 3 || (size_t)k != strlen(time_s) ||
	    hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 60)
		return mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(tn),
		                    "<Time> in TRTSpectrumHeader: '%.40s' is not h:m:s", time_s);
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d", y, m, d, hh, mi, ss);
	return MG_OK;
}

int spx_map_hardware(spx_reader *r, const xmlNode *hw)
{
	const char *where = "TRTSpectrumHardwareHeader";
	double v;
	int present, rc;
	if ((rc = spx_num_child(r, hw, "RealTime", where, 0, &v, &present)) != MG_OK)
		return rc;
	if (present) {
		if (v < 0)
			return mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(r->last), "<RealTime> in %s: negative (%g ms)",
			                    where, v);
		r->s->real_time_s = v / 1000.0;
	}
	if ((rc = spx_num_child(r, hw, "LifeTime", where, 0, &v, &present)) != MG_OK)
		return rc;
	if (present) {
		if (v < 0)
			return mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(r->last), "<LifeTime> in %s: negative (%g ms)",
			                    where, v);
		r->s->live_time_s = v / 1000.0;
	}
	return MG_OK;
}

/* Type/Serial -> model/serial; these and Technology and the thicknesses also make
 * the detector string. All stay in meta as well (the string is derived). */
int spx_map_detector(spx_reader *r, const xmlNode *det)
{
	const char *where = "TRTDetectorHeader";
	char *type = NULL, *serial = NULL, *tech = NULL, *thick = NULL, *dead = NULL;
	const xmlNode *thick_n, *dead_n;
	int rc;
	if ((rc = spx_str_child(det, "Type", where, &type, NULL)) != MG_OK ||
	    (rc = spx_str_child(det, "Serial", where, &serial, NULL)) != MG_OK ||
	    (rc = spx_str_child(det, "Technology", where, &tech, NULL)) != MG_OK ||
	    (rc = spx_str_child(det, "DetectorThickness", where, &thick, &thick_n)) != MG_OK ||
	    (rc = spx_str_child(det, "SiDeadLayerThickness", where, &dead, &dead_n)) != MG_OK)
		goto out;
	double v;
	if (thick && mg_parse_double(thick, strlen(thick), &v) != MG_OK) {
		rc = mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(thick_n),
		                  "<DetectorThickness> in %s: '%.40s' is not a number", where, thick);
		goto out;
	}
	if (dead && mg_parse_double(dead, strlen(dead), &v) != MG_OK) {
		rc = mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(dead_n),
		                  "<SiDeadLayerThickness> in %s: '%.40s' is not a number", where, dead);
		goto out;
	}
	if ((type && (rc = mg_str_set(&r->s->instrument.model, type)) != MG_OK) ||
	    (serial && (rc = mg_str_set(&r->s->instrument.serial, serial)) != MG_OK))
		goto out;
	if (type || tech || thick || dead) {
		mg_buf b;
		mg_buf_init(&b);
		const char *sep = "";
		if (type) {
			mg_buf_puts(&b, type);
			sep = " ";
		}
		if (tech) {
			mg_buf_printf(&b, "%s%s", sep, tech);
			sep = ", ";
		}
		if (type && !tech)
			sep = ", ";
		if (thick) {
			mg_buf_printf(&b, "%sSi %s mm", sep, thick);
			sep = ", ";
		}
		if (dead)
			mg_buf_printf(&b, "%sdead layer %s um", sep, dead);
		rc = mg_buf_status(&b);
		if (rc == MG_OK)
			rc = mg_str_set(&r->s->instrument.detector, b.data);
		mg_buf_free(&b);
		if (rc != MG_OK)
			rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
out:
	free(type);
	free(serial);
	free(tech);
	free(thick);
	free(dead);
	return rc;
}

/* Bruker XRF header: tube kV/uA, anode Z, geometry, filter, atmosphere. */
int spx_map_xrf(spx_reader *r, const xmlNode *xrf)
{
	const char *where = "TRTXrfHeader";
	mg_acq_settings *a = &r->s->acq;
	double v;
	int present, rc;
	if ((rc = spx_num_child(r, xrf, "Voltage", where, 0, &v, &present)) != MG_OK)
		return rc;
	if (present)
		a->tube_kv = v;
	/* Bruker's XRF header gives the tube current in microamperes. */
	if ((rc = spx_num_child(r, xrf, "Current", where, 0, &v, &present)) != MG_OK)
		return rc;
	if (present)
		a->tube_ua = v;
	if ((rc = spx_num_child(r, xrf, "ExcitationAngle", where, 0, &v, &present)) != MG_OK)
		return rc;
	if (present)
		a->incidence_deg = v;
	if ((rc = spx_num_child(r, xrf, "DetectionAngle", where, 0, &v, &present)) != MG_OK)
		return rc;
	if (present)
		a->takeoff_deg = v;
	if ((rc = spx_num_child(r, xrf, "Anode", where, 0, &v, &present)) != MG_OK)
		return rc;
	if (present) {
		if (v != floor(v) || v < 1 || v >= (double)MG_ARRAY_SIZE(element_symbols))
			return mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(r->last),
			                    "<Anode> in %s: %g is not an atomic number 1..%zu", where, v,
			                    MG_ARRAY_SIZE(element_symbols) - 1);
		if ((rc = mg_str_set(&a->anode, element_symbols[(int)v])) != MG_OK)
			return rc;
	}

	/* Derived fields: the source elements stay in meta. */
	char *atmo = NULL, *press = NULL;
	const xmlNode *press_n;
	if ((rc = spx_str_child(xrf, "Atmosphere", where, &atmo, NULL)) != MG_OK)
		return rc;
	if ((rc = spx_str_child(xrf, "ChamberPressure", where, &press, &press_n)) != MG_OK) {
		free(atmo);
		return rc;
	}
	double p = NAN;
	if (press && mg_parse_double(press, strlen(press), &p) != MG_OK) {
		rc = mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(press_n),
		                  "<ChamberPressure> in %s: '%.40s' is not a number", where, press);
		free(atmo);
		free(press);
		return rc;
	}
	if (atmo) {
		/* An evacuated chamber (<= 100 mbar) is "vacuum" whatever gas it held. */
		if (!isnan(p) && p <= 100.0) {
			rc = mg_str_set(&a->atmosphere, "vacuum");
		} else {
			for (char *c = atmo; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			rc = mg_str_set(&a->atmosphere, atmo);
		}
	}
	free(atmo);
	free(press);
	if (rc != MG_OK)
		return rc;

	const xmlNode *filt;
	if ((rc = spx_unique_child(xrf, "ExcitationFilter", where, &filt)) != MG_OK || !filt)
		return rc;
	char *nl = NULL, *z = NULL, *t = NULL;
	const char *fwhere = "ExcitationFilter";
	if ((rc = spx_str_child(filt, "NofLayer", fwhere, &nl, NULL)) == MG_OK &&
	    (rc = spx_str_child(filt, "AtomicNumber", fwhere, &z, NULL)) == MG_OK &&
	    (rc = spx_str_child(filt, "Thickness", fwhere, &t, NULL)) == MG_OK) {
		long layers = 1, zz;
		double th;
		if ((!nl || mg_parse_long(nl, strlen(nl), 0, 100, &layers) == MG_OK) && layers == 1 && z &&
		    t && mg_parse_long(z, strlen(z), 1, (long)MG_ARRAY_SIZE(element_symbols) - 1, &zz) == MG_OK &&
		    mg_parse_double(t, strlen(t), &th) == MG_OK && th >= 0) {
			char f[64];
			snprintf(f, sizeof(f), "%s:%.6g", element_symbols[zz], th);
			rc = mg_str_set(&a->filter, f);
		} else if (nl && layers == 0) {
			rc = mg_str_set(&a->filter, "none");
		}
	}
	free(nl);
	free(z);
	free(t);
	return rc;
}

/* SEM/EPMA header: only fills what the XRF header left unknown. */
int spx_map_esma(spx_reader *r, const xmlNode *esma)
{
	const char *where = "TRTESMAHeader";
	mg_acq_settings *a = &r->s->acq;
	double v;
	int present, rc;
	if (isnan(a->tube_kv)) {
		if ((rc = spx_num_child(r, esma, "PrimaryEnergy", where, 0, &v, &present)) != MG_OK)
			return rc;
		if (present)
			a->tube_kv = v;
	}
	if (isnan(a->takeoff_deg)) {
		if ((rc = spx_num_child(r, esma, "ElevationAngle", where, 0, &v, &present)) != MG_OK)
			return rc;
		if (present)
			a->takeoff_deg = v;
	}
	return MG_OK;
}

int spx_map_spectrum_header(spx_reader *r, const xmlNode *hdr)
{
	const char *where = "TRTSpectrumHeader";
	double abs_v, lin_v;
	int has_abs, has_lin, rc;
	if ((rc = spx_num_child(r, hdr, "CalibAbs", where, 0, &abs_v, &has_abs)) != MG_OK ||
	    (rc = spx_num_child(r, hdr, "CalibLin", where, 0, &lin_v, &has_lin)) != MG_OK)
		return rc;
	if (has_abs != has_lin)
		return mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(hdr), "%s has <%s> without <%s>", where,
		                    has_abs ? "CalibAbs" : "CalibLin", has_abs ? "CalibLin" : "CalibAbs");
	if (has_abs && lin_v != 0) {
		r->s->cal.valid = 1;
		r->s->cal.offset_kev = abs_v;
		r->s->cal.gain_kev = lin_v;
		r->s->cal.quad_kev = 0;
	} else if (has_abs) {
		/* CalibLin 0: uncalibrated; keep the raw values in meta (un-mark the two
		 * elements spx_num_child() just marked). */
		r->nused -= 2;
	}

	char *date = NULL, *time_s = NULL;
	const xmlNode *dn, *tn;
	if ((rc = spx_str_child(hdr, "Date", where, &date, &dn)) == MG_OK &&
	    (rc = spx_str_child(hdr, "Time", where, &time_s, &tn)) == MG_OK && date) {
		rc = parse_date_time(date, time_s, dn, tn, r->s->start_time, sizeof(r->s->start_time));
		if (rc == MG_OK) {
			spx_mark_used(r, dn);
			if (tn)
				spx_mark_used(r, tn);
		}
	}
	free(date);
	free(time_s);
	return rc;
}

int spx_read_channels(spx_reader *r, const xmlNode *ch, size_t nchan)
{
	char *text;
	int rc = spx_leaf_text(ch, "the spectrum", &text);
	if (rc != MG_OK)
		return rc;
	size_t n = strlen(text), count = 0, start = 0;
	/* Values separated by ',' (one trailing ',' tolerated). */
	if (n && text[n - 1] == ',')
		n--;
	if (n == 0) {
		free(text);
		return mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(ch), "<Channels> is empty (ChannelCount %zu)",
		                    nchan);
	}
	for (size_t i = 0; i <= n; i++) {
		if (i < n && text[i] != ',')
			continue;
		double v;
		if (count == nchan) {
			size_t extra = 1;
			for (size_t k = i; k < n; k++)
				extra += text[k] == ',';
			rc = mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(ch),
			                  "<Channels> holds %zu values but <ChannelCount> says %zu", nchan + extra,
			                  nchan);
			goto out;
		}
		if (mg_parse_double(text + start, i - start, &v) != MG_OK) {
			char ex[64];
			char *val = mg_strndup_view(text + start, i - start);
			rc = mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(ch), "<Channels> value %zu: '%s' is not a number",
			                  count, val ? spx_excerpt(val, ex, sizeof(ex)) : "?");
			free(val);
			goto out;
		}
		if (!mg_check_count(v)) {
			rc = mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(ch), "<Channels> value %zu: negative counts (%g)",
			                  count, v);
			goto out;
		}
		r->s->counts[count++] = v;
		start = i + 1;
	}
	if (count != nchan)
		rc = mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(ch),
		                  "<Channels> holds %zu values but <ChannelCount> says %zu", count, nchan);
out:
	free(text);
	return rc;
}
