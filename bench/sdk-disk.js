#!/usr/bin/env node
// sdk-disk.js - the disk benchmark peer: what a program written with the
// official Azure Storage SDK for JavaScript (@azure/storage-blob) does to
// get a disk restore point's bytes, given the SAS URL of its grant:
//   --mode file      BlobClient.downloadToFile: one GET of the whole blob,
//                    streamed to the file (the SDK's own retries)
//   --mode parallel  BlobClient.downloadToBuffer with --parallel N ranged
//                    GETs of --block-mib MiB in flight, in windows of 256 MiB
//                    written to the file at their offset (what an SDK user
//                    does for parallelism: downloadToFile has none)
// It prints one JSON line: {"mode":M,"ms":T,"bytes":B,"parallel":N}.
//
// Usage: SAS_URL=... node sdk-disk.js --out FILE [--mode file|parallel]
//          [--parallel N] [--block-mib M]
// The SAS comes from the environment, never from the command line.

"use strict";

const fs = require("fs");

function arg(name, def) {
  const i = process.argv.indexOf("--" + name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

async function main() {
  const { BlobClient } = require("@azure/storage-blob");
  const sas = process.env.SAS_URL;
  const out = arg("out");
  const mode = arg("mode", "file");
  const parallel = parseInt(arg("parallel", "8"), 10);
  const blockSize = parseInt(arg("block-mib", "4"), 10) << 20;
  if (!sas || !out) {
    console.error("usage: SAS_URL=... node sdk-disk.js --out FILE [--mode file|parallel]");
    process.exit(2);
  }
  const blob = new BlobClient(sas);
  const t0 = process.hrtime.bigint();
  let bytes = 0;
  if (mode === "file") {
    fs.rmSync(out, { force: true });
    await blob.downloadToFile(out);
    bytes = fs.statSync(out).size;
  } else {
    const props = await blob.getProperties();
    const size = props.contentLength;
    const win = 256 << 20;
    const buf = Buffer.alloc(Math.min(win, size));
    const fd = fs.openSync(out, "w");
    for (let off = 0; off < size; off += win) {
      const n = Math.min(win, size - off);
      await blob.downloadToBuffer(buf, off, n, { blockSize, concurrency: parallel });
      fs.writeSync(fd, buf, 0, n, off);
      bytes += n;
    }
    fs.closeSync(fd);
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(JSON.stringify({ mode, ms: Math.round(ms * 10) / 10, bytes, parallel }));
}

main().catch((e) => {
  console.error("sdk-disk: " + (e && e.message ? e.message : e));
  process.exit(1);
});
