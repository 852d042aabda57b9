// SPDX-License-Identifier: Apache-2.0
/*
 * The VXLAN mesh (workers/common/mesh.h): the desired list out of candidates, the plan as a
 * table of desired vs current -> adds and deletes (never this node), the sync against the
 * netops fake (deletes first, partial failures, idempotence), and the events of spec 5.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fakes/mq_fake.h"
#include "../fakes/netops_fake.h"
#include "common/jobloop.h"
#include "common/mesh.h"
#include "sf/envelope.h"
#include "sf/mq.h"

#define SELF "198.18.0.11"
#define NN "198.18.0.2"
#define HV2 "198.18.0.12"
#define HV3 "198.18.0.13"

/* "a,b,c" of a vector ("" when empty). */
static char *joined(char *const *v, size_t n)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	s = calloc(1, len);
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(s, ",");
		strcat(s, v[i]);
	}
	return s;
}

static void assert_strv(char *const *v, size_t n, const char *want)
{
	char *got = joined(v, n);

	assert_string_equal(got, want);
	free(got);
}

/* Split "a,b" into a vector of its n parts ("" gives none). */
static size_t split(const char *s, char **out, size_t max)
{
	char *copy = strdup(s), *save = NULL;
	size_t n = 0;

	for (char *t = strtok_r(copy, ",", &save); t && n < max; t = strtok_r(NULL, ",", &save))
		out[n++] = strdup(t);
	free(copy);
	return n;
}

static void test_desired(void **state)
{
	char *cand[] = {HV3, NN, "", SELF, HV2, NN, HV3};
	char **peers = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(wk_mesh_desired(cand, 7, SELF, &peers, &n), 0);
	assert_int_equal(n, 3);
	assert_strv(peers, n, NN "," HV2 "," HV3); /* sorted, unique, no self, no "" */
	assert_null(peers[n]);
	sf_netops_strv_free(peers);

	/* no self_ip: nothing is excluded; no candidates: an empty (not NULL) vector */
	assert_int_equal(wk_mesh_desired(cand, 7, NULL, &peers, &n), 0);
	assert_strv(peers, n, NN "," SELF "," HV2 "," HV3);
	sf_netops_strv_free(peers);
	assert_int_equal(wk_mesh_desired(NULL, 0, SELF, &peers, &n), 0);
	assert_int_equal(n, 0);
	assert_non_null(peers);
	sf_netops_strv_free(peers);
}

static const struct {
	const char *desired, *current, *add, *del;
} plan_table[] = {
	{"", "", "", ""},
	{NN "," HV2, "", NN "," HV2, ""},		  /* joining: everything is new */
	{NN, NN "," HV2, "", HV2},			  /* hv2 left */
	{NN "," SELF, "", NN, ""},			  /* never ourselves */
	{NN, NN "," SELF, "", SELF},			  /* ourselves is removed when found */
	{NN "," SELF "," HV2, SELF, NN "," HV2, SELF},	  /* both at once */
	{NN "," NN, "", NN, ""},			  /* duplicates collapse */
	{HV2 "," HV3, NN "," HV2, HV3, NN},		  /* one in, one out */
	{NN "," HV2 "," HV3, HV3 "," NN "," HV2, "", ""}, /* equal in another order */
	{"", NN "," HV2, "", NN "," HV2},		  /* last one out */
};

static void test_plan_table(void **state)
{
	(void)state;
	for (size_t t = 0; t < sizeof(plan_table) / sizeof(plan_table[0]); t++) {
		char *desired[8] = {0}, *current[8] = {0};
		size_t nd = split(plan_table[t].desired, desired, 8);
		size_t nc = split(plan_table[t].current, current, 8);
		struct wk_mesh_diff d = {0};
		char *add, *del;

		assert_int_equal(wk_mesh_plan(desired, nd, current, nc, SELF, &d), 0);
		add = joined(d.added, d.n_added);
		del = joined(d.removed, d.n_removed);
		if (strcmp(add, plan_table[t].add) != 0 || strcmp(del, plan_table[t].del) != 0)
			fail_msg("row %zu: desired [%s] current [%s]: add [%s] del [%s], expected "
				 "add [%s] del [%s]",
				 t, plan_table[t].desired, plan_table[t].current, add, del,
				 plan_table[t].add, plan_table[t].del);
		free(add);
		free(del);
		wk_mesh_diff_clear(&d);
		for (size_t i = 0; i < nd; i++)
			free(desired[i]);
		for (size_t i = 0; i < nc; i++)
			free(current[i]);
	}
}

/* A node namespace with mesh0 and vxlan-00002a on it. */
static struct sf_netops *node_with_vxlan(void)
{
	struct sf_netops *ops = sf_netops_fake_new();

	assert_int_equal(sf_netops_fake_add_nic(ops, "mesh0", 9000), 0);
	assert_int_equal(
		sf_netops_link_add_vxlan(ops, &(struct sf_vxlan_spec){.name = "vxlan-00002a",
								      .vni = 42,
								      .dev = "mesh0",
								      .mtu = 1450}),
		0);
	return ops;
}

static void assert_calls(struct sf_netops *ops, const char *want)
{
	char *got = sf_netops_fake_calls(ops);

	assert_string_equal(got, want);
	free(got);
	sf_netops_fake_clear_calls(ops);
}

static void assert_flood(struct sf_netops *ops, const char *want)
{
	char **ips = NULL;
	size_t n = 0;

	assert_int_equal(sf_netops_fdb_flood_list(ops, "vxlan-00002a", &ips, &n), 0);
	assert_strv(ips, n, want);
	sf_netops_strv_free(ips);
}

static void test_sync(void **state)
{
	struct sf_netops *ops = node_with_vxlan();
	char *desired[] = {NN, HV2, SELF};
	struct wk_mesh_diff d = {0};

	(void)state;
	assert_int_equal(sf_netops_fdb_flood_add(ops, "vxlan-00002a", HV3), 0);
	assert_int_equal(sf_netops_fdb_flood_add(ops, "vxlan-00002a", SELF), 0);
	sf_netops_fake_clear_calls(ops);

	assert_int_equal(wk_mesh_sync(ops, "vxlan-00002a", desired, 3, SELF, &d), 0);
	/* the extras go first, then the missing are appended; never ourselves */
	assert_calls(ops, "fdb_flood_del vxlan-00002a " SELF "\n"
			  "fdb_flood_del vxlan-00002a " HV3 "\n"
			  "fdb_flood_add vxlan-00002a " NN "\n"
			  "fdb_flood_add vxlan-00002a " HV2 "\n");
	assert_strv(d.added, d.n_added, NN "," HV2);
	assert_strv(d.removed, d.n_removed, SELF "," HV3);
	assert_flood(ops, NN "," HV2);

	/* again: nothing to do, and the diff is emptied */
	assert_int_equal(wk_mesh_sync(ops, "vxlan-00002a", desired, 3, SELF, &d), 0);
	assert_int_equal(sf_netops_fake_n_calls(ops), 0);
	assert_int_equal(d.n_added + d.n_removed, 0);
	wk_mesh_diff_clear(&d);
	sf_netops_free(ops);
}

static void test_sync_partial_failure(void **state)
{
	struct sf_netops *ops = node_with_vxlan();
	char *desired[] = {NN, HV2};
	struct wk_mesh_diff d = {0};

	(void)state;
	sf_netops_fake_clear_calls(ops);
	sf_netops_fake_fail_next(ops, "fdb_flood_add", -ENOBUFS);
	/* the first add fails, the second still happens; the diff says what was done */
	assert_int_equal(wk_mesh_sync(ops, "vxlan-00002a", desired, 2, SELF, &d), -ENOBUFS);
	assert_strv(d.added, d.n_added, HV2);
	assert_int_equal(d.n_removed, 0);
	assert_flood(ops, HV2);
	/* the next sync repairs it */
	assert_int_equal(wk_mesh_sync(ops, "vxlan-00002a", desired, 2, SELF, &d), 0);
	assert_strv(d.added, d.n_added, NN);
	assert_flood(ops, HV2 "," NN); /* kernel order: appended */
	wk_mesh_diff_clear(&d);

	/* no such device: nothing happens */
	sf_netops_fake_clear_calls(ops);
	assert_int_equal(wk_mesh_sync(ops, "vxlan-00002b", desired, 2, SELF, &d), -ENODEV);
	assert_int_equal(sf_netops_fake_n_calls(ops), 0);
	wk_mesh_diff_clear(&d);
	sf_netops_free(ops);
}

/* The events of spec 5 on sf.events, in order: one per element, then the summaries. */
static void test_report(void **state)
{
	struct sf_envelope_schemas *schemas = NULL;
	struct sf_diag diag = {0};
	struct sf_mq *mq = sf_mq_fake_new();
	struct wk_ctx ctx = {.mq = mq, .node = "hv1"};
	char *added[] = {NN, HV2, NULL}, *removed[] = {HV3, NULL};
	struct wk_mesh_diff d = {.added = added, .n_added = 2, .removed = removed, .n_removed = 1};
	static const char *const want[][2] = {
		{"added new mesh element", "{\"ip\": \"" NN "\"}"},
		{"added new mesh element", "{\"ip\": \"" HV2 "\"}"},
		{"removed excess mesh element", "{\"ip\": \"" HV3 "\"}"},
		{"add mesh elements", "{\"added\": [\"" NN "\", \"" HV2 "\"]}"},
		{"remove mesh elements", "{\"removed\": [\"" HV3 "\"]}"},
	};
	const char *uuid = "6f1c1f2e-3b1a-4c2d-9e8f-0a1b2c3d4e5f";

	(void)state;
	assert_int_equal(sf_envelope_schemas_load(NULL, &schemas, &diag), 0);
	ctx.schemas = schemas;
	assert_int_equal(sf_mq_declare_topology(mq, NULL, 0), 0);
	wk_mesh_report(&ctx, uuid, &d);
	assert_int_equal(sf_mq_fake_n_published(mq), 5);
	for (size_t i = 0; i < 5; i++) {
		const struct sf_mq_fake_msg *m = sf_mq_fake_published(mq, i);
		struct sf_event *ev = NULL;
		json_t *extra = NULL;
		char key[128];

		assert_int_equal(sf_event_parse(schemas, m->body, m->len, &ev, &diag), 0);
		assert_string_equal(ev->message, want[i][0]);
		assert_int_equal(ev->type, SF_EVENT_MUTATE);
		assert_int_equal(ev->object_type, SF_OBJECT_NETWORK);
		assert_string_equal(ev->object_uuid, uuid);
		extra = json_loads(want[i][1], 0, NULL);
		assert_true(json_equal(ev->extra, extra));
		snprintf(key, sizeof(key), "network.%s.mutate", uuid);
		assert_string_equal(m->routing_key, key);
		json_decref(extra);
		sf_event_free(ev);
	}

	/* an empty diff says nothing */
	wk_mesh_report(&ctx, uuid, &(struct wk_mesh_diff){0});
	assert_int_equal(sf_mq_fake_n_published(mq), 5);
	sf_mq_free(mq);
	sf_envelope_schemas_free(schemas);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_desired), cmocka_unit_test(test_plan_table),
		cmocka_unit_test(test_sync),	cmocka_unit_test(test_sync_partial_failure),
		cmocka_unit_test(test_report),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
