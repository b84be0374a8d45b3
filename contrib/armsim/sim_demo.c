/* sim_demo.c - the built-in demo subscription (--demo): a realistic,
 * deterministic subscription with every case a client must handle: VMs
 * with 1-3 data disks, a CMK-encrypted VM, cross-region copy pairs, a copy
 * still replicating, a failed copy, a failed restore point, an empty
 * resource group, and one resource group spelled "rg-prod" by the resource
 * group API but "RG-Prod" in some collection ids (ARM keeps the casing each
 * resource was created with).  Names and times are fixed so tests can rely
 * on them. */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DEMO_SUB "8c1b6e44-2f0a-4d3e-9b57-1d4e3f6a9c20"
#define DEMO_TENANT "72f988bf-86f1-41af-91ab-2d7cd011db47"

struct demo_vm {
	const char *rg, *name, *loc, *os, *size;
	int data_disks;
	int cmk;
};

static const struct demo_vm vms[] = {
    {"rg-prod", "vm-web-01", "eastus", "Linux", "Standard_D4s_v5", 2, 0},
    {"rg-prod", "vm-sql-01", "eastus", "Windows", "Standard_E8s_v5", 3, 1},
    {"rg-prod", "vm-app-02", "westus2", "Linux", "Standard_D2s_v5", 1, 0},
    {"rg-dev", "vm-dev-01", "westeurope", "Linux", "Standard_B2ms", 1, 0},
    {"rg-dev", "vm-build-01", "northeurope", "Windows", "Standard_D8s_v5", 2, 0},
    {"rg-analytics", "vm-etl-01", "southeastasia", "Linux", "Standard_E4s_v5", 3, 0},
    {"rg-analytics", "vm-report-01", "japaneast", "Windows", "Standard_D4s_v5", 1, 0},
};

/* A collection: source is a VM index (>= 0) or a collection index (copy, ~n). */
struct demo_coll {
	const char *rg, *name, *loc;
	int vm;	     /* -1 for a copy */
	int src;     /* index of the source collection for a copy */
	int npoints; /* points, or copies of the source's points */
	int first;   /* copies: index of the first source point copied */
	double interval_h;
	const char *env;
};

static const struct demo_coll colls[] = {
    {"rg-prod", "rpc-vm-web-01", "eastus", 0, -1, 10, 0, 24, "prod"},
    {"rg-prod", "rpc-vm-web-01-weekly", "eastus", 0, -1, 4, 0, 168, "prod"},
    {"rg-prod", "rpc-vm-sql-01", "eastus", 1, -1, 6, 0, 24, "prod"},
    {"RG-Prod", "rpc-vm-app-02", "westus2", 2, -1, 6, 0, 12, "prod"},
    {"rg-prod", "rpc-vm-web-01-westus2", "westus2", -1, 0, 3, 5, 0, "dr"},
    {"RG-Prod", "rpc-vm-sql-01-westus3", "westus3", -1, 2, 2, 3, 0, "dr"},
    {"rg-dev", "rpc-vm-dev-01", "westeurope", 3, -1, 6, 0, 24, "dev"},
    {"rg-dev", "rpc-vm-build-01", "northeurope", 4, -1, 5, 0, 48, "dev"},
    {"rg-dev", "rpc-vm-dev-01-northeurope", "northeurope", -1, 6, 2, 2, 0, "dev-dr"},
    {"rg-analytics", "rpc-vm-etl-01", "southeastasia", 5, -1, 6, 0, 24, "analytics"},
    {"rg-analytics", "rpc-vm-etl-01-australiaeast", "australiaeast", -1, 9, 3, 2, 0,
     "analytics-dr"},
    {"rg-analytics", "rpc-vm-report-01", "japaneast", 6, -1, 5, 0, 24, "analytics"},
    {"rg-analytics", "rpc-vm-report-01-koreacentral", "koreacentral", -1, 11, 2, 1, 0,
     "analytics-dr"},
};

/* Fill m with the demo subscription (m must be empty). */
void sim_demo_build(struct sim_model *m)
{
	m->sub = sim_xstrdup(DEMO_SUB);
	m->tenant = sim_xstrdup(sim_g.o.tenant ? sim_g.o.tenant : DEMO_TENANT);
	m->sub_name = sim_xstrdup("Contoso Production");
	for (int i = 0; i < sim_region_count(); i++)
		sim_model_add_loc(m, sim_region_at(i)->name, NULL);
	sim_model_add_rg(m, "rg-prod", "eastus");
	sim_model_add_rg(m, "rg-dev", "westeurope");
	sim_model_add_rg(m, "rg-analytics", "southeastasia");
	sim_model_add_rg(m, "rg-network", "eastus");
	json_object_object_add(m->rgs[0].tags, "env", json_object_new_string("prod"));
	json_object_object_add(m->rgs[1].tags, "env", json_object_new_string("dev"));

	for (size_t i = 0; i < sizeof vms / sizeof vms[0]; i++) {
		const struct demo_vm *d = &vms[i];
		struct sim_vm *v = sim_model_add_vm(m, d->rg, d->name, d->loc, d->os, d->size);
		char des[512] = "", name[256], g[37];
		if (d->cmk)
			snprintf(des, sizeof des,
				 "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/"
				 "diskEncryptionSets/des-%s-cmk",
				 m->sub, d->rg, d->name);
		sim_guid_from(g, v->id, "osdisk");
		snprintf(name, sizeof name, "%s_OsDisk_1_%.8s%.4s%.4s%.4s%.12s", d->name, g, g + 9,
			 g + 14, g + 19, g + 24);
		sim_vm_add_disk(v, name, -1, 128, "Premium_LRS", "ReadWrite", des);
		for (int k = 0; k < d->data_disks; k++) {
			snprintf(name, sizeof name, "%s-data-%02d", d->name, k + 1);
			sim_vm_add_disk(v, name, k, k == 2 ? 1024 : 256 * (k + 1),
					k == 1 ? "StandardSSD_LRS" : "Premium_LRS",
					k == 0 ? "ReadOnly" : "None", des);
		}
	}

	struct tm base_tm = {.tm_year = 2026 - 1900, .tm_mon = 10, .tm_mday = 20, .tm_hour = 2};
	double base = (double)timegm(&base_tm);
	double now = sim_now();
	struct sim_coll *made[sizeof colls / sizeof colls[0]];
	for (size_t i = 0; i < sizeof colls / sizeof colls[0]; i++) {
		const struct demo_coll *d = &colls[i];
		const char *src;
		char *srcid = NULL;
		if (d->vm >= 0) {
			src = m->vms[d->vm].id;
		} else {
			srcid = sim_coll_id(m, made[d->src]);
			src = srcid;
		}
		struct sim_coll *c = sim_model_add_coll(m, d->rg, d->name, d->loc, src);
		char *cid = sim_coll_id(m, c);
		sim_guid_from(c->guid, cid, "restorePointCollectionId");
		free(cid);
		free(srcid);
		json_object_object_add(c->tags, "env", json_object_new_string(d->env));
		json_object_object_add(c->tags, "owner",
				       json_object_new_string(strstr(d->rg, "dev") ? "dev-team"
							      : strstr(d->rg, "analytics")
								  ? "data-team"
								  : "platform-team"));
		made[i] = c;
		if (d->vm >= 0) {
			const struct sim_vm *v = &m->vms[d->vm];
			for (int k = 0; k < d->npoints; k++) {
				double t = base - (d->npoints - 1 - k) * d->interval_h * 3600 +
					   (double)i * 60 + 5.8401519;
				time_t tt = (time_t)t;
				struct tm tm;
				char name[64];
				gmtime_r(&tt, &tm);
				strftime(name, sizeof name,
					 d->interval_h >= 168 ? "rp-weekly-%Y%m%d"
							      : "rp-%Y%m%d-%H%M",
					 &tm);
				struct sim_point *p = sim_coll_add_point(c, name);
				p->vm = d->vm;
				p->created = t;
				p->consistency = sim_xstrdup(!strcmp(v->os_type, "Windows")
								 ? "ApplicationConsistent"
								 : "FileSystemConsistent");
				if (i == 6 && k == d->npoints - 1)
					p->state = PS_FAILED; /* the failed point */
			}
			continue;
		}
		struct sim_coll *sc = made[d->src];
		for (int k = 0; k < d->npoints; k++) {
			struct sim_point *sp = sc->points[d->first + k];
			struct sim_point *p = sim_coll_add_point(c, sp->name);
			p->vm = sp->vm;
			p->created = sp->created + 2 * 3600 + 17.25;
			p->consistency = sim_xstrdup(sp->consistency);
			p->source_rp = sim_point_id(m, sc, sp);
			p->pmk = vms[sp->vm].cmk;
			sim_point_start_copy(p, &m->vms[p->vm], now, sim_g.o.copy_seconds);
			memset(p->copy->pct0, 100, sizeof p->copy->pct0);
			if (i == 4 && k == d->npoints - 1) { /* still replicating */
				p->copy->pct0[0] = 100;
				p->copy->pct0[1] = 60;
				p->copy->pct0[2] = 35;
				p->created = now - 1800;
			}
			if (i == 8 && k == d->npoints - 1) { /* a failed copy */
				p->copy->pct0[1] = 40;
				p->copy->failed = 1;
				p->copy->dur = INFINITY; /* a failed copy stops moving */
			}
		}
	}
}
