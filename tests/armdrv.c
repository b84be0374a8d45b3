/*
 * armdrv.c - a small command-line driver of the ARM client (librpfs, no
 * FUSE) for the arm_*.sh tests: one ARM call per command, results on
 * stdout as lines the scripts can grep, failures as
 * "errno=NAME status=N code=C ..." with exit status 1.
 *
 *   armdrv [-e endpoint] [-s sub] [-t token_file] [-a auth] [-A authority]
 *          [-I imds_endpoint] [-C cafile] [-r retries] [-T op_timeout]
 *          [-R read_rate] [-W write_rate] [-c max_conns] [-w wait_s]
 *          [-P async|location|state] [-d]
 *          COMMAND ARGS...
 *
 * Commands: token, describe, locations, subs, rgs, rg NAME, list,
 * get RG NAME [expand], getrp RG RPC RP [iv], putrpc RG NAME LOC SOURCE,
 * putrp RG RPC RP [SOURCE_RP|-], delrp RG RPC RP, delrpc RG NAME,
 * tags RG NAME [k=v...], loop SECONDS THREADS (locations + list + get in a
 * loop; prints calls and failures).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arm.h"
#include "auth.h"
#include "log.h"

static struct arm_client *cli;
static struct auth *cred;
static unsigned wait_s;
static int lro_style = -1; /* -P async|location|state */

/* Symbolic name of an errno. */
static const char *ename(int e)
{
	switch (e < 0 ? -e : e) {
	case 0: return "OK";
	case ENOENT: return "ENOENT";
	case EACCES: return "EACCES";
	case EINVAL: return "EINVAL";
	case EEXIST: return "EEXIST";
	case EBUSY: return "EBUSY";
	case EDQUOT: return "EDQUOT";
	case EAGAIN: return "EAGAIN";
	case EIO: return "EIO";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case ENOMEM: return "ENOMEM";
	case ENOSPC: return "ENOSPC";
	default: return "OTHER";
	}
}

/* Report a failure and return 1. */
static int failed(int rc, const struct arm_err *e)
{
	printf("errno=%s status=%d code=%s request_id=%s message=%s\n", ename(rc), e ? e->status : 0,
	       e && e->code[0] ? e->code : "-", e && e->request_id[0] ? e->request_id : "-",
	       e ? e->message : "");
	return 1;
}

/* Print the counters. */
static void print_stats(void)
{
	struct arm_stats st;

	arm_stats_get(cli, &st);
	printf("stats requests=%llu retries=%llu throttled=%llu errors=%llu remaining_reads=%ld remaining_writes=%ld connects=%llu\n",
	       (unsigned long long)st.requests, (unsigned long long)st.retries,
	       (unsigned long long)st.throttled, (unsigned long long)st.errors, st.remaining_reads,
	       st.remaining_writes, (unsigned long long)st.connects);
}

/* Wait for an operation when asked to. */
static int maybe_wait(struct arm_lro *lro)
{
	struct arm_err e;
	int rc;

	if (!wait_s || !lro)
		return 0;
	if (lro_style >= 0 && (rc = arm_lro_restrict(lro, (enum arm_lro_style)lro_style))) {
		printf("errno=%s message=no such polling style\n", ename(rc));
		return 1;
	}
	rc = arm_lro_wait(cli, lro, wait_s, &e);
	if (rc)
		return failed(rc, &e);
	printf("operation done\n");
	return 0;
}

struct loop_ctx {
	long long until;
	unsigned long calls, failures;
	pthread_mutex_t lock;
};

/* Monotonic seconds. */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One worker of the loop command. */
static void *loop_worker(void *arg)
{
	struct loop_ctx *x = arg;
	unsigned i = 0;

	while (now_ms() < x->until) {
		struct arm_err e;
		int rc;

		if (i % 3 == 0) {
			struct arm_location *l;
			size_t n;
			rc = arm_list_locations(cli, &l, &n, &e);
			if (!rc)
				arm_locations_free(l, n);
		} else if (i % 3 == 1) {
			struct arm_rpc **v;
			size_t n;
			rc = arm_list_collections(cli, &v, &n, NULL, &e);
			if (!rc)
				arm_rpc_array_free(v, n);
		} else {
			char **v;
			size_t n;
			rc = arm_list_resource_groups(cli, &v, &n, &e);
			if (!rc)
				arm_strings_free(v, n);
		}
		pthread_mutex_lock(&x->lock);
		x->calls++;
		if (rc) {
			x->failures++;
			printf("loop failure: errno=%s status=%d code=%s message=%s\n", ename(rc), e.status, e.code,
			       e.message);
		}
		pthread_mutex_unlock(&x->lock);
		i++;
		usleep(50000);
	}
	return NULL;
}

/* Run one command. */
static int run(int argc, char **argv)
{
	struct arm_err e;
	const char *cmd = argv[0];
	int rc;

	memset(&e, 0, sizeof(e));
	if (!strcmp(cmd, "token")) {
		char tok[16384], err[256];
		rc = auth_token(cred, 0, tok, sizeof(tok), err, sizeof(err));
		if (rc) {
			printf("errno=%s message=%s\n", ename(rc), err);
			return 1;
		}
		printf("source=%s tenant=%s token_len=%zu\n", auth_source_name(cred),
		       auth_tenant(cred) ? auth_tenant(cred) : "-", strlen(tok));
		return 0;
	}
	if (!strcmp(cmd, "describe")) {
		char *d = NULL;
		if (auth_describe(cred, &d))
			return 1;
		fputs(d, stdout);
		free(d);
		return 0;
	}
	if (!strcmp(cmd, "locations")) {
		struct arm_location *l;
		size_t n, i;
		if ((rc = arm_list_locations(cli, &l, &n, &e)))
			return failed(rc, &e);
		for (i = 0; i < n; i++)
			printf("location %s\n", l[i].name);
		printf("locations %zu\n", n);
		arm_locations_free(l, n);
		return 0;
	}
	if (!strcmp(cmd, "subs") || !strcmp(cmd, "rgs")) {
		char **v;
		size_t n, i;
		rc = !strcmp(cmd, "subs") ? arm_list_subscriptions(cli, &v, &n, &e)
					  : arm_list_resource_groups(cli, &v, &n, &e);
		if (rc)
			return failed(rc, &e);
		for (i = 0; i < n; i++)
			printf("name %s\n", v[i]);
		printf("count %zu\n", n);
		arm_strings_free(v, n);
		return 0;
	}
	if (!strcmp(cmd, "rg") && argc >= 2) {
		char *name;
		if ((rc = arm_get_resource_group(cli, argv[1], &name, &e)))
			return failed(rc, &e);
		printf("rg %s\n", name);
		free(name);
		return 0;
	}
	if (!strcmp(cmd, "list")) {
		struct arm_rpc **v;
		size_t n, i;
		unsigned pages;
		if ((rc = arm_list_collections(cli, &v, &n, &pages, &e)))
			return failed(rc, &e);
		for (i = 0; i < n; i++)
			printf("collection %s %s %s\n", v[i]->rg, v[i]->name, v[i]->location);
		printf("collections %zu pages %u\n", n, pages);
		arm_rpc_array_free(v, n);
		return 0;
	}
	if (!strcmp(cmd, "get") && argc >= 3) {
		struct arm_rpc *r;
		size_t i;
		if ((rc = arm_get_collection(cli, argv[1], argv[2], argc > 3, &r, &e)))
			return failed(rc, &e);
		fputs(r->json, stdout);
		for (i = 0; i < r->npoints; i++)
			printf("point %s %s\n", r->points[i].name, r->points[i].state ? r->points[i].state : "-");
		printf("points %zu\n", r->npoints);
		arm_rpc_free(r);
		return 0;
	}
	if (!strcmp(cmd, "getrp") && argc >= 4) {
		struct arm_rp *p;
		size_t i;
		if ((rc = arm_get_rp(cli, argv[1], argv[2], argv[3], argc > 4, &p, &e)))
			return failed(rc, &e);
		printf("state %s\n", p->state ? p->state : "-");
		for (i = 0; i < p->ndisks; i++)
			printf("disk %s lun %d\n", p->disks[i].name, p->disks[i].lun);
		for (i = 0; i < p->nprogress; i++)
			printf("progress %s %d %s\n", p->progress[i].name, p->progress[i].percent, p->progress[i].status);
		arm_rp_free(p);
		return 0;
	}
	if (!strcmp(cmd, "putrpc") && argc >= 5) {
		struct arm_rpc *r = NULL;
		if ((rc = arm_put_collection(cli, argv[1], argv[2], argv[3], argv[4], NULL, 0, &r, &e)))
			return failed(rc, &e);
		printf("created %s status %d\n", r->id, e.status);
		arm_rpc_free(r);
		return 0;
	}
	if (!strcmp(cmd, "putrp") && argc >= 4) {
		struct arm_rp *p = NULL;
		struct arm_lro *lro = NULL;
		const char *src = argc > 4 && strcmp(argv[4], "-") ? argv[4] : NULL;
		if ((rc = arm_put_rp(cli, argv[1], argv[2], argv[3], src, NULL, &p, &lro, &e)))
			return failed(rc, &e);
		printf("accepted %s status %d state %s\n", arm_lro_resource(lro), e.status,
		       p && p->state ? p->state : "-");
		arm_rp_free(p);
		rc = maybe_wait(lro);
		arm_lro_free(lro);
		return rc;
	}
	if ((!strcmp(cmd, "delrp") && argc >= 4) || (!strcmp(cmd, "delrpc") && argc >= 3)) {
		struct arm_lro *lro = NULL;
		rc = !strcmp(cmd, "delrp") ? arm_delete_rp(cli, argv[1], argv[2], argv[3], &lro, &e)
					   : arm_delete_collection(cli, argv[1], argv[2], &lro, &e);
		if (rc)
			return failed(rc, &e);
		printf("deleting %s status %d\n", arm_lro_resource(lro), e.status);
		rc = maybe_wait(lro);
		arm_lro_free(lro);
		return rc;
	}
	if (!strcmp(cmd, "tags") && argc >= 3) {
		struct arm_tag t[16];
		struct arm_rpc *r = NULL;
		int i, n = 0;
		for (i = 3; i < argc && n < 16; i++) {
			char *eq = strchr(argv[i], '=');
			if (!eq)
				continue;
			*eq = '\0';
			t[n].key = argv[i];
			t[n].value = eq + 1;
			n++;
		}
		if ((rc = arm_patch_collection_tags(cli, argv[1], argv[2], t, (size_t)n, &r, &e)))
			return failed(rc, &e);
		printf("tags %zu\n", r->ntags);
		arm_rpc_free(r);
		return 0;
	}
	if (!strcmp(cmd, "loop") && argc >= 3) {
		struct loop_ctx x = { .until = now_ms() + atol(argv[1]) * 1000 };
		int nt = atoi(argv[2]), i;
		pthread_t th[32];
		if (nt < 1 || nt > 32)
			nt = 4;
		pthread_mutex_init(&x.lock, NULL);
		for (i = 0; i < nt; i++)
			pthread_create(&th[i], NULL, loop_worker, &x);
		for (i = 0; i < nt; i++)
			pthread_join(th[i], NULL);
		printf("calls %lu failures %lu\n", x.calls, x.failures);
		return x.failures ? 1 : 0;
	}
	fprintf(stderr, "armdrv: unknown command or missing arguments: %s\n", cmd);
	return 2;
}

int main(int argc, char **argv)
{
	struct arm_cfg cc = {.api_version = "2025-04-01",
			     .max_conns = 8,
			     .read_rate = 20,
			     .write_rate = 5,
			     .retries = 5,
			     .op_timeout = 30};
	struct auth_cfg ac = {.source = "auto"};
	char err[512];
	int c, rc, debug = 0;

	cc.subscription = getenv("ARMDRV_SUB");
	while ((c = getopt(argc, argv, "e:s:t:a:A:I:C:r:T:R:W:c:w:P:d")) != -1) {
		switch (c) {
		case 'e': cc.endpoint = optarg; break;
		case 's': cc.subscription = optarg; break;
		case 't': ac.token_file = optarg; break;
		case 'a': ac.source = optarg; break;
		case 'A': ac.authority = optarg; break;
		case 'I': ac.imds_endpoint = optarg; break;
		case 'C': cc.cafile = optarg; break;
		case 'r': cc.retries = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'T': cc.op_timeout = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'R': cc.read_rate = strtod(optarg, NULL); break;
		case 'W': cc.write_rate = strtod(optarg, NULL); break;
		case 'c': cc.max_conns = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'w': wait_s = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'd': debug = 1; break;
		case 'P':
			lro_style = !strcmp(optarg, "async") ? ARM_LRO_ASYNC
				  : !strcmp(optarg, "location") ? ARM_LRO_LOCATION : ARM_LRO_STATE;
			break;
		default: return 2;
		}
	}
	if (optind >= argc || !cc.endpoint) {
		fprintf(stderr, "usage: armdrv -e ENDPOINT [options] COMMAND ARGS...\n");
		return 2;
	}
	log_open("armdrv", 0, debug ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	/* The credential sees what rpfs's main gives it from the same options. */
	ac.endpoint = cc.endpoint;
	ac.subscription = cc.subscription;
	ac.cafile = cc.cafile;
	ac.op_timeout = cc.op_timeout;
	rc = auth_new(&ac, &cred, err, sizeof(err));
	if (rc) {
		printf("errno=%s message=%s\n", ename(rc), err);
		return 1;
	}
	rc = arm_client_new(&cc, cred, &cli);
	if (rc) {
		printf("errno=%s message=client\n", ename(rc));
		auth_free(cred);
		return 1;
	}
	rc = run(argc - optind, argv + optind);
	print_stats();
	fflush(stdout);
	arm_client_free(cli);
	auth_free(cred);
	log_close();
	return rc;
}
