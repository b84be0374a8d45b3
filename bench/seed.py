#!/usr/bin/env python3
"""Write an armsim seed for the benchmarks: COLLECTIONS collections of
POINTS restore points each, spread over regions and resource groups.

Every collection has its own VM (so the 500-points-per-VM limit never
applies) with an OS disk and one data disk; every point is Succeeded.
usage: seed.py COLLECTIONS POINTS OUTFILE [--dr-group NAME]
With --dr-group, the subscription also has an empty resource group NAME in
westus2, the target of the copy benchmark.
"""
import json
import sys

SUB = "8c1b6e44-2f0a-4d3e-9b57-1d4e3f6a9c20"
REGIONS = ["eastus", "westus2", "northeurope", "japaneast"]


def main():
    ncol, npts, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    groups = sorted({"rg-bench-%d" % (i % 10) for i in range(ncol)})
    rgs = [{"name": g, "location": "eastus"} for g in groups]
    if len(sys.argv) == 6 and sys.argv[4] == "--dr-group":
        rgs.append({"name": sys.argv[5], "location": "westus2"})
    vms, cols = [], []
    for i in range(ncol):
        region = REGIONS[i % len(REGIONS)]
        rg = "rg-bench-%d" % (i % 10)
        vm = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/vm-%05d" % (SUB, rg, i)
        vms.append({"id": vm, "location": region, "osType": "Linux",
                    "disks": [{"name": "vm-%05d-os" % i}, {"name": "vm-%05d-data" % i, "lun": 0}]})
        points = [{"name": "rp-%04d" % p,
                   "timeCreated": "2026-01-%02dT%02d:%02d:00Z" % (1 + p // 1440 % 28, p // 60 % 24, p % 60)}
                  for p in range(npts)]
        cols.append({"name": "rpc-%05d" % i, "resourceGroup": rg, "location": region,
                     "source": {"id": vm}, "points": points})
    with open(out, "w") as f:
        json.dump({"subscription": SUB, "resourceGroups": rgs, "vms": vms, "collections": cols}, f)


if __name__ == "__main__":
    main()
