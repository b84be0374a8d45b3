/*
 * arm_err.h - the pure decisions about an ARM request (arm_err.c): the name
 * of its operation, the errno of its outcome (doc/DESIGN.md, Errors),
 * whether to retry it and how long to wait first.
 */
#ifndef RPFS_ARM_ERR_H
#define RPFS_ARM_ERR_H

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

/* The one mapping from an ARM answer to an errno (doc/DESIGN.md, Errors). status 0 means
 * a transport failure; transport is a CURLcode-like class:
 * 0 none, 1 cannot connect / TLS, 2 timeout, 3 malformed body. */
int arm_errno(int status, const char *code, int transport);
/* arm_errno() that also reads the message: VMRestorePointClientError that
 * speaks of the restore point limit is EDQUOT (the code alone is shared
 * with concurrent-operation failures, which are EBUSY). */
int arm_errno_msg(int status, const char *code, const char *message, int transport);
/* The errno of a refused beginGetAccess (status, code, message). */
int arm_errno_grant(int status, const char *code, const char *message);
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

#endif
