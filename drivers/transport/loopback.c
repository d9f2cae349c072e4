/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Loopback transport: an in-process simulated device (mg_simdev) behind the
 * transport API, the registry of simulators for `sim:NAME` URIs, and fault
 * injection on the device -> host byte stream.
 *
 * Nothing here sleeps: time is simulated. A read with nothing pending calls
 * the device's tick(timeout_ms) once and, if that produced nothing, returns
 * MG_ERR_TIMEOUT at once, as if the full timeout had passed.
 *
 * Faults (each at most once; offsets count the bytes the device sent since
 * open, from 0, before any fault is applied):
 *   drop=N[@OFF]        N bytes from offset OFF (default 0) never arrive
 *   corrupt=OFF[,OFF..] the byte at each offset arrives inverted (XOR 0xFF)
 *   stall=N[@OFF]       when the host has read up to offset OFF (default 0),
 *                       its next N reads time out although data is waiting
 *   disconnect=N        the device vanishes at offset N: bytes before it can
 *                       be read, then reads and writes are MG_ERR_DISCONNECTED
 *   disconnect=Nw       the device vanishes after accepting N writes: what it
 *                       sent so far can be read, then MG_ERR_DISCONNECTED
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "transport_internal.h"

#define DOM "loopback"
#define MAX_CORRUPT 16
#define NONE UINT64_MAX

struct faults {
	uint64_t drop_off, drop_n;
	uint64_t corrupt[MAX_CORRUPT];
	size_t ncorrupt;
	uint64_t stall_off, stall_left;
	uint64_t disc_off;     /* NONE: not armed */
	uint64_t disc_writes;  /* NONE: not armed */
};

struct loop_priv {
	mg_simdev *dev;
	mg_buf pending;      /* device output not yet read */
	size_t pend_pos;     /* index in pending of the next byte */
	uint64_t off;        /* stream offset of pending.data[pend_pos] */
	uint64_t writes;
	int vanished;        /* disconnect=Nw reached */
	struct faults f;
};

/* ---------------------------------------------------------- registry */

struct sim_entry {
	char *name;
	mg_simdev_factory factory;
	void *userdata;
};
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sim_entry *reg;
static size_t nreg;

int mg_transport_register_sim(const char *name, mg_simdev_factory factory, void *userdata)
{
	if (!name || !*name)
		return mg_fail(MG_ERR_ARG, DOM, "mg_transport_register_sim: empty name");
	int rc = MG_OK;
	pthread_mutex_lock(&reg_lock);
	size_t i;
	for (i = 0; i < nreg; i++)
		if (!strcmp(reg[i].name, name))
			break;
	if (!factory) {
		if (i < nreg) {
			free(reg[i].name);
			reg[i] = reg[--nreg];
		}
	} else if (i < nreg) {
		reg[i].factory = factory;
		reg[i].userdata = userdata;
	} else {
		struct sim_entry *n = realloc(reg, (nreg + 1) * sizeof(*n));
		char *dup = strdup(name);
		if (!n || !dup) {
			free(dup);
			if (n)
				reg = n;
			rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		} else {
			reg = n;
			reg[nreg].name = dup;
			reg[nreg].factory = factory;
			reg[nreg].userdata = userdata;
			nreg++;
		}
	}
	pthread_mutex_unlock(&reg_lock);
	return rc;
}

/* ---------------------------------------------------------- faults */

static const char *const fault_keys[] = {"drop", "corrupt", "stall", "disconnect"};

static int is_fault_key(const char *k)
{
	for (size_t i = 0; i < MG_ARRAY_SIZE(fault_keys); i++)
		if (!strcmp(k, fault_keys[i]))
			return 1;
	return 0;
}

/* "N" or "N@OFF" */
static int parse_n_at(const char *key, const char *v, uint64_t *n, uint64_t *off)
{
	char tmp[64];
	unsigned long a, b = 0;
	const char *at = strchr(v, '@');
	size_t len = at ? (size_t)(at - v) : strlen(v);
	if (len >= sizeof(tmp))
		goto bad;
	memcpy(tmp, v, len);
	tmp[len] = '\0';
	if (mg_transport_parse_uint_(tmp, 1ul << 40, &a) || (at && mg_transport_parse_uint_(at + 1, 1ul << 40, &b)))
		goto bad;
	*n = a;
	*off = b;
	return MG_OK;
bad:
	return mg_fail(MG_ERR_ARG, DOM, "fault '%s=%s': expected %s=N or %s=N@OFFSET (decimal)", key, v, key, key);
}

static int parse_faults(const mg_transport_param *params, size_t n, struct faults *f)
{
	memset(f, 0, sizeof(*f));
	f->disc_off = NONE;
	f->disc_writes = NONE;
	for (size_t i = 0; i < n; i++) {
		const char *k = params[i].key, *v = params[i].value;
		unsigned long x;
		int rc;
		if (!strcmp(k, "drop")) {
			if ((rc = parse_n_at(k, v, &f->drop_n, &f->drop_off)))
				return rc;
		} else if (!strcmp(k, "stall")) {
			if ((rc = parse_n_at(k, v, &f->stall_left, &f->stall_off)))
				return rc;
		} else if (!strcmp(k, "corrupt")) {
			const char *p = v;
			while (*p) {
				char tmp[32];
				const char *c = strchr(p, ',');
				size_t len = c ? (size_t)(c - p) : strlen(p);
				if (len == 0 || len >= sizeof(tmp) || f->ncorrupt == MAX_CORRUPT)
					return mg_fail(MG_ERR_ARG, DOM,
					               "fault 'corrupt=%s': expected up to %d decimal offsets separated by ','",
					               v, MAX_CORRUPT);
				memcpy(tmp, p, len);
				tmp[len] = '\0';
				if (mg_transport_parse_uint_(tmp, 1ul << 40, &x))
					return mg_fail(MG_ERR_ARG, DOM, "fault 'corrupt=%s': '%s' is not a decimal offset", v,
					               tmp);
				f->corrupt[f->ncorrupt++] = x;
				if (!c)
					break;
				p = c + 1;
				if (!*p)
					return mg_fail(MG_ERR_ARG, DOM, "fault 'corrupt=%s': trailing ','", v);
			}
		} else if (!strcmp(k, "disconnect")) {
			char tmp[32];
			size_t len = strlen(v);
			int writes = len > 0 && v[len - 1] == 'w';
			if (writes)
				len--;
			if (len == 0 || len >= sizeof(tmp))
				goto bad_disc;
			memcpy(tmp, v, len);
			tmp[len] = '\0';
			if (mg_transport_parse_uint_(tmp, 1ul << 40, &x))
				goto bad_disc;
			if (writes)
				f->disc_writes = x;
			else
				f->disc_off = x;
			continue;
		bad_disc:
			return mg_fail(MG_ERR_ARG, DOM,
			               "fault 'disconnect=%s': expected disconnect=N (after N bytes) or disconnect=Nw "
			               "(after N writes)",
			               v);
		} else {
			return mg_fail(MG_ERR_ARG, DOM,
			               "unknown fault parameter '%s' (known: drop, corrupt, stall, disconnect)", k);
		}
	}
	return MG_OK;
}

/* ---------------------------------------------------------- I/O */

static void compact(struct loop_priv *p)
{
	if (p->pend_pos == p->pending.len) {
		mg_buf_reset(&p->pending);
		p->pend_pos = 0;
	} else if (p->pend_pos > 65536 && p->pend_pos > p->pending.len / 2) {
		memmove(p->pending.data, p->pending.data + p->pend_pos, p->pending.len - p->pend_pos);
		p->pending.len -= p->pend_pos;
		p->pend_pos = 0;
	}
}

static int dev_error(mg_transport *t, int rc, const char *what)
{
	if (rc == MG_ERR_NOMEM)
		return mg_fail(MG_ERR_NOMEM, DOM, "%s: out of memory in the simulated device", t->desc);
	if (rc == MG_ERR_DISCONNECTED)
		return mg_fail(MG_ERR_DISCONNECTED, DOM, "%s: the simulated device went away (%s)", t->desc, what);
	return mg_fail(MG_ERR_IO, DOM, "%s: the simulated device failed in %s: %s", t->desc, what,
	               mg_strerror(rc));
}

static int at_disconnect(const struct loop_priv *p)
{
	return p->vanished || (p->f.disc_off != NONE && p->off >= p->f.disc_off);
}

static int loop_write(mg_transport *t, const uint8_t *data, size_t n, unsigned timeout_ms)
{
	struct loop_priv *p = t->priv;
	(void)timeout_ms;
	if (at_disconnect(p))
		return mg_fail(MG_ERR_DISCONNECTED, DOM, "%s: the device is gone (fault injected)", t->desc);
	int rc = p->dev->feed(p->dev, data, n, &p->pending);
	if (mg_buf_status(&p->pending))
		return dev_error(t, MG_ERR_NOMEM, "feed");
	if (rc < 0)
		return dev_error(t, rc, "feed");
	p->writes++;
	if (p->f.disc_writes != NONE && p->writes >= p->f.disc_writes)
		p->vanished = 1;
	return MG_OK;
}

static int is_corrupt(const struct loop_priv *p, uint64_t off)
{
	for (size_t i = 0; i < p->f.ncorrupt; i++)
		if (p->f.corrupt[i] == off)
			return 1;
	return 0;
}

static int loop_read(mg_transport *t, uint8_t *data, size_t n, unsigned timeout_ms)
{
	struct loop_priv *p = t->priv;
	int ticked = 0;
	for (;;) {
		size_t got = 0;
		while (got < n && p->pend_pos < p->pending.len) {
			if (p->f.disc_off != NONE && p->off >= p->f.disc_off)
				break;
			if (p->f.stall_left && p->off >= p->f.stall_off)
				break;
			uint8_t b = (uint8_t)p->pending.data[p->pend_pos++];
			uint64_t o = p->off++;
			if (p->f.drop_n && o >= p->f.drop_off && o - p->f.drop_off < p->f.drop_n)
				continue;
			if (is_corrupt(p, o))
				b ^= 0xFF;
			data[got++] = b;
		}
		compact(p);
		if (got)
			return (int)got;
		if (p->f.disc_off != NONE && p->off >= p->f.disc_off) {
			return mg_fail(MG_ERR_DISCONNECTED, DOM, "%s: the device is gone after %llu bytes (fault injected)",
			               t->desc, (unsigned long long)p->f.disc_off);
		}
		if (p->f.stall_left && p->off >= p->f.stall_off && p->pend_pos < p->pending.len) {
			p->f.stall_left--;
			return mg_fail(MG_ERR_TIMEOUT, DOM, "%s: stalled at byte %llu (fault injected)", t->desc,
			               (unsigned long long)p->off);
		}
		if (p->pend_pos < p->pending.len)
			continue; /* only dropped bytes so far: keep going */
		if (p->vanished)
			return mg_fail(MG_ERR_DISCONNECTED, DOM, "%s: the device is gone after %llu writes (fault injected)",
			               t->desc, (unsigned long long)p->writes);
		if (ticked || !p->dev->tick)
			return mg_fail(MG_ERR_TIMEOUT, DOM, "%s: no data within %u ms (simulated)", t->desc, timeout_ms);
		ticked = 1;
		int rc = p->dev->tick(p->dev, timeout_ms, &p->pending);
		if (mg_buf_status(&p->pending))
			return dev_error(t, MG_ERR_NOMEM, "tick");
		if (rc < 0)
			return dev_error(t, rc, "tick");
	}
}

static int loop_flush_input(mg_transport *t)
{
	struct loop_priv *p = t->priv;
	/* Discarded bytes still count as sent: offsets stay those of the device stream. */
	while (p->pend_pos < p->pending.len && !(p->f.disc_off != NONE && p->off >= p->f.disc_off)) {
		p->pend_pos++;
		p->off++;
	}
	compact(p);
	return MG_OK;
}

static void loop_close(mg_transport *t)
{
	struct loop_priv *p = t->priv;
	if (!p)
		return;
	if (p->dev && p->dev->free)
		p->dev->free(p->dev);
	mg_buf_free(&p->pending);
	free(p);
	t->priv = NULL;
}

static const struct mg_transport_ops loop_ops = {
	.write = loop_write,
	.read = loop_read,
	.flush_input = loop_flush_input,
	.close = loop_close,
};

static int open_loop(mg_simdev *dev, const char *name, const mg_transport_param *params, size_t nparams,
                     const char *faults_text, mg_transport **out)
{
	struct loop_priv *p = calloc(1, sizeof(*p));
	if (!p) {
		if (dev->free)
			dev->free(dev);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	p->dev = dev;
	mg_buf_init(&p->pending);
	mg_transport *t = faults_text && *faults_text
	                          ? mg_transport_alloc_(MG_TRANSPORT_LOOPBACK, &loop_ops, DOM, p, "sim %s [%s]",
	                                                name, faults_text)
	                          : mg_transport_alloc_(MG_TRANSPORT_LOOPBACK, &loop_ops, DOM, p, "sim %s", name);
	if (!t) {
		if (dev->free)
			dev->free(dev);
		free(p);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	int rc = parse_faults(params, nparams, &p->f);
	if (rc) {
		mg_transport_close(t);
		return rc;
	}
	*out = t;
	return MG_OK;
}

int mg_transport_open_loopback(mg_simdev *dev, const char *faults, mg_transport **out)
{
	mg_transport_param *params = NULL;
	size_t n = 0;
	if (!out || !dev || !dev->feed) {
		if (dev && dev->free)
			dev->free(dev);
		return mg_fail(MG_ERR_ARG, DOM, "mg_transport_open_loopback: NULL device, feed or out");
	}
	*out = NULL;
	if (faults && *faults) {
		int rc = mg_transport_parse_params_(faults, "loopback faults", &params, &n);
		if (rc) {
			mg_transport_free_params_(params, n);
			if (dev->free)
				dev->free(dev);
			return rc;
		}
	}
	int rc = open_loop(dev, "device", params, n, faults, out);
	mg_transport_free_params_(params, n);
	return rc;
}

int mg_transport_sim_open_(mg_transport_uri *uri, mg_transport **out)
{
	mg_simdev_factory factory = NULL;
	void *ud = NULL;
	pthread_mutex_lock(&reg_lock);
	for (size_t i = 0; i < nreg; i++)
		if (!strcmp(reg[i].name, uri->name)) {
			factory = reg[i].factory;
			ud = reg[i].userdata;
		}
	char known[256] = "";
	for (size_t i = 0; i < nreg && !factory; i++) {
		strncat(known, i ? ", " : "", sizeof(known) - strlen(known) - 1);
		strncat(known, reg[i].name, sizeof(known) - strlen(known) - 1);
	}
	pthread_mutex_unlock(&reg_lock);
	if (!factory)
		return mg_fail(MG_ERR_NOT_FOUND, DOM, "no simulator '%s' (registered: %s)", uri->name,
		               *known ? known : "none");

	/* The transport's own parameters first, so that a factory cannot claim them. */
	for (size_t i = 0; i < uri->nparams; i++)
		uri->params[i].used = 0;
	mg_transport_param *faults = calloc(uri->nparams + 1, sizeof(*faults));
	size_t nfaults = 0;
	if (!faults)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	for (size_t i = 0; i < uri->nparams; i++)
		if (is_fault_key(uri->params[i].key)) {
			faults[nfaults++] = uri->params[i];
			uri->params[i].used = 1;
		}

	mg_simdev *dev = NULL;
	int rc = factory(uri, &dev, ud);
	if (rc < 0 || !dev) {
		free(faults);
		if (rc >= 0)
			rc = mg_fail(MG_ERR_INTERNAL, DOM, "simulator '%s' returned no device", uri->name);
		return rc;
	}
	for (size_t i = 0; i < uri->nparams; i++)
		if (!uri->params[i].used) {
			rc = mg_fail(MG_ERR_ARG, DOM,
			             "unknown parameter '%s' for sim:%s (fault parameters: drop, corrupt, stall, "
			             "disconnect)",
			             uri->params[i].key, uri->name);
			free(faults);
			if (dev->free)
				dev->free(dev);
			return rc;
		}
	if (!dev->feed) {
		free(faults);
		if (dev->free)
			dev->free(dev);
		return mg_fail(MG_ERR_INTERNAL, DOM, "simulator '%s' has no feed()", uri->name);
	}
	const char *q = strchr(uri->text, '?');
	rc = open_loop(dev, uri->name, faults, nfaults, nfaults ? q + 1 : NULL, out);
	free(faults);
	return rc;
}
