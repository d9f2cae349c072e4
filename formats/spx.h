/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Private to the Bruker .spx reader (spx.c, spx_fields.c, spx_meta.c).
 *
 * Bruker Esprit .spx spectra (XML), read through libxml2's tree API.
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
#ifndef MAGASSAY_FORMATS_SPX_H
#define MAGASSAY_FORMATS_SPX_H

#include <stddef.h>

#include <libxml/tree.h>

#include "magassay/spectrum.h"

#define SPX_MAX_META_VALUE 4096
#define SPX_MAX_PATH 1024
#define SPX_MAX_USED 64

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

/* ---- spx.c: the tree helpers --------------------------------------------- */

int spx_is_elem(const xmlNode *n, const char *name);
const char *spx_name_of(const xmlNode *n);
/* Attribute value as a new string (xmlFree) or NULL. */
xmlChar *spx_attr(const xmlNode *n, const char *name);
int spx_is_class(const xmlNode *n, const char *type);
int spx_has_element_children(const xmlNode *n);
long spx_line_of(const xmlNode *n);
/* Elements turned into named fields are not repeated in meta. */
void spx_mark_used(spx_reader *r, const xmlNode *n);
int spx_is_used(const spx_reader *r, const xmlNode *n);
/* The only direct child element `name` of parent (NULL if none); two is an error. */
int spx_unique_child(const xmlNode *parent, const char *name, const char *where, const xmlNode **out);
/* The only direct child ClassInstance of this Type (NULL if none). */
int spx_unique_class(const xmlNode *parent, const char *type, const xmlNode **out);
/* Text of a leaf element, trimmed, as a new string (free()). */
int spx_leaf_text(const xmlNode *n, const char *where, char **out);
/* Short quoted excerpt of a bad value for messages. */
const char *spx_excerpt(const char *v, char *buf, size_t size);
/* Numeric leaf `name` under parent: *present = 0 when absent. Marks it used. */
int spx_num_child(spx_reader *r, const xmlNode *parent, const char *name, const char *where, int required,
                  double *v, int *present);
/* String leaf (NULL when absent or empty). Not marked used. */
int spx_str_child(const xmlNode *parent, const char *name, const char *where, char **out, const xmlNode **node);

/* ---- spx_fields.c: the named fields -------------------------------------- */

int spx_map_hardware(spx_reader *r, const xmlNode *hw);
int spx_map_detector(spx_reader *r, const xmlNode *det);
int spx_map_xrf(spx_reader *r, const xmlNode *xrf);
int spx_map_esma(spx_reader *r, const xmlNode *esma);
int spx_map_spectrum_header(spx_reader *r, const xmlNode *hdr);
int spx_read_channels(spx_reader *r, const xmlNode *ch, size_t nchan);

/* ---- spx_meta.c: everything else -> meta --------------------------------- */

int spx_add_attributes(spx_reader *r, const xmlNode *n, int skip_type, int skip_name);
/* Every element below parent not used for a named field, as meta "spx.<path>". */
int spx_walk(spx_reader *r, const xmlNode *parent);

#endif
