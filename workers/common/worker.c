// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>

#include "common/worker.h"
#include "sf/kv.h"
#include "sf/mq.h"

SF_LOG_MODULE("worker");

int wk_run(const struct sf_daemon_cfg *c, const char *role)
{
	struct sf_kv *kv = NULL;
	struct sf_mq *mq = NULL;
	int r;

	r = sf_daemon_connect_kv(c, &kv);
	if (r < 0)
		goto out;
	r = sf_daemon_connect_mq(c, &mq);
	if (r < 0)
		goto out;
	while ((r = sf_mq_declare_topology(mq, &role, 1)) < 0) {
		sf_log_warn_errno(r, "declaring the rabbitmq topology failed, retrying");
		sf_daemon_sleep_ms(1000);
		if (sf_daemon_stopping())
			goto out;
	}
	sf_log_info("ready: queue %s%s declared (skeleton: jobs are not consumed yet)",
		    SF_MQ_JOBS_QUEUE_PREFIX, role);
	while (!sf_daemon_stopping())
		sf_daemon_sleep_ms(1000);
	r = 0;
out:
	if (r == -ECANCELED)
		r = 0; /* asked to stop while still connecting */
	sf_mq_free(mq);
	sf_kv_free(kv);
	return r;
}
