/* sim_main.c - armsim's options (described once, as data, for both
 * parsing and --help), the simulated clock, and the process lifecycle. */
#include "sim.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sim sim_g = {.lock = PTHREAD_MUTEX_INITIALIZER};

enum {
	O_LISTEN,
	O_PORT_FILE,
	O_TLS_CERT,
	O_TLS_KEY,
	O_DEMO,
	O_SEED,
	O_STATE,
	O_PAGE_SIZE,
	O_EMPTY_PAGES,
	O_LATENCY,
	O_TOKEN_LIFETIME,
	O_CREATE_S,
	O_COPY_S,
	O_DELETE_S,
	O_RETRY_AFTER,
	O_THROTTLE,
	O_ACCEPT_TOKEN,
	O_CLIENT,
	O_TENANT,
	O_LOG,
	O_BLOB_LISTEN,
	O_BLOB_PORT_FILE,
	O_BLOB_RATE,
	O_PAGELIST_MAX,
	O_GRANT_S,
	O_DISK_IMAGE,
	O_HELP,
	O_COUNT
};

static const struct {
	const char *name, *arg, *help;
} opt_doc[O_COUNT] = {
    [O_LISTEN] = {"listen", "ADDR:PORT",
		  "address to listen on (default 127.0.0.1:0; port 0 picks a free port)"},
    [O_PORT_FILE] = {"port-file", "FILE", "write the port number to FILE once listening"},
    [O_TLS_CERT] = {"tls-cert", "FILE", "serve HTTPS with this PEM certificate (with --tls-key)"},
    [O_TLS_KEY] = {"tls-key", "FILE", "PEM private key for --tls-cert"},
    [O_DEMO] = {"demo", NULL, "load the built-in demo subscription"},
    [O_SEED] = {"seed", "FILE", "load the subscription from a JSON seed file (see armsim(1))"},
    [O_STATE] = {"state", "FILE", "save every change to FILE atomically and reload it at start"},
    [O_PAGE_SIZE] = {"page-size", "N", "items per page of list operations (default 50)"},
    [O_EMPTY_PAGES] = {"empty-pages", NULL,
		       "answer an empty page with a nextLink before every page"},
    [O_LATENCY] = {"latency-ms", "N", "delay every ARM answer by N milliseconds (default 0)"},
    [O_TOKEN_LIFETIME] = {"token-lifetime", "SEC", "lifetime of issued tokens (default 3599)"},
    [O_CREATE_S] = {"create-seconds", "SEC", "time a restore point stays Creating (default 5)"},
    [O_COPY_S] = {"copy-seconds", "SEC",
		  "time a cross-region copy takes to reach 100% (default 60)"},
    [O_DELETE_S] = {"delete-seconds", "SEC", "time a delete stays in progress (default 1)"},
    [O_RETRY_AFTER] = {"retry-after", "SEC", "Retry-After of long-running operations (default 10)"},
    [O_THROTTLE] = {"throttle", NULL,
		    "enforce ARM's per-subscription token buckets (429 when empty)"},
    [O_ACCEPT_TOKEN] = {"accept-token", "TOKEN",
			"accept this bearer token forever (@FILE: read it from FILE)"},
    [O_CLIENT] = {"client", "ID:SECRET",
		  "a client the token endpoint accepts (repeatable; none = any)"},
    [O_TENANT] = {"tenant", "ID", "tenant id of the subscription"},
    [O_LOG] = {"log", "FILE", "append the request log (JSON lines) to FILE"},
    [O_BLOB_LISTEN] = {"blob-listen", "ADDR:PORT",
		       "address of the blob endpoint (default 127.0.0.1:0; HTTPS with --tls-cert)"},
    [O_BLOB_PORT_FILE] = {"blob-port-file", "FILE",
			  "write the blob endpoint's port number to FILE once listening"},
    [O_BLOB_RATE] = {"blob-rate", "MIB",
		     "cap each blob's throughput at MIB MiB/s (default 0: none)"},
    [O_PAGELIST_MAX] = {"pagelist-max", "N",
			"page ranges per Get Page Ranges answer before NextMarker (default 200)"},
    [O_GRANT_S] = {"grant-seconds", "SEC",
		   "time beginGetAccess and endGetAccess stay running (default 0)"},
    [O_DISK_IMAGE] = {"disk-image", "DISK=PATH",
		      "disk DISK (managed disk name) reads its data from the raw image PATH "
		      "(repeatable)"},
    [O_HELP] = {"help", NULL, "show this help"},
};

/* Wall-clock seconds. */
double sim_real_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* armsim's clock: wall clock plus what /_armsim/clock advanced. */
double sim_now(void)
{
	return sim_real_now() + sim_g.clock_offset;
}

/* The --help text, from the option table. */
static void usage(FILE *f)
{
	fprintf(f, "Usage: armsim [OPTION]...\n"
		   "A local stand-in for Azure Resource Manager: subscriptions, resource groups,\n"
		   "restore point collections and restore points, disk restore points with a\n"
		   "blob endpoint serving their bytes, Entra and IMDS tokens, and a control API\n"
		   "under /_armsim/ for tests.\n\nOptions:\n");
	for (int i = 0; i < O_COUNT; i++) {
		char left[64];
		snprintf(left, sizeof left, "--%s%s%s", opt_doc[i].name, opt_doc[i].arg ? " " : "",
			 opt_doc[i].arg ? opt_doc[i].arg : "");
		fprintf(f, "  %-26s %s\n", left, opt_doc[i].help);
	}
	fputs(
	    "\nSeed format (--seed; also what --state saves and GET /_armsim/state returns):\n"
	    "  {\"subscription\", \"tenant\", \"displayName\", \"locations\": [name | {name, "
	    "displayName}],\n"
	    "   \"clients\": [{id, secret}], \"resourceGroups\": [name | {name, location, tags}],\n"
	    "   \"vms\": [{id | name+resourceGroup, location, osType, vmSize, vmId,\n"
	    "            disks: [{name, lun (data disks), sizeGB, storageAccountType, caching,\n"
	    "                     diskEncryptionSet, networkAccessPolicy,\n"
	    "                     allocated: [[offset, length] in bytes]}]}],\n"
	    "   \"collections\": [{id | name+resourceGroup, location, source: {id}, tags,\n"
	    "                    points: [{name, provisioningState, timeCreated, consistencyMode,\n"
	    "                              sourceRestorePoint, vm, excludeDisks,\n"
	    "                              progress: [percent per disk], copyFailed}]}]}\n"
	    "  Only a collection's location and source are required; a problem is reported with\n"
	    "  its JSON path and exit status 2.\n"
	    "\nControl API (loopback only, no authentication):\n"
	    "  GET /_armsim/stats             requests counted by operationId and status\n"
	    "  GET|DELETE /_armsim/log        request log, JSON lines in arrival order\n"
	    "                                 (DELETE clears the log and the stats)\n"
	    "  POST|GET|DELETE /_armsim/faults\n"
	    "                                 {match: {operationId, path_prefix, method},\n"
	    "                                  kind: "
	    "status|reset|truncate|malformed|latency|throttle|\n"
	    "                                  body, status, code, retry_after, latency_ms, "
	    "count,\n"
	    "                                  probability, seed; for body: body|body_hex, "
	    "repeat,\n"
	    "                                  headers} -> {id}\n"
	    "  POST /_armsim/clock            {advance: SECONDS} -> {now}\n"
	    "  POST /_armsim/mutate           {op: add_point|remove_point|add_collection|\n"
	    "                                  remove_collection|fail_copy|fail_point, ...}\n"
	    "  GET /_armsim/state             the whole model, in the seed format\n"
	    "  GET /_armsim/grants            active disk grants {value: [{diskRestorePointId,\n"
	    "                                 expiresOn, grants}]}\n"
	    "  POST /_armsim/grants/revoke    {} or {id}: revoke SAS out of band\n"
	    "  GET /_armsim/disk?id=ID[&hash=0]\n"
	    "                                 {size, allocated, sha256, ranges} of a disk\n"
	    "                                 restore point's blob\n"
	    "  POST /_armsim/reset            reload the seed or demo; clear log, stats, faults, "
	    "clock\n"
	    "See armsim(1) for the details.\n",
	    f);
	fprintf(f, "\nExit status: 0 after SIGINT/SIGTERM, 1 on a start-up failure, 2 on bad "
		   "options or a bad seed.\n");
}

/* Parse a number in [lo, hi]; 0 or -1. */
static int num(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* Parse the command line into sim_g.o; 0 or -1. */
static int parse(int argc, char **argv)
{
	struct option lo[O_COUNT + 1];
	for (int i = 0; i < O_COUNT; i++) {
		lo[i].name = opt_doc[i].name;
		lo[i].has_arg = opt_doc[i].arg ? required_argument : no_argument;
		lo[i].flag = NULL;
		lo[i].val = 1000 + i;
	}
	memset(&lo[O_COUNT], 0, sizeof lo[O_COUNT]);
	struct sim_opts *o = &sim_g.o;
	o->page_size = 50;
	o->token_lifetime = 3599;
	o->create_seconds = 5;
	o->copy_seconds = 60;
	o->delete_seconds = 1;
	o->retry_after = 10;
	o->pagelist_max = 200;
	int c;
	double v;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		int id = c == 'h' ? O_HELP : c - 1000;
		if (c == '?' || id < 0 || id >= O_COUNT)
			return -1;
		const char *a = optarg;
		switch (id) {
		case O_LISTEN:
			o->listen = optarg;
			break;
		case O_PORT_FILE:
			o->port_file = optarg;
			break;
		case O_TLS_CERT:
			o->tls_cert = optarg;
			break;
		case O_TLS_KEY:
			o->tls_key = optarg;
			break;
		case O_DEMO:
			o->demo = 1;
			break;
		case O_SEED:
			o->seed = optarg;
			break;
		case O_STATE:
			o->state = optarg;
			break;
		case O_EMPTY_PAGES:
			o->empty_pages = 1;
			break;
		case O_THROTTLE:
			o->throttle = 1;
			break;
		case O_ACCEPT_TOKEN:
			o->accept_token = optarg;
			break;
		case O_TENANT:
			o->tenant = optarg;
			break;
		case O_LOG:
			o->log_file = optarg;
			break;
		case O_BLOB_LISTEN:
			o->blob_listen = optarg;
			break;
		case O_BLOB_PORT_FILE:
			o->blob_port_file = optarg;
			break;
		case O_DISK_IMAGE:
			if (!strchr(a, '=') || o->nimages >= SIM_MAX_IMAGES) {
				fprintf(stderr,
					"armsim: --disk-image wants DISK=PATH (at most %d)\n",
					SIM_MAX_IMAGES);
				return -1;
			}
			o->images[o->nimages++] = optarg;
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		case O_CLIENT:
			if (!strchr(a, ':') || o->nclients >= 16) {
				fprintf(stderr, "armsim: --client wants ID:SECRET (at most 16)\n");
				return -1;
			}
			o->clients[o->nclients++] = sim_xstrdup(a);
			break;
		default:
			if (num(a, 0, 1e9, &v)) {
				fprintf(stderr, "armsim: --%s: '%s' is not a valid number\n",
					opt_doc[id].name, a);
				return -1;
			}
			if (id == O_PAGE_SIZE && v < 1) {
				fprintf(stderr, "armsim: --page-size must be at least 1\n");
				return -1;
			}
			if (id == O_PAGE_SIZE)
				o->page_size = (int)v;
			if (id == O_LATENCY)
				o->latency_ms = (int)v;
			if (id == O_TOKEN_LIFETIME)
				o->token_lifetime = (int)v;
			if (id == O_CREATE_S)
				o->create_seconds = v;
			if (id == O_COPY_S)
				o->copy_seconds = v;
			if (id == O_DELETE_S)
				o->delete_seconds = v;
			if (id == O_RETRY_AFTER)
				o->retry_after = (int)v;
			if (id == O_BLOB_RATE)
				o->blob_rate = v;
			if (id == O_GRANT_S)
				o->grant_seconds = v;
			if (id == O_PAGELIST_MAX && v < 1) {
				fprintf(stderr, "armsim: --pagelist-max must be at least 1\n");
				return -1;
			}
			if (id == O_PAGELIST_MAX)
				o->pagelist_max = (int)v;
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "armsim: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (o->demo && o->seed) {
		fprintf(stderr, "armsim: --demo and --seed exclude each other\n");
		return -1;
	}
	return 0;
}

/* Load the subscription, serve until SIGINT or SIGTERM, then free everything. */
int main(int argc, char **argv)
{
	if (parse(argc, argv)) {
		usage(stderr);
		return 2;
	}
	sim_g.t0 = sim_real_now();
	sim_g.by_op = json_object_new_object();
	sim_g.by_op_status = json_object_new_object();
	sim_g.m.next_event = 1e300;
	double cap[3] = {250, 200, 200}, refill[3] = {25, 10, 10};
	struct sim_bucket *b[3] = {&sim_g.reads, &sim_g.writes, &sim_g.deletes};
	for (int i = 0; i < 3; i++) {
		b[i]->cap = b[i]->tokens = cap[i];
		b[i]->refill = refill[i];
		b[i]->last = sim_real_now();
	}
	char err[1024];
	if (sim_disk_images_open(err, sizeof err)) {
		fprintf(stderr, "armsim: %s\n", err);
		return 2;
	}
	double t = sim_real_now();
	if (sim_model_load_initial(&sim_g.m, 1, err, sizeof err)) {
		fprintf(stderr, "armsim: %s\n", err);
		return 2;
	}
	int npoints = 0;
	for (int i = 0; i < sim_g.m.ncolls; i++)
		npoints += sim_g.m.colls[i]->npoints;
	fprintf(stderr, "armsim: loaded %d collections, %d restore points in %.3f s\n",
		sim_g.m.ncolls, npoints, sim_real_now() - t);
	if (sim_g.o.accept_token && sim_g.o.accept_token[0] == '@') {
		char tok[4096];
		FILE *f = fopen(sim_g.o.accept_token + 1, "r");
		if (!f || !fgets(tok, sizeof tok, f)) {
			fprintf(stderr, "armsim: --accept-token: cannot read %s\n",
				sim_g.o.accept_token + 1);
			if (f)
				fclose(f);
			return 2;
		}
		fclose(f);
		tok[strcspn(tok, "\r\n")] = 0;
		if (!*tok) {
			fprintf(stderr, "armsim: --accept-token: %s is empty\n",
				sim_g.o.accept_token + 1);
			return 2;
		}
		sim_auth_add_fixed(tok);
	} else if (sim_g.o.accept_token) {
		sim_auth_add_fixed(sim_g.o.accept_token);
	}
	if (sim_g.o.log_file && sim_ctl_open_log(sim_g.o.log_file)) {
		fprintf(stderr, "armsim: cannot open %s: %s\n", sim_g.o.log_file, strerror(errno));
		return 1;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	pthread_mutex_lock(&sim_g.lock);
	sim_state_save();
	pthread_mutex_unlock(&sim_g.lock);
	if (sim_http_start())
		return 1;
	int sig;
	sigwait(&set, &sig);
	fprintf(stderr, "armsim: stopping on signal %d\n", sig);
	sim_blob_stop();
	sim_http_stop();
	sim_disk_images_close();
	pthread_mutex_lock(&sim_g.lock);
	sim_model_clear(&sim_g.m);
	sim_auth_clear();
	sim_fault_clear();
	free(sim_g.tokens);
	for (int i = 0; sim_g.log && i < SIM_MAX_LOG; i++)
		free(sim_g.log[i]);
	free(sim_g.log);
	free(sim_g.log_seqs);
	for (int i = 0; sim_g.ops && i < SIM_MAX_OPS; i++) {
		free(sim_g.ops[i].location);
		free(sim_g.ops[i].target);
		free(sim_g.ops[i].result);
	}
	free(sim_g.ops);
	json_object_put(sim_g.by_op);
	json_object_put(sim_g.by_op_status);
	for (int i = 0; i < sim_g.o.nclients; i++)
		free(sim_g.o.clients[i]);
	pthread_mutex_unlock(&sim_g.lock);
	return 0;
}
