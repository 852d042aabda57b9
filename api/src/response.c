// SPDX-License-Identifier: Apache-2.0
/* Response helpers for handlers (api.h): what a handler fills; http.c turns it into bytes. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

void api_response_clear(struct api_response *resp)
{
	json_decref(resp->body);
	free(resp->error);
	json_decref(resp->error_obj);
	free(resp->raw);
	*resp = (struct api_response){.status = 200};
}

int api_ok(struct api_response *resp, json_t *body)
{
	api_response_clear(resp);
	resp->body = body;
	return 0;
}

int api_error(struct api_response *resp, int status, const char *fmt, ...)
{
	va_list ap;

	api_response_clear(resp);
	resp->status = status;
	va_start(ap, fmt);
	resp->error = sf_xvasprintf(fmt, ap);
	va_end(ap);
	return 0;
}

int api_error_object(struct api_response *resp, int status, json_t *error)
{
	api_response_clear(resp);
	resp->status = status;
	resp->error_obj = error;
	return 0;
}
