/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A real pseudo-terminal pair: the device serves the master on a thread, the
 * transport opens the slave (/dev/pts/N) through its pty path.
 *
 * The harness keeps its own slave descriptor open (in raw mode) for the life
 * of the pair: otherwise the master sees POLLHUP/EIO whenever the transport
 * has the slave closed, and the slave's default ECHO would reflect the
 * device's bytes back into the master before the transport sets raw mode. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "harness_internal.h"

struct mg_ptysim {
	int master, slave;
	char path[64];
	char uri[80];
	struct mg_fdserver server;
};

mg_ptysim *mg_ptysim_start(mg_harness_device device, void *userdata)
{
	mg_ptysim *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->slave = -1;
	s->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s->master < 0 || grantpt(s->master) || unlockpt(s->master) ||
	    ptsname_r(s->master, s->path, sizeof(s->path))) {
		fprintf(stderr, "ptysim: cannot allocate a pty: %s\n", strerror(errno));
		goto fail;
	}
	s->slave = open(s->path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	struct termios tio;
	if (s->slave < 0 || tcgetattr(s->slave, &tio) != 0) {
		fprintf(stderr, "ptysim: %s: %s\n", s->path, strerror(errno));
		goto fail;
	}
	cfmakeraw(&tio);
	tcsetattr(s->slave, TCSANOW, &tio);
	fcntl(s->master, F_SETFL, fcntl(s->master, F_GETFL) | O_NONBLOCK);
	snprintf(s->uri, sizeof(s->uri), "serial:%s", s->path);
	if (mg_fdserver_start_(&s->server, s->master, device, userdata) != 0) {
		fprintf(stderr, "ptysim: cannot start the device thread\n");
		goto fail;
	}
	return s;
fail:
	mg_ptysim_stop(s);
	return NULL;
}

void mg_ptysim_hangup(mg_ptysim *s)
{
	if (!s)
		return;
	mg_fdserver_stop_(&s->server);
	if (s->master >= 0)
		close(s->master);
	if (s->slave >= 0)
		close(s->slave);
	s->master = s->slave = -1;
}

void mg_ptysim_stop(mg_ptysim *s)
{
	if (!s)
		return;
	mg_ptysim_hangup(s);
	free(s);
}

const char *mg_ptysim_path(const mg_ptysim *s)
{
	return s->path;
}

const char *mg_ptysim_uri(const mg_ptysim *s)
{
	return s->uri;
}

void mg_ptysim_push(mg_ptysim *s, const void *data, size_t n)
{
	if (s->master >= 0)
		mg_fdserver_push_(&s->server, data, n);
}
