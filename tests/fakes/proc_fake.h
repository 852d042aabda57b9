/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An sf_proc for unit tests: no process is ever started. It models what the workers depend
 * on: keys are started, adopted, signalled and stopped; a "killed" child is restarted by the
 * next dispatch; run returns canned results in order.
 *
 * Successful calls are recorded as text, for tests to compare with the expected list:
 *   "start <key> netns=<ns|-> <argv joined by spaces>"      "adopt <key> pid=<pid>"
 *   "signal <key> HUP"        (the signal's abbreviation)    "stop <key>"
 *   "restart <key>"           (dispatch restarting a killed child)
 *   "run netns=<ns|-> <argv joined by spaces>"
 * Pids are 1000, 1001, ... in the order children are started (restarts get new ones).
 */
#ifndef SF_PROC_FAKE_H
#define SF_PROC_FAKE_H

#include <stddef.h>
#include <sys/types.h>

#include "sf/proc.h"

/* Free with sf_proc_free(). opt (may be NULL) supplies on_exit, called by sf_proc_fake_kill. */
struct sf_proc *sf_proc_fake_new(const struct sf_proc_options *opt);

/* Recorded calls, oldest first. The strings belong to the fake. */
size_t sf_proc_fake_n_calls(struct sf_proc *p);
const char *sf_proc_fake_call(struct sf_proc *p, size_t i);
void sf_proc_fake_clear_calls(struct sf_proc *p);

/* The result of the next run (FIFO): exit code and output (NULL means ""), or r < 0 to make
 * that run fail with r (e.g. -ETIMEDOUT). Without a queued result, a run exits 0 with no
 * output. */
void sf_proc_fake_push_result(struct sf_proc *p, int r, int exit_code, const char *out,
			      const char *err);

/* Make the next adopt(key) find a matching process (otherwise adopt is -ENOENT, no pid file). */
void sf_proc_fake_set_adoptable(struct sf_proc *p, const char *key);

/* The child under key dies (on_exit is called with a SIGKILL status); the next dispatch
 * restarts it. -ENOENT: unknown key; -ESRCH: already dead. */
int sf_proc_fake_kill(struct sf_proc *p, const char *key);

#endif
