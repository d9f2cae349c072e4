/* SPDX-License-Identifier: GPL-3.0-or-later */
/* `magassay devices` and `magassay sim xrf` as processes: the simulator served
 * on a pty in the background, found and read through it, stopped by SIGTERM.
 * Every wait is bounded; a child still running at the end is killed. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "e2e_common.h"
#include "magassay/device.h"
#include "magassay/error.h"

#ifndef MG_CLI_PATH
#error "MG_CLI_PATH (the magassay executable) must be defined"
#endif

struct child {
	pid_t pid;
	int out; /* stdout pipe, read end */
};

static int spawn(char *const argv[], const char *err_path, struct child *c)
{
	int p[2];
	if (pipe(p) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(p[1], 1);
		int e = open(err_path ? err_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (e >= 0)
			dup2(e, 2);
		close(p[0]);
		close(p[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	c->pid = pid;
	c->out = p[0];
	return 0;
}

/* Read stdout until EOF (or a newline if line_only) within max_ms. */
static int read_out(struct child *c, char *buf, size_t cap, int line_only, double max_ms)
{
	size_t n = 0;
	double t0 = e2e_now_ms();
	buf[0] = '\0';
	while (n + 1 < cap) {
		int left = (int)(max_ms - (e2e_now_ms() - t0));
		if (left <= 0)
			return -1;
		struct pollfd pfd = {.fd = c->out, .events = POLLIN};
		int pr = poll(&pfd, 1, left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			return -1;
		ssize_t r = read(c->out, buf + n, line_only ? 1 : cap - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		buf[n] = '\0';
		if (line_only && buf[n - 1] == '\n') {
			buf[n - 1] = '\0';
			break;
		}
	}
	return (int)n;
}

/* Wait for the child within max_ms; kill it if it does not exit. Exit code or -1. */
static int reap(struct child *c, double max_ms)
{
	double t0 = e2e_now_ms();
	int status;
	for (;;) {
		pid_t r = waitpid(c->pid, &status, WNOHANG);
		if (r == c->pid)
			break;
		if (e2e_now_ms() - t0 > max_ms) {
			fprintf(stderr, "child %d did not exit in %.0f ms: killed\n", (int)c->pid, max_ms);
			kill(c->pid, SIGKILL);
			waitpid(c->pid, &status, 0);
			close(c->out);
			return -1;
		}
		struct timespec ts = {0, 2 * 1000000L};
		nanosleep(&ts, NULL);
	}
	close(c->out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Run to completion: stdout into buf, the exit code. */
static int run(char *const argv[], char *buf, size_t cap)
{
	struct child c;
	if (spawn(argv, NULL, &c) != 0)
		return -1;
	read_out(&c, buf, cap, 0, 10000);
	return reap(&c, 10000);
}

static json_t *find_uri(json_t *arr, const char *uri)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		json_t *u = json_object_get(v, "uri");
		if (json_is_string(u) && !strcmp(json_string_value(u), uri))
			return v;
	}
	return NULL;
}

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = o ? json_object_get(o, k) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static char outbuf[65536];

static void test_devices(void)
{
	char *argv[] = {MG_CLI_PATH, "devices", "--json", NULL};
	int rc = run(argv, outbuf, sizeof(outbuf));
	CHECK_MSG(rc == 0, "devices --json exited %d", rc);
	json_error_t err;
	json_t *arr = json_loads(outbuf, 0, &err);
	CHECK_MSG(json_is_array(arr), "not a JSON array: %s (%s)", outbuf, err.text);
	json_t *sim = find_uri(arr, "sim:xrf");
	CHECK(sim != NULL);
	CHECK(jstr(sim, "driver") && !strcmp(jstr(sim, "driver"), "dp5"));
	CHECK(jstr(sim, "serial") && !strcmp(jstr(sim, "serial"), "31337"));
	CHECK(jstr(sim, "status") && !strcmp(jstr(sim, "status"), "ok"));
	json_decref(arr);

	char *help[] = {MG_CLI_PATH, "devices", "--help", NULL};
	CHECK(run(help, outbuf, sizeof(outbuf)) == 0 && strstr(outbuf, "Usage: magassay devices"));
	char *bad[] = {MG_CLI_PATH, "devices", "--bogus", NULL};
	CHECK(run(bad, outbuf, sizeof(outbuf)) == 2);
	char *baduri[] = {MG_CLI_PATH, "devices", "notauri", NULL};
	CHECK(run(baduri, outbuf, sizeof(outbuf)) == 2);
	char *missing[] = {MG_CLI_PATH, "devices", "serial:/dev/nonexistent-magassay", NULL};
	CHECK(run(missing, outbuf, sizeof(outbuf)) == 1);
	char *table[] = {MG_CLI_PATH, "devices", "sim:xrf?serial=55", NULL};
	CHECK(run(table, outbuf, sizeof(outbuf)) == 0 && strstr(outbuf, "55") && strstr(outbuf, "DP5"));
}

static void test_sim_usage(void)
{
	char *help[] = {MG_CLI_PATH, "sim", "--help", NULL};
	CHECK(run(help, outbuf, sizeof(outbuf)) == 0 && strstr(outbuf, "Usage: magassay sim xrf"));
	char *none[] = {MG_CLI_PATH, "sim", NULL};
	CHECK(run(none, outbuf, sizeof(outbuf)) == 2);
	char *unknown[] = {MG_CLI_PATH, "sim", "gamma", NULL};
	CHECK(run(unknown, outbuf, sizeof(outbuf)) == 2);
	char *badkv[] = {MG_CLI_PATH, "sim", "xrf", "--kv", "99", NULL};
	CHECK(run(badkv, outbuf, sizeof(outbuf)) == 2);
}

static void test_sim_pty(void)
{
	const char *dir = mg_test_tmpdir();
	char link[512], err[512], uri[600];
	snprintf(link, sizeof(link), "%s/dp5", dir);
	snprintf(err, sizeof(err), "%s/sim.err", dir);
	char *argv[] = {MG_CLI_PATH, "-v", "sim", "xrf", "--pty", "--serial", "777", "--speed", E2E_SPEED,
	                "--sample", "ndfeb-dy", "--link", link, NULL};
	struct child c;
	CHECK(spawn(argv, err, &c) == 0);
	char line[600];
	int n = read_out(&c, line, sizeof(line), 1, 5000);
	snprintf(uri, sizeof(uri), "serial:%s", link);
	CHECK_MSG(n > 0 && !strcmp(line, uri), "first line '%s', wanted '%s'", line, uri);
	struct stat stt;
	CHECK(lstat(link, &stt) == 0 && S_ISLNK(stt.st_mode));

	if (n > 0) {
		/* acquire through it, in this process */
		mg_device *dev = NULL;
		CHECK_RC(mg_device_open(uri, &dev), MG_OK);
		if (dev) {
			const mg_device_info *i = mg_device_get_info(dev);
			CHECK(!strcmp(i->serial, "777") && !strcmp(i->transport, "pty"));
			mg_device_set_timeout(dev, 5000);
			CHECK_RC(mg_device_configure(dev, "MCAC=2048;PRET=2.0;"), MG_OK);
			CHECK_RC(mg_device_clear(dev), MG_OK);
			CHECK_RC(mg_device_start(dev), MG_OK);
			mg_xrf_status st;
			CHECK_RC(e2e_wait_stopped(dev, &st, 10000), MG_OK);
			CHECK(st.accumulation_s == 2.0 && st.preset_time_reached);
			mg_spectrum *s = NULL;
			CHECK_RC(mg_device_read_spectrum(dev, 0, &s, &st), MG_OK);
			CHECK(s && s->nchan == 2048 && mg_spectrum_total(s) == (double)st.slow_count && st.slow_count > 0);
			mg_spectrum_free(s);
			mg_device_close(dev);
		}
		/* the devices command finds it by URI */
		char *dargv[] = {MG_CLI_PATH, "devices", "--json", uri, NULL};
		CHECK(run(dargv, outbuf, sizeof(outbuf)) == 0);
		json_t *arr = json_loads(outbuf, 0, NULL);
		json_t *d = find_uri(arr, uri);
		CHECK_MSG(d && jstr(d, "serial") && !strcmp(jstr(d, "serial"), "777"), "devices: %s", outbuf);
		CHECK(d && jstr(d, "transport") && !strcmp(jstr(d, "transport"), "pty"));
		json_decref(arr);
	}

	kill(c.pid, SIGTERM);
	int rc = reap(&c, 5000);
	CHECK_MSG(rc == 0, "sim exited %d after SIGTERM", rc);
	CHECK(lstat(link, &stt) != 0); /* the link is gone */
	FILE *f = fopen(err, "r");
	if (f) {
		size_t k = fread(outbuf, 1, sizeof(outbuf) - 1, f);
		outbuf[k] = '\0';
		fclose(f);
		CHECK_MSG(strstr(outbuf, "request: request status") && strstr(outbuf, "stopped"), "sim stderr: %s",
		          outbuf);
	}
	/* after the simulator is gone the link's URI fails cleanly */
	mg_device *dev = NULL;
	CHECK(mg_device_open(uri, &dev) != MG_OK && dev == NULL);
}

int main(void)
{
	e2e_log_init();
	signal(SIGPIPE, SIG_IGN);
	double t0 = e2e_now_ms();
	if (access(MG_CLI_PATH, X_OK) != 0)
		mg_test_skip("the magassay executable is not built");
	test_devices();
	test_sim_usage();
	test_sim_pty();
	fprintf(stderr, "test_e2e_cli: %.0f ms\n", e2e_now_ms() - t0);
	return mg_test_finish("test_e2e_cli");
}
