#!/usr/bin/env python3
"""Write an armsim seed (the /_armsim/state shape) with N collections.

Collections are spread over a few regions and resource groups; one resource
group is spelled two ways ("rg-bulk-0" and "RG-Bulk-0") in the same region,
as ARM sometimes returns it.  Each collection has one or two points.
usage: gen_seed.py N OUTFILE
"""
import json
import sys

SUB = "8c1b6e44-2f0a-4d3e-9b57-1d4e3f6a9c20"
REGIONS = ["eastus", "westus2", "northeurope", "japaneast"]


def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    cols = []
    for i in range(n):
        region = REGIONS[i % len(REGIONS)]
        rg = "rg-bulk-%d" % (i % 7)
        if i % 7 == 0 and i % 8 >= 4:
            rg = "RG-Bulk-0"
        vm = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/vm-%04d" % (
            SUB, rg, i)
        points = [{"name": "rp-%04d-a" % i}]
        if i % 3 == 0:
            points.append({"name": "rp-%04d-b" % i})
        cols.append({"name": "rpc-%04d" % i, "resourceGroup": rg, "location": region,
                     "source": {"id": vm}, "points": points})
    with open(out, "w") as f:
        json.dump({"subscription": SUB, "collections": cols}, f)


if __name__ == "__main__":
    main()
