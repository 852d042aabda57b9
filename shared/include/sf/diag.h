/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A diagnosis of bad client input: the HTTP status it deserves, the JSON pointer of the
 * offending value and a human message. Filled by validators; the API turns it into a 4xx body
 * and workers turn it into an error event.
 */
#ifndef SF_DIAG_H
#define SF_DIAG_H

#include "sf/util.h"

struct sf_diag {
	int status;        /* HTTP status, e.g. 400; 0 when empty */
	char pointer[256]; /* JSON pointer, e.g. "/netblock"; "" for the document root */
	char rule[32];     /* the schema keyword that failed, e.g. "pattern"; "" if none */
	char message[512]; /* human-readable, e.g. "/netblock: does not match format ipv4-cidr" */
};

/* Set (overwrite) the diagnosis. Returns -EINVAL so callers can `return sf_diag_set(...)`. */
int sf_diag_set(struct sf_diag *d, int status, const char *pointer, const char *rule,
		const char *fmt, ...) SF_PRINTF(5, 6);
void sf_diag_clear(struct sf_diag *d);

#endif
