#!/usr/bin/env python3
"""Checks for the mounted tests: compare a mount with armsim's model.

  fs_check.py tree STATE.json MOUNT [--no-content]
      every region, resource group, collection and restore point of the
      model is listed where rpfs(1) puts it (and nothing else is); view
      files hold the model's values; every file's size equals its length.
  fs_check.py dups LOG.jsonl
      fails when one GET URL was sent twice (single flight).
  fs_check.py economy STATS.json NCOLLECTIONS
      prints "total expected" for a cold walk: 2 + ListAll pages + collections.
Exit 0 when all is well, 1 with one line per problem otherwise.
"""
import json
import os
import sys

problems = []


def bad(msg):
    problems.append(msg)


def read(path):
    with open(path, "rb") as f:
        return f.read().decode()


def listdir(path):
    try:
        return sorted(os.listdir(path))
    except OSError as e:
        bad("cannot list %s: %s" % (path, e))
        return []


def check_file(path, want):
    try:
        got = read(path)
    except OSError as e:
        bad("cannot read %s: %s" % (path, e))
        return
    if got != want:
        bad("%s: expected %r, got %r" % (path, want, got))


def check_sizes(root):
    for d, dirs, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            # progress and error come from the instance view at each read
            # (direct I/O): st_size is that of the last content read; a
            # disk's bytes (NAME.vhd) are the disk_*.sh tests' business
            if os.path.islink(p) or f in ("progress", "flush", "error") or f.endswith(".vhd"):
                continue
            try:
                size = os.stat(p).st_size
                n = len(open(p, "rb").read())
            except OSError as e:
                bad("%s: %s" % (p, e))
                continue
            if size != n:
                bad("%s: st_size %d but %d bytes" % (p, size, n))


COLL_FILES = {"collection.json", "id", "state", "source", "tags", "origin"}
POINT_FILES = {"restorepoint.json", "id", "state", "consistency", "created", "source",
               "origin", "progress", "error", "disks"}


def is_copy_coll(c):
    return "/restorepointcollections/" in (c.get("source", {}).get("id") or "").lower()


def tree(state_path, mnt, content=True):
    st = json.load(open(state_path))
    cols = st["collections"]
    regions = {(l["name"] if isinstance(l, dict) else l).lower() for l in st.get("locations", [])}
    regions |= {c["location"].lower() for c in cols}
    top = listdir(mnt)
    if ".rpfs" not in top:
        bad("no .rpfs at the top")
    got = {x.lower() for x in top if x != ".rpfs"}
    if got != regions:
        bad("regions differ: missing %s, extra %s" % (sorted(regions - got), sorted(got - regions)))
    by_region = {}
    for c in cols:
        by_region.setdefault(c["location"].lower(), []).append(c)
    for region in sorted(regions):
        rdir = os.path.join(mnt, region)
        rgs = listdir(rdir)
        low = [x.lower() for x in rgs]
        if len(set(low)) != len(low):
            bad("%s: a resource group is listed twice: %s" % (rdir, rgs))
        want = {c["resourceGroup"].lower() for c in by_region.get(region, [])}
        if set(low) != want:
            bad("%s: resource groups %s, expected %s" % (rdir, sorted(low), sorted(want)))
        rgname = {x.lower(): x for x in rgs}
        for rg in want:
            if rg not in rgname:
                continue
            gdir = os.path.join(rdir, rgname[rg])
            names = listdir(gdir)
            wantc = sorted(c["name"] for c in by_region.get(region, []) if c["resourceGroup"].lower() == rg)
            if names != wantc:
                bad("%s: collections %s, expected %s" % (gdir, names[:5], wantc[:5]))
    for c in cols:
        region = c["location"].lower()
        rdir = os.path.join(mnt, region)
        rgs = {x.lower(): x for x in listdir(rdir)}
        rg = rgs.get(c["resourceGroup"].lower())
        if not rg:
            continue
        cdir = os.path.join(rdir, rg, c["name"])
        entries = set(listdir(cdir))
        points = {p["name"]: p for p in c.get("points", []) if p.get("provisioningState") != "Deleting"}
        wantc = (COLL_FILES if is_copy_coll(c) else COLL_FILES - {"origin"}) | set(points)
        if entries != wantc:
            bad("%s: entries %s, expected %s" % (cdir, sorted(entries), sorted(wantc)))
        if not content:
            continue
        check_file(os.path.join(cdir, "id"), c["id"] + "\n")
        check_file(os.path.join(cdir, "source"), c["source"]["id"] + "\n")
        if "provisioningState" in c:
            check_file(os.path.join(cdir, "state"), c["provisioningState"] + "\n")
        check_file(os.path.join(cdir, "tags"),
                   "".join("%s=%s\n" % (k, v) for k, v in c.get("tags", {}).items()))
        try:
            j = json.loads(read(os.path.join(cdir, "collection.json")))
            if j.get("id", "").lower() != c["id"].lower() or "restorePoints" in j.get("properties", {}):
                bad("%s/collection.json: wrong id or has restorePoints" % cdir)
        except (OSError, ValueError) as e:
            bad("%s/collection.json: %s" % (cdir, e))
        if is_copy_coll(c):
            o = os.path.join(cdir, "origin")
            if not os.path.isdir(o) or not os.path.exists(os.path.join(o, "id")):
                bad("%s: origin does not lead to a collection" % cdir)
            elif read(os.path.join(o, "id")).strip().lower() != c["source"]["id"].lower():
                bad("%s: origin leads to %s" % (cdir, read(os.path.join(o, "id")).strip()))
        for name, p in points.items():
            pdir = os.path.join(cdir, name)
            copy = bool(p.get("sourceRestorePoint"))
            want = {"restorepoint.json", "id", "state", "consistency", "created", "disks"}
            if copy:
                want |= {"source", "origin", "progress"}
            if p.get("provisioningState") == "Failed":
                want.add("error")
            got = set(listdir(pdir))
            if got != want:
                bad("%s: entries %s, expected %s" % (pdir, sorted(got), sorted(want)))
            check_file(os.path.join(pdir, "id"), p["id"] + "\n")
            check_file(os.path.join(pdir, "state"), p["provisioningState"] + "\n")
            check_file(os.path.join(pdir, "consistency"), p["consistencyMode"] + "\n")
            check_file(os.path.join(pdir, "created"), p["timeCreated"] + "\n")
            if copy:
                check_file(os.path.join(pdir, "source"), p["sourceRestorePoint"] + "\n")
                o = os.path.join(pdir, "origin", "id")
                if os.path.exists(o) and read(o).strip().lower() != p["sourceRestorePoint"].lower():
                    bad("%s: origin leads elsewhere" % pdir)
            try:
                j = json.loads(read(os.path.join(pdir, "restorepoint.json")))
                if j.get("id", "").lower() != p["id"].lower():
                    bad("%s/restorepoint.json: wrong id" % pdir)
            except (OSError, ValueError) as e:
                bad("%s/restorepoint.json: %s" % (pdir, e))
            disks = set(listdir(os.path.join(pdir, "disks")))
            wantd = {d["name"] + ext for d in p.get("disks", []) for ext in (".json", ".vhd")}
            if disks != wantd:
                bad("%s/disks: %s, expected %s" % (pdir, sorted(disks), sorted(wantd)))
            for d in p.get("disks", []):
                try:
                    j = json.loads(read(os.path.join(pdir, "disks", d["name"] + ".json")))
                    if j.get("name") != d["name"]:
                        bad("%s/disks/%s.json: name %s" % (pdir, d["name"], j.get("name")))
                except (OSError, ValueError) as e:
                    bad("%s/disks/%s.json: %s" % (pdir, d["name"], e))
    if content:
        check_sizes(mnt)


def dups(log_path):
    seen = {}
    for line in open(log_path):
        line = line.strip()
        if not line:
            continue
        r = json.loads(line)
        if r.get("method") != "GET":
            continue
        key = r["path"] + "?" + (r.get("query") or "")
        seen[key] = seen.get(key, 0) + 1
    for k, n in seen.items():
        if n > 1:
            bad("GET sent %d times: %s" % (n, k))


def economy(stats_path, ncoll):
    s = json.load(open(stats_path))
    pages = s["by_op"].get("RestorePointCollections_ListAll", 0)
    # locations and resource groups, ListAll pages, one GET per collection
    print(s["total"], 2 + pages + int(ncoll), pages)


def main():
    cmd = sys.argv[1]
    if cmd == "tree":
        tree(sys.argv[2], sys.argv[3], "--no-content" not in sys.argv)
    elif cmd == "dups":
        dups(sys.argv[2])
    elif cmd == "economy":
        economy(sys.argv[2], sys.argv[3])
        return 0
    for p in problems[:40]:
        print(p)
    if len(problems) > 40:
        print("... and %d more" % (len(problems) - 40))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
