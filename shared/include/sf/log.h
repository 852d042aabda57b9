/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging: one logfmt line per event on stderr:
 *   ts=2026-11-28T09:30:00.123Z lvl=info mod=mq req=... job=... msg="published" key=value ...
 * The level is checked before any formatting happens (Redis serverLog).
 *
 *   SF_LOG_MODULE("mq");                      once per .c file
 *   sf_log_info("connected to %s", url);
 *   return sf_log_err_errno(r, "publish to '%s' failed", ex);   logs "...: <strerror>" and returns r
 *   sf_log_warn_rl("redis down, retrying");    at most a burst per interval per call site
 *
 * Request and job ids are thread-local context, set by the API per request and by workers per job.
 */
#ifndef SF_LOG_H
#define SF_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sf/util.h"

enum sf_log_level {
	SF_LOG_ERR,
	SF_LOG_WARN,
	SF_LOG_INFO,
	SF_LOG_DEBUG,
	_SF_LOG_LEVEL_MAX,
};

const char *sf_log_level_to_string(enum sf_log_level l);
int sf_log_level_from_string(const char *s, enum sf_log_level *ret_level);

extern enum sf_log_level sf_log_max_level;
void sf_log_set_level(enum sf_log_level l);
/* Redirect output (tests). NULL restores stderr. Not thread-safe against concurrent logging. */
void sf_log_set_stream(FILE *f);

/* Thread-local context; NULL clears. Strings are copied (truncated to 64 bytes). */
void sf_log_set_request_id(const char *id);
void sf_log_set_job_id(const char *id);
const char *sf_log_request_id(void);
const char *sf_log_job_id(void);

/* Rate limiting state for sf_log_*_rl: burst messages per interval; the rest are counted. */
struct sf_log_ratelimit {
	uint64_t interval_ms;
	unsigned burst;
	uint64_t window_start_ms;
	unsigned emitted;
	unsigned suppressed;
};
/* true if the message may be logged; reports how many were suppressed since the last one. */
bool sf_log_ratelimit_ok(struct sf_log_ratelimit *rl, unsigned *ret_suppressed);

void sf_log_emit(enum sf_log_level l, const char *mod, int err, const char *fmt, ...) SF_PRINTF(4, 5);

#define SF_LOG_MODULE(name) static const char sf_log_module_[] SF_UNUSED = name

#define sf_log_full_(lvl, err, ...)                                                                \
	do {                                                                                       \
		if ((lvl) <= sf_log_max_level)                                                     \
			sf_log_emit((lvl), sf_log_module_, (err), __VA_ARGS__);                    \
	} while (0)

#define sf_log_err(...) sf_log_full_(SF_LOG_ERR, 0, __VA_ARGS__)
#define sf_log_warn(...) sf_log_full_(SF_LOG_WARN, 0, __VA_ARGS__)
#define sf_log_info(...) sf_log_full_(SF_LOG_INFO, 0, __VA_ARGS__)
#define sf_log_debug(...) sf_log_full_(SF_LOG_DEBUG, 0, __VA_ARGS__)

/* Log with the text of -errno r appended, and evaluate to r. */
#define sf_log_errno_(lvl, r, ...)                                                                 \
	({                                                                                         \
		int sf_r_ = (r);                                                                   \
		sf_log_full_((lvl), sf_r_, __VA_ARGS__);                                           \
		sf_r_;                                                                             \
	})
#define sf_log_err_errno(r, ...) sf_log_errno_(SF_LOG_ERR, r, __VA_ARGS__)
#define sf_log_warn_errno(r, ...) sf_log_errno_(SF_LOG_WARN, r, __VA_ARGS__)
#define sf_log_info_errno(r, ...) sf_log_errno_(SF_LOG_INFO, r, __VA_ARGS__)
#define sf_log_debug_errno(r, ...) sf_log_errno_(SF_LOG_DEBUG, r, __VA_ARGS__)

/* Rate-limited variants: at most 5 lines per 5 s per call site. */
#define sf_log_rl_(lvl, ...)                                                                       \
	do {                                                                                       \
		static struct sf_log_ratelimit sf_rl_ = {.interval_ms = 5000, .burst = 5};         \
		unsigned sf_sup_;                                                                  \
		if ((lvl) <= sf_log_max_level && sf_log_ratelimit_ok(&sf_rl_, &sf_sup_)) {         \
			if (sf_sup_)                                                               \
				sf_log_emit((lvl), sf_log_module_, 0,                              \
					    "%u similar messages suppressed", sf_sup_);            \
			sf_log_emit((lvl), sf_log_module_, 0, __VA_ARGS__);                        \
		}                                                                                  \
	} while (0)
#define sf_log_err_rl(...) sf_log_rl_(SF_LOG_ERR, __VA_ARGS__)
#define sf_log_warn_rl(...) sf_log_rl_(SF_LOG_WARN, __VA_ARGS__)
#define sf_log_info_rl(...) sf_log_rl_(SF_LOG_INFO, __VA_ARGS__)

#endif
