/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Serve a pty master with a device callback on a thread (ttysim, ptysim). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness_internal.h"

static void write_all(struct mg_fdserver *s, const uint8_t *p, size_t n)
{
	int fd = s->fd;
	int spins = 0;
	while (n && !__atomic_load_n(&s->stopping, __ATOMIC_RELAXED)) {
		ssize_t w = write(fd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN && spins++ < 1000) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			poll(&pfd, 1, 5); /* bounded: at most ~5 s in total */
			continue;
		}
		fprintf(stderr, "harness: device write failed (%s), %zu bytes lost\n",
		        w < 0 ? strerror(errno) : "stuck", n);
		return;
	}
}

static void *serve(void *arg)
{
	struct mg_fdserver *s = arg;
	uint8_t buf[4096];
	mg_buf out;
	mg_buf_init(&out);
	for (;;) {
		struct pollfd pfd[2] = {{.fd = s->wake[0], .events = POLLIN}, {.fd = s->fd, .events = POLLIN}};
		int pr = poll(pfd, 2, 100);
		if (pr < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		if (pfd[1].revents & POLLIN) {
			ssize_t r = read(s->fd, buf, sizeof(buf));
			if (r > 0) {
				pthread_mutex_lock(&s->lock);
				mg_buf_reset(&out);
				if (s->device)
					s->device(buf, (size_t)r, &out, s->userdata);
				if (out.len)
					write_all(s, (const uint8_t *)out.data, out.len);
				pthread_mutex_unlock(&s->lock);
				continue;
			}
		}
		if (pfd[1].revents & (POLLHUP | POLLERR | POLLIN)) {
			/* A master with no slave open reports POLLHUP (and read() EIO)
			 * until the host opens its side: wait on the stop pipe only. */
			struct pollfd w = {.fd = s->wake[0], .events = POLLIN};
			if (poll(&w, 1, 2) > 0)
				break;
		}
		if (pfd[1].revents & POLLNVAL)
			break;
	}
	mg_buf_free(&out);
	return NULL;
}

int mg_fdserver_start_(struct mg_fdserver *s, int fd, mg_harness_device device, void *userdata)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->device = device;
	s->userdata = userdata;
	pthread_mutex_init(&s->lock, NULL);
	/* non-blocking, so that a host that stops reading cannot wedge the
	 * thread in write() (every wait is bounded, stop() always returns) */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (pipe2(s->wake, O_CLOEXEC) != 0)
		return -1;
	if (pthread_create(&s->thread, NULL, serve, s) != 0) {
		close(s->wake[0]);
		close(s->wake[1]);
		return -1;
	}
	s->running = 1;
	return 0;
}

void mg_fdserver_stop_(struct mg_fdserver *s)
{
	if (!s->running)
		return;
	__atomic_store_n(&s->stopping, 1, __ATOMIC_RELAXED);
	if (write(s->wake[1], "x", 1) < 0)
		perror("harness: stop pipe");
	pthread_join(s->thread, NULL);
	close(s->wake[0]);
	close(s->wake[1]);
	pthread_mutex_destroy(&s->lock);
	s->running = 0;
}

void mg_fdserver_push_(struct mg_fdserver *s, const void *data, size_t n)
{
	pthread_mutex_lock(&s->lock);
	write_all(s, data, n);
	pthread_mutex_unlock(&s->lock);
}
