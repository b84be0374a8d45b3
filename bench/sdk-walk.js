#!/usr/bin/env node
// sdk-walk.js - the benchmark peer: what a program written with the official
// Azure SDK for JavaScript (@azure/arm-compute) does to see what `ls -lR` on
// rpfs shows: list every restore point collection of the subscription, get
// each collection with $expand=restorePoints, and get each restore point.
//
// It runs the walk sequentially (--parallel 1, the way the SDK's samples are
// written) or with up to N requests in flight (--parallel N): collection GETs
// start as soon as the listing page that names them arrives, and point GETs
// as soon as their collection has been read.  Requests are counted below the
// SDK's retry policy, so retries count too.  It prints one JSON line:
//   {"requests":N,"ms":M,"collections":C,"points":P,"parallel":N,"pages":L}
//
// Usage: node sdk-walk.js --endpoint URL [--subscription SUB] [--parallel N]
//          [--token TOKEN | --tenant T --client-id ID --client-secret S]
// An https endpoint needs NODE_EXTRA_CA_CERTS naming the CA of its
// certificate.  Over plain http (armsim on loopback) the SDK refuses to send
// a bearer token, so the script swaps the SDK's token policy for one that
// sets the same Authorization header; everything else is the SDK's.
// The SDK is the version pinned in package-lock.json here.  When node cannot
// find it (NODE_PATH or a node_modules above this file), the script installs
// it once with `npm ci` into a cache keyed by the lock file's hash
// (RPFS_SDK_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/rpfs-sdk), never into
// the source tree, which `make dist` ships whole.

"use strict";

const childProcess = require("child_process");
const crypto = require("crypto");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { createRequire } = require("module");

// loadSdk returns @azure/arm-compute, installing the pinned version into the
// cache first when node cannot find it.
function loadSdk() {
  try {
    return require("@azure/arm-compute");
  } catch (e) {
    if (e.code !== "MODULE_NOT_FOUND") throw e;
  }
  const lock = path.join(__dirname, "package-lock.json");
  const hash = crypto.createHash("sha256").update(fs.readFileSync(lock)).digest("hex").slice(0, 16);
  const base = process.env.RPFS_SDK_CACHE ||
    path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "rpfs-sdk");
  const dir = path.join(base, `walk-${hash}`);
  if (!fs.existsSync(path.join(dir, ".complete"))) {
    fs.mkdirSync(base, { recursive: true });
    const tmp = fs.mkdtempSync(path.join(base, "install."));
    fs.copyFileSync(path.join(__dirname, "package.json"), path.join(tmp, "package.json"));
    fs.copyFileSync(lock, path.join(tmp, "package-lock.json"));
    console.error(`sdk-walk: installing the pinned Azure SDK into ${dir}`);
    try {
      childProcess.execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], {
        cwd: tmp,
        stdio: ["ignore", 2, 2],
        env: { ...process.env, npm_config_cache: path.join(base, "npm-cache") },
      });
      fs.writeFileSync(path.join(tmp, ".complete"), "");
      fs.renameSync(tmp, dir);
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      if (!fs.existsSync(path.join(dir, ".complete"))) throw new Error(`npm ci failed: ${e.message}`);
    }
  }
  return createRequire(path.join(dir, "package.json"))("@azure/arm-compute");
}

const { ComputeManagementClient } = loadSdk();

// parseArgs turns --name value pairs into an object, with defaults.
function parseArgs(argv) {
  const o = {
    endpoint: process.env.ARMSIM_URL || "",
    subscription: "8c1b6e44-2f0a-4d3e-9b57-1d4e3f6a9c20",
    parallel: "1",
    token: "",
    tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47",
    "client-id": "",
    "client-secret": "",
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--") || i + 1 >= argv.length || !(a.slice(2) in o)) {
      console.error(`sdk-walk: bad argument ${a}\n` +
        "usage: sdk-walk.js --endpoint URL [--subscription SUB] [--parallel N] " +
        "[--token TOKEN | --tenant T --client-id ID --client-secret S]");
      process.exit(2);
    }
    o[a.slice(2)] = argv[++i];
  }
  o.endpoint = o.endpoint.replace(/\/+$/, "");
  o.parallel = parseInt(o.parallel, 10);
  if (!o.endpoint || !(o.parallel >= 1) || (!o.token && !(o["client-id"] && o["client-secret"]))) {
    console.error("sdk-walk: need --endpoint, --parallel >= 1, and --token or --client-id/--client-secret");
    process.exit(2);
  }
  return o;
}

// secretCredential: client credentials against the Entra v2 token endpoint
// under the same base URL (armsim serves it), cached until near expiry.
function secretCredential(o) {
  let cached = null;
  return {
    async getToken(scopes) {
      if (cached && cached.expiresOnTimestamp - Date.now() > 300000) return cached;
      const form = new URLSearchParams({
        client_id: o["client-id"],
        client_secret: o["client-secret"],
        grant_type: "client_credentials",
        scope: [].concat(scopes)[0],
      });
      const r = await fetch(`${o.endpoint}/${o.tenant}/oauth2/v2.0/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form.toString(),
      });
      const body = await r.json();
      if (!r.ok || typeof body.access_token !== "string") throw new Error(`token endpoint: HTTP ${r.status}`);
      cached = { token: body.access_token, expiresOnTimestamp: Date.now() + Number(body.expires_in || 3599) * 1000 };
      return cached;
    },
  };
}

// staticCredential: a fixed token (armsim --accept-token).
function staticCredential(token) {
  return { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600000 }) };
}

// Pool runs queued async tasks with at most LIMIT in flight; done() resolves
// when the queue is empty and nothing runs.
class Pool {
  constructor(limit) {
    this.limit = limit;
    this.queue = [];
    this.running = 0;
    this.error = null;
    this.idle = [];
  }
  push(task) {
    this.queue.push(task);
    this.pump();
  }
  pump() {
    while (this.running < this.limit && this.queue.length > 0 && !this.error) {
      const task = this.queue.shift();
      this.running++;
      task()
        .catch((e) => {
          this.error = this.error || e;
        })
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
    if ((this.running === 0 && this.queue.length === 0) || (this.error && this.running === 0)) {
      const waiters = this.idle;
      this.idle = [];
      waiters.forEach((w) => w());
    }
  }
  done() {
    return new Promise((resolve, reject) => {
      const settle = () => (this.error ? reject(this.error) : resolve());
      if (this.running === 0 && (this.queue.length === 0 || this.error)) settle();
      else this.idle.push(settle);
    });
  }
}

function rgOf(id) {
  const m = /\/resourceGroups\/([^/]+)\//i.exec(id);
  if (!m) throw new Error(`no resource group in ${id}`);
  return m[1];
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const credential = o.token ? staticCredential(o.token) : secretCredential(o);
  const scope = o.endpoint + "/.default";
  const client = new ComputeManagementClient(credential, o.subscription, {
    endpoint: o.endpoint,
    credentials: { scopes: [scope] },
    allowInsecureConnection: o.endpoint.startsWith("http://"),
  });
  const token = (await credential.getToken(scope)).token; // outside the timing
  if (o.endpoint.startsWith("http://")) {
    client.pipeline.removePolicy({ name: "bearerTokenAuthenticationPolicy" });
    client.pipeline.addPolicy({
      name: "plainHttpBearer",
      async sendRequest(req, next) {
        req.headers.set("Authorization", `Bearer ${token}`);
        return next(req);
      },
    });
  }
  let requests = 0;
  client.pipeline.addPolicy(
    {
      name: "countRequests",
      async sendRequest(req, next) {
        requests++;
        return next(req);
      },
    },
    { afterPhase: "Retry" }
  );

  let collections = 0;
  let points = 0;
  let pages = 0;
  const pool = new Pool(o.parallel);
  const t0 = process.hrtime.bigint();
  // The listing pages come one after another (each names the next); the
  // gets they lead to share the pool, so --parallel 1 is fully sequential.
  const listing = (async () => {
    for await (const page of client.restorePointCollections.listAll().byPage()) {
      pages++;
      for (const c of page) {
        pool.push(async () => {
          const rg = rgOf(c.id);
          const full = await client.restorePointCollections.get(rg, c.name, { expand: "restorePoints" });
          collections++;
          for (const p of full.restorePoints || []) {
            pool.push(async () => {
              await client.restorePoints.get(rg, c.name, p.name);
              points++;
            });
          }
        });
      }
      if (o.parallel === 1) await pool.done();
    }
  })();
  await listing;
  await pool.done();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(JSON.stringify({ requests, ms: Math.round(ms * 10) / 10, collections, points, parallel: o.parallel, pages }));
}

main().catch((e) => {
  console.error(`sdk-walk: ${e.name || "Error"}: ${e.message}${e.statusCode ? ` (HTTP ${e.statusCode})` : ""}`);
  process.exit(1);
});
