/*
 * arm.h - the Azure Resource Manager client of rpfs: the only header the
 * cache layer sees.  Below it sit armjson.c (the only json-c user), http.c
 * (the only libcurl user) and the auth_*.c sources.
 *
 * Every call is synchronous and thread-safe; many threads may call into one
 * struct arm_client at once (connections are pooled below).  Calls return 0
 * or a negative errno, mapped from ARM's answer by arm_errno() exactly as
 * doc/DESIGN.md (Errors) says.  When `err` is not NULL it receives the details of the
 * failure (or of the last response on success: status and request id).
 *
 * Memory: every struct returned through an out pointer is owned by the
 * caller and freed with the matching *_free().  Strings inside are owned by
 * the struct.
 */
#ifndef RPFS_ARM_H
#define RPFS_ARM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct rpfs_opts;
struct auth;

/* ---- the model: plain C, no json-c -------------------------------------- */

struct arm_tag {
	char *key, *value;
};
/* A NUL inside a tag value (JSON allows "\u0000", a C string cannot hold
 * it) is kept as this byte, which UTF-8 never uses: the tags file shows it
 * as %00, and request bodies send it as "\u0000" again. */
#define ARM_TAG_NUL '\xff'

struct arm_disk {
	char *name;	       /* disk name (OS disk: its name) */
	int lun;	       /* -1 for the OS disk */
	int size_gb;	       /* -1 when ARM did not say */
	int has_drp;	       /* 1 when the disk has a disk restore point (kept
				  after compaction: NAME.vhd exists) */
	char *caching;	       /* "None", "ReadOnly", "ReadWrite" or NULL */
	char *storage_type;    /* managedDisk.storageAccountType or NULL */
	char *disk_id;	       /* managedDisk.id or NULL */
	char *disk_rp_id;      /* diskRestorePoint.id or NULL */
	char *encryption_type; /* diskRestorePoint.encryption.type or NULL */
	char *json;	       /* pretty-printed NAME.json view, '\n'-terminated;
				  NULL once dropped (the cache keeps only name,
				  lun and json_len): arm_rp_disk_json renders it */
	size_t json_len;       /* length of the NAME.json view */
};

/* Replication progress of one disk, from $expand=instanceView. */
struct arm_disk_progress {
	char *name;   /* disk name, derived from the disk restore point id */
	int percent;  /* completionPercent, 0..100 */
	char *status; /* displayStatus, else the tail of code ("Succeeded") */
};

struct arm_rp {
	char *id, *name;
	char *state;	       /* provisioningState (NULL when absent) */
	char *consistency;     /* consistencyMode or NULL */
	char *time_created;    /* as ARM gives it, or NULL */
	char *source_rp_id;    /* properties.sourceRestorePoint.id (copies) or NULL */
	char *source_location; /* sourceMetadata.location or NULL */
	struct arm_disk *disks;
	size_t ndisks;
	struct arm_disk_progress *progress; /* only with instanceView */
	size_t nprogress;
	int has_instance_view;
	char *iv_error;	 /* instanceView: "CODE: MESSAGE" of its first status of
			    level Error (overall, else a disk's), or NULL */
	char *cjson;	 /* the point without instanceView, compact JSON: the
			    restorepoint.json view is rendered from it
			    (arm_rp_json), as a pretty copy of every point
			    would be most of a cached point's memory */
	size_t json_len; /* length of restorepoint.json (exact: st_size) */
};

struct arm_rpc {
	char *id, *name;
	char *rg; /* resource group, as spelled in id */
	char *location;
	char *state;	       /* provisioningState or NULL */
	char *source_id;       /* properties.source.id or NULL */
	char *source_location; /* properties.source.location or NULL */
	struct arm_tag *tags;
	size_t ntags;
	char *json;	/* collection.json view: pretty, stable, '\n'-terminated,
			   without properties.restorePoints */
	int has_points; /* fetched with $expand=restorePoints */
	struct arm_rp *points;
	size_t npoints;
};

struct arm_location {
	char *name;	    /* "eastus" */
	char *display_name; /* "East US" or NULL */
};

/* What ARM said about the last call: filled on error and on success. */
struct arm_err {
	int status;	     /* HTTP status, 0 when no answer */
	char code[64];	     /* CloudError code, "" when none */
	char message[256];   /* CloudError message or transport error text */
	char request_id[64]; /* x-ms-request-id, "" when none */
};

/* The restorepoint.json view of a point: pretty, stable, '\n'-terminated,
 * json_len bytes.  0 or -ENOMEM; caller frees. */
int arm_rp_json(const struct arm_rp *rp, char **out);
/* The NAME.json view of disk i of a point (from d->json, else rendered
 * again from rp->cjson).  0, -ENOENT, -EIO, -ENOMEM; caller frees. */
int arm_rp_disk_json(const struct arm_rp *rp, size_t i, char **out);
/* The disk restore point id of disk i of a point (kept, else parsed again
 * from rp->cjson).  0, -ENOENT (none), -EIO, -ENOMEM; caller frees. */
int arm_rp_disk_rp_id(const struct arm_rp *rp, size_t i, char **out);

void arm_rp_free(struct arm_rp *rp);
void arm_rp_clear(struct arm_rp *rp); /* frees members, not rp itself */
void arm_rpc_free(struct arm_rpc *rpc);
void arm_rpc_clear(struct arm_rpc *rpc);
void arm_rpc_array_free(struct arm_rpc **v, size_t n);
void arm_locations_free(struct arm_location *v, size_t n);
void arm_strings_free(char **v, size_t n);

/* ---- ids and names (pure, no I/O) ---------------------------------------- */

/* Parts of an ARM id; pointers into a buffer owned by the struct. */
struct arm_id {
	char *sub, *rg, *rpc, *rp; /* rp NULL for a collection id */
	char *vm;		   /* set instead of rpc for a VM id */
	char buf[];
};
/* Parse a collection, restore point or VM id (case-insensitive keywords).
 * Returns 0, -EINVAL.  *out is freed with free(). */
int arm_id_parse(const char *id, struct arm_id **out);

/* ARM's generic name rule (armsim(1) too): 1..260 chars, none of <>%&:\?/,
 * no control characters, not ending in '.' or ' '.  Returns 0 or -EINVAL. */
int arm_name_check(const char *name);
/* Resource group rule: 1..90 chars of letters, digits, -_(). not ending in '.'. */
int arm_rg_name_check(const char *name);
/* 1 when s is well-formed UTF-8 (no overlong forms, no surrogates). */
int arm_utf8_ok(const char *s);

/* ---- the client ----------------------------------------------------------- */

struct arm_client;

struct arm_stats {
	uint64_t requests;  /* HTTP requests sent to ARM */
	uint64_t by_op[16]; /* indexed by enum arm_op */
	uint64_t retries;
	uint64_t throttled; /* 429 answers */
	uint64_t errors;
	long remaining_reads; /* last x-ms-ratelimit-remaining-subscription-reads, -1 unknown */
	long remaining_writes;
	long remaining_deletes;
	uint64_t bytes_in;
	uint64_t connects;  /* new TCP connections (keep-alive reuse shows as few) */
	long long pause_ms; /* left of the pause a 429 set, 0 none */
};

enum arm_op {
	ARM_OP_LOCATIONS,
	ARM_OP_SUBSCRIPTIONS,
	ARM_OP_RESOURCE_GROUP,
	ARM_OP_RESOURCE_GROUPS,
	ARM_OP_RPC_LIST_ALL,
	ARM_OP_RPC_LIST,
	ARM_OP_RPC_GET,
	ARM_OP_RPC_PUT,
	ARM_OP_RPC_PATCH,
	ARM_OP_RPC_DELETE,
	ARM_OP_RP_GET,
	ARM_OP_RP_PUT,
	ARM_OP_RP_DELETE,
	ARM_OP_OPERATION,
	ARM_OP_DISK_GRANT,
	ARM_OP_DISK_REVOKE,
	ARM_OP_COUNT
};
const char *arm_op_name(enum arm_op op);

/* A long-running operation started by a PUT or DELETE (may be NULL). */
struct arm_lro;
void arm_lro_free(struct arm_lro *lro);

/* Create a client from validated options and a credential (borrowed; must
 * outlive the client).  Returns 0, -ENOMEM, -EINVAL. */
int arm_client_new(const struct rpfs_opts *o, struct auth *auth, struct arm_client **out);
void arm_client_free(struct arm_client *c);
const char *arm_subscription(const struct arm_client *c);
void arm_stats_get(struct arm_client *c, struct arm_stats *out);
/* End the pause a 429 set (a flush, SIGHUP): the next request goes out. */
void arm_resume(struct arm_client *c);

/* GET /subscriptions/{sub}/locations (regionType Physical only). */
int arm_list_locations(struct arm_client *c, struct arm_location **out, size_t *n,
		       struct arm_err *err);
/* GET /subscriptions (ids without the /subscriptions/ prefix). */
int arm_list_subscriptions(struct arm_client *c, char ***ids, size_t *n, struct arm_err *err);
/* GET a resource group; *name_out receives ARM's spelling. -ENOENT if absent. */
int arm_get_resource_group(struct arm_client *c, const char *rg, char **name_out,
			   struct arm_err *err);
int arm_list_resource_groups(struct arm_client *c, char ***names, size_t *n, struct arm_err *err);

/* RestorePointCollections_ListAll, following every nextLink.  *pages
 * receives the number of pages fetched (may be NULL). */
int arm_list_collections(struct arm_client *c, struct arm_rpc ***out, size_t *n, unsigned *pages,
			 struct arm_err *err);
/* RestorePointCollections_Get, with $expand=restorePoints when expand. */
int arm_get_collection(struct arm_client *c, const char *rg, const char *name, int expand,
		       struct arm_rpc **out, struct arm_err *err);
/* RestorePoints_Get, with $expand=instanceView when instance_view. */
int arm_get_rp(struct arm_client *c, const char *rg, const char *rpc, const char *rp,
	       int instance_view, struct arm_rp **out, struct arm_err *err);

/* RestorePointCollections_CreateOrUpdate: location + source id (+ tags).
 * Returns when ARM answers 200/201; *out may be NULL. */
int arm_put_collection(struct arm_client *c, const char *rg, const char *name, const char *location,
		       const char *source_id, const struct arm_tag *tags, size_t ntags,
		       struct arm_rpc **out, struct arm_err *err);
/* RestorePointCollections_Update with {"tags":{...}} (replaces all tags). */
int arm_patch_collection_tags(struct arm_client *c, const char *rg, const char *name,
			      const struct arm_tag *tags, size_t ntags, struct arm_rpc **out,
			      struct arm_err *err);
/* RestorePoints_Create: a new point (source_rp_id NULL; consistency may be
 * NULL) or a copy (source_rp_id set).  Returns when ARM accepts (201/200/202);
 * *out (may be NULL) receives the body when there is one; *lro (may be NULL)
 * the operation to poll. */
int arm_put_rp(struct arm_client *c, const char *rg, const char *rpc, const char *rp,
	       const char *source_rp_id, const char *consistency, struct arm_rp **out,
	       struct arm_lro **lro, struct arm_err *err);
/* DELETEs: return when ARM accepts (200/202/204). */
int arm_delete_rp(struct arm_client *c, const char *rg, const char *rpc, const char *rp,
		  struct arm_lro **lro, struct arm_err *err);
int arm_delete_collection(struct arm_client *c, const char *rg, const char *name,
			  struct arm_lro **lro, struct arm_err *err);
/* Poll an operation (Azure-AsyncOperation, else Location, else the
 * resource's provisioningState) until it ends or timeout_s passes.
 * Returns 0 when it Succeeded, -EIO when it Failed/Canceled (err filled),
 * -ETIMEDOUT. */
int arm_lro_wait(struct arm_client *c, struct arm_lro *lro, unsigned timeout_s,
		 struct arm_err *err);

/* DiskRestorePoint_GrantAccess: POST beginGetAccess on a disk restore
 * point (its ARM id, DiskRP api-version api) for read access during
 * duration_s, then follow the operation (final state via Location) to its
 * answer.  *sas receives accessSAS: a secret, never logged; the caller
 * wipes and frees it.  A 409 is -EBUSY (a copy still replicating, another
 * operation) or -EACCES (networkAccessPolicy DenyAll: not exportable). */
int arm_disk_grant(struct arm_client *c, const char *drp_id, const char *api, unsigned duration_s,
		   char **sas, struct arm_err *err);
/* DiskRestorePoint_RevokeAccess: POST endGetAccess (at most timeout_s; 0:
 * op_timeout) and, with wait, follow the operation to its end. */
int arm_disk_revoke(struct arm_client *c, const char *drp_id, const char *api, unsigned timeout_s,
		    int wait, struct arm_err *err);
/* The errno of a refused beginGetAccess (status, code, message). */
int arm_errno_grant(int status, const char *code, const char *message);

/* Render request bodies (used for dry_run and tests). Caller frees. */
char *arm_body_put_collection(const char *location, const char *source_id,
			      const struct arm_tag *tags, size_t ntags);
char *arm_body_put_rp(const char *source_rp_id, const char *consistency);
char *arm_body_patch_tags(const struct arm_tag *tags, size_t ntags);
/* Path (no host, no api-version) of a collection or point; caller frees. */
char *arm_path_rpc(const char *sub, const char *rg, const char *rpc);
char *arm_path_rp(const char *sub, const char *rg, const char *rpc, const char *rp);

/* The one mapping from an ARM answer to an errno (doc/DESIGN.md, Errors). status 0 means
 * a transport failure; transport is a CURLcode-like class:
 * 0 none, 1 cannot connect / TLS, 2 timeout, 3 malformed body. */
int arm_errno(int status, const char *code, int transport);

/* ---- additions ------------------------------------------------------------ */

/* arm_errno() that also reads the message: VMRestorePointClientError that
 * speaks of the restore point limit is EDQUOT (the code alone is shared
 * with concurrent-operation failures, which are EBUSY). */
int arm_errno_msg(int status, const char *code, const char *message, int transport);
/* 1 when an answer is worth retrying: transport failures, 408, 429, 5xx,
 * and 409 for a concurrent operation. */
int arm_retryable(int status, const char *code, int transport);
/* Longest Retry-After obeyed, in seconds: ARM's own are seconds to minutes,
 * so a larger one is a broken answer that must not stop the mount. */
#define ARM_RETRY_AFTER_MAX 300
/* Delay in ms before retry number attempt (0-based).  retry_after_s >= 0
 * (the Retry-After header, capped at ARM_RETRY_AFTER_MAX) is obeyed: the
 * result is never below it.
 * Otherwise exponential backoff with jitter taken from rnd.  Pure. */
long arm_backoff_ms(unsigned attempt, long retry_after_s, unsigned rnd);
/* Encoded URL paths (no host, no query) of a collection, point, group. */
char *arm_url_path_rpc(const char *sub, const char *rg, const char *rpc);
char *arm_url_path_rp(const char *sub, const char *rg, const char *rpc, const char *rp);
char *arm_url_path_rg(const char *sub, const char *rg);
/* The ARM id of the resource an operation is about (NULL when none);
 * owned by lro. */
const char *arm_lro_resource(const struct arm_lro *lro);
/* Poll only one way: ARM_LRO_ASYNC (Azure-AsyncOperation), ARM_LRO_LOCATION
 * (Location) or ARM_LRO_STATE (the resource's provisioningState), dropping
 * the URLs of the other ways.  For tests and diagnostics; -ENOENT when the
 * answer did not offer that way. */
enum arm_lro_style { ARM_LRO_ASYNC, ARM_LRO_LOCATION, ARM_LRO_STATE };
int arm_lro_restrict(struct arm_lro *lro, enum arm_lro_style style);

/* The Azure CLI's default subscription (azureProfile.json in
 * $AZURE_CONFIG_DIR or ~/.azure).  0, -ENOENT, -EIO, -ENOMEM; caller frees. */
int arm_az_default_subscription(char **out);
/* "libcurl X\njson-c Y" into buf, for --version. */
void arm_lib_versions(char *buf, size_t len);

#endif
