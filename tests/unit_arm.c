/*
 * unit_arm.c - the ARM client's pure parts, without a network: the JSON
 * model against every response shape of the public API examples (copied
 * under fixtures/arm), request bodies, hostile input, ids, names,
 * percent-encoding, the errno table and the retry arithmetic.
 */
#include "config.h"

#include <errno.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arm.h"
#include "armjson.h"
#include "http.h"
#include "unit.h"
#include "url.h"

/* A failed check with a message. */
static void check_fail(const char *what)
{
	fprintf(stderr, "check failed: %s\n", what);
	failures++;
}

/* The restorepoint.json view of p (valid until the next call), checked
 * against json-c's own pretty print of the kept compact JSON and against
 * the length given at parse time. */
static char *last_view;
static const char *view_of(const struct arm_rp *p)
{
	json_object *o;
	const char *pretty;

	free(last_view);
	last_view = NULL;
	if (arm_rp_json(p, &last_view) != 0 || !last_view) {
		check_fail("arm_rp_json");
		return "";
	}
	if (strlen(last_view) != p->json_len)
		check_fail("restorepoint.json length differs from json_len");
	o = p->cjson ? json_tokener_parse(p->cjson) : NULL;
	pretty = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_SPACED |
							   JSON_C_TO_STRING_NOSLASHESCAPE)
		   : NULL;
	if (!pretty || strncmp(pretty, last_view, strlen(pretty)) ||
	    strcmp(last_view + strlen(pretty), "\n"))
		check_fail("restorepoint.json is not json-c's pretty print");
	json_object_put(o);
	return last_view;
}

/* Read a fixture into memory. */
static char *fixture(const char *name, size_t *len)
{
	const char *dir = getenv("TESTS_SRCDIR");
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/fixtures/arm/%s", dir ? dir : ".", name);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		exit(1);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* The collection examples: create, cross-region copy, get, update. */
static void test_collections(void)
{
	static const char *const ok[] = {
		"RestorePointCollection_CreateOrUpdate.200.json",
		"RestorePointCollection_CreateOrUpdate.201.json",
		"RestorePointCollection_CreateOrUpdate_ForCrossRegionCopy.200.json",
		"RestorePointCollection_CreateOrUpdate_ForCrossRegionCopy.201.json",
		"RestorePointCollection_Get.200.json",
		"RestorePointCollection_Update_MaximumSet_Gen.200.json",
	};
	struct arm_rpc rpc;
	size_t i, len;
	char *b;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		b = fixture(ok[i], &len);
		CHECK(armj_parse_rpc(b, len, &rpc) == 0);
		CHECK(rpc.id && rpc.name && rpc.rg && rpc.location && rpc.json);
		CHECK(rpc.json && rpc.json[strlen(rpc.json) - 1] == '\n');
		CHECK(rpc.json && !strstr(rpc.json, "\"restorePoints\""));
		arm_rpc_clear(&rpc);
		free(b);
	}

	b = fixture("RestorePointCollection_CreateOrUpdate_ForCrossRegionCopy.201.json", &len);
	CHECK(armj_parse_rpc(b, len, &rpc) == 0);
	CHECK_STR(rpc.name, "myRpc");
	CHECK_STR(rpc.rg, "myResourceGroup");
	CHECK_STR(rpc.location, "norwayeast");
	CHECK_STR(rpc.source_location, "eastus");
	CHECK_STR(rpc.state, "Succeeded");
	CHECK(rpc.ntags == 1);
	CHECK_STR(rpc.tags[0].key, "myTag1");
	CHECK_STR(rpc.tags[0].value, "tagValue1");
	CHECK(!rpc.has_points && rpc.npoints == 0);
	arm_rpc_clear(&rpc);
	free(b);

	/* The machine-generated minimum example has no id: refused, no crash. */
	b = fixture("RestorePointCollection_Update_MinimumSet_Gen.200.json", &len);
	CHECK(armj_parse_rpc(b, len, &rpc) == -EIO);
	free(b);

	/* With its points: two disks, OS first. */
	b = fixture("RestorePointCollection_Get_WithContainedRestorePoints.200.json", &len);
	CHECK(armj_parse_rpc(b, len, &rpc) == 0);
	CHECK(rpc.has_points && rpc.npoints == 1);
	CHECK_STR(rpc.source_id, "/subscriptions/{subscription-id}/resourceGroups/myResourceGroup/providers/Microsoft.Compute/virtualMachines/myVM");
	CHECK(!strstr(rpc.json, "restorePoints\""));
	CHECK(strstr(rpc.json, "\"restorePointCollectionId\": \"59f04a5d-f783-4200-a1bd-d3f464e8c4b4\""));
	if (rpc.npoints == 1) {
		struct arm_rp *p = &rpc.points[0];
		CHECK_STR(p->name, "restorePointName");
		CHECK_STR(p->state, "Succeeded");
		CHECK_STR(p->consistency, "ApplicationConsistent");
		CHECK_STR(p->time_created, "2021-01-27T20:35:05.8401519+00:00");
		CHECK_STR(p->source_location, "westus");
		CHECK(p->ndisks == 2);
		if (p->ndisks == 2) {
			CHECK(p->disks[0].lun == -1);
			CHECK_STR(p->disks[0].name, "testingexcludedisk_OsDisk_1_74cdaedcea50483d9833c96adefa100f");
			CHECK_STR(p->disks[0].caching, "ReadWrite");
			CHECK_STR(p->disks[0].storage_type, "Standard_LRS");
			CHECK(p->disks[0].size_gb == -1);
			CHECK(p->disks[1].lun == 1);
			CHECK_STR(p->disks[1].name, "testingexcludedisk_DataDisk_1");
			CHECK(strstr(p->disks[1].json, "\"lun\": 1"));
			CHECK(strstr(p->disks[0].json, "\"lun\": null"));
			CHECK(strstr(p->disks[1].json, "\"diskRestorePointId\": \"/subscriptions/"));
		}
		CHECK(view_of(p) && strstr(view_of(p), "\"sourceMetadata\""));
	}
	arm_rpc_clear(&rpc);
	free(b);

	/* The generated maximum example: encryption type, sizes. */
	b = fixture("RestorePointCollection_Update_MaximumSet_Gen.200.json", &len);
	CHECK(armj_parse_rpc(b, len, &rpc) == 0);
	CHECK(rpc.npoints == 1);
	if (rpc.npoints == 1 && rpc.points[0].ndisks >= 2)
		CHECK(rpc.points[0].disks[1].size_gb == 24);
	arm_rpc_clear(&rpc);
	free(b);
}

/* The restore point examples. */
static void test_points(void)
{
	static const char *const ok[] = {
		"RestorePoint_Copy_BetweenRegions.201.json",
		"RestorePoint_Create.201.json",
		"RestorePoint_Get.200.json",
		"RestorePoint_Get_WithInstanceView.200.json",
	};
	struct arm_rp rp;
	size_t i, len;
	char *b;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		b = fixture(ok[i], &len);
		CHECK(armj_parse_rp(b, len, &rp) == 0);
		CHECK(rp.id && rp.name && view_of(&rp) && rp.ndisks >= 1);
		CHECK(view_of(&rp) && !strstr(view_of(&rp), "instanceView"));
		arm_rp_clear(&rp);
		free(b);
	}

	b = fixture("RestorePoint_Copy_BetweenRegions.201.json", &len);
	CHECK(armj_parse_rp(b, len, &rp) == 0);
	CHECK_STR(rp.source_rp_id, "/subscriptions/{subscription-id}/resourceGroups/myResourceGroup/providers/Microsoft.Compute/restorePointCollections/sourceRpcName/restorePoints/sourceRpName");
	CHECK(rp.ndisks >= 1);
	if (rp.ndisks >= 1)
		CHECK_STR(rp.disks[0].name, "osDisk123");
	arm_rp_clear(&rp);
	free(b);

	b = fixture("RestorePoint_Get_WithInstanceView.200.json", &len);
	CHECK(armj_parse_rp(b, len, &rp) == 0);
	CHECK(rp.has_instance_view);
	CHECK(rp.nprogress == 2);
	if (rp.nprogress == 2) {
		CHECK_STR(rp.progress[0].name, "testingexcludedisk_OsDisk_1_74cdaedcea50483d9833c96adefa100f");
		CHECK_STR(rp.progress[1].name, "testingexcludedisk_DataDisk_1");
		CHECK(rp.progress[0].percent == 100 && rp.progress[1].percent == 100);
		CHECK_STR(rp.progress[0].status, "Succeeded");
	}
	CHECK(!strstr(view_of(&rp), "instanceView"));
	CHECK(strstr(view_of(&rp), "\"instantAccessDurationMinutes\": 120"));
	arm_rp_clear(&rp);
	free(b);

	/* Stable output: the same body gives the same bytes. */
	b = fixture("RestorePoint_Get.200.json", &len);
	{
		struct arm_rp a2;
		CHECK(armj_parse_rp(b, len, &rp) == 0);
		CHECK(armj_parse_rp(b, len, &a2) == 0);
		CHECK(rp.cjson && a2.cjson && !strcmp(rp.cjson, a2.cjson));
		CHECK(strstr(view_of(&rp), "/subscriptions/{subscription-id}/")); /* no "\/" escapes */
		arm_rp_clear(&a2);
		arm_rp_clear(&rp);
	}
	free(b);
}

/* Instance view progress: status from code when displayStatus is absent. */
static void test_progress(void)
{
	const char *b =
		"{\"id\":\"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/c/restorePoints/p\","
		"\"name\":\"p\",\"properties\":{\"instanceView\":{\"diskRestorePoints\":["
		"{\"id\":\"/x/diskRestorePoints/os_disk_0b0b4ad8-0c0f-4c17-9e5b-d4dd8b6b5e5c\","
		"\"replicationStatus\":{\"status\":{\"code\":\"ReplicationState/inProgress\"},\"completionPercent\":42}},"
		"{\"id\":\"/x/diskRestorePoints/data_no_guid\",\"replicationStatus\":{\"completionPercent\":250}}]}}}";
	struct arm_rp rp;
	char *n;

	CHECK(armj_parse_rp(b, strlen(b), &rp) == 0);
	CHECK(rp.nprogress == 2);
	if (rp.nprogress == 2) {
		CHECK_STR(rp.progress[0].name, "os_disk");
		CHECK_STR(rp.progress[0].status, "InProgress");
		CHECK(rp.progress[0].percent == 42);
		CHECK_STR(rp.progress[1].name, "data_no_guid");
		CHECK(rp.progress[1].percent == 100);
	}
	arm_rp_clear(&rp);
	n = armj_disk_name_from_drp_id("a/b/disk_1_22b4bdfe-6c54-4f72-84d8-85d8860f0c57");
	CHECK_STR(n, "disk_1");
	free(n);
	n = armj_disk_name_from_drp_id("plain");
	CHECK_STR(n, "plain");
	free(n);
}

/* List pages, locations, names. */
static void test_lists(void)
{
	struct arm_rpc **v = NULL;
	struct arm_location *loc = NULL;
	char **names = NULL, *next = NULL;
	size_t n = 0, cap = 0, len;
	char *b;

	b = fixture("RestorePointCollection_ListBySubscription.200.json", &len);
	CHECK(armj_parse_rpc_page(b, len, &v, &n, &cap, &next) == 0);
	CHECK(n == 2 && next == NULL);
	free(b);
	b = fixture("RestorePointCollection_ListByResourceGroup.200.json", &len);
	CHECK(armj_parse_rpc_page(b, len, &v, &n, &cap, &next) == 0);
	CHECK(n == 4 && next == NULL);
	free(b);
	b = fixture("page_next.json", &len);
	CHECK(armj_parse_rpc_page(b, len, &v, &n, &cap, &next) == 0);
	CHECK(n == 4 && next && strstr(next, "$skipToken=abc"));
	free(next);
	free(b);
	/* A bad element leaves the array as it was. */
	b = "{\"value\":[{\"id\":\"/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/restorePointCollections/a\",\"name\":\"a\",\"location\":\"x\"},{\"id\":5}]}";
	CHECK(armj_parse_rpc_page(b, strlen(b), &v, &n, &cap, &next) == -EIO);
	CHECK(n == 4 && next == NULL);
	/* One whose location cannot be a file name is left out, not the page. */
	b = "{\"value\":[{\"id\":\"/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/restorePointCollections/a\",\"name\":\"a\",\"location\":\"x\"},{\"id\":\"/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/restorePointCollections/b\",\"name\":\"b\",\"location\":\"x/y\"}]}";
	CHECK(armj_parse_rpc_page(b, strlen(b), &v, &n, &cap, &next) == 0);
	CHECK(n == 5 && next == NULL && !strcmp(v[4]->name, "a"));
	CHECK(armj_parse_rpc_page("{\"value\":{}}", 12, &v, &n, &cap, &next) == -EIO);
	CHECK(armj_parse_rpc_page("{\"value\":[],\"nextLink\":7}", 25, &v, &n, &cap, &next) == -EIO);
	CHECK(armj_parse_rpc_page("{\"value\":[],\"nextLink\":null}", 28, &v, &n, &cap, &next) == 0 && !next);
	arm_rpc_array_free(v, n);

	n = cap = 0;
	b = fixture("locations.json", &len);
	CHECK(armj_parse_locations_page(b, len, &loc, &n, &cap, &next) == 0);
	CHECK(n == 3);
	if (n == 3) {
		CHECK_STR(loc[0].name, "eastus");
		CHECK_STR(loc[0].display_name, "East US");
		CHECK_STR(loc[1].name, "westus");
		CHECK_STR(loc[2].name, "norwayeast");
		CHECK(loc[2].display_name == NULL);
	}
	arm_locations_free(loc, n);
	free(b);

	n = cap = 0;
	b = "{\"value\":[{\"subscriptionId\":\"a\"},{\"subscriptionId\":\"b\"}],\"nextLink\":\"http://h/x\"}";
	CHECK(armj_parse_names_page(b, strlen(b), "subscriptionId", &names, &n, &cap, &next) == 0);
	CHECK(n == 2 && next);
	free(next);
	arm_strings_free(names, n);
}

/* Errors, operation status, tokens. */
static void test_small_docs(void)
{
	char code[64], msg[256], *st = NULL, *tok = NULL, *tenant = NULL;
	time_t exp;
	size_t len;
	char *b;

	b = fixture("cloud_error.json", &len);
	CHECK(armj_parse_cloud_error(b, len, code, sizeof(code), msg, sizeof(msg)) == 0);
	CHECK_STR(code, "ResourceNotFound");
	CHECK(!strncmp(msg, "The Resource", 12));
	free(b);
	b = fixture("throttle_error.json", &len);
	CHECK(armj_parse_cloud_error(b, len, code, sizeof(code), msg, sizeof(msg)) == 0);
	CHECK_STR(code, "OperationNotAllowed");
	free(b);
	b = fixture("oauth_error.json", &len);
	CHECK(armj_parse_cloud_error(b, len, code, sizeof(code), msg, sizeof(msg)) == 0);
	CHECK_STR(code, "invalid_client");
	free(b);
	CHECK(armj_parse_cloud_error("<html>", 6, code, sizeof(code), msg, sizeof(msg)) == -EIO);

	b = fixture("op_inprogress.json", &len);
	CHECK(armj_parse_op_status(b, len, &st, code, sizeof(code), msg, sizeof(msg)) == 0);
	CHECK_STR(st, "InProgress");
	free(st);
	free(b);
	b = fixture("op_failed.json", &len);
	CHECK(armj_parse_op_status(b, len, &st, code, sizeof(code), msg, sizeof(msg)) == 0);
	CHECK_STR(st, "Failed");
	CHECK_STR(code, "VMRestorePointClientError");
	free(st);
	free(b);
	CHECK(armj_parse_op_status("{\"status\":1}", 12, &st, code, sizeof(code), msg, sizeof(msg)) == -EIO);

	b = fixture("token_entra.json", &len);
	CHECK(armj_parse_token(b, len, &tok, &exp, &tenant) == 0);
	CHECK(tok && !strncmp(tok, "eyJ", 3));
	CHECK(exp > time(NULL) + 3500 && exp <= time(NULL) + 3600);
	CHECK(tenant == NULL);
	{
		char *tid = armj_jwt_tenant(tok);
		CHECK_STR(tid, "72f988bf-86f1-41af-91ab-2d7cd011db47");
		free(tid);
	}
	free(tok);
	free(b);
	b = fixture("token_imds.json", &len);
	CHECK(armj_parse_token(b, len, &tok, &exp, &tenant) == 0);
	CHECK_STR(tok, "imds-token-value");
	CHECK(exp == 1506484173);
	free(tok);
	free(b);
	b = fixture("token_az.json", &len);
	CHECK(armj_parse_token(b, len, &tok, &exp, &tenant) == 0);
	CHECK_STR(tok, "az-token-value");
	CHECK(exp == 1795000000);
	CHECK_STR(tenant, "72f988bf-86f1-41af-91ab-2d7cd011db47");
	free(tok);
	free(tenant);
	free(b);
	CHECK(armj_parse_token("{\"access_token\":\"\"}", 19, &tok, &exp, NULL) == -EIO);
	CHECK(armj_parse_token("{\"access_token\":3}", 18, &tok, &exp, NULL) == -EIO);
}

/* Hostile and broken input never crashes and gives -EIO. */
static void test_hostile(void)
{
	static const char *const bad[] = {
		"", "{", "null", "[]", "42", "{\"id\":5,\"name\":\"x\"}", "{\"name\":\"x\"}",
		"{\"id\":\"/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/restorePointCollections/c\",\"name\":\"c\"}",
		"{\"id\":\"/not/an/id\",\"name\":\"c\",\"location\":\"x\"}",
		"{\"id\":\"/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/restorePointCollections/c\",\"name\":\"c\",\"location\":\"x\",\"properties\":{\"restorePoints\":{}}}",
		"{\"id\":\"/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/restorePointCollections/c\",\"name\":\"c\",\"location\":\"x\",\"properties\":{\"restorePoints\":[{\"id\":\"i\"}]}}",
		"{\"id\":\"/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/restorePointCollections/c\",\"name\":\"c\",\"location\":\"x\"} trailing",
	};
	struct arm_rpc rpc;
	struct arm_rp rp;
	size_t i, depth = 100000;
	char *deep;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(armj_parse_rpc(bad[i], strlen(bad[i]), &rpc) == -EIO);
	/* A point whose name cannot be a file name is left out, not the collection. */
	{
		const char *b = "{\"id\":\"/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/restorePointCollections/c\",\"name\":\"c\",\"location\":\"x\",\"properties\":{\"restorePoints\":[{\"id\":\"i\",\"name\":\"..\"}]}}";
		CHECK(armj_parse_rpc(b, strlen(b), &rpc) == 0 && rpc.npoints == 0);
		arm_rpc_clear(&rpc);
	}
	CHECK(armj_parse_rp("{\"id\":\"a\"}", 10, &rp) == -EIO);
	{
		const char *b = "{\"id\":\"a\",\"name\":\"b\",\"properties\":{\"sourceMetadata\":{\"storageProfile\":{\"dataDisks\":[1]}}}}";
		CHECK(armj_parse_rp(b, strlen(b), &rp) == -EIO);
	}
	/* Wrongly typed optional fields are ignored. */
	{
		const char *b = "{\"id\":\"a\",\"name\":\"b\",\"properties\":{\"provisioningState\":7,\"timeCreated\":[],"
				"\"sourceMetadata\":{\"storageProfile\":{\"osDisk\":{\"diskSizeGB\":\"x\",\"name\":9}}}}}";
		CHECK(armj_parse_rp(b, strlen(b), &rp) == 0);
		CHECK(rp.state == NULL && rp.ndisks == 1);
		if (rp.ndisks == 1)
			CHECK_STR(rp.disks[0].name, "osdisk");
		arm_rp_clear(&rp);
	}
	deep = malloc(depth * 2 + 1);
	for (i = 0; i < depth; i++) {
		deep[i] = '[';
		deep[depth + i] = ']';
	}
	deep[depth * 2] = '\0';
	CHECK(armj_parse_rpc(deep, depth * 2, &rpc) == -EIO);
	free(deep);
	/* A body with a NUL inside. */
	CHECK(armj_parse_rpc("{\"a\":1}\0{}", 10, &rpc) == -EIO);
}

/* Our request bodies equal the examples' request bodies and round-trip. */
static void test_bodies(void)
{
	struct arm_tag tags[] = { { "myTag1", "tagValue1" } };
	struct arm_tag odd[] = { { "k \"q\"", "v/é\\\n" }, { "empty", "" } };
	json_object *ours, *theirs, *props, *v;
	size_t len;
	char *b, *mine;

	/* Collection PUT: the example also sends instantAccess, which rpfs does not. */
	b = fixture("RestorePointCollection_CreateOrUpdate.req.json", &len);
	theirs = json_tokener_parse(b);
	json_object_object_get_ex(theirs, "properties", &props);
	json_object_object_del(props, "instantAccess");
	mine = arm_body_put_collection("norwayeast",
				       "/subscriptions/{subscription-id}/resourceGroups/myResourceGroup/providers/Microsoft.Compute/virtualMachines/myVM",
				       tags, 1);
	ours = json_tokener_parse(mine);
	CHECK(ours && json_object_equal(ours, theirs));
	CHECK(!strstr(mine, "\\/"));
	json_object_put(ours);
	json_object_put(theirs);
	free(mine);
	free(b);

	b = fixture("RestorePointCollection_CreateOrUpdate_ForCrossRegionCopy.req.json", &len);
	theirs = json_tokener_parse(b);
	json_object_object_get_ex(theirs, "tags", &v);
	CHECK(v != NULL);
	mine = arm_body_put_collection("norwayeast",
				       "/subscriptions/{subscription-id}/resourceGroups/myResourceGroup/providers/Microsoft.Compute/restorePointCollections/sourceRpcName",
				       tags, 1);
	ours = json_tokener_parse(mine);
	CHECK(ours && json_object_equal(ours, theirs));
	json_object_put(ours);
	json_object_put(theirs);
	free(mine);
	free(b);

	b = fixture("RestorePoint_Copy_BetweenRegions.req.json", &len);
	theirs = json_tokener_parse(b);
	mine = arm_body_put_rp("/subscriptions/{subscription-id}/resourceGroups/myResourceGroup/providers/Microsoft.Compute/restorePointCollections/sourceRpcName/restorePoints/sourceRpName", NULL);
	ours = json_tokener_parse(mine);
	CHECK(ours && json_object_equal(ours, theirs));
	json_object_put(ours);
	json_object_put(theirs);
	free(mine);
	free(b);

	mine = arm_body_put_rp(NULL, NULL);
	CHECK_STR(mine, "{\"properties\":{}}");
	free(mine);
	mine = arm_body_put_rp(NULL, "CrashConsistent");
	CHECK_STR(mine, "{\"properties\":{\"consistencyMode\":\"CrashConsistent\"}}");
	free(mine);

	/* PATCH: tags only; the example's tags part matches. */
	b = fixture("RestorePointCollection_Update_MaximumSet_Gen.req.json", &len);
	theirs = json_tokener_parse(b);
	{
		struct arm_tag t2[] = { { "key8536", "aaaaaaaaaaaaaaaaaaa" } };
		json_object *tt;
		mine = arm_body_patch_tags(t2, 1);
		ours = json_tokener_parse(mine);
		json_object_object_get_ex(theirs, "tags", &tt);
		json_object_object_get_ex(ours, "tags", &v);
		CHECK(v && tt && json_object_equal(v, tt));
		json_object_put(ours);
		free(mine);
	}
	json_object_put(theirs);
	free(b);
	mine = arm_body_patch_tags(NULL, 0);
	CHECK_STR(mine, "{\"tags\":{}}");
	free(mine);

	/* Round trip of awkward tags through our own parser. */
	mine = arm_body_put_collection("eastus", "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/vm", odd, 2);
	{
		/* Make it an answer: add id and name, then parse it as a collection. */
		json_object *o = json_tokener_parse(mine);
		struct arm_rpc rpc;
		const char *s;
		json_object_object_add(o, "id", json_object_new_string("/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/restorePointCollections/c"));
		json_object_object_add(o, "name", json_object_new_string("c"));
		s = json_object_to_json_string(o);
		CHECK(armj_parse_rpc(s, strlen(s), &rpc) == 0);
		CHECK(rpc.ntags == 2);
		if (rpc.ntags == 2) {
			CHECK_STR(rpc.tags[0].key, "k \"q\"");
			CHECK_STR(rpc.tags[0].value, "v/é\\\n");
			CHECK_STR(rpc.tags[1].value, "");
		}
		CHECK_STR(rpc.source_id, "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/vm");
		arm_rpc_clear(&rpc);
		json_object_put(o);
	}
	free(mine);
}

/* Ids, names and percent-encoding. */
static void test_ids_names(void)
{
	struct arm_id *id;
	char *p;

	CHECK(arm_id_parse("/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/restorePointCollections/C", &id) == 0);
	CHECK_STR(id->sub, "S");
	CHECK_STR(id->rg, "RG");
	CHECK_STR(id->rpc, "C");
	CHECK(id->rp == NULL && id->vm == NULL);
	free(id);
	CHECK(arm_id_parse("/SUBSCRIPTIONS/S/resourcegroups/RG/PROVIDERS/microsoft.compute/RESTOREPOINTCOLLECTIONS/C/restorepoints/P", &id) == 0);
	CHECK_STR(id->rp, "P");
	free(id);
	CHECK(arm_id_parse("/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/vm1", &id) == 0);
	CHECK_STR(id->vm, "vm1");
	CHECK(id->rpc == NULL);
	free(id);
	CHECK(arm_id_parse("subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/restorePointCollections/C", &id) == 0);
	free(id);
	CHECK(arm_id_parse("/subscriptions/S/resourceGroups/RG", &id) == -EINVAL);
	CHECK(arm_id_parse("/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/disks/d", &id) == -EINVAL);
	CHECK(arm_id_parse("/subscriptions//resourceGroups/RG/providers/Microsoft.Compute/restorePointCollections/C", &id) == -EINVAL);
	CHECK(arm_id_parse("", &id) == -EINVAL);

	CHECK(arm_name_check("web01-rpc") == 0);
	CHECK(arm_name_check("with space") == 0);
	CHECK(arm_name_check("hash#name") == 0);
	CHECK(arm_name_check("ünïcødé-名前") == 0);
	CHECK(arm_name_check("") == -EINVAL);
	CHECK(arm_name_check("a?b") == -EINVAL);
	CHECK(arm_name_check("a/b") == -EINVAL);
	CHECK(arm_name_check("a%b") == -EINVAL);
	CHECK(arm_name_check("a<b") == -EINVAL);
	CHECK(arm_name_check("a>b") == -EINVAL);
	CHECK(arm_name_check("a&b") == -EINVAL);
	CHECK(arm_name_check("a:b") == -EINVAL);
	CHECK(arm_name_check("a\\b") == -EINVAL);
	CHECK(arm_name_check("a\tb") == -EINVAL);
	CHECK(arm_name_check("a\x7f") == -EINVAL);
	CHECK(arm_name_check("dot.") == -EINVAL);
	CHECK(arm_name_check("space ") == -EINVAL);
	{
		char n[300];
		memset(n, 'a', 260);
		n[260] = '\0';
		CHECK(arm_name_check(n) == 0);
		n[260] = 'a';
		n[261] = '\0';
		CHECK(arm_name_check(n) == -EINVAL);
		/* 260 two-byte characters are 260 characters. */
		for (int i = 0; i < 130; i++)
			memcpy(n + i * 2, "\xc3\xa9", 2);
		n[260] = '\0';
		CHECK(arm_name_check(n) == 0);
	}
	CHECK(arm_rg_name_check("my-RG_1.(x)") == 0);
	CHECK(arm_rg_name_check("grüppe") == 0);
	CHECK(arm_rg_name_check("rg.") == -EINVAL);
	CHECK(arm_rg_name_check("rg space") == -EINVAL);
	CHECK(arm_rg_name_check("rg#") == -EINVAL);
	CHECK(arm_rg_name_check("") == -EINVAL);

	p = url_pct_encode("a b?c#d%e/f");
	CHECK_STR(p, "a%20b%3Fc%23d%25e%2Ff");
	free(p);
	p = url_pct_encode("é名");
	CHECK_STR(p, "%C3%A9%E5%90%8D");
	free(p);
	p = url_pct_encode("Az09-._~");
	CHECK_STR(p, "Az09-._~");
	free(p);
	p = url_pct_encode("");
	CHECK_STR(p, "");
	free(p);
	p = url_pct_encode("  /%+\x7f\xff");
	CHECK_STR(p, "%20%20%2F%25%2B%7F%FF");
	free(p);
	/* Byte for byte what libcurl's escaping gave before (every byte value). */
	for (int b = 1; b < 256; b++) {
		char in[4] = {'x', (char)b, 'y', '\0'};
		char *mine = url_pct_encode(in), *theirs = curl_easy_escape(NULL, in, 0);
		CHECK(mine && theirs && !strcmp(mine, theirs));
		free(mine);
		curl_free(theirs);
	}
	CHECK(url_is_loopback("http://127.0.0.1:8080/x") && url_is_loopback("https://127.9.9.9/"));
	CHECK(url_is_loopback("http://LocalHost:1") && url_is_loopback("http://[::1]:99/"));
	CHECK(!url_is_loopback("http://10.0.0.1/") && !url_is_loopback("http://127.0.0.1.evil.example/"));
	CHECK(!url_is_loopback("http://localhost@evil.example/") && !url_is_loopback("http://[::2]/"));
	CHECK(!url_is_loopback("127.0.0.1") && !url_is_loopback(NULL) && !url_is_loopback("http:///x"));
	p = arm_url_path_rp("s", "my rg", "c#1", "p?x");
	CHECK_STR(p, "/subscriptions/s/resourceGroups/my%20rg/providers/Microsoft.Compute/restorePointCollections/c%231/restorePoints/p%3Fx");
	free(p);
	p = arm_path_rp("s", "my rg", "c#1", "p?x");
	CHECK_STR(p, "/subscriptions/s/resourceGroups/my rg/providers/Microsoft.Compute/restorePointCollections/c#1/restorePoints/p?x");
	free(p);
	p = arm_path_rpc("s", "rg", "c");
	CHECK_STR(p, "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/c");
	free(p);
	p = arm_url_path_rg("s", "r g");
	CHECK_STR(p, "/subscriptions/s/resourceGroups/r%20g");
	free(p);
}

/* arm_errno_of's table (doc/DESIGN.md, Errors), one row at a time. */
static void test_errno(void)
{
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 200, NULL, NULL, HTTP_T_NONE) == 0);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 404, "ResourceNotFound", NULL, HTTP_T_NONE) == -ENOENT);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 404, "ResourceGroupNotFound", NULL, HTTP_T_NONE) == -ENOENT);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 401, "InvalidAuthenticationToken", NULL, HTTP_T_NONE) == -EACCES);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 403, "AuthorizationFailed", NULL, HTTP_T_NONE) == -EACCES);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 400, "InvalidParameter", NULL, HTTP_T_NONE) == -EINVAL);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 400, "BadRequest", NULL, HTTP_T_NONE) == -EINVAL);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 400, "InvalidResourceName", NULL, HTTP_T_NONE) == -EINVAL);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 409, "Conflict", NULL, HTTP_T_NONE) == -EEXIST);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 409, "OperationNotAllowed", NULL, HTTP_T_NONE) == -EEXIST);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 409, "ResourceExists", NULL, HTTP_T_NONE) == -EEXIST);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 409, "VMRestorePointClientError", NULL, HTTP_T_NONE) == -EBUSY);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 409, "ConflictingOperation", NULL, HTTP_T_NONE) == -EBUSY);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 400, "VMRestorePointClientError", NULL, HTTP_T_NONE) == -EBUSY);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 409, "VMRestorePointClientError", "The VM has reached the maximum allowed snapshot limit of 500.", HTTP_T_NONE) == -EDQUOT);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 400, "VMRestorePointClientError", "Restore point limit reached", HTTP_T_NONE) == -EDQUOT);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 409, "QuotaExceeded", NULL, HTTP_T_NONE) == -EDQUOT);
	/* armsim's (and ARM's) 409 OperationNotAllowed messages. */
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 409, "OperationNotAllowed", "Restore point 'rp1' already exists; updating a restore point is not allowed.", HTTP_T_NONE) == -EEXIST);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 409, "OperationNotAllowed", "The source restore point has already been copied to region 'westus'; it can be copied only once per target region.", HTTP_T_NONE) == -EEXIST);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 409, "OperationNotAllowed", "The collection 'c' is being deleted.", HTTP_T_NONE) == -EBUSY);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 409, "OperationNotAllowed", "The source restore point is in state 'Creating'; only a Succeeded restore point can be copied.", HTTP_T_NONE) == -EBUSY);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 409, "OperationNotAllowed", "A later restore point ('rp3') of the source collection has already been copied to region 'westus'; copies must be made in order.", HTTP_T_NONE) == -EINVAL);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 409, "VMRestorePointClientError", "Another restore point operation is in progress on this VM. Only one restore point can be created at a time; retry when it completes.", HTTP_T_NONE) == -EBUSY);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 400, "OperationNotAllowed", "a copy of a copy is not allowed.", HTTP_T_NONE) == -EINVAL);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 429, "TooManyRequests", NULL, HTTP_T_NONE) == -EAGAIN);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 429, "OperationNotAllowed", NULL, HTTP_T_NONE) == -EAGAIN);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 500, "InternalError", NULL, HTTP_T_NONE) == -EIO);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 503, "ServerBusy", NULL, HTTP_T_NONE) == -EIO);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 502, NULL, NULL, HTTP_T_NONE) == -EIO);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 0, NULL, NULL, HTTP_T_BROKEN) == -EIO);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 200, NULL, NULL, HTTP_T_BROKEN) == -EIO);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 0, NULL, NULL, HTTP_T_TIMEOUT) == -ETIMEDOUT);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 0, NULL, NULL, HTTP_T_CONNECT) == -EHOSTUNREACH);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 408, NULL, NULL, HTTP_T_NONE) == -ETIMEDOUT);
	/* Rows the mount tests do not reach. */
	{
		static const int inval[] = {405, 411, 413, 414, 415, 422};
		for (size_t i = 0; i < sizeof(inval) / sizeof(inval[0]); i++)
			CHECK(arm_errno_of(ARM_ERRNO_ARM, inval[i], NULL, NULL, HTTP_T_NONE) == -EINVAL);
	}
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 201, NULL, NULL, HTTP_T_NONE) == 0);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 204, "Whatever", "x", HTTP_T_NONE) == 0);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 0, NULL, NULL, HTTP_T_NONE) == -EIO);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 401, NULL, NULL, HTTP_T_TIMEOUT) == -ETIMEDOUT);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 412, NULL, NULL, HTTP_T_NONE) == -EIO);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 404, "QuotaExceeded", NULL, HTTP_T_NONE) == -ENOENT);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 400, "maxrestorepointslimitreached", NULL, HTTP_T_NONE) == -EDQUOT);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 500, "VMRestorePointClientError", "over the limit", HTTP_T_NONE) == -EDQUOT);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 400, "RetryableError", NULL, HTTP_T_NONE) == -EBUSY);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 500, "RetryableError", NULL, HTTP_T_NONE) == -EIO);
	CHECK(arm_errno_of(ARM_ERRNO_ARM, 409, "Conflict", "Another operation is in progress.", HTTP_T_NONE) == -EBUSY);
	CHECK(arm_errno_of(ARM_ERRNO_GRANT, 409, "Conflict", "network access is disabled", HTTP_T_NONE) == -EACCES);
	CHECK(arm_errno_of(ARM_ERRNO_GRANT, 409, "Conflict", "cannot export this disk", HTTP_T_NONE) == -EACCES);
	CHECK(arm_errno_of(ARM_ERRNO_GRANT, 409, NULL, NULL, HTTP_T_NONE) == -EBUSY);
	CHECK(arm_errno_of(ARM_ERRNO_GRANT, 429, NULL, NULL, HTTP_T_NONE) == -EAGAIN);
	CHECK(arm_errno_of(ARM_ERRNO_GRANT, 0, NULL, NULL, HTTP_T_NONE) == -EIO);
	CHECK(arm_errno_of(ARM_ERRNO_GRANT, 0, NULL, NULL, HTTP_T_CONNECT) == -EHOSTUNREACH);
	/* Azure Storage, read by SAS (blob.c). */
	CHECK(arm_errno_of(ARM_ERRNO_BLOB, 206, NULL, NULL, HTTP_T_NONE) == 0);
	CHECK(arm_errno_of(ARM_ERRNO_BLOB, 403, "AuthenticationFailed", NULL, HTTP_T_NONE) == -EACCES);
	CHECK(arm_errno_of(ARM_ERRNO_BLOB, 401, NULL, NULL, HTTP_T_NONE) == -EACCES);
	CHECK(arm_errno_of(ARM_ERRNO_BLOB, 404, NULL, NULL, HTTP_T_NONE) == -ENOENT);
	CHECK(arm_errno_of(ARM_ERRNO_BLOB, 416, NULL, NULL, HTTP_T_NONE) == -EINVAL);
	CHECK(arm_errno_of(ARM_ERRNO_BLOB, 400, NULL, NULL, HTTP_T_NONE) == -EINVAL);
	CHECK(arm_errno_of(ARM_ERRNO_BLOB, 412, NULL, NULL, HTTP_T_NONE) == -EBUSY);
	CHECK(arm_errno_of(ARM_ERRNO_BLOB, 409, NULL, NULL, HTTP_T_NONE) == -EBUSY);
	CHECK(arm_errno_of(ARM_ERRNO_BLOB, 429, NULL, NULL, HTTP_T_NONE) == -EIO);
	CHECK(arm_errno_of(ARM_ERRNO_BLOB, 503, NULL, NULL, HTTP_T_NONE) == -EIO);
	CHECK(arm_errno_of(ARM_ERRNO_BLOB, 0, NULL, NULL, HTTP_T_TIMEOUT) == -ETIMEDOUT);
	CHECK(http_transport_errno(HTTP_T_NONE) == 0 && http_transport_errno(HTTP_T_CONNECT) == -EHOSTUNREACH);
	CHECK(http_transport_errno(HTTP_T_TIMEOUT) == -ETIMEDOUT && http_transport_errno(HTTP_T_BROKEN) == -EIO);
	CHECK(arm_retryable(0, NULL, HTTP_T_TIMEOUT) && arm_retryable(599, NULL, HTTP_T_NONE));
	CHECK(!arm_retryable(200, NULL, HTTP_T_NONE) && !arm_retryable(409, NULL, HTTP_T_NONE));

	CHECK(arm_retryable(503, NULL, HTTP_T_NONE) && arm_retryable(500, NULL, HTTP_T_NONE) && arm_retryable(429, NULL, HTTP_T_NONE));
	CHECK(arm_retryable(408, NULL, HTTP_T_NONE) && arm_retryable(0, NULL, HTTP_T_CONNECT) && arm_retryable(0, NULL, HTTP_T_BROKEN));
	CHECK(arm_retryable(409, "VMRestorePointClientError", HTTP_T_NONE));
	CHECK(!arm_retryable(409, "Conflict", HTTP_T_NONE) && !arm_retryable(404, NULL, HTTP_T_NONE) && !arm_retryable(400, NULL, HTTP_T_NONE));
	CHECK(!arm_retryable(401, NULL, HTTP_T_NONE) && !arm_retryable(403, NULL, HTTP_T_NONE));

	CHECK(!strcmp(arm_op_name(ARM_OP_RPC_LIST_ALL), "RestorePointCollections_ListAll"));
	CHECK(!strcmp(arm_op_name(ARM_OP_OPERATION), "Operations_Get"));
	CHECK(!strcmp(arm_op_name(ARM_OP_COUNT), "unknown"));
}

/* Backoff: bounds of every step, ceiling, and Retry-After always obeyed. */
static void test_backoff(void)
{
	unsigned a, r;
	long prev_max = 0;

	for (a = 0; a < 12; a++) {
		long step = 250L << (a > 6 ? 6 : a);
		long lo, hi;
		if (step > 16000)
			step = 16000;
		lo = arm_backoff_ms(a, -1, 0);
		hi = arm_backoff_ms(a, -1, (unsigned)step / 2);
		CHECK(lo == step / 2);
		CHECK(hi == step);
		for (r = 0; r < 1000; r += 37) {
			long d = arm_backoff_ms(a, -1, r * 7919u);
			CHECK(d >= step / 2 && d <= step);
		}
		CHECK(hi >= prev_max || hi == 16000);
		prev_max = hi;
	}
	CHECK(arm_backoff_ms(0, -1, 0) == 125);
	CHECK(arm_backoff_ms(30, -1, 0) == 8000);
	for (r = 0; r < 5000; r += 13) {
		long d = arm_backoff_ms(3, 2, r);
		CHECK(d >= 2000 && d <= 2250);
		d = arm_backoff_ms(0, 0, r);
		CHECK(d >= 0 && d <= 250);
	}
	CHECK(arm_backoff_ms(9, 17, 0) == 17000);
	CHECK(arm_backoff_ms(0, 100000, 0) == ARM_RETRY_AFTER_MAX * 1000L);
	CHECK(arm_backoff_ms(0, 99999999, 0) == 300000);
}

/* The origin check that keeps the token on the endpoint, and helpers. */
static void test_http_helpers(void)
{
	const char *ep = "https://management.azure.com";
	char g1[37], g2[37], *f;

	CHECK(http_same_origin(ep, "https://management.azure.com/subscriptions/x?$skipToken=1"));
	CHECK(http_same_origin(ep, "https://MANAGEMENT.azure.com:443/x"));
	CHECK(http_same_origin("http://127.0.0.1:8080", "http://127.0.0.1:8080/a"));
	CHECK(!http_same_origin("http://127.0.0.1:8080", "http://127.0.0.1:8081/a"));
	CHECK(!http_same_origin("http://127.0.0.1:8080", "http://localhost:8080/a"));
	CHECK(!http_same_origin(ep, "http://management.azure.com/x"));
	CHECK(!http_same_origin(ep, "https://management.azure.com.evil.example/x"));
	CHECK(!http_same_origin(ep, "https://management.azure.com@evil.example/x"));
	CHECK(!http_same_origin(ep, "https://evil.example/https://management.azure.com/"));
	CHECK(!http_same_origin(ep, "//management.azure.com/x"));
	CHECK(!http_same_origin(ep, "/subscriptions/x"));
	CHECK(!http_same_origin(ep, ""));
	CHECK(!http_same_origin(ep, NULL));

	http_guid(g1);
	http_guid(g2);
	CHECK(strlen(g1) == 36 && g1[8] == '-' && g1[14] == '4' && strcmp(g1, g2));
	f = url_pct_encode("a b&c=d+é/");
	CHECK_STR(f, "a%20b%26c%3Dd%2B%C3%A9%2F");
	free(f);
}

/* restorepoint.json from the compact JSON: tricky strings, empty and
 * nested containers, numbers; and a disk view rendered again after the
 * cache dropped it. */
static void test_pretty(void)
{
	static const char body[] =
	    "{\"id\":\"/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/"
	    "restorePointCollections/c/restorePoints/p\",\"name\":\"p\",\"properties\":{"
	    "\"a\":\"q\\\"uo,te:{}[]\\\\\",\"b\":[],\"c\":{},\"d\":[[1,2.5e3,-0.1],{\"x\":null}],"
	    "\"e\":\"caf\\u00e9 \\/ \\n\",\"f\":true,\"g\":[{}],\"sourceMetadata\":{"
	    "\"storageProfile\":{\"osDisk\":{\"name\":\"os\",\"caching\":\"ReadOnly\"},"
	    "\"dataDisks\":[{\"lun\":3,\"name\":\"d3\",\"diskSizeGB\":8}]}}}}";
	struct arm_rp rp;
	char *d0 = NULL, *d1 = NULL, *a = NULL, *b = NULL;

	CHECK(armj_parse_rp(body, strlen(body), &rp) == 0);
	(void)view_of(&rp);
	CHECK(rp.ndisks == 2);
	if (rp.ndisks == 2) {
		CHECK(arm_rp_disk_json(&rp, 0, &a) == 0 && arm_rp_disk_json(&rp, 1, &b) == 0);
		for (size_t i = 0; i < rp.ndisks; i++) {
			free(rp.disks[i].json);
			rp.disks[i].json = NULL;
		}
		CHECK(arm_rp_disk_json(&rp, 0, &d0) == 0 && arm_rp_disk_json(&rp, 1, &d1) == 0);
		CHECK(a && d0 && !strcmp(a, d0) && strlen(d0) == rp.disks[0].json_len);
		CHECK(b && d1 && !strcmp(b, d1) && strlen(d1) == rp.disks[1].json_len);
		CHECK(d1 && strstr(d1, "\"lun\": 3"));
		free(d1);
		CHECK(arm_rp_disk_json(&rp, 2, &d1) == -ENOENT && !d1);
	}
	free(a);
	free(b);
	free(d0);
	free(d1);
	arm_rp_clear(&rp);
}

int main(void)
{
	test_http_helpers();
	test_collections();
	test_points();
	test_progress();
	test_lists();
	test_small_docs();
	test_hostile();
	test_bodies();
	test_ids_names();
	test_errno();
	test_backoff();
	test_pretty();
	free(last_view);
	return unit_result("unit_arm");
}
