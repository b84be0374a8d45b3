/*
 * fuzz_json.c - libFuzzer target for the ARM JSON model (armjson.c): one
 * input goes through every parser.  Invariants: a parser that succeeds
 * gives the fields its header promises, and the pretty views it renders
 * are themselves valid JSON ending in a newline.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "arm.h"
#include "armjson.h"
#include "fuzz.h"

/* A name that becomes a file name: one path step, not "." or "..", UTF-8. */
static void check_name(const char *name)
{
	FUZZ_CHECK(name && *name && strcmp(name, ".") && strcmp(name, "..") && !strchr(name, '/'));
	FUZZ_CHECK(fuzz_utf8_ok(name));
	for (const char *p = name; *p; p++)
		FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
}

/* A rendered view: valid JSON, one trailing newline. */
static void check_view(const char *json)
{
	if (!json)
		return;
	size_t n = strlen(json);
	FUZZ_CHECK(n > 0 && json[n - 1] == '\n');
	FUZZ_CHECK(armj_valid(json, n) == 0);
}

/* restorepoint.json (and each disk's view), rendered from the compact
 * JSON: a JSON document of exactly the length given at parse time. */
static void check_rp_view(const struct arm_rp *p)
{
	char *v = NULL;

	FUZZ_CHECK(arm_rp_json(p, &v) == 0);
	FUZZ_CHECK(v && strlen(v) == p->json_len);
	check_view(v);
	free(v);
	for (size_t k = 0; k < p->ndisks; k++) {
		FUZZ_CHECK(p->disks[k].json && strlen(p->disks[k].json) == p->disks[k].json_len);
		check_view(p->disks[k].json);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *b = (const char *)data;
	char code[64], msg[256];

	(void)armj_valid(b, size);

	struct arm_rpc rpc;
	memset(&rpc, 0, sizeof(rpc));
	if (armj_parse_rpc(b, size, &rpc) == 0) {
		FUZZ_CHECK(rpc.id && rpc.name && rpc.location);
		check_name(rpc.name);
		check_name(rpc.location);
		check_view(rpc.json);
		for (size_t i = 0; i < rpc.npoints; i++) {
			FUZZ_CHECK(rpc.points[i].id && rpc.points[i].name);
			check_name(rpc.points[i].name);
			for (size_t k = 0; k < rpc.points[i].ndisks; k++)
				check_name(rpc.points[i].disks[k].name);
			check_rp_view(&rpc.points[i]);
		}
		arm_rpc_clear(&rpc);
	}

	struct arm_rp rp;
	memset(&rp, 0, sizeof(rp));
	if (armj_parse_rp(b, size, &rp) == 0) {
		FUZZ_CHECK(rp.id && rp.name);
		check_name(rp.name);
		for (size_t k = 0; k < rp.ndisks; k++)
			check_name(rp.disks[k].name);
		check_rp_view(&rp);
		arm_rp_clear(&rp);
	}

	struct arm_rpc **v = NULL;
	size_t n = 0, cap = 0;
	char *next = NULL;
	if (armj_parse_rpc_page(b, size, &v, &n, &cap, &next) == 0) {
		FUZZ_CHECK(n <= cap && n <= ARMJ_MAX_ITEMS);
		for (size_t i = 0; i < n; i++)
			check_name(v[i]->name), check_name(v[i]->location);
	}
	arm_rpc_array_free(v, n);
	free(next);

	struct arm_location *loc = NULL;
	n = cap = 0;
	next = NULL;
	if (armj_parse_locations_page(b, size, &loc, &n, &cap, &next) == 0)
		for (size_t i = 0; i < n; i++)
			check_name(loc[i].name);
	arm_locations_free(loc, n);
	free(next);

	char **names = NULL;
	n = cap = 0;
	next = NULL;
	(void)armj_parse_names_page(b, size, "name", &names, &n, &cap, &next);
	arm_strings_free(names, n);
	free(next);

	char *s = NULL;
	if (armj_parse_name(b, size, &s) == 0)
		FUZZ_CHECK(s);
	free(s);
	s = NULL;
	(void)armj_parse_state(b, size, &s);
	free(s);

	s = NULL;
	if (armj_parse_op_status(b, size, &s, code, sizeof(code), msg, sizeof(msg)) == 0) {
		FUZZ_CHECK(s);
		FUZZ_CHECK(memchr(code, 0, sizeof(code)) && memchr(msg, 0, sizeof(msg)));
	}
	free(s);
	if (armj_parse_cloud_error(b, size, code, sizeof(code), msg, sizeof(msg)) == 0)
		FUZZ_CHECK(memchr(code, 0, sizeof(code)) && memchr(msg, 0, sizeof(msg)));

	char *tok = NULL, *tenant = NULL;
	time_t exp = 0;
	if (armj_parse_token(b, size, &tok, &exp, &tenant) == 0)
		FUZZ_CHECK(tok && *tok);
	free(tok);
	free(tenant);

	/* the same bytes as a JWT and as a disk restore point id */
	char *z = malloc(size + 1);
	if (!z)
		return 0;
	memcpy(z, data, size);
	z[size] = '\0';
	free(armj_jwt_tenant(z));
	free(armj_disk_name_from_drp_id(z));
	free(z);
	return 0;
}
