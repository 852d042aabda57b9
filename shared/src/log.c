// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sf/err.h"
#include "sf/log.h"

enum sf_log_level sf_log_max_level = SF_LOG_INFO;
static FILE *log_stream;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static __thread char ctx_request[65];
static __thread char ctx_job[65];

static const char *const level_names[_SF_LOG_LEVEL_MAX] = {
	[SF_LOG_ERR] = "err",
	[SF_LOG_WARN] = "warn",
	[SF_LOG_INFO] = "info",
	[SF_LOG_DEBUG] = "debug",
};

const char *sf_log_level_to_string(enum sf_log_level l)
{
	if ((unsigned)l >= _SF_LOG_LEVEL_MAX)
		return NULL;
	return level_names[l];
}

int sf_log_level_from_string(const char *s, enum sf_log_level *ret_level)
{
	if (!s)
		return -EINVAL;
	for (int i = 0; i < _SF_LOG_LEVEL_MAX; i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*ret_level = (enum sf_log_level)i;
			return 0;
		}
	}
	/* Accept the spellings operators type. */
	if (strcasecmp(s, "error") == 0) {
		*ret_level = SF_LOG_ERR;
		return 0;
	}
	if (strcasecmp(s, "warning") == 0) {
		*ret_level = SF_LOG_WARN;
		return 0;
	}
	return -EINVAL;
}

void sf_log_set_level(enum sf_log_level l)
{
	if ((unsigned)l < _SF_LOG_LEVEL_MAX)
		sf_log_max_level = l;
}

void sf_log_set_stream(FILE *f)
{
	log_stream = f;
}

static void set_ctx(char *dst, size_t size, const char *id)
{
	if (!id) {
		dst[0] = '\0';
		return;
	}
	snprintf(dst, size, "%s", id);
}

void sf_log_set_request_id(const char *id)
{
	set_ctx(ctx_request, sizeof(ctx_request), id);
}

void sf_log_set_job_id(const char *id)
{
	set_ctx(ctx_job, sizeof(ctx_job), id);
}

const char *sf_log_request_id(void)
{
	return ctx_request[0] ? ctx_request : NULL;
}

const char *sf_log_job_id(void)
{
	return ctx_job[0] ? ctx_job : NULL;
}

bool sf_log_ratelimit_ok(struct sf_log_ratelimit *rl, unsigned *ret_suppressed)
{
	uint64_t now = sf_now_monotonic_ms();
	unsigned sup = 0;
	bool ok;

	pthread_mutex_lock(&log_lock);
	if (rl->window_start_ms == 0 || now - rl->window_start_ms >= rl->interval_ms) {
		sup = rl->suppressed;
		rl->window_start_ms = now;
		rl->emitted = 0;
		rl->suppressed = 0;
	}
	ok = rl->emitted < rl->burst;
	if (ok)
		rl->emitted++;
	else
		rl->suppressed++;
	pthread_mutex_unlock(&log_lock);
	*ret_suppressed = ok ? sup : 0;
	return ok;
}

/* Empty, or holds a separator, a quote or a control character (which must not reach the log
 * raw: a terminal escape or a bare \r could forge or hide a line). */
static bool needs_quotes(const char *s)
{
	if (*s == '\0')
		return true;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || strchr(" =\"\\", *s))
			return true;
	return false;
}

/* Append s to buf as a logfmt value: quoted and escaped when it needs to be. */
static size_t append_value(char *buf, size_t pos, size_t size, const char *s)
{
	bool quote = needs_quotes(s);

	if (!quote) {
		int n = snprintf(buf + pos, pos < size ? size - pos : 0, "%s", s);
		return pos + (size_t)(n > 0 ? n : 0);
	}
	if (pos < size - 1)
		buf[pos++] = '"';
	for (; *s && pos < size - 3; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[pos++] = '\\';
			buf[pos++] = (char)c;
		} else if (c == '\n') {
			buf[pos++] = '\\';
			buf[pos++] = 'n';
		} else if (c < 0x20 || c == 0x7f) {
			buf[pos++] = ' ';
		} else {
			buf[pos++] = (char)c;
		}
	}
	if (pos < size - 1)
		buf[pos++] = '"';
	buf[pos < size ? pos : size - 1] = '\0';
	return pos;
}

void sf_log_emit(enum sf_log_level l, const char *mod, int err, const char *fmt, ...)
{
	char msg[2048], line[4096];
	struct timespec ts;
	struct tm tm;
	size_t pos;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n >= 0 && err != 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", sf_strerror(err));

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ lvl=%s mod=%s",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     ts.tv_nsec / 1000000, sf_log_level_to_string(l) ?: "?", mod ? mod : "-");
	pos = n > 0 ? (size_t)n : 0;
	if (ctx_request[0] && pos < sizeof(line)) {
		pos += (size_t)snprintf(line + pos, sizeof(line) - pos, " req=");
		pos = append_value(line, pos, sizeof(line), ctx_request);
	}
	if (ctx_job[0] && pos < sizeof(line)) {
		pos += (size_t)snprintf(line + pos, sizeof(line) - pos, " job=");
		pos = append_value(line, pos, sizeof(line), ctx_job);
	}
	if (pos < sizeof(line)) {
		pos += (size_t)snprintf(line + pos, sizeof(line) - pos, " msg=");
		pos = append_value(line, pos, sizeof(line), msg);
	}
	if (err != 0 && pos < sizeof(line))
		pos += (size_t)snprintf(line + pos, sizeof(line) - pos, " errno=%d",
					err < 0 ? -err : err);
	if (pos >= sizeof(line) - 1)
		pos = sizeof(line) - 2;
	line[pos++] = '\n';
	line[pos] = '\0';

	pthread_mutex_lock(&log_lock);
	fputs(line, log_stream ? log_stream : stderr);
	fflush(log_stream ? log_stream : stderr);
	pthread_mutex_unlock(&log_lock);
}
