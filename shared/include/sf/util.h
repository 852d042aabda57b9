/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers every module uses: allocation that aborts on OOM, formatted strings, time. */
#ifndef SF_UTIL_H
#define SF_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SF_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SF_UNUSED __attribute__((unused))
#define SF_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Log and abort() on OOM; the service manager restarts the daemon (Redis zmalloc, OVS xmalloc). */
void *sf_xmalloc(size_t n);
void *sf_xcalloc(size_t nmemb, size_t size);
void *sf_xrealloc(void *p, size_t n);
char *sf_xstrdup(const char *s);
char *sf_xstrndup(const char *s, size_t n);
char *sf_xasprintf(const char *fmt, ...) SF_PRINTF(1, 2);
char *sf_xvasprintf(const char *fmt, va_list ap) SF_PRINTF(1, 0);

/* snprintf that reports truncation: 0 on success, -ENAMETOOLONG when it did not fit. */
int sf_bprintf(char *buf, size_t size, const char *fmt, ...) SF_PRINTF(3, 4);

/* Clocks. */
uint64_t sf_now_monotonic_ms(void);
double sf_now_epoch(void); /* wall clock, seconds since the epoch, with fractions */

/* Parse a base-10 integer in [min, max]; 0, -EINVAL or -ERANGE. */
int sf_parse_long(const char *s, long min, long max, long *ret_value);
/* Parse "true/false/yes/no/on/off/1/0"; 0 or -EINVAL. */
int sf_parse_bool(const char *s, bool *ret_value);

bool sf_streq(const char *a, const char *b); /* NULL-safe */
bool sf_str_startswith(const char *s, const char *prefix);
/* The value of a hex digit (either case), or -1 for any other character. */
int sf_hexval(char c);

/* Generate a random RFC 4122 UUID (libuuid) into buf (37 bytes). */
#define SF_UUID_STRLEN 37
void sf_uuid_generate(char buf[SF_UUID_STRLEN]);
bool sf_uuid_is_valid(const char *s);

/* Sleep for ms milliseconds; returns early (with -EINTR) if a signal arrives. */
int sf_sleep_ms(uint64_t ms);

/* Exponential backoff: base, doubled each attempt, capped; with +-25% jitter. */
uint64_t sf_backoff_ms(unsigned attempt, uint64_t base_ms, uint64_t cap_ms);

#endif
