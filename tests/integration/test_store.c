// SPDX-License-Identifier: Apache-2.0
/*
 * store (networks, IPAM, interfaces, nodes) against a real redis-server from SF_REDIS_URL
 * (`ops/services.sh start redis`, then `eval $(ops/services.sh env)`); without it the test
 * exits 77 (skipped). Keys live under a prefix unique to the run and are deleted at the end.
 * A few checks read the documented layout (shared/redis-layout.md) directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../fakes/testutil.h"
#include "sf/ipv4.h"
#include "sf/json.h"
#include "sf/kv.h"
#include "sf/store.h"
#include "sf/util.h"

static const char *redis_url;
static char prefix[64];
static struct sf_kv *kv;

static int new_kv(struct sf_kv **ret)
{
	struct sf_kv_options opt = {.prefix = prefix};
	int r;

	r = sf_kv_redis_new(redis_url, &opt, ret);
	if (r < 0)
		return r;
	r = sf_kv_wait_ready(*ret, 10000);
	if (r < 0)
		sf_kv_free(*ret);
	return r;
}

static int group_setup(void **state)
{
	(void)state;
	sf_test_unique(prefix, sizeof(prefix), "sftest:store:", ":");
	return new_kv(&kv) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	sf_test_kv_delete_prefix(kv, prefix);
	sf_kv_free(kv);
	return 0;
}

/* ---- helpers ---- */

static struct sf_network *make_network(const char *ns, const char *name, const char *block)
{
	struct sf_network_spec spec = {.name = name,
				       .namespace = ns,
				       .netblock = block,
				       .provide_dhcp = true,
				       .provide_nat = true};
	struct sf_network *n = NULL;

	assert_int_equal(sf_network_create(kv, &spec, &n), 0);
	return n;
}

static struct sf_network *make_created_network(const char *block)
{
	char ns[64];
	struct sf_network *n;

	sf_test_unique(ns, sizeof(ns), "ns-", "");
	n = make_network(ns, "net", block);
	assert_int_equal(sf_network_set_state(kv, n->uuid, SF_NET_CREATED, NULL, NULL), 0);
	return n;
}

/* The network uuid a vxid claim names (layout: vxid:<n>), or NULL. */
static char *vxid_owner(uint32_t vxid)
{
	char *key = sf_kv_key(kv, "vxid:%u", vxid), *v = NULL;
	int r = sf_kv_get(kv, key, &v);

	free(key);
	return r == 0 ? v : NULL;
}

static void assert_keys(const json_t *obj, const char *const *keys, size_t n)
{
	assert_true(json_is_object(obj));
	for (size_t i = 0; i < n; i++)
		if (!json_object_get(obj, keys[i]))
			fail_msg("key %s missing", keys[i]);
	assert_int_equal(json_object_size(obj), n);
}

static const char *jstr(const json_t *obj, const char *key)
{
	const char *s = NULL;

	assert_int_equal(sf_json_get_str(obj, key, &s), 0);
	return s;
}

static void assert_user(const json_t *rec, const char *type, const char *uuid)
{
	json_t *user = json_object_get(rec, "user");

	if (!type) {
		assert_true(json_is_null(user));
		return;
	}
	assert_true(json_is_array(user));
	assert_int_equal(json_array_size(user), 2);
	assert_string_equal(json_string_value(json_array_get(user, 0)), type);
	assert_string_equal(json_string_value(json_array_get(user, 1)), uuid);
}

static json_t *ipam_record(const char *ipam, const char *address)
{
	json_t *rec = NULL;

	assert_int_equal(sf_ipam_get(kv, ipam, address, &rec), 0);
	return rec;
}

static bool in_block(const char *block, const char *address)
{
	struct sf_ipv4_net net;
	uint32_t a;

	return sf_ipv4_net_parse(block, 0, &net) == 0 && sf_ipv4_parse(address, &a) == 0 &&
	       sf_ipv4_net_contains(&net, a);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The metadata setters borrow the value; these take it, for brevity. */
static int net_md_set(const char *uuid, const char *key, json_t *value)
{
	int r = sf_network_metadata_set(kv, uuid, key, value);

	json_decref(value);
	return r;
}

static int iface_md_set(const char *uuid, const char *key, json_t *value)
{
	int r = sf_iface_metadata_set(kv, uuid, key, value);

	json_decref(value);
	return r;
}

static void free_uuids(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void free_networks(struct sf_network **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sf_network_free(v[i]);
	free(v);
}

/* ---- networks ---- */

static void test_network_create_get(void **state)
{
	static const char *const view_keys[] = {
		"uuid",		"name",	       "namespace",   "netblock",
		"provide_dhcp", "provide_nat", "provide_dns", "floating_gateway",
		"vxlan_id",	"state",       "metadata",    "version"};
	struct sf_network_spec spec = {.namespace = "x", .netblock = "10.0.0.0/30"};
	struct sf_network *n, *g;
	json_t *view, *list;
	char ns[64], *owner;

	(void)state;
	sf_test_unique(ns, sizeof(ns), "ns-", "");
	n = make_network(ns, "web", "10.1.2.0/24");
	assert_true(sf_uuid_is_valid(n->uuid));
	assert_in_range(n->vxid, 1, 0xffffff);
	assert_int_equal(n->state, SF_NET_INITIAL);

	assert_int_equal(sf_network_get(kv, n->uuid, &g), 0);
	assert_string_equal(g->uuid, n->uuid);
	assert_string_equal(g->name, "web");
	assert_string_equal(g->namespace, ns);
	assert_string_equal(g->netblock, "10.1.2.0/24");
	assert_true(g->provide_dhcp && g->provide_nat && !g->provide_dns);
	assert_int_equal(g->vxid, n->vxid);
	assert_int_equal(g->state, SF_NET_INITIAL);
	assert_null(g->floating_gateway);
	assert_true(g->created_at > 1e9);

	/* the vxid claim names the network */
	owner = vxid_owner(n->vxid);
	assert_non_null(owner);
	assert_string_equal(owner, n->uuid);
	free(owner);

	view = sf_network_view(kv, g);
	assert_keys(view, view_keys, SF_ARRAY_SIZE(view_keys));
	assert_int_equal(json_integer_value(json_object_get(view, "vxlan_id")), n->vxid);
	assert_int_equal(json_integer_value(json_object_get(view, "version")), 6);
	assert_string_equal(jstr(view, "state"), "initial");
	assert_true(json_is_null(json_object_get(view, "floating_gateway")));
	assert_int_equal(json_object_size(json_object_get(view, "metadata")), 0);
	json_decref(view);

	/* IPAM: network, gateway (.1) and broadcast reserved for the network, string order */
	assert_int_equal(sf_ipam_list(kv, n->uuid, &list), 0);
	assert_int_equal(json_array_size(list), 3);
	assert_string_equal(jstr(json_array_get(list, 0), "address"), "10.1.2.0");
	assert_string_equal(jstr(json_array_get(list, 0), "type"), "network");
	assert_string_equal(jstr(json_array_get(list, 1), "address"), "10.1.2.1");
	assert_string_equal(jstr(json_array_get(list, 1), "type"), "gateway");
	assert_string_equal(jstr(json_array_get(list, 2), "address"), "10.1.2.255");
	assert_string_equal(jstr(json_array_get(list, 2), "type"), "broadcast");
	for (size_t i = 0; i < 3; i++)
		assert_user(json_array_get(list, i), "network", n->uuid);
	json_decref(list);

	/* a nameless network */
	sf_network_free(g);
	sf_network_free(n);
	n = make_network(ns, NULL, "10.1.3.0/29");
	assert_null(n->name);
	view = sf_network_view(kv, n);
	assert_true(json_is_null(json_object_get(view, "name")));
	json_decref(view);
	sf_network_free(n);

	/* refused specs create nothing */
	assert_int_equal(sf_network_create(kv, &spec, &n), -EINVAL); /* /30 */
	spec.netblock = "10.0.0.0/7";
	assert_int_equal(sf_network_create(kv, &spec, &n), -E2BIG);
	spec.netblock = "10.0.0.1/24";
	assert_int_equal(sf_network_create(kv, &spec, &n), -EDOM);
	spec.netblock = "fd00::/64";
	assert_int_equal(sf_network_create(kv, &spec, &n), -EAFNOSUPPORT);
	spec.netblock = "10.0.0.0/24";
	spec.namespace = NULL;
	assert_int_equal(sf_network_create(kv, &spec, &n), -EINVAL);

	assert_int_equal(sf_network_get(kv, "8d8c2a0e-0000-4000-8000-000000000000", &n), -ENOENT);
	assert_int_equal(sf_network_get(kv, "not-a-uuid", &n), -ENOENT);
}

static void test_network_list_find(void **state)
{
	struct sf_network *a1, *a2, *b1, **v;
	char nsa[64], nsb[64];
	size_t n;

	(void)state;
	sf_test_unique(nsa, sizeof(nsa), "nsa-", "");
	sf_test_unique(nsb, sizeof(nsb), "nsb-", "");
	a1 = make_network(nsa, "dup", "10.2.0.0/24");
	a2 = make_network(nsa, "dup", "10.2.0.0/24"); /* overlapping blocks are allowed */
	b1 = make_network(nsb, "dup", "10.3.0.0/24");

	assert_int_equal(sf_network_list(kv, nsa, false, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0]->uuid, a1->uuid); /* oldest first */
	assert_string_equal(v[1]->uuid, a2->uuid);
	free_networks(v, n);

	assert_int_equal(sf_network_find_by_name(kv, nsa, "dup", &v, &n), 0);
	assert_int_equal(n, 2);
	free_networks(v, n);
	assert_int_equal(sf_network_find_by_name(kv, nsb, "dup", &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0]->uuid, b1->uuid);
	free_networks(v, n);
	assert_int_equal(sf_network_find_by_name(kv, nsb, "nope", &v, &n), 0);
	assert_int_equal(n, 0);
	free_networks(v, n);

	/* all namespaces (system): at least these three share the name */
	assert_int_equal(sf_network_find_by_name(kv, NULL, "dup", &v, &n), 0);
	assert_true(n >= 3);
	free_networks(v, n);

	/* deleted networks leave default listings and name lookups, not all=true */
	assert_int_equal(sf_network_set_state(kv, a1->uuid, SF_NET_DELETED, NULL, NULL), 0);
	assert_int_equal(sf_network_list(kv, nsa, false, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0]->uuid, a2->uuid);
	free_networks(v, n);
	assert_int_equal(sf_network_list(kv, nsa, true, &v, &n), 0);
	assert_int_equal(n, 2);
	free_networks(v, n);
	assert_int_equal(sf_network_find_by_name(kv, nsa, "dup", &v, &n), 0);
	assert_int_equal(n, 1);
	free_networks(v, n);

	/* error and delete-wait are still active */
	assert_int_equal(sf_network_set_state(kv, a2->uuid, SF_NET_ERROR, "boom", NULL), 0);
	assert_int_equal(sf_network_list(kv, nsa, false, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0]->state, SF_NET_ERROR);
	assert_string_equal(v[0]->error, "boom");
	free_networks(v, n);

	sf_network_free(a1);
	sf_network_free(a2);
	sf_network_free(b1);
}

static void test_network_states(void **state)
{
	struct sf_network *n, *g;
	enum sf_net_state cur = _SF_NET_STATE_MAX;
	double updated;

	(void)state;
	n = make_network("states", "s", "10.4.0.0/24");

	assert_int_equal(sf_network_set_state(kv, n->uuid, SF_NET_DELETE_WAIT, NULL, &cur),
			 -EINVAL);
	assert_int_equal(cur, SF_NET_INITIAL);
	assert_int_equal(sf_network_set_state(kv, n->uuid, SF_NET_CREATING, NULL, &cur), -EINVAL);
	assert_int_equal(sf_network_set_state(kv, n->uuid, SF_NET_CREATED, NULL, &cur), 0);
	assert_int_equal(cur, SF_NET_INITIAL);

	/* same state: success, nothing changes */
	assert_int_equal(sf_network_get(kv, n->uuid, &g), 0);
	updated = g->state_updated;
	sf_network_free(g);
	(void)sf_sleep_ms(5);
	assert_int_equal(sf_network_set_state(kv, n->uuid, SF_NET_CREATED, NULL, &cur), 0);
	assert_int_equal(cur, SF_NET_CREATED);
	assert_int_equal(sf_network_get(kv, n->uuid, &g), 0);
	assert_true(g->state_updated == updated);
	sf_network_free(g);

	assert_int_equal(sf_network_set_state(kv, n->uuid, SF_NET_INITIAL, NULL, &cur), -EINVAL);
	assert_int_equal(cur, SF_NET_CREATED);
	assert_int_equal(sf_network_set_state(kv, n->uuid, SF_NET_DELETE_WAIT, NULL, NULL), 0);
	assert_int_equal(sf_network_set_state(kv, n->uuid, SF_NET_CREATED, NULL, &cur), -EINVAL);
	assert_int_equal(cur, SF_NET_DELETE_WAIT);
	assert_int_equal(sf_network_set_state(kv, n->uuid, SF_NET_ERROR, "no gateway", NULL), 0);
	assert_int_equal(sf_network_get(kv, n->uuid, &g), 0);
	assert_int_equal(g->state, SF_NET_ERROR);
	assert_string_equal(g->error, "no gateway");
	assert_true(g->state_updated > updated);
	sf_network_free(g);
	assert_int_equal(sf_network_set_state(kv, n->uuid, SF_NET_ERROR, NULL, NULL), 0);
	assert_int_equal(sf_network_set_state(kv, n->uuid, SF_NET_DELETED, NULL, NULL), 0);

	/* deleted is terminal */
	for (unsigned s = 0; s < _SF_NET_STATE_MAX; s++) {
		int want = s == SF_NET_DELETED ? 0 : -EINVAL;

		assert_int_equal(sf_network_set_state(kv, n->uuid, s, NULL, &cur), want);
		assert_int_equal(cur, SF_NET_DELETED);
	}
	assert_int_equal(sf_network_set_state(kv, "8d8c2a0e-0000-4000-8000-000000000000",
					      SF_NET_CREATED, NULL, NULL),
			 -ENOENT);
	sf_network_free(n);
}

static void test_network_metadata_dns(void **state)
{
	struct sf_network *n, *g;
	json_t *md, *view, *dns;
	const char *missing = "8d8c2a0e-0000-4000-8000-000000000000";

	(void)state;
	n = make_network("meta", "m", "10.5.0.0/24");
	assert_int_equal(net_md_set(n->uuid, "s", json_string("v")), 0);
	md = json_pack("{s:i, s:[i, b], s:n}", "i", 1, "list", 2, 1, "null", NULL);
	assert_int_equal(sf_network_metadata_set(kv, n->uuid, "obj", md), 0);
	assert_int_equal(net_md_set(n->uuid, "num", json_real(2.5)), 0);
	json_decref(md);
	assert_int_equal(net_md_set(n->uuid, "s", json_string("w")), 0);
	assert_int_equal(sf_network_metadata_delete(kv, n->uuid, "num"), 0);
	assert_int_equal(sf_network_metadata_delete(kv, n->uuid, "never-set"), 0);
	assert_int_equal(sf_network_metadata_get(kv, n->uuid, &md), 0);
	assert_int_equal(json_object_size(md), 2);
	assert_string_equal(jstr(md, "s"), "w");
	assert_int_equal(json_integer_value(json_array_get(
				 json_object_get(json_object_get(md, "obj"), "list"), 0)),
			 2);
	json_decref(md);
	assert_int_equal(sf_network_metadata_get(kv, missing, &md), -ENOENT);
	assert_int_equal(sf_network_metadata_set(kv, missing, "k", json_true()), -ENOENT);

	/* the view carries metadata and the floating gateway */
	assert_int_equal(sf_network_set_floating_gateway(kv, n->uuid, "192.168.20.9"), 0);
	assert_int_equal(sf_network_get(kv, n->uuid, &g), 0);
	view = sf_network_view(kv, g);
	assert_string_equal(jstr(view, "floating_gateway"), "192.168.20.9");
	assert_string_equal(jstr(json_object_get(view, "metadata"), "s"), "w");
	json_decref(view);
	sf_network_free(g);
	assert_int_equal(sf_network_set_floating_gateway(kv, n->uuid, NULL), 0);
	assert_int_equal(sf_network_get(kv, n->uuid, &g), 0);
	assert_null(g->floating_gateway);
	sf_network_free(g);
	assert_int_equal(sf_network_set_floating_gateway(kv, missing, "1.2.3.4"), -ENOENT);

	assert_int_equal(sf_network_dns_set(kv, n->uuid, "www", "10.5.0.7"), 0);
	assert_int_equal(sf_network_dns_set(kv, n->uuid, "db", "10.5.0.8"), 0);
	assert_int_equal(sf_network_dns_set(kv, n->uuid, "www", "10.5.0.9"), 0);
	assert_int_equal(sf_network_dns_delete(kv, n->uuid, "db"), 0);
	assert_int_equal(sf_network_dns_get(kv, n->uuid, &dns), 0);
	assert_int_equal(json_object_size(dns), 1);
	assert_string_equal(jstr(dns, "www"), "10.5.0.9");
	json_decref(dns);
	assert_int_equal(sf_network_dns_set(kv, missing, "a", "1.1.1.1"), -ENOENT);
	sf_network_free(n);
}

static void test_network_purge(void **state)
{
	struct sf_network *n, *g, **v;
	json_t *list;
	char ns[64], *owner;
	size_t cnt;

	(void)state;
	sf_test_unique(ns, sizeof(ns), "ns-", "");
	n = make_network(ns, "p", "10.6.0.0/24");
	assert_int_equal(sf_network_purge(kv, n->uuid), -EBUSY);
	assert_int_equal(sf_network_set_state(kv, n->uuid, SF_NET_DELETED, NULL, NULL), 0);
	assert_int_equal(sf_network_metadata_set(kv, n->uuid, "k", json_true()), 0);
	assert_int_equal(sf_network_purge(kv, n->uuid), 0);
	assert_int_equal(sf_network_get(kv, n->uuid, &g), -ENOENT);
	assert_int_equal(sf_ipam_list(kv, n->uuid, &list), -ENOENT);
	assert_int_equal(sf_network_metadata_get(kv, n->uuid, &list), -ENOENT);
	assert_int_equal(sf_network_list(kv, ns, true, &v, &cnt), 0);
	assert_int_equal(cnt, 0);
	free_networks(v, cnt);
	owner = vxid_owner(n->vxid);
	assert_null(owner);
	assert_int_equal(sf_network_purge(kv, n->uuid), -ENOENT);
	sf_network_free(n);
}

/* ---- IPAM ---- */

static void test_ipam_reserve_release(void **state)
{
	static const char *const order[] = {"10.7.0.0",	 "10.7.0.1", "10.7.0.10",  "10.7.0.100",
					    "10.7.0.11", "10.7.0.2", "10.7.0.255", "10.7.0.5"};
	const char *inst = "1b4e28ba-2fa1-41d2-883f-0016d3cca427";
	struct sf_network *n = make_created_network("10.7.0.0/24");
	struct sf_network *n2 = make_created_network("10.70.0.0/24");
	const char *ip = n->uuid;
	char addr[16];
	json_t *rec, *list;

	(void)state;
	assert_int_equal(sf_ipam_reserve(kv, ip, "10.7.0.5", SF_IPAM_INSTANCE, "instance", inst),
			 0);
	assert_int_equal(sf_ipam_reserve(kv, ip, "10.7.0.5", SF_IPAM_INSTANCE, "instance", inst),
			 -EADDRINUSE);
	assert_int_equal(sf_ipam_reserve(kv, ip, "10.7.0.0", SF_IPAM_INSTANCE, NULL, NULL),
			 -EADDRINUSE);
	assert_int_equal(sf_ipam_reserve(kv, ip, "10.7.0.1", SF_IPAM_INSTANCE, NULL, NULL),
			 -EADDRINUSE);
	assert_int_equal(sf_ipam_reserve(kv, ip, "10.7.0.255", SF_IPAM_INSTANCE, NULL, NULL),
			 -EADDRINUSE);
	assert_int_equal(sf_ipam_reserve(kv, ip, "10.7.1.5", SF_IPAM_INSTANCE, NULL, NULL), -EDOM);
	assert_int_equal(sf_ipam_reserve(kv, ip, "10.7.0.500", SF_IPAM_INSTANCE, NULL, NULL),
			 -EINVAL);
	assert_int_equal(sf_ipam_reserve(kv, "8d8c2a0e-0000-4000-8000-000000000000", "10.7.0.5",
					 SF_IPAM_INSTANCE, NULL, NULL),
			 -ENOENT);

	rec = ipam_record(ip, "10.7.0.5");
	{
		static const char *const keys[] = {"address", "type", "user", "when", "comment"};

		assert_keys(rec, keys, SF_ARRAY_SIZE(keys));
	}
	assert_string_equal(jstr(rec, "address"), "10.7.0.5");
	assert_string_equal(jstr(rec, "type"), "instance");
	assert_string_equal(jstr(rec, "comment"), "");
	assert_true(json_is_real(json_object_get(rec, "when")));
	assert_true(json_real_value(json_object_get(rec, "when")) > 1e9);
	assert_user(rec, "instance", inst);
	json_decref(rec);

	/* random: inside the block and not one that is taken (on a second network, so that it
	 * cannot collide with the specific addresses below) */
	assert_int_equal(sf_ipam_reserve(kv, n2->uuid, "10.70.0.5", SF_IPAM_INSTANCE, NULL, NULL),
			 0);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(sf_ipam_reserve_random(kv, n2->uuid, SF_IPAM_INSTANCE, "instance",
							inst, addr),
				 0);
		assert_true(in_block("10.70.0.0/24", addr));
		assert_string_not_equal(addr, "10.70.0.5");
		assert_string_not_equal(addr, "10.70.0.0");
		assert_string_not_equal(addr, "10.70.0.1");
		assert_string_not_equal(addr, "10.70.0.255");
		rec = ipam_record(n2->uuid, addr);
		assert_user(rec, "instance", inst);
		json_decref(rec);
	}
	assert_int_equal(sf_ipam_release(kv, n2->uuid, addr, 300), 0);
	assert_int_equal(sf_ipam_release(kv, n2->uuid, addr, 0), -ENOENT); /* already in the halo */

	/* release puts the address in the halo: unusable, not "reserved" */
	assert_int_equal(sf_ipam_release(kv, ip, "10.7.0.5", 300), 0);
	rec = ipam_record(ip, "10.7.0.5");
	assert_string_equal(jstr(rec, "type"), "deletion-halo");
	assert_user(rec, NULL, NULL);
	json_decref(rec);
	assert_int_equal(sf_ipam_reserve(kv, ip, "10.7.0.5", SF_IPAM_INSTANCE, NULL, NULL),
			 -EADDRINUSE);
	assert_int_equal(sf_ipam_release(kv, ip, "10.7.0.5", 300), -ENOENT);
	assert_int_equal(sf_ipam_release(kv, ip, "10.7.0.6", 300), -ENOENT);

	/* a halo of 0 s expires at once: the next reserve purges it */
	assert_int_equal(sf_ipam_reserve(kv, ip, "10.7.0.6", SF_IPAM_INSTANCE, NULL, NULL), 0);
	assert_int_equal(sf_ipam_release(kv, ip, "10.7.0.6", 0), 0);
	(void)sf_sleep_ms(2);
	assert_int_equal(sf_ipam_reserve(kv, ip, "10.7.0.6", SF_IPAM_ROUTED, "network", ip), 0);
	rec = ipam_record(ip, "10.7.0.6");
	assert_string_equal(jstr(rec, "type"), "routed");
	json_decref(rec);
	assert_int_equal(sf_ipam_release(kv, ip, "10.7.0.6", 0), 0);
	(void)sf_sleep_ms(2);
	/* purged by any reserve, even one of another address */
	assert_int_equal(sf_ipam_reserve(kv, ip, "10.7.0.10", SF_IPAM_INSTANCE, NULL, NULL), 0);
	assert_int_equal(sf_ipam_get(kv, ip, "10.7.0.6", &rec), -ENOENT);

	/* listing: ascending string order of the address */
	assert_int_equal(sf_ipam_reserve(kv, ip, "10.7.0.100", SF_IPAM_INSTANCE, NULL, NULL), 0);
	assert_int_equal(sf_ipam_reserve(kv, ip, "10.7.0.11", SF_IPAM_INSTANCE, NULL, NULL), 0);
	assert_int_equal(sf_ipam_reserve(kv, ip, "10.7.0.2", SF_IPAM_INSTANCE, NULL, NULL), 0);
	assert_int_equal(sf_ipam_list(kv, ip, &list), 0);
	assert_int_equal(json_array_size(list), SF_ARRAY_SIZE(order));
	for (size_t i = 0; i < SF_ARRAY_SIZE(order); i++)
		assert_string_equal(jstr(json_array_get(list, i), "address"), order[i]);
	json_decref(list);
	sf_network_free(n);
	sf_network_free(n2);
}

static void test_ipam_full(void **state)
{
	struct sf_network *n = make_created_network("10.8.0.0/29");
	char got[5][16], addr[16], *key;
	json_t *rec;

	(void)state;
	/* a /29 has 8 addresses, 3 reserved at creation */
	for (int i = 0; i < 5; i++) {
		assert_int_equal(
			sf_ipam_reserve_random(kv, n->uuid, SF_IPAM_INSTANCE, NULL, NULL, got[i]),
			0);
		assert_true(in_block("10.8.0.0/29", got[i]));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(got[i], got[j]);
	}
	assert_int_equal(sf_ipam_reserve_random(kv, n->uuid, SF_IPAM_INSTANCE, NULL, NULL, addr),
			 -ENOSPC);

	/* a fresh halo entry is not reused ... */
	assert_int_equal(sf_ipam_release(kv, n->uuid, got[2], 300), 0);
	assert_int_equal(sf_ipam_reserve_random(kv, n->uuid, SF_IPAM_INSTANCE, NULL, NULL, addr),
			 -ENOSPC);
	/* ... but one released more than 30 s ago is, when nothing else is free (spec 4 step 4).
	 * Age the halo record in place (layout: ipam:{uuid} hash address -> JSON). */
	rec = ipam_record(n->uuid, got[2]);
	json_object_set_new(rec, "when", json_real(sf_now_epoch() - 31));
	key = sf_kv_key(kv, "ipam:{%s}", n->uuid);
	{
		char *json = sf_json_dumps(rec);

		assert_int_equal(sf_kv_cmd(kv, NULL, "HSET", key, got[2], json, NULL), 0);
		free(json);
	}
	json_decref(rec);
	free(key);
	assert_int_equal(sf_ipam_reserve_random(kv, n->uuid, SF_IPAM_INSTANCE, NULL, NULL, addr),
			 0);
	assert_string_equal(addr, got[2]);
	rec = ipam_record(n->uuid, addr);
	assert_string_equal(jstr(rec, "type"), "instance");
	json_decref(rec);
	assert_int_equal(sf_ipam_reserve_random(kv, n->uuid, SF_IPAM_INSTANCE, NULL, NULL, addr),
			 -ENOSPC);
	sf_network_free(n);
}

/* The per-user index answers exactly what filtering the whole list would, after a random mix
 * of reserves and releases, and rebuilds itself when it is missing (an IPAM from before it). */
static bool same_user(const json_t *rec, const char *type, const char *uuid)
{
	const json_t *u = json_object_get(rec, "user");

	return sf_streq(json_string_value(json_array_get(u, 0)), type) &&
	       sf_streq(json_string_value(json_array_get(u, 1)), uuid);
}

static void assert_index_matches(const char *ipam, const char *type, const char *uuid)
{
	json_t *all, *mine, *want = json_array(), *rec;
	size_t i;

	assert_int_equal(sf_ipam_list(kv, ipam, &all), 0);
	json_array_foreach(all, i, rec)
		if (same_user(rec, type, uuid))
			json_array_append(want, rec);
	assert_int_equal(sf_ipam_list_user(kv, ipam, type, uuid, &mine), 0);
	assert_true(json_equal(mine, want));
	json_decref(all);
	json_decref(mine);
	json_decref(want);
}

static void test_ipam_list_user(void **state)
{
	struct sf_network *n;
	const char *users[4] = {"4a000000-0000-4000-8000-000000000001",
				"4a000000-0000-4000-8000-000000000002",
				"4a000000-0000-4000-8000-000000000003", NULL};
	char held[40][16], *key;
	size_t n_held = 0;
	json_t *mine;
	unsigned seed = (unsigned)time(NULL), rnd;
	char ns[64];

	(void)state;
	sf_test_unique(ns, sizeof(ns), "ns-", "");
	n = make_network(ns, "lu", "10.7.0.0/24");
	print_message("list_user: seed %u\n", seed);
	/* the network's own three, recorded by the create script */
	assert_int_equal(sf_ipam_list_user(kv, n->uuid, "network", n->uuid, &mine), 0);
	assert_int_equal(json_array_size(mine), 3);
	json_decref(mine);
	for (int round = 0; round < 60; round++) {
		rnd = (unsigned)rand_r(&seed);
		if (n_held < 3 || (rnd & 3) != 0) {
			assert_int_equal(sf_ipam_reserve_random(kv, n->uuid, SF_IPAM_INSTANCE,
								"instance", users[rnd % 3],
								held[n_held]),
					 0);
			n_held++;
		} else {
			size_t i = (rnd >> 8) % n_held;

			assert_int_equal(sf_ipam_release(kv, n->uuid, held[i], 300), 0);
			memcpy(held[i], held[--n_held], sizeof(held[i]));
		}
		if (n_held == SF_ARRAY_SIZE(held))
			break;
	}
	for (size_t i = 0; i < 3; i++)
		assert_index_matches(n->uuid, "instance", users[i]);
	assert_index_matches(n->uuid, "network", n->uuid);
	assert_int_equal(sf_ipam_list_user(kv, n->uuid, "instance",
					   "4a000000-0000-4000-8000-0000000000ff", &mine),
			 0);
	assert_int_equal(json_array_size(mine), 0);
	json_decref(mine);

	/* without its index (written before there was one): built on first use */
	key = sf_kv_key(kv, "ipam:{%s}:users", n->uuid);
	assert_int_equal(sf_kv_del(kv, key), 1);
	for (size_t i = 0; i < 3; i++)
		assert_index_matches(n->uuid, "instance", users[i]);
	assert_index_matches(n->uuid, "network", n->uuid);

	assert_int_equal(sf_ipam_list_user(kv, "4a000000-0000-4000-8000-0000000000ee", "instance",
					   users[0], &mine),
			 -ENOENT);
	assert_int_equal(sf_ipam_list_user(kv, n->uuid, NULL, users[0], &mine), -EINVAL);

	/* and it goes with the network */
	assert_int_equal(sf_network_set_state(kv, n->uuid, SF_NET_DELETED, NULL, NULL), 0);
	assert_int_equal(sf_network_purge(kv, n->uuid), 0);
	assert_int_equal(sf_kv_del(kv, key), 0); /* was not there */
	free(key);
	sf_network_free(n);
}

static void test_ipam_floating(void **state)
{
	struct sf_network *f, **v;
	json_t *list;
	size_t n;

	(void)state;
	assert_int_equal(sf_ipam_floating_ensure(kv, "192.168.20.0/24"), 0);
	assert_int_equal(sf_ipam_floating_ensure(kv, "192.168.20.0/24"), 0);
	assert_int_equal(sf_ipam_floating_ensure(kv, "192.168.30.0/24"), -EEXIST);
	assert_int_equal(sf_ipam_floating_ensure(kv, "192.168.20.0/31"), -EINVAL);

	assert_int_equal(sf_ipam_list(kv, SF_FLOATING_NETWORK, &list), 0);
	assert_int_equal(json_array_size(list), 3);
	for (size_t i = 0; i < 3; i++)
		assert_user(json_array_get(list, i), "network", "floating");
	json_decref(list);

	assert_int_equal(sf_network_get(kv, SF_FLOATING_NETWORK, &f), 0);
	assert_string_equal(f->uuid, "floating");
	assert_string_equal(f->name, "floating");
	assert_null(f->namespace);
	assert_string_equal(f->netblock, "192.168.20.0/24");
	assert_int_equal(f->state, SF_NET_INITIAL);
	sf_network_free(f);

	/* never listed; found by name only across namespaces (system) */
	assert_int_equal(sf_network_list(kv, NULL, true, &v, &n), 0);
	for (size_t i = 0; i < n; i++)
		assert_string_not_equal(v[i]->uuid, "floating");
	free_networks(v, n);
	assert_int_equal(sf_network_find_by_name(kv, NULL, "floating", &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0]->uuid, "floating");
	free_networks(v, n);
	assert_int_equal(sf_network_find_by_name(kv, "tenant", "floating", &v, &n), 0);
	assert_int_equal(n, 0);
	free_networks(v, n);

	/* routed and floating addresses come from it */
	{
		char a[16];
		json_t *rec;

		assert_int_equal(sf_ipam_reserve_random(kv, SF_FLOATING_NETWORK, SF_IPAM_ROUTED,
							"network",
							"8d8c2a0e-0000-4000-8000-000000000001", a),
				 0);
		assert_true(in_block("192.168.20.0/24", a));
		rec = ipam_record(SF_FLOATING_NETWORK, a);
		assert_string_equal(jstr(rec, "type"), "routed");
		json_decref(rec);
	}
}

/* ---- interfaces ---- */

static struct sf_iface *make_iface(const char *net, const char *inst, const char *address,
				   const char *mac, long order)
{
	struct sf_iface_spec spec = {.network_uuid = net,
				     .instance_uuid = inst,
				     .node = "hv1",
				     .address = address,
				     .macaddress = mac,
				     .order = order};
	struct sf_iface *i = NULL;

	assert_int_equal(sf_iface_create(kv, &spec, &i), 0);
	return i;
}

static void test_iface_create(void **state)
{
	static const char *const view_keys[] = {
		"uuid",	 "network_uuid", "instance_uuid", "macaddr",  "ipv4",	"order",
		"model", "floating",	 "state",	  "metadata", "version"};
	struct sf_network *n = make_created_network("10.9.0.0/24");
	char inst[SF_UUID_STRLEN], inst2[SF_UUID_STRLEN], **uuids;
	struct sf_iface *a, *b, *c, *d, *g;
	struct sf_iface_spec spec = {.instance_uuid = inst, .order = -1};
	struct sf_mac m;
	json_t *view, *rec;
	size_t cnt;

	(void)state;
	sf_uuid_generate(inst);
	sf_uuid_generate(inst2);
	a = make_iface(n->uuid, inst, NULL, NULL, -1);
	assert_true(sf_str_startswith(a->macaddr, "02:00:00:"));
	assert_int_equal(sf_mac_parse(a->macaddr, &m), 0);
	assert_non_null(a->ipv4);
	assert_true(in_block("10.9.0.0/24", a->ipv4));
	assert_int_equal(a->order, 0);
	assert_int_equal(a->state, SF_IFACE_INITIAL);
	assert_string_equal(a->model, "virtio");
	assert_string_equal(a->kind, "tap");
	rec = ipam_record(n->uuid, a->ipv4);
	assert_string_equal(jstr(rec, "type"), "instance");
	assert_user(rec, "instance", inst);
	json_decref(rec);

	b = make_iface(n->uuid, inst, "10.9.0.20", "02:AA:00:00:00:01", -1);
	assert_int_equal(b->order, 1);
	assert_string_equal(b->ipv4, "10.9.0.20");
	assert_string_equal(b->macaddr, "02:aa:00:00:00:01"); /* canonical */
	c = make_iface(n->uuid, inst, "", NULL, 5);	      /* no address, explicit order */
	assert_null(c->ipv4);
	assert_int_equal(c->order, 5);
	d = make_iface(n->uuid, inst2, NULL, NULL, -1); /* order counts per instance */
	assert_int_equal(d->order, 0);

	/* failures leave nothing claimed */
	spec.network_uuid = n->uuid;
	spec.address = "10.9.0.20";
	spec.macaddress = "02:bb:00:00:00:01";
	assert_int_equal(sf_iface_create(kv, &spec, &g), -EADDRINUSE);
	spec.address = "10.9.0.1";
	assert_int_equal(sf_iface_create(kv, &spec, &g), -EADDRINUSE);
	spec.address = "10.9.1.1";
	assert_int_equal(sf_iface_create(kv, &spec, &g), -EDOM);
	spec.address = "10.9.0.21";
	spec.macaddress = "02:aa:00:00:00:01";
	assert_int_equal(sf_iface_create(kv, &spec, &g), -EEXIST);
	spec.macaddress = "01:00:5e:00:00:01";
	assert_int_equal(sf_iface_create(kv, &spec, &g), -EINVAL);
	spec.network_uuid = "8d8c2a0e-0000-4000-8000-000000000000";
	spec.macaddress = "02:bb:00:00:00:02";
	spec.address = "";
	assert_int_equal(sf_iface_create(kv, &spec, &g), -ENOENT);
	/* ... so the MACs and addresses tried above are still free */
	g = make_iface(n->uuid, inst, "10.9.0.21", "02:bb:00:00:00:01", -1);
	assert_int_equal(g->order, 6);
	sf_iface_free(g);
	g = make_iface(n->uuid, inst, "", "02:bb:00:00:00:02", -1);
	sf_iface_free(g);

	/* read back and view */
	assert_int_equal(sf_iface_get(kv, b->uuid, &g), 0);
	assert_string_equal(g->network_uuid, n->uuid);
	assert_string_equal(g->instance_uuid, inst);
	assert_string_equal(g->node, "hv1");
	assert_string_equal(g->macaddr, b->macaddr);
	assert_string_equal(g->ipv4, "10.9.0.20");
	assert_int_equal(g->order, 1);
	assert_null(g->floating);
	view = sf_iface_view(kv, g);
	assert_keys(view, view_keys, SF_ARRAY_SIZE(view_keys));
	assert_int_equal(json_integer_value(json_object_get(view, "version")), 3);
	assert_string_equal(jstr(view, "state"), "initial");
	assert_true(json_is_null(json_object_get(view, "floating")));
	json_decref(view);
	sf_iface_free(g);
	assert_int_equal(sf_iface_get(kv, c->uuid, &g), 0);
	view = sf_iface_view(kv, g);
	assert_true(json_is_null(json_object_get(view, "ipv4")));
	json_decref(view);
	sf_iface_free(g);

	/* indexes: network in plug order, instance by order */
	assert_int_equal(sf_network_interfaces(kv, n->uuid, &uuids, &cnt), 0);
	assert_int_equal(cnt, 6);
	assert_string_equal(uuids[0], a->uuid);
	assert_string_equal(uuids[1], b->uuid);
	assert_string_equal(uuids[2], c->uuid);
	assert_string_equal(uuids[3], d->uuid);
	free_uuids(uuids, cnt);
	/* their records, in the same order; a listed uuid without a record is left out */
	{
		char *list = sf_kv_key(kv, "network:{%s}:ifaces", n->uuid);
		struct sf_iface **recs;
		size_t n_recs;

		assert_int_equal(sf_kv_cmd(kv, NULL, "LPUSH", list,
					   "4a000000-0000-4000-8000-00000000dead", NULL),
				 0);
		assert_int_equal(sf_network_interfaces(kv, n->uuid, &uuids, &cnt), 0);
		assert_int_equal(cnt, 7); /* the stale uuid is listed */
		free_uuids(uuids, cnt);
		assert_int_equal(sf_network_iface_records(kv, n->uuid, &recs, &n_recs), 0);
		assert_int_equal(n_recs, 6);
		assert_string_equal(recs[0]->uuid, a->uuid);
		assert_string_equal(recs[3]->uuid, d->uuid);
		for (size_t i = 0; i < n_recs; i++)
			sf_iface_free(recs[i]);
		free(recs);
		assert_int_equal(sf_kv_cmd(kv, NULL, "LPOP", list, NULL), 0);
		free(list);
	}
	assert_int_equal(sf_iface_list_by_instance(kv, inst, &uuids, &cnt), 0);
	assert_int_equal(cnt, 5);
	assert_string_equal(uuids[0], a->uuid);
	assert_string_equal(uuids[1], b->uuid);
	assert_string_equal(uuids[2], c->uuid);
	free_uuids(uuids, cnt);

	/* floating */
	assert_int_equal(sf_iface_set_floating(kv, a->uuid, "192.168.20.50"), 0);
	assert_int_equal(sf_iface_set_floating(kv, a->uuid, "192.168.20.50"), 0);
	assert_int_equal(sf_iface_set_floating(kv, a->uuid, "192.168.20.51"), -EEXIST);
	assert_int_equal(sf_iface_get(kv, a->uuid, &g), 0);
	assert_string_equal(g->floating, "192.168.20.50");
	sf_iface_free(g);
	assert_int_equal(sf_iface_set_floating(kv, a->uuid, NULL), 0);
	assert_int_equal(sf_iface_set_floating(kv, "8d8c2a0e-0000-4000-8000-000000000000", NULL),
			 -ENOENT);

	/* metadata */
	assert_int_equal(iface_md_set(a->uuid, "role", json_string("db")), 0);
	assert_int_equal(sf_iface_metadata_get(kv, a->uuid, &view), 0);
	assert_string_equal(jstr(view, "role"), "db");
	json_decref(view);
	assert_int_equal(sf_iface_metadata_delete(kv, a->uuid, "role"), 0);
	assert_int_equal(sf_iface_metadata_get(kv, a->uuid, &view), 0);
	assert_int_equal(json_object_size(view), 0);
	json_decref(view);

	sf_iface_free(a);
	sf_iface_free(b);
	sf_iface_free(c);
	sf_iface_free(d);
	sf_network_free(n);
}

static void test_iface_states_delete(void **state)
{
	struct sf_network *n = make_created_network("10.10.0.0/24");
	char inst[SF_UUID_STRLEN], **uuids;
	struct sf_iface *a, *b, *g;
	enum sf_iface_state cur;
	json_t *rec;
	size_t cnt;

	(void)state;
	sf_uuid_generate(inst);
	a = make_iface(n->uuid, inst, "10.10.0.7", NULL, -1);
	b = make_iface(n->uuid, inst, NULL, NULL, -1);

	assert_int_equal(sf_iface_set_state(kv, a->uuid, SF_IFACE_CREATED, &cur), 0);
	assert_int_equal(cur, SF_IFACE_INITIAL);
	assert_int_equal(sf_iface_set_state(kv, a->uuid, SF_IFACE_INITIAL, &cur), -EINVAL);
	assert_int_equal(cur, SF_IFACE_CREATED);
	assert_int_equal(sf_iface_set_state(kv, a->uuid, SF_IFACE_ERROR, NULL), 0);
	assert_int_equal(sf_iface_set_state(kv, a->uuid, SF_IFACE_CREATED, &cur), -EINVAL);
	assert_int_equal(cur, SF_IFACE_ERROR);

	assert_int_equal(sf_iface_delete(kv, a->uuid, 300), 0);
	assert_int_equal(sf_iface_get(kv, a->uuid, &g), 0); /* still readable by uuid */
	assert_int_equal(g->state, SF_IFACE_DELETED);
	sf_iface_free(g);
	rec = ipam_record(n->uuid, "10.10.0.7");
	assert_string_equal(jstr(rec, "type"), "deletion-halo");
	json_decref(rec);
	assert_int_equal(sf_network_interfaces(kv, n->uuid, &uuids, &cnt), 0);
	assert_int_equal(cnt, 1);
	assert_string_equal(uuids[0], b->uuid);
	free_uuids(uuids, cnt);
	assert_int_equal(sf_iface_list_by_instance(kv, inst, &uuids, &cnt), 0);
	assert_int_equal(cnt, 1);
	free_uuids(uuids, cnt);
	assert_int_equal(sf_iface_delete(kv, a->uuid, 300), 0); /* no-op */
	assert_int_equal(sf_iface_set_state(kv, a->uuid, SF_IFACE_CREATED, &cur), -EINVAL);
	assert_int_equal(cur, SF_IFACE_DELETED);

	/* its MAC is free again; its address is not (halo) */
	g = make_iface(n->uuid, inst, "", a->macaddr, -1);
	sf_iface_free(g);
	{
		struct sf_iface_spec spec = {.network_uuid = n->uuid,
					     .instance_uuid = inst,
					     .address = "10.10.0.7",
					     .order = -1};

		assert_int_equal(sf_iface_create(kv, &spec, &g), -EADDRINUSE);
	}

	/* deleting a network's interfaces empties its list */
	assert_int_equal(sf_iface_delete(kv, b->uuid, 300), 0);
	assert_int_equal(sf_iface_get(kv, "8d8c2a0e-0000-4000-8000-000000000000", &g), -ENOENT);
	assert_int_equal(sf_iface_delete(kv, "8d8c2a0e-0000-4000-8000-000000000000", 300), -ENOENT);
	sf_iface_free(a);
	sf_iface_free(b);
	sf_network_free(n);
}

/* ---- nodes ---- */

static void test_nodes(void **state)
{
	json_t *list, *node;

	(void)state;
	assert_int_equal(sf_node_heartbeat(kv, "nn1", "networknode", "198.18.0.2", "1.0", 60), 0);
	assert_int_equal(sf_node_heartbeat(kv, "hv1", "hypervisor", "198.18.0.3", "1.0", 1), 0);
	assert_int_equal(sf_node_heartbeat(kv, "hv1", "hypervisor", "198.18.0.3", "1.1", 1), 0);
	assert_int_equal(sf_node_heartbeat(kv, "", "x", NULL, NULL, 10), -EINVAL);

	assert_int_equal(sf_node_list(kv, &list), 0);
	assert_int_equal(json_array_size(list), 2);
	node = json_array_get(list, 0); /* by name */
	assert_string_equal(jstr(node, "name"), "hv1");
	assert_string_equal(jstr(node, "version"), "1.1");
	assert_string_equal(jstr(node, "state"), "up");
	assert_string_equal(jstr(json_array_get(list, 1), "role"), "networknode");
	assert_string_equal(jstr(json_array_get(list, 1), "mesh_ip"), "198.18.0.2");
	assert_true(json_real_value(json_object_get(node, "last_seen")) > 1e9);
	json_decref(list);

	(void)sf_sleep_ms(1500); /* hv1's heartbeat expires */
	assert_int_equal(sf_node_list(kv, &list), 0);
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(jstr(json_array_get(list, 0), "state"), "missing");
	assert_string_equal(jstr(json_array_get(list, 1), "state"), "up");
	json_decref(list);

	assert_int_equal(sf_node_get(kv, "hv1", &node), 0);
	assert_string_equal(jstr(node, "state"), "missing");
	json_decref(node);
	assert_int_equal(sf_node_heartbeat(kv, "hv1", "hypervisor", "198.18.0.3", "1.1", 30), 0);
	assert_int_equal(sf_node_get(kv, "hv1", &node), 0);
	assert_string_equal(jstr(node, "state"), "up");
	json_decref(node);
	assert_int_equal(sf_node_get(kv, "nope", &node), -ENOENT);
}

/* ---- undo: a step that fails after claims were made leaves nothing behind ---- */

static size_t count_keys(const char *pattern)
{
	char *p = sf_kv_key(kv, "%s", pattern);
	struct sf_kv_reply *reply;
	size_t n;

	assert_int_equal(sf_kv_cmd(kv, &reply, "KEYS", p, NULL), 0);
	n = reply->n;
	sf_kv_reply_free(reply);
	free(p);
	return n;
}

static void test_undo(void **state)
{
	struct sf_network_spec spec = {.namespace = "undo", .netblock = "10.13.0.0/24"};
	struct sf_network *n = make_created_network("10.13.0.0/24"), *m, **v;
	char inst[SF_UUID_STRLEN], *bad;
	struct sf_iface_spec ispec = {.network_uuid = n->uuid,
				      .instance_uuid = inst,
				      .address = "10.13.0.9",
				      .macaddress = "02:cc:00:00:00:01",
				      .order = -1};
	struct sf_iface *i;
	size_t vx, nets, cnt;

	(void)state;
	/* network: the namespace index is not a set, so indexing fails after the vxid claim and
	 * the record were written */
	bad = sf_kv_key(kv, "ns:undo:networks");
	assert_int_equal(sf_kv_set(kv, bad, "not a set", 0, 0), 0);
	vx = count_keys("vxid:*");
	nets = count_keys("network:{*}");
	assert_int_equal(sf_network_create(kv, &spec, &m), -EMEDIUMTYPE);
	assert_int_equal(count_keys("vxid:*"), vx);
	assert_int_equal(count_keys("network:{*}"), nets);
	assert_int_equal(sf_network_list(kv, NULL, true, &v, &cnt), 0);
	assert_int_equal(cnt, nets - 1); /* all but the floating network's record */
	free_networks(v, cnt);
	assert_int_equal(sf_kv_del(kv, bad), 1);
	free(bad);

	/* interface: the instance's list is not a sorted set, so the record step fails after the
	 * MAC and the address were claimed */
	sf_uuid_generate(inst);
	bad = sf_kv_key(kv, "instance:%s:ifaces", inst);
	assert_int_equal(sf_kv_set(kv, bad, "not a zset", 0, 0), 0);
	assert_true(sf_iface_create(kv, &ispec, &i) < 0);
	assert_int_equal(sf_kv_del(kv, bad), 1);
	free(bad);
	i = make_iface(n->uuid, inst, "10.13.0.9", "02:cc:00:00:00:01", -1);
	assert_int_equal(i->order, 0);
	sf_iface_free(i);
	sf_network_free(n);
}

/* ---- concurrency ---- */

#define CONC_NETWORKS 200

struct vxid_worker {
	uint32_t vxid[CONC_NETWORKS];
	char uuid[CONC_NETWORKS][SF_UUID_STRLEN];
	int r;
};

static void *vxid_thread(void *arg)
{
	struct vxid_worker *w = arg;
	struct sf_network_spec spec = {
		.name = "conc", .namespace = "conc", .netblock = "10.11.0.0/29"};
	struct sf_kv *k = NULL;

	w->r = new_kv(&k);
	for (int i = 0; w->r == 0 && i < CONC_NETWORKS; i++) {
		struct sf_network *n;

		w->r = sf_network_create(k, &spec, &n);
		if (w->r == 0) {
			w->vxid[i] = n->vxid;
			memcpy(w->uuid[i], n->uuid, SF_UUID_STRLEN);
			sf_network_free(n);
		}
	}
	if (k)
		sf_kv_free(k);
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void test_concurrent_vxid(void **state)
{
	struct vxid_worker *w = sf_xcalloc(2, sizeof(*w));
	uint32_t all[2 * CONC_NETWORKS];
	pthread_t t[2];

	(void)state;
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, vxid_thread, &w[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(w[0].r, 0);
	assert_int_equal(w[1].r, 0);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < CONC_NETWORKS; j++) {
			char *owner = vxid_owner(w[i].vxid[j]);

			all[i * CONC_NETWORKS + j] = w[i].vxid[j];
			assert_non_null(owner);
			assert_string_equal(owner, w[i].uuid[j]);
			free(owner);
		}
	qsort(all, SF_ARRAY_SIZE(all), sizeof(all[0]), cmp_u32);
	for (size_t i = 1; i < SF_ARRAY_SIZE(all); i++)
		if (all[i] == all[i - 1])
			fail_msg("vxid %u handed out twice", all[i]);
	assert_true(all[0] >= 1);
	free(w);
}

#define CONC_RESERVE 126 /* two threads: 252 of the 253 free addresses of a /24 */
#define CONC_TOTAL ((size_t)2 * CONC_RESERVE)

struct reserve_worker {
	const char *ipam;
	char addr[CONC_RESERVE][16];
	int r;
};

static void *reserve_thread(void *arg)
{
	struct reserve_worker *w = arg;
	struct sf_kv *k = NULL;

	w->r = new_kv(&k);
	for (int i = 0; w->r == 0 && i < CONC_RESERVE; i++)
		w->r = sf_ipam_reserve_random(k, w->ipam, SF_IPAM_INSTANCE, NULL, NULL, w->addr[i]);
	if (k)
		sf_kv_free(k);
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_concurrent_reserve(void **state)
{
	struct sf_network *n = make_created_network("10.12.0.0/24");
	struct reserve_worker *w = sf_xcalloc(2, sizeof(*w));
	char(*all)[16] = sf_xcalloc(CONC_TOTAL, 16), addr[16];
	pthread_t t[2];

	(void)state;
	for (int i = 0; i < 2; i++) {
		w[i].ipam = n->uuid;
		assert_int_equal(pthread_create(&t[i], NULL, reserve_thread, &w[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(w[0].r, 0);
	assert_int_equal(w[1].r, 0);
	memcpy(all, w[0].addr, sizeof(w[0].addr));
	memcpy(all + CONC_RESERVE, w[1].addr, sizeof(w[1].addr));
	qsort(all, CONC_TOTAL, 16, cmp_str);
	for (size_t i = 0; i < CONC_TOTAL; i++) {
		assert_true(in_block("10.12.0.0/24", all[i]));
		if (i > 0 && strcmp(all[i], all[i - 1]) == 0)
			fail_msg("address %s handed out twice", all[i]);
	}
	/* exactly one left */
	assert_int_equal(sf_ipam_reserve_random(kv, n->uuid, SF_IPAM_INSTANCE, NULL, NULL, addr),
			 0);
	assert_null(bsearch(addr, all, CONC_TOTAL, 16, cmp_str));
	assert_int_equal(sf_ipam_reserve_random(kv, n->uuid, SF_IPAM_INSTANCE, NULL, NULL, addr),
			 -ENOSPC);
	free(all);
	free(w);
	sf_network_free(n);
}

/* ---- performance: a /16 with 60,000 reservations ---- */

#define FILL 60000
#define SAMPLES 100

/* Fill an IPAM directly in the documented layout: records in ipam:{U}, bits in ipam:{U}:bits,
 * visiting indexes in a scattered order (odd multiplier mod 2^16). */
static const char fill_lua[] =
	"local recs, bits = KEYS[1], KEYS[2]\n"
	"local base, want, when = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]\n"
	"local n, i = 0, 0\n"
	"while n < want do\n"
	"  local idx = (i * 40503) % 65536\n"
	"  i = i + 1\n"
	"  if redis.call('GETBIT', bits, idx) == 0 then\n"
	"    redis.call('SETBIT', bits, idx, 1)\n"
	"    local a = string.format('%d.%d.%d.%d', math.floor((base + idx) / 16777216) % 256,\n"
	"      math.floor((base + idx) / 65536) % 256, math.floor((base + idx) / 256) % 256,\n"
	"      (base + idx) % 256)\n"
	"    redis.call('HSET', recs, a, '{\"address\":\"' .. a ..\n"
	"      '\",\"type\":\"instance\",\"user\":null,\"when\":' .. when .. "
	"',\"comment\":\"\"}')\n"
	"    n = n + 1\n"
	"  end\n"
	"end\n"
	"return n\n";

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void test_reserve_random_large(void **state)
{
	struct sf_network *n = make_created_network("10.128.0.0/16");
	struct sf_kv_script *fill;
	struct sf_kv_reply *reply;
	struct sf_ipv4_net net;
	unsigned char *used;
	double ms[SAMPLES];
	char *keys[2], base[16], now[32];
	const char *args[3];

	(void)state;
	assert_int_equal(sf_ipv4_net_parse("10.128.0.0/16", 0, &net), 0);
	keys[0] = sf_kv_key(kv, "ipam:{%s}", n->uuid);
	keys[1] = sf_kv_key(kv, "ipam:{%s}:bits", n->uuid);
	(void)snprintf(base, sizeof(base), "%u", net.addr);
	(void)snprintf(now, sizeof(now), "%.6f", sf_now_epoch());
	args[0] = base;
	args[1] = "60000";
	args[2] = now;
	assert_int_equal(sf_kv_script_new(fill_lua, &fill), 0);
	assert_int_equal(sf_kv_script_run(kv, fill, 2, (const char *const *)keys, 3, args, &reply),
			 0);
	assert_int_equal(reply->integer, FILL);
	sf_kv_reply_free(reply);
	sf_kv_script_free(fill);
	assert_int_equal(sf_kv_cmd(kv, &reply, "HLEN", keys[0], NULL), 0);
	assert_int_equal(reply->integer, FILL + 3);
	sf_kv_reply_free(reply);

	/* the used indexes before we start, to check every answer against */
	assert_int_equal(sf_kv_cmd(kv, &reply, "GET", keys[1], NULL), 0);
	assert_int_equal(reply->len, 65536 / 8);
	used = sf_xmalloc(reply->len);
	memcpy(used, reply->str, reply->len);
	sf_kv_reply_free(reply);

	for (int i = 0; i < SAMPLES; i++) {
		char addr[16];
		uint32_t a;
		uint64_t idx;
		double t0 = now_ms();

		assert_int_equal(
			sf_ipam_reserve_random(kv, n->uuid, SF_IPAM_INSTANCE, NULL, NULL, addr), 0);
		ms[i] = now_ms() - t0;
		assert_int_equal(sf_ipv4_parse(addr, &a), 0);
		assert_int_equal(sf_ipv4_net_index(&net, a, &idx), 0);
		if (used[idx / 8] & (0x80 >> (idx % 8)))
			fail_msg("%s was already reserved", addr);
		used[idx / 8] |= (unsigned char)(0x80 >> (idx % 8));
	}
	qsort(ms, SAMPLES, sizeof(ms[0]), cmp_double);
	printf("store: reserve_random in /16 with %d used: median %.3f ms, max %.3f ms\n", FILL,
	       (ms[SAMPLES / 2 - 1] + ms[SAMPLES / 2]) / 2, ms[SAMPLES - 1]);
	free(used);
	free(keys[0]);
	free(keys[1]);
	sf_network_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_network_create_get),
		cmocka_unit_test(test_network_list_find),
		cmocka_unit_test(test_network_states),
		cmocka_unit_test(test_network_metadata_dns),
		cmocka_unit_test(test_network_purge),
		cmocka_unit_test(test_ipam_reserve_release),
		cmocka_unit_test(test_ipam_full),
		cmocka_unit_test(test_ipam_floating),
		cmocka_unit_test(test_ipam_list_user),
		cmocka_unit_test(test_iface_create),
		cmocka_unit_test(test_iface_states_delete),
		cmocka_unit_test(test_nodes),
		cmocka_unit_test(test_undo),
		cmocka_unit_test(test_concurrent_vxid),
		cmocka_unit_test(test_concurrent_reserve),
		cmocka_unit_test(test_reserve_random_large),
	};

	redis_url = getenv("SF_REDIS_URL");
	if (!redis_url || !*redis_url) {
		(void)fprintf(stderr, "SF_REDIS_URL is not set; skipping\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
