/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Bruker Esprit .spx spectra (XML), read through libxml2's tree API.
 *
 *   <TRTSpectrum>
 *     <ClassInstance Type="TRTSpectrum" Name="...">          the spectrum
 *       <TRTHeaderedClass>
 *         <ClassInstance Type="TRTSpectrumHardwareHeader">   RealTime, LifeTime (ms)
 *         <ClassInstance Type="TRTDetectorHeader">           Type, Serial, Technology, ...
 *         <ClassInstance Type="TRTXrfHeader">                Voltage, Current, Anode, ...
 *         <ClassInstance Type="TRTESMAHeader">               PrimaryEnergy, ElevationAngle (SEM)
 *       </TRTHeaderedClass>
 *       <ClassInstance Type="TRTSpectrumHeader">             Date, Time, ChannelCount,
 *                                                            CalibAbs (keV), CalibLin (keV/ch)
 *       <Channels>0,0,5,...</Channels>
 *       ... results, element lists, a fitted background spectrum ...
 *
 * Only the direct children of the spectrum's ClassInstance are the spectrum;
 * the spectra nested deeper (Esprit's fitted "Background") are results.
 *
 * Every element value the reader does not turn into a named field is kept in
 * meta as "spx.<path>", the path being the element names below the spectrum,
 * joined by '.', where a ClassInstance is named by its Type and the wrappers
 * TRTHeaderedClass and ChildClassInstances are left out; attributes become
 * "spx.<path>@<attr>". Examples: "spx.TRTDetectorHeader.DetLayers",
 * "spx.TRTDetectorHeader.WindowLayers.Layer0@Atom". Repeated elements give
 * repeated keys in document order. Values longer than SPX_MAX_META_VALUE bytes
 * (in practice only the nested Background spectrum's <Channels>) are replaced by
 * "(not kept: N bytes)"; empty elements without attributes are skipped.
 *
 * Safety: no network, no DTD loading, no entity substitution, a DOCTYPE is
 * rejected outright, libxml2's default size and depth limits (no XML_PARSE_HUGE),
 * and parser messages are captured into the error detail, never printed. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "formats.h"
#include "internal.h"
#include "text.h"

#define DOM "spx"
#define SPX_MAX_META_VALUE 4096
#define SPX_MAX_PATH 1024
#define SPX_MAX_USED 64

static const char *const element_symbols[] = {
	"",   "H",  "He", "Li", "Be", "B",  "C",  "N",  "O",  "F",  "Ne", "Na", "Mg", "Al", "Si",
	"P",  "S",  "Cl", "Ar", "K",  "Ca", "Sc", "Ti", "V",  "Cr", "Mn", "Fe", "Co", "Ni", "Cu",
	"Zn", "Ga", "Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "Y",  "Zr", "Nb", "Mo", "Tc", "Ru",
	"Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I",  "Xe", "Cs", "Ba", "La", "Ce", "Pr",
	"Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W",
	"Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac",
	"Th", "Pa", "U",
};

typedef struct spx_reader {
	mg_spectrum *s;
	const xmlNode *spec;                 /* the spectrum's ClassInstance */
	const xmlNode *used[SPX_MAX_USED];   /* elements turned into named fields */
	size_t nused;
	const xmlNode *last;                 /* the element num_child() read last */
	char path[SPX_MAX_PATH];
	int xml_error_set;
	char xml_error[256];
	long xml_error_line;
} spx_reader;

/* ---- libxml2 glue ------------------------------------------------------ */

#if LIBXML_VERSION >= 21200
#define MG_XML_ERROR_CONST const
#else
#define MG_XML_ERROR_CONST
#endif

/* Structured error handler: keep the first error, print nothing. */
static void on_xml_error(void *user, MG_XML_ERROR_CONST xmlError *e)
{
	xmlParserCtxtPtr ctxt = user;
	spx_reader *r = ctxt ? ctxt->_private : NULL;
	if (!r || !e || r->xml_error_set || e->level < XML_ERR_ERROR)
		return;
	r->xml_error_set = 1;
	r->xml_error_line = e->line;
	snprintf(r->xml_error, sizeof(r->xml_error), "%s", e->message ? e->message : "XML error");
	size_t n = strlen(r->xml_error);
	while (n && isspace((unsigned char)r->xml_error[n - 1]))
		r->xml_error[--n] = '\0';
}

static int is_elem(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST name) == 0;
}

static const char *name_of(const xmlNode *n)
{
	return (const char *)n->name;
}

/* Attribute value as a new string (xmlFree) or NULL. */
static xmlChar *attr(const xmlNode *n, const char *name)
{
	return xmlGetNoNsProp(n, BAD_CAST name);
}

static int attr_equals(const xmlNode *n, const char *name, const char *value)
{
	xmlChar *v = attr(n, name);
	int eq = v && xmlStrcmp(v, BAD_CAST value) == 0;
	xmlFree(v);
	return eq;
}

static int is_class(const xmlNode *n, const char *type)
{
	return is_elem(n, "ClassInstance") && attr_equals(n, "Type", type);
}

static int has_element_children(const xmlNode *n)
{
	for (const xmlNode *c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return 1;
	return 0;
}

static long line_of(const xmlNode *n)
{
	return xmlGetLineNo((xmlNodePtr)n);
}

static void mark_used(spx_reader *r, const xmlNode *n)
{
	if (r->nused < SPX_MAX_USED)
		r->used[r->nused++] = n;
}

static int is_used(const spx_reader *r, const xmlNode *n)
{
	for (size_t i = 0; i < r->nused; i++)
		if (r->used[i] == n)
			return 1;
	return 0;
}

/* The only direct child element `name` of parent (NULL if none); two is an error. */
static int unique_child(const xmlNode *parent, const char *name, const char *where, const xmlNode **out)
{
	*out = NULL;
	if (!parent)
		return MG_OK;
	for (const xmlNode *c = parent->children; c; c = c->next) {
		if (!is_elem(c, name))
			continue;
		if (*out)
			return mg_fail_line(MG_ERR_FORMAT, DOM, line_of(c), "a second <%s> in %s", name, where);
		*out = c;
	}
	return MG_OK;
}

/* The only direct child ClassInstance of this Type (NULL if none). */
static int unique_class(const xmlNode *parent, const char *type, const xmlNode **out)
{
	*out = NULL;
	if (!parent)
		return MG_OK;
	for (const xmlNode *c = parent->children; c; c = c->next) {
		if (!is_class(c, type))
			continue;
		if (*out)
			return mg_fail_line(MG_ERR_FORMAT, DOM, line_of(c),
			                    "a second <ClassInstance Type=\"%s\"> in <%s>", type, name_of(parent));
		*out = c;
	}
	return MG_OK;
}

/* Text of a leaf element, trimmed, as a new string (free()). */
static int leaf_text(const xmlNode *n, const char *where, char **out)
{
	*out = NULL;
	if (has_element_children(n))
		return mg_fail_line(MG_ERR_FORMAT, DOM, line_of(n),
		                    "<%s> in %s holds child elements where a value was expected", name_of(n),
		                    where);
	xmlChar *content = xmlNodeGetContent((xmlNodePtr)n);
	const char *t = content ? (const char *)content : "";
	size_t len = strlen(t);
	mg_trim(&t, &len);
	*out = mg_strndup_view(t, len);
	xmlFree(content);
	return *out ? MG_OK : mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
}

/* Short quoted excerpt of a bad value for messages. */
static const char *excerpt(const char *v, char *buf, size_t size)
{
	size_t n = strlen(v);
	if (n + 1 <= size && n <= 40)
		snprintf(buf, size, "%s", v);
	else
		snprintf(buf, size, "%.40s...", v);
	return buf;
}

/* Numeric leaf `name` under parent: *present = 0 when absent. Marks it used. */
static int num_child(spx_reader *r, const xmlNode *parent, const char *name, const char *where,
                     int required, double *v, int *present)
{
	const xmlNode *n;
	int rc = unique_child(parent, name, where, &n);
	*present = 0;
	if (rc != MG_OK)
		return rc;
	if (!n) {
		if (required)
			return mg_fail_line(MG_ERR_FORMAT, DOM, parent ? line_of(parent) : 0, "no <%s> in %s", name,
			                    where);
		return MG_OK;
	}
	char *text;
	if ((rc = leaf_text(n, where, &text)) != MG_OK)
		return rc;
	if (mg_parse_double(text, strlen(text), v) != MG_OK) {
		char ex[64];
		rc = mg_fail_line(MG_ERR_FORMAT, DOM, line_of(n), "<%s> in %s: '%s' is not a number", name, where,
		                  excerpt(text, ex, sizeof(ex)));
		free(text);
		return rc;
	}
	free(text);
	mark_used(r, n);
	r->last = n;
	*present = 1;
	return MG_OK;
}

/* String leaf (NULL when absent or empty). Not marked used. */
static int str_child(const xmlNode *parent, const char *name, const char *where, char **out,
                     const xmlNode **node)
{
	const xmlNode *n;
	int rc = unique_child(parent, name, where, &n);
	*out = NULL;
	if (node)
		*node = n;
	if (rc != MG_OK || !n)
		return rc;
	if ((rc = leaf_text(n, where, out)) != MG_OK)
		return rc;
	if (!**out) {
		free(*out);
		*out = NULL;
	}
	return MG_OK;
}

/* ---- probe --------------------------------------------------------------- */

static int probe(const unsigned char *data, size_t len)
{
	size_t n = len < 4096 ? len : 4096, i = 0;
	if (n >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF)
		i = 3; /* UTF-8 byte order mark */
	while (i < n && isspace(data[i]))
		i++;
	if (i >= n || data[i] != '<')
		return 0;
	/* Skip the declaration, comments and processing instructions up to the root tag. */
	while (i < n) {
		if (data[i] != '<')
			return 0;
		if (i + 1 < n && (data[i + 1] == '?' || data[i + 1] == '!')) {
			const char *close = data[i + 1] == '!' && i + 3 < n && data[i + 2] == '-' &&
			                            data[i + 3] == '-'
			                        ? "-->"
			                        : (data[i + 1] == '?' ? "?>" : ">");
			const unsigned char *e = memmem(data + i + 2, n - i - 2, close, strlen(close));
			if (!e)
				return 0;
			i = (size_t)(e - data) + strlen(close);
			while (i < n && isspace(data[i]))
				i++;
			continue;
		}
		static const char root[] = "<TRTSpectrum";
		size_t k = sizeof(root) - 1;
		if (n - i > k && memcmp(data + i, root, k) == 0 &&
		    (data[i + k] == '>' || data[i + k] == '/' || isspace(data[i + k])))
			return 100;
		return 0;
	}
	return 0;
}

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
		return mg_fail_line(MG_ERR_FORMAT, DOM, line_of(dn),
		                    "<Date> in TRTSpectrumHeader: '%.40s' is not d.m.yyyy", date);
	}
	if (d < 1 || d > 31 || m < 1 || m > 12 || y < 1900 || y > 9999)
		return mg_fail_line(MG_ERR_FORMAT, DOM, line_of(dn),
		                    "<Date> in TRTSpectrumHeader: '%.40s' is not a valid date", date);
	if (!time_s) {
		snprintf(out, size, "%04d-%02d-%02d", y, m, d);
		return MG_OK;
	}
	k = 0;
	if (sscanf(time_s, "%2d:%2d:%2d%n", &hh, &mi, &ss, &k) != 3 || (size_t)k != strlen(time_s) ||
	    hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 60)
		return mg_fail_line(MG_ERR_FORMAT, DOM, line_of(tn),
		                    "<Time> in TRTSpectrumHeader: '%.40s' is not h:m:s", time_s);
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d", y, m, d, hh, mi, ss);
	return MG_OK;
}

static int map_hardware(spx_reader *r, const xmlNode *hw)
{
	const char *where = "TRTSpectrumHardwareHeader";
	double v;
	int present, rc;
	if ((rc = num_child(r, hw, "RealTime", where, 0, &v, &present)) != MG_OK)
		return rc;
	if (present) {
		if (v < 0)
			return mg_fail_line(MG_ERR_FORMAT, DOM, line_of(r->last), "<RealTime> in %s: negative (%g ms)",
			                    where, v);
		r->s->real_time_s = v / 1000.0;
	}
	if ((rc = num_child(r, hw, "LifeTime", where, 0, &v, &present)) != MG_OK)
		return rc;
	if (present) {
		if (v < 0)
			return mg_fail_line(MG_ERR_FORMAT, DOM, line_of(r->last), "<LifeTime> in %s: negative (%g ms)",
			                    where, v);
		r->s->live_time_s = v / 1000.0;
	}
	return MG_OK;
}

/* Type/Serial -> model/serial; these and Technology and the thicknesses also make
 * the detector string. All stay in meta as well (the string is derived). */
static int map_detector(spx_reader *r, const xmlNode *det)
{
	const char *where = "TRTDetectorHeader";
	char *type = NULL, *serial = NULL, *tech = NULL, *thick = NULL, *dead = NULL;
	const xmlNode *thick_n, *dead_n;
	int rc;
	if ((rc = str_child(det, "Type", where, &type, NULL)) != MG_OK ||
	    (rc = str_child(det, "Serial", where, &serial, NULL)) != MG_OK ||
	    (rc = str_child(det, "Technology", where, &tech, NULL)) != MG_OK ||
	    (rc = str_child(det, "DetectorThickness", where, &thick, &thick_n)) != MG_OK ||
	    (rc = str_child(det, "SiDeadLayerThickness", where, &dead, &dead_n)) != MG_OK)
		goto out;
	double v;
	if (thick && mg_parse_double(thick, strlen(thick), &v) != MG_OK) {
		rc = mg_fail_line(MG_ERR_FORMAT, DOM, line_of(thick_n),
		                  "<DetectorThickness> in %s: '%.40s' is not a number", where, thick);
		goto out;
	}
	if (dead && mg_parse_double(dead, strlen(dead), &v) != MG_OK) {
		rc = mg_fail_line(MG_ERR_FORMAT, DOM, line_of(dead_n),
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
static int map_xrf(spx_reader *r, const xmlNode *xrf)
{
	const char *where = "TRTXrfHeader";
	mg_acq_settings *a = &r->s->acq;
	double v;
	int present, rc;
	if ((rc = num_child(r, xrf, "Voltage", where, 0, &v, &present)) != MG_OK)
		return rc;
	if (present)
		a->tube_kv = v;
	/* Bruker's XRF header gives the tube current in microamperes. */
	if ((rc = num_child(r, xrf, "Current", where, 0, &v, &present)) != MG_OK)
		return rc;
	if (present)
		a->tube_ua = v;
	if ((rc = num_child(r, xrf, "ExcitationAngle", where, 0, &v, &present)) != MG_OK)
		return rc;
	if (present)
		a->incidence_deg = v;
	if ((rc = num_child(r, xrf, "DetectionAngle", where, 0, &v, &present)) != MG_OK)
		return rc;
	if (present)
		a->takeoff_deg = v;
	if ((rc = num_child(r, xrf, "Anode", where, 0, &v, &present)) != MG_OK)
		return rc;
	if (present) {
		if (v != floor(v) || v < 1 || v >= (double)MG_ARRAY_SIZE(element_symbols))
			return mg_fail_line(MG_ERR_FORMAT, DOM, line_of(r->last),
			                    "<Anode> in %s: %g is not an atomic number 1..%zu", where, v,
			                    MG_ARRAY_SIZE(element_symbols) - 1);
		if ((rc = mg_str_set(&a->anode, element_symbols[(int)v])) != MG_OK)
			return rc;
	}

	/* Derived fields: the source elements stay in meta. */
	char *atmo = NULL, *press = NULL;
	const xmlNode *press_n;
	if ((rc = str_child(xrf, "Atmosphere", where, &atmo, NULL)) != MG_OK)
		return rc;
	if ((rc = str_child(xrf, "ChamberPressure", where, &press, &press_n)) != MG_OK) {
		free(atmo);
		return rc;
	}
	double p = NAN;
	if (press && mg_parse_double(press, strlen(press), &p) != MG_OK) {
		rc = mg_fail_line(MG_ERR_FORMAT, DOM, line_of(press_n),
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
	if ((rc = unique_child(xrf, "ExcitationFilter", where, &filt)) != MG_OK || !filt)
		return rc;
	char *nl = NULL, *z = NULL, *t = NULL;
	const char *fwhere = "ExcitationFilter";
	if ((rc = str_child(filt, "NofLayer", fwhere, &nl, NULL)) == MG_OK &&
	    (rc = str_child(filt, "AtomicNumber", fwhere, &z, NULL)) == MG_OK &&
	    (rc = str_child(filt, "Thickness", fwhere, &t, NULL)) == MG_OK) {
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
static int map_esma(spx_reader *r, const xmlNode *esma)
{
	const char *where = "TRTESMAHeader";
	mg_acq_settings *a = &r->s->acq;
	double v;
	int present, rc;
	if (isnan(a->tube_kv)) {
		if ((rc = num_child(r, esma, "PrimaryEnergy", where, 0, &v, &present)) != MG_OK)
			return rc;
		if (present)
			a->tube_kv = v;
	}
	if (isnan(a->takeoff_deg)) {
		if ((rc = num_child(r, esma, "ElevationAngle", where, 0, &v, &present)) != MG_OK)
			return rc;
		if (present)
			a->takeoff_deg = v;
	}
	return MG_OK;
}

static int map_spectrum_header(spx_reader *r, const xmlNode *hdr)
{
	const char *where = "TRTSpectrumHeader";
	double abs_v, lin_v;
	int has_abs, has_lin, rc;
	if ((rc = num_child(r, hdr, "CalibAbs", where, 0, &abs_v, &has_abs)) != MG_OK ||
	    (rc = num_child(r, hdr, "CalibLin", where, 0, &lin_v, &has_lin)) != MG_OK)
		return rc;
	if (has_abs != has_lin)
		return mg_fail_line(MG_ERR_FORMAT, DOM, line_of(hdr), "%s has <%s> without <%s>", where,
		                    has_abs ? "CalibAbs" : "CalibLin", has_abs ? "CalibLin" : "CalibAbs");
	if (has_abs && lin_v != 0) {
		r->s->cal.valid = 1;
		r->s->cal.offset_kev = abs_v;
		r->s->cal.gain_kev = lin_v;
		r->s->cal.quad_kev = 0;
	} else if (has_abs) {
		/* CalibLin 0: uncalibrated; keep the raw values in meta (un-mark the two
		 * elements num_child() just marked). */
		r->nused -= 2;
	}

	char *date = NULL, *time_s = NULL;
	const xmlNode *dn, *tn;
	if ((rc = str_child(hdr, "Date", where, &date, &dn)) == MG_OK &&
	    (rc = str_child(hdr, "Time", where, &time_s, &tn)) == MG_OK && date) {
		rc = parse_date_time(date, time_s, dn, tn, r->s->start_time, sizeof(r->s->start_time));
		if (rc == MG_OK) {
			mark_used(r, dn);
			if (tn)
				mark_used(r, tn);
		}
	}
	free(date);
	free(time_s);
	return rc;
}

static int read_channels(spx_reader *r, const xmlNode *ch, size_t nchan)
{
	char *text;
	int rc = leaf_text(ch, "the spectrum", &text);
	if (rc != MG_OK)
		return rc;
	size_t n = strlen(text), count = 0, start = 0;
	/* Values separated by ',' (one trailing ',' tolerated). */
	if (n && text[n - 1] == ',')
		n--;
	if (n == 0) {
		free(text);
		return mg_fail_line(MG_ERR_FORMAT, DOM, line_of(ch), "<Channels> is empty (ChannelCount %zu)",
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
			rc = mg_fail_line(MG_ERR_FORMAT, DOM, line_of(ch),
			                  "<Channels> holds %zu values but <ChannelCount> says %zu", nchan + extra,
			                  nchan);
			goto out;
		}
		if (mg_parse_double(text + start, i - start, &v) != MG_OK) {
			char ex[64];
			char *val = mg_strndup_view(text + start, i - start);
			rc = mg_fail_line(MG_ERR_FORMAT, DOM, line_of(ch), "<Channels> value %zu: '%s' is not a number",
			                  count, val ? excerpt(val, ex, sizeof(ex)) : "?");
			free(val);
			goto out;
		}
		if (!mg_check_count(v)) {
			rc = mg_fail_line(MG_ERR_FORMAT, DOM, line_of(ch), "<Channels> value %zu: negative counts (%g)",
			                  count, v);
			goto out;
		}
		r->s->counts[count++] = v;
		start = i + 1;
	}
	if (count != nchan)
		rc = mg_fail_line(MG_ERR_FORMAT, DOM, line_of(ch),
		                  "<Channels> holds %zu values but <ChannelCount> says %zu", count, nchan);
out:
	free(text);
	return rc;
}

/* ---- everything else -> meta --------------------------------------------- */

static int add_meta(spx_reader *r, const char *suffix, const char *value)
{
	char key[SPX_MAX_PATH + 128];
	snprintf(key, sizeof(key), "spx%s%s", r->path, suffix ? suffix : "");
	char note[64];
	size_t n = strlen(value);
	if (n > SPX_MAX_META_VALUE) {
		snprintf(note, sizeof(note), "(not kept: %zu bytes)", n);
		value = note;
	}
	/* Line-oriented writers carry meta: control characters become spaces. */
	char *v = strdup(value);
	if (!v)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	for (char *c = v; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	int rc = mg_kvlist_add(&r->s->meta, key, v, NULL);
	free(v);
	return rc;
}

static int add_attributes(spx_reader *r, const xmlNode *n, int skip_type, int skip_name)
{
	for (const xmlAttr *a = n->properties; a; a = a->next) {
		const char *an = (const char *)a->name;
		if ((skip_type && strcmp(an, "Type") == 0) || (skip_name && strcmp(an, "Name") == 0))
			continue;
		xmlChar *v = xmlNodeGetContent((xmlNodePtr)a);
		char suffix[256];
		snprintf(suffix, sizeof(suffix), "@%s", an);
		int rc = add_meta(r, suffix, v ? (const char *)v : "");
		xmlFree(v);
		if (rc != MG_OK)
			return rc;
	}
	return MG_OK;
}

static int walk(spx_reader *r, const xmlNode *parent)
{
	for (const xmlNode *c = parent->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		size_t plen = strlen(r->path);
		int is_ci = is_elem(c, "ClassInstance");
		int is_main = c == r->spec;
		int wrapper = (is_elem(c, "TRTHeaderedClass") || is_elem(c, "ChildClassInstances")) &&
		              !c->properties;
		const char *seg = NULL;
		xmlChar *type = NULL;
		if (is_ci)
			type = attr(c, "Type");
		int has_type = type != NULL;
		if (!is_main && !wrapper)
			seg = type ? (const char *)type : name_of(c);
		if (seg) {
			if (plen + 1 + strlen(seg) >= sizeof(r->path)) {
				xmlFree(type);
				return mg_fail_line(MG_ERR_FORMAT, DOM, line_of(c), "element path deeper than %d bytes",
				                    SPX_MAX_PATH);
			}
			snprintf(r->path + plen, sizeof(r->path) - plen, ".%s", seg);
		}
		xmlFree(type);
		int rc = add_attributes(r, c, has_type, is_main);
		if (rc == MG_OK) {
			if (has_element_children(c)) {
				/* Mixed content is rare; keep its text under the element's own path. */
				char *text = NULL;
				for (const xmlNode *t = c->children; t && rc == MG_OK; t = t->next) {
					if (t->type != XML_TEXT_NODE || !t->content)
						continue;
					const char *s = (const char *)t->content;
					size_t sn = strlen(s);
					mg_trim(&s, &sn);
					if (sn) {
						text = mg_strndup_view(s, sn);
						rc = text ? add_meta(r, NULL, text) : mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
						free(text);
					}
				}
				if (rc == MG_OK)
					rc = walk(r, c);
			} else if (!is_used(r, c)) {
				char *text;
				rc = leaf_text(c, "the file", &text);
				if (rc == MG_OK && *text)
					rc = add_meta(r, NULL, text);
				free(text);
			}
		}
		r->path[plen] = '\0';
		if (rc != MG_OK)
			return rc;
	}
	return MG_OK;
}

/* ---- read ------------------------------------------------------------------ */

static int read_tree(spx_reader *r, xmlDoc *doc, mg_spectrum **out)
{
	const xmlNode *root = xmlDocGetRootElement(doc);
	int rc;
	if (!root)
		return mg_fail(MG_ERR_FORMAT, DOM, "no root element");
	if (doc->intSubset || doc->extSubset)
		return mg_fail(MG_ERR_FORMAT, DOM, "a <!DOCTYPE> declaration: not accepted in a .spx file");
	if (!is_elem(root, "TRTSpectrum"))
		return mg_fail_line(MG_ERR_FORMAT, DOM, line_of(root),
		                    "root element <%s> is not <TRTSpectrum>: not a Bruker spectrum", name_of(root));
	const xmlNode *spec = NULL;
	for (const xmlNode *c = root->children; c; c = c->next) {
		if (!is_class(c, "TRTSpectrum"))
			continue;
		if (spec)
			return mg_fail_line(MG_ERR_UNSUPPORTED, DOM, line_of(c),
			                    "a second <ClassInstance Type=\"TRTSpectrum\">: files holding several "
			                    "spectra are not supported");
		spec = c;
	}
	if (!spec)
		return mg_fail_line(MG_ERR_FORMAT, DOM, line_of(root),
		                    "no <ClassInstance Type=\"TRTSpectrum\"> under <TRTSpectrum>");
	r->spec = spec;

	const xmlNode *hdr, *channels, *headered, *hw, *det, *xrf, *esma;
	if ((rc = unique_class(spec, "TRTSpectrumHeader", &hdr)) != MG_OK)
		return rc;
	if (!hdr)
		return mg_fail_line(MG_ERR_FORMAT, DOM, line_of(spec),
		                    "no <ClassInstance Type=\"TRTSpectrumHeader\"> in the spectrum");
	if ((rc = unique_child(spec, "Channels", "the spectrum", &channels)) != MG_OK)
		return rc;
	if (!channels)
		return mg_fail_line(MG_ERR_FORMAT, DOM, line_of(spec), "no <Channels> in the spectrum");

	double v;
	int present;
	if ((rc = num_child(r, hdr, "ChannelCount", "TRTSpectrumHeader", 1, &v, &present)) != MG_OK)
		return rc;
	if (v != floor(v) || v < 1 || v > MG_SPECTRUM_MAX_CHANNELS)
		return mg_fail_line(MG_ERR_FORMAT, DOM, line_of(r->last),
		                    "<ChannelCount> in TRTSpectrumHeader: %g is outside 1..%d", v,
		                    MG_SPECTRUM_MAX_CHANNELS);
	size_t nchan = (size_t)v;
	r->s = mg_spectrum_new(nchan);
	if (!r->s)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");

	xmlChar *name = attr(spec, "Name");
	if (name && *name)
		rc = mg_str_set(&r->s->sample.description, (const char *)name);
	xmlFree(name);
	if (rc != MG_OK)
		goto fail;

	if ((rc = unique_child(spec, "TRTHeaderedClass", "the spectrum", &headered)) != MG_OK ||
	    (rc = unique_class(headered, "TRTSpectrumHardwareHeader", &hw)) != MG_OK ||
	    (rc = unique_class(headered, "TRTDetectorHeader", &det)) != MG_OK ||
	    (rc = unique_class(headered, "TRTXrfHeader", &xrf)) != MG_OK ||
	    (rc = unique_class(headered, "TRTESMAHeader", &esma)) != MG_OK)
		goto fail;
	if ((hw && (rc = map_hardware(r, hw)) != MG_OK) || (det && (rc = map_detector(r, det)) != MG_OK) ||
	    (xrf && (rc = map_xrf(r, xrf)) != MG_OK) || (esma && (rc = map_esma(r, esma)) != MG_OK) ||
	    (rc = map_spectrum_header(r, hdr)) != MG_OK)
		goto fail;
	if ((rc = read_channels(r, channels, nchan)) != MG_OK)
		goto fail;
	mark_used(r, channels);
	if ((rc = add_attributes(r, root, 0, 0)) != MG_OK || (rc = walk(r, root)) != MG_OK)
		goto fail;
	*out = r->s;
	r->s = NULL;
	return MG_OK;
fail:
	mg_spectrum_free(r->s);
	r->s = NULL;
	return rc;
}

static int read_spx(const unsigned char *data, size_t len, mg_spectrum **out)
{
	if (len == 0)
		return mg_fail(MG_ERR_FORMAT, DOM, "empty file");
	if (len > MG_FORMAT_MAX_FILE_BYTES)
		return mg_fail(MG_ERR_FORMAT, DOM, "larger than %u bytes", MG_FORMAT_MAX_FILE_BYTES);
	spx_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	xmlInitParser();
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	if (!ctxt) {
		free(r);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	ctxt->_private = r;
	ctxt->sax->serror = on_xml_error;
	/* No network, no DTD, no entity substitution, no messages on stderr. */
	int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA |
	           XML_PARSE_BIG_LINES;
	xmlDoc *doc = xmlCtxtReadMemory(ctxt, (const char *)data, (int)len, NULL, NULL, opts);
	int rc;
	if (!doc || !ctxt->wellFormed) {
		if (r->xml_error_set)
			rc = mg_fail_line(MG_ERR_FORMAT, DOM, r->xml_error_line, "not well-formed XML: %s",
			                  r->xml_error);
		else
			rc = mg_fail(MG_ERR_FORMAT, DOM, "not well-formed XML");
	} else {
		rc = read_tree(r, doc, out);
	}
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	free(r);
	return rc;
}

const mg_format mg_format_spx = {
	.id = MG_FORMAT_SPX,
	.name = "spx",
	.description = "Bruker Esprit spectrum (XML .spx)",
	.extension = ".spx",
	.probe = probe,
	.read = read_spx,
	.write = NULL,
};
