/* SPDX-License-Identifier: GPL-3.0-or-later */
/* `magassay acquire` and `magassay recover` as processes (the built binary is
 * argv[1]), against the simulated XRF instrument at speed 2000:
 *   - replicates with --json: the NDJSON events, exit 0, files and rows;
 *   - SIGTERM mid-run: exit 3, the spectrum saved as stopped_early;
 *   - SIGKILL mid-run: `recover` registers the checkpoint as incomplete, the
 *     database passes mg_store_check, a second `recover` finds nothing; the
 *     next `acquire` recovers by itself;
 *   - writes failing (RLIMIT_FSIZE in the child): a clear error naming the
 *     file, exit 1, every earlier spectrum and row intact;
 *   - usage errors (exit 2) and an instrument that cannot be opened (exit 1).
 * Every wait is bounded; nothing sleeps. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "acq_test.h"
#include "check.h"
#include "magassay/error.h"

#define DEVICE "sim:xrf?speed=" ACQT_SPEED "&sample=ndfeb"
#define FAST_DEVICE "sim:xrf?speed=1000000&sample=ndfeb"
#define WAIT_MS 30000.0

static const char *exe;
static char data_dir[600], profile[700], err_path[700];

struct child {
	pid_t pid;
	int out;
	char buf[1 << 16];
	size_t len;
	json_t *events[512];
	int nevents;
	char text[1 << 16]; /* stdout when not JSON */
	size_t tlen;
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	static char buf[1 << 16];
	size_t n = 0;
	buf[0] = '\0';
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

/* Start the binary; fsize > 0 sets RLIMIT_FSIZE in the child. */
static int spawn(struct child *c, long fsize, const char *const *args)
{
	memset(c, 0, sizeof(*c));
	int p[2];
	if (pipe(p) != 0)
		return -1;
	const char *argv[64];
	int n = 0;
	argv[n++] = exe;
	for (; args[n - 1] && n < 63; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(e, 2);
		unsetenv("MAGASSAY_DATA");
		unsetenv("MAGASSAY_DEVICE");
		if (fsize > 0) {
			struct rlimit rl = {.rlim_cur = (rlim_t)fsize, .rlim_max = (rlim_t)fsize};
			setrlimit(RLIMIT_FSIZE, &rl);
		}
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	c->pid = pid;
	c->out = p[0];
	return pid > 0 ? 0 : -1;
}

/* Read stdout until a JSON event of this type arrives (NULL type: until EOF).
 * Returns the event (owned by c) or NULL on EOF/timeout. */
static json_t *read_until(struct child *c, const char *type, double max_ms)
{
	double t0 = acqt_now_ms();
	for (;;) {
		char *nl;
		while ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
			size_t ln = (size_t)(nl - c->buf);
			*nl = '\0';
			if (c->tlen + ln + 2 < sizeof(c->text)) {
				memcpy(c->text + c->tlen, c->buf, ln);
				c->tlen += ln;
				c->text[c->tlen++] = '\n';
				c->text[c->tlen] = '\0';
			}
			json_t *ev = c->buf[0] == '{' ? json_loads(c->buf, 0, NULL) : NULL;
			memmove(c->buf, nl + 1, c->len - ln - 1);
			c->len -= ln + 1;
			if (ev) {
				if (c->nevents < 512)
					c->events[c->nevents++] = ev;
				else
					json_decref(ev);
				const char *t = json_string_value(json_object_get(ev, "event"));
				if (type && t && !strcmp(t, type))
					return ev;
			}
		}
		double left = max_ms - (acqt_now_ms() - t0);
		if (left <= 0)
			return NULL;
		struct pollfd pfd = {.fd = c->out, .events = POLLIN};
		int pr = poll(&pfd, 1, (int)left + 1);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			return NULL;
		ssize_t r = read(c->out, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
		if (r <= 0)
			return NULL; /* EOF */
		c->len += (size_t)r;
	}
}

/* Read to EOF and reap. The exit status, or 128 + signal. */
static int finish(struct child *c)
{
	read_until(c, NULL, WAIT_MS);
	close(c->out);
	int status = 0;
	double t0 = acqt_now_ms();
	while (waitpid(c->pid, &status, WNOHANG) == 0) {
		if (acqt_now_ms() - t0 > WAIT_MS) {
			kill(c->pid, SIGKILL);
			waitpid(c->pid, &status, 0);
			CHECK_MSG(0, "the child did not end within %.0f ms", WAIT_MS);
			break;
		}
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void child_free(struct child *c)
{
	for (int i = 0; i < c->nevents; i++)
		json_decref(c->events[i]);
	c->nevents = 0;
}

static int count_events(const struct child *c, const char *type)
{
	int n = 0;
	for (int i = 0; i < c->nevents; i++) {
		const char *t = json_string_value(json_object_get(c->events[i], "event"));
		if (t && !strcmp(t, type))
			n++;
	}
	return n;
}

static json_t *find_event(const struct child *c, const char *type, int nth)
{
	for (int i = 0; i < c->nevents; i++) {
		const char *t = json_string_value(json_object_get(c->events[i], "event"));
		if (t && !strcmp(t, type) && nth-- == 0)
			return c->events[i];
	}
	return NULL;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* Run to the end; the exit status. */
static int run(struct child *c, long fsize, ...)
{
	const char *args[64];
	int n = 0;
	va_list ap;
	va_start(ap, fsize);
	const char *a;
	while ((a = va_arg(ap, const char *)) != NULL && n < 63)
		args[n++] = a;
	va_end(ap);
	args[n] = NULL;
	if (spawn(c, fsize, args) != 0) {
		CHECK_MSG(0, "cannot start %s", exe);
		return -1;
	}
	return finish(c);
}

static mg_store *open_store(void)
{
	return acqt_store(data_dir);
}

static void test_replicates(void)
{
	struct child c;
	int rc = run(&c, 0, "acquire", "--device", DEVICE, "--sample", "cli-1", "--batch", "LOT-CLI", "--operator", "Ana",
	             "--preset-time", "10", "--replicates", "2", "--profile", profile, "--data-dir", data_dir, "--json",
	             NULL);
	CHECK_MSG(rc == 0, "exit %d: %s", rc, slurp(err_path));
	CHECK(count_events(&c, "started") == 2 && count_events(&c, "saved") == 2 && count_events(&c, "finished") == 1);
	CHECK(count_events(&c, "progress") >= 2 && count_events(&c, "error") == 0);
	json_t *s = find_event(&c, "started", 1);
	if (s) {
		CHECK(!strcmp(jstr(s, "sample"), "cli-1") && !strcmp(jstr(s, "batch"), "LOT-CLI"));
		CHECK(json_integer_value(json_object_get(s, "replicate")) == 2);
		CHECK(json_integer_value(json_object_get(s, "replicates")) == 2);
		const char *t = jstr(s, "started_at");
		CHECK(strlen(t) == 24 && t[23] == 'Z');
		CHECK(json_real_value(json_object_get(json_object_get(s, "preset"), "live_time_s")) == 10.0);
		CHECK(!strcmp(jstr(json_object_get(s, "instrument"), "serial"), "31337"));
	}
	json_t *p = find_event(&c, "progress", 0);
	if (p) {
		CHECK(json_object_get(p, "icr_cps") && json_object_get(p, "ocr_cps") && json_object_get(p, "dead_time_pct"));
		CHECK(json_is_integer(json_object_get(p, "total_counts")) && json_object_get(p, "time"));
		CHECK(!strcmp(jstr(json_object_get(p, "progress"), "quantity"), "live_time"));
	}
	mg_acq_presets pret = {10.0, NAN, NAN};
	mg_store *st = open_store();
	for (int i = 0; i < 2 && st; i++) {
		json_t *sv = find_event(&c, "saved", i);
		if (!sv)
			continue;
		CHECK(!strcmp(jstr(sv, "status"), "complete") && strlen(jstr(sv, "sha256")) == 64);
		CHECK(json_real_value(json_object_get(sv, "live_time_s")) == 10.0);
		long long id = json_integer_value(json_object_get(sv, "measurement_id"));
		acqt_check_measurement(st, id, "complete", &pret, "cli replicate");
		mg_measurement m;
		if (mg_store_measurement_get(st, id, &m) == MG_OK) {
			CHECK(!strcmp(m.sha256, jstr(sv, "sha256")) && !strcmp(m.operator_name, "Ana"));
			CHECK(strstr(jstr(sv, "file"), m.file) != NULL);
			mg_measurement_clear(&m);
		}
	}
	mg_store_close(st);
	json_t *f = find_event(&c, "finished", 0);
	if (f) {
		CHECK(!strcmp(jstr(f, "outcome"), "complete") && json_integer_value(json_object_get(f, "exit_code")) == 0);
		CHECK(json_integer_value(json_object_get(f, "saved")) == 2);
	}
	child_free(&c);

	/* plain output (not a terminal) */
	rc = run(&c, 0, "acquire", "--device", DEVICE, "--sample", "cli-1", "--preset-real", "5", "--profile", profile,
	         "--data-dir", data_dir, NULL);
	CHECK_MSG(rc == 0, "exit %d: %s", rc, slurp(err_path));
	CHECK_MSG(strstr(c.text, "cli-1 1/1: started") && strstr(c.text, "complete, ") &&
	                  strstr(c.text, "(replicate 3)") && strstr(c.text, "stored in"),
	          "stdout: %s", c.text);
	CHECK(strchr(c.text, '\r') == NULL && strstr(c.text, "\033[") == NULL);
	child_free(&c);
}

static void test_sigterm(void)
{
	struct child c;
	const char *args[] = {"acquire", "--device", DEVICE, "--sample", "cli-term", "--batch", "LOT-CLI",
	                      "--preset-time", "100000", "--profile", profile, "--data-dir", data_dir, "--json", NULL};
	CHECK(spawn(&c, 0, args) == 0);
	json_t *ev = read_until(&c, "progress", WAIT_MS);
	CHECK_MSG(ev != NULL, "no progress event: %s", slurp(err_path));
	kill(c.pid, SIGTERM);
	int rc = finish(&c);
	CHECK_MSG(rc == 3, "exit %d after SIGTERM: %s", rc, slurp(err_path));
	json_t *sv = find_event(&c, "saved", 0);
	CHECK(sv && !strcmp(jstr(sv, "status"), "stopped_early"));
	json_t *f = find_event(&c, "finished", 0);
	CHECK(f && !strcmp(jstr(f, "outcome"), "stopped_early") && json_integer_value(json_object_get(f, "exit_code")) == 3);
	mg_store *st = open_store();
	if (st && sv) {
		mg_acq_presets p = {100000.0, NAN, NAN};
		acqt_check_measurement(st, json_integer_value(json_object_get(sv, "measurement_id")), "stopped_early", &p,
		                       "SIGTERM");
	}
	mg_store_close(st);
	CHECK(acqt_checkpoint_files(data_dir) == 0);
	child_free(&c);
}

/* Start an acquisition and SIGKILL it after its first checkpoint. */
static void kill_after_checkpoint(const char *sample, char uuid[MG_UUID_SIZE])
{
	struct child c;
	const char *args[] = {"acquire", "--device", DEVICE, "--sample", sample, "--batch", "LOT-CLI",
	                      "--preset-time", "100000", "--profile", profile, "--data-dir", data_dir, "--json", NULL};
	uuid[0] = '\0';
	CHECK(spawn(&c, 0, args) == 0);
	json_t *ev = read_until(&c, "checkpoint", WAIT_MS);
	CHECK_MSG(ev != NULL, "no checkpoint event: %s", slurp(err_path));
	if (ev)
		snprintf(uuid, MG_UUID_SIZE, "%s", jstr(ev, "uuid"));
	kill(c.pid, SIGKILL);
	int rc = finish(&c);
	CHECK_MSG(rc == 128 + SIGKILL, "exit %d", rc);
	child_free(&c);
}

static void test_sigkill_recover(void)
{
	char uuid[MG_UUID_SIZE];
	kill_after_checkpoint("cli-kill", uuid);
	CHECK(acqt_checkpoint_files(data_dir) >= 3); /* lock, sidecar, partial spectrum */
	struct child c;
	int rc = run(&c, 0, "recover", "--data-dir", data_dir, "--json", NULL);
	CHECK_MSG(rc == 0, "recover exit %d: %s", rc, slurp(err_path));
	json_t *o = json_loads(c.text, 0, NULL);
	CHECK_MSG(o != NULL, "recover --json: '%s'", c.text);
	long long id = 0;
	if (o) {
		CHECK(json_integer_value(json_object_get(o, "registered")) == 1);
		CHECK(json_integer_value(json_object_get(o, "failed")) == 0);
		json_t *it = json_array_get(json_object_get(o, "items"), 0);
		CHECK(it && !strcmp(jstr(it, "action"), "registered") && !strcmp(jstr(it, "status"), "incomplete"));
		CHECK(it && !strcmp(jstr(it, "uuid"), uuid) && !strcmp(jstr(it, "sample"), "cli-kill"));
		id = json_integer_value(json_object_get(it, "measurement_id"));
		json_decref(o);
	}
	CHECK(acqt_checkpoint_files(data_dir) == 0);
	mg_store *st = open_store();
	if (st) {
		mg_acq_presets p = {100000.0, NAN, NAN};
		acqt_check_measurement(st, id, "incomplete", &p, "SIGKILL, recovered");
		mg_measurement m;
		if (mg_store_measurement_get(st, id, &m) == MG_OK) {
			CHECK(m.live_time_s >= 10 && m.total_counts > 0 && !strcmp(m.uuid, uuid));
			mg_measurement_clear(&m);
		}
		acqt_check_store(st, "after recover");
		mg_store_close(st);
	}
	/* idempotent */
	child_free(&c);
	rc = run(&c, 0, "recover", "--data-dir", data_dir, NULL);
	CHECK_MSG(rc == 0 && strstr(c.text, "nothing to recover"), "exit %d: %s", rc, c.text);
	child_free(&c);

	/* the next acquire recovers by itself, first */
	kill_after_checkpoint("cli-kill2", uuid);
	rc = run(&c, 0, "acquire", "--device", DEVICE, "--sample", "cli-kill2", "--preset-time", "2", "--profile",
	         profile, "--data-dir", data_dir, "--json", NULL);
	CHECK_MSG(rc == 0, "exit %d: %s", rc, slurp(err_path));
	json_t *rec = find_event(&c, "recovered", 0);
	CHECK(rec && !strcmp(jstr(rec, "action"), "registered") && !strcmp(jstr(rec, "uuid"), uuid));
	CHECK(c.nevents > 0 && !strcmp(jstr(c.events[0], "event"), "recovered")); /* before anything else */
	child_free(&c);
	st = open_store();
	CHECK(acqt_count(st, "cli-kill2") == 2);
	acqt_check_store(st, "after the automatic recovery");
	mg_store_close(st);
}

static void test_rlimit(void)
{
	mg_store *st = open_store();
	int before = acqt_count(st, NULL);
	mg_store_close(st);
	/* 8192 channels of a 20000 s spectrum (speed 1e6): ~50 kB; the limit lets SQLite's 32 kB
	 * shared-memory index and the sidecar through, not the spectrum */
	struct child c;
	int rc = run(&c, 38000, "acquire", "--device", FAST_DEVICE, "--sample", "cli-1", "--preset-time", "20000", "--set",
	             "MCAC=8192", "--profile", profile, "--data-dir", data_dir, "--json", NULL);
	CHECK_MSG(rc == 1, "exit %d under RLIMIT_FSIZE: %s", rc, slurp(err_path));
	json_t *err = NULL;
	for (int i = 0; (err = find_event(&c, "error", i)) != NULL; i++)
		if (json_is_true(json_object_get(err, "fatal")))
			break;
	CHECK_MSG(err != NULL, "no fatal error event: %s", c.text);
	if (err) {
		const char *msg = jstr(err, "message");
		CHECK_MSG(strstr(msg, "/spectra/LOT-CLI/cli-1/") && strstr(msg, ".mca") && strstr(msg, "File too large"),
		          "message: %s", msg);
		CHECK(!strcmp(jstr(err, "code"), "MG_ERR_NOSPACE"));
	}
	json_t *f = find_event(&c, "finished", 0);
	CHECK(f && !strcmp(jstr(f, "outcome"), "failed") && json_integer_value(json_object_get(f, "saved")) == 0);
	child_free(&c);
	/* the same without --json: the message on stderr */
	rc = run(&c, 38000, "acquire", "--device", FAST_DEVICE, "--sample", "cli-1", "--preset-time", "20000", "--set",
	         "MCAC=8192", "--profile", profile, "--data-dir", data_dir, NULL);
	const char *e = slurp(err_path);
	CHECK_MSG(rc == 1 && strstr(e, "cannot write the spectrum of sample cli-1") && strstr(e, "File too large"),
	          "exit %d, stderr: %s", rc, e);
	child_free(&c);
	st = open_store();
	CHECK_MSG(acqt_count(st, NULL) == before, "%d measurements, %d before", acqt_count(st, NULL), before);
	acqt_check_store(st, "after RLIMIT_FSIZE");
	mg_store_close(st);
	/* nothing recoverable was left (no checkpoint could be written) */
	rc = run(&c, 0, "recover", "--data-dir", data_dir, NULL);
	CHECK_MSG(rc == 0, "recover exit %d: %s", rc, slurp(err_path));
	child_free(&c);
	CHECK(acqt_checkpoint_files(data_dir) == 0);
}

static void test_usage(void)
{
	struct child c;
	int rc = run(&c, 0, "acquire", "--device", DEVICE, "--sample", "../etc", "--batch", "B", "--data-dir", data_dir,
	             NULL);
	CHECK_MSG(rc == 2 && strstr(slurp(err_path), "../etc"), "exit %d: %s", rc, slurp(err_path));
	child_free(&c);
	rc = run(&c, 0, "acquire", "--sample", "x1", "--batch", "B", "--data-dir", data_dir, NULL);
	CHECK_MSG(rc == 2 && strstr(slurp(err_path), "--device"), "exit %d: %s", rc, slurp(err_path));
	child_free(&c);
	rc = run(&c, 0, "acquire", "--device", DEVICE, "--sample", "x1", "--batch", "B", "--preset-time", "1",
	         "--preset-counts", "100", "--data-dir", data_dir, NULL);
	CHECK(rc == 2);
	child_free(&c);
	rc = run(&c, 0, "acquire", "--device", DEVICE, "--sample", "x1", "--batch", "B", "--set", "MCAE=ON", "--data-dir",
	         data_dir, NULL);
	CHECK_MSG(rc == 2 && strstr(slurp(err_path), "MCAE"), "exit %d: %s", rc, slurp(err_path));
	child_free(&c);
	rc = run(&c, 0, "acquire", "--device", DEVICE, "--sample", "x1", "--batch", "B", "--preset-time", "0.05",
	         "--data-dir", data_dir, NULL);
	CHECK_MSG(rc == 2 && strstr(slurp(err_path), "0.1 s"), "exit %d: %s", rc, slurp(err_path));
	child_free(&c);
	char bad[800];
	snprintf(bad, sizeof(bad), "%s/bad.ini", data_dir);
	FILE *f = fopen(bad, "w");
	if (f) {
		fputs("[dp5]\nTPEA = 1\n[acquisition]\npoll = 3\n", f);
		fclose(f);
	}
	rc = run(&c, 0, "acquire", "--device", DEVICE, "--sample", "x1", "--batch", "B", "--profile", bad, "--data-dir",
	         data_dir, NULL);
	CHECK_MSG(rc == 2 && strstr(slurp(err_path), "bad.ini line 4"), "exit %d: %s", rc, slurp(err_path));
	child_free(&c);
	rc = run(&c, 0, "acquire", "--device", DEVICE, "--sample", "x1", "--batch", "B", "--replicates", "0",
	         "--data-dir", data_dir, NULL);
	CHECK(rc == 2);
	child_free(&c);
	rc = run(&c, 0, "acquire", "--help", NULL);
	CHECK(rc == 0 && strstr(c.text, "Exit status") && strstr(c.text, "3 stopped early"));
	child_free(&c);
	/* an instrument that is not there */
	rc = run(&c, 0, "acquire", "--device", "sim:nosuch", "--sample", "x1", "--batch", "B", "--data-dir", data_dir,
	         "--json", NULL);
	CHECK_MSG(rc == 1, "exit %d", rc);
	json_t *err = find_event(&c, "error", 0);
	CHECK(err && json_is_true(json_object_get(err, "fatal")) && strstr(jstr(err, "message"), "sim:nosuch"));
	CHECK(count_events(&c, "finished") == 1);
	child_free(&c);
	/* recover on a data directory that does not exist */
	rc = run(&c, 0, "recover", "--data-dir", "/nonexistent/magassay-data", NULL);
	CHECK(rc == 1);
	child_free(&c);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		mg_test_skip("usage: test_acq_cli PATH-TO-magassay");
	exe = argv[1];
	if (access(exe, X_OK) != 0)
		mg_test_skip("the magassay binary is not built");
	signal(SIGPIPE, SIG_IGN);
	double t0 = acqt_now_ms();
	snprintf(data_dir, sizeof(data_dir), "%s", acqt_fresh_dir("cli"));
	snprintf(profile, sizeof(profile), "%s/fast.ini", mg_test_tmpdir());
	snprintf(err_path, sizeof(err_path), "%s/stderr.txt", mg_test_tmpdir());
	FILE *f = fopen(profile, "w");
	if (!f) {
		perror(profile);
		return 1;
	}
	fputs("# fast polling for the simulator at speed 2000\n[acquisition]\npoll_ms = 1\ncheckpoint_s = 10\n"
	      "reconnect_attempts = 1\nreconnect_wait_ms = 1\n",
	      f);
	fclose(f);
	test_replicates();
	test_sigterm();
	test_sigkill_recover();
	test_rlimit();
	test_usage();
	fprintf(stderr, "test_acq_cli: %.0f ms\n", acqt_now_ms() - t0);
	return mg_test_finish("test_acq_cli");
}
