// SPDX-License-Identifier: Apache-2.0
/* dnsmasq of a network: its state directory, its supervised process, its leases (spec 6.10). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "networknode/nn.h"
#include "sf/dnsmasq.h"
#include "sf/naming.h"
#include "sf/proc.h"

SF_LOG_MODULE("networknode");

int nn_dnsmasq_dir(const struct nn_state *st, const char *uuid, char **ret_dir)
{
	return sf_name_dnsmasq_dir(st->cfg->storage_dir, uuid, ret_dir);
}

/* The supervision spec of a network's dnsmasq; free with spec_clear(). */
struct dnsmasq_spec {
	struct sf_proc_spec spec;
	char **argv;
	char *dir, *pidfile, *log;
};

static void spec_clear(struct dnsmasq_spec *s)
{
	sf_dnsmasq_argv_free(s->argv);
	free(s->dir);
	free(s->pidfile);
	free(s->log);
}

static int spec_init(const struct nn_state *st, const char *uuid, struct dnsmasq_spec *s)
{
	int r;

	*s = (struct dnsmasq_spec){0};
	r = nn_dnsmasq_dir(st, uuid, &s->dir);
	if (r == 0)
		r = sf_dnsmasq_argv(SF_PROC_DNSMASQ, s->dir, &s->argv);
	if (r < 0) {
		spec_clear(s);
		return r;
	}
	s->pidfile = sf_xasprintf("%s/%s", s->dir, SF_DNSMASQ_PID);
	s->log = sf_xasprintf("%s/log", s->dir);
	s->spec = (struct sf_proc_spec){.argv = (const char *const *)s->argv,
					.netns = uuid,
					.pidfile = s->pidfile,
					.log_path = s->log};
	return 0;
}

int nn_dnsmasq_start(struct nn_state *st, const char *uuid, bool adopt_only)
{
	struct dnsmasq_spec s;
	int r;

	r = spec_init(st, uuid, &s);
	if (r < 0)
		return r;
	if (adopt_only) {
		r = sf_proc_adopt(st->proc, uuid, &s.spec);
	} else {
		r = sf_proc_start(st->proc, uuid, &s.spec);
		if (r == -EEXIST) { /* dead and waiting for its restart: restart it now */
			(void)sf_proc_stop(st->proc, uuid);
			r = sf_proc_start(st->proc, uuid, &s.spec);
		}
	}
	spec_clear(&s);
	return r;
}

int nn_dnsmasq_running(struct nn_state *st, const char *uuid, bool *ret_running)
{
	pid_t pid;
	int r;

	r = sf_proc_pid(st->proc, uuid, &pid);
	if (r == -ENOENT) { /* not ours (yet): one a previous daemon left running? */
		r = nn_dnsmasq_start(st, uuid, true);
		if (r == 0)
			sf_log_info("network %s: adopted the running dnsmasq", uuid);
		else if (r != -ENOENT && r != -ESRCH && r != -EINVAL)
			return r;
		r = r == 0 ? 0 : -ESRCH;
	}
	if (r == 0 || r == -ESRCH) {
		*ret_running = r == 0;
		return 0;
	}
	return r;
}

int nn_leases_read(const char *dir, struct nn_lease **ret_leases, size_t *ret_n)
{
	struct nn_lease *v = NULL;
	char *path = sf_xasprintf("%s/%s", dir, SF_DNSMASQ_LEASES), *line = NULL;
	size_t n = 0, cap = 0;
	long long now = (long long)time(NULL);
	FILE *f;

	f = fopen(path, "re");
	free(path);
	if (!f) {
		if (errno != ENOENT)
			return -errno;
		*ret_leases = NULL;
		*ret_n = 0;
		return 0;
	}
	while (getline(&line, &cap, f) > 0) {
		char *save = NULL, *expiry_s, *mac, *ip, *end = NULL;
		long long expiry;
		struct sf_mac m;
		uint32_t a;

		/* "<expiry> <mac> <ip> <hostname> <clientid>"; expiry 0 means never */
		expiry_s = strtok_r(line, " \n", &save);
		mac = strtok_r(NULL, " \n", &save);
		ip = strtok_r(NULL, " \n", &save);
		if (!expiry_s || !mac || !ip)
			continue;
		errno = 0;
		expiry = strtoll(expiry_s, &end, 10);
		if (errno || *end || sf_mac_parse(mac, &m) < 0 || sf_ipv4_parse(ip, &a) < 0)
			continue;
		if (expiry != 0 && expiry <= now)
			continue;
		v = sf_xrealloc(v, (n + 1) * sizeof(*v));
		(void)sf_mac_format(&m, v[n].mac);
		(void)sf_ipv4_format(a, v[n].address);
		n++;
	}
	free(line);
	(void)fclose(f);
	*ret_leases = v;
	*ret_n = n;
	return 0;
}
