// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sf/naming.h"
#include "sf/util.h"

#define UUID "3b2a7f9e-1c4d-4e5f-8a6b-7c8d9e0f1a2b"

static const struct {
	enum sf_name_kind kind;
	uint32_t id;
	const char *name;
} names[] = {
	/* spec 6.2: vxid 14823439 = e2300f, floating 192.168.15.29 = c0a80f1d */
	{SF_NAME_VXLAN, 14823439, "vxlan-e2300f"},
	{SF_NAME_BRIDGE, 14823439, "br-vxlan-e2300f"},
	{SF_NAME_VETH_OUTER, 14823439, "veth-e2300f-o"},
	{SF_NAME_VETH_INNER, 14823439, "veth-e2300f-i"},
	{SF_NAME_EGRESS_OUTER, 14823439, "egr-e2300f-o"},
	{SF_NAME_EGRESS_INNER, 14823439, "egr-e2300f-i"},
	{SF_NAME_FLOATING_OUTER, 0xc0a80f1d, "flt-c0a80f1d-o"},
	{SF_NAME_FLOATING_INNER, 0xc0a80f1d, "flt-c0a80f1d-i"},
	/* zero padding and the extremes */
	{SF_NAME_VXLAN, 1, "vxlan-000001"},
	{SF_NAME_VXLAN, 0, "vxlan-000000"},
	{SF_NAME_BRIDGE, SF_VXID_MAX, "br-vxlan-ffffff"},
	{SF_NAME_VETH_INNER, 0xabc, "veth-000abc-i"},
	{SF_NAME_FLOATING_OUTER, 0, "flt-00000000-o"},
	{SF_NAME_FLOATING_INNER, UINT32_MAX, "flt-ffffffff-i"},
};

static void test_format_table(void **state)
{
	(void)state;

	for (size_t i = 0; i < SF_ARRAY_SIZE(names); i++) {
		char buf[SF_IFNAMSIZ];

		assert_int_equal(sf_name_format(names[i].kind, names[i].id, buf), 0);
		assert_string_equal(buf, names[i].name);
	}
}

static void test_all_names_fit(void **state)
{
	(void)state;

	for (unsigned k = 0; k < _SF_NAME_KIND_MAX; k++) {
		uint32_t id = (k == SF_NAME_FLOATING_OUTER || k == SF_NAME_FLOATING_INNER)
				      ? UINT32_MAX
				      : SF_VXID_MAX;
		char buf[SF_IFNAMSIZ];

		assert_int_equal(sf_name_format(k, id, buf), 0);
		assert_true(strlen(buf) <= SF_IFNAMSIZ - 1);
	}
}

static void test_format_errors(void **state)
{
	static const enum sf_name_kind vxid_kinds[] = {
		SF_NAME_VXLAN,	    SF_NAME_BRIDGE,	  SF_NAME_VETH_OUTER,
		SF_NAME_VETH_INNER, SF_NAME_EGRESS_OUTER, SF_NAME_EGRESS_INNER,
	};
	(void)state;

	for (size_t i = 0; i < SF_ARRAY_SIZE(vxid_kinds); i++) {
		char buf[SF_IFNAMSIZ] = "untouched";

		assert_int_equal(sf_name_format(vxid_kinds[i], SF_VXID_MAX + 1, buf), -ERANGE);
		assert_int_equal(sf_name_format(vxid_kinds[i], UINT32_MAX, buf), -ERANGE);
		assert_string_equal(buf, "untouched");
	}
	{
		char buf[SF_IFNAMSIZ] = "untouched";

		assert_int_equal(sf_name_format(_SF_NAME_KIND_MAX, 1, buf), -EINVAL);
		assert_string_equal(buf, "untouched");
	}
}

static void test_parse_round_trip(void **state)
{
	(void)state;

	for (size_t i = 0; i < SF_ARRAY_SIZE(names); i++) {
		enum sf_name_kind kind;
		uint32_t id;

		assert_int_equal(sf_name_parse(names[i].name, &kind, &id), 0);
		assert_int_equal(kind, names[i].kind);
		assert_int_equal(id, names[i].id);
	}
}

static void test_parse_rejects(void **state)
{
	static const char *const foreign[] = {
		"",
		"eth0",
		"vnet0",
		"egr-br-eth0",
		"vxlan-E2300F",
		"vxlan-e2300",
		"vxlan-e2300f0",
		"vxlan-e2300g",
		"vxlan-e2300f-o",
		"br-vxlan-e2300f-o",
		"veth-e2300f",
		"veth-e2300f-x",
		"veth-e2300f-oo",
		"flt-c0a80f1d",
		"flt-c0a80f1-o",
		"flt-c0a80f1dd-o",
		"egr-e2300f",
		"xvxlan-e2300f",
		"vxlan--e2300f",
		"vxlan-+e2300",
	};
	(void)state;

	for (size_t i = 0; i < SF_ARRAY_SIZE(foreign); i++) {
		enum sf_name_kind kind = _SF_NAME_KIND_MAX;
		uint32_t id = 7;

		if (sf_name_parse(foreign[i], &kind, &id) != -EINVAL)
			fail_msg("'%s' was taken for one of ours", foreign[i]);
		assert_int_equal(kind, _SF_NAME_KIND_MAX);
		assert_int_equal(id, 7);
	}
	assert_int_equal(sf_name_parse(NULL, &(enum sf_name_kind){0}, &(uint32_t){0}), -EINVAL);
}

static void test_egress_bridge(void **state)
{
	static const struct {
		const char *nic;
		int r;
		const char *name;
	} cases[] = {
		{"eth0", 0, "egr-br-eth0"},
		{"eth1", 0, "egr-br-eth1"},
		{"ens3f0", 0, "egr-br-ens3f0"},
		{"enp0s31f", 0, "egr-br-enp0s31f"},  /* exactly 15 */
		{"enp0s31f6", 0, "egr-br-enp0s31f"}, /* truncated, as upstream */
		{"abcdefghijklmno", 0, "egr-br-abcdefgh"},
		{"", -EINVAL, NULL},
		{"abcdefghijklmnop", -EINVAL, NULL}, /* 16: not an interface name */
		{"eth0:1", -EINVAL, NULL},
		{"a/b", -EINVAL, NULL},
		{"eth 0", -EINVAL, NULL},
	};
	(void)state;

	for (size_t i = 0; i < SF_ARRAY_SIZE(cases); i++) {
		char buf[SF_IFNAMSIZ] = "untouched";

		assert_int_equal(sf_name_egress_bridge(cases[i].nic, buf), cases[i].r);
		assert_string_equal(buf, cases[i].r == 0 ? cases[i].name : "untouched");
	}
	assert_int_equal(sf_name_egress_bridge(NULL, (char[SF_IFNAMSIZ]){0}), -EINVAL);
}

static void test_dnsmasq_dir(void **state)
{
	static const struct {
		const char *storage, *uuid;
		int r;
		const char *path;
	} cases[] = {
		{"/srv/shakenfist", UUID, 0, "/srv/shakenfist/dhcp/" UUID},
		{"/srv/shakenfist/", UUID, 0, "/srv/shakenfist/dhcp/" UUID},
		{"/srv/shakenfist//", UUID, 0, "/srv/shakenfist/dhcp/" UUID},
		{"/", UUID, 0, "/dhcp/" UUID},
		{"srv/shakenfist", UUID, -EINVAL, NULL},
		{"", UUID, -EINVAL, NULL},
		{"/srv/shakenfist", "../../etc", -EINVAL, NULL},
		{"/srv/shakenfist", "floating", -EINVAL, NULL},
		{"/srv/shakenfist", UUID "/x", -EINVAL, NULL},
	};
	(void)state;

	for (size_t i = 0; i < SF_ARRAY_SIZE(cases); i++) {
		char *path = NULL;

		assert_int_equal(sf_name_dnsmasq_dir(cases[i].storage, cases[i].uuid, &path),
				 cases[i].r);
		if (cases[i].r == 0)
			assert_string_equal(path, cases[i].path);
		else
			assert_null(path);
		free(path);
	}
	assert_int_equal(sf_name_dnsmasq_dir(NULL, UUID, &(char *){NULL}), -EINVAL);
	assert_int_equal(sf_name_dnsmasq_dir("/srv", NULL, &(char *){NULL}), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_table),  cmocka_unit_test(test_all_names_fit),
		cmocka_unit_test(test_format_errors), cmocka_unit_test(test_parse_round_trip),
		cmocka_unit_test(test_parse_rejects), cmocka_unit_test(test_egress_bridge),
		cmocka_unit_test(test_dnsmasq_dir),
	};

	return cmocka_run_group_tests_name("naming", tests, NULL, NULL);
}
