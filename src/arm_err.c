/*
 * arm_err.c - the decisions about an answer, kept pure for testing: which
 * errno it becomes (doc/DESIGN.md, Errors) whoever answered (ARM, a disk
 * grant, a token endpoint, IMDS), whether it is worth retrying, and how
 * long to wait before the retry; and the names of ARM's operations.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "arm_err.h"

/* Codes ARM and Compute use for an operation that conflicts with another
 * one still running on the same VM or resource. */
static const char *const arm_busy_codes[] = {
    "VMRestorePointClientError",    "ConflictingOperation",
    "OperationPreempted",	    "AnotherOperationInProgress",
    "ConcurrentOperation",	    "RetryableError",
    "Conflict_OperationInProgress", NULL,
};

/* Codes for a quota or count limit. */
static const char *const arm_quota_codes[] = {
    "QuotaExceeded",
    "OperationNotAllowedQuotaExceeded",
    "RestorePointLimitExceeded",
    "MaxRestorePointsLimitReached",
    "TooManyRestorePoints",
    "LimitExceeded",
    NULL,
};

/* 1 when code is one of list (case-insensitive). */
static int arm_code_in(const char *code, const char *const *list)
{
	for (; code && *list; list++)
		if (!strcasecmp(code, *list))
			return 1;
	return 0;
}

/* 1 when a message speaks of the restore point count limit. */
static int arm_msg_is_limit(const char *msg)
{
	return msg && (strcasestr(msg, "maximum allowed") || strcasestr(msg, "limit"));
}

/* 1 when a conflict message says the resource is busy, not that it exists:
 * being deleted, another operation running, or not yet in a usable state. */
static int arm_msg_is_busy(const char *msg)
{
	return msg && (strcasestr(msg, "being deleted") || strcasestr(msg, "in progress") ||
		       strcasestr(msg, "is in state"));
}

/* The errno of a token endpoint's (or IMDS') answer: transient or a refusal. */
static int arm_errno_token(int status, int imds)
{
	if (status == 200)
		return 0;
	if (status >= 500 || status == 429 || status == 408 ||
	    (imds && (status == 404 || status == 410)))
		return -EIO;
	return -EACCES;
}

/* A refused beginGetAccess: a disk that cannot be exported
 * (networkAccessPolicy DenyAll) is EACCES; any other 409 (a copy still
 * being replicated, an operation in progress) is EBUSY. */
static int arm_errno_grant_409(const char *message)
{
	if (message && (strcasestr(message, "DenyAll") || strcasestr(message, "export") ||
			strcasestr(message, "network access")))
		return -EACCES;
	return -EBUSY;
}

/* Azure Storage's answer to a read by SAS. */
static int arm_errno_blob(int status)
{
	if (status >= 200 && status < 300)
		return 0;
	if (status == 401 || status == 403)
		return -EACCES;
	if (status == 404)
		return -ENOENT;
	if (status == 400 || status == 416)
		return -EINVAL;
	if (status == 409 || status == 412)
		return -EBUSY;
	return -EIO;
}

/* The one mapping from the outcome of an HTTP request to an errno. */
int arm_errno_of(enum arm_errno_kind kind, int status, const char *code, const char *message,
		 enum http_transport transport)
{
	if (transport != HTTP_T_NONE)
		return http_transport_errno(transport);
	if (kind == ARM_ERRNO_TOKEN || kind == ARM_ERRNO_IMDS)
		return arm_errno_token(status, kind == ARM_ERRNO_IMDS);
	if (kind == ARM_ERRNO_GRANT && status == 409)
		return arm_errno_grant_409(message);
	if (kind == ARM_ERRNO_BLOB)
		return arm_errno_blob(status);
	if (status >= 200 && status < 300)
		return 0;
	if (status == 0)
		return -EIO;
	if (status == 429)
		return -EAGAIN;
	if (status == 401 || status == 403)
		return -EACCES;
	if (status == 404)
		return -ENOENT;
	if (arm_code_in(code, arm_quota_codes))
		return -EDQUOT;
	if (code && !strcasecmp(code, "VMRestorePointClientError") && arm_msg_is_limit(message))
		return -EDQUOT;
	if (status == 409) {
		if (arm_code_in(code, arm_busy_codes) || arm_msg_is_busy(message))
			return -EBUSY;
		/* A documented rule broken (copies in order): not "exists". */
		if (message && strcasestr(message, "in order"))
			return -EINVAL;
		return -EEXIST;
	}
	if (arm_code_in(code, arm_busy_codes) && status < 500)
		return -EBUSY;
	if (status == 408)
		return -ETIMEDOUT;
	if (status == 400 || status == 405 || status == 411 || status == 413 || status == 414 ||
	    status == 415 || status == 422)
		return -EINVAL;
	return -EIO;
}

/* 1 when an answer (or its absence) is worth retrying. */
int arm_retryable(int status, const char *code, enum http_transport transport)
{
	if (transport != HTTP_T_NONE)
		return 1;
	if (status == 408 || status == 429 || status >= 500)
		return 1;
	/* A concurrent operation on the VM may clear: retry it too. */
	if (status == 409 && arm_code_in(code, arm_busy_codes))
		return 1;
	return 0;
}

/* Delay in ms before retry number `attempt` (0-based): Retry-After when the
 * server gave one (at most ARM_RETRY_AFTER_MAX s, plus up to 250 ms of
 * jitter, never less), else
 * exponential backoff from 250 ms doubling to a 16 s ceiling, with
 * "equal jitter": half the step fixed, half random from rnd. */
long arm_backoff_ms(unsigned attempt, long retry_after_s, unsigned rnd)
{
	if (retry_after_s >= 0) {
		if (retry_after_s > ARM_RETRY_AFTER_MAX)
			retry_after_s = ARM_RETRY_AFTER_MAX;
		return retry_after_s * 1000 + (long)(rnd % 251);
	}
	return arm_backoff_step_ms(attempt, 250, 16000, rnd);
}

/* Exponential backoff with "equal jitter": the step is base_ms doubled per
 * attempt (at most 64 times, never above max_ms); half of it is fixed,
 * half random from rnd. */
long arm_backoff_step_ms(unsigned attempt, long base_ms, long max_ms, unsigned rnd)
{
	long step = base_ms << (attempt > 6 ? 6 : attempt);

	if (step > max_ms)
		step = max_ms;
	return step / 2 + (long)(rnd % (unsigned)(step / 2 + 1));
}

/* Name of an operation (ARM's operationId). */
const char *arm_op_name(enum arm_op op)
{
	static const char *const names[ARM_OP_COUNT] = {
	    [ARM_OP_LOCATIONS] = "Subscriptions_ListLocations",
	    [ARM_OP_SUBSCRIPTIONS] = "Subscriptions_List",
	    [ARM_OP_RESOURCE_GROUP] = "ResourceGroups_Get",
	    [ARM_OP_RESOURCE_GROUPS] = "ResourceGroups_List",
	    [ARM_OP_RPC_LIST_ALL] = "RestorePointCollections_ListAll",
	    [ARM_OP_RPC_LIST] = "RestorePointCollections_List",
	    [ARM_OP_RPC_GET] = "RestorePointCollections_Get",
	    [ARM_OP_RPC_PUT] = "RestorePointCollections_CreateOrUpdate",
	    [ARM_OP_RPC_PATCH] = "RestorePointCollections_Update",
	    [ARM_OP_RPC_DELETE] = "RestorePointCollections_Delete",
	    [ARM_OP_RP_GET] = "RestorePoints_Get",
	    [ARM_OP_RP_PUT] = "RestorePoints_Create",
	    [ARM_OP_RP_DELETE] = "RestorePoints_Delete",
	    [ARM_OP_OPERATION] = "Operations_Get",
	    [ARM_OP_DISK_GRANT] = "DiskRestorePoint_GrantAccess",
	    [ARM_OP_DISK_REVOKE] = "DiskRestorePoint_RevokeAccess",
	};

	if ((unsigned)op >= ARM_OP_COUNT)
		return "unknown";
	return names[op];
}
