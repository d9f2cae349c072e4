/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What a Bruker .spx spectrum holds beyond the named fields, kept in meta as
 * "spx.<path>" and "spx.<path>@<attr>" (formats/spx.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "formats.h"
#include "internal.h"
#include "spx.h"
#include "text.h"

#define DOM "spx"

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

int spx_add_attributes(spx_reader *r, const xmlNode *n, int skip_type, int skip_name)
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

int spx_walk(spx_reader *r, const xmlNode *parent)
{
	for (const xmlNode *c = parent->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		size_t plen = strlen(r->path);
		int is_ci = spx_is_elem(c, "ClassInstance");
		int is_main = c == r->spec;
		int wrapper = (spx_is_elem(c, "TRTHeaderedClass") || spx_is_elem(c, "ChildClassInstances")) &&
		              !c->properties;
		const char *seg = NULL;
		xmlChar *type = NULL;
		if (is_ci)
			type = spx_attr(c, "Type");
		int has_type = type != NULL;
		if (!is_main && !wrapper)
			seg = type ? (const char *)type : spx_name_of(c);
		if (seg) {
			if (plen + 1 + strlen(seg) >= sizeof(r->path)) {
				xmlFree(type);
				return mg_fail_line(MG_ERR_FORMAT, DOM, spx_line_of(c), "element path deeper than %d bytes",
				                    SPX_MAX_PATH);
			}
			snprintf(r->path + plen, sizeof(r->path) - plen, ".%s", seg);
		}
		xmlFree(type);
		int rc = spx_add_attributes(r, c, has_type, is_main);
		if (rc == MG_OK) {
			if (spx_has_element_children(c)) {
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
					rc = spx_walk(r, c);
			} else if (!spx_is_used(r, c)) {
				char *text;
				rc = spx_leaf_text(c, "the file", &text);
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
