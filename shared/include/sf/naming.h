/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Device and path names of the dataplane, as upstream names them (spec 6.2), so a node can be
 * inspected with the same commands and upstream's tooling recognises our devices:
 *
 *   SF_NAME_VXLAN           vxlan-XXXXXX        XXXXXX = the vxid as %06x
 *   SF_NAME_BRIDGE          br-vxlan-XXXXXX
 *   SF_NAME_VETH_OUTER      veth-XXXXXX-o       on the bridge (network node)
 *   SF_NAME_VETH_INNER      veth-XXXXXX-i       in the network's namespace, holds the router
 *   SF_NAME_EGRESS_OUTER    egr-XXXXXX-o        on egr-br-<nic>
 *   SF_NAME_EGRESS_INNER    egr-XXXXXX-i        in the namespace, holds the floating gateway
 *   SF_NAME_FLOATING_OUTER  flt-HHHHHHHH-o      HHHHHHHH = the floating IPv4 address as %08x
 *   SF_NAME_FLOATING_INNER  flt-HHHHHHHH-i
 *
 * plus the egress bridge egr-br-<nic> (truncated to 15 characters, as upstream does) and the
 * dnsmasq state directory. The network's namespace is named by the network uuid itself.
 *
 * Every device name is at most 15 characters (IFNAMSIZ - 1) and written into a caller buffer
 * of SF_IFNAMSIZ bytes.
 */
#ifndef SF_NAMING_H
#define SF_NAMING_H

#include <stdint.h>

#define SF_IFNAMSIZ 16	     /* == IFNAMSIZ from <net/if.h>, checked in naming.c */
#define SF_VXID_MAX 0xffffff /* 24-bit VNI */

enum sf_name_kind {
	SF_NAME_VXLAN,
	SF_NAME_BRIDGE,
	SF_NAME_VETH_OUTER,
	SF_NAME_VETH_INNER,
	SF_NAME_EGRESS_OUTER,
	SF_NAME_EGRESS_INNER,
	SF_NAME_FLOATING_OUTER,
	SF_NAME_FLOATING_INNER,
	_SF_NAME_KIND_MAX,
};

/* The device name of one kind: id is the vxid for the per-network kinds (-ERANGE above
 * SF_VXID_MAX) and the IPv4 address in host byte order for the floating kinds. 0, -ERANGE or
 * -EINVAL (unknown kind). */
int sf_name_format(enum sf_name_kind kind, uint32_t id, char ret_name[static SF_IFNAMSIZ]);

/* The reverse, for the reconciler walking a link dump: which of our devices is this, and of
 * which vxid or floating address? Only exact forms match (lower-case hex, full width, the
 * exact suffix); anything else is -EINVAL, i.e. "not one of ours". */
int sf_name_parse(const char *name, enum sf_name_kind *ret_kind, uint32_t *ret_id);

/* "egr-br-<nic>" truncated to 15 characters. -EINVAL when nic is empty, too long to be an
 * interface name itself, or contains '/', ':' or whitespace (not valid in a device name). */
int sf_name_egress_bridge(const char *nic, char ret_name[static SF_IFNAMSIZ]);

/* "<storage_path>/dhcp/<network uuid>" (allocated; free() it): upstream's dnsmasq state
 * directory holding config, hosts, dnshosts, leases and pid. -EINVAL when storage_path is not
 * absolute or network_uuid is not a uuid (it becomes a path component). */
int sf_name_dnsmasq_dir(const char *storage_path, const char *network_uuid, char **ret_path);

#endif
