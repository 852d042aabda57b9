// SPDX-License-Identifier: Apache-2.0
/* dnsmasq config and host files against the expected text (spec 6.10). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sf/dnsmasq.h"
#include "sf/util.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define UUID "3b2a7f9e-1c4d-4e5f-8a6b-7c8d9e0f1a2b"
#define DIR "/srv/shakenfist/dhcp/" UUID

#define HEADER(dhcp, dns, nat)                                              \
	"# dnsmasq for network " UUID ", written by sf-net\n"               \
	"# provide_dhcp=" dhcp " provide_dns=" dns " provide_nat=" nat "\n" \
	"\n"                                                                \
	"domain-needed\nbogus-priv\nno-hosts\nno-resolv\nfilterwin2k\n\n"

static struct sf_dnsmasq_net base(void)
{
	struct sf_dnsmasq_net net = {
		.uuid = UUID,
		.dir = DIR,
		.ifname = "veth-e2300f-i",
		.netblock = {IP(10, 0, 0, 0), 8},
		.namespace_name = "unittest",
		.zone = "shakenfist",
		.dns_server = "8.8.8.8",
		.mtu = 7950,
		.provide_dhcp = true,
		.provide_dns = true,
		.provide_nat = true,
	};
	return net;
}

static void check_config(const struct sf_dnsmasq_net *net, const char *want)
{
	char *text = NULL;

	assert_int_equal(sf_dnsmasq_render_config(net, &text), 0);
	if (strcmp(text, want) != 0)
		fail_msg("--- got\n%s--- want\n%s", text, want);
	free(text);
}

/* The spec's example: 10.0.0.0/8, namespace unittest, ZONE shakenfist, everything on. */
static void test_config_all_features(void **state)
{
	struct sf_dnsmasq_net net = base();

	(void)state;
	check_config(&net, HEADER("true", "true",
				  "true") "port=53\n"
					  "server=8.8.8.8\n"
					  "addn-hosts=" DIR "/dnshosts\n"
					  "expand-hosts\n\n"
					  "pid-file=" DIR "/pid\n\n"
					  "interface=veth-e2300f-i\n"
					  "listen-address=10.0.0.1\n\n"
					  "domain=unittest.shakenfist\n"
					  "local=/unittest.shakenfist/\n\n"
					  "dhcp-leasefile=" DIR "/leases\n"
					  "dhcp-range=10.0.0.2,static,255.0.0.0,10.255.255.255,1h\n"
					  "dhcp-option=6,10.0.0.1\n"
					  "dhcp-option=1,255.0.0.0\n"
					  "dhcp-option=15,unittest.shakenfist\n"
					  "dhcp-option=26,7950\n"
					  "dhcp-hostsfile=" DIR "/hosts\n");
}

/* DHCP on a NAT network without DNS: DNS off, instances get the upstream resolver. */
static void test_config_dhcp_nat(void **state)
{
	struct sf_dnsmasq_net net = base();

	(void)state;
	net.provide_dns = false;
	net.netblock = (struct sf_ipv4_net){IP(192, 168, 10, 0), 24};
	net.dns_server = "1.1.1.1";
	net.mtu = 1450;
	check_config(&net,
		     HEADER("true", "false", "true") "# DNS off\nport=0\n\n"
						     "pid-file=" DIR "/pid\n\n"
						     "interface=veth-e2300f-i\n"
						     "listen-address=192.168.10.1\n\n"
						     "domain=unittest.shakenfist\n"
						     "local=/unittest.shakenfist/\n\n"
						     "dhcp-leasefile=" DIR "/leases\n"
						     "dhcp-range=192.168.10.2,static,255.255.255.0,"
						     "192.168.10.255,1h\n"
						     "dhcp-option=6,1.1.1.1\n"
						     "dhcp-option=1,255.255.255.0\n"
						     "dhcp-option=15,unittest.shakenfist\n"
						     "dhcp-option=26,1450\n"
						     "dhcp-hostsfile=" DIR "/hosts\n");
}

/* DHCP only (no NAT, no DNS): no resolver to hand out, so no option 6; dns_server unused. */
static void test_config_dhcp_only(void **state)
{
	struct sf_dnsmasq_net net = base();

	(void)state;
	net.provide_dns = false;
	net.provide_nat = false;
	net.dns_server = NULL;
	net.netblock = (struct sf_ipv4_net){IP(172, 16, 0, 4), 30};
	check_config(&net, HEADER("true", "false",
				  "false") "# DNS off\nport=0\n\n"
					   "pid-file=" DIR "/pid\n\n"
					   "interface=veth-e2300f-i\n"
					   "listen-address=172.16.0.5\n\n"
					   "domain=unittest.shakenfist\n"
					   "local=/unittest.shakenfist/\n\n"
					   "dhcp-leasefile=" DIR "/leases\n"
					   "dhcp-range=172.16.0.6,static,255.255.255.252,"
					   "172.16.0.7,1h\n"
					   "dhcp-option=1,255.255.255.252\n"
					   "dhcp-option=15,unittest.shakenfist\n"
					   "dhcp-option=26,7950\n"
					   "dhcp-hostsfile=" DIR "/hosts\n");
}

/* DNS only: no DHCP section at all. */
static void test_config_dns_only(void **state)
{
	struct sf_dnsmasq_net net = base();

	(void)state;
	net.provide_dhcp = false;
	net.provide_nat = false;
	check_config(&net, HEADER("false", "true", "false") "port=53\n"
							    "server=8.8.8.8\n"
							    "addn-hosts=" DIR "/dnshosts\n"
							    "expand-hosts\n\n"
							    "pid-file=" DIR "/pid\n\n"
							    "interface=veth-e2300f-i\n"
							    "listen-address=10.0.0.1\n\n"
							    "domain=unittest.shakenfist\n"
							    "local=/unittest.shakenfist/\n");
}

static void test_config_refuses(void **state)
{
	struct {
		const char *why;
		struct sf_dnsmasq_net net;
	} bad[12];
	size_t n = 0;

	(void)state;
#define BAD(w, field, value)              \
	do {                              \
		bad[n].why = (w);         \
		bad[n].net = base();      \
		bad[n].net.field = value; \
		n++;                      \
	} while (0)
	BAD("NAT only networks have no dnsmasq", provide_dhcp, false);
	bad[n - 1].net.provide_dns = false;
	BAD("a /31 has no first lease", netblock, ((struct sf_ipv4_net){IP(10, 0, 0, 0), 31}));
	BAD("a /32 has no router", netblock, ((struct sf_ipv4_net){IP(10, 0, 0, 0), 32}));
	BAD("no upstream resolver", dns_server, NULL);
	BAD("resolver is not IPv4", dns_server, "dns.google");
	BAD("relative directory", dir, "srv/dhcp");
	BAD("newline in directory", dir, "/srv/x\nport=99");
	BAD("space in device name", ifname, "veth 1");
	BAD("device name too long", ifname, "veth-e2300f-i-long");
	BAD("domain with a slash", namespace_name, "a/b");
	BAD("empty zone", zone, "");
	BAD("MTU below IPv4's minimum", mtu, 67);
#undef BAD
	assert_int_equal(n, SF_ARRAY_SIZE(bad));
	for (size_t i = 0; i < n; i++) {
		char *text = (char *)"untouched";

		if (sf_dnsmasq_render_config(&bad[i].net, &text) != -EINVAL)
			fail_msg("accepted: %s", bad[i].why);
		assert_string_equal(text, "untouched");
	}
}

static const struct sf_dnsmasq_host hosts[] = {
	{"02:00:00:AB:CD:01", "web-1", IP(10, 0, 0, 5)},
	{"02:00:00:ab:cd:02", "db,primary", IP(10, 0, 0, 6)},
	{"02:00:00:ab:cd:03", "pending", 0}, /* no address yet: not listed */
};

static void test_hosts(void **state)
{
	char *text;

	(void)state;
	assert_int_equal(sf_dnsmasq_render_hosts(hosts, SF_ARRAY_SIZE(hosts), &text), 0);
	assert_string_equal(text, "\n"
				  "02:00:00:ab:cd:01,web-1,10.0.0.5\n"
				  "02:00:00:ab:cd:02,dbprimary,10.0.0.6\n");
	free(text);

	assert_int_equal(sf_dnsmasq_render_hosts(NULL, 0, &text), 0);
	assert_string_equal(text, "\n");
	free(text);
}

static void test_hosts_refuses(void **state)
{
	const struct sf_dnsmasq_host bad[][1] = {
		{{"02:00:00:ab:cd", "x", IP(10, 0, 0, 5)}},
		{{NULL, "x", IP(10, 0, 0, 5)}},
		{{"02:00:00:ab:cd:01", "two\nlines", IP(10, 0, 0, 5)}},
		{{"02:00:00:ab:cd:01", NULL, IP(10, 0, 0, 5)}},
	};

	(void)state;
	for (size_t i = 0; i < SF_ARRAY_SIZE(bad); i++) {
		char *text = (char *)"untouched";

		assert_int_equal(sf_dnsmasq_render_hosts(bad[i], 1, &text), -EINVAL);
		assert_string_equal(text, "untouched");
	}
}

static void test_dnshosts(void **state)
{
	const struct sf_dnsmasq_host dns_hosts[] = {
		{"02:00:00:ab:cd:01", "web-1", IP(10, 0, 0, 5)},
		{"02:00:00:ab:cd:03", "has space", 0}, /* not listed, so not checked */
	};
	const struct sf_dnsmasq_dns_entry entries[] = {
		{"printer", "10.0.0.200"},
		{"api.example", "192.0.2.7"},
	};
	char *text;

	(void)state;
	assert_int_equal(sf_dnsmasq_render_dnshosts(dns_hosts, 2, entries, 2, &text), 0);
	assert_string_equal(text, "\n"
				  "10.0.0.5 web-1\n"
				  "10.0.0.200 printer\n"
				  "192.0.2.7 api.example\n");
	free(text);
}

static void test_dnshosts_refuses(void **state)
{
	const struct sf_dnsmasq_host spaced[] = {{"02:00:00:ab:cd:01", "a b", IP(10, 0, 0, 5)}};
	const struct sf_dnsmasq_dns_entry bad[] = {
		{"printer", "not-an-ip"}, {"printer", NULL},	{"", "10.0.0.9"},
		{"a#b", "10.0.0.9"},	  {"x\ty", "10.0.0.9"},
	};
	char *text = (char *)"untouched";

	(void)state;
	assert_int_equal(sf_dnsmasq_render_dnshosts(spaced, 1, NULL, 0, &text), -EINVAL);
	for (size_t i = 0; i < SF_ARRAY_SIZE(bad); i++)
		assert_int_equal(sf_dnsmasq_render_dnshosts(NULL, 0, &bad[i], 1, &text), -EINVAL);
	assert_string_equal(text, "untouched");
}

static void test_argv(void **state)
{
	char **argv;

	(void)state;
	assert_int_equal(sf_dnsmasq_argv("/usr/sbin/dnsmasq", DIR, &argv), 0);
	assert_string_equal(argv[0], "/usr/sbin/dnsmasq");
	assert_string_equal(argv[1], "--keep-in-foreground");
	assert_string_equal(argv[2], "--log-facility=-");
	assert_string_equal(argv[3], "--conf-file=" DIR "/config");
	assert_null(argv[4]);
	sf_dnsmasq_argv_free(argv);

	assert_int_equal(sf_dnsmasq_argv("dnsmasq", DIR, &argv), -EINVAL);
	assert_int_equal(sf_dnsmasq_argv("/usr/sbin/dnsmasq", "relative", &argv), -EINVAL);
	sf_dnsmasq_argv_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_all_features), cmocka_unit_test(test_config_dhcp_nat),
		cmocka_unit_test(test_config_dhcp_only),    cmocka_unit_test(test_config_dns_only),
		cmocka_unit_test(test_config_refuses),	    cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_hosts_refuses),	    cmocka_unit_test(test_dnshosts),
		cmocka_unit_test(test_dnshosts_refuses),    cmocka_unit_test(test_argv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
