// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sf/diag.h"

int sf_diag_set(struct sf_diag *d, int status, const char *pointer, const char *rule,
		const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return -EINVAL;
	d->status = status;
	snprintf(d->pointer, sizeof(d->pointer), "%s", pointer ? pointer : "");
	snprintf(d->rule, sizeof(d->rule), "%s", rule ? rule : "");
	va_start(ap, fmt);
	vsnprintf(d->message, sizeof(d->message), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void sf_diag_clear(struct sf_diag *d)
{
	if (d)
		memset(d, 0, sizeof(*d));
}
