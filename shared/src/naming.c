// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf/naming.h"
#include "sf/util.h"

_Static_assert(SF_IFNAMSIZ == IFNAMSIZ, "SF_IFNAMSIZ must match the kernel's IFNAMSIZ");

static const struct {
	const char *prefix;
	const char *suffix;
	unsigned digits; /* 6: a vxid; 8: an IPv4 address */
} kinds[_SF_NAME_KIND_MAX] = {
	[SF_NAME_VXLAN] = {"vxlan-", "", 6},	      [SF_NAME_BRIDGE] = {"br-vxlan-", "", 6},
	[SF_NAME_VETH_OUTER] = {"veth-", "-o", 6},    [SF_NAME_VETH_INNER] = {"veth-", "-i", 6},
	[SF_NAME_EGRESS_OUTER] = {"egr-", "-o", 6},   [SF_NAME_EGRESS_INNER] = {"egr-", "-i", 6},
	[SF_NAME_FLOATING_OUTER] = {"flt-", "-o", 8}, [SF_NAME_FLOATING_INNER] = {"flt-", "-i", 8},
};

int sf_name_format(enum sf_name_kind kind, uint32_t id, char ret_name[static SF_IFNAMSIZ])
{
	if ((unsigned)kind >= _SF_NAME_KIND_MAX)
		return -EINVAL;
	if (kinds[kind].digits == 6 && id > SF_VXID_MAX)
		return -ERANGE;
	/* Every form fits by construction (longest: "br-vxlan-XXXXXX", 15). */
	return sf_bprintf(ret_name, SF_IFNAMSIZ, "%s%0*x%s", kinds[kind].prefix,
			  (int)kinds[kind].digits, id, kinds[kind].suffix);
}

static int parse_hex(const char *s, unsigned digits, uint32_t *ret_id)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t v = 0;

	for (unsigned i = 0; i < digits; i++) {
		const char *d = s[i] ? strchr(hex, s[i]) : NULL;

		if (!d)
			return -EINVAL;
		v = v << 4 | (uint32_t)(d - hex);
	}
	*ret_id = v;
	return 0;
}

int sf_name_parse(const char *name, enum sf_name_kind *ret_kind, uint32_t *ret_id)
{
	if (!name)
		return -EINVAL;
	for (unsigned k = 0; k < _SF_NAME_KIND_MAX; k++) {
		size_t plen = strlen(kinds[k].prefix);
		uint32_t id;

		if (strncmp(name, kinds[k].prefix, plen) != 0 ||
		    strlen(name) != plen + kinds[k].digits + strlen(kinds[k].suffix) ||
		    strcmp(name + plen + kinds[k].digits, kinds[k].suffix) != 0 ||
		    parse_hex(name + plen, kinds[k].digits, &id) < 0)
			continue;
		*ret_kind = (enum sf_name_kind)k;
		*ret_id = id;
		return 0;
	}
	return -EINVAL;
}

int sf_name_egress_bridge(const char *nic, char ret_name[static SF_IFNAMSIZ])
{
	static const char prefix[] = "egr-br-";
	const size_t plen = sizeof(prefix) - 1;
	size_t len = nic ? strlen(nic) : 0;

	if (len == 0 || len >= SF_IFNAMSIZ || strpbrk(nic, "/: \t\n\r\v\f"))
		return -EINVAL;
	/* Truncation is intended: upstream cuts "egr-br-<nic>" to 15 characters. */
	if (len > SF_IFNAMSIZ - 1 - plen)
		len = SF_IFNAMSIZ - 1 - plen;
	memcpy(ret_name, prefix, plen);
	memcpy(ret_name + plen, nic, len);
	ret_name[plen + len] = '\0';
	return 0;
}

int sf_name_dnsmasq_dir(const char *storage_path, const char *network_uuid, char **ret_path)
{
	size_t len;

	if (!storage_path || storage_path[0] != '/' || !sf_uuid_is_valid(network_uuid))
		return -EINVAL;
	/* "/srv/shakenfist/" and "/srv/shakenfist" give the same directory. */
	len = strlen(storage_path);
	while (len > 1 && storage_path[len - 1] == '/')
		len--;
	*ret_path = sf_xasprintf("%.*s%sdhcp/%s", (int)len, storage_path, len > 1 ? "/" : "",
				 network_uuid);
	return 0;
}
