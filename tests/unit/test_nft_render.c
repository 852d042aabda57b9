// SPDX-License-Identifier: Apache-2.0
/* sf_nft_render: the transaction text for a network's table, and the inputs it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sf/nft.h"
#include "sf/util.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

#define HEAD                      \
	"add table ip sfnet\n"    \
	"delete table ip sfnet\n" \
	"table ip sfnet {\n"
#define PRE "\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
#define POST \
	"\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
#define FORWARD(in, egr)                                                 \
	"\tchain forward {\n"                                            \
	"\t\ttype filter hook forward priority filter; policy accept;\n" \
	"\t\tiifname \"" in "\" oifname \"" egr "\" accept\n"            \
	"\t\tiifname \"" egr "\" oifname \"" in "\" accept\n"            \
	"\t}\n"                                                          \
	"}\n"

static const struct sf_nft_floating two[] = {
	{IP(198, 51, 100, 10), IP(10, 0, 0, 5)},
	{IP(198, 51, 100, 11), IP(10, 0, 0, 6)},
};
static const struct sf_nft_floating one_172[] = {{IP(198, 51, 100, 10), IP(172, 16, 0, 5)}};

static const struct {
	const char *name;
	struct sf_nft_spec spec;
	const char *text;
} cases[] = {
	{
		"masquerade only",
		{{IP(10, 0, 0, 0), 24}, "veth-00002a-i", "egr-00002a-i", true, NULL, 0},
		HEAD PRE "\t}\n" POST
			 "\t\toifname \"egr-00002a-i\" ip saddr 10.0.0.0/24 masquerade\n"
			 "\t}\n" FORWARD("veth-00002a-i", "egr-00002a-i"),
	},
	{
		"two floating IPs: DNAT in, SNAT out before the masquerade",
		{{IP(10, 0, 0, 0), 24}, "veth-00002a-i", "egr-00002a-i", true, two, 2},
		HEAD PRE "\t\tip daddr 198.51.100.10 dnat to 10.0.0.5\n"
			 "\t\tip daddr 198.51.100.11 dnat to 10.0.0.6\n"
			 "\t}\n" POST
			 "\t\toifname \"egr-00002a-i\" ip saddr 10.0.0.5 snat to 198.51.100.10\n"
			 "\t\toifname \"egr-00002a-i\" ip saddr 10.0.0.6 snat to 198.51.100.11\n"
			 "\t\toifname \"egr-00002a-i\" ip saddr 10.0.0.0/24 masquerade\n"
			 "\t}\n" FORWARD("veth-00002a-i", "egr-00002a-i"),
	},
	{
		"no NAT, one floating IP: no masquerade but the 1:1 rules",
		{{IP(172, 16, 0, 0), 12}, "veth-e2300f-i", "egr-e2300f-i", false, one_172, 1},
		HEAD PRE "\t\tip daddr 198.51.100.10 dnat to 172.16.0.5\n"
			 "\t}\n" POST
			 "\t\toifname \"egr-e2300f-i\" ip saddr 172.16.0.5 snat to 198.51.100.10\n"
			 "\t}\n" FORWARD("veth-e2300f-i", "egr-e2300f-i"),
	},
	{
		"nothing to NAT: empty chains, the table still exists",
		{{IP(192, 168, 0, 0), 16}, "veth-000001-i", "egr-000001-i", false, NULL, 0},
		HEAD PRE "\t}\n" POST "\t}\n" FORWARD("veth-000001-i", "egr-000001-i"),
	},
	{
		"host bits in the netblock are cleared",
		{{IP(10, 1, 2, 3), 8}, "veth-00002a-i", "egr-00002a-i", true, NULL, 0},
		HEAD PRE "\t}\n" POST
			 "\t\toifname \"egr-00002a-i\" ip saddr 10.0.0.0/8 masquerade\n"
			 "\t}\n" FORWARD("veth-00002a-i", "egr-00002a-i"),
	},
};

/* The text without its mark line (the table's comment), which must come right after HEAD. */
static char *unmarked(const char *text, char mark[SF_NFT_MARK_SIZE])
{
	const char *line = text + strlen(HEAD), *end;

	assert_memory_equal(text, HEAD, strlen(HEAD));
	assert_memory_equal(line, "\tcomment \"sf:", strlen("\tcomment \"sf:"));
	end = strchr(line, '\n');
	assert_non_null(end);
	sf_nft_text_mark(text, mark);
	assert_int_equal(strlen(mark), strlen("sf:") + 16);
	assert_int_equal(strspn(mark + 3, "0123456789abcdef"), 16);
	return sf_xasprintf("%.*s%s", (int)strlen(HEAD), text, end + 1);
}

static void test_render_table(void **state)
{
	char marks[SF_ARRAY_SIZE(cases)][SF_NFT_MARK_SIZE], again[SF_NFT_MARK_SIZE];

	(void)state;
	for (size_t i = 0; i < SF_ARRAY_SIZE(cases); i++) {
		char *text = NULL, *rules;

		assert_int_equal(sf_nft_render(&cases[i].spec, &text), 0);
		rules = unmarked(text, marks[i]);
		if (strcmp(rules, cases[i].text) != 0)
			fail_msg("case '%s':\n--- got\n%s--- want\n%s", cases[i].name, rules,
				 cases[i].text);
		free(rules);
		free(text);
		/* the same rules, the same mark; other rules, another */
		assert_int_equal(sf_nft_render(&cases[i].spec, &text), 0);
		sf_nft_text_mark(text, again);
		assert_string_equal(again, marks[i]);
		free(text);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(marks[j], marks[i]);
	}
	sf_nft_text_mark("table ip sfnet {\n}\n", again);
	assert_string_equal(again, "");
}

static void test_render_refuses(void **state)
{
	static const struct sf_nft_floating outside[] = {{IP(198, 51, 100, 10), IP(10, 1, 0, 5)}};
	static const struct sf_nft_floating floating_inside[] = {
		{IP(10, 0, 0, 9), IP(10, 0, 0, 5)}};
	static const struct sf_nft_floating dup_floating[] = {
		{IP(198, 51, 100, 10), IP(10, 0, 0, 5)},
		{IP(198, 51, 100, 10), IP(10, 0, 0, 6)},
	};
	static const struct sf_nft_floating dup_inner[] = {
		{IP(198, 51, 100, 10), IP(10, 0, 0, 5)},
		{IP(198, 51, 100, 11), IP(10, 0, 0, 5)},
	};
	const struct {
		const char *inner, *egr;
		const struct sf_nft_floating *fl;
		size_t n;
	} bad[] = {
		{"", "egr-00002a-i", NULL, 0},
		{NULL, "egr-00002a-i", NULL, 0},
		{"veth-00002a-i", "egr-0123456789ab", NULL, 0}, /* 16 characters */
		{"veth-00002a-i", "egr\"; flush", NULL, 0},
		{"veth 2a", "egr-00002a-i", NULL, 0},
		{"veth-00002a-i", "egr\\x", NULL, 0},
		{"veth-00002a-i", "egr-00002a-i", NULL, 1},
		{"veth-00002a-i", "egr-00002a-i", outside, 1},
		{"veth-00002a-i", "egr-00002a-i", floating_inside, 1},
		{"veth-00002a-i", "egr-00002a-i", dup_floating, 2},
		{"veth-00002a-i", "egr-00002a-i", dup_inner, 2},
	};

	(void)state;
	for (size_t i = 0; i < SF_ARRAY_SIZE(bad); i++) {
		struct sf_nft_spec spec = {
			.netblock = {IP(10, 0, 0, 0), 24},
			.inner_ifname = bad[i].inner,
			.egress_ifname = bad[i].egr,
			.masquerade = true,
			.floating = bad[i].fl,
			.n_floating = bad[i].n,
		};
		char *text = (char *)"untouched";

		if (sf_nft_render(&spec, &text) != -EINVAL)
			fail_msg("bad case %zu was accepted", i);
		assert_string_equal(text, "untouched");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_table),
		cmocka_unit_test(test_render_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
