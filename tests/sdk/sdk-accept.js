#!/usr/bin/env node
// sdk-accept.js - proves that the official Azure SDK for JavaScript
// (@azure/arm-compute, pinned in package.json) accepts armsim over HTTPS.
//
// armsim stands in for Azure everywhere in this project, so it is only worth
// as much as its faithfulness.  rpfs's own client cannot judge that: a
// misunderstanding shared by rpfs and armsim would pass every rpfs test.  The
// SDK was written against the real service, so every step below goes through
// the SDK's own code: its serializers and deserializers, its pager (nextLink),
// its long-running-operation poller (Azure-AsyncOperation, Location,
// Retry-After), its bearer-token policy (which refuses plain HTTP) and its
// error mapping (CloudError -> RestError), its retry policies (429, 503).
// The token comes from armsim's Entra v2 token endpoint by client
// credentials, through @azure/identity's ClientSecretCredential (MSAL reads
// the OpenID discovery document first) with --credential identity, or
// through a minimal TokenCredential that posts the same form with
// --credential simple (auto: identity when the discovery document exists).
// The endpoint itself is also checked raw: a wrong secret must be refused.
//
// armsim's control API (/_armsim/state, /clock, /log) is the oracle for what
// the SDK should see, and the way to fast-forward time instead of sleeping.
//
// Usage: node sdk-accept.js --endpoint https://127.0.0.1:PORT
//          --subscription SUB --tenant TENANT --client-id ID --client-secret S
//          [--sdk 24|22] [--credential auto|identity|simple]
//          [--create-seconds N] [--copy-seconds N]   (armsim's settings)
// Environment: NODE_EXTRA_CA_CERTS must name the CA that signed armsim's
// certificate.  Exit status 0 when every check passed, 1 otherwise.

"use strict";

const DEADLINE_MS = 150000;

// The two generations of the SDK in use: 24.x is generated from TypeSpec on
// @azure-rest/core-client and core-lro 3; 22.x from OpenAPI by AutoRest on
// @azure/core-client and core-lro 2.  They differ in options, api-version
// and polling code, and both must accept armsim.
const SDKS = {
  24: {
    module: "@azure/arm-compute",
    apiVersion: "2026-03-01",
    options: (endpoint) => ({ endpoint, credentials: { scopes: [endpoint + "/.default"] } }),
  },
  22: {
    module: "arm-compute-22",
    apiVersion: "2024-11-01",
    options: (endpoint) => ({ endpoint, credentialScopes: [endpoint + "/.default"] }),
  },
};

const opts = parseArgs(process.argv.slice(2));
const SDK = SDKS[opts.sdk];
const { ComputeManagementClient } = require(SDK.module);
const API_VERSION = SDK.apiVersion;
let checks = 0;

// parseArgs turns --name value pairs into an object, with defaults.
function parseArgs(argv) {
  const o = {
    endpoint: process.env.ARMSIM_URL,
    subscription: "8c1b6e44-2f0a-4d3e-9b57-1d4e3f6a9c20",
    tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47",
    "client-id": "",
    "client-secret": "",
    credential: "auto", // auto | identity | simple
    sdk: "24", // 24: @azure/arm-compute 24.x (TypeSpec); 22: 22.x (AutoRest), installed as arm-compute-22
    "create-seconds": "", // armsim --create-seconds: how far to fast-forward a create
    "copy-seconds": "", // armsim --copy-seconds: when given, progress must be seen below 100
    verbose: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--verbose") {
      o.verbose = true;
      continue;
    }
    if (!a.startsWith("--") || i + 1 >= argv.length || !(a.slice(2) in o)) {
      console.error(`sdk-accept: bad argument ${a}`);
      process.exit(2);
    }
    o[a.slice(2)] = argv[++i];
  }
  if (!o.endpoint || !o["client-id"] || !o["client-secret"]) {
    console.error("sdk-accept: --endpoint, --client-id and --client-secret are required");
    process.exit(2);
  }
  o.endpoint = o.endpoint.replace(/\/+$/, "");
  if (!(o.sdk in SDKS)) {
    console.error(`sdk-accept: --sdk must be one of ${Object.keys(SDKS).join(", ")}`);
    process.exit(2);
  }
  return o;
}

function note(msg) {
  console.log(`sdk-accept: ${msg}`);
}

function fail(msg) {
  const e = new Error(msg);
  e.checkFailed = true;
  throw e;
}

// check fails the run with MSG unless COND holds.
function check(cond, msg) {
  checks++;
  if (!cond) fail(msg);
}

function eqi(a, b) {
  return typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase();
}

// sim calls armsim's control API (loopback, no auth) and returns the parsed body.
async function sim(method, path, body) {
  const r = await fetch(opts.endpoint + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) fail(`${method} ${path}: HTTP ${r.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

// simLog returns armsim's request log as an array of objects.
async function simLog() {
  const r = await fetch(opts.endpoint + "/_armsim/log");
  const text = await r.text();
  if (!r.ok) fail(`GET /_armsim/log: HTTP ${r.status}`);
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l));
}

// advanceClock fast-forwards armsim's clock by SECONDS.
async function advanceClock(seconds) {
  const r = await sim("POST", "/_armsim/clock", { advance: seconds });
  if (opts.verbose) note(`clock +${seconds}s -> ${r && r.now}`);
}

// advanceAfter waits until armsim has logged a request with OPERATIONID
// (beyond the first SEEN of them), then fast-forwards the clock, so that an
// SDK poller waiting on that operation finds it finished at its next poll.
async function advanceAfter(operationId, seen, seconds) {
  for (let i = 0; i < 200; i++) {
    const n = (await simLog()).filter((l) => l.operationId === operationId).length;
    if (n > seen) {
      await advanceClock(seconds);
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  fail(`armsim never logged ${operationId}`);
}

async function countOp(operationId) {
  return (await simLog()).filter((l) => l.operationId === operationId).length;
}

// tokenForm posts a client-credentials form to armsim's Entra v2 token
// endpoint; returns {status, body}.
async function tokenForm(secret) {
  const form = new URLSearchParams({
    client_id: opts["client-id"],
    client_secret: secret,
    grant_type: "client_credentials",
    scope: opts.endpoint + "/.default",
  });
  const r = await fetch(`${opts.endpoint}/${opts.tenant}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: form.toString(),
  });
  const text = await r.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch (e) {
    body = { unparsable: text.slice(0, 200) };
  }
  return { status: r.status, body };
}

// SimpleSecretCredential is the smallest TokenCredential: client credentials
// against the Entra v2 token endpoint, cached until five minutes before
// expiry, as @azure/identity does.
class SimpleSecretCredential {
  constructor() {
    this.cached = null;
  }
  async getToken(scopes) {
    const now = Date.now();
    if (this.cached && this.cached.expiresOnTimestamp - now > 300000) return this.cached;
    const { status, body } = await tokenForm(opts["client-secret"]);
    if (status !== 200 || !body || typeof body.access_token !== "string")
      throw new Error(`token endpoint: HTTP ${status}: ${JSON.stringify(body).slice(0, 300)}`);
    const expiresIn = Number(body.expires_in);
    this.cached = {
      token: body.access_token,
      expiresOnTimestamp: now + (Number.isFinite(expiresIn) ? expiresIn : 3599) * 1000,
    };
    return this.cached;
  }
}

// checkTokenEndpoint checks the Entra v2 endpoint as a client sees it:
// a wrong secret is refused with an AADSTS body, the right one gives a
// bearer token with a numeric lifetime.
async function checkTokenEndpoint() {
  const bad = await tokenForm(opts["client-secret"] + "-wrong");
  check(bad.status === 401 || bad.status === 400, `wrong secret: expected 401, got ${bad.status}`);
  check(
    bad.body && typeof bad.body.error === "string" && /AADSTS\d+/.test(bad.body.error_description || ""),
    `wrong secret: expected {error, error_description: "AADSTS..."}, got ${JSON.stringify(bad.body)}`
  );
  const good = await tokenForm(opts["client-secret"]);
  check(good.status === 200, `token endpoint: HTTP ${good.status}: ${JSON.stringify(good.body)}`);
  check(typeof good.body.access_token === "string" && good.body.access_token.length > 0, "no access_token");
  check(eqi(good.body.token_type, "Bearer"), `token_type ${good.body.token_type}`);
  check(typeof good.body.expires_in === "number" && good.body.expires_in > 0, `expires_in ${good.body.expires_in}`);
  note(`token endpoint: wrong secret -> ${bad.status} ${bad.body.error}; right secret -> bearer token, expires_in ${good.body.expires_in}`);
}

// makeCredential prefers @azure/identity's ClientSecretCredential (MSAL)
// when armsim serves the OpenID discovery document MSAL reads first.
async function makeCredential() {
  let mode = opts.credential;
  if (mode === "auto") {
    let r = null;
    try {
      r = await fetch(`${opts.endpoint}/${opts.tenant}/v2.0/.well-known/openid-configuration`);
    } catch (e) {
      r = null;
    }
    mode = r && r.ok ? "identity" : "simple";
    if (mode === "simple")
      note(`no OpenID discovery document at /${opts.tenant}/v2.0/.well-known/openid-configuration` +
        ` (HTTP ${r ? r.status : "error"}): using the minimal TokenCredential`);
  }
  if (mode === "identity") {
    const { ClientSecretCredential } = require("@azure/identity");
    const cred = new ClientSecretCredential(opts.tenant, opts["client-id"], opts["client-secret"], {
      authorityHost: opts.endpoint,
      disableInstanceDiscovery: true,
    });
    const t = await cred.getToken(opts.endpoint + "/.default");
    check(t && typeof t.token === "string" && t.expiresOnTimestamp > Date.now(), "ClientSecretCredential gave no token");
    note("@azure/identity ClientSecretCredential got a token from armsim");
    return cred;
  }
  note("minimal TokenCredential: client credentials posted to the token endpoint");
  return new SimpleSecretCredential();
}

// expectRestError runs PROMISE, which must reject with HTTP STATUS.
async function expectRestError(promise, status, what) {
  try {
    await promise;
  } catch (e) {
    check(e.statusCode === status, `${what}: expected HTTP ${status}, got ${e.statusCode}: ${e.message}`);
    check(typeof e.code === "string" && e.code.length > 0, `${what}: RestError without an ARM error code`);
    return e;
  }
  fail(`${what}: expected HTTP ${status}, the call succeeded`);
}

function rgOf(id) {
  const m = /\/resourceGroups\/([^/]+)\//i.exec(id);
  return m ? m[1] : null;
}

function locName(l) {
  return typeof l === "string" ? l : l && (l.name || l.location);
}

function pointsOf(coll) {
  return Array.isArray(coll.points) ? coll.points : [];
}

// checkDisks: the SDK lists a demo point's disk restore points and grants
// read access (its LRO poller, final-state-via location); the official
// @azure/storage-blob then reads the blob with the SAS alone, on another
// origin: properties, ranges (compared with the raw bytes), the VHD footer,
// page ranges (paged, compared with armsim's /_armsim/disk), and, once the
// SDK revoked access, Storage's 403.
async function checkDisks(client) {
  const { PageBlobClient } = require("@azure/storage-blob");
  const drpOps = client.diskRestorePoint || client.diskRestorePointOperations;
  const [rg, coll, point] = ["rg-prod", "rpc-vm-web-01", "rp-20261120-0200"];
  const drps = [];
  for await (const d of drpOps.listByRestorePoint(rg, coll, point)) drps.push(d);
  check(drps.length === 3, `listByRestorePoint: ${drps.length} disk restore points, expected 3`);
  const drp = drps.find((d) => /^vm-web-01-data-01_/.test(d.name));
  check(drp, "no disk restore point for vm-web-01-data-01");
  const got = await drpOps.get(rg, coll, point, drp.name);
  const props = got.properties || got;
  check(eqi(got.id, drp.id) && props.completionPercent === 100 && props.logicalSectorSize === 512,
    `disk restore point get: ${JSON.stringify(got).slice(0, 300)}`);
  const access = await drpOps.beginGrantAccessAndWait(rg, coll, point, drp.name, { access: "Read", durationInSeconds: 600 });
  const sas = access && access.accessSAS;
  check(typeof sas === "string" && sas.startsWith("https://127.0.0.1:") && !sas.startsWith(opts.endpoint + "/"),
    "beginGrantAccessAndWait gave no SAS on another HTTPS origin");
  const disk = await sim("GET", `/_armsim/disk?id=${encodeURIComponent(drp.id)}&hash=0`);
  const blob = new PageBlobClient(sas);
  const p = await blob.getProperties();
  check(p.blobType === "PageBlob" && p.contentLength === disk.size,
    `getProperties: ${p.blobType}, ${p.contentLength} bytes; armsim says ${disk.size}`);
  // across the end of the first allocated extent: data, then zeros
  const off = disk.ranges[0][1] + 1 - 8192, count = 16384;
  const buf = await blob.downloadToBuffer(off, count, { blockSize: 4096, concurrency: 4 });
  const raw = Buffer.from(await (await fetch(sas, { headers: { "x-ms-range": `bytes=${off}-${off + count - 1}` } })).arrayBuffer());
  check(buf.length === count && buf.equals(raw), "downloadToBuffer differs from the raw bytes of the range");
  check(buf.subarray(0, 8192).some((b) => b !== 0) && buf.subarray(8192).every((b) => b === 0),
    "the range is not data then zeros");
  const foot = await blob.downloadToBuffer(disk.size - 512, 512);
  check(foot.toString("latin1", 0, 8) === "conectix", "the last 512 bytes are not a VHD footer");
  const ranges = [];
  let pages = 0;
  for await (const page of blob.listPageRanges().byPage({ maxPageSize: 2 })) {
    pages++;
    for (const r of page.pageRange || []) ranges.push([r.start, r.end]);
  }
  check(pages >= 2 && JSON.stringify(ranges) === JSON.stringify(disk.ranges),
    `listPageRanges (${pages} pages): ${JSON.stringify(ranges)}; armsim: ${JSON.stringify(disk.ranges)}`);
  // the older call gives each range as {offset, count} with count = end - start
  const all = await blob.getPageRanges();
  check(JSON.stringify((all.pageRange || []).map((r) => [r.offset, r.offset + r.count])) === JSON.stringify(disk.ranges),
    `getPageRanges: ${JSON.stringify(all.pageRange)}; armsim: ${JSON.stringify(disk.ranges)}`);
  await drpOps.beginRevokeAccessAndWait(rg, coll, point, drp.name);
  try {
    await blob.downloadToBuffer(0, 512);
    fail("the SAS still reads after the SDK revoked access");
  } catch (e) {
    if (e.checkFailed) throw e;
    check(e.statusCode === 403 && e.code === "AuthenticationFailed",
      `read after revoke: expected 403 AuthenticationFailed, got ${e.statusCode} ${e.code}`);
  }
  const stats = await sim("GET", "/_armsim/stats");
  check(stats["blob.authorization"] === 0, "the Storage SDK sent an Authorization header with a SAS");
  note(`disks: granted, read ${count} bytes, ${ranges.length} page ranges in ${pages} pages, revoked`);
}

async function main() {
  const t0 = Date.now();
  await checkTokenEndpoint();
  const credential = await makeCredential();
  const client = new ComputeManagementClient(credential, opts.subscription, SDK.options(opts.endpoint));
  const pkg = require(SDK.module + "/package.json");
  note(`${pkg.name} ${pkg.version}, api-version ${API_VERSION}`);
  const rpc = client.restorePointCollections;
  const rps = client.restorePoints;

  const state = await sim("GET", "/_armsim/state");
  check(Array.isArray(state.collections) && state.collections.length > 0, "armsim state has no collections");

  // 1. List all collections, through every page.
  let pages = 0;
  const listed = [];
  for await (const page of rpc.listAll().byPage()) {
    pages++;
    listed.push(...page);
  }
  check(listed.length === state.collections.length,
    `listAll: ${listed.length} collections over ${pages} pages, armsim holds ${state.collections.length}`);
  const want = new Set(state.collections.map((c) => c.id.toLowerCase()));
  for (const c of listed) {
    check(typeof c.id === "string" && want.has(c.id.toLowerCase()), `listAll: unexpected collection ${c.id}`);
    check(typeof c.name === "string" && typeof c.location === "string", `listAll: ${c.id} lacks name or location`);
    check(c.type === "Microsoft.Compute/restorePointCollections", `listAll: ${c.id} has type ${c.type}`);
    check(c.source && typeof c.source.id === "string", `listAll: ${c.id} has no properties.source.id`);
    check(c.restorePoints === undefined, `listAll: ${c.id} lists restorePoints without $expand`);
  }
  check(new Set(listed.map((c) => c.id.toLowerCase())).size === listed.length, "listAll: duplicate collections");
  note(`listAll: ${listed.length} collections in ${pages} page(s)`);

  // 2. Pick a VM-sourced collection with a Succeeded original point whose
  // region leaves another region free, and get it with its points.
  const used = new Set(state.collections.map((c) => String(c.location).toLowerCase()));
  const locations = (state.locations || []).map(locName).filter(Boolean);
  const target = locations.find((l) => !used.has(l.toLowerCase()));
  check(target, "armsim state offers no region without collections to copy into");
  let src = null;
  let srcPoint = null;
  for (const c of state.collections) {
    if (!c.source || !/\/virtualMachines\//i.test(c.source.id || "")) continue;
    const p = pointsOf(c).find((pt) => pt.provisioningState === "Succeeded" && !pt.sourceRestorePoint);
    if (p) {
      src = c;
      srcPoint = p;
      break;
    }
  }
  check(src, "armsim state has no VM collection with a Succeeded restore point");
  const rg = src.resourceGroup || rgOf(src.id);
  const got = await rpc.get(rg, src.name, { expand: "restorePoints" });
  check(eqi(got.id, src.id), `get: id ${got.id}, expected ${src.id}`);
  check(got.name === src.name, `get: name ${got.name}, expected ${src.name}`);
  check(eqi(got.location, src.location), `get: location ${got.location}, expected ${src.location}`);
  check(got.source && eqi(got.source.id, src.source.id), `get: source ${JSON.stringify(got.source)}`);
  check(got.provisioningState === "Succeeded", `get: provisioningState ${got.provisioningState}`);
  check(typeof got.restorePointCollectionId === "string", "get: no restorePointCollectionId");
  check(Array.isArray(got.restorePoints), "get with expand=restorePoints: no restorePoints array");
  const gotNames = got.restorePoints.map((p) => p.name).sort();
  const wantNames = pointsOf(src).map((p) => p.name).sort();
  check(JSON.stringify(gotNames) === JSON.stringify(wantNames),
    `get: points ${gotNames.join(",")}, armsim holds ${wantNames.join(",")}`);
  for (const p of got.restorePoints) {
    check(p.timeCreated instanceof Date && !isNaN(p.timeCreated.getTime()), `point ${p.name}: bad timeCreated`);
    check(typeof p.provisioningState === "string", `point ${p.name}: no provisioningState`);
    check(p.sourceMetadata && p.sourceMetadata.storageProfile && p.sourceMetadata.storageProfile.osDisk,
      `point ${p.name}: no sourceMetadata.storageProfile.osDisk`);
  }
  const srcRp = got.restorePoints.find((p) => p.name === srcPoint.name);
  note(`get ${src.name} (${src.location}) expand=restorePoints: ${got.restorePoints.length} points`);

  // A single point, and a missing one (CloudError -> RestError 404).
  const one = await rps.get(rg, src.name, srcPoint.name);
  check(eqi(one.id, srcRp.id) && one.provisioningState === "Succeeded", `restorePoints.get ${srcPoint.name}`);
  check(one.instanceView === undefined, "restorePoints.get: instanceView without $expand");
  await expectRestError(rps.get(rg, src.name, "sdk-accept-no-such-point"), 404, "get of a missing point");

  // Throttling and a busy server: the SDK's retry policies must recognise
  // armsim's 429 and 503 (with Retry-After) and retry them transparently.
  await sim("POST", "/_armsim/faults", {
    match: { operationId: "RestorePointCollections_Get" }, kind: "throttle", retry_after: 1, count: 1,
  });
  await sim("POST", "/_armsim/faults", {
    match: { operationId: "RestorePoints_Get" }, kind: "status", status: 503, code: "ServerBusy", retry_after: 1, count: 1,
  });
  const again = await rpc.get(rg, src.name);
  check(eqi(again.id, src.id) && again.restorePoints === undefined, "get after a 429: wrong collection");
  const oneAgain = await rps.get(rg, src.name, srcPoint.name);
  check(eqi(oneAgain.id, srcRp.id), "restorePoints.get after a 503: wrong point");
  await sim("DELETE", "/_armsim/faults");
  const retried = (await simLog()).filter((l) => l.status === 429 || l.status === 503);
  check(retried.length === 2, `expected one 429 and one 503 in armsim's log, found ${retried.length}`);
  note("a 429 and a 503 with Retry-After: the SDK retried both");

  // 3. Create a collection in another region whose source is the collection
  // (synchronous PUT), then change its tags (PATCH replaces the map).
  const copyName = `sdk-accept-${target}`;
  const created = await rpc.createOrUpdate(rg, copyName, {
    location: target,
    tags: { purpose: "sdk-accept" },
    source: { id: got.id },
  });
  check(created.name === copyName, `createOrUpdate: name ${created.name}`);
  check(eqi(created.location, target), `createOrUpdate: location ${created.location}, expected ${target}`);
  check(created.source && eqi(created.source.id, got.id), `createOrUpdate: source ${JSON.stringify(created.source)}`);
  check(created.source && eqi(created.source.location, src.location),
    `createOrUpdate: source.location ${created.source && created.source.location}, expected ${src.location}`);
  check(created.provisioningState === "Succeeded", `createOrUpdate: provisioningState ${created.provisioningState}`);
  check(created.tags && created.tags.purpose === "sdk-accept", `createOrUpdate: tags ${JSON.stringify(created.tags)}`);
  const patched = await rpc.update(rg, copyName, { tags: { owner: "sdk" } });
  check(JSON.stringify(patched.tags) === JSON.stringify({ owner: "sdk" }), `update: tags ${JSON.stringify(patched.tags)}`);
  note(`createOrUpdate ${copyName} in ${target} from ${src.name}; update tags`);

  // 4. Copy the point with the SDK's own poller.  The clock is fast-forwarded
  // once armsim has seen the PUT, so the poller's next poll finds the copy
  // started (a copy is Succeeded when it starts; data moves afterwards).
  const createSeconds = opts["create-seconds"] ? Number(opts["create-seconds"]) : 120;
  const copySeconds = opts["copy-seconds"] ? Number(opts["copy-seconds"]) : 0;
  const step = copySeconds ? Math.max(1, Math.ceil(copySeconds / 4)) : 600;
  const polls = await countOp("Operations_Get");
  const creates = await countOp("RestorePoints_Create");
  const [copy] = await Promise.all([
    rps.beginCreateAndWait(rg, copyName, srcPoint.name, { sourceRestorePoint: { id: srcRp.id } }),
    advanceAfter("RestorePoints_Create", creates, createSeconds + 1),
  ]);
  check(copy.name === srcPoint.name, `beginCreateAndWait: name ${copy.name}`);
  check(copy.provisioningState === "Succeeded", `beginCreateAndWait: provisioningState ${copy.provisioningState}`);
  check(copy.sourceRestorePoint && eqi(copy.sourceRestorePoint.id, srcRp.id),
    `beginCreateAndWait: sourceRestorePoint ${JSON.stringify(copy.sourceRestorePoint)}`);
  check(copy.id && copy.id.toLowerCase().includes(`/restorepointcollections/${copyName.toLowerCase()}/`),
    `beginCreateAndWait: id ${copy.id}`);
  const copyPolls = (await countOp("Operations_Get")) - polls;
  note(`beginCreateAndWait: copy ${copy.name} Succeeded after ${copyPolls} status poll(s)`);

  // 5. Read the copy's progress per disk, then fast-forward to the end.
  const disks = (p) => {
    const sp = p.sourceMetadata && p.sourceMetadata.storageProfile;
    return sp ? [sp.osDisk, ...(sp.dataDisks || [])].filter(Boolean) : [];
  };
  const nDisks = disks(srcRp).length;
  let last = null;
  let first = null;
  let reads = 0;
  let sawInProgress = false;
  for (let round = 0; round < 40; round++) {
    const v = await rps.get(rg, copyName, srcPoint.name, { expand: "instanceView" });
    const iv = v.instanceView;
    check(iv && Array.isArray(iv.diskRestorePoints), "get expand=instanceView: no instanceView.diskRestorePoints");
    check(iv.diskRestorePoints.length === nDisks,
      `instanceView: ${iv.diskRestorePoints.length} disk restore points, the source has ${nDisks} disks`);
    const pct = iv.diskRestorePoints.map((d) => {
      const rs = d.replicationStatus;
      check(rs && Number.isInteger(rs.completionPercent) && rs.completionPercent >= 0 && rs.completionPercent <= 100,
        `instanceView: bad replicationStatus ${JSON.stringify(rs)}`);
      check(rs.status && /^ReplicationState\//.test(rs.status.code || ""),
        `instanceView: status code ${rs.status && rs.status.code}`);
      check(typeof d.id === "string" && /\/diskRestorePoints\//i.test(d.id), `instanceView: disk id ${d.id}`);
      if (rs.completionPercent < 100) {
        check(rs.status.code !== "ReplicationState/succeeded", `instanceView: succeeded at ${rs.completionPercent}%`);
        sawInProgress = true;
      }
      return rs.completionPercent;
    });
    if (last) pct.forEach((x, i) => check(x >= last[i], `completionPercent went down: ${last} -> ${pct}`));
    if (!first) first = pct;
    last = pct;
    reads++;
    if (pct.every((x) => x === 100)) {
      for (const d of iv.diskRestorePoints)
        check(d.replicationStatus.status.code === "ReplicationState/succeeded",
          `finished copy: status code ${d.replicationStatus.status.code}`);
      break;
    }
    await advanceClock(step);
  }
  check(last.every((x) => x === 100), `copy never finished: completionPercent ${last}`);
  if (copySeconds) {
    check(sawInProgress, `copy of ${copySeconds}s was never seen in progress: [${first}] at first read`);
    check(reads >= 3, `copy of ${copySeconds}s finished after ${reads} reads ${step}s apart`);
  }
  for (const d of disks(copy)) {
    const enc = d.diskRestorePoint && d.diskRestorePoint.encryption;
    check(!enc || enc.type !== "EncryptionAtRestWithCustomerKey", `copy of disk ${d.name} kept a customer key`);
  }
  note(`get expand=instanceView: completionPercent [${first}] at first read, [${last}] after ${reads} reads`);

  // 6. Delete the copy, then the collection, with the SDK's poller.
  let deletes = await countOp("RestorePoints_Delete");
  await Promise.all([
    rps.beginDeleteAndWait(rg, copyName, srcPoint.name),
    advanceAfter("RestorePoints_Delete", deletes, 120),
  ]);
  await expectRestError(rps.get(rg, copyName, srcPoint.name), 404, "get of the deleted copy");
  deletes = await countOp("RestorePointCollections_Delete");
  await Promise.all([
    rpc.beginDeleteAndWait(rg, copyName),
    advanceAfter("RestorePointCollections_Delete", deletes, 120),
  ]);
  await expectRestError(rpc.get(rg, copyName), 404, "get of the deleted collection");
  let after = 0;
  for await (const c of rpc.listAll()) {
    check(!eqi(c.name, copyName) || !eqi(c.location, target), "deleted collection still listed");
    after++;
  }
  check(after === listed.length, `listAll after delete: ${after}, before: ${listed.length}`);
  note("beginDeleteAndWait: copy and collection gone");

  // 8 (before 7, so the log check covers it). Disks.
  await checkDisks(client);

  // 7. What armsim saw: every ARM call authenticated, with the SDK's
  // api-version, and the pollers really polled.
  const log = await simLog();
  const arm = log.filter((l) => /^\/subscriptions\//i.test(l.path || ""));
  check(arm.length > 0, "armsim logged no ARM requests");
  for (const l of arm) {
    check(l.auth === "ok", `armsim: ${l.method} ${l.path} had auth ${l.auth}`);
    check(/(^|&)api-version=\d{4}-\d{2}-\d{2}/.test(l.query || ""), `armsim: ${l.method} ${l.path} without api-version`);
  }
  check(arm.some((l) => (l.query || "").includes(`api-version=${API_VERSION}`)), `no request with api-version=${API_VERSION}`);
  const byOp = {};
  for (const l of arm) byOp[l.operationId] = (byOp[l.operationId] || 0) + 1;
  for (const op of ["RestorePointCollections_ListAll", "RestorePointCollections_Get", "RestorePointCollections_CreateOrUpdate",
    "RestorePointCollections_Update", "RestorePointCollections_Delete", "RestorePoints_Get", "RestorePoints_Create",
    "RestorePoints_Delete", "Operations_Get", "DiskRestorePoint_ListByRestorePoint", "DiskRestorePoint_Get",
    "DiskRestorePoint_GrantAccess", "DiskRestorePoint_RevokeAccess"])
    check(byOp[op] > 0, `armsim never saw ${op}`);
  const unexpected = arm.filter((l) => l.status >= 400 && l.status !== 404 && l.status !== 429 && l.status !== 503);
  check(unexpected.length === 0, `armsim answered errors: ${unexpected.map((l) => `${l.method} ${l.path} ${l.status}`).join("; ")}`);
  note(`armsim saw ${arm.length} ARM requests: ${JSON.stringify(byOp)}`);
  note(`PASS: ${checks} checks in ${Date.now() - t0} ms`);
}

const timer = setTimeout(() => {
  console.error(`sdk-accept: FAIL: not finished after ${DEADLINE_MS} ms`);
  process.exit(1);
}, DEADLINE_MS);

main().then(
  () => {
    clearTimeout(timer);
    process.exit(0);
  },
  (e) => {
    clearTimeout(timer);
    if (e.checkFailed) console.error(`sdk-accept: FAIL: ${e.message}`);
    else {
      console.error(`sdk-accept: FAIL: ${e.name || "Error"}: ${e.message}`);
      if (e.statusCode) console.error(`  HTTP ${e.statusCode} ${e.code || ""} ${e.request ? e.request.method + " " + e.request.url : ""}`);
      if (e.details) console.error(`  details: ${JSON.stringify(e.details).slice(0, 500)}`);
      console.error(e.stack);
    }
    process.exit(1);
  }
);
