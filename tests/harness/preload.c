/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Running under umockdev: the re-exec into LD_PRELOAD=libumockdev-preload.so,
 * and the process's one testbed. */
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define MG_HARNESS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MG_HARNESS_ASAN 1
#endif
#endif

#define REEXEC_ENV "MG_HARNESS_REEXEC"

static int find_preload(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	if (info->dlpi_name && strstr(info->dlpi_name, "libumockdev-preload"))
		*(int *)data = 1;
	return 0;
}

int mg_harness_preload_active(void)
{
	int found = 0;
	dl_iterate_phdr(find_preload, &found);
	return found;
}

static void skip(const char *why)
{
	fprintf(stderr, "SKIP: %s\n", why);
	exit(77);
}

void mg_harness_require_umockdev(int argc, char **argv)
{
	(void)argc;
	/* Decide by what is mapped, not by umockdev_in_mock_environment(): that
	 * is false until a testbed exists, and deciding by it loops. */
	if (mg_harness_preload_active())
		return;
	if (getenv(REEXEC_ENV))
		skip("re-executed with LD_PRELOAD=libumockdev-preload.so but it is still not loaded");
	static const char *const candidates[] = {
#ifdef MG_UMOCKDEV_LIBDIR
		MG_UMOCKDEV_LIBDIR "/libumockdev-preload.so.0",
		MG_UMOCKDEV_LIBDIR "/libumockdev-preload.so",
#endif
		"/usr/lib/x86_64-linux-gnu/libumockdev-preload.so.0",
		"/usr/lib64/libumockdev-preload.so.0",
		"/usr/lib/libumockdev-preload.so.0",
		"/usr/local/lib/libumockdev-preload.so.0",
	};
	const char *lib = NULL;
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]) && !lib; i++)
		if (access(candidates[i], R_OK) == 0)
			lib = candidates[i];
	if (!lib)
		skip("libumockdev-preload.so not found (install umockdev); USB and tty emulation not run");

	char *old = getenv("LD_PRELOAD");
	size_t len = strlen(lib) + (old ? strlen(old) + 1 : 0) + 1;
	char *val = malloc(len);
	if (!val)
		skip("out of memory");
	snprintf(val, len, "%s%s%s", lib, old && *old ? ":" : "", old ? old : "");
	setenv("LD_PRELOAD", val, 1);
	free(val);
#ifdef MG_HARNESS_ASAN
	/* ASan insists on being first in the library list; the preload is. */
	const char *ao = getenv("ASAN_OPTIONS");
	char opts[1024];
	snprintf(opts, sizeof(opts), "%s%sverify_asan_link_order=0", ao ? ao : "", ao && *ao ? ":" : "");
	setenv("ASAN_OPTIONS", opts, 1);
#endif
	setenv(REEXEC_ENV, "1", 1);
	fflush(NULL);
	execv("/proc/self/exe", argv);
	perror("harness: execv /proc/self/exe");
	skip("cannot re-execute under libumockdev-preload.so");
}

#ifdef MG_HARNESS_UMOCKDEV
/* The testbed lives until exit: creating and finalizing one costs ~50 ms
 * each time, and tests start and stop devices often. */
static pthread_mutex_t tb_lock = PTHREAD_MUTEX_INITIALIZER;
static UMockdevTestbed *testbed;
static int tb_refs;

static void testbed_at_exit(void)
{
	pthread_mutex_lock(&tb_lock);
	if (testbed && tb_refs == 0) {
		g_object_unref(testbed); /* removes its temporary directory */
		testbed = NULL;
	}
	pthread_mutex_unlock(&tb_lock);
}

UMockdevTestbed *mg_harness_testbed_ref_(void)
{
	pthread_mutex_lock(&tb_lock);
	if (!testbed) {
		if (!mg_harness_preload_active())
			fprintf(stderr, "harness: warning: no libumockdev-preload.so; call "
			                "mg_harness_require_umockdev() first in main()\n");
		testbed = umockdev_testbed_new();
		static int registered;
		if (!registered++)
			atexit(testbed_at_exit);
	}
	tb_refs++;
	UMockdevTestbed *tb = testbed;
	pthread_mutex_unlock(&tb_lock);
	return tb;
}

void mg_harness_testbed_unref_(void)
{
	pthread_mutex_lock(&tb_lock);
	if (tb_refs > 0)
		tb_refs--;
	pthread_mutex_unlock(&tb_lock);
}
#endif
