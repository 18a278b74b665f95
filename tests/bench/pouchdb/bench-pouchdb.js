// SPDX-License-Identifier: GPL-3.0-or-later
//
// bench-pouchdb.js: the anchor of bench-sync (tests/bench/bench-sync.c):
// CouchDB-style replication of the same data with PouchDB and
// pouchdb-server --in-memory, on this machine, in the same run.
//
//   node bench-pouchdb.js DATA.json RUNS DEVICES VISITS_PER_DEVICE BATCH_VISITS DIR
//
// DATA.json is written by bench-sync: "village" (every record the fresh
// Hearth device held after its pull, one document each), "visits_in_village",
// "pushes" (per push of 50 visits, the records those visits wrote) and
// "visits" (per visit, the records it wrote). Measured, like bench-sync:
//   - a fresh device's pull: a new on-disk PouchDB replicating the village
//     from the server (PouchDB.replicate, its defaults), the median of RUNS;
//   - a push of 50 visits: the pulled device writes them (not timed), then
//     PouchDB.replicate to the server, the median of RUNS;
//   - ingest: DEVICES simulated devices at once, each sending what PouchDB's
//     replicator sends for its VISITS_PER_DEVICE visits, BATCH_VISITS visits
//     per batch (POST _revs_diff, POST _bulk_docs with new_edits false, PUT
//     the _local checkpoint), bodies made beforehand as bench-sync's are;
//     visits per second and request latency;
//   - bytes on the wire, through a counting TCP relay: one more pull, and
//     one more push (from the pushed sequence on).
// Prints progress on stderr and one line of JSON on stdout.
'use strict';

const fs = require('fs');
const path = require('path');
const http = require('http');
const net = require('net');
const crypto = require('crypto');
const { spawn } = require('child_process');

const PouchDB = require('pouchdb');

const [dataPath, runsText, devicesText, perDeviceText, batchText, dir] = process.argv.slice(2);
const runs = Number(runsText);
const nDevices = Number(devicesText);
const perDevice = Number(perDeviceText);
const batchVisits = Number(batchText);
const data = JSON.parse(fs.readFileSync(dataPath, 'utf8'));

function log(...args) {
  console.error('  pouchdb:', ...args);
}

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function rank(v, p) {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.max(Math.ceil((p * s.length) / 100), 1) - 1];
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function request(port, method, target, body, agent) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: target, agent,
      headers: body != null ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } : {} },
    (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (body != null)
      req.write(body);
    req.end();
  });
}

async function startServer() {
  const port = await freePort();
  const bin = path.join(__dirname, 'node_modules', '.bin', 'pouchdb-server');
  const server = spawn(bin, ['--in-memory', '--port', String(port), '--host', '127.0.0.1', '--no-stdout-logs'],
    { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 300; i++) {
    try {
      const r = await request(port, 'GET', '/');
      if (r.status === 200)
        return { server, port, version: JSON.parse(r.body).version };
    } catch (e) { /* not yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('pouchdb-server did not start');
}

// A TCP relay counting the bytes both ways.
async function startRelay(target) {
  const relay = { up: 0, down: 0 };
  relay.server = net.createServer((a) => {
    const b = net.connect(target, '127.0.0.1');
    a.on('data', (d) => { relay.up += d.length; b.write(d); });
    b.on('data', (d) => { relay.down += d.length; a.write(d); });
    a.on('close', () => b.destroy());
    b.on('close', () => a.destroy());
    a.on('error', () => b.destroy());
    b.on('error', () => a.destroy());
  });
  await new Promise((r) => relay.server.listen(0, '127.0.0.1', r));
  relay.port = relay.server.address().port;
  return relay;
}

// Writes documents the way an app would: new ones, or a new revision.
async function writeDocs(db, docs) {
  for (const doc of docs) {
    let rev;
    try {
      rev = (await db.get(doc._id))._rev;
    } catch (e) { /* new */ }
    await db.put(rev ? { ...doc, _rev: rev } : doc);
  }
}

function hex(n) {
  return crypto.randomBytes(n).toString('hex');
}

async function main() {
  const { server, port, version } = await startServer();
  const base = `http://127.0.0.1:${port}`;
  const result = { versions: `pouchdb ${require('pouchdb/package.json').version}, pouchdb-server ${version}, node ${process.version}` };
  try {
    // The village on the server (not timed).
    const remote = new PouchDB(`${base}/village`);
    for (let i = 0; i < data.village.length; i += 1000)
      await remote.bulkDocs(data.village.slice(i, i + 1000));
    log(`village: ${data.village.length} documents on the server`);

    // Fresh pulls.
    const pulls = [];
    let device = null;
    for (let r = 0; r < runs; r++) {
      const local = new PouchDB(path.join(dir, `fresh-${r}`));
      const t0 = process.hrtime.bigint();
      const info = await PouchDB.replicate(remote, local);
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      pulls.push(s);
      log(`pull ${r + 1}: ${s.toFixed(3)} s, ${info.docs_written} documents`);
      if (r === 0)
        device = local;
      else
        await local.close();
    }
    result.pull_s = median(pulls);

    // Pushes of 50 visits, after one push of nothing new: the device's
    // first push has no checkpoint yet and compares every document it
    // pulled (seconds, once), which is not what a push of visits costs.
    await PouchDB.replicate(device, remote);
    const pushes = [];
    for (let r = 0; r < runs; r++) {
      const docs = data.pushes[r];
      await writeDocs(device, docs);
      const t0 = process.hrtime.bigint();
      const info = await PouchDB.replicate(device, remote);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      pushes.push(ms);
      log(`push ${r + 1}: ${ms.toFixed(1)} ms, ${info.docs_written} documents`);
    }
    result.push_ms = median(pushes);

    // Bytes: one more pull and one more push through the relay.
    const relay = await startRelay(port);
    const viaRelay = new PouchDB(`http://127.0.0.1:${relay.port}/village`);
    const counted = new PouchDB(path.join(dir, 'fresh-counted'));
    await PouchDB.replicate(viaRelay, counted);
    result.pull_bytes_per_visit = (relay.up + relay.down) / data.visits_in_village;
    await counted.close();
    const since = (await device.info()).update_seq;
    await writeDocs(device, data.pushes[runs]);
    relay.up = relay.down = 0;
    await PouchDB.replicate(device, viaRelay, { since });
    result.push_bytes_per_visit = (relay.up + relay.down) / 50;
    relay.server.close();
    await device.close();

    // Ingest: every device's requests made beforehand.
    await request(port, 'PUT', '/ingest');
    const devices = [];
    let visits = 0;
    for (let d = 0; d < nDevices; d++) {
      const batches = [];
      let given = 0;
      while (given < perDevice) {
        const docs = [];
        let inBatch = 0;
        while (given < perDevice && inBatch < batchVisits) {
          const k = d * 7 + given;
          const t = k % data.visits.length;
          const round = Math.floor(k / data.visits.length);
          for (const doc of data.visits[t]) {
            const id = hex(16);
            docs.push({ ...doc, _id: `${d}.${round}/${doc._id}`, _rev: `1-${id}`, _revisions: { start: 1, ids: [id] } });
          }
          given++;
          inBatch++;
        }
        const diff = {};
        for (const doc of docs)
          diff[doc._id] = [doc._rev];
        batches.push({ diff: JSON.stringify(diff), docs: JSON.stringify({ docs, new_edits: false }), visits: inBatch });
      }
      visits += given;
      devices.push({ agent: new http.Agent({ keepAlive: true, maxSockets: 1 }), batches, checkpoint: `_local/${hex(16)}` });
    }
    const latencies = [];
    let failures = 0;
    const timed = async (agent, method, target, body) => {
      const t0 = process.hrtime.bigint();
      const r = await request(port, method, target, body, agent);
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (r.status >= 300)
        failures++;
      return r;
    };
    const t0 = process.hrtime.bigint();
    await Promise.all(devices.map(async (dev) => {
      let rev = null;
      for (let b = 0; b < dev.batches.length; b++) {
        const batch = dev.batches[b];
        await timed(dev.agent, 'POST', '/ingest/_revs_diff', batch.diff);
        await timed(dev.agent, 'POST', '/ingest/_bulk_docs', batch.docs);
        const cp = { _id: dev.checkpoint, last_seq: b + 1, session_id: 'bench', history: [] };
        if (rev)
          cp._rev = rev;
        const r = await timed(dev.agent, 'PUT', `/ingest/${dev.checkpoint}`, JSON.stringify(cp));
        try {
          rev = JSON.parse(r.body).rev;
        } catch (e) { /* counted as a failure above */ }
      }
    }));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    result.ingest_vps = visits / seconds;
    result.p50_ms = median(latencies);
    result.p99_ms = rank(latencies, 99);
    result.ingest_failures = failures;
    log(`ingest: ${visits} visits from ${nDevices} devices in ${seconds.toFixed(2)} s, ${latencies.length} requests, ${failures} failed`);
  } finally {
    server.kill('SIGTERM');
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((e) => {
  console.error('bench-pouchdb:', e && e.stack ? e.stack : e);
  process.exit(1);
});
