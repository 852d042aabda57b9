// SPDX-License-Identifier: Apache-2.0
/* An sf_proc that starts nothing; see proc_fake.h for what it models. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "proc_fake.h"
#include "sf/util.h"

struct fchild {
	char *key;
	pid_t pid; /* 0: dead, restarted by the next dispatch */
	struct fchild *next;
};

struct fresult {
	int r, exit_code;
	char *out, *err;
};

struct proc_fake {
	struct sf_proc_options opt;
	char **calls;
	size_t n_calls;
	struct fchild *children;
	struct fresult *results;
	size_t n_results;
	char **adoptable;
	size_t n_adoptable;
	pid_t next_pid;
};

static const struct sf_proc_class fake_class;

static void record(struct proc_fake *f, const char *fmt, ...) SF_PRINTF(2, 3);
static void record(struct proc_fake *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	f->calls = sf_xrealloc(f->calls, (f->n_calls + 1) * sizeof(*f->calls));
	f->calls[f->n_calls++] = sf_xvasprintf(fmt, ap);
	va_end(ap);
}

static char *join(const char *const *argv)
{
	size_t len = 0;
	char *s;

	for (const char *const *a = argv; *a; a++)
		len += strlen(*a) + 1;
	s = sf_xcalloc(1, len + 1);
	len = 0;
	for (const char *const *a = argv; *a; a++) {
		size_t n = strlen(*a);

		if (a != argv)
			s[len++] = ' ';
		memcpy(s + len, *a, n);
		len += n;
	}
	return s;
}

static struct fchild *find(struct proc_fake *f, const char *key)
{
	for (struct fchild *c = f->children; c; c = c->next)
		if (!strcmp(c->key, key))
			return c;
	return NULL;
}

static struct fchild *add(struct proc_fake *f, const char *key)
{
	struct fchild *c = sf_xcalloc(1, sizeof(*c));

	c->key = sf_xstrdup(key);
	c->pid = f->next_pid++;
	c->next = f->children;
	f->children = c;
	return c;
}

static void fake_free(void *ctx)
{
	struct proc_fake *f = ctx;

	for (size_t i = 0; i < f->n_calls; i++)
		free(f->calls[i]);
	free(f->calls);
	while (f->children) {
		struct fchild *c = f->children;

		f->children = c->next;
		free(c->key);
		free(c);
	}
	for (size_t i = 0; i < f->n_results; i++) {
		free(f->results[i].out);
		free(f->results[i].err);
	}
	free(f->results);
	for (size_t i = 0; i < f->n_adoptable; i++)
		free(f->adoptable[i]);
	free(f->adoptable);
	free(f);
}

static int fake_fd(void *ctx)
{
	(void)ctx;
	return -1;
}

static int fake_dispatch(void *ctx, int *ret_timeout_ms)
{
	struct proc_fake *f = ctx;

	for (struct fchild *c = f->children; c; c = c->next)
		if (c->pid == 0) {
			c->pid = f->next_pid++;
			record(f, "restart %s", c->key);
		}
	*ret_timeout_ms = -1;
	return 0;
}

static int fake_start(void *ctx, const char *key, const struct sf_proc_spec *spec)
{
	struct proc_fake *f = ctx;
	char *args;

	if (find(f, key))
		return -EEXIST;
	(void)add(f, key);
	args = join(spec->argv);
	record(f, "start %s netns=%s %s", key, spec->netns ? spec->netns : "-", args);
	free(args);
	return 0;
}

static int fake_adopt(void *ctx, const char *key, const struct sf_proc_spec *spec)
{
	struct proc_fake *f = ctx;

	(void)spec;
	if (find(f, key))
		return -EEXIST;
	for (size_t i = 0; i < f->n_adoptable; i++)
		if (!strcmp(f->adoptable[i], key)) {
			free(f->adoptable[i]);
			f->adoptable[i] = f->adoptable[--f->n_adoptable];
			record(f, "adopt %s pid=%d", key, (int)add(f, key)->pid);
			return 0;
		}
	return -ENOENT;
}

static int fake_signal(void *ctx, const char *key, int sig)
{
	struct proc_fake *f = ctx;
	struct fchild *c = find(f, key);
	const char *name = sigabbrev_np(sig);

	if (!c)
		return -ENOENT;
	if (!c->pid)
		return -ESRCH;
	if (!name)
		return -EINVAL;
	record(f, "signal %s %s", key, name);
	return 0;
}

static int fake_stop(void *ctx, const char *key)
{
	struct proc_fake *f = ctx;

	for (struct fchild **pp = &f->children; *pp; pp = &(*pp)->next) {
		struct fchild *c = *pp;

		if (strcmp(c->key, key) != 0)
			continue;
		*pp = c->next;
		record(f, "stop %s", key);
		free(c->key);
		free(c);
		return 0;
	}
	return -ENOENT;
}

static int fake_pid(void *ctx, const char *key, pid_t *ret_pid)
{
	struct fchild *c = find(ctx, key);

	if (!c)
		return -ENOENT;
	if (!c->pid)
		return -ESRCH;
	*ret_pid = c->pid;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int fake_keys(void *ctx, char ***ret_keys, size_t *ret_n)
{
	struct proc_fake *f = ctx;
	size_t n = 0, i = 0;
	char **keys;

	for (struct fchild *c = f->children; c; c = c->next)
		n++;
	keys = sf_xcalloc(n + 1, sizeof(*keys));
	for (struct fchild *c = f->children; c; c = c->next)
		keys[i++] = sf_xstrdup(c->key);
	qsort(keys, n, sizeof(*keys), cmp_str);
	*ret_keys = keys;
	*ret_n = n;
	return 0;
}

static int fake_run(void *ctx, const struct sf_proc_run_spec *spec,
		    struct sf_proc_result **ret_result)
{
	struct proc_fake *f = ctx;
	struct fresult fr = {0};
	struct sf_proc_result *res;
	char *args;

	if (f->n_results) {
		fr = f->results[0];
		memmove(f->results, f->results + 1, --f->n_results * sizeof(*f->results));
	}
	if (fr.r < 0) {
		free(fr.out);
		free(fr.err);
		return fr.r;
	}
	args = join(spec->argv);
	record(f, "run netns=%s %s", spec->netns ? spec->netns : "-", args);
	free(args);
	res = sf_xcalloc(1, sizeof(*res));
	res->exit_code = fr.exit_code;
	res->out = fr.out ? fr.out : sf_xstrdup("");
	res->err = fr.err ? fr.err : sf_xstrdup("");
	*ret_result = res;
	return 0;
}

static const struct sf_proc_class fake_class = {
	.name = "fake",
	.free = fake_free,
	.fd = fake_fd,
	.dispatch = fake_dispatch,
	.start = fake_start,
	.adopt = fake_adopt,
	.signal = fake_signal,
	.stop = fake_stop,
	.pid = fake_pid,
	.keys = fake_keys,
	.run = fake_run,
};

struct sf_proc *sf_proc_fake_new(const struct sf_proc_options *opt)
{
	struct proc_fake *f = sf_xcalloc(1, sizeof(*f));

	if (opt)
		f->opt = *opt;
	f->next_pid = 1000;
	return sf_proc_new_with_class(&fake_class, f);
}

static struct proc_fake *fake(struct sf_proc *p)
{
	struct proc_fake *f = sf_proc_ctx(p, &fake_class);

	if (!f)
		abort(); /* not a fake: a bug in the test */
	return f;
}

size_t sf_proc_fake_n_calls(struct sf_proc *p)
{
	return fake(p)->n_calls;
}

const char *sf_proc_fake_call(struct sf_proc *p, size_t i)
{
	struct proc_fake *f = fake(p);

	return i < f->n_calls ? f->calls[i] : NULL;
}

void sf_proc_fake_clear_calls(struct sf_proc *p)
{
	struct proc_fake *f = fake(p);

	for (size_t i = 0; i < f->n_calls; i++)
		free(f->calls[i]);
	f->n_calls = 0;
}

void sf_proc_fake_push_result(struct sf_proc *p, int r, int exit_code, const char *out,
			      const char *err)
{
	struct proc_fake *f = fake(p);

	f->results = sf_xrealloc(f->results, (f->n_results + 1) * sizeof(*f->results));
	f->results[f->n_results++] = (struct fresult){
		.r = r,
		.exit_code = exit_code,
		.out = out ? sf_xstrdup(out) : NULL,
		.err = err ? sf_xstrdup(err) : NULL,
	};
}

void sf_proc_fake_set_adoptable(struct sf_proc *p, const char *key)
{
	struct proc_fake *f = fake(p);

	f->adoptable = sf_xrealloc(f->adoptable, (f->n_adoptable + 1) * sizeof(*f->adoptable));
	f->adoptable[f->n_adoptable++] = sf_xstrdup(key);
}

int sf_proc_fake_kill(struct sf_proc *p, const char *key)
{
	struct proc_fake *f = fake(p);
	struct fchild *c = find(f, key);
	pid_t pid;

	if (!c)
		return -ENOENT;
	if (!c->pid)
		return -ESRCH;
	pid = c->pid;
	c->pid = 0;
	if (f->opt.on_exit)
		f->opt.on_exit(f->opt.userdata, key, pid, SIGKILL); /* WIFSIGNALED, WTERMSIG 9 */
	return 0;
}
