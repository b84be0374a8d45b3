/*
 * disk.h - the bytes of disk restore points: disks/NAME.vhd.
 *
 * The disk module sits beside the cache: the tree asks it to open a disk
 * restore point (by its ARM id) and the FUSE layer reads through the
 * handle it got.  Below it: disk_grant.c (read access from ARM, through
 * the ARM client), blob.c (the bytes, with the SAS only) and disk_cache.c
 * (blocks in memory for the whole mount).
 *
 * Thread-safe.  Errors: 0 or a negative errno: -EACCES (disk_read=0, a
 * disk that cannot be exported, a SAS refused twice), -EBUSY (a copy still
 * replicating), -ETIMEDOUT (op_timeout), -EIO, -ENOMEM, and the ARM
 * client's.  Memory: a struct disk_file belongs to whoever opened it
 * (disk_close); strings returned through out pointers are the caller's.
 */
#ifndef RPFS_DISK_H
#define RPFS_DISK_H

#include <stddef.h>
#include <stdint.h>

struct arm_client;
struct cache;
struct disks;
struct disk_file;

struct disks_cfg {
	struct arm_client *arm;	 /* borrowed: grants */
	struct cache *cache;	 /* borrowed, may be NULL: .rpfs/errors */
	const char *cafile;	 /* for the blob's TLS, may be NULL */
	const char *api_version; /* DiskRP api-version (copied) */
	unsigned sas_duration;	 /* seconds asked per grant */
	unsigned disk_idle;	 /* seconds after the last close before endGetAccess */
	unsigned cache_mib;	 /* block memory for the whole mount */
	unsigned conns;		 /* ranged GETs in flight per disk */
	unsigned retries;	 /* blob retries */
	unsigned op_timeout;	 /* seconds a read may wait */
};

int disks_new(const struct disks_cfg *cfg, struct disks **out);
/* Start the housekeeping thread (renewals, idle ends): after daemonizing. */
int disks_start(struct disks *ds);
/* End every grant (endGetAccess) and stop every thread: at unmount and on
 * SIGTERM.  Idempotent. */
void disks_stop(struct disks *ds);
void disks_free(struct disks *ds);

/* Open the disk restore point id, shown at inode ino with size_hint bytes
 * (diskSizeGB x 2^30 + 512).  The first open of a period of use asks ARM
 * for access and the blob for its allocated ranges and size; *changed is
 * set when the inode's attributes (size, blocks) are now known better. */
int disk_open(struct disks *ds, const char *id, uint64_t ino, uint64_t size_hint,
	      struct disk_file **out, int *changed);
/* Read size bytes at off into buf; *got receives the count (short only at
 * the end of the disk). */
int disk_read(struct disk_file *f, char *buf, size_t size, uint64_t off, size_t *got);
/* lseek SEEK_DATA / SEEK_HOLE (whence as in lseek(2)); -ENXIO past the
 * end or when no data follows. */
int disk_lseek(struct disk_file *f, uint64_t off, int whence, uint64_t *out);
/* Close: the last close of a disk starts its idle timer. */
void disk_close(struct disk_file *f);

/* What is known of the disk at inode ino: its real size and allocated
 * bytes.  0, or -ENOENT when it was never opened. */
int disks_attr(struct disks *ds, uint64_t ino, uint64_t *size, uint64_t *allocated);
/* .rpfs/disks: one line per disk restore point opened: id, grant expiry
 * (or -), bytes fetched, blob requests.  Caller frees. */
int disks_render(struct disks *ds, char **out);
/* Lines for .rpfs/stats (block cache use); caller frees. */
int disks_render_stats(struct disks *ds, char **out);

#endif
