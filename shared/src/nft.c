// SPDX-License-Identifier: Apache-2.0
/* Our nftables table in a network's namespace, through libnftables. See sf/nft.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "sf/log.h"
#include "sf/naming.h"
#include "sf/netops.h"
#include "sf/nft.h"
#include "sf/util.h"

SF_LOG_MODULE("nft");

#define TABLE SF_NFT_FAMILY " " SF_NFT_TABLE

struct sf_nft {
	struct nft_ctx *ctx;
	char *error; /* copy of the error buffer of the last failed command */
	dev_t ns_dev; /* the namespace it acts in (its nsfs inode); 0, 0: the caller's own */
	ino_t ns_ino;
	bool wrote; /* a transaction went through it */
};

/* Formatted output into a memory stream: it fails only without memory. */
#define emit(f, ...)                               \
	do {                                       \
		if (fprintf((f), __VA_ARGS__) < 0) \
			abort();                   \
	} while (0)

/* A device name that can go between double quotes in nft syntax. */
static bool ifname_ok(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len >= SF_IFNAMSIZ)
		return false;
	for (const char *c = name; *c; c++)
		if (*c <= ' ' || *c >= 0x7f || *c == '"' || *c == '\\' || *c == '/')
			return false;
	return true;
}

static int spec_check(const struct sf_nft_spec *spec)
{
	if (!ifname_ok(spec->inner_ifname) || !ifname_ok(spec->egress_ifname) ||
	    spec->netblock.prefix > 32 || (spec->n_floating && !spec->floating))
		return -EINVAL;
	for (size_t i = 0; i < spec->n_floating; i++) {
		const struct sf_nft_floating *f = &spec->floating[i];

		if (!sf_ipv4_net_contains(&spec->netblock, f->inner) ||
		    sf_ipv4_net_contains(&spec->netblock, f->floating))
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (spec->floating[j].floating == f->floating ||
			    spec->floating[j].inner == f->inner)
				return -EINVAL;
	}
	return 0;
}

/* FNV-1a, 64 bits: a fingerprint of the rules, not a defence against anyone. */
static uint64_t fnv1a(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

int sf_nft_render(const struct sf_nft_spec *spec, char **ret_text)
{
	char net[SF_IPV4_NET_STRLEN], fl[SF_IPV4_STRLEN], in[SF_IPV4_STRLEN];
	struct sf_ipv4_net block;
	const char *egr = spec->egress_ifname, *inner = spec->inner_ifname;
	char *body = NULL;
	size_t len;
	FILE *f;
	int r;

	r = spec_check(spec);
	if (r < 0)
		return r;
	f = open_memstream(&body, &len);
	if (!f)
		abort(); /* only ENOMEM */

	block = sf_ipv4_net_canonical(&spec->netblock);
	(void)sf_ipv4_net_format(&block, net);
	emit(f, "\tchain prerouting {\n"
		"\t\ttype nat hook prerouting priority dstnat; policy accept;\n");
	for (size_t i = 0; i < spec->n_floating; i++)
		emit(f, "\t\tip daddr %s dnat to %s\n",
		     sf_ipv4_format(spec->floating[i].floating, fl),
		     sf_ipv4_format(spec->floating[i].inner, in));
	emit(f, "\t}\n");

	emit(f, "\tchain postrouting {\n"
		"\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
	for (size_t i = 0; i < spec->n_floating; i++)
		emit(f, "\t\toifname \"%s\" ip saddr %s snat to %s\n", egr,
		     sf_ipv4_format(spec->floating[i].inner, in),
		     sf_ipv4_format(spec->floating[i].floating, fl));
	if (spec->masquerade)
		emit(f, "\t\toifname \"%s\" ip saddr %s masquerade\n", egr, net);
	emit(f, "\t}\n");

	emit(f,
	     "\tchain forward {\n"
	     "\t\ttype filter hook forward priority filter; policy accept;\n"
	     "\t\tiifname \"%s\" oifname \"%s\" accept\n"
	     "\t\tiifname \"%s\" oifname \"%s\" accept\n"
	     "\t}\n",
	     inner, egr, egr, inner);
	if (fclose(f) != 0)
		abort();

	/* "add; delete" makes the delete succeed whether or not the table exists, and all three
	 * commands are one transaction: no moment without NAT, no half-applied table. The
	 * comment carries the rules' fingerprint into the kernel (sf_nft_table_mark). */
	*ret_text = sf_xasprintf("add table " TABLE "\ndelete table " TABLE "\ntable " TABLE
				 " {\n\tcomment \"" SF_NFT_MARK_PREFIX "%016llx\"\n%s}\n",
				 (unsigned long long)fnv1a(body, len), body);
	free(body);
	return 0;
}

void sf_nft_text_mark(const char *text, char ret_mark[SF_NFT_MARK_SIZE])
{
	const char *c = strstr(text, "\tcomment \"" SF_NFT_MARK_PREFIX);
	size_t n = 0;

	ret_mark[0] = '\0';
	if (!c)
		return;
	c += strlen("\tcomment \"");
	while (c[n] && c[n] != '"' && n + 1 < SF_NFT_MARK_SIZE)
		n++;
	memcpy(ret_mark, c, n);
	ret_mark[n] = '\0';
}

/* NFT_CTX_DEFAULT opens the netlink socket at once: called inside the target namespace. */
static int ctx_new_fn(void *arg)
{
	struct nft_ctx **ret_ctx = arg;

	*ret_ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	return *ret_ctx ? 0 : -ENOMEM;
}

/* The identity (nsfs device and inode) of the namespace netns names now. */
static int netns_stat(const char *netns, int *ret_fd /* may be NULL */, struct stat *ret_st)
{
	int fd, r;

	r = sf_netns_open(netns, &fd);
	if (r < 0)
		return r;
	r = fstat(fd, ret_st) < 0 ? -errno : 0;
	if (r < 0 || !ret_fd)
		close(fd);
	else
		*ret_fd = fd;
	return r;
}

int sf_nft_new(const char *netns, struct sf_nft **ret_nft)
{
	struct nft_ctx *ctx = NULL;
	struct sf_nft *nft;
	struct stat ns = {0};
	int fd = -1, r;

	if (netns) {
		r = netns_stat(netns, &fd, &ns);
		if (r < 0)
			return r;
	}
	r = sf_netns_call(fd, ctx_new_fn, &ctx); /* fd -1: here */
	if (fd >= 0)
		close(fd);
	if (r < 0)
		return r;
	/* Output and errors go to buffers we read, never to the daemon's stdout/stderr. */
	if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
		nft_ctx_free(ctx);
		return -ENOMEM;
	}
	nft = sf_xcalloc(1, sizeof(*nft));
	nft->ctx = ctx;
	nft->ns_dev = ns.st_dev;
	nft->ns_ino = ns.st_ino;
	*ret_nft = nft;
	return 0;
}

bool sf_nft_wrote(const struct sf_nft *nft)
{
	return nft->wrote;
}

bool sf_nft_netns_current(const struct sf_nft *nft, const char *netns)
{
	struct stat ns;

	if (!netns)
		return true;
	return netns_stat(netns, NULL, &ns) == 0 && ns.st_dev == nft->ns_dev &&
	       ns.st_ino == nft->ns_ino;
}

void sf_nft_free(struct sf_nft *nft)
{
	if (!nft)
		return;
	nft_ctx_free(nft->ctx);
	free(nft->error);
	free(nft);
}

const char *sf_nft_last_error(const struct sf_nft *nft)
{
	return nft->error ? nft->error : "";
}

/* Run commands; on success *ret_out (if given) is a copy of the output buffer. */
static int run(struct sf_nft *nft, const char *cmds, char **ret_out)
{
	const char *out, *err;
	size_t n;
	int rc;

	rc = nft_run_cmd_from_buffer(nft->ctx, cmds);
	/* Reading a buffer also rewinds it, so read both every time. */
	out = nft_ctx_get_output_buffer(nft->ctx);
	err = nft_ctx_get_error_buffer(nft->ctx);
	free(nft->error);
	nft->error = NULL;
	if (rc != 0) {
		nft->error = sf_xstrdup(err);
		n = strlen(nft->error);
		while (n && nft->error[n - 1] == '\n')
			nft->error[--n] = '\0';
		sf_log_debug("nft failed: %s", nft->error);
		return -EIO;
	}
	if (ret_out)
		*ret_out = sf_xstrdup(out);
	return 0;
}

int sf_nft_apply(struct sf_nft *nft, const struct sf_nft_spec *spec)
{
	char *text;
	int r;

	r = sf_nft_render(spec, &text);
	if (r < 0)
		return r;
	nft->wrote = true;
	r = run(nft, text, NULL);
	free(text);
	return r;
}

int sf_nft_delete_table(struct sf_nft *nft)
{
	nft->wrote = true;
	return run(nft, "add table " TABLE "\ndelete table " TABLE "\n", NULL);
}

int sf_nft_table_exists(struct sf_nft *nft, bool *ret_exists)
{
	char *out, *line, *save = NULL;
	bool found = false;
	int r;

	/* One "table ip <name>" line per table: no need to parse an error message. */
	r = run(nft, "list tables " SF_NFT_FAMILY, &out);
	if (r < 0)
		return r;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!strcmp(line, "table " TABLE))
			found = true;
	free(out);
	*ret_exists = found;
	return 0;
}

int sf_nft_table_mark(struct sf_nft *nft, char ret_mark[SF_NFT_MARK_SIZE])
{
	char *out = NULL;
	bool exists;
	int r;

	r = sf_nft_table_exists(nft, &exists);
	if (r == 0 && !exists)
		r = -ENOENT;
	if (r == 0)
		r = run(nft, "list table " TABLE, &out);
	if (r < 0)
		return r;
	sf_nft_text_mark(out, ret_mark);
	free(out);
	return 0;
}

int sf_nft_list_json(struct sf_nft *nft, char **ret_json)
{
	unsigned flags = nft_ctx_output_get_flags(nft->ctx);
	bool exists;
	int r;

	r = sf_nft_table_exists(nft, &exists);
	if (r < 0)
		return r;
	if (!exists)
		return -ENOENT;
	nft_ctx_output_set_flags(nft->ctx, flags | NFT_CTX_OUTPUT_JSON);
	r = run(nft, "list table " TABLE, ret_json);
	nft_ctx_output_set_flags(nft->ctx, flags);
	return r;
}
