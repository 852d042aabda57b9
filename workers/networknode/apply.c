// SPDX-License-Identifier: Apache-2.0
/* Applying a plan: netops for netlink, libnftables for the table, files and sf_proc for dnsmasq. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "networknode/nn.h"
#include "sf/dnsmasq.h"
#include "sf/err.h"
#include "sf/naming.h"
#include "sf/nft.h"
#include "sf/proc.h"

SF_LOG_MODULE("networknode");

int nn_apply_netops(struct sf_netops *node, struct sf_netops **net, const char *netns,
		    const struct nn_op *op)
{
	struct sf_route rt = {0};
	struct sf_netops *t = node;
	int r;

	if (op->where == NN_AT_NET) {
		if (!*net) {
			r = sf_netops_at(node, netns, net);
			if (r < 0)
				return r;
		}
		t = *net;
	}
	switch (op->kind) {
	case NN_OP_NETNS_ADD:
		r = sf_netops_netns_add(node, op->s1);
		return r == -EEXIST ? 0 : r;
	case NN_OP_NETNS_DEL:
		sf_netops_free(*net);
		*net = NULL;
		return sf_netops_netns_del(node, op->s1);
	case NN_OP_SYSCTL:
		return sf_netops_sysctl_set(t, op->s1, op->s2);
	case NN_OP_NO_IPV6:
		return sf_netops_link_ipv6_off(t, op->s1);
	case NN_OP_ADD_BRIDGE:
		r = sf_netops_link_add_bridge(t, &(struct sf_bridge_spec){.name = op->s1,
									  .mtu = op->u1,
									  .ageing_s = op->u2});
		return r == -EEXIST ? 0 : r;
	case NN_OP_ADD_VXLAN:
		r = sf_netops_link_add_vxlan(t, &(struct sf_vxlan_spec){.name = op->s1,
									.vni = op->u2,
									.port = (uint16_t)op->u3,
									.dev = op->s2,
									.mtu = op->u1});
		return r == -EEXIST ? 0 : r;
	case NN_OP_ADD_VETH:
		r = sf_netops_link_add_veth(t, &(struct sf_veth_spec){.name = op->s1,
								      .peer = op->s2,
								      .mtu = op->u1,
								      .peer_netns = op->s3});
		return r == -EEXIST ? 0 : r;
	case NN_OP_SET_MASTER:
		return sf_netops_link_set_master(t, op->s1, op->s2);
	case NN_OP_SET_MTU:
		return sf_netops_link_set_mtu(t, op->s1, op->u1);
	case NN_OP_SET_UP:
		return sf_netops_link_set_up(t, op->s1);
	case NN_OP_LINK_DEL:
		return sf_netops_link_del(t, op->s1);
	case NN_OP_ADDR_ADD:
		r = sf_netops_addr_add(t, op->s1, op->s2);
		return r == -EEXIST ? 0 : r;
	case NN_OP_ADDR_DEL:
		return sf_netops_addr_del(t, op->s1, op->s2);
	case NN_OP_ROUTE_REPLACE:
	case NN_OP_ROUTE_DEL:
		if (strlen(op->s1) >= sizeof(rt.dst) || strlen(op->s2) >= sizeof(rt.gateway) ||
		    strlen(op->s3) >= sizeof(rt.dev))
			return -EINVAL;
		memcpy(rt.dst, op->s1, strlen(op->s1) + 1);
		memcpy(rt.gateway, op->s2, strlen(op->s2) + 1);
		memcpy(rt.dev, op->s3, strlen(op->s3) + 1);
		return op->kind == NN_OP_ROUTE_DEL ? sf_netops_route_del(t, &rt)
						   : sf_netops_route_replace(t, &rt);
	case NN_OP_DEFAULT_ROUTE:
		return sf_netops_route_set_default(t, op->s2, op->s3);
	case NN_OP_FDB_ADD:
		return sf_netops_fdb_flood_add(t, op->s1, op->s2);
	case NN_OP_FDB_DEL:
		return sf_netops_fdb_flood_del(t, op->s1, op->s2);
	default:
		return -EINVAL;
	}
}

/* ---- files --------------------------------------------------------------------------------- */

/* mkdir -p with mode 0755: dnsmasq reads its host files after dropping to nobody. */
static int mkdir_p(const char *path)
{
	char *p = sf_xstrdup(path);
	int r = 0;

	for (char *s = p + 1; r == 0; s++) {
		bool end = *s == '\0';

		if (*s != '/' && !end)
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			r = -errno;
		if (end)
			break;
		*s = '/';
	}
	free(p);
	return r;
}

/* Replace dir/name with text atomically (temporary file, rename), mode 0644. */
static int write_file(const char *dir, const char *name, const char *text)
{
	char *path = sf_xasprintf("%s/%s", dir, name), *tmp = sf_xasprintf("%s.tmp", path);
	size_t len = strlen(text), done = 0;
	int fd, r = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	while (done < len && r == 0) {
		ssize_t k = write(fd, text + done, len - done);

		if (k < 0 && errno != EINTR)
			r = -errno;
		else if (k > 0)
			done += (size_t)k;
	}
	if (fchmod(fd, 0644) < 0 && r == 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		(void)unlink(tmp);
out:
	free(tmp);
	free(path);
	return r;
}

/* rm -r of a directory holding plain files only (dnsmasq's state). Missing is success. */
static int remove_dir(const char *dir)
{
	struct dirent *e;
	DIR *dp = opendir(dir);
	int r = 0;

	if (!dp)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(dp))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(dp), e->d_name, 0) < 0 && errno != ENOENT && r == 0)
			r = -errno;
	}
	closedir(dp);
	if (rmdir(dir) < 0 && errno != ENOENT && r == 0)
		r = -errno;
	return r;
}

/* ---- nft and dnsmasq ------------------------------------------------------------------------ */

static int apply_nft(struct nn_state *st, const struct nn_desired *d, bool remove)
{
	struct nn_netmem *mem = nn_netmem(st, d->uuid);
	struct nn_nft_spec spec;
	struct sf_nft *nft = NULL;
	char *text = NULL;
	int r;

	r = nn_nft_get(st, d->uuid, &nft);
	if (r < 0)
		return r;
	if (remove) {
		r = sf_nft_delete_table(nft);
		if (r == 0) {
			free(mem->nft_text);
			mem->nft_text = NULL;
		}
		goto out;
	}
	r = nn_nft_spec_init(d, &spec);
	if (r < 0)
		goto out;
	r = sf_nft_apply(nft, &spec.spec);
	if (r == 0)
		r = sf_nft_render(&spec.spec, &text);
	nn_nft_spec_clear(&spec);
	if (r == 0) {
		free(mem->nft_text);
		mem->nft_text = text;
	}
out:
	if (r == -EIO)
		sf_log_err("network %s: nftables said: %s", d->uuid, sf_nft_last_error(nft));
	return r;
}

static int apply_dnsmasq(struct nn_state *st, const struct nn_desired *d, const struct nn_op *op)
{
	const char *text = NULL;
	char ifname[SF_IFNAMSIZ], *dir = NULL;
	int r;

	r = nn_dnsmasq_dir(st, d->uuid, &dir);
	if (r < 0)
		return r;
	switch (op->kind) {
	case NN_OP_DNSMASQ_WRITE:
		if (strcmp(op->s1, SF_DNSMASQ_CONFIG) == 0)
			text = d->dnsmasq_config;
		else if (strcmp(op->s1, SF_DNSMASQ_HOSTS) == 0)
			text = d->dnsmasq_hosts;
		else if (strcmp(op->s1, SF_DNSMASQ_DNSHOSTS) == 0)
			text = d->dnsmasq_dnshosts;
		r = text ? mkdir_p(dir) : -EINVAL;
		if (r == 0)
			r = write_file(dir, op->s1, text);
		break;
	case NN_OP_DNSMASQ_RESTART:
		r = sf_proc_stop(st->proc, d->uuid);
		if (r < 0 && r != -ENOENT)
			break;
		/* fall through */
	case NN_OP_DNSMASQ_START:
		r = mkdir_p(dir);
		if (r == 0)
			r = nn_dnsmasq_start(st, d->uuid, false);
		break;
	case NN_OP_DNSMASQ_RELOAD:
		r = sf_proc_signal(st->proc, d->uuid, SIGHUP);
		if (r == -ESRCH) /* between a death and its restart, which reads the files */
			r = 0;
		else if (r == -ENOENT)
			r = nn_dnsmasq_start(st, d->uuid, false);
		break;
	case NN_OP_DNSMASQ_STOP:
		r = sf_proc_stop(st->proc, d->uuid);
		if (r == -ENOENT)
			r = 0;
		break;
	case NN_OP_DHCP_RELEASE:
		r = sf_name_format(SF_NAME_VETH_INNER, d->vxid, ifname);
		if (r == 0)
			r = sf_proc_dhcp_release(st->proc, d->uuid, ifname, op->s1, op->s2);
		if (r < 0) /* the lease expires by itself within the hour */
			sf_log_warn_errno(r, "network %s: dhcp_release %s %s failed, ignoring",
					  d->uuid, op->s1, op->s2);
		r = 0;
		break;
	case NN_OP_STATE_DIR_DEL:
		r = remove_dir(dir);
		break;
	default:
		r = -EINVAL;
		break;
	}
	free(dir);
	return r;
}

int nn_apply(struct nn_state *st, const struct nn_desired *d, const struct nn_oplist *ops,
	     const struct nn_op **failed_op)
{
	struct sf_netops *net = NULL;
	char line[512];
	int r = 0;

	for (size_t i = 0; i < ops->n && r >= 0; i++) {
		const struct nn_op *op = &ops->ops[i];

		sf_log_debug("network %s: %s", d->uuid, nn_op_format(op, line, sizeof(line)));
		if (nn_op_is_netops(op))
			r = nn_apply_netops(st->node, &net, d->uuid, op);
		else if (op->kind == NN_OP_NFT_APPLY || op->kind == NN_OP_NFT_DELETE)
			r = apply_nft(st, d, op->kind == NN_OP_NFT_DELETE);
		else
			r = apply_dnsmasq(st, d, op);
		if (r < 0) {
			sf_log_err_errno(r, "network %s: %s failed", d->uuid,
					 nn_op_format(op, line, sizeof(line)));
			if (failed_op)
				*failed_op = op;
		}
	}
	sf_netops_free(net);
	return r < 0 ? r : 0;
}
