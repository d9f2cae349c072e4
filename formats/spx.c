/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Bruker .spx reader (formats/spx.h describes the format): libxml2 set up
 * safely, the tree helpers, the probe, the spectrum's skeleton, and the
 * format's table entry. The named fields are in spx_fields.c, the rest of the
 * tree goes to meta in spx_meta.c. */
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
#include "spx.h"
#include "text.h"

#define DOM "spx"

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

int spx_is_elem(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST name) == 0;
}

const char *spx_name_of(const xmlNode *n)
{
	return (const char *)n->name;
}

/* Attribute value as a new string (xmlFree) or NULL. */
xmlChar *spx_attr(const xmlNode *n, const char *name)
{
	return xmlGetNoNsProp(n, BAD_CAST name);
}

static int spx_attr_equals(const xmlNode *n, const char *name, const char *value)
{
	xmlChar *v = spx_attr(n, name);
	int eq = v && xmlStrcmp(v, BAD_CAST value) == 0;
	xmlFree(v);
	return eq;
}

int spx_is_class(const xmlNode *n, const char *type)
{
	return spx_is_elem(n, "ClassInstance") && spx_attr_equals(n, "Type", type);
}

int spx_has_element_children(const xmlNode *n)
{
	for (const xmlNode *c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return 1;
	return 0;
}

long spx_line_of(const xmlNode *n)
{
	return xmlGetLineNo((xmlNodePtr)n);
}

void spx_mark_used(spx_reader *r, const xmlNode *n)
{
	if (r->nused < SPX_MAX_USED)
		r->used[r->nused++] = n;
}

int spx_is_used(const spx_reader *r, const xmlNode *n)
{
	for (size_t i = 0; i < r->nused; i++)
		if (r->used[i] == n)
			return 1;
	return 0;
}

/* The only direct child element `name` of parent (NULL if none); two is an error. */
int spx_unique_child(const xmlNode *parent, const char *name, const char *where, const xmlNode **out)
{
	*out = NULL;
	if (!parent)
		return MG_OK;
	for (const xmlNode *c = parent->children; c; c = c->next) {
		if (!spx_is_elem(c, name))
			continue;
		if (*out)
			return mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(c), "a second <%s> in %s", name, where);
		*out = c;
	}
	return MG_OK;
}

/* The only direct child ClassInstance of this Type (NULL if none). */
int spx_unique_class(const xmlNode *parent, const char *type, const xmlNode **out)
{
	*out = NULL;
	if (!parent)
		return MG_OK;
	for (const xmlNode *c = parent->children; c; c = c->next) {
		if (!spx_is_class(c, type))
			continue;
		if (*out)
			return mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(c),
			                    "a second <ClassInstance Type=\"%s\"> in <%s>", type, spx_name_of(parent));
		*out = c;
	}
	return MG_OK;
}

/* Text of a leaf element, trimmed, as a new string (free()). */
int spx_leaf_text(const xmlNode *n, const char *where, char **out)
{
	*out = NULL;
	if (spx_has_element_children(n))
		return mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(n),
		                    "<%s> in %s holds child elements where a value was expected", spx_name_of(n),
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
const char *spx_excerpt(const char *v, char *buf, size_t size)
{
	size_t n = strlen(v);
	if (n + 1 <= size && n <= 40)
		snprintf(buf, size, "%s", v);
	else
		snprintf(buf, size, "%.40s...", v);
	return buf;
}

/* Numeric leaf `name` under parent: *present = 0 when absent. Marks it used. */
int spx_num_child(spx_reader *r, const xmlNode *parent, const char *name, const char *where,
                  int required, double *v, int *present)
{
	const xmlNode *n;
	int rc = spx_unique_child(parent, name, where, &n);
	*present = 0;
	if (rc != MG_OK)
		return rc;
	if (!n) {
		if (required)
			return mg_fail_line(MG_ERR_FORMAT, DOM, parent ? spx_line_of(parent) : 0, "no <%s> in %s", name,
			                    where);
		return MG_OK;
	}
	char *text;
	if ((rc = spx_leaf_text(n, where, &text)) != MG_OK)
		return rc;
	if (mg_parse_double(text, strlen(text), v) != MG_OK) {
		char ex[64];
		rc = mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(n), "<%s> in %s: '%s' is not a number", name, where,
		                  spx_excerpt(text, ex, sizeof(ex)));
		free(text);
		return rc;
	}
	free(text);
	spx_mark_used(r, n);
	r->last = n;
	*present = 1;
	return MG_OK;
}

/* String leaf (NULL when absent or empty). Not marked used. */
int spx_str_child(const xmlNode *parent, const char *name, const char *where, char **out,
                  const xmlNode **node)
{
	const xmlNode *n;
	int rc = spx_unique_child(parent, name, where, &n);
	*out = NULL;
	if (node)
		*node = n;
	if (rc != MG_OK || !n)
		return rc;
	if ((rc = spx_leaf_text(n, where, out)) != MG_OK)
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

/* ---- read ------------------------------------------------------------------ */

static int read_tree(spx_reader *r, xmlDoc *doc, mg_spectrum **out)
{
	const xmlNode *root = xmlDocGetRootElement(doc);
	int rc;
	if (!root)
		return mg_fail(MG_ERR_FORMAT, DOM, "no root element");
	if (doc->intSubset || doc->extSubset)
		return mg_fail(MG_ERR_FORMAT, DOM, "a <!DOCTYPE> declaration: not accepted in a .spx file");
	if (!spx_is_elem(root, "TRTSpectrum"))
		return mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(root),
		                    "root element <%s> is not <TRTSpectrum>: not a Bruker spectrum", spx_name_of(root));
	const xmlNode *spec = NULL;
	for (const xmlNode *c = root->children; c; c = c->next) {
		if (!spx_is_class(c, "TRTSpectrum"))
			continue;
		if (spec)
			return mg_fail_line(MG_ERR_UNSUPPORTED, DOM, spx_line_of(c),
			                    "a second <ClassInstance Type=\"TRTSpectrum\">: files holding several "
			                    "spectra are not supported");
		spec = c;
	}
	if (!spec)
		return mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(root),
		                    "no <ClassInstance Type=\"TRTSpectrum\"> under <TRTSpectrum>");
	r->spec = spec;

	const xmlNode *hdr, *channels, *headered, *hw, *det, *xrf, *esma;
	if ((rc = spx_unique_class(spec, "TRTSpectrumHeader", &hdr)) != MG_OK)
		return rc;
	if (!hdr)
		return mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(spec),
		                    "no <ClassInstance Type=\"TRTSpectrumHeader\"> in the spectrum");
	if ((rc = spx_unique_child(spec, "Channels", "the spectrum", &channels)) != MG_OK)
		return rc;
	if (!channels)
		return mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(spec), "no <Channels> in the spectrum");

	double v;
	int present;
	if ((rc = spx_num_child(r, hdr, "ChannelCount", "TRTSpectrumHeader", 1, &v, &present)) != MG_OK)
		return rc;
	if (v != floor(v) || v < 1 || v > MG_SPECTRUM_MAX_CHANNELS)
		return mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(r->last),
		                    "<ChannelCount> in TRTSpectrumHeader: %g is outside 1..%d", v,
		                    MG_SPECTRUM_MAX_CHANNELS);
	size_t nchan = (size_t)v;
	r->s = mg_spectrum_new(nchan);
	if (!r->s)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");

	xmlChar *name = spx_attr(spec, "Name");
	if (name && *name)
		rc = mg_str_set(&r->s->sample.description, (const char *)name);
	xmlFree(name);
	if (rc != MG_OK)
		goto fail;

	if ((rc = spx_unique_child(spec, "TRTHeaderedClass", "the spectrum", &headered)) != MG_OK ||
	    (rc = spx_unique_class(headered, "TRTSpectrumHardwareHeader", &hw)) != MG_OK ||
	    (rc = spx_unique_class(headered, "TRTDetectorHeader", &det)) != MG_OK ||
	    (rc = spx_unique_class(headered, "TRTXrfHeader", &xrf)) != MG_OK ||
	    (rc = spx_unique_class(headered, "TRTESMAHeader", &esma)) != MG_OK)
		goto fail;
	if ((hw && (rc = spx_map_hardware(r, hw)) != MG_OK) || (det && (rc = spx_map_detector(r, det)) != MG_OK) ||
	    (xrf && (rc = spx_map_xrf(r, xrf)) != MG_OK) || (esma && (rc = spx_map_esma(r, esma)) != MG_OK) ||
	    (rc = spx_map_spectrum_header(r, hdr)) != MG_OK)
		goto fail;
	if ((rc = spx_read_channels(r, channels, nchan)) != MG_OK)
		goto fail;
	spx_mark_used(r, channels);
	if ((rc = spx_add_attributes(r, root, 0, 0)) != MG_OK || (rc = spx_walk(r, root)) != MG_OK)
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
