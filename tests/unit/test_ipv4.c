// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "sf/ipv4.h"
#include "sf/util.h"

#define IP(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define SENTINEL 0xdeadbeefu

static struct sf_ipv4_net net_of(const char *s)
{
	struct sf_ipv4_net n;

	assert_int_equal(sf_ipv4_net_parse(s, 0, &n), 0);
	return n;
}

static void test_parse_valid(void **state)
{
	static const struct {
		const char *s;
		uint32_t addr;
	} cases[] = {
		{"0.0.0.0", 0},
		{"255.255.255.255", UINT32_MAX},
		{"10.0.0.1", IP(10, 0, 0, 1)},
		{"192.168.15.29", 0xc0a80f1d},
		{"100.64.200.9", IP(100, 64, 200, 9)},
	};
	char buf[SF_IPV4_STRLEN];
	(void)state;

	for (size_t i = 0; i < SF_ARRAY_SIZE(cases); i++) {
		uint32_t a = SENTINEL;

		assert_int_equal(sf_ipv4_parse(cases[i].s, &a), 0);
		assert_int_equal(a, cases[i].addr);
		assert_string_equal(sf_ipv4_format(a, buf), cases[i].s);
	}
}

static void test_parse_invalid(void **state)
{
	static const struct {
		const char *s;
		int r;
	} cases[] = {
		{"", -EINVAL},
		{"1.2.3", -EINVAL},
		{"1.2.3.4.5", -EINVAL},
		{"256.0.0.1", -EINVAL},
		{"1.2.3.256", -EINVAL},
		{"1000.2.3.4", -EINVAL},
		{"01.2.3.4", -EINVAL}, /* leading zero: octal in inet_aton, rejected by Python */
		{"1.2.3.04", -EINVAL},
		{"1.2.3.00", -EINVAL},
		{"1.2.3.4 ", -EINVAL},
		{" 1.2.3.4", -EINVAL},
		{"1.2.3.4x", -EINVAL},
		{"1..2.3", -EINVAL},
		{"1.2.3.", -EINVAL},
		{"-1.2.3.4", -EINVAL},
		{"+1.2.3.4", -EINVAL},
		{"0x1.2.3.4", -EINVAL},
		{"1.2.3.4/24", -EINVAL},
		{"localhost", -EINVAL},
		{"::1", -EAFNOSUPPORT},
		{"fe80::1", -EAFNOSUPPORT},
		{"::ffff:1.2.3.4", -EAFNOSUPPORT},
	};
	(void)state;

	for (size_t i = 0; i < SF_ARRAY_SIZE(cases); i++) {
		uint32_t a = SENTINEL;

		if (sf_ipv4_parse(cases[i].s, &a) != cases[i].r)
			fail_msg("'%s': expected %d", cases[i].s, cases[i].r);
		assert_int_equal(a, SENTINEL); /* untouched on failure */
	}
	assert_int_equal(sf_ipv4_parse(NULL, &(uint32_t){0}), -EINVAL);
}

static void test_net_parse_valid(void **state)
{
	static const struct {
		const char *s;
		unsigned flags;
		uint32_t addr;
		unsigned prefix;
		const char *formatted;
	} cases[] = {
		{"10.0.0.0/24", 0, IP(10, 0, 0, 0), 24, "10.0.0.0/24"},
		{"0.0.0.0/0", 0, 0, 0, "0.0.0.0/0"},
		{"10.0.0.5/32", 0, IP(10, 0, 0, 5), 32, "10.0.0.5/32"},
		{"255.255.255.255/32", 0, UINT32_MAX, 32, "255.255.255.255/32"},
		{"192.168.1.0/31", 0, IP(192, 168, 1, 0), 31, "192.168.1.0/31"},
		{"10.0.0.0/8", 0, IP(10, 0, 0, 0), 8, "10.0.0.0/8"},
		{"10.0.0.0/255.255.255.0", 0, IP(10, 0, 0, 0), 24, "10.0.0.0/24"},
		{"0.0.0.0/0.0.0.0", 0, 0, 0, "0.0.0.0/0"},
		{"10.0.0.5", SF_IPV4_NET_BARE, IP(10, 0, 0, 5), 32, "10.0.0.5/32"},
		{"10.0.0.5/24", SF_IPV4_NET_HOST_BITS, IP(10, 0, 0, 5), 24, "10.0.0.5/24"},
	};
	char buf[SF_IPV4_NET_STRLEN];
	(void)state;

	for (size_t i = 0; i < SF_ARRAY_SIZE(cases); i++) {
		struct sf_ipv4_net n = {SENTINEL, 99};

		if (sf_ipv4_net_parse(cases[i].s, cases[i].flags, &n) != 0)
			fail_msg("'%s' did not parse", cases[i].s);
		assert_int_equal(n.addr, cases[i].addr);
		assert_int_equal(n.prefix, cases[i].prefix);
		assert_string_equal(sf_ipv4_net_format(&n, buf), cases[i].formatted);
	}
}

static void test_net_parse_invalid(void **state)
{
	static const struct {
		const char *s;
		unsigned flags;
		int r;
	} cases[] = {
		{"10.0.0.0", 0, -EINVAL}, /* a prefix is required unless SF_IPV4_NET_BARE */
		{"10.0.0.0/", 0, -EINVAL},
		{"10.0.0.0/33", 0, -EINVAL},
		{"10.0.0.0/024", 0, -EINVAL},
		{"10.0.0.0/100", 0, -EINVAL},
		{"10.0.0.0/24x", 0, -EINVAL},
		{"10.0.0.0/ 24", 0, -EINVAL},
		{"10.0.0.0/-1", 0, -EINVAL},
		{"10.0.0.0/24/24", 0, -EINVAL},
		{"10.0.0.0/255.0.255.0", 0, -EINVAL}, /* non-contiguous netmask */
		{"10.0.0.0/0.0.0.255", 0, -EINVAL},   /* hostmasks are not accepted */
		{"10.0.0.256/24", 0, -EINVAL},
		{"010.0.0.0/24", 0, -EINVAL},
		{"10.0.0.0/24 ", SF_IPV4_NET_BARE, -EINVAL},
		{"", SF_IPV4_NET_BARE, -EINVAL},
		{"10.0.0.5/24", 0, -EDOM}, /* host bits set, as upstream's strict ip_network() */
		{"192.168.1.2/24", SF_IPV4_NET_BARE, -EDOM},
		{"1.2.3.4/0", 0, -EDOM},
		{"10.0.0.1/31", 0, -EDOM},
		{"2001:db8::/64", 0, -EAFNOSUPPORT},
		{"::/0", SF_IPV4_NET_HOST_BITS, -EAFNOSUPPORT},
	};
	(void)state;

	for (size_t i = 0; i < SF_ARRAY_SIZE(cases); i++) {
		struct sf_ipv4_net n = {SENTINEL, 99};
		int r = sf_ipv4_net_parse(cases[i].s, cases[i].flags, &n);

		if (r != cases[i].r)
			fail_msg("'%s': got %d, expected %d", cases[i].s, r, cases[i].r);
		assert_int_equal(n.addr, SENTINEL);
		assert_int_equal(n.prefix, 99);
	}
}

static void test_canonical(void **state)
{
	struct sf_ipv4_net n, c;
	char buf[SF_IPV4_NET_STRLEN];
	(void)state;

	/* What the API can suggest after -EDOM: the block the client probably meant. */
	assert_int_equal(sf_ipv4_net_parse("192.168.1.2/24", SF_IPV4_NET_HOST_BITS, &n), 0);
	c = sf_ipv4_net_canonical(&n);
	assert_string_equal(sf_ipv4_net_format(&c, buf), "192.168.1.0/24");
	assert_true(sf_ipv4_net_contains(&c, n.addr));
}

static void test_netmask_prefix(void **state)
{
	static const struct {
		unsigned prefix;
		uint32_t mask;
	} cases[] = {
		{0, 0},		  {1, 0x80000000},  {8, 0xff000000},  {24, 0xffffff00},
		{29, 0xfffffff8}, {31, 0xfffffffe}, {32, 0xffffffff},
	};
	unsigned prefix = 99;
	(void)state;

	for (size_t i = 0; i < SF_ARRAY_SIZE(cases); i++)
		assert_int_equal(sf_ipv4_prefix_to_netmask(cases[i].prefix), cases[i].mask);
	for (unsigned p = 0; p <= 32; p++) {
		unsigned back = 99;

		assert_int_equal(sf_ipv4_netmask_to_prefix(sf_ipv4_prefix_to_netmask(p), &back), 0);
		assert_int_equal(back, p);
	}
	assert_int_equal(sf_ipv4_netmask_to_prefix(0xff00ff00, &prefix), -EINVAL);
	assert_int_equal(sf_ipv4_netmask_to_prefix(0x00ffffff, &prefix), -EINVAL);
	assert_int_equal(sf_ipv4_netmask_to_prefix(0xfffffffd, &prefix), -EINVAL);
	assert_int_equal(prefix, 99);
}

static void test_block_arithmetic(void **state)
{
	static const struct {
		const char *net;
		uint32_t network, broadcast, netmask;
		uint64_t size;
	} cases[] = {
		{"192.168.20.0/24", IP(192, 168, 20, 0), IP(192, 168, 20, 255), 0xffffff00, 256},
		{"10.0.0.0/29", IP(10, 0, 0, 0), IP(10, 0, 0, 7), 0xfffffff8, 8},
		{"0.0.0.0/0", 0, UINT32_MAX, 0, UINT64_C(1) << 32},
		{"10.0.0.6/31", IP(10, 0, 0, 6), IP(10, 0, 0, 7), 0xfffffffe, 2},
		{"10.0.0.9/32", IP(10, 0, 0, 9), IP(10, 0, 0, 9), UINT32_MAX, 1},
		{"255.255.255.255/32", UINT32_MAX, UINT32_MAX, UINT32_MAX, 1},
	};
	(void)state;

	for (size_t i = 0; i < SF_ARRAY_SIZE(cases); i++) {
		struct sf_ipv4_net n = net_of(cases[i].net);

		assert_int_equal(sf_ipv4_net_network(&n), cases[i].network);
		assert_int_equal(sf_ipv4_net_broadcast(&n), cases[i].broadcast);
		assert_int_equal(sf_ipv4_net_netmask(&n), cases[i].netmask);
		assert_int_equal(sf_ipv4_net_size(&n), cases[i].size);
	}
}

static void test_nth_and_index(void **state)
{
	struct sf_ipv4_net n = net_of("10.0.0.0/24"), all = net_of("0.0.0.0/0"),
			   one = net_of("10.0.0.9/32");
	uint32_t a = SENTINEL;
	uint64_t idx = 12345;
	(void)state;

	assert_int_equal(sf_ipv4_net_nth(&n, 0, &a), 0);
	assert_int_equal(a, IP(10, 0, 0, 0));
	assert_int_equal(sf_ipv4_net_nth(&n, 1, &a), 0);
	assert_int_equal(a, IP(10, 0, 0, 1));
	assert_int_equal(sf_ipv4_net_nth(&n, 255, &a), 0);
	assert_int_equal(a, IP(10, 0, 0, 255));
	a = SENTINEL;
	assert_int_equal(sf_ipv4_net_nth(&n, 256, &a), -ERANGE);
	assert_int_equal(a, SENTINEL);

	assert_int_equal(sf_ipv4_net_nth(&all, UINT32_MAX, &a), 0);
	assert_int_equal(a, UINT32_MAX);
	assert_int_equal(sf_ipv4_net_nth(&all, UINT64_C(1) << 32, &a), -ERANGE);
	assert_int_equal(sf_ipv4_net_nth(&one, 0, &a), 0);
	assert_int_equal(a, IP(10, 0, 0, 9));
	assert_int_equal(sf_ipv4_net_nth(&one, 1, &a), -ERANGE);

	assert_int_equal(sf_ipv4_net_index(&n, IP(10, 0, 0, 37), &idx), 0);
	assert_int_equal(idx, 37);
	assert_int_equal(sf_ipv4_net_index(&all, UINT32_MAX, &idx), 0);
	assert_int_equal(idx, UINT32_MAX);
	idx = 12345;
	assert_int_equal(sf_ipv4_net_index(&n, IP(10, 0, 1, 0), &idx), -ERANGE);
	assert_int_equal(sf_ipv4_net_index(&n, IP(9, 255, 255, 255), &idx), -ERANGE);
	assert_int_equal(idx, 12345);
	for (uint64_t i = 0; i < 256; i++) {
		assert_int_equal(sf_ipv4_net_nth(&n, i, &a), 0);
		assert_int_equal(sf_ipv4_net_index(&n, a, &idx), 0);
		assert_int_equal(idx, i);
	}
}

static void test_contains(void **state)
{
	struct sf_ipv4_net n = net_of("10.0.0.0/24"), all = net_of("0.0.0.0/0"),
			   one = net_of("255.255.255.255/32");
	(void)state;

	assert_true(sf_ipv4_net_contains(&n, IP(10, 0, 0, 0)));
	assert_true(sf_ipv4_net_contains(&n, IP(10, 0, 0, 255)));
	assert_false(sf_ipv4_net_contains(&n, IP(10, 0, 1, 0)));
	assert_false(sf_ipv4_net_contains(&n, IP(9, 255, 255, 255)));
	assert_true(sf_ipv4_net_contains(&all, 0));
	assert_true(sf_ipv4_net_contains(&all, UINT32_MAX));
	assert_true(sf_ipv4_net_contains(&one, UINT32_MAX));
	assert_false(sf_ipv4_net_contains(&one, UINT32_MAX - 1));
}

static void test_overlaps(void **state)
{
	static const struct {
		const char *a, *b;
		bool overlap;
	} cases[] = {
		{"10.0.0.0/24", "10.0.0.0/24", true},
		{"10.0.0.0/8", "10.20.30.0/24", true},
		{"10.0.0.0/25", "10.0.0.128/25", false}, /* adjacent */
		{"10.0.0.0/24", "10.0.1.0/24", false},
		{"0.0.0.0/0", "203.0.113.0/24", true},
		{"10.0.0.0/24", "10.0.0.77/32", true},
		{"10.0.0.0/24", "10.0.1.0/32", false},
		{"255.255.255.255/32", "255.255.255.254/31", true},
	};
	(void)state;

	for (size_t i = 0; i < SF_ARRAY_SIZE(cases); i++) {
		struct sf_ipv4_net a = net_of(cases[i].a), b = net_of(cases[i].b);

		if (sf_ipv4_net_overlaps(&a, &b) != cases[i].overlap ||
		    sf_ipv4_net_overlaps(&b, &a) != cases[i].overlap)
			fail_msg("%s vs %s: expected %d", cases[i].a, cases[i].b, cases[i].overlap);
	}
}

static void test_usable_and_router(void **state)
{
	static const struct {
		const char *net;
		int r;
		uint32_t first, last;
	} cases[] = {
		{"10.0.0.0/24", 0, IP(10, 0, 0, 1), IP(10, 0, 0, 254)},
		{"10.0.0.0/29", 0, IP(10, 0, 0, 1), IP(10, 0, 0, 6)},
		{"10.0.0.4/30", 0, IP(10, 0, 0, 5), IP(10, 0, 0, 6)},
		{"0.0.0.0/0", 0, 1, UINT32_MAX - 1},
		{"10.0.0.6/31", -ERANGE, 0, 0},
		{"10.0.0.9/32", -ERANGE, 0, 0},
	};
	(void)state;

	for (size_t i = 0; i < SF_ARRAY_SIZE(cases); i++) {
		struct sf_ipv4_net n = net_of(cases[i].net);
		uint32_t first = SENTINEL, last = SENTINEL, router = SENTINEL;

		assert_int_equal(sf_ipv4_net_usable(&n, &first, &last), cases[i].r);
		assert_int_equal(sf_ipv4_net_router(&n, &router), cases[i].r);
		if (cases[i].r == 0) {
			assert_int_equal(first, cases[i].first);
			assert_int_equal(last, cases[i].last);
			assert_int_equal(router, cases[i].first); /* index 1 */
		} else {
			assert_int_equal(first, SENTINEL);
			assert_int_equal(last, SENTINEL);
			assert_int_equal(router, SENTINEL);
		}
	}
}

static void test_mac_parse_format(void **state)
{
	static const char *const bad[] = {
		"",
		"02:00:00:00:00",
		"02:00:00:00:00:00:00",
		"02-00-00-00-00-00",
		"02:00:00:00:00:0g",
		"2:00:00:00:00:00:0",
		"02:00:00:00:00:000",
		"02:00:00:00:00:00 ",
		"0200.0000.0000",
	};
	struct sf_mac m = {{0}};
	char buf[SF_MAC_STRLEN];
	(void)state;

	assert_int_equal(sf_mac_parse("04:ED:33:c0:2e:6C", &m), 0);
	assert_memory_equal(m.b, ((uint8_t[]){0x04, 0xed, 0x33, 0xc0, 0x2e, 0x6c}), 6);
	assert_string_equal(sf_mac_format(&m, buf), "04:ed:33:c0:2e:6c");
	for (size_t i = 0; i < SF_ARRAY_SIZE(bad); i++) {
		struct sf_mac untouched = {{0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa}}, x = untouched;

		if (sf_mac_parse(bad[i], &x) != -EINVAL)
			fail_msg("'%s' parsed", bad[i]);
		assert_memory_equal(&x, &untouched, sizeof(x));
	}
	assert_int_equal(sf_mac_parse(NULL, &m), -EINVAL);
}

static void test_mac_random(void **state)
{
	char first[SF_MAC_STRLEN], buf[SF_MAC_STRLEN];
	bool differ = false;
	(void)state;

	for (int i = 0; i < 16; i++) {
		struct sf_mac m, back;

		assert_int_equal(sf_mac_random(&m), 0);
		sf_mac_format(&m, buf);
		assert_true(sf_str_startswith(buf, "02:00:00:"));
		assert_false(sf_mac_is_multicast(&m));
		assert_int_equal(sf_mac_parse(buf, &back), 0);
		assert_memory_equal(&back, &m, sizeof(m));
		if (i == 0)
			memcpy(first, buf, sizeof(first));
		else if (strcmp(first, buf) != 0)
			differ = true;
	}
	assert_true(differ); /* 16 equal draws of 24 random bits would mean no randomness */
}

static void test_mac_multicast(void **state)
{
	struct sf_mac m;
	(void)state;

	assert_int_equal(sf_mac_parse("01:00:5e:00:00:01", &m), 0);
	assert_true(sf_mac_is_multicast(&m));
	assert_int_equal(sf_mac_parse("ff:ff:ff:ff:ff:ff", &m), 0);
	assert_true(sf_mac_is_multicast(&m));
	assert_int_equal(sf_mac_parse("02:00:00:ea:3a:28", &m), 0);
	assert_false(sf_mac_is_multicast(&m));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),	  cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_net_parse_valid),	  cmocka_unit_test(test_net_parse_invalid),
		cmocka_unit_test(test_canonical),	  cmocka_unit_test(test_netmask_prefix),
		cmocka_unit_test(test_block_arithmetic),  cmocka_unit_test(test_nth_and_index),
		cmocka_unit_test(test_contains),	  cmocka_unit_test(test_overlaps),
		cmocka_unit_test(test_usable_and_router), cmocka_unit_test(test_mac_parse_format),
		cmocka_unit_test(test_mac_random),	  cmocka_unit_test(test_mac_multicast),
	};

	return cmocka_run_group_tests_name("ipv4", tests, NULL, NULL);
}
