/*
 * arm_types.h - the model of the ARM client: plain C structs for what ARM
 * answers (collections, points, disks, tags, locations) and for what it said
 * about a call (struct arm_err), with their memory (arm_types.c) and their
 * JSON renderings (armjson.c).  No json-c, no I/O.
 *
 * Memory: every struct returned through an out pointer is owned by the
 * caller and freed with the matching *_free().  Strings inside are owned by
 * the struct.
 */
#ifndef RPFS_ARM_TYPES_H
#define RPFS_ARM_TYPES_H

#include <stddef.h>

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

void arm_disk_clear(struct arm_disk *d); /* frees members, not d itself */
void arm_disk_strip(struct arm_disk *d); /* frees what the JSON view holds again; keeps name */
void arm_rp_free(struct arm_rp *rp);
void arm_rp_clear(struct arm_rp *rp); /* frees members, not rp itself */
void arm_rpc_free(struct arm_rpc *rpc);
void arm_rpc_clear(struct arm_rpc *rpc);
void arm_rpc_array_free(struct arm_rpc **v, size_t n);
void arm_locations_free(struct arm_location *v, size_t n);
void arm_strings_free(char **v, size_t n);

/* Render request bodies (compact JSON; used for dry_run and tests); NULL on
 * allocation failure.  Caller frees. */
char *arm_body_put_collection(const char *location, const char *source_id,
			      const struct arm_tag *tags, size_t ntags);
char *arm_body_put_rp(const char *source_rp_id, const char *consistency);
char *arm_body_patch_tags(const struct arm_tag *tags, size_t ntags);

#endif
