/*
 * arm_id.h - ARM ids, name rules and URL paths (arm_id.c; pure, no I/O).
 */
#ifndef RPFS_ARM_ID_H
#define RPFS_ARM_ID_H

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

/* Path (no host, no api-version) of a collection or point; caller frees. */
char *arm_path_rpc(const char *sub, const char *rg, const char *rpc);
char *arm_path_rp(const char *sub, const char *rg, const char *rpc, const char *rp);
/* Encoded URL paths (no host, no query) of a collection, point, group. */
char *arm_url_path_rpc(const char *sub, const char *rg, const char *rpc);
char *arm_url_path_rp(const char *sub, const char *rg, const char *rpc, const char *rp);
char *arm_url_path_rg(const char *sub, const char *rg);

#endif
