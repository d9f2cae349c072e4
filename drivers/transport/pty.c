/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Pseudo-terminal transport: plain termios, raw mode, poll() for timeouts.
 *
 * libserialport refuses ptys (sp_get_port_by_name() wants a /sys/class/tty
 * entry, and sp_open() fails on TIOCMGET with ENOTTY), yet a pty is what
 * socat, a simulator in another process or a test harness offers. So
 * `serial:PATH` comes here when PATH resolves to a pty:
 *   - a slave /dev/pts/N or a symlink to one (`socat ... link=`): a
 *     character device with a Unix98 pty-slave major (136-143);
 *   - /dev/ptmx: a new master is allocated and its slave name goes into the
 *     description, for a peer to attach to.
 * A peer that closes its end (slave: the master closed -> EIO/POLLHUP) is
 * MG_ERR_DISCONNECTED. On a master, a missing peer cannot be told from one
 * not attached yet, so there it is only ever a timeout. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "transport_internal.h"

#define DOM "pty"
#define PTY_SLAVE_MAJOR_FIRST 136
#define PTY_SLAVE_MAJOR_LAST 143
#define TTYAUX_MAJOR 5
#define PTMX_MINOR 2

struct pty_priv {
	int fd;
	int master;  /* we hold a /dev/ptmx master */
};

/* 1: a pty slave, 2: the pty multiplexer /dev/ptmx, 0: anything else. */
static int pty_type(const char *path)
{
	struct stat st;
	if (!path || stat(path, &st) != 0 || !S_ISCHR(st.st_mode))
		return 0;
	unsigned maj = major(st.st_rdev), min = minor(st.st_rdev);
	if (maj >= PTY_SLAVE_MAJOR_FIRST && maj <= PTY_SLAVE_MAJOR_LAST)
		return 1;
	if (maj == TTYAUX_MAJOR && min == PTMX_MINOR)
		return 2;
	return 0;
}

int mg_transport_path_is_pty_(const char *path)
{
	/* By the device number stat() reports (following symlinks such as
	 * socat's link=), not by resolving the path: an emulated /dev/ttyUSB0
	 * (umockdev) is a symlink to a pty but presents its own 188:n, and
	 * belongs to libserialport like a real one. (umockdev's realpath()
	 * wrapper also crashes on such a link.) */
	return pty_type(path) != 0;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int peer_gone(mg_transport *t, const char *why, unsigned timeout_ms, uint64_t deadline)
{
	struct pty_priv *p = t->priv;
	if (!p->master)
		return mg_fail(MG_ERR_DISCONNECTED, DOM, "%s: peer closed (%s)", t->desc, why);
	/* master: no peer (yet); wait out the timeout in small steps */
	unsigned left = mg_transport_left_ms_(deadline);
	if (left == 0)
		return mg_fail(MG_ERR_TIMEOUT, DOM, "%s: no peer attached within %u ms", t->desc, timeout_ms);
	sleep_ms(left < 2 ? left : 2);
	return 1; /* retry */
}

static int pty_read(mg_transport *t, uint8_t *data, size_t n, unsigned timeout_ms)
{
	struct pty_priv *p = t->priv;
	uint64_t deadline = mg_transport_now_ms_() + timeout_ms;
	for (;;) {
		struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
		int pr = poll(&pfd, 1, (int)mg_transport_left_ms_(deadline));
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			return mg_fail(MG_ERR_IO, DOM, "%s: poll: %s", t->desc, strerror(errno));
		}
		if (pr == 0)
			return mg_fail(MG_ERR_TIMEOUT, DOM, "%s: no data within %u ms", t->desc, timeout_ms);
		if (pfd.revents & POLLNVAL)
			return mg_fail(MG_ERR_IO, DOM, "%s: descriptor not open", t->desc);
		if (pfd.revents & POLLIN) {
			ssize_t r = read(p->fd, data, n);
			if (r > 0)
				return (int)r;
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			int rc = peer_gone(t, r == 0 ? "end of file" : strerror(errno), timeout_ms, deadline);
			if (rc != 1)
				return rc;
			continue;
		}
		if (pfd.revents & (POLLHUP | POLLERR)) {
			int rc = peer_gone(t, "hang-up", timeout_ms, deadline);
			if (rc != 1)
				return rc;
		}
	}
}

static int pty_write(mg_transport *t, const uint8_t *data, size_t n, unsigned timeout_ms)
{
	struct pty_priv *p = t->priv;
	uint64_t deadline = mg_transport_now_ms_() + timeout_ms;
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(p->fd, data + done, n - done);
		if (w > 0) {
			done += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN) {
			if (errno == EIO || errno == ENXIO)
				return mg_fail(MG_ERR_DISCONNECTED, DOM, "%s: peer closed (%s)", t->desc, strerror(errno));
			return mg_fail(MG_ERR_IO, DOM, "%s: write: %s", t->desc, strerror(errno));
		}
		unsigned left = mg_transport_left_ms_(deadline);
		if (left == 0)
			return mg_fail(MG_ERR_TIMEOUT, DOM, "%s: wrote %zu of %zu bytes in %u ms", t->desc, done, n,
			               timeout_ms);
		struct pollfd pfd = {.fd = p->fd, .events = POLLOUT};
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return mg_fail(MG_ERR_IO, DOM, "%s: poll: %s", t->desc, strerror(errno));
		if (!p->master && (pfd.revents & (POLLHUP | POLLERR)) && !(pfd.revents & POLLOUT))
			return mg_fail(MG_ERR_DISCONNECTED, DOM, "%s: peer closed (hang-up)", t->desc);
	}
	return MG_OK;
}

static int pty_flush_input(mg_transport *t)
{
	struct pty_priv *p = t->priv;
	if (tcflush(p->fd, TCIFLUSH) != 0)
		return mg_fail(MG_ERR_IO, DOM, "%s: tcflush: %s", t->desc, strerror(errno));
	return MG_OK;
}

static void pty_close(mg_transport *t)
{
	struct pty_priv *p = t->priv;
	if (!p)
		return;
	if (p->fd >= 0)
		close(p->fd);
	free(p);
	t->priv = NULL;
}

static const struct mg_transport_ops pty_ops = {
	.write = pty_write,
	.read = pty_read,
	.flush_input = pty_flush_input,
	.close = pty_close,
};

static speed_t baud_constant(unsigned baud)
{
	static const struct {
		unsigned baud;
		speed_t c;
	} rates[] = {{50, B50},         {75, B75},         {110, B110},       {134, B134},
	             {150, B150},       {200, B200},       {300, B300},       {600, B600},
	             {1200, B1200},     {1800, B1800},     {2400, B2400},     {4800, B4800},
	             {9600, B9600},     {19200, B19200},   {38400, B38400},   {57600, B57600},
	             {115200, B115200}, {230400, B230400}, {460800, B460800}, {921600, B921600}};
	for (size_t i = 0; i < MG_ARRAY_SIZE(rates); i++)
		if (rates[i].baud == baud)
			return rates[i].c;
	return B0;
}

int mg_transport_pty_open_(const char *path, unsigned baud, mg_transport **out)
{
	struct pty_priv *p = calloc(1, sizeof(*p));
	char peer[64] = "";
	if (!p)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	p->master = pty_type(path) == 2;
	if (p->master) {
		p->fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (p->fd >= 0 && (grantpt(p->fd) || unlockpt(p->fd) || ptsname_r(p->fd, peer, sizeof(peer)))) {
			close(p->fd);
			p->fd = -1;
		}
	} else {
		p->fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	}
	if (p->fd < 0) {
		int e = errno;
		free(p);
		return mg_fail(e == ENOENT ? MG_ERR_NOT_FOUND : e == EBUSY ? MG_ERR_BUSY : MG_ERR_IO, DOM,
		               "%s: open: %s", path, strerror(e));
	}
	if (p->master)
		fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_NONBLOCK);
	mg_transport *t = p->master ? mg_transport_alloc_(MG_TRANSPORT_PTY, &pty_ops, DOM, p,
	                                                  "pty master %s (peer %s) %u 8N1", path, peer, baud)
	                            : mg_transport_alloc_(MG_TRANSPORT_PTY, &pty_ops, DOM, p,
	                                                  "pty %s %u 8N1", path, baud);
	if (!t) {
		close(p->fd);
		free(p);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	t->byte_time_us = 10.0 * 1e6 / (double)baud;

	struct termios tio;
	if (!isatty(p->fd) || tcgetattr(p->fd, &tio) != 0) {
		int rc = mg_fail(MG_ERR_IO, DOM, "%s: not a terminal: %s", path, strerror(errno));
		mg_transport_close(t);
		return rc;
	}
	cfmakeraw(&tio);
	tio.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS | CSIZE);
	tio.c_cflag |= CS8 | CLOCAL | CREAD;
	tio.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
	tio.c_cc[VMIN] = 0;
	tio.c_cc[VTIME] = 0;
	speed_t sp = baud_constant(baud);
	if (sp != B0) {
		cfsetispeed(&tio, sp);
		cfsetospeed(&tio, sp);
	} else {
		mg_dbg(DOM, "%s: %u baud has no termios constant; a pty ignores the rate anyway", path, baud);
	}
	if (tcsetattr(p->fd, TCSANOW, &tio) != 0) {
		int rc = mg_fail(MG_ERR_IO, DOM, "%s: tcsetattr: %s", path, strerror(errno));
		mg_transport_close(t);
		return rc;
	}
	tcflush(p->fd, TCIFLUSH);
	if (p->master)
		mg_info(DOM, "allocated pty %s; attach the peer to it", peer);
	*out = t;
	return MG_OK;
}
