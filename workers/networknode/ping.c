// SPDX-License-Identifier: Apache-2.0
/* Ping from inside a network's namespace (spec 6.12, 1.5.9). */
#include <errno.h>
#include <string.h>

#include "networknode/nn.h"
#include "sf/proc.h"

SF_LOG_MODULE("networknode");

json_t *nn_split_lines(const char *text)
{
	json_t *lines = json_array();
	const char *nl;

	while ((nl = strchr(text, '\n'))) {
		json_array_append_new(lines, json_stringn(text, (size_t)(nl - text)));
		text = nl + 1;
	}
	json_array_append_new(lines, json_string(text));
	return lines;
}

int nn_ping(struct nn_state *st, const char *uuid, const char *address, unsigned count,
	    unsigned interval_ms, json_t **ret_reply)
{
	struct sf_proc_result *res = NULL;
	json_t *reply;
	int r;

	r = sf_proc_ping(st->proc, uuid, address, count, interval_ms, &res);
	if (r < 0) /* the job loop answers {"error", "status"} */
		return sf_log_warn_errno(r, "network %s: ping %s could not run", uuid, address);
	reply = json_pack("{s:o, s:o}", "stdout", nn_split_lines(res->out), "stderr",
			  nn_split_lines(res->err));
	sf_log_info("network %s: ping %s exited with %d", uuid, address, res->exit_code);
	sf_proc_result_free(res);
	*ret_reply = reply;
	return 0;
}
