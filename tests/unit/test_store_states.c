// SPDX-License-Identifier: Apache-2.0
/* The state machines of spec 3.1 and 3.2 and the names the store writes (no server needed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "sf/store.h"

/* Spec 3.1, written out as from -> "to to to" so the test reads like the spec's table. */
static const struct {
	const char *from, *to;
} net_allowed[] = {
	{"initial", "created deleted error"},
	{"created", "deleted delete-wait error"},
	{"delete-wait", "deleted error"},
	{"error", "deleted error"},
	{"deleted", ""},
	{"creating", ""}, /* defined generically; networks never use it */
};

static const struct {
	const char *from, *to;
} iface_allowed[] = {
	{"initial", "created deleted error"},
	{"created", "deleted error"},
	{"error", "deleted error"},
	{"deleted", ""},
};

/* Is word in the space-separated list? */
static bool listed(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = strstr(list, word); p; p = strstr(p + 1, word))
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

static void test_net_state_names(void **state)
{
	static const char *const names[] = {"initial",	   "creating", "created",
					    "delete-wait", "deleted",  "error"};
	enum sf_net_state s;

	(void)state;
	assert_int_equal(SF_ARRAY_SIZE(names), _SF_NET_STATE_MAX);
	for (unsigned i = 0; i < _SF_NET_STATE_MAX; i++) {
		assert_string_equal(sf_net_state_to_string((enum sf_net_state)i), names[i]);
		assert_int_equal(sf_net_state_from_string(names[i], &s), 0);
		assert_int_equal(s, i);
	}
	assert_null(sf_net_state_to_string(_SF_NET_STATE_MAX));
	assert_int_equal(sf_net_state_from_string("delete_wait", &s), -EINVAL);
	assert_int_equal(sf_net_state_from_string("Created", &s), -EINVAL);
	assert_int_equal(sf_net_state_from_string(NULL, &s), -EINVAL);
}

static void test_net_transitions(void **state)
{
	unsigned checked = 0;

	(void)state;
	for (size_t i = 0; i < SF_ARRAY_SIZE(net_allowed); i++) {
		enum sf_net_state from;

		assert_int_equal(sf_net_state_from_string(net_allowed[i].from, &from), 0);
		for (unsigned to = 0; to < _SF_NET_STATE_MAX; to++) {
			const char *name = sf_net_state_to_string((enum sf_net_state)to);
			bool want = to == from || listed(net_allowed[i].to, name);

			if (sf_net_state_transition_ok(from, (enum sf_net_state)to) != want)
				fail_msg("network %s -> %s: expected %s", net_allowed[i].from, name,
					 want ? "allowed" : "forbidden");
			checked++;
		}
	}
	assert_int_equal(checked, _SF_NET_STATE_MAX * _SF_NET_STATE_MAX);
	/* the rules the spec spells out */
	assert_false(sf_net_state_transition_ok(SF_NET_DELETED, SF_NET_INITIAL));
	assert_true(sf_net_state_transition_ok(SF_NET_DELETED, SF_NET_DELETED));
	assert_false(sf_net_state_transition_ok(SF_NET_INITIAL, SF_NET_DELETE_WAIT));
	assert_false(sf_net_state_transition_ok(SF_NET_CREATED, SF_NET_INITIAL));
	assert_false(sf_net_state_transition_ok(_SF_NET_STATE_MAX, SF_NET_ERROR));
	assert_false(sf_net_state_transition_ok(SF_NET_ERROR, _SF_NET_STATE_MAX));
}

static void test_net_active(void **state)
{
	(void)state;
	assert_true(sf_net_state_is_active(SF_NET_INITIAL));
	assert_true(sf_net_state_is_active(SF_NET_CREATING));
	assert_true(sf_net_state_is_active(SF_NET_CREATED));
	assert_true(sf_net_state_is_active(SF_NET_ERROR));
	assert_true(sf_net_state_is_active(SF_NET_DELETE_WAIT));
	assert_false(sf_net_state_is_active(SF_NET_DELETED));
}

static void test_iface_states(void **state)
{
	static const char *const names[] = {"initial", "created", "deleted", "error"};
	enum sf_iface_state s;
	unsigned checked = 0;

	(void)state;
	assert_int_equal(SF_ARRAY_SIZE(names), _SF_IFACE_STATE_MAX);
	for (unsigned i = 0; i < _SF_IFACE_STATE_MAX; i++) {
		assert_string_equal(sf_iface_state_to_string((enum sf_iface_state)i), names[i]);
		assert_int_equal(sf_iface_state_from_string(names[i], &s), 0);
		assert_int_equal(s, i);
	}
	assert_int_equal(sf_iface_state_from_string("delete-wait", &s), -EINVAL);

	for (size_t i = 0; i < SF_ARRAY_SIZE(iface_allowed); i++) {
		enum sf_iface_state from;

		assert_int_equal(sf_iface_state_from_string(iface_allowed[i].from, &from), 0);
		for (unsigned to = 0; to < _SF_IFACE_STATE_MAX; to++) {
			const char *name = sf_iface_state_to_string((enum sf_iface_state)to);
			bool want = to == from || listed(iface_allowed[i].to, name);

			if (sf_iface_state_transition_ok(from, (enum sf_iface_state)to) != want)
				fail_msg("interface %s -> %s: expected %s", iface_allowed[i].from,
					 name, want ? "allowed" : "forbidden");
			checked++;
		}
	}
	assert_int_equal(checked, _SF_IFACE_STATE_MAX * _SF_IFACE_STATE_MAX);
	assert_false(sf_iface_state_transition_ok(SF_IFACE_DELETED, SF_IFACE_CREATED));
	assert_false(sf_iface_state_transition_ok(SF_IFACE_CREATED, SF_IFACE_INITIAL));
}

static void test_ipam_types(void **state)
{
	static const char *const names[] = {"network",	"broadcast", "gateway",	      "instance",
					    "floating", "routed",    "deletion-halo", "unknown"};

	(void)state;
	assert_int_equal(SF_ARRAY_SIZE(names), _SF_IPAM_TYPE_MAX);
	for (unsigned i = 0; i < _SF_IPAM_TYPE_MAX; i++)
		assert_string_equal(sf_ipam_type_to_string((enum sf_ipam_type)i), names[i]);
	assert_null(sf_ipam_type_to_string(_SF_IPAM_TYPE_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_net_state_names), cmocka_unit_test(test_net_transitions),
		cmocka_unit_test(test_net_active),	cmocka_unit_test(test_iface_states),
		cmocka_unit_test(test_ipam_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
