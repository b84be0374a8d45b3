/*
 * arm_err.h - the pure decisions about an ARM request (arm_err.c): the name
 * of its operation, the errno of its outcome (doc/DESIGN.md, Errors),
 * whether to retry it and how long to wait first.
 */
#ifndef RPFS_ARM_ERR_H
#define RPFS_ARM_ERR_H

#include "http.h"

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

/* Whose answer it is: the rules for a status differ. */
enum arm_errno_kind {
	ARM_ERRNO_ARM,	 /* an ARM request (doc/DESIGN.md, Errors) */
	ARM_ERRNO_GRANT, /* a refused beginGetAccess: a 409 is EBUSY, or EACCES
			    for a disk that cannot be exported; else as ARM */
	ARM_ERRNO_TOKEN, /* a token endpoint: 200 is 0, a transient answer
			    (408, 429, 5xx) EIO, any other a refusal (EACCES) */
	ARM_ERRNO_IMDS,	 /* IMDS: as a token endpoint, and 404 and 410 (the
			    identity not ready yet, IMDS updating) are transient */
	ARM_ERRNO_BLOB,	 /* Azure Storage with a SAS (a disk's bytes): 401/403
			    EACCES, 404 ENOENT, 400/416 EINVAL, 409/412 (a lease,
			    a changed blob) EBUSY, anything else EIO */
};

/* The one mapping from the outcome of an HTTP request to an errno: a
 * transport failure (transport not HTTP_T_NONE) gives http_transport_errno,
 * else status, code and message (each may be NULL/0) decide by kind.  An
 * ARM answer: 2xx 0, 429 EAGAIN, 401/403 EACCES, 404 ENOENT, a quota code
 * (or VMRestorePointClientError speaking of the restore point limit) EDQUOT,
 * 409 EBUSY for a concurrent operation, EINVAL for copies out of order, else
 * EEXIST; 408 ETIMEDOUT; 400/405/411/413/414/415/422 EINVAL; the rest EIO. */
int arm_errno_of(enum arm_errno_kind kind, int status, const char *code, const char *message,
		 enum http_transport transport);
/* 1 when an answer is worth retrying: transport failures, 408, 429, 5xx,
 * and 409 for a concurrent operation. */
int arm_retryable(int status, const char *code, enum http_transport transport);
/* Longest Retry-After obeyed, in seconds: ARM's own are seconds to minutes,
 * so a larger one is a broken answer that must not stop the mount. */
#define ARM_RETRY_AFTER_MAX 300
/* Delay in ms before retry number attempt (0-based).  retry_after_s >= 0
 * (the Retry-After header, capped at ARM_RETRY_AFTER_MAX) is obeyed: the
 * result is never below it.
 * Otherwise exponential backoff with jitter taken from rnd.  Pure. */
long arm_backoff_ms(unsigned attempt, long retry_after_s, unsigned rnd);

/* The exponential part alone (arm_backoff_ms's, and the blob reader's with
 * its own base and ceiling). */
long arm_backoff_step_ms(unsigned attempt, long base_ms, long max_ms, unsigned rnd);

#endif
