/*
 * arm.h - the Azure Resource Manager client of rpfs: the only header the
 * cache layer sees.  Below it sit armjson.c (the only json-c user), http.c
 * (the only libcurl user) and the auth_*.c sources; the model, the ids and
 * the errno policy have headers of their own (arm_types.h, arm_id.h,
 * arm_err.h), included here.
 *
 * Every call is synchronous and thread-safe; many threads may call into one
 * struct arm_client at once (connections are pooled below).  Calls return 0
 * or a negative errno, mapped from ARM's answer by arm_err.c exactly as
 * doc/DESIGN.md (Errors) says.  When `err` is not NULL it receives the details of the
 * failure (or of the last response on success: status and request id).
 */
#ifndef RPFS_ARM_H
#define RPFS_ARM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "arm_err.h"
#include "arm_id.h"
#include "arm_types.h"

struct auth;

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

/* A long-running operation started by a PUT or DELETE (may be NULL). */
struct arm_lro;
void arm_lro_free(struct arm_lro *lro);

/* What a client is made from (validated options; main.c fills it).
 * Strings are copied. */
struct arm_cfg {
	const char *endpoint;	  /* required; trailing slashes are dropped */
	const char *subscription; /* NULL before one is picked (subscriptions list) */
	const char *api_version;  /* Compute api-version, NULL or "": 2025-04-01 */
	const char *cafile;	  /* extra CA bundle, may be NULL */
	unsigned retries;	  /* retries of a failed request */
	unsigned op_timeout;	  /* seconds one call may take, 0: 30 */
	unsigned max_conns;	  /* concurrent requests, 0: 8 */
	double read_rate;	  /* rpfs's own read bucket, requests per second */
	double write_rate;	  /* and its write bucket */
};

/* Create a client and its connection pool; the credential is borrowed
 * (it must outlive the client).  Returns 0, -ENOMEM, -EINVAL. */
int arm_client_new(const struct arm_cfg *cfg, struct auth *auth, struct arm_client **out);
void arm_client_free(struct arm_client *c);
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
