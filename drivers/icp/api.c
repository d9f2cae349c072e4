/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The ICP-OES driver: every operation is a command template of the
 * instrument profile (docs/icp-profile.md) sent through a SCPI session
 * (drivers/scpi) over any transport, so a new instrument model is a new
 * profile, not new code. Also the "icp" family of the driver registry, so
 * that `magassay devices` lists ICP-OES instruments.
 *
 * Every wait is bounded: queries by the session timeout (the profile's
 * timeout_ms, or mg_icp_set_timeout), a run by that plus the profile's
 * overhead_s plus 1.5 x replicates x integration time. Idempotent queries
 * (identify, plasma, fetch) are sent again after a timeout or a malformed
 * answer (mg_icp_set_retries); commands and runs never are. When a query
 * fails, the error queue is asked once: an instrument error explains most
 * silent instruments (an undefined header gets no answer). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drivers/device_internal.h"
#include "drivers/icp/protocol.h"
#include "drivers/scpi/scpi.h"
#include "magassay/icp_device.h"

#define DOM "icp"
#define MAX_RETRIES 5u

struct mg_icp_device {
	mg_transport *t;
	mg_scpi *scpi;
	mg_icp_profile *owned;          /* freed at close (NULL when the caller's) */
	const mg_icp_profile *profile;
	mg_icp_identity id;
	unsigned timeout_ms;            /* 0: the profile's */
	unsigned retries;
	int quiet;                      /* a probe: retries at debug level */
	mg_icp_line lines[MG_ICP_MAX_LINES];
	size_t nlines;
	double integration_s;
	unsigned replicates;
	int configured;
	double wl[MG_ICP_MAX_LINES][MG_ICP_MAX_PIXELS]; /* layout = intensities */
	size_t nwl[MG_ICP_MAX_LINES];
	mg_buf cmd, resp;
	mg_icp_device_stats st;
};

/* mg_fail() with the current detail appended (copied first). */
static int fail_wrap(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail_wrap(int code, const char *fmt, ...)
{
	char saved[1024], head[320];
	snprintf(saved, sizeof(saved), "%s", mg_error_detail());
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	return mg_fail(code, DOM, "%s: %s", head, saved);
}

static void sync_stats(mg_icp_device *d)
{
	mg_scpi_stats s = mg_scpi_get_stats(d->scpi);
	d->st.queries = s.messages;
	d->st.timeouts = s.timeouts;
	d->st.bytes_out = s.bytes_out;
	d->st.bytes_in = s.bytes_in;
}

static unsigned base_timeout(const mg_icp_device *d)
{
	return d->timeout_ms ? d->timeout_ms : d->profile ? d->profile->timeout_ms : 2000u;
}

/* After a failed query: ask the error queue once (an undefined header gets
 * no answer, but an entry in the queue). Keeps rc when the queue is empty or
 * cannot be read. */
static int explain(mg_icp_device *d, int rc, const char *what)
{
	char saved[1024];
	snprintf(saved, sizeof(saved), "%s", mg_error_detail());
	if (rc != MG_ERR_TIMEOUT && rc != MG_ERR_PROTOCOL)
		return mg_fail(rc, DOM, "%s: %s", what, saved);
	const char *eq = d->profile ? d->profile->error_query : "SYSTem:ERRor?";
	mg_buf r;
	mg_buf_init(&r);
	mg_scpi_error e;
	unsigned t = base_timeout(d) < 500 ? base_timeout(d) : 500;
	int ok = mg_scpi_query(d->scpi, eq, &r, t) == MG_OK && mg_scpi_parse_error(r.data, r.len, &e) == MG_OK &&
	         e.code != 0;
	mg_buf_free(&r);
	if (!ok)
		return mg_fail(rc, DOM, "%s: %s", what, saved);
	d->st.instrument_errors++;
	mg_scpi_error more[4];
	size_t nmore = 0;
	mg_scpi_drain_errors(d->scpi, more, MG_ARRAY_SIZE(more), &nmore);
	d->st.instrument_errors += (unsigned)nmore;
	mg_buf b;
	mg_buf_init(&b);
	mg_buf_printf(&b, "%s: %s; the instrument reported %d,\"%s\" (%s)", what, saved, e.code, e.text,
	              mg_scpi_error_class(e.code));
	for (size_t i = 0; i < nmore && i < MG_ARRAY_SIZE(more); i++)
		mg_buf_printf(&b, "; %d,\"%s\" (%s)", more[i].code, more[i].text, mg_scpi_error_class(more[i].code));
	rc = mg_fail(MG_ERR_DEVICE, DOM, "%s", b.data ? b.data : what);
	mg_buf_free(&b);
	return rc;
}

/* A query; idempotent ones are sent again after a timeout or malformed answer. */
static int query(mg_icp_device *d, const char *program, mg_buf *resp, unsigned timeout_ms, int idempotent,
                 const char *what)
{
	int rc;
	for (unsigned attempt = 0;; attempt++) {
		rc = mg_scpi_query(d->scpi, program, resp, timeout_ms);
		if (rc == MG_OK)
			return MG_OK;
		if (!idempotent || attempt >= d->retries || (rc != MG_ERR_TIMEOUT && rc != MG_ERR_PROTOCOL))
			break;
		d->st.retries++;
		mg_log(d->quiet ? MG_LOG_DBG : MG_LOG_WARN, DOM, "%s: %s; sending it again (%u of %u retries)", d->id.transport,
		       mg_error_detail(), attempt + 1, d->retries);
	}
	return explain(d, rc, what);
}

static int send_cmd(mg_icp_device *d, const char *program, const char *what)
{
	int rc = mg_scpi_send(d->scpi, program);
	return rc ? fail_wrap(rc, "%s", what) : MG_OK;
}

static int check_errors(mg_icp_device *d, const char *context)
{
	mg_scpi_stats before = mg_scpi_get_stats(d->scpi);
	int rc = mg_scpi_check_errors(d->scpi, context);
	mg_scpi_stats after = mg_scpi_get_stats(d->scpi);
	d->st.instrument_errors += after.errors_drained - before.errors_drained;
	return rc;
}

/* ------------------------------------------------------------ open / close */

static void dev_free(mg_icp_device *d)
{
	if (!d)
		return;
	mg_scpi_free(d->scpi);
	mg_transport_close(d->t);
	mg_icp_profile_free(d->owned);
	mg_buf_free(&d->cmd);
	mg_buf_free(&d->resp);
	free(d);
}

void mg_icp_close(mg_icp_device *dev)
{
	if (dev)
		mg_dbg(DOM, "closing %s", dev->id.transport);
	dev_free(dev);
}

static int new_session(mg_icp_device *d)
{
	mg_scpi_config cfg = {0};
	if (d->profile) {
		cfg.terminator = d->profile->terminator;
		cfg.error_query = d->profile->error_query;
		cfg.max_errors = d->profile->error_queue_max;
	}
	cfg.timeout_ms = base_timeout(d);
	if (d->scpi)
		return mg_scpi_configure(d->scpi, &cfg);
	return mg_scpi_new(d->t, &cfg, &d->scpi);
}

static int open_transport(mg_transport_uri *uri, mg_transport **t)
{
	if (uri->scheme != MG_SCHEME_USB)
		return mg_transport_open_uri(uri, t);
	/* usb:... names a USBTMC instrument here: the same device through the USBTMC backend */
	char text[512];
	snprintf(text, sizeof(text), "usbtmc:%s", uri->text + 4);
	return mg_transport_open(text, t);
}

static int icp_open_uri(mg_transport_uri *uri, const mg_icp_profile *given, const char *path, unsigned timeout_ms,
                        int quiet, mg_icp_device **out)
{
	*out = NULL;
	mg_icpsim_register();
	if (uri->scheme == MG_SCHEME_SIM && uri->name && strcmp(uri->name, "icp"))
		return mg_fail(MG_ERR_NOT_FOUND, DOM, "%s: no simulated ICP-OES '%s' (known: icp)", uri->text, uri->name);
	mg_icp_device *d = calloc(1, sizeof(*d));
	if (!d)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	mg_buf_init(&d->cmd);
	mg_buf_init(&d->resp);
	d->retries = 1;
	d->quiet = quiet;
	d->timeout_ms = timeout_ms;
	d->profile = given;
	int rc = open_transport(uri, &d->t);
	if (rc) {
		dev_free(d);
		return rc;
	}
	snprintf(d->id.transport, sizeof(d->id.transport), "%s", mg_transport_description(d->t));
	if ((rc = new_session(d))) {
		dev_free(d);
		return rc;
	}
	mg_scpi_idn idn;
	const char *idq = given ? given->idn_query : "*IDN?";
	for (unsigned attempt = 0;; attempt++) {
		mg_buf_reset(&d->resp);
		rc = mg_scpi_query(d->scpi, idq, &d->resp, 0);
		if (rc == MG_OK && mg_scpi_parse_idn(d->resp.data, d->resp.len, &idn))
			rc = mg_fail(MG_ERR_PROTOCOL, DOM, "%s", mg_error_detail());
		if (rc == MG_OK || attempt >= d->retries || (rc != MG_ERR_TIMEOUT && rc != MG_ERR_PROTOCOL))
			break;
		d->st.retries++;
		mg_log(quiet ? MG_LOG_DBG : MG_LOG_WARN, DOM, "%s: %s; asking again", d->id.transport, mg_error_detail());
	}
	if (rc) {
		rc = fail_wrap(rc, "%s does not answer %s as a SCPI instrument", d->id.transport, idq);
		dev_free(d);
		return rc;
	}
	snprintf(d->id.manufacturer, sizeof(d->id.manufacturer), "%s", idn.manufacturer);
	snprintf(d->id.model, sizeof(d->id.model), "%s", idn.model);
	snprintf(d->id.serial, sizeof(d->id.serial), "%s", idn.serial);
	snprintf(d->id.firmware, sizeof(d->id.firmware), "%s", idn.firmware);
	if (!given) {
		rc = path ? mg_icp_profile_load(path, &d->owned)
		          : mg_icp_profile_find_(idn.manufacturer, idn.model, idn.firmware, &d->owned);
		if (rc) {
			rc = path ? rc : fail_wrap(rc, "%s", d->id.transport);
			dev_free(d);
			return rc;
		}
		d->profile = d->owned;
	}
	if (!mg_icp_profile_matches(d->profile, idn.manufacturer, idn.model, idn.firmware))
		mg_warn(DOM, "%s: '%s,%s' does not match profile %s; using it as asked", d->id.transport, idn.manufacturer,
		        idn.model, d->profile->name);
	snprintf(d->id.profile, sizeof(d->id.profile), "%s", d->profile->name);
	if ((rc = new_session(d))) {
		dev_free(d);
		return rc;
	}
	for (size_t i = 0; i < d->profile->ninit && rc == MG_OK; i++)
		rc = send_cmd(d, d->profile->init[i], "initialising");
	if (rc == MG_OK)
		rc = check_errors(d, "initialising (profile [session] init)");
	if (rc) {
		rc = fail_wrap(rc, "%s (%s %s)", d->id.transport, idn.manufacturer, idn.model);
		dev_free(d);
		return rc;
	}
	mg_log(quiet ? MG_LOG_DBG : MG_LOG_INFO, DOM, "%s: %s %s serial %s, firmware %s, profile %s", d->id.transport,
	       idn.manufacturer, idn.model, idn.serial[0] ? idn.serial : "-", idn.firmware, d->profile->name);
	sync_stats(d);
	*out = d;
	return MG_OK;
}

int mg_icp_open_with(const char *uri, const mg_icp_profile *profile, const char *profile_path, mg_icp_device **out)
{
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_icp_open: out is NULL");
	*out = NULL;
	if (!uri)
		return mg_fail(MG_ERR_ARG, DOM, "mg_icp_open: uri is NULL");
	mg_transport_uri *u = NULL;
	int rc = mg_transport_uri_parse(uri, &u);
	if (rc)
		return rc;
	rc = icp_open_uri(u, profile, profile ? NULL : profile_path, 0, 0, out);
	mg_transport_uri_free(u);
	return rc;
}

int mg_icp_open(const char *uri, mg_icp_device **out)
{
	return mg_icp_open_with(uri, NULL, NULL, out);
}

const mg_icp_identity *mg_icp_get_identity(const mg_icp_device *dev)
{
	return dev ? &dev->id : NULL;
}

void mg_icp_set_timeout(mg_icp_device *dev, unsigned timeout_ms)
{
	if (!dev)
		return;
	dev->timeout_ms = timeout_ms;
	mg_scpi_set_timeout(dev->scpi, base_timeout(dev));
}

void mg_icp_set_retries(mg_icp_device *dev, unsigned retries)
{
	if (dev)
		dev->retries = retries > MAX_RETRIES ? MAX_RETRIES : retries;
}

mg_transport *mg_icp_get_transport(mg_icp_device *dev)
{
	return dev ? dev->t : NULL;
}

const mg_icp_profile *mg_icp_get_profile(const mg_icp_device *dev)
{
	return dev ? dev->profile : NULL;
}

mg_icp_device_stats mg_icp_get_stats(const mg_icp_device *dev)
{
	mg_icp_device_stats z = {0};
	if (!dev)
		return z;
	mg_icp_device_stats s = dev->st;
	mg_scpi_stats q = mg_scpi_get_stats(dev->scpi);
	s.queries = q.messages;
	s.timeouts = q.timeouts;
	s.bytes_out = q.bytes_out;
	s.bytes_in = q.bytes_in;
	return s;
}

#define CHECK_DEV(d, fn)                                                                           \
	do {                                                                                       \
		if (!(d))                                                                          \
			return mg_fail(MG_ERR_ARG, DOM, "%s: NULL device", fn);                    \
	} while (0)

int mg_icp_identify(mg_icp_device *dev, mg_icp_identity *id)
{
	CHECK_DEV(dev, "mg_icp_identify");
	int rc = query(dev, dev->profile->idn_query, &dev->resp, 0, 1, "identify");
	mg_scpi_idn idn;
	if (rc == MG_OK && mg_scpi_parse_idn(dev->resp.data, dev->resp.len, &idn))
		rc = mg_fail(MG_ERR_PROTOCOL, DOM, "identify: %s", mg_error_detail());
	if (rc == MG_OK) {
		snprintf(dev->id.manufacturer, sizeof(dev->id.manufacturer), "%s", idn.manufacturer);
		snprintf(dev->id.model, sizeof(dev->id.model), "%s", idn.model);
		snprintf(dev->id.serial, sizeof(dev->id.serial), "%s", idn.serial);
		snprintf(dev->id.firmware, sizeof(dev->id.firmware), "%s", idn.firmware);
		if (id)
			*id = dev->id;
	}
	sync_stats(dev);
	return rc;
}

int mg_icp_plasma_status(mg_icp_device *dev, mg_icp_plasma *out)
{
	CHECK_DEV(dev, "mg_icp_plasma_status");
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_icp_plasma_status: out is NULL");
	int rc = query(dev, dev->profile->plasma_query, &dev->resp, 0, 1, "plasma status");
	if (rc == MG_OK && mg_icp_parse_plasma(dev->profile, dev->resp.data, dev->resp.len, out))
		rc = explain(dev, MG_ERR_PROTOCOL, "plasma status");
	sync_stats(dev);
	return rc;
}

int mg_icp_drain_errors(mg_icp_device *dev, mg_icp_instrument_error *errs, size_t cap)
{
	CHECK_DEV(dev, "mg_icp_drain_errors");
	mg_scpi_error e[64];
	size_t n = 0;
	int rc = mg_scpi_drain_errors(dev->scpi, e, MG_ARRAY_SIZE(e), &n);
	if (rc)
		return rc;
	dev->st.instrument_errors += (unsigned)n;
	for (size_t i = 0; i < n && i < cap && i < MG_ARRAY_SIZE(e) && errs; i++) {
		errs[i].code = e[i].code;
		snprintf(errs[i].text, sizeof(errs[i].text), "%s", e[i].text);
	}
	sync_stats(dev);
	return (int)n;
}

int mg_icp_clear(mg_icp_device *dev)
{
	CHECK_DEV(dev, "mg_icp_clear");
	return mg_scpi_clear(dev->scpi);
}

/* ------------------------------------------------------------ configure */

static int valid_element(const char *e)
{
	return e && e[0] >= 'A' && e[0] <= 'Z' && (!e[1] || (e[1] >= 'a' && e[1] <= 'z' && !e[2]));
}

static int expand(mg_icp_device *d, const mg_icp_template *t, const mg_icp_vars *v, const char *what)
{
	int rc = mg_icp_template_expand(t, v, &d->cmd);
	return rc ? fail_wrap(rc, "%s", what) : MG_OK;
}

int mg_icp_configure(mg_icp_device *dev, const mg_icp_line *lines, size_t nlines, double integration_s,
                     unsigned replicates)
{
	CHECK_DEV(dev, "mg_icp_configure");
	const mg_icp_profile *p = dev->profile;
	if (!lines || nlines == 0 || nlines > MG_ICP_MAX_LINES || nlines > p->lines_max)
		return mg_fail(MG_ERR_ARG, DOM, "configure: %zu lines (1 to %zu with profile %s)", nlines,
		               p->lines_max < MG_ICP_MAX_LINES ? p->lines_max : (size_t)MG_ICP_MAX_LINES, p->name);
	if (!(integration_s >= p->integration_min && integration_s <= p->integration_max))
		return mg_fail(MG_ERR_ARG, DOM, "configure: integration time %g s (%g to %g s with profile %s)", integration_s,
		               p->integration_min, p->integration_max, p->name);
	if (replicates < 1 || replicates > MG_ICP_MAX_REPLICATES || replicates > p->replicates_max)
		return mg_fail(MG_ERR_ARG, DOM, "configure: %u replicates (1 to %u)", replicates,
		               p->replicates_max < MG_ICP_MAX_REPLICATES ? p->replicates_max : (unsigned)MG_ICP_MAX_REPLICATES);
	mg_icp_line copy[MG_ICP_MAX_LINES];
	for (size_t i = 0; i < nlines; i++) {
		copy[i] = lines[i];
		copy[i].element[sizeof(copy[i].element) - 1] = '\0';
		copy[i].label[sizeof(copy[i].label) - 1] = '\0';
		if (!valid_element(copy[i].element))
			return mg_fail(MG_ERR_ARG, DOM, "configure: line %zu: '%s' is not an element symbol", i + 1, copy[i].element);
		if (!(copy[i].wavelength_nm >= 100 && copy[i].wavelength_nm <= 1000))
			return mg_fail(MG_ERR_ARG, DOM, "configure: line %zu (%s): wavelength %g nm (100 to 1000)", i + 1,
			               copy[i].element, copy[i].wavelength_nm);
		if (!copy[i].label[0]) {
			char lab[64];
			snprintf(lab, sizeof(lab), "%.3s %.3f", copy[i].element, copy[i].wavelength_nm);
			snprintf(copy[i].label, sizeof(copy[i].label), "%.23s", lab);
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(copy[j].element, copy[i].element) && fabs(copy[j].wavelength_nm - copy[i].wavelength_nm) < 1e-4)
				return mg_fail(MG_ERR_ARG, DOM, "configure: line %zu repeats line %zu (%s)", i + 1, j + 1, copy[i].label);
	}
	dev->configured = 0;
	char what[96];
	int rc = MG_OK;
	mg_icp_vars v = {0};
	if (p->lines_clear.source) {
		rc = expand(dev, &p->lines_clear, &v, "configure: [lines] clear");
		if (!rc)
			rc = send_cmd(dev, dev->cmd.data, "configure: clearing the lines");
	}
	for (size_t i = 0; i < nlines && rc == MG_OK; i++) {
		memset(&v, 0, sizeof(v));
		v.index = (int)i + 1;
		v.element = copy[i].element;
		v.wavelength = copy[i].wavelength_nm;
		v.label = copy[i].label;
		v.is = copy[i].is_internal_std;
		snprintf(what, sizeof(what), "configure: line %zu (%s)", i + 1, copy[i].label);
		rc = expand(dev, &p->lines_add, &v, what);
		if (!rc)
			rc = send_cmd(dev, dev->cmd.data, what);
	}
	if (rc == MG_OK) {
		memset(&v, 0, sizeof(v));
		v.seconds = integration_s;
		rc = expand(dev, &p->integration, &v, "configure: integration time");
		if (!rc)
			rc = send_cmd(dev, dev->cmd.data, "configure: integration time");
	}
	if (rc == MG_OK) {
		memset(&v, 0, sizeof(v));
		v.count = (int)replicates;
		rc = expand(dev, &p->replicates, &v, "configure: replicates");
		if (!rc)
			rc = send_cmd(dev, dev->cmd.data, "configure: replicates");
	}
	if (rc == MG_OK)
		rc = check_errors(dev, "configure");
	if (rc == MG_OK && p->lines_count.source) {
		long n = -1;
		memset(&v, 0, sizeof(v));
		rc = expand(dev, &p->lines_count, &v, "configure: line count");
		if (!rc)
			rc = query(dev, dev->cmd.data, &dev->resp, 0, 1, "configure: line count");
		if (rc == MG_OK && (mg_scpi_parse_long(dev->resp.data, dev->resp.len, &n) || n != (long)nlines))
			rc = mg_fail(MG_ERR_PROTOCOL, DOM, "configure: the instrument reports %ld line(s) ('%.20s'), %zu were sent",
			             n, dev->resp.data, nlines);
	}
	for (size_t i = 0; i < nlines && rc == MG_OK && p->layout == MG_ICP_LAYOUT_INTENSITIES; i++) {
		memset(&v, 0, sizeof(v));
		v.line = (int)i + 1;
		v.element = copy[i].element;
		v.wavelength = copy[i].wavelength_nm;
		snprintf(what, sizeof(what), "configure: wavelengths of line %zu (%s)", i + 1, copy[i].label);
		rc = expand(dev, &p->wavelengths, &v, what);
		if (!rc)
			rc = query(dev, dev->cmd.data, &dev->resp, 0, 1, what);
		if (!rc && mg_icp_parse_wavelengths(p, dev->resp.data, dev->resp.len, dev->wl[i], MG_ICP_MAX_PIXELS,
		                                     &dev->nwl[i]))
			rc = fail_wrap(MG_ERR_PROTOCOL, "%s", what);
	}
	sync_stats(dev);
	if (rc)
		return rc;
	memcpy(dev->lines, copy, nlines * sizeof(copy[0]));
	dev->nlines = nlines;
	dev->integration_s = integration_s;
	dev->replicates = replicates;
	dev->configured = 1;
	mg_dbg(DOM, "%s: %zu line(s), %.3f s x %u replicate(s)", dev->id.transport, nlines, integration_s, replicates);
	return MG_OK;
}

/* ------------------------------------------------------------ measure */

mg_icp_measurement *mg_icp_measurement_new(void)
{
	return calloc(1, sizeof(mg_icp_measurement));
}

void mg_icp_measurement_free(mg_icp_measurement *m)
{
	free(m);
}

static void utc_now(char *dst, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(dst, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int wait_run(mg_icp_device *d, unsigned timeout_ms, const char *what)
{
	const mg_icp_profile *p = d->profile;
	if (p->wait == MG_ICP_WAIT_OPC) {
		int rc = query(d, p->opc_query, &d->resp, timeout_ms, 0, what);
		long v = 0;
		if (rc == MG_OK && (mg_scpi_parse_long(d->resp.data, d->resp.len, &v) || v != 1))
			rc = mg_fail(MG_ERR_PROTOCOL, DOM, "%s: %s answered '%.20s', not 1", what, p->opc_query, d->resp.data);
		return rc;
	}
	uint64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		long v = 0;
		int rc = query(d, p->poll_query, &d->resp, 0, 1, what);
		if (rc)
			return rc;
		d->st.polls++;
		if (mg_scpi_parse_long(d->resp.data, d->resp.len, &v))
			return mg_fail(MG_ERR_PROTOCOL, DOM, "%s: %s answered '%.20s', not a number", what, p->poll_query,
			               d->resp.data);
		if (!(v & p->poll_busy_mask))
			return MG_OK;
		if (now_ms() >= deadline)
			return mg_fail(MG_ERR_TIMEOUT, DOM, "%s: still running after %u ms (%s = %ld)", what, timeout_ms,
			               p->poll_query, v);
		if (p->poll_interval_ms) {
			struct timespec ts = {(time_t)(p->poll_interval_ms / 1000), (long)(p->poll_interval_ms % 1000) * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
}

int mg_icp_measure(mg_icp_device *dev, int position, const char *label, mg_icp_measurement *out)
{
	CHECK_DEV(dev, "mg_icp_measure");
	const mg_icp_profile *p = dev->profile;
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_icp_measure: out is NULL");
	if (!dev->configured)
		return mg_fail(MG_ERR_ARG, DOM, "measure: configure the lines first (mg_icp_configure)");
	if (position < p->position_min || position > p->position_max)
		return mg_fail(MG_ERR_ARG, DOM, "measure: position %d (%d to %d with profile %s)", position, p->position_min,
		               p->position_max, p->name);
	if (!label)
		label = "";
	if (strlen(label) >= sizeof(out->sample_label))
		return mg_fail(MG_ERR_ARG, DOM, "measure: label longer than %zu characters", sizeof(out->sample_label) - 1);
	for (const char *c = label; *c; c++)
		if ((unsigned char)*c < 32 || *c == 127)
			return mg_fail(MG_ERR_ARG, DOM, "measure: control character in the label");
	memset(out, 0, sizeof(*out));
	snprintf(out->sample_label, sizeof(out->sample_label), "%s", label);
	out->position = position;
	out->nlines = dev->nlines;
	memcpy(out->line, dev->lines, dev->nlines * sizeof(dev->lines[0]));
	out->nreplicates = dev->replicates;

	char what[160];
	snprintf(what, sizeof(what), "measuring position %d%s%s%s", position, *label ? " (" : "", label, *label ? ")" : "");
	mg_icp_vars v = {0};
	v.position = position;
	v.label = label;
	int rc = expand(dev, &p->position, &v, what);
	if (!rc)
		rc = send_cmd(dev, dev->cmd.data, what);
	if (!rc && p->label.source) {
		rc = expand(dev, &p->label, &v, what);
		if (!rc)
			rc = send_cmd(dev, dev->cmd.data, what);
	}
	if (!rc)
		rc = expand(dev, &p->start, &v, what);
	if (!rc) {
		utc_now(out->start_time, sizeof(out->start_time));
		rc = send_cmd(dev, dev->cmd.data, what);
	}
	if (!rc) {
		double run_s = p->overhead_s + 1.5 * dev->replicates * dev->integration_s + 1.0;
		double t = base_timeout(dev) + run_s * 1000.0;
		rc = wait_run(dev, t > 4e9 ? 4000000000u : (unsigned)t, what);
	}
	if (!rc)
		rc = check_errors(dev, what);
	if (!rc && p->run_count.source) {
		long n = -1;
		memset(&v, 0, sizeof(v));
		rc = expand(dev, &p->run_count, &v, what);
		if (!rc)
			rc = query(dev, dev->cmd.data, &dev->resp, 0, 1, what);
		if (!rc && (mg_scpi_parse_long(dev->resp.data, dev->resp.len, &n) || n != (long)dev->replicates))
			rc = mg_fail(MG_ERR_PROTOCOL, DOM, "%s: the instrument reports %ld replicate(s) ('%.20s'), %u configured",
			             what, n, dev->resp.data, dev->replicates);
	}
	if (!rc) {
		rc = query(dev, p->plasma_query, &dev->resp, 0, 1, what);
		if (!rc && mg_icp_parse_plasma(p, dev->resp.data, dev->resp.len, &out->plasma))
			rc = explain(dev, MG_ERR_PROTOCOL, what);
	}
	for (unsigned r = 0; r < dev->replicates && !rc; r++) {
		out->replicate[r].integration_s = dev->integration_s;
		for (size_t l = 0; l < dev->nlines && !rc; l++) {
			char w2[224];
			snprintf(w2, sizeof(w2), "%s: window of %s, replicate %u", what, dev->lines[l].label, r + 1);
			memset(&v, 0, sizeof(v));
			v.line = (int)l + 1;
			v.replicate = (int)r + 1;
			v.element = dev->lines[l].element;
			v.wavelength = dev->lines[l].wavelength_nm;
			rc = expand(dev, &p->window, &v, w2);
			int tries = 0;
			while (!rc) {
				rc = query(dev, dev->cmd.data, &dev->resp, 0, 1, w2);
				if (rc)
					break;
				mg_icp_window *w = &out->replicate[r].window[l];
				rc = mg_icp_parse_window(p, dev->resp.data, dev->resp.len, dev->wl[l], dev->nwl[l], w);
				double wl = dev->lines[l].wavelength_nm;
				if (!rc && !(w->wavelength_nm[0] <= wl && wl <= w->wavelength_nm[w->npix - 1]))
					rc = mg_fail(MG_ERR_PROTOCOL, DOM, "the window %.4f-%.4f nm does not hold %.4f nm",
					             w->wavelength_nm[0], w->wavelength_nm[w->npix - 1], wl);
				if (!rc) {
					dev->st.windows++;
					break;
				}
				/* a garbled answer: ask again (the stream may have been corrupted) */
				if ((unsigned)tries++ >= dev->retries) {
					rc = explain(dev, MG_ERR_PROTOCOL, w2);
					break;
				}
				dev->st.retries++;
				mg_warn(DOM, "%s: %s: %s; asking again", dev->id.transport, w2, mg_error_detail());
				rc = MG_OK;
			}
		}
	}
	if (!rc)
		rc = check_errors(dev, what);
	if (!rc)
		dev->st.measurements++;
	sync_stats(dev);
	return rc;
}

/* ------------------------------------------------------------ the registry's "icp" family */

static int drv_open(mg_device *dev, mg_transport_uri *uri)
{
	mg_icp_device *d = NULL;
	int rc = icp_open_uri(uri, NULL, NULL, dev->timeout_ms, dev->quiet, &d);
	if (rc)
		return rc;
	char desc[320];
	snprintf(desc, sizeof(desc), "%s %s (%s), ICP-OES profile %s", d->id.manufacturer, d->id.model, d->id.transport,
	         d->profile->name);
	mg_transport_kind k = mg_transport_get_kind(d->t);
	if (mg_device_info_set_(&dev->info.driver, dev->driver->name) ||
	    mg_device_info_set_(&dev->info.transport, k == MG_TRANSPORT_LOOPBACK ? "sim" : mg_transport_kind_name(k)) ||
	    mg_device_info_set_(&dev->info.model, d->id.model) ||
	    mg_device_info_set_(&dev->info.serial, d->id.serial[0] ? d->id.serial : NULL) ||
	    mg_device_info_set_(&dev->info.firmware, d->id.firmware[0] ? d->id.firmware : NULL) ||
	    mg_device_info_set_(&dev->info.description, desc)) {
		dev_free(d);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	dev->info.status = MG_OK;
	dev->icp = d;
	dev->transport = d->t;
	return MG_OK;
}

static void drv_close(mg_device *dev)
{
	mg_icp_close(dev->icp);
	dev->icp = NULL;
	dev->transport = NULL;
}

static int not_xrf(mg_device *dev, const char *what)
{
	return mg_fail(MG_ERR_UNSUPPORTED, DOM, "%s is an ICP-OES (%s): %s does not apply; use the ICP API (icp_device.h)",
	               dev->info.uri ? dev->info.uri : "the device", dev->info.model ? dev->info.model : "?", what);
}

static int drv_configure(mg_device *dev, const char *config)
{
	(void)config;
	return not_xrf(dev, "an XRF configuration");
}

static int drv_read_config(mg_device *dev, const char *mnemonics, mg_kvlist *out)
{
	(void)mnemonics;
	(void)out;
	return not_xrf(dev, "an XRF configuration readback");
}

static int drv_clear(mg_device *dev)
{
	return not_xrf(dev, "clearing a spectrum");
}

static int drv_start(mg_device *dev)
{
	return not_xrf(dev, "starting an XRF acquisition");
}

static int drv_stop(mg_device *dev)
{
	return not_xrf(dev, "stopping an XRF acquisition");
}

static int drv_status(mg_device *dev, mg_xrf_status *st)
{
	(void)st;
	return not_xrf(dev, "an XRF status");
}

static int drv_ping(mg_device *dev)
{
	return mg_icp_identify(dev->icp, NULL);
}

static int drv_read_spectrum(mg_device *dev, unsigned flags, mg_spectrum **out, mg_xrf_status *st)
{
	(void)flags;
	(void)out;
	(void)st;
	return not_xrf(dev, "an XRF spectrum");
}

static const char *const sims[] = {"icp", NULL};

const mg_device_driver mg_icp_driver = {
	.name = "icp",
	.description = "ICP-OES over SCPI (serial, USBTMC), driven by an instrument profile",
	.usb_kind = MG_USB_USBTMC,
	.serial = 0, /* plain serial: is the DP5's; scpi+serial: comes here */
	.sim_names = sims,
	.open = drv_open,
	.close = drv_close,
	.configure = drv_configure,
	.read_config = drv_read_config,
	.clear = drv_clear,
	.start = drv_start,
	.stop = drv_stop,
	.status = drv_status,
	.ping = drv_ping,
	.read_spectrum = drv_read_spectrum,
	.protocol = "scpi",
	.sim_description = "simulated ICP-OES, SCPI (profile magassay-sim-icp), in process (parameters: docs/commands/sim.md)",
};
