/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Amptek DP5-family instrument driver (DP5, X-123, PX5, DP5G, MCA8000D,
 * TB5, DP5-X) over any transport: the operations of the driver table
 * (device_internal.h), each one or more exchanges (exchange.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drivers/dp5/exchange.h"

#define DOM "dp5"

/* ------------------------------------------------------------ status */

static void firmware_text(const mg_dp5_status *s, char *fw, size_t fwcap, char *fpga, size_t fpgacap)
{
	unsigned v = ((unsigned)s->fw_major << 4) | s->fw_minor;
	if (v > 0x65)
		snprintf(fw, fwcap, "%u.%02u Build %u", s->fw_major, s->fw_minor, s->fw_build);
	else
		snprintf(fw, fwcap, "%u.%02u", s->fw_major, s->fw_minor);
	snprintf(fpga, fpgacap, "%u.%02u", s->fpga_major, s->fpga_minor);
}

static void to_xrf(const mg_dp5_status *d, mg_xrf_status *x)
{
	memset(x, 0, sizeof(*x));
	x->dp5 = *d;
	x->fast_count = d->fast_count;
	x->slow_count = d->slow_count;
	x->accumulation_s = d->accumulation_s;
	x->live_s = d->effective_live_s;
	x->real_s = d->real_s;
	x->dead_time_pct = d->dead_time_pct;
	x->input_rate_cps = d->input_rate_cps;
	x->output_rate_cps = d->output_rate_cps;
	x->acquiring = d->mca_enabled;
	x->preset_time_reached =
		d->preset_real_time_done || (d->device_type == MG_DP5_DEV_MCA8000D && d->afast_locked);
	x->preset_count_reached = d->preset_count_done;
	x->preset_reached = x->preset_time_reached || x->preset_count_reached;
	x->hv_v = d->hv_v;
	x->detector_temp_k = d->det_temp_k;
	x->board_temp_c = d->board_temp_c;
	if (d->serial_valid)
		snprintf(x->serial, sizeof(x->serial), "%lu", (unsigned long)d->serial_number);
	snprintf(x->model, sizeof(x->model), "%s", mg_dp5_device_name(d->device_type));
	firmware_text(d, x->firmware, sizeof(x->firmware), x->fpga, sizeof(x->fpga));
}

static int dp5_status(mg_device *dev, mg_xrf_status *st)
{
	uint8_t req[MG_DP5_REQUEST_MAX];
	int n = mg_dp5_request(MG_DP5_REQ_STATUS, req, sizeof(req));
	if (n < 0)
		return n;
	mg_dp5_response rsp;
	int rc = dp5_exchange(dev, req, (size_t)n, EXP_STATUS, 1, &rsp, "request status");
	if (rc < 0)
		return rc;
	mg_dp5_status d;
	rc = mg_dp5_status_decode(rsp.status, MG_DP5_STATUS_LEN, &d);
	if (rc < 0)
		return rc;
	if (st)
		to_xrf(&d, st);
	return MG_OK;
}

static int fill_identity(mg_device *dev, const mg_xrf_status *st)
{
	char desc[256];
	snprintf(desc, sizeof(desc), "Amptek %s (%s)", st->model, mg_transport_description(dev->transport));
	mg_transport_kind k = mg_transport_get_kind(dev->transport);
	if (mg_device_info_set_(&dev->info.driver, dev->driver->name) ||
	    mg_device_info_set_(&dev->info.transport, k == MG_TRANSPORT_LOOPBACK ? "sim" : mg_transport_kind_name(k)) ||
	    mg_device_info_set_(&dev->info.model, st->model) ||
	    mg_device_info_set_(&dev->info.serial, st->serial[0] ? st->serial : NULL) ||
	    mg_device_info_set_(&dev->info.firmware, st->firmware) ||
	    mg_device_info_set_(&dev->info.fpga, st->fpga) || mg_device_info_set_(&dev->info.description, desc))
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	dev->info.status = MG_OK;
	return MG_OK;
}

/* ------------------------------------------------------------ open / close */

static int new_state(mg_device *dev)
{
	struct mg_dp5_dev *p = calloc(1, sizeof(*p));
	if (!p || !(p->rx = malloc(DP5_RX_CAP))) {
		free(p);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	dev->dp5 = p;
	return MG_OK;
}

static void free_state(mg_device *dev)
{
	struct mg_dp5_dev *p = dev->dp5;
	if (!p)
		return;
	mg_kvlist_clear(&p->config);
	free(p->rx);
	free(p);
	dev->dp5 = NULL;
}

/* usb:VID:PID?serial=N: ask every unit its status serial number. */
struct serial_match {
	const mg_device *parent;
	const char *want;
	char seen[512];
	size_t nseen;
};

static int match_serial(mg_transport *t, void *userdata)
{
	struct serial_match *m = userdata;
	mg_device tmp;
	memset(&tmp, 0, sizeof(tmp));
	tmp.driver = m->parent->driver;
	tmp.transport = t;
	tmp.timeout_ms = m->parent->timeout_ms;
	tmp.retries = m->parent->retries;
	tmp.quiet = m->parent->quiet;
	if (new_state(&tmp) < 0)
		return MG_ERR_NOMEM;
	mg_xrf_status st;
	int rc = dp5_status(&tmp, &st);
	free_state(&tmp);
	size_t len = strlen(m->seen);
	const char *sep = m->nseen ? ", " : "";
	if (rc < 0) {
		mg_dbg(DOM, "%s: no status: %s", mg_transport_description(t), mg_error_detail());
		snprintf(m->seen + len, sizeof(m->seen) - len, "%sno answer (%s)", sep, mg_transport_description(t));
		m->nseen++;
		return 0;
	}
	snprintf(m->seen + len, sizeof(m->seen) - len, "%s%s (%s)", sep, st.serial[0] ? st.serial : "invalid",
	         mg_transport_description(t));
	m->nseen++;
	return !strcmp(st.serial, m->want) ? 1 : 0;
}

static int dp5_open(mg_device *dev, mg_transport_uri *uri)
{
	int rc;
	if ((rc = new_state(dev)) < 0)
		return rc;
	if (uri->scheme == MG_SCHEME_USB && !uri->usb_by_address && uri->serial) {
		struct serial_match m = {.parent = dev, .want = uri->serial};
		rc = mg_transport_open_usb_match(uri->vid, uri->pid, match_serial, &m, &dev->transport);
		if (rc == MG_ERR_NOT_FOUND)
			rc = mg_fail(MG_ERR_NOT_FOUND, DOM, "no %04x:%04x unit reports serial number %s (%s%s)", uri->vid,
			             uri->pid, uri->serial, m.nseen ? "serial numbers seen: " : "no unit answered",
			             m.seen);
	} else {
		rc = mg_transport_open_uri(uri, &dev->transport);
	}
	if (rc < 0) {
		free_state(dev);
		return rc;
	}
	mg_xrf_status st;
	rc = dp5_status(dev, &st);
	if (rc < 0) {
		rc = dp5_fail_wrap(rc, "%s does not answer as a DP5-family instrument",
		               mg_transport_description(dev->transport));
		mg_transport_close(dev->transport);
		dev->transport = NULL;
		free_state(dev);
		return rc;
	}
	rc = fill_identity(dev, &st);
	if (rc < 0) {
		mg_transport_close(dev->transport);
		dev->transport = NULL;
		free_state(dev);
		return rc;
	}
	mg_info(DOM, "%s: %s serial %s, firmware %s, FPGA %s", mg_transport_description(dev->transport), st.model,
	        st.serial[0] ? st.serial : "invalid", st.firmware, st.fpga);
	return MG_OK;
}

static void dp5_close(mg_device *dev)
{
	mg_transport_close(dev->transport);
	dev->transport = NULL;
	free_state(dev);
}

/* ------------------------------------------------------------ configuration */

/* Walk the packets mg_dp5_config_*_packets() appended to b. */
static int next_packet(const mg_buf *b, size_t *off, const uint8_t **pk, size_t *len)
{
	if (*off >= b->len)
		return 0;
	mg_dp5_packet pkt;
	size_t consumed = 0;
	if (mg_dp5_parse(b->data + *off, b->len - *off, &pkt, &consumed) != MG_OK)
		return mg_fail(MG_ERR_INTERNAL, DOM, "the codec built a packet it cannot parse");
	*pk = (const uint8_t *)b->data + *off;
	*len = pkt.size;
	*off += pkt.size;
	return 1;
}

/* The value of MCAC=N in a config string (0 if absent or not a size). */
static size_t mcac_in(const char *text, size_t len)
{
	size_t nchan = 0;
	for (size_t i = 0; i + 5 <= len; i++) {
		if ((i == 0 || text[i - 1] == ';') && !strncmp(text + i, "MCAC=", 5)) {
			unsigned long v = strtoul(text + i + 5, NULL, 10);
			if (v >= MG_DP5_MIN_CHANNELS && v <= MG_DP5_MAX_CHANNELS && !(v & (v - 1)))
				nchan = v;
		}
	}
	return nchan;
}

static int dp5_configure(mg_device *dev, const char *config)
{
	struct mg_dp5_dev *p = dev->dp5;
	mg_buf b;
	mg_buf_init(&b);
	int npk = mg_dp5_config_set_packets(&b, config);
	if (npk < 0) {
		mg_buf_free(&b);
		return npk;
	}
	p->config_valid = 0; /* the remembered readback is stale from now on */
	size_t off = 0, len;
	const uint8_t *pk;
	int rc = MG_OK, k = 0, more;
	while ((more = next_packet(&b, &off, &pk, &len)) > 0) {
		k++;
		mg_dp5_response rsp;
		char what[64];
		snprintf(what, sizeof(what), "configuration packet %d of %d", k, npk);
		rc = dp5_exchange(dev, pk, len, EXP_ACK, 1, &rsp, what);
		if (rc == MG_ERR_DEVICE) {
			char text[160];
			dp5_ack_text(&rsp, text, sizeof(text));
			if (!*text) /* no command named: name the packet's commands */
				snprintf(text, sizeof(text), "%.*s", (int)(len - MG_DP5_OVERHEAD > 150 ? 150 : len - MG_DP5_OVERHEAD),
				         (const char *)pk + MG_DP5_HEADER_LEN);
			rc = mg_fail(MG_ERR_DEVICE, DOM, "configure: the device rejected '%s': %s (ACK %02X)%s", text,
			             mg_dp5_ack_message(rsp.ack), rsp.ack,
			             k > 1 ? "; the packets before it were applied" : "");
		}
		if (rc < 0)
			break;
		size_t n = mcac_in((const char *)pk + MG_DP5_HEADER_LEN, len - MG_DP5_OVERHEAD);
		if (n)
			p->nchan = n;
		if (strstr(config, "RESC=")) /* defaults restored: MCAC unknown again unless set after */
			p->nchan = n ? n : 0;
	}
	if (more < 0)
		rc = more;
	mg_buf_free(&b);
	if (rc == MG_OK)
		mg_dbg(DOM, "configured (%d packet(s))", npk);
	return rc;
}

/* The family's full readback list: every mnemonic the codec knows. */
static int default_mnemonics(mg_buf *out)
{
	size_t n;
	const mg_dp5_config_entry *t = mg_dp5_config_table(&n);
	for (size_t i = 0; i < n; i++)
		mg_buf_printf(out, "%s;", t[i].mnemonic);
	return mg_buf_status(out);
}

/* Remove "XXXX;" from list (a mg_buf of "CMD;CMD;"). 1 if removed. */
static int remove_mnemonic(mg_buf *list, const char *m)
{
	for (size_t i = 0; i + 5 <= list->len; i += 5) {
		if (!memcmp(list->data + i, m, 4) && list->data[i + 4] == ';') {
			memmove(list->data + i, list->data + i + 5, list->len - i - 5);
			list->len -= 5;
			list->data[list->len] = '\0';
			return 1;
		}
	}
	return 0;
}

static int dp5_read_config(mg_device *dev, const char *mnemonics, mg_kvlist *out)
{
	struct mg_dp5_dev *p = dev->dp5;
	int full = mnemonics == NULL;
	mg_buf list;
	mg_buf_init(&list);
	if (full ? default_mnemonics(&list) : mg_buf_puts(&list, mnemonics)) {
		mg_buf_free(&list);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	mg_kvlist got = {0};
	int rc = MG_OK;
	/* each round either succeeds or drops one mnemonic the unit does not know */
	for (unsigned round = 0; round <= list.len / 5 + 1; round++) {
		mg_kvlist_clear(&got);
		mg_buf b;
		mg_buf_init(&b);
		int npk = list.len ? mg_dp5_config_get_packets(&b, list.data) : 0;
		if (npk < 0) {
			rc = npk;
			mg_buf_free(&b);
			break;
		}
		size_t off = 0, len;
		const uint8_t *pk;
		int more, k = 0, dropped = 0;
		rc = MG_OK;
		while ((more = next_packet(&b, &off, &pk, &len)) > 0) {
			mg_dp5_response rsp;
			char what[64];
			snprintf(what, sizeof(what), "configuration readback packet %d of %d", ++k, npk);
			rc = dp5_exchange(dev, pk, len, EXP_CONFIG, 1, &rsp, what);
			if (rc == MG_ERR_DEVICE) {
				char text[160];
				dp5_ack_text(&rsp, text, sizeof(text));
				if (full && rsp.ack == MG_DP5_ACK_UNRECOG_COMMAND && strlen(text) >= 4 &&
				    remove_mnemonic(&list, text)) {
					mg_dbg(DOM, "the unit does not know %.4s: read back without it", text);
					dropped = 1;
					rc = MG_OK;
					break;
				}
				rc = mg_fail(MG_ERR_DEVICE, DOM, "configuration readback: the device rejected '%s': %s (ACK %02X)",
				             *text ? text : "(not named)", mg_dp5_ack_message(rsp.ack), rsp.ack);
			}
			if (rc < 0)
				break;
			rc = mg_dp5_config_parse(rsp.data, rsp.len, &got);
			if (rc < 0) {
				rc = dp5_fail_wrap(rc, "configuration readback");
				break;
			}
		}
		if (more < 0)
			rc = more;
		mg_buf_free(&b);
		if (rc < 0 || !dropped)
			break;
	}
	mg_buf_free(&list);
	if (rc < 0) {
		mg_kvlist_clear(&got);
		return rc;
	}
	for (size_t i = 0; i < got.count; i++)
		if (mg_kvlist_add(out, got.items[i].key, got.items[i].value, got.items[i].comment) < 0) {
			mg_kvlist_clear(&got);
			return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		}
	const char *mcac = mg_kvlist_get(&got, "MCAC");
	if (mcac) {
		unsigned long v = strtoul(mcac, NULL, 10);
		if (v >= MG_DP5_MIN_CHANNELS && v <= MG_DP5_MAX_CHANNELS)
			p->nchan = v;
	}
	int count = (int)got.count;
	if (full) {
		mg_kvlist_clear(&p->config);
		p->config = got;
		p->config_valid = 1;
	} else {
		mg_kvlist_clear(&got);
	}
	return count;
}

/* ------------------------------------------------------------ acquisition */

static void utc_now(char *dst, size_t cap)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(dst, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int dp5_clear(mg_device *dev)
{
	int rc = dp5_simple(dev, MG_DP5_REQ_CLEAR_SPECTRUM, "clear spectrum");
	if (rc == MG_OK)
		dev->dp5->start_time[0] = '\0';
	return rc;
}

static int dp5_start(mg_device *dev)
{
	int rc = dp5_simple(dev, MG_DP5_REQ_ENABLE_MCA, "enable MCA");
	if (rc == MG_OK && !dev->dp5->start_time[0])
		utc_now(dev->dp5->start_time, sizeof(dev->dp5->start_time));
	return rc;
}

static int dp5_stop(mg_device *dev)
{
	return dp5_simple(dev, MG_DP5_REQ_DISABLE_MCA, "disable MCA");
}

static int dp5_ping(mg_device *dev)
{
	return dp5_simple(dev, MG_DP5_REQ_KEEP_ALIVE, "keep-alive");
}

static double conf_number(const mg_kvlist *c, const char *key)
{
	const char *v = mg_kvlist_get(c, key);
	if (!v)
		return NAN;
	char *end;
	double x = strtod(v, &end);
	return end != v && !*end ? x : NAN;
}

static int build_spectrum(mg_device *dev, const mg_dp5_response *rsp, const mg_dp5_status *d, mg_spectrum **out)
{
	struct mg_dp5_dev *p = dev->dp5;
	size_t nchan = rsp->nchan;
	uint32_t *c = malloc(nchan * sizeof(*c));
	mg_spectrum *s = mg_spectrum_new(nchan);
	mg_kvlist st = {0};
	int rc = MG_ERR_NOMEM;
	if (!c || !s)
		goto nomem;
	rc = mg_dp5_spectrum_decode(rsp->counts, 3 * nchan, c, nchan);
	if (rc < 0)
		goto fail;
	for (size_t i = 0; i < nchan; i++)
		s->counts[i] = (double)c[i];
	if (d) {
		s->live_time_s = d->effective_live_s;
		s->real_time_s = d->real_s;
		char fw[24], fpga[16], both[48];
		firmware_text(d, fw, sizeof(fw), fpga, sizeof(fpga));
		snprintf(both, sizeof(both), "%s/FPGA %s", fw, fpga);
		if (mg_str_set(&s->instrument.firmware, both))
			goto nomem;
		if (mg_str_set(&s->instrument.model, mg_dp5_device_name(d->device_type)))
			goto nomem;
		if (d->serial_valid) {
			char sn[16];
			snprintf(sn, sizeof(sn), "%lu", (unsigned long)d->serial_number);
			if (mg_str_set(&s->instrument.serial, sn))
				goto nomem;
		}
	} else if (dev->info.model) {
		if (mg_str_set(&s->instrument.model, dev->info.model) ||
		    mg_str_set(&s->instrument.serial, dev->info.serial))
			goto nomem;
	}
	if (p->start_time[0])
		snprintf(s->start_time, sizeof(s->start_time), "%s", p->start_time);
	if (p->config_valid) {
		s->acq.peaking_time_us = conf_number(&p->config, "TPEA");
		s->acq.preset_time_s = conf_number(&p->config, "PRET");
		s->acq.preset_real_s = conf_number(&p->config, "PRER");
		s->acq.preset_counts = conf_number(&p->config, "PREC");
	}
	/* meta: the .mca sections, status first as Amptek's files have them after the data */
	if (d) {
		if (mg_dp5_status_to_kvlist(d, &st) < 0)
			goto nomem;
		for (size_t i = 0; i < st.count; i++) {
			char key[96];
			snprintf(key, sizeof(key), "dp5.status.%s", st.items[i].key);
			if (mg_kvlist_add(&s->meta, key, st.items[i].value, st.items[i].comment) < 0)
				goto nomem;
		}
	}
	if (p->config_valid)
		for (size_t i = 0; i < p->config.count; i++) {
			char key[96];
			snprintf(key, sizeof(key), "dp5.config.%s", p->config.items[i].key);
			if (mg_kvlist_add(&s->meta, key, p->config.items[i].value, p->config.items[i].comment) < 0)
				goto nomem;
		}
	rc = mg_spectrum_validate(s);
	if (rc < 0) {
		rc = dp5_fail_wrap(rc, "the spectrum read is not valid");
		goto fail;
	}
	mg_kvlist_clear(&st);
	free(c);
	*out = s;
	return MG_OK;
nomem:
	rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
fail:
	mg_kvlist_clear(&st);
	free(c);
	mg_spectrum_free(s);
	return rc;
}

static int dp5_read_spectrum(mg_device *dev, unsigned flags, mg_spectrum **out, mg_xrf_status *st)
{
	struct mg_dp5_dev *p = dev->dp5;
	int rc;
	if (!(flags & MG_READ_NO_CONFIG) && !p->config_valid) {
		mg_kvlist tmp = {0};
		rc = dp5_read_config(dev, NULL, &tmp);
		mg_kvlist_clear(&tmp);
		if (rc == MG_ERR_DISCONNECTED || rc == MG_ERR_NOMEM)
			return rc;
		if (rc < 0)
			mg_warn(DOM, "the spectrum will lack its configuration: %s", mg_error_detail());
	}
	int with_status = !(flags & MG_READ_NO_STATUS), clear = flags & MG_READ_CLEAR;
	enum mg_dp5_request r = with_status ? (clear ? MG_DP5_REQ_SPECTRUM_STATUS_CLEAR : MG_DP5_REQ_SPECTRUM_STATUS)
	                                    : (clear ? MG_DP5_REQ_SPECTRUM_CLEAR : MG_DP5_REQ_SPECTRUM);
	uint8_t req[MG_DP5_REQUEST_MAX];
	int n = mg_dp5_request(r, req, sizeof(req));
	if (n < 0)
		return n;
	mg_dp5_response rsp;
	rc = dp5_exchange(dev, req, (size_t)n, with_status ? EXP_SPECTRUM_STATUS : EXP_SPECTRUM, !clear, &rsp,
	              mg_dp5_request_name(r));
	if (rc < 0)
		return rc;
	mg_dp5_status d;
	if (with_status) {
		rc = mg_dp5_status_decode(rsp.status, MG_DP5_STATUS_LEN, &d);
		if (rc < 0)
			return rc;
	}
	if (p->nchan && p->nchan != rsp.nchan)
		mg_dbg(DOM, "the unit sent %zu channels (MCAC said %zu)", rsp.nchan, p->nchan);
	p->nchan = rsp.nchan;
	rc = build_spectrum(dev, &rsp, with_status ? &d : NULL, out);
	if (rc < 0)
		return rc;
	if (clear) /* the next spectrum starts now */
		utc_now(p->start_time, sizeof(p->start_time));
	if (st) {
		if (with_status)
			to_xrf(&d, st);
		else
			memset(st, 0, sizeof(*st));
	}
	return MG_OK;
}

static const char *const sims[] = {"xrf", NULL};

const mg_device_driver mg_dp5_driver = {
	.name = "dp5",
	.description = "Amptek DP5 family (DP5, X-123, PX5, DP5G, MCA8000D, TB5, DP5-X)",
	.usb_kind = MG_USB_DP5,
	.serial = 1,
	.sim_names = sims,
	.open = dp5_open,
	.close = dp5_close,
	.configure = dp5_configure,
	.read_config = dp5_read_config,
	.clear = dp5_clear,
	.start = dp5_start,
	.stop = dp5_stop,
	.status = dp5_status,
	.ping = dp5_ping,
	.read_spectrum = dp5_read_spectrum,
};
