/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The ICP-OES driver over a real pseudo-terminal (termios, drivers/transport/
 * pty.c): the simulator served by the harness (mg_ptysim), the standard
 * checks, an unanswered query (a bounded real timeout, after which
 * the session goes on), a peer that hangs up; then `magassay sim icp` as
 * a process, measured through its pty with the same numbers the in-process
 * simulator gives for the same seed, listed by `magassay devices`, stopped
 * by SIGTERM. Every wait is bounded. */
#include <errno.h>
#include <fcntl.h>
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
#include "icp_common.h"
#include "magassay/device.h"
#include "magassay/error.h"
#include "magassay/icp_device.h"
#include "mg_harness.h"

#ifndef MG_CLI_PATH
#error "MG_CLI_PATH (the magassay executable) must be defined"
#endif

static void test_harness_pty(void)
{
	mg_icpsim *sim = NULL, *truth = NULL;
	CHECK_RC(mg_icpsim_new("seed=21", &sim), MG_OK);
	CHECK_RC(mg_icpsim_new("seed=21", &truth), MG_OK);
	mg_ptysim *pty = sim ? mg_ptysim_start(mg_icpsim_serve, sim) : NULL;
	CHECK(pty != NULL);
	if (pty) {
		mg_icp_device *d = NULL;
		CHECK_RC(mg_icp_open(mg_ptysim_uri(pty), &d), MG_OK);
		if (d) {
			CHECK(mg_transport_get_kind(mg_icp_get_transport(d)) == MG_TRANSPORT_PTY);
			double t0 = icp_now_ms();
			icp_e2e_basic(d, truth, "pty");
			CHECK_MSG(icp_now_ms() - t0 < 10000, "pty basic took %.0f ms", icp_now_ms() - t0);
			mg_icp_close(d);
		}
		/* through the registry: scpi+serial: picks the ICP family */
		char uri[300];
		snprintf(uri, sizeof(uri), "scpi+%s", mg_ptysim_uri(pty));
		mg_device_info info;
		CHECK_RC(mg_device_probe(uri, &info), MG_OK);
		CHECK(info.driver && !strcmp(info.driver, "icp") && info.transport && !strcmp(info.transport, "pty"));
		CHECK(info.serial && !strcmp(info.serial, "ICP-0001"));
		mg_device_info_clear(&info);
		mg_ptysim_stop(pty);
	}
	mg_icpsim_free(sim);
	mg_icpsim_free(truth);

	/* a query never answered: the timeout is real and bounded, and the session goes on */
	CHECK_RC(mg_icpsim_new("hang=3", &sim), MG_OK);
	pty = sim ? mg_ptysim_start(mg_icpsim_serve, sim) : NULL;
	if (pty) {
		mg_icp_device *d = NULL;
		CHECK_RC(mg_icp_open(mg_ptysim_uri(pty), &d), MG_OK);
		if (d) {
			mg_icp_set_timeout(d, 150);
			mg_icp_line lines[MG_ICP_MAX_LINES];
			size_t n = icp_lines(lines);
			double t0 = icp_now_ms();
			int rc = mg_icp_configure(d, lines, n, 1.0, 2);
			double dt = icp_now_ms() - t0;
			CHECK_MSG(rc == MG_ERR_TIMEOUT && dt < 1500, "unanswered configure check: %d after %.0f ms: %s", rc, dt,
			          mg_error_detail());
			CHECK_RC(mg_icp_configure(d, lines, n, 1.0, 2), MG_OK);
			mg_icp_measurement *m = mg_icp_measurement_new();
			CHECK_RC(mg_icp_measure(d, POS_STD3, "STD 3", m), MG_OK);
			icp_check_measurement(m, "pty after a timeout", POS_STD3, n, 2);
			mg_icp_measurement_free(m);
			/* the peer hangs up */
			mg_ptysim_hangup(pty);
			t0 = icp_now_ms();
			rc = mg_icp_identify(d, NULL);
			CHECK_MSG(rc == MG_ERR_DISCONNECTED && icp_now_ms() - t0 < 1000, "after a hang-up: %d %s", rc,
			          mg_error_detail());
			mg_icp_close(d);
		}
		mg_ptysim_stop(pty);
	}
	mg_icpsim_free(sim);
}

/* ------------------------------------------------------------ the CLI simulator */

struct child {
	pid_t pid;
	int out;
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
		int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
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

static int read_line(struct child *c, char *buf, size_t cap, double max_ms)
{
	size_t n = 0;
	double t0 = icp_now_ms();
	buf[0] = '\0';
	while (n + 1 < cap) {
		int left = (int)(max_ms - (icp_now_ms() - t0));
		if (left <= 0)
			return -1;
		struct pollfd pfd = {.fd = c->out, .events = POLLIN};
		int pr = poll(&pfd, 1, left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			return -1;
		ssize_t r = read(c->out, buf + n, 1);
		if (r <= 0)
			return -1;
		n++;
		buf[n] = '\0';
		if (buf[n - 1] == '\n') {
			buf[n - 1] = '\0';
			return (int)n;
		}
	}
	return -1;
}

static int reap(struct child *c, double max_ms)
{
	double t0 = icp_now_ms();
	int status;
	for (;;) {
		pid_t r = waitpid(c->pid, &status, WNOHANG);
		if (r == c->pid)
			break;
		if (icp_now_ms() - t0 > max_ms) {
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

static void test_cli(void)
{
	if (access(MG_CLI_PATH, X_OK) != 0) {
		fprintf(stderr, "the magassay executable is not built: CLI part skipped\n");
		return;
	}
	const char *dir = mg_test_tmpdir();
	char link[512], err[512], want[600], line[600];
	snprintf(link, sizeof(link), "%s/icp", dir);
	snprintf(err, sizeof(err), "%s/icp.err", dir);
	char *argv[] = {MG_CLI_PATH, "sim", "icp", "--seed", "33", "--serial", "CLI-7", "--pty", "--link", link, NULL};
	struct child c;
	CHECK(spawn(argv, err, &c) == 0);
	snprintf(want, sizeof(want), "scpi+serial:%s", link);
	int n = read_line(&c, line, sizeof(line), 5000);
	CHECK_MSG(n > 0 && !strcmp(line, want), "first line '%s', wanted '%s'", line, want);
	if (n > 0) {
		mg_icp_device *d = NULL;
		CHECK_RC(mg_icp_open(line, &d), MG_OK);
		mg_icp_device *ref = NULL;
		CHECK_RC(mg_icp_open("sim:icp?seed=33&serial=CLI-7", &ref), MG_OK);
		if (d && ref) {
			CHECK(!strcmp(mg_icp_get_identity(d)->serial, "CLI-7"));
			mg_icp_line lines[MG_ICP_MAX_LINES];
			size_t nl = icp_lines(lines);
			CHECK_RC(mg_icp_configure(d, lines, nl, 1.0, 2), MG_OK);
			CHECK_RC(mg_icp_configure(ref, lines, nl, 1.0, 2), MG_OK);
			mg_icp_measurement *a = mg_icp_measurement_new(), *b = mg_icp_measurement_new();
			CHECK_RC(mg_icp_measure(d, POS_N52, "N52-A", a), MG_OK);
			CHECK_RC(mg_icp_measure(ref, POS_N52, "N52-A", b), MG_OK);
			int same = 1;
			for (size_t r = 0; r < 2; r++)
				for (size_t l = 0; l < nl; l++)
					same &= !memcmp(&a->replicate[r].window[l], &b->replicate[r].window[l], sizeof(mg_icp_window));
			CHECK_MSG(same, "the pty simulator and the in-process one differ for the same seed and commands");
			mg_icp_measurement_free(a);
			mg_icp_measurement_free(b);
		}
		mg_icp_close(d);
		mg_icp_close(ref);
		/* `magassay devices URI` asks it */
		mg_device_info info;
		CHECK_RC(mg_device_probe(line, &info), MG_OK);
		CHECK(info.model && !strcmp(info.model, "SIM-ICP-OES") && info.serial && !strcmp(info.serial, "CLI-7"));
		mg_device_info_clear(&info);
	}
	kill(c.pid, SIGTERM);
	int rc = reap(&c, 5000);
	CHECK_MSG(rc == 0, "magassay sim icp exited %d after SIGTERM", rc);
	struct stat st;
	CHECK(lstat(link, &st) != 0);
	FILE *f = fopen(err, "r");
	if (f) {
		char buf[4096];
		size_t k = fread(buf, 1, sizeof(buf) - 1, f);
		buf[k] = '\0';
		fclose(f);
		CHECK_MSG(strstr(buf, "simulated ICP-OES") && strstr(buf, "stopped (") && strstr(buf, "1 run(s)"), "stderr: %s", buf);
	}
	/* usage errors */
	char *bad[] = {MG_CLI_PATH, "sim", "icp", "--pixels", "7", NULL};
	CHECK(spawn(bad, err, &c) == 0);
	CHECK(reap(&c, 5000) == 2);
}

int main(void)
{
	icp_log_init();
	signal(SIGPIPE, SIG_IGN);
	test_harness_pty();
	test_cli();
	return mg_test_finish("test_icp_pty");
}
