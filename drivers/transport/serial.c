/* SPDX-License-Identifier: GPL-3.0-or-later */
/* RS-232 transport over libserialport: 8N1, no flow control, the URI's baud
 * rate (115200 by default).
 *
 * Reads wait with poll() on the port's file descriptor and then read through
 * sp_nonblocking_read(): sp_blocking_read_next() cannot tell a hang-up (read()
 * returning 0 on a vanished USB-serial adapter) from "no data yet" and spins
 * until its timeout, while poll() reports POLLHUP/POLLERR at once. */
#include <errno.h>
#include <libserialport.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "transport_internal.h"

#define DOM "serial"

struct serial_priv {
	struct sp_port *port;
	int fd;
};

static int gone_errno(int e)
{
	return e == EIO || e == ENXIO || e == ENODEV || e == EPIPE || e == EBADF;
}

static int sp_fail(mg_transport *t, const char *what)
{
	int e = sp_last_error_code();
	char *msg = sp_last_error_message();
	int code = gone_errno(e) ? MG_ERR_DISCONNECTED : MG_ERR_IO;
	int rc = mg_fail(code, DOM, "%s: %s: %s", t->desc, what, msg ? msg : strerror(e));
	sp_free_error_message(msg);
	return rc;
}

static int serial_write(mg_transport *t, const uint8_t *data, size_t n, unsigned timeout_ms)
{
	struct serial_priv *p = t->priv;
	/* libserialport: timeout 0 means "wait forever"; we never do that */
	enum sp_return r = sp_blocking_write(p->port, data, n, timeout_ms ? timeout_ms : 1);
	if (r < 0)
		return sp_fail(t, "write");
	if ((size_t)r < n)
		return mg_fail(MG_ERR_TIMEOUT, DOM, "%s: wrote %d of %zu bytes in %u ms", t->desc, (int)r, n,
		               timeout_ms);
	return MG_OK;
}

static int serial_read(mg_transport *t, uint8_t *data, size_t n, unsigned timeout_ms)
{
	struct serial_priv *p = t->priv;
	uint64_t deadline = mg_transport_now_ms_() + timeout_ms;
	int empty = 0;
	for (;;) {
		struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
		int left = (int)mg_transport_left_ms_(deadline);
		int pr = poll(&pfd, 1, left);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			return mg_fail(MG_ERR_IO, DOM, "%s: poll: %s", t->desc, strerror(errno));
		}
		if (pr == 0)
			return mg_fail(MG_ERR_TIMEOUT, DOM, "%s: no data within %u ms", t->desc, timeout_ms);
		if (pfd.revents & POLLNVAL)
			return mg_fail(MG_ERR_IO, DOM, "%s: the port descriptor is not open", t->desc);
		if (pfd.revents & POLLIN) {
			enum sp_return r = sp_nonblocking_read(p->port, data, n);
			if (r > 0)
				return (int)r;
			if (r < 0)
				return sp_fail(t, "read");
			/* readable but 0 bytes: end of file, the line hung up (twice in a
			 * row without POLLHUP, in case another reader took the bytes) */
			if ((pfd.revents & (POLLHUP | POLLERR)) || ++empty >= 2)
				return mg_fail(MG_ERR_DISCONNECTED, DOM, "%s: hang-up (end of file)", t->desc);
			continue;
		}
		if (pfd.revents & (POLLHUP | POLLERR))
			return mg_fail(MG_ERR_DISCONNECTED, DOM, "%s: hang-up", t->desc);
	}
}

static int serial_flush_input(mg_transport *t)
{
	struct serial_priv *p = t->priv;
	if (sp_flush(p->port, SP_BUF_INPUT) < 0)
		return sp_fail(t, "flush");
	return MG_OK;
}

static void serial_close(mg_transport *t)
{
	struct serial_priv *p = t->priv;
	if (!p)
		return;
	if (p->port) {
		sp_close(p->port);
		sp_free_port(p->port);
	}
	free(p);
	t->priv = NULL;
}

static const struct mg_transport_ops serial_ops = {
	.write = serial_write,
	.read = serial_read,
	.flush_input = serial_flush_input,
	.close = serial_close,
};

int mg_transport_serial_open_(const char *path, unsigned baud, mg_transport **out)
{
	struct serial_priv *p = calloc(1, sizeof(*p));
	if (!p)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	p->fd = -1;
	mg_transport *t =
		mg_transport_alloc_(MG_TRANSPORT_SERIAL, &serial_ops, DOM, p, "serial %s %u 8N1", path, baud);
	if (!t) {
		free(p);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	t->byte_time_us = 10.0 * 1e6 / (double)baud;

	int rc;
	enum sp_return r = sp_get_port_by_name(path, &p->port);
	if (r != SP_OK) {
		p->port = NULL;
		if (r == SP_ERR_MEM)
			rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		else
			rc = mg_fail(MG_ERR_NOT_FOUND, DOM, "%s: no such serial port", path);
		goto fail;
	}
	r = sp_open(p->port, SP_MODE_READ_WRITE);
	if (r != SP_OK) {
		int e = sp_last_error_code();
		char *msg = sp_last_error_message();
		int code = e == ENOENT || e == ENODEV || e == ENXIO ? MG_ERR_NOT_FOUND
		         : e == EBUSY                               ? MG_ERR_BUSY
		                                                    : MG_ERR_IO;
		rc = mg_fail(code, DOM, "%s: open: %s%s", path, msg ? msg : "failed",
		             e == EACCES ? " (permission denied: join the dialout group or install the udev rules)"
		                         : "");
		sp_free_error_message(msg);
		sp_free_port(p->port);
		p->port = NULL;
		goto fail;
	}
	if (sp_set_baudrate(p->port, (int)baud) < 0 || sp_set_bits(p->port, 8) < 0 ||
	    sp_set_parity(p->port, SP_PARITY_NONE) < 0 || sp_set_stopbits(p->port, 1) < 0 ||
	    sp_set_flowcontrol(p->port, SP_FLOWCONTROL_NONE) < 0) {
		rc = sp_fail(t, "configuring 8N1");
		goto fail;
	}
	if (sp_get_port_handle(p->port, &p->fd) != SP_OK || p->fd < 0) {
		rc = mg_fail(MG_ERR_IO, DOM, "%s: no file descriptor", path);
		goto fail;
	}
	sp_flush(p->port, SP_BUF_BOTH);
	*out = t;
	return MG_OK;
fail:
	mg_transport_close(t);
	return rc;
}
