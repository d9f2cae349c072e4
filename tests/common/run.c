/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mg_test_run: see run.h. Output goes through temporary files (no pipe to
 * drain while waiting). */
#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *slurp(FILE *f)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	char chunk[4096];
	rewind(f);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			char *b = realloc(buf, cap);
			if (!b)
				break;
			buf = b;
		}
		memcpy(buf + len, chunk, n);
		len += n;
	}
	if (!buf)
		return strdup("");
	buf[len] = 0;
	return buf;
}

int mg_test_run(const char *const *argv, const char *const *env, mg_test_output *o)
{
	FILE *out = tmpfile(), *err = tmpfile();
	memset(o, 0, sizeof *o);
	if (!out || !err) {
		if (out)
			fclose(out);
		if (err)
			fclose(err);
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fileno(out), 1);
		dup2(fileno(err), 2);
		for (int i = 0; env && env[i]; i++)
			if (strchr(env[i], '='))
				putenv((char *)env[i]);
			else
				unsetenv(env[i]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	int status = 0;
	if (pid > 0)
		waitpid(pid, &status, 0);
	o->out = slurp(out);
	o->err = slurp(err);
	fclose(out);
	fclose(err);
	if (pid < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void mg_test_output_clear(mg_test_output *o)
{
	free(o->out);
	free(o->err);
	o->out = o->err = NULL;
}
