/*
 * armjson.h - ARM JSON in and out: the only module that includes json-c.
 *
 * Every parser takes a body and its length and fills plain C structs from
 * arm_types.h.  Unknown fields are ignored; a body that is not JSON, nests deeper
 * than ARMJ_MAX_DEPTH, or lacks a required field (or has it with the wrong
 * type) gives -EIO and leaves nothing allocated.  -ENOMEM on allocation
 * failure.  Output strings are owned by the caller.
 */
#ifndef RPFS_ARMJSON_H
#define RPFS_ARMJSON_H

#include <stddef.h>
#include <time.h>

#include "arm_types.h"

#define ARMJ_MAX_DEPTH 64
/* Bound on list elements accepted from one page. */
#define ARMJ_MAX_ITEMS 100000

/* 0 when body is one well-formed JSON document (within the depth bound),
 * else -EIO. */
int armj_valid(const char *body, size_t len);

/* A restore point collection (GET, PUT, PATCH answer).  Required: id (a
 * collection id), name, location.  Points are parsed when present. */
int armj_parse_rpc(const char *body, size_t len, struct arm_rpc *out);
/* A restore point.  Required: id, name. */
int armj_parse_rp(const char *body, size_t len, struct arm_rp *out);

/* One page of a collection list: appends to *v (capacity *cap, count *n);
 * *next_link receives nextLink or NULL.  Required: value (array). */
int armj_parse_rpc_page(const char *body, size_t len, struct arm_rpc ***v, size_t *n, size_t *cap,
			char **next_link);
/* One page of subscription locations, regionType Physical (or unknown) only. */
int armj_parse_locations_page(const char *body, size_t len, struct arm_location **v, size_t *n,
			      size_t *cap, char **next_link);
/* One page of a list whose elements carry a string `field` (e.g.
 * "subscriptionId" or "name"). */
int armj_parse_names_page(const char *body, size_t len, const char *field, char ***v, size_t *n,
			  size_t *cap, char **next_link);
/* The "name" member of a resource (resource group GET). */
int armj_parse_name(const char *body, size_t len, char **name);
/* properties.provisioningState of a resource; *state NULL when absent. */
int armj_parse_state(const char *body, size_t len, char **state);
/* An operation status document: status (required), error.code/message. */
int armj_parse_op_status(const char *body, size_t len, char **status, char *code, size_t codelen,
			 char *msg, size_t msglen);
/* A CloudError body: error.code and error.message (also the OAuth
 * error/error_description shape).  -EIO when neither is there. */
int armj_parse_cloud_error(const char *body, size_t len, char *code, size_t codelen, char *msg,
			   size_t msglen);

/* A token answer: Entra ({access_token, expires_in number}), IMDS (numbers
 * as strings, expires_on), or az ({accessToken, expires_on, tenant}).
 * *expires_on is epoch seconds (0 when unknown); *tenant may be NULL. */
int armj_parse_token(const char *body, size_t len, char **token, time_t *expires_on, char **tenant);
/* The "tid" claim of a JWT access token, or NULL (no verification). */
char *armj_jwt_tenant(const char *jwt);

/* {"access":"Read","durationInSeconds":N} of DiskRestorePoint_GrantAccess
 * (the model's own request bodies are declared in arm_types.h). */
char *armj_body_grant_access(unsigned duration_s);
/* accessSAS of an AccessUri answer (required, non-empty).  The caller
 * frees it (a secret: wipe it first). */
int armj_parse_access_sas(const char *body, size_t len, char **sas);

/* json-c's pretty print (plus a newline) of a document given as json-c's
 * compact print; out NULL counts.  Returns the length. */
size_t armj_pretty(const char *in, char *out);

/* Disk name from a disk restore point id: the last path segment without a
 * trailing "_GUID".  Caller frees; NULL on allocation failure. */
char *armj_disk_name_from_drp_id(const char *id);

/* The default subscription ("isDefault": true) of the Azure CLI's
 * azureProfile.json text.  0, -ENOENT (none marked), -EIO, -ENOMEM. */
int armj_az_default_subscription(const char *body, size_t len, char **out);
/* json-c's version string (static). */
const char *armj_version(void);

#endif
