/* sim_disk.c - the bytes of a disk restore point, as the blob listener
 * serves them: a fixed VHD (the disk's data, diskSizeGB GiB, then a
 * 512-byte footer), sparse.
 *
 * Allocated extents come from --disk-image (the image file's data extents,
 * found with SEEK_DATA/SEEK_HOLE and rounded out to 512 bytes; zeros past
 * the image's end), else from the seed's "allocated" list of the disk, else
 * from a default layout (the first MiB and a few extents spread over the
 * disk).  Generated data is a pure function of (disk name, offset), so a
 * cross-region copy of a disk holds the same bytes as its source.
 *
 * Images are opened once at start-up and their descriptors shared by every
 * reader (pread only).  struct sim_dcontent is a snapshot a reader owns, so
 * a response streams without sim_g.lock.
 */
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIB (1ULL << 20)

struct image {
	char *name; /* managed disk name */
	int fd;
	uint64_t size;
	int n;
	uint64_t (*ext)[2];
};

static struct image images[SIM_MAX_IMAGES];
static int nimages;

/* Append [off, off+len) to a sorted extent list, merging with the last one. */
static void ext_add(uint64_t (**ext)[2], int *n, int *cap, uint64_t off, uint64_t len)
{
	if (!len)
		return;
	if (*n && (*ext)[*n - 1][0] + (*ext)[*n - 1][1] >= off) {
		uint64_t end = off + len, last = (*ext)[*n - 1][0] + (*ext)[*n - 1][1];
		if (end > last)
			(*ext)[*n - 1][1] = end - (*ext)[*n - 1][0];
		return;
	}
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*ext = realloc(*ext, (size_t)*cap * sizeof **ext);
		if (!*ext)
			abort();
	}
	(*ext)[*n][0] = off;
	(*ext)[*n][1] = len;
	(*n)++;
}

/* The data extents of an image file, 512-aligned. */
static void image_scan(struct image *im)
{
	int cap = 0;
	off_t off = 0;
	while ((uint64_t)off < im->size) {
		off_t d = lseek(im->fd, off, SEEK_DATA);
		if (d < 0 && errno == EINVAL) { /* no SEEK_DATA here: all data */
			ext_add(&im->ext, &im->n, &cap, 0, (im->size + 511) & ~511ULL);
			return;
		}
		if (d < 0)
			break;
		off_t h = lseek(im->fd, d, SEEK_HOLE);
		if (h < 0)
			h = (off_t)im->size;
		uint64_t s = (uint64_t)d & ~511ULL, e = ((uint64_t)h + 511) & ~511ULL;
		ext_add(&im->ext, &im->n, &cap, s, e - s);
		off = h;
	}
}

/* Open every --disk-image DISKNAME=PATH; 0, or -errno with err set. */
int sim_disk_images_open(char *err, size_t errn)
{
	for (int i = 0; i < sim_g.o.nimages; i++) {
		const char *spec = sim_g.o.images[i], *eq = strchr(spec, '=');
		if (!eq || eq == spec || !eq[1]) {
			snprintf(err, errn, "--disk-image wants DISKNAME=PATH, got '%s'", spec);
			return -EINVAL;
		}
		struct image *im = &images[nimages];
		im->fd = open(eq + 1, O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (im->fd < 0 || fstat(im->fd, &st)) {
			snprintf(err, errn, "--disk-image: cannot open %s: %s", eq + 1,
				 strerror(errno));
			if (im->fd >= 0)
				close(im->fd);
			return -errno;
		}
		im->name = strndup(spec, (size_t)(eq - spec));
		im->size = (uint64_t)st.st_size;
		image_scan(im);
		nimages++;
	}
	return 0;
}

/* Close the images. */
void sim_disk_images_close(void)
{
	for (int i = 0; i < nimages; i++) {
		close(images[i].fd);
		free(images[i].name);
		free(images[i].ext);
	}
	nimages = 0;
}

/* Check and sort a seed's "allocated": [[offset, length], ...] for a disk of
 * size bytes; 0, or -22 with err set. */
int sim_disk_alloc_parse(json_object *a, int64_t size, uint64_t (**out)[2], int *n, char *err,
			 size_t errn)
{
	size_t len = json_object_array_length(a);
	uint64_t(*raw)[2] = calloc(len + 1, sizeof *raw);
	if (!raw)
		abort();
	for (size_t i = 0; i < len; i++) {
		json_object *e = json_object_array_get_idx(a, i);
		int pair = json_object_is_type(e, json_type_array) && json_object_array_length(e) == 2;
		json_object *o = pair ? json_object_array_get_idx(e, 0) : NULL;
		json_object *l = pair ? json_object_array_get_idx(e, 1) : NULL;
		if (!pair || !json_object_is_type(o, json_type_int) ||
		    !json_object_is_type(l, json_type_int) || json_object_get_int64(o) < 0 ||
		    json_object_get_int64(l) <= 0 || json_object_get_int64(o) % 512 ||
		    json_object_get_int64(l) % 512 ||
		    json_object_get_int64(o) + json_object_get_int64(l) > size) {
			snprintf(err, errn,
				 "[%zu]: expected [offset, length] in bytes, 512-aligned, within "
				 "the disk's %lld bytes",
				 i, (long long)size);
			free(raw);
			return -22;
		}
		raw[i][0] = (uint64_t)json_object_get_int64(o);
		raw[i][1] = (uint64_t)json_object_get_int64(l);
	}
	/* insertion sort: seeds hold a handful of extents */
	for (size_t i = 1; i < len; i++)
		for (size_t k = i; k > 0 && raw[k - 1][0] > raw[k][0]; k--) {
			uint64_t t0 = raw[k][0], t1 = raw[k][1];
			raw[k][0] = raw[k - 1][0], raw[k][1] = raw[k - 1][1];
			raw[k - 1][0] = t0, raw[k - 1][1] = t1;
		}
	int cap = 0;
	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < len; i++)
		ext_add(out, n, &cap, raw[i][0], raw[i][1]);
	free(raw);
	return 0;
}

/* Append the extents of src that lie below size (clipped). */
static void ext_copy(uint64_t (**ext)[2], int *n, int *cap, uint64_t (*src)[2], int ns,
		     uint64_t size)
{
	for (int i = 0; i < ns && src[i][0] < size; i++) {
		uint64_t len = src[i][1];
		if (src[i][0] + len > size)
			len = size - src[i][0];
		ext_add(ext, n, cap, src[i][0], len);
	}
}

/* The default layout: the first MiB, 2 MiB at a quarter, 192 KiB past the
 * middle, the last MiB. */
static void ext_default(uint64_t (**ext)[2], int *n, int *cap, uint64_t size)
{
	uint64_t e[4][2] = {{0, MIB},
			    {(size / 4) & ~(MIB - 1), 2 * MIB},
			    {((size / 2) & ~(MIB - 1)) + 64 * 1024, 192 * 1024},
			    {size - MIB, MIB}};
	for (int i = 0; i < 4; i++) {
		if (e[i][0] >= size)
			continue;
		if (i && e[i][0] < (*n ? (*ext)[*n - 1][0] : 0))
			continue; /* tiny disk: keep the list sorted */
		ext_add(ext, n, cap, e[i][0], e[i][0] + e[i][1] > size ? size - e[i][0] : e[i][1]);
	}
}

/* Big-endian store of the low n bytes of v. */
static void put_be(unsigned char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

/* A fixed VHD footer for size bytes of data (the VHD specification's layout
 * and CHS geometry algorithm). */
static void footer_make(unsigned char f[512], uint64_t size, const char *name)
{
	memset(f, 0, 512);
	memcpy(f, "conectix", 8);
	put_be(f + 8, 2, 4);					  /* features: reserved bit */
	put_be(f + 12, 0x00010000, 4);				  /* file format version 1.0 */
	put_be(f + 16, UINT64_MAX, 8);				  /* data offset: none (fixed) */
	put_be(f + 24, sim_hash(name, 0x9e37) % 700000000ULL, 4); /* seconds since 2000 */
	memcpy(f + 28, "win ", 4);				  /* creator application */
	put_be(f + 32, 0x000a0000, 4);				  /* creator version */
	memcpy(f + 36, "Wi2k", 4);				  /* creator host OS */
	put_be(f + 40, size, 8);				  /* original size */
	put_be(f + 48, size, 8);				  /* current size */
	uint64_t total = size / 512, spt, heads, cth;
	if (total > 65535ULL * 16 * 255)
		total = 65535ULL * 16 * 255;
	if (total >= 65535ULL * 16 * 63) {
		spt = 255, heads = 16, cth = total / spt;
	} else {
		spt = 17, cth = total / spt, heads = (cth + 1023) / 1024;
		if (heads < 4)
			heads = 4;
		if (cth >= heads * 1024 || heads > 16)
			spt = 31, heads = 16, cth = total / spt;
		if (cth >= heads * 1024)
			spt = 63, heads = 16, cth = total / spt;
	}
	put_be(f + 56, cth / heads, 2);
	f[58] = (unsigned char)heads;
	f[59] = (unsigned char)spt;
	put_be(f + 60, 2, 4); /* disk type: fixed */
	char g[37];
	sim_guid_from(g, name, "vhd");
	for (int i = 0, k = 0; i < 16 && g[k]; k++) {
		if (g[k] == '-')
			continue;
		unsigned v;
		sscanf(g + k, "%2x", &v);
		f[68 + i++] = (unsigned char)v;
		k++;
	}
	uint32_t sum = 0;
	for (int i = 0; i < 512; i++)
		sum += f[i];
	put_be(f + 64, ~sum, 4);
}

/* Snapshot the bytes of a disk restore point for reading without the
 * lock; 0 or -2.  Free with sim_disk_content_free. */
int sim_disk_content(struct sim_model *m, const char *drp_id, struct sim_dcontent *out)
{
	struct sim_coll *c;
	struct sim_point *p;
	int disk, cap = 0;
	memset(out, 0, sizeof *out);
	out->fd = -1;
	if (sim_disk_find(m, drp_id, &c, &p, &disk))
		return -2;
	const struct sim_disk *d = &m->vms[p->vm].disks[disk];
	out->data_size = (uint64_t)d->size_gb << 30;
	out->seed = sim_hash(d->name, 0xcbf29ce484222325ULL);
	out->created = p->created;
	snprintf(out->etag, sizeof out->etag, "\"0x8DC%013llX\"",
		 (unsigned long long)(sim_hash(drp_id, 7) & 0xFFFFFFFFFFFFFULL));
	const struct image *im = NULL;
	for (int i = 0; i < nimages; i++)
		if (!strcasecmp(images[i].name, d->name))
			im = &images[i];
	if (im) {
		out->fd = im->fd;
		out->img_size = im->size;
		ext_copy(&out->ext, &out->n, &cap, im->ext, im->n, out->data_size);
	} else if (d->nalloc >= 0) {
		ext_copy(&out->ext, &out->n, &cap, d->alloc, d->nalloc, out->data_size);
	} else {
		ext_default(&out->ext, &out->n, &cap, out->data_size);
	}
	footer_make(out->footer, out->data_size, d->name);
	return 0;
}

/* Free a snapshot's extents. */
void sim_disk_content_free(struct sim_dcontent *d)
{
	free(d->ext);
	d->ext = NULL;
}

/* splitmix64: the generated word at index w of a disk. */
static inline uint64_t gen_word(uint64_t seed, uint64_t w)
{
	uint64_t z = seed + (w + 1) * 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Generated bytes [off, off+n) of a disk. */
static void gen_fill(uint64_t seed, uint64_t off, char *buf, size_t n)
{
	while (n && (off & 7)) {
		uint64_t w = gen_word(seed, off >> 3);
		*buf++ = (char)(w >> (8 * (off & 7)));
		off++, n--;
	}
	for (; n >= 8; n -= 8, off += 8, buf += 8) {
		uint64_t w = gen_word(seed, off >> 3);
		memcpy(buf, &w, 8); /* host order: fine for a pure function on one host */
	}
	if (n) {
		uint64_t w = gen_word(seed, off >> 3);
		for (size_t i = 0; i < n; i++)
			buf[i] = (char)(w >> (8 * i));
	}
}

/* Image bytes [off, off+n): the file, zeros past its end. */
static void image_fill(const struct sim_dcontent *d, uint64_t off, char *buf, size_t n)
{
	size_t got = 0;
	while (got < n && off + got < d->img_size) {
		ssize_t k = pread(d->fd, buf + got, n - got, (off_t)(off + got));
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	memset(buf + got, 0, n - got);
}

/* Bytes [off, off+n) of the blob (data, zeros in holes, the footer). */
void sim_disk_read(const struct sim_dcontent *d, uint64_t off, char *buf, size_t n)
{
	while (n) {
		size_t k;
		if (off >= d->data_size) {
			uint64_t f = off - d->data_size;
			k = f >= 512 ? n : n < 512 - f ? n : (size_t)(512 - f);
			if (f >= 512)
				memset(buf, 0, k);
			else
				memcpy(buf, d->footer + f, k);
		} else {
			int lo = 0, hi = d->n; /* first extent ending past off */
			while (lo < hi) {
				int mid = (lo + hi) / 2;
				if (d->ext[mid][0] + d->ext[mid][1] <= off)
					lo = mid + 1;
				else
					hi = mid;
			}
			uint64_t start = lo < d->n ? d->ext[lo][0] : d->data_size;
			if (off < start) {
				k = start - off < n ? (size_t)(start - off) : n;
				memset(buf, 0, k);
			} else {
				uint64_t end = d->ext[lo][0] + d->ext[lo][1];
				k = end - off < n ? (size_t)(end - off) : n;
				if (d->fd >= 0)
					image_fill(d, off, buf, k);
				else
					gen_fill(d->seed, off, buf, k);
			}
		}
		buf += k, off += k, n -= k;
	}
}

/* The allocated ranges of the blob, footer included: [start, end] inclusive. */
int sim_disk_ranges(const struct sim_dcontent *d, uint64_t (**out)[2])
{
	int n = 0, cap = 0;
	*out = NULL;
	ext_copy(out, &n, &cap, d->ext, d->n, d->data_size);
	ext_add(out, &n, &cap, d->data_size, 512);
	for (int i = 0; i < n; i++)
		(*out)[i][1] = (*out)[i][0] + (*out)[i][1] - 1;
	return n;
}

/* The SHA-256 of the whole blob (size bytes), in hex. */
static void sha256_hex(const struct sim_dcontent *d, uint64_t size, char hex[65])
{
	gnutls_hash_hd_t h;
	size_t bs = 4 * MIB;
	char *buf = malloc(bs);
	unsigned char dig[32];
	if (!buf || gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		abort();
	for (uint64_t off = 0; off < size; off += bs) {
		size_t k = size - off < bs ? (size_t)(size - off) : bs;
		sim_disk_read(d, off, buf, k);
		gnutls_hash(h, buf, k);
	}
	gnutls_hash_deinit(h, dig);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", dig[i]);
	free(buf);
}

/* GET /_armsim/disk?id=ID[&hash=0]: size, allocated bytes, sha256 of the
 * whole blob (unless hash=0), ranges.  Takes sim_g.lock itself, and hashes
 * without it. */
void sim_disk_ctl(struct sim_req *q, struct sim_resp *r)
{
	const char *id = sim_http_arg(q->conn, "id"), *hash = sim_http_arg(q->conn, "hash");
	struct sim_dcontent d;
	pthread_mutex_lock(&sim_g.lock);
	int rc = strcmp(q->method, "GET") ? -1 : sim_disk_content(&sim_g.m, id, &d);
	pthread_mutex_unlock(&sim_g.lock);
	if (rc) {
		sim_resp_error(r, rc == -1 ? 405 : 404, "NotFound", "no disk restore point %s",
			       id ? id : "(no ?id=)");
		return;
	}
	uint64_t(*rg)[2];
	int n = sim_disk_ranges(&d, &rg);
	uint64_t size = d.data_size + 512, alloc = 0;
	char hex[65] = "";
	if (!hash || strcmp(hash, "0"))
		sha256_hex(&d, size, hex);
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	for (int i = 0; i < n; i++) {
		json_object *e = json_object_new_array();
		json_object_array_add(e, json_object_new_int64((int64_t)rg[i][0]));
		json_object_array_add(e, json_object_new_int64((int64_t)rg[i][1]));
		json_object_array_add(a, e);
		alloc += rg[i][1] - rg[i][0] + 1;
	}
	json_object_object_add(o, "size", json_object_new_int64((int64_t)size));
	json_object_object_add(o, "allocated", json_object_new_int64((int64_t)alloc));
	json_object_object_add(o, "sha256", *hex ? json_object_new_string(hex) : NULL);
	json_object_object_add(o, "ranges", a);
	sim_resp_json(r, 200, o);
	free(rg);
	sim_disk_content_free(&d);
}
