/* sim.h - armsim's table of contents: the model, the request/response
 * records and the functions each sim_*.c file offers.
 *
 * armsim is a local stand-in for Azure Resource Manager.  It keeps one
 * subscription in memory (struct sim_model), answers the ARM routes of
 * Microsoft.Resources, Microsoft.Compute restore points and DiskRP disk
 * restore points, serves granted disks as page blobs on a second listener
 * (sim_blob.c), issues tokens, and offers a control API under /_armsim/.
 *
 * Locking: one mutex, sim_g.lock, protects everything in struct sim (model
 * with its disk grants, operations, tokens, faults, log, stats, throttle
 * buckets).  It is never held while sleeping (latency, --blob-rate) or
 * while libmicrohttpd sends a response: a blob body streams from a struct
 * sim_dcontent snapshot its response owns.  Functions named sim_model_*,
 * sim_json_*, sim_auth_*, sim_fault_*, sim_ctl_*, sim_drp_*, sim_grant_* and
 * sim_disk_* expect the caller to hold it unless their comment says
 * otherwise.  A returned char * or json_object * is the caller's to free;
 * a const char * is borrowed (the model, a request, or static).
 */
#ifndef SIM_H
#define SIM_H

#include <config.h>

#include <json-c/json.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#define SIM_MAX_DISKS 8
#define SIM_MAX_BODY (4 * 1024 * 1024)
#define SIM_MAX_OPS 20000
#define SIM_MAX_TOKENS 8192
#define SIM_MAX_LOG 200000
#define SIM_MAX_FAULTS 256
#define SIM_MAX_HDRS 24
#define SIM_MAX_POINTS_PER_VM 500
#define SIM_MAX_IMAGES 16

/* Options, described once in sim_main.c. */
struct sim_opts {
	char *listen;
	char *port_file;
	char *tls_cert, *tls_key;
	int demo;
	char *seed;
	char *state;
	int page_size;
	int latency_ms;
	int token_lifetime;
	double create_seconds;
	double copy_seconds;
	double delete_seconds;
	int retry_after;
	int throttle;
	int rg_upper;	      /* --rg-case upper: Compute ids spell groups in upper case */
	char *policy_tag;     /* --policy-require-tag: collection PUTs need this tag */
	double bucket_cap[3]; /* --throttle-buckets: reads, writes, deletes (0: ARM's) */
	int empty_pages;
	char *accept_token;
	char *log_file;
	char *tenant;
	char *clients[16]; /* "ID:SECRET" */
	int nclients;
	int threads;
	char *blob_listen, *blob_port_file;
	double blob_rate;	      /* MiB/s per blob, 0 = no cap */
	int pagelist_max;	      /* page ranges per Get Page Ranges answer */
	double grant_seconds;	      /* time a beginGetAccess/endGetAccess stays running */
	char *images[SIM_MAX_IMAGES]; /* "DISKNAME=PATH" */
	int nimages;
};

struct sim_disk {
	char *name; /* disk resource name */
	char *id;   /* managed disk ARM id */
	int lun;    /* -1 for the OS disk */
	char *caching;
	int size_gb;
	char *sku; /* storageAccountType */
	char *des; /* disk encryption set id (customer-managed key) or NULL */
	char *nap; /* networkAccessPolicy, or NULL for AllowAll */
	int nalloc;	      /* -1: the default layout; else the seed's allocated extents */
	uint64_t (*alloc)[2]; /* offset, length: sorted, disjoint, 512-aligned */
};

struct sim_vm {
	char *id, *name, *rg, *location;
	char *os_type; /* Linux | Windows */
	char *size;
	char *vm_guid;
	int ndisks; /* disks[0] is the OS disk */
	struct sim_disk disks[SIM_MAX_DISKS];
};

enum sim_pstate { PS_CREATING, PS_SUCCEEDED, PS_FAILED, PS_DELETING };

/* Copy progress: percent of disk i = pct0[i] + (now - base) / dur_i * 100. */
struct sim_copy {
	double base;
	double dur; /* copy-seconds for the slowest disk */
	unsigned char pct0[SIM_MAX_DISKS];
	int failed;
};

struct sim_point {
	char *name;
	enum sim_pstate state;
	char *consistency;
	double created;	  /* timeCreated, sim clock */
	double ready_at;  /* Creating -> Succeeded (or Failed) */
	double del_at;	  /* Deleting -> gone */
	int fail_create;  /* becomes Failed instead of Succeeded */
	char *source_rp;  /* source point id for a copy */
	int vm;		  /* index into model.vms */
	unsigned exclude; /* bit i: disk i of the VM excluded */
	int pmk;	  /* copy of a CMK source: platform keys */
	int instant_access_min;
	struct sim_copy *copy;
};

struct sim_coll {
	char *rg; /* casing as in the collection's id */
	char *name;
	char *location;
	char *source_id;
	char *source_loc;
	int is_copy; /* source is a collection */
	json_object *tags;
	char guid[37];
	int deleting;
	double del_at;
	int instant_access; /* -1 unset */
	int npoints, cap;
	struct sim_point **points;
};

struct sim_rg {
	char *name, *location;
	json_object *tags;
};

struct sim_loc {
	char *name, *display;
};

enum sim_opkind { OP_RP_CREATE, OP_RP_DELETE, OP_COLL_DELETE, OP_DISK_GRANT, OP_DISK_REVOKE };

struct sim_op {
	char id[37];
	enum sim_opkind kind;
	char *location;
	char *target; /* resource id */
	char *result; /* OP_DISK_GRANT: the SAS URL of its answer */
	double start;
};

/* Read access to a disk restore point (beginGetAccess), until it expires
 * or is revoked; its SAS is the blob URL with sig. */
struct sim_grant {
	char *drp_id; /* the disk restore point id, as armsim spells it */
	char sig[48]; /* base64, unguessable */
	char container[16];
	double st, se;	/* the SAS's start and expiry as first issued */
	double expires; /* armsim's clock; extended by beginGetAccess */
	int count;	/* beginGetAccess calls that made or extended it */
};

struct sim_model {
	char *sub, *sub_name, *tenant;
	int nlocs;
	struct sim_loc *locs;
	int nrgs;
	struct sim_rg *rgs;
	int nvms, capvms;
	struct sim_vm *vms;
	int ncolls, capcolls;
	struct sim_coll **colls;
	double next_event;
	int ngrants, capgrants;
	struct sim_grant *grants; /* active (possibly expired) grants */
};

struct sim_token {
	char *token;
	double expires; /* real time; 0 = never */
};

struct sim_fault {
	int id;
	char *op, *prefix, *method;
	char kind[12];
	int status;
	char *code;
	int retry_after;
	int latency_ms;
	long count; /* -1 = unlimited */
	double until; /* real time after which the rule is spent; 0 = never */
	double probability;
	uint64_t rng;
	/* kind "body": the literal answer (repeated), with extra headers */
	char *body;
	size_t body_len;
	long repeat;
	char *hdr_name[4], *hdr_value[4];
	int nhdr;
};

struct sim_bucket {
	double tokens, cap, refill;
	double last;
};

struct sim {
	pthread_mutex_t lock;
	struct sim_opts o;
	struct sim_model m;
	double clock_offset;
	double t0; /* real start time */
	struct sim_op *ops;
	int nops, ops_head;
	struct sim_token *tokens;
	int ntokens;
	struct sim_fault faults[SIM_MAX_FAULTS];
	int nfaults, fault_seq;
	char **log;	/* ring of SIM_MAX_LOG lines (NULL: request still running) */
	long *log_seqs; /* the seq of each slot */
	int nlog, log_start;
	long log_seq;
	json_object *by_op, *by_op_status;
	long total;
	struct sim_bucket reads, writes, deletes;
	int tls;
	uint64_t rng;
	int blob_port;	 /* the blob listener's port, once listening */
	long blob_authz; /* blob requests that carried an Authorization header */
};

extern struct sim sim_g;

/* One HTTP response being built. */
struct sim_resp {
	int status;
	char *body; /* malloc'd, or NULL */
	size_t len;
	int nh;
	char *hn[SIM_MAX_HDRS], *hv[SIM_MAX_HDRS];
	int reset;    /* close the connection without an answer */
	int truncate; /* declare the full length, send half */
	int xml;      /* body is a Storage XML document (blob routes) */
};

/* One parsed request. */
enum sim_route {
	R_NONE,
	R_SUBS,
	R_SUB,
	R_LOCS,
	R_RGS,
	R_RG,
	R_LISTALL,
	R_LIST,
	R_COLL,
	R_POINT,
	R_OP,
	R_TOKEN,
	R_IMDS,
	R_OIDC,
	R_CTL,
	R_DRPS,	  /* .../restorePoints/{rp}/diskRestorePoints */
	R_DRP,	  /* .../diskRestorePoints/{name} */
	R_GRANT,  /* .../diskRestorePoints/{name}/beginGetAccess */
	R_REVOKE, /* .../diskRestorePoints/{name}/endGetAccess */
	R_BLOB	  /* the blob listener */
};

struct sim_req {
	void *conn; /* struct MHD_Connection */
	const char *method;
	const char *path;
	const char *raw_path; /* path as sent, still percent-encoded */
	char *body;
	size_t body_len;
	json_object *jbody; /* parsed body or NULL */
	int body_bad;	    /* a body that is not JSON */
	char query[4096];
	char base[512]; /* scheme://host, for absolute links */
	enum sim_route route;
	const char *opid;
	char sub[128], rg[128], coll[300], point[300], loc[64], opname[64], drp[300];
	char tenant[128];
	const char *api_version;
	char request_id[37];
	const char *auth;
	const char *content_type;
	int monitor;
	long log_seq;	/* place in the log, given on arrival */
	double arrived; /* wall-clock arrival time */
	const char *range; /* blob: the range asked for, or NULL */
	int64_t bytes;	   /* blob: body bytes in the answer */
};

/* sim_main.c */
double sim_real_now(void);
double sim_now(void);

/* Short names for building JSON answers. */
#define jadd json_object_object_add
#define jstr json_object_new_string
#define jint json_object_new_int
#define jbool json_object_new_boolean

/* sim_util.c */
/* Reading request bodies: the string at o.a (NULL when absent, null or not
 * a string); the string at o.a.b.c (fewer keys when b or c is NULL); a
 * number field into *out: 1, 0 when absent, -1 for another type. */
const char *sim_jget_str(json_object *o, const char *a);
const char *sim_jget_path(json_object *o, const char *a, const char *b, const char *c);
int sim_jget_num(json_object *o, const char *k, double *out);
void sim_guid(char out[37]);
void sim_guid_from(char out[37], const char *a, const char *b);
void sim_fmt_time(double t, char *out, size_t n);
void sim_fmt_time_ms(double t, char *out, size_t n);
int sim_parse_time(const char *s, double *out);
char *sim_xstrdup(const char *s);
void sim_resp_header(struct sim_resp *r, const char *name, const char *value);
void sim_resp_json(struct sim_resp *r, int status, json_object *o);
void sim_resp_error(struct sim_resp *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void sim_resp_free(struct sim_resp *r);
int sim_lower_loc(const char *in, char *out, size_t n);
uint64_t sim_rand(uint64_t *state);
uint64_t sim_hash(const char *s, uint64_t h);
void sim_sleep_ms(int ms);
void sim_random_bytes(unsigned char *out, size_t n);

/* sim_regions.c */
struct sim_region {
	const char *name, *display, *geo, *lat, *lon, *physical, *paired;
};
const struct sim_region *sim_region_find(const char *name);
const struct sim_region *sim_region_at(int i);
int sim_region_count(void);

/* sim_model.c */
void sim_model_clear(struct sim_model *m);
struct sim_vm *sim_model_add_vm(struct sim_model *m, const char *rg, const char *name,
				const char *location, const char *os_type, const char *size);
void sim_vm_add_disk(struct sim_vm *v, const char *name, int lun, int size_gb, const char *sku,
		     const char *caching, const char *des);
int sim_model_find_vm(const struct sim_model *m, const char *id);
struct sim_rg *sim_model_find_rg(struct sim_model *m, const char *name);
int sim_model_add_rg(struct sim_model *m, const char *name, const char *location);
void sim_model_add_loc(struct sim_model *m, const char *name, const char *display);
int sim_model_has_loc(const struct sim_model *m, const char *name);
struct sim_coll *sim_model_find_coll(struct sim_model *m, const char *rg, const char *name,
				     int *index);
struct sim_coll *sim_model_find_coll_id(struct sim_model *m, const char *id);
struct sim_coll *sim_model_add_coll(struct sim_model *m, const char *rg, const char *name,
				    const char *location, const char *source_id);
void sim_model_remove_coll(struct sim_model *m, int index);
struct sim_point *sim_coll_find_point(struct sim_coll *c, const char *name, int *index);
struct sim_point *sim_coll_add_point(struct sim_coll *c, const char *name);
void sim_coll_remove_point(struct sim_coll *c, int index);
struct sim_point *sim_model_find_point_id(struct sim_model *m, const char *id,
					  struct sim_coll **cp);
int sim_coll_vm(struct sim_model *m, struct sim_coll *c);
char *sim_coll_id(const struct sim_model *m, const struct sim_coll *c);
char *sim_point_id(const struct sim_model *m, const struct sim_coll *c, const struct sim_point *p);
void sim_point_progress(const struct sim_point *p, const struct sim_vm *v, double now, int *pct,
			int *n);
int sim_model_tick(struct sim_model *m, double now);
void sim_model_note_event(struct sim_model *m, double t);
int sim_name_valid(const char *name);
int sim_rg_name_valid(const char *name);
void sim_point_start_copy(struct sim_point *p, const struct sim_vm *v, double start, double dur);
const char *sim_pstate_name(enum sim_pstate s);
struct sim_op *sim_op_new(enum sim_opkind kind, const char *location, const char *target);
struct sim_op *sim_op_find(const char *id);
int sim_op_status(struct sim_op *op, const char **code, const char **msg);
int sim_id_split(const char *id, char *rg, size_t rgn, char *coll, size_t cn, char *point,
		 size_t pn);

/* sim_json.c (rendering) */
json_object *sim_json_coll(struct sim_model *m, struct sim_coll *c, int expand);
json_object *sim_json_point(struct sim_model *m, struct sim_coll *c, struct sim_point *p,
			    int instance_view);
json_object *sim_json_subscription(struct sim_model *m);
json_object *sim_json_location(struct sim_model *m, const struct sim_loc *l);
json_object *sim_json_rg(struct sim_model *m, struct sim_rg *g);
int sim_json_state_write(struct sim_model *m, FILE *f);

/* sim_arm.c (the ARM operations) */
void sim_arm_handle(struct sim_req *q, struct sim_resp *r);
int sim_api_version_ok(enum sim_route route, const char *v);
const char *sim_api_versions(enum sim_route route);
void sim_arm_page_out(struct sim_req *q, struct sim_resp *r, json_object **items, int n);
void sim_arm_lro_headers(struct sim_req *q, struct sim_resp *r, struct sim_op *op, int retry_after);
const char *sim_arm_arg(struct sim_req *q, const char *name);

/* sim_drp.c (disk restore points and their grants) */
void sim_drp_id(char *out, size_t n, const char *point_id, const char *disk);
void sim_drp_handle(struct sim_req *q, struct sim_resp *r);
struct sim_grant *sim_grant_by_sig(struct sim_model *m, const char *sig);
int sim_grant_revoke(struct sim_model *m, const char *id);
json_object *sim_grant_list(struct sim_model *m);
int sim_grant_sas(const struct sim_grant *g, char *out, size_t n);
void sim_grant_clear(struct sim_model *m);

/* sim_disk.c (a disk restore point's bytes: layout, data, VHD footer) */
struct sim_dcontent {
	uint64_t data_size; /* the blob's size without the footer */
	uint64_t seed;	    /* generated data: a function of the disk's name */
	int fd;		    /* image file (shared, never closed here), or -1 */
	uint64_t img_size;
	int n;
	uint64_t (*ext)[2]; /* allocated extents: offset, length (owned) */
	unsigned char footer[512];
	double created; /* for Last-Modified */
	char etag[40];
};
int sim_disk_find(struct sim_model *m, const char *drp_id, struct sim_coll **c,
		  struct sim_point **p, int *disk);
int sim_disk_content(struct sim_model *m, const char *drp_id, struct sim_dcontent *out);
void sim_disk_content_free(struct sim_dcontent *d);
void sim_disk_read(const struct sim_dcontent *d, uint64_t off, char *buf, size_t n);
int sim_disk_ranges(const struct sim_dcontent *d, uint64_t (**out)[2]);
int sim_disk_images_open(char *err, size_t errn);
void sim_disk_images_close(void);
int sim_disk_alloc_parse(json_object *a, int64_t size, uint64_t (**out)[2], int *n, char *err,
			 size_t errn);
void sim_disk_ctl(struct sim_req *q, struct sim_resp *r);

/* sim_auth.c */
const char *sim_auth_check(const char *authz);
void sim_auth_token(struct sim_req *q, struct sim_resp *r, const char *basic_user,
		    const char *basic_pass);
void sim_auth_imds(struct sim_req *q, struct sim_resp *r, const char *metadata_hdr);
void sim_auth_openid(struct sim_req *q, struct sim_resp *r);
void sim_auth_add_fixed(const char *token);
void sim_auth_clear(void);

/* sim_fault.c */
struct sim_fault_hit {
	int any;
	char kind[12];
	int status;
	char code[64];
	int retry_after;
	int latency_ms;
	int rule_id; /* the rule that fired (kind "body" reads it again) */
};
void sim_fault_match(const struct sim_req *q, struct sim_fault_hit *hits, int *nhits, int max);
int sim_fault_add(json_object *spec, char *err, size_t errn);
json_object *sim_fault_list(void);
void sim_fault_clear(void);
int sim_fault_body(int rule_id, struct sim_resp *r);
int sim_throttle_take(const char *method, struct sim_resp *r);

/* sim_seed.c */
int sim_seed_load_file(struct sim_model *m, const char *path, char *err, size_t errn);
int sim_seed_load_json(struct sim_model *m, json_object *root, char *err, size_t errn);
int sim_state_save(void);
int sim_model_load_initial(struct sim_model *m, int use_state, char *err, size_t errn);

/* sim_demo.c */
void sim_demo_build(struct sim_model *m);

/* sim_ctl.c */
void sim_ctl_handle(struct sim_req *q, struct sim_resp *r);
void sim_ctl_reserve(struct sim_req *q);
void sim_ctl_record(struct sim_req *q, struct sim_resp *r);
int sim_ctl_open_log(const char *path);

/* sim_http.c */
int sim_http_start(void);
void sim_http_stop(void);
void *sim_http_listen(const char *listen, const char *what, const char *port_file, void *handler,
		      int *port);
void sim_http_unlisten(void *daemon);
void sim_http_query(void *conn, char *buf, size_t n);
const char *sim_http_raw_path(void *con_cls);
int sim_http_first_call(void *con_cls);
struct sim_fault_hit;
const struct sim_fault_hit *sim_http_arrive(struct sim_req *q, struct sim_fault_hit *hits, int max,
					    int base_ms, int logged, char *post_fault);
const char *sim_http_arg(void *conn, const char *name);

/* sim_blob.c (the blob listener) */
int sim_blob_start(void);
void sim_blob_stop(void);

#endif
