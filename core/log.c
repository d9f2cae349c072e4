/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

#include "internal.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static mg_log_handler handler;
static void *handler_data;
static atomic_int level = MG_LOG_WARN;

void mg_log_set_handler(mg_log_handler h, void *userdata)
{
	pthread_mutex_lock(&lock);
	handler = h;
	handler_data = userdata;
	pthread_mutex_unlock(&lock);
}

void mg_log_set_level(int l)
{
	atomic_store(&level, l);
}

int mg_log_get_level(void)
{
	return atomic_load(&level);
}

void mg_logv(int l, const char *domain, const char *fmt, va_list ap)
{
	char msg[2048];
	if (l > atomic_load(&level))
		return;
	pthread_mutex_lock(&lock);
	mg_log_handler h = handler;
	void *ud = handler_data;
	pthread_mutex_unlock(&lock);
	if (!h)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	h(l, domain ? domain : "magassay", msg, ud);
}

void mg_log(int l, const char *domain, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	mg_logv(l, domain, fmt, ap);
	va_end(ap);
}
