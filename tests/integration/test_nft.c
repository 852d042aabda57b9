// SPDX-License-Identifier: Apache-2.0
/*
 * sf_nft against the kernel, in throwaway network namespaces: our table is applied, replaced
 * atomically with exactly the new rules, listed and deleted, in the target namespace only. The
 * result is read back with `ip netns exec <ns> nft -j list ruleset` (the nft tool is fine in
 * tests) and summarised rule by rule. The machine's own ruleset is compared before and after.
 *
 * Needs root, ip and nft; otherwise exits 77 (skipped). Namespaces are named sftest-<pid>-<n>
 * and always deleted at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../fakes/testutil.h"
#include "sf/nft.h"
#include "sf/util.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static char ns[64], ns2[64];
static char *root_before; /* `nft list ruleset` in our own namespace at the start */
static ino_t self_ns;

static ino_t thread_ns(void)
{
	struct stat st;

	assert_int_equal(stat("/proc/thread-self/ns/net", &st), 0);
	return st.st_ino;
}

static int group_setup(void **state)
{
	struct stat st;

	(void)state;
	(void)snprintf(ns, sizeof(ns), "sftest-%d-1", (int)getpid());
	(void)snprintf(ns2, sizeof(ns2), "sftest-%d-2", (int)getpid());
	if (sf_test_sh("ip netns add %s && ip netns add %s", ns, ns2) < 0)
		return -1;
	root_before = sf_test_capture(NULL, "nft list ruleset");
	if (!root_before || stat("/proc/thread-self/ns/net", &st) < 0)
		return -1;
	self_ns = st.st_ino;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	(void)sf_test_sh("ip netns del %s", ns);
	(void)sf_test_sh("ip netns del %s", ns2);
	(void)sf_test_sh("ip netns del sftest-%d-3 2>/dev/null", (int)getpid());
	free(root_before);
	return 0;
}

/* Nothing of ours leaked into the machine's namespace, and this thread never moved. */
static void check_root_untouched(void)
{
	char *now = sf_test_capture(NULL, "nft list ruleset");

	assert_non_null(now);
	assert_string_equal(now, root_before);
	free(now);
	assert_true(thread_ns() == self_ns);
}

static char *value_str(json_t *v)
{
	json_t *x;

	if (json_is_string(v))
		return sf_xstrdup(json_string_value(v));
	if ((x = json_object_get(v, "prefix")))
		return sf_xasprintf("%s/%lld", json_string_value(json_object_get(x, "addr")),
				    json_integer_value(json_object_get(x, "len")));
	if ((x = json_object_get(v, "payload")))
		return sf_xasprintf("%s %s", json_string_value(json_object_get(x, "protocol")),
				    json_string_value(json_object_get(x, "field")));
	if ((x = json_object_get(v, "meta")))
		return sf_xstrdup(json_string_value(json_object_get(x, "key")));
	return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
}

/* One rule in nft's own syntax: "postrouting: oifname egr-00002a-i ip saddr 10.0.0.5 snat to
 * 198.51.100.10". */
static char *rule_str(json_t *rule)
{
	char *s = sf_xasprintf("%s:", json_string_value(json_object_get(rule, "chain")));
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(rule, "expr"), i, e) {
		const char *kind;
		json_t *body;
		char *part, *l, *r;

		json_object_foreach(e, kind, body) {
			if (!strcmp(kind, "match")) {
				l = value_str(json_object_get(body, "left"));
				r = value_str(json_object_get(body, "right"));
				part = sf_xasprintf("%s %s", l, r);
				free(l);
				free(r);
			} else if (!strcmp(kind, "dnat") || !strcmp(kind, "snat")) {
				part = sf_xasprintf(
					"%s to %s", kind,
					json_string_value(json_object_get(body, "addr")));
			} else {
				part = sf_xstrdup(kind); /* accept, masquerade */
			}
			l = sf_xasprintf("%s %s", s, part);
			free(s);
			free(part);
			s = l;
		}
	}
	return s;
}

/* Our table in ns, as read by the nft tool: "table", "chain <name> <type> <hook> <prio>
 * <policy>" and rule lines, in the kernel's order. NULL-terminated (allocated); NULL when the
 * table is not there. */
static char **read_table(const char *netns, size_t *ret_n)
{
	char *text = sf_test_capture(NULL, "ip netns exec %s nft -j list ruleset", netns);
	char **lines = NULL;
	size_t n = 0, i;
	json_t *root, *item;
	bool found = false;

	assert_non_null(text);
	root = json_loads(text, 0, NULL);
	free(text);
	assert_non_null(root);
	json_array_foreach(json_object_get(root, "nftables"), i, item) {
		json_t *o;
		char *line = NULL;

		if ((o = json_object_get(item, "table"))) {
			if (strcmp(json_string_value(json_object_get(o, "name")), SF_NFT_TABLE) ||
			    strcmp(json_string_value(json_object_get(o, "family")), "ip"))
				continue;
			found = true;
			line = sf_xstrdup("table");
		} else if ((o = json_object_get(item, "chain"))) {
			if (strcmp(json_string_value(json_object_get(o, "table")), SF_NFT_TABLE))
				continue;
			line = sf_xasprintf("chain %s %s %s %lld %s",
					    json_string_value(json_object_get(o, "name")),
					    json_string_value(json_object_get(o, "type")),
					    json_string_value(json_object_get(o, "hook")),
					    json_integer_value(json_object_get(o, "prio")),
					    json_string_value(json_object_get(o, "policy")));
		} else if ((o = json_object_get(item, "rule"))) {
			if (strcmp(json_string_value(json_object_get(o, "table")), SF_NFT_TABLE))
				continue;
			line = rule_str(o);
		} else {
			continue;
		}
		lines = sf_xrealloc(lines, (n + 2) * sizeof(*lines));
		lines[n++] = line;
		lines[n] = NULL;
	}
	json_decref(root);
	*ret_n = n;
	if (!found) {
		for (i = 0; i < n; i++)
			free(lines[i]);
		free(lines);
		return NULL;
	}
	return lines;
}

static void check_table(const char *netns, const char *const *want)
{
	size_t n, n_want = 0;
	char **got = read_table(netns, &n);

	assert_non_null(got);
	while (want[n_want])
		n_want++;
	for (size_t i = 0; i < n || i < n_want; i++) {
		const char *g = i < n ? got[i] : "(none)", *w = i < n_want ? want[i] : "(none)";

		if (strcmp(g, w) != 0)
			fail_msg("line %zu of our table: got '%s', want '%s'", i, g, w);
	}
	for (size_t i = 0; i < n; i++)
		free(got[i]);
	free(got);
}

static void check_no_table(const char *netns)
{
	size_t n;

	assert_null(read_table(netns, &n));
}

#define CHAINS                                                  \
	"table", "chain prerouting nat prerouting -100 accept", \
		"chain postrouting nat postrouting 100 accept", \
		"chain forward filter forward 0 accept"
#define FORWARD                                                       \
	"forward: iifname veth-00002a-i oifname egr-00002a-i accept", \
		"forward: iifname egr-00002a-i oifname veth-00002a-i accept"

static const struct sf_nft_floating first[] = {
	{IP(198, 51, 100, 10), IP(10, 0, 0, 5)},
	{IP(198, 51, 100, 11), IP(10, 0, 0, 6)},
};
static const struct sf_nft_floating second[] = {
	{IP(198, 51, 100, 11), IP(10, 0, 0, 6)},
	{IP(198, 51, 100, 12), IP(10, 0, 0, 7)},
};

static struct sf_nft_spec spec_with(const struct sf_nft_floating *fl, size_t n)
{
	struct sf_nft_spec spec = {
		.netblock = {IP(10, 0, 0, 0), 24},
		.inner_ifname = "veth-00002a-i",
		.egress_ifname = "egr-00002a-i",
		.masquerade = true,
		.floating = fl,
		.n_floating = n,
	};
	return spec;
}

static void test_apply_replace_delete(void **state)
{
	static const char *const want_first[] = {
		CHAINS,
		"prerouting: ip daddr 198.51.100.10 dnat to 10.0.0.5",
		"prerouting: ip daddr 198.51.100.11 dnat to 10.0.0.6",
		"postrouting: oifname egr-00002a-i ip saddr 10.0.0.5 snat to 198.51.100.10",
		"postrouting: oifname egr-00002a-i ip saddr 10.0.0.6 snat to 198.51.100.11",
		"postrouting: oifname egr-00002a-i ip saddr 10.0.0.0/24 masquerade",
		FORWARD,
		NULL,
	};
	/* .10 gone, .12 new: both of .10's rules disappear (upstream leaks the DNAT). */
	static const char *const want_second[] = {
		CHAINS,
		"prerouting: ip daddr 198.51.100.11 dnat to 10.0.0.6",
		"prerouting: ip daddr 198.51.100.12 dnat to 10.0.0.7",
		"postrouting: oifname egr-00002a-i ip saddr 10.0.0.6 snat to 198.51.100.11",
		"postrouting: oifname egr-00002a-i ip saddr 10.0.0.7 snat to 198.51.100.12",
		"postrouting: oifname egr-00002a-i ip saddr 10.0.0.0/24 masquerade",
		FORWARD,
		NULL,
	};
	static const char *const want_none[] = {CHAINS, FORWARD, NULL};
	struct sf_nft_spec spec = spec_with(first, 2);
	char mark[SF_NFT_MARK_SIZE], want_mark[SF_NFT_MARK_SIZE], *text;
	struct sf_nft *nft;
	bool exists;

	(void)state;
	assert_int_equal(sf_nft_new(ns, &nft), 0);
	assert_true(thread_ns() == self_ns);
	assert_int_equal(sf_nft_table_exists(nft, &exists), 0);
	assert_false(exists);
	assert_int_equal(sf_nft_table_mark(nft, mark), -ENOENT);

	assert_int_equal(sf_nft_apply(nft, &spec), 0);
	check_table(ns, want_first);
	/* the kernel keeps the mark of what was applied */
	assert_int_equal(sf_nft_render(&spec, &text), 0);
	sf_nft_text_mark(text, want_mark);
	free(text);
	assert_int_equal(sf_nft_table_mark(nft, mark), 0);
	assert_string_equal(mark, want_mark);
	check_no_table(ns2);
	check_root_untouched();

	/* Replace with a changed floating list: exactly the new rules, and another mark. */
	spec = spec_with(second, 2);
	assert_int_equal(sf_nft_apply(nft, &spec), 0);
	check_table(ns, want_second);
	assert_int_equal(sf_nft_table_mark(nft, mark), 0);
	assert_string_not_equal(mark, want_mark);
	/* Applying the same again changes nothing. */
	assert_int_equal(sf_nft_apply(nft, &spec), 0);
	check_table(ns, want_second);

	/* No floating IPs, no NAT: the chains stay, empty but for the forward accepts. */
	spec = spec_with(NULL, 0);
	spec.masquerade = false;
	assert_int_equal(sf_nft_apply(nft, &spec), 0);
	check_table(ns, want_none);

	assert_int_equal(sf_nft_delete_table(nft), 0);
	check_no_table(ns);
	assert_int_equal(sf_nft_delete_table(nft), 0); /* missing is success */
	assert_int_equal(sf_nft_table_exists(nft, &exists), 0);
	assert_false(exists);
	check_root_untouched();
	sf_nft_free(nft);
}

static void test_list_json(void **state)
{
	struct sf_nft_spec spec = spec_with(first, 1);
	size_t i, rules = 0;
	struct sf_nft *nft;
	json_t *root, *item;
	char *json;

	(void)state;
	assert_int_equal(sf_nft_new(ns, &nft), 0);
	assert_int_equal(sf_nft_list_json(nft, &json), -ENOENT);
	assert_int_equal(sf_nft_apply(nft, &spec), 0);
	assert_int_equal(sf_nft_list_json(nft, &json), 0);
	root = json_loads(json, 0, NULL);
	free(json);
	assert_non_null(root);
	json_array_foreach(json_object_get(root, "nftables"), i, item) {
		json_t *o = json_object_get(item, "rule");

		if (o) {
			assert_string_equal(json_string_value(json_object_get(o, "table")),
					    SF_NFT_TABLE);
			rules++;
		}
	}
	json_decref(root);
	assert_int_equal(rules, 5); /* dnat, snat, masquerade, two accepts */
	/* JSON was only for the listing: a later apply still parses nft syntax. */
	assert_int_equal(sf_nft_apply(nft, &spec), 0);
	assert_int_equal(sf_nft_delete_table(nft), 0);
	assert_int_equal(sf_nft_list_json(nft, &json), -ENOENT);
	sf_nft_free(nft);
	check_root_untouched();
}

/* Contexts in two namespaces at once, each acting only in its own. */
static void test_two_namespaces(void **state)
{
	static const char *const want_a[] = {
		CHAINS,
		"prerouting: ip daddr 198.51.100.10 dnat to 10.0.0.5",
		"postrouting: oifname egr-00002a-i ip saddr 10.0.0.5 snat to 198.51.100.10",
		"postrouting: oifname egr-00002a-i ip saddr 10.0.0.0/24 masquerade",
		FORWARD,
		NULL,
	};
	static const char *const want_b[] = {
		CHAINS,
		"prerouting: ip daddr 198.51.100.11 dnat to 10.0.0.6",
		"postrouting: oifname egr-00002a-i ip saddr 10.0.0.6 snat to 198.51.100.11",
		"postrouting: oifname egr-00002a-i ip saddr 10.0.0.0/24 masquerade",
		FORWARD,
		NULL,
	};
	struct sf_nft_spec a = spec_with(first, 1), b = spec_with(first + 1, 1);
	struct sf_nft *na, *nb;
	char path[128];

	(void)state;
	assert_int_equal(sf_nft_new(ns, &na), 0);
	(void)snprintf(path, sizeof(path), "/run/netns/%s", ns2); /* by path works too */
	assert_int_equal(sf_nft_new(path, &nb), 0);
	assert_int_equal(sf_nft_apply(na, &a), 0);
	assert_int_equal(sf_nft_apply(nb, &b), 0);
	check_table(ns, want_a);
	check_table(ns2, want_b);
	assert_int_equal(sf_nft_delete_table(na), 0);
	check_no_table(ns);
	check_table(ns2, want_b);
	assert_int_equal(sf_nft_delete_table(nb), 0);
	sf_nft_free(na);
	sf_nft_free(nb);
	check_root_untouched();
}

/* Other tables in the namespace are not ours: never touched. */
static void test_foreign_table_kept(void **state)
{
	struct sf_nft_spec spec = spec_with(first, 2);
	struct sf_nft *nft;
	char *out;

	(void)state;
	assert_int_equal(sf_test_sh("ip netns exec %s nft add table inet other", ns), 0);
	assert_int_equal(sf_test_sh("ip netns exec %s nft add chain inet other c", ns), 0);
	assert_int_equal(sf_nft_new(ns, &nft), 0);
	assert_int_equal(sf_nft_apply(nft, &spec), 0);
	assert_int_equal(sf_nft_delete_table(nft), 0);
	sf_nft_free(nft);
	out = sf_test_capture(NULL, "ip netns exec %s nft list tables", ns);
	assert_non_null(out);
	assert_string_equal(out, "table inet other\n");
	free(out);
	assert_int_equal(sf_test_sh("ip netns exec %s nft delete table inet other", ns), 0);
}

static void test_errors(void **state)
{
	static const struct sf_nft_floating outside[] = {{IP(198, 51, 100, 10), IP(10, 9, 0, 5)}};
	struct sf_nft_spec spec = spec_with(first, 2);
	struct sf_nft *nft = NULL;
	char **lines;
	size_t n;

	(void)state;
	assert_int_equal(sf_nft_new("sftest-no-such-namespace", &nft), -ENOENT);
	assert_int_equal(sf_nft_new("../x", &nft), -EINVAL);
	assert_null(nft);

	assert_int_equal(sf_nft_new(ns, &nft), 0);
	assert_int_equal(sf_nft_apply(nft, &spec), 0);
	/* A refused spec leaves the table as it was. */
	spec = spec_with(outside, 1);
	assert_int_equal(sf_nft_apply(nft, &spec), -EINVAL);
	lines = read_table(ns, &n);
	assert_non_null(lines);
	assert_int_equal(n, 4 + 2 + 3 + 2); /* table, 3 chains, 2 dnat, 3 nat, 2 accepts */
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	assert_int_equal(sf_nft_delete_table(nft), 0);
	assert_string_equal(sf_nft_last_error(nft), "");
	sf_nft_free(nft);
	sf_nft_free(NULL);
}

/* A context keeps the namespace it was made in: once the name is deleted, or names a new
 * namespace, sf_nft_netns_current says so, and the kept context still sees the old one. And
 * sf_nft_wrote tells a context that committed from one that only listed. */
static void test_netns_current(void **state)
{
	struct sf_nft_spec spec = spec_with(first, 1);
	struct sf_nft *nft, *self;
	char ns3[64];
	bool exists;

	(void)state;
	(void)snprintf(ns3, sizeof(ns3), "sftest-%d-3", (int)getpid());
	assert_int_equal(sf_test_sh("ip netns add %s", ns3), 0);
	assert_int_equal(sf_nft_new(ns3, &nft), 0);
	assert_true(sf_nft_netns_current(nft, ns3));
	assert_false(sf_nft_netns_current(nft, ns)); /* another namespace */
	assert_int_equal(sf_nft_table_exists(nft, &exists), 0);
	assert_false(sf_nft_wrote(nft)); /* only listed */
	assert_int_equal(sf_nft_apply(nft, &spec), 0);
	assert_true(sf_nft_wrote(nft));

	assert_int_equal(sf_test_sh("ip netns del %s && ip netns add %s", ns3, ns3), 0);
	assert_false(sf_nft_netns_current(nft, ns3));
	assert_int_equal(sf_nft_table_exists(nft, &exists), 0);
	assert_true(exists); /* the old namespace, alive through the context */
	sf_nft_free(nft);
	assert_int_equal(sf_nft_new(ns3, &nft), 0);
	assert_true(sf_nft_netns_current(nft, ns3));
	assert_int_equal(sf_nft_table_exists(nft, &exists), 0);
	assert_false(exists);

	assert_int_equal(sf_test_sh("ip netns del %s", ns3), 0);
	assert_false(sf_nft_netns_current(nft, ns3));
	sf_nft_free(nft);

	assert_int_equal(sf_nft_new(NULL, &self), 0);
	assert_true(sf_nft_netns_current(self, NULL));
	sf_nft_free(self);
	check_root_untouched();
}

static bool have(const char *a, const char *b)
{
	return access(a, X_OK) == 0 || access(b, X_OK) == 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_replace_delete),
		cmocka_unit_test(test_list_json),
		cmocka_unit_test(test_two_namespaces),
		cmocka_unit_test(test_foreign_table_kept),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_netns_current),
	};

	if (getuid() != 0) {
		fprintf(stderr, "test_nft: needs root, skipped\n");
		return 77;
	}
	if (!have("/usr/sbin/ip", "/sbin/ip") || !have("/usr/sbin/nft", "/sbin/nft")) {
		fprintf(stderr, "test_nft: ip or nft missing, skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
