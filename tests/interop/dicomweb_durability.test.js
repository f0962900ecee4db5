'use strict';
// Durability of DICOMweb writes: an acknowledged STOW survives SIGKILL (no graceful shutdown)
// right after the responses arrive; a kill in the middle of concurrent uploads leaves only
// complete instances; acknowledged deletes survive too.
const assert = require('node:assert/strict');
const {test, after} = require('node:test');
const {useServer, makeTempDir, removeDir} = require('./lib/server');
const {corpusEntry, corpusBytes, sha256, Store, stowResult, describe, first, synthesize} = require('./lib/dicom');

const T = {timeout: 120_000};
let store;
const tmp = makeTempDir('dicomstore-durability-');
after(() => removeDir(tmp));
const fx = useServer({setup: async () => { store = await Store.create(fx, 'durable', 'store'); }});

async function kill() {
  const h = fx.handle;
  h.stopped = true; // the fixture must not SIGTERM this one again
  h.child.kill('SIGKILL');
  const status = await h.exited;
  h.exitStatus = status;
  assert.equal(status.signal, 'SIGKILL');
}
async function restart() {
  await fx.start();
  store = new Store(fx, store.dataset, store.id);
}

// Every stored instance: {sop -> {study, series}} via QIDO (paged).
async function listInstances() {
  const out = new Map();
  for (let offset = 0; ; offset += 1000) {
    const page = await store.search('instances', {limit: 1000, offset});
    for (const ds of page) out.set(first(ds, '00080018'), {study: first(ds, '0020000D'), series: first(ds, '0020000E')});
    if (page.length < 1000) return out;
  }
}

async function assertStored(expected, context) {
  const present = await listInstances();
  for (const [sop, x] of expected) {
    assert.ok(present.has(sop), `${context}: acknowledged instance ${sop} is not searchable`);
    const {bytes} = await store.retrieveInstance(x.study, x.series, sop);
    assert.equal(sha256(bytes), x.sha, `${context}: ${sop} bytes differ`);
  }
  return present;
}

const corpusItems = ['mf-xa-jpeg-baseline-96f.dcm', 'mr-siemens-mosaic-dwi.dcm', 'ct-small.dcm', 'sr-comprehensive.dcm', 'rt-struct.dcm']
    .map(corpusEntry).map((e) => ({bytes: corpusBytes(e.file), study: e.study_uid, series: e.series_uid, sop: e.sop_instance_uid}));

test('acknowledged STOWs from concurrent requests survive SIGKILL right after the responses', T, async () => {
  const synth = await synthesize(240, '1.2.826.0.1.3680043.9.7433.2', {perStudy: 6, dir: tmp, patient: 'Durable^One'});
  const items = [...synth, ...corpusItems];
  // 8 concurrent requests: 7 multipart batches plus single-part requests for the corpus files.
  const requests = [];
  for (let i = 0; i < synth.length; i += 40) requests.push({single: false, items: synth.slice(i, i + 40)});
  for (const it of corpusItems) requests.push({single: true, items: [it]});
  const acked = new Map();
  await Promise.all(requests.map(async (rq) => {
    const res = await store.stow(rq.items.map((x) => x.bytes), {single: rq.single});
    assert.equal(res.status, 200, describe(res));
    const r = stowResult(res);
    assert.equal(r.referenced.length, rq.items.length);
    for (const x of rq.items) acked.set(x.sop, {study: x.study, series: x.series, sha: sha256(x.bytes)});
  }));
  await kill(); // immediately: no settling time
  assert.equal(acked.size, items.length);
  await restart();
  const present = await assertStored(acked, 'after SIGKILL');
  assert.equal(present.size, acked.size, 'instance count after restart');
  const m = await fx.raw('GET', `/v1/${store.name}:getDICOMStoreMetrics`);
  assert.equal(m.json.instanceCount, String(acked.size));
  assert.equal(m.json.studyCount, String(new Set(items.map((x) => x.study)).size));
  // Identical re-sends after the restart are still recognised (200, no second copy).
  const again = await store.stow(synth.slice(0, 5).map((x) => x.bytes));
  assert.equal(again.status, 200, describe(again));
  assert.equal((await listInstances()).size, acked.size);
});

test('SIGKILL while concurrent uploads are in flight: acknowledged ones survive, nothing is torn', T, async () => {
  const before = await listInstances();
  const synth = await synthesize(600, '1.2.826.0.1.3680043.9.7433.3', {perStudy: 20, dir: tmp, patient: 'Durable^Two'});
  const bySop = new Map(synth.map((x) => [x.sop, x]));
  const batches = [];
  for (let i = 0; i < synth.length; i += 50) batches.push(synth.slice(i, i + 50));
  const acked = new Map();
  let done = 0;
  let started = 0;
  let inFlightAtKill = 0;
  let killed;
  const killAfter = 3;
  // All batches start together; the kill comes as soon as the third acknowledgement arrives,
  // while the others are still being uploaded or ingested.
  const results = await Promise.allSettled(batches.map(async (b) => {
    started++;
    const res = await store.stow(b.map((x) => x.bytes), {timeoutMs: 30_000});
    assert.equal(res.status, 200, describe(res));
    for (const x of b) acked.set(x.sop, {study: x.study, series: x.series, sha: sha256(x.bytes)});
    if (++done === killAfter) {
      inFlightAtKill = started - done;
      killed = kill();
    }
  }));
  if (!killed) killed = kill();
  await killed;
  assert.ok(acked.size >= killAfter * 50, `${acked.size} acknowledged`);
  if (process.env.DEBUG_DURABILITY) console.log('acked', acked.size, 'in flight at kill', inFlightAtKill);
  assert.ok(results.some((r) => r.status === 'rejected'), 'every request finished before the kill; the test proves nothing');
  assert.ok(inFlightAtKill > 0, 'no upload was in flight at the kill');
  await restart();
  const present = await assertStored(acked, 'after SIGKILL mid-upload');
  // Anything else that made it must be complete and identical; nothing unknown appears.
  for (const [sop, x] of present) {
    if (before.has(sop) || acked.has(sop)) continue;
    const src = bySop.get(sop);
    assert.ok(src, `unexpected instance ${sop} after restart`);
    const {bytes} = await store.retrieveInstance(x.study, x.series, sop);
    assert.equal(sha256(bytes), sha256(src.bytes), `unacknowledged instance ${sop} is torn`);
  }
  for (const sop of before.keys()) assert.ok(present.has(sop), `earlier instance ${sop} lost`);
  // The store keeps working: the unacknowledged rest can be stored now.
  const rest = synth.filter((x) => !present.has(x.sop));
  for (let i = 0; i < rest.length; i += 100) {
    const res = await store.stow(rest.slice(i, i + 100).map((x) => x.bytes));
    assert.equal(res.status, 200, describe(res));
  }
  assert.equal((await listInstances()).size, before.size + synth.length);
});

test('acknowledged deletes (instance, series, study) survive SIGKILL', T, async () => {
  const all = await listInstances();
  const [victimSop, victim] = [...all.entries()].find(([, x]) => x.study.startsWith('1.2.826.0.1.3680043.9.7433.3'));
  const d1 = await store.req('DELETE', store.instancePath(victim.study, victim.series, victimSop));
  assert.equal(d1.status, 200, describe(d1));
  const xa = corpusItems[0];
  const d2 = await store.req('DELETE', `studies/${xa.study}`);
  assert.equal(d2.status, 200);
  assert.equal(d2.json.done, true);
  const ct = corpusItems[2];
  const d3 = await store.req('DELETE', `studies/${ct.study}/series/${ct.series}`);
  assert.equal(d3.json.done, true);
  await kill();
  await restart();
  const now = await listInstances();
  assert.ok(!now.has(victimSop), 'deleted instance is back');
  assert.ok(!now.has(xa.sop), 'deleted study is back');
  assert.ok(!now.has(ct.sop), 'deleted series is back');
  assert.equal(now.size, all.size - 3);
  assert.equal((await store.req('GET', `studies/${xa.study}`)).status, 404);
  // The deleted instance can be stored again.
  const again = await store.stow([xa.bytes]);
  assert.equal(again.status, 200, describe(again));
});
