'use strict';
// Corpus round trip (spec §10.2-§10.4): every valid corpus file (one with MANIFEST-json) is
// stored with STOW-RS (multipart batches mixed with single-part requests), found by QIDO with
// exactly the expected study-level attributes, retrieved byte-identical with transfer-syntax=*
// (dcmdump reads it), its metadata parses with pydicom and its BulkDataURIs dereference, and the
// default retrieve (Explicit VR Little Endian, transcoded where needed) parses with pydicom with
// complete pixel data.
//
// The corpus has families sharing one SOPInstanceUID (and studies whose files disagree on
// study-level attributes), so the files are spread over several stores in which UIDs are unique.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {test, after} = require('node:test');
const {useServer, makeTempDir, removeDir} = require('./lib/server');
const {
  TS, corpus, corpusBytes, sha256, Store, stowResult, decodeMultipart, parseMediaType, describe, http, py, dcmdump,
} = require('./lib/dicom');

const DS = 'roundtrip';
const BATCH = 4; // files per multipart request
const BIG = 4 * 1024 * 1024; // files above this go single-part
const POOL = 4; // concurrent per-file checks

const tmp = makeTempDir('dicomstore-roundtrip-');
after(() => removeDir(tmp));
fs.mkdirSync(path.join(tmp, 'stored'));
fs.mkdirSync(path.join(tmp, 'explicit'));

// Store assignment: a file goes to the first store holding neither its SOPInstanceUID nor a
// file of the same study with different expected study attributes.
const valid = corpus().filter((e) => e.valid);
const groups = [];
for (const e of valid) {
  const key = JSON.stringify(e.expected);
  let g = groups.find((grp) => !grp.some((o) => o.sop_instance_uid === e.sop_instance_uid ||
      (o.study_uid === e.study_uid && JSON.stringify(o.expected) !== key)));
  if (!g) groups.push(g = []);
  g.push(e);
}
const stores = [];
const storeOf = new Map(); // file -> Store

const fx = useServer({setup: async () => {
  for (let i = 0; i < groups.length; i++) {
    const s = await Store.create(fx, DS, `rt-${i}`);
    stores.push(s);
    for (const e of groups[i]) storeOf.set(e.file, s);
  }
}});

async function pool(items, n, fn) {
  const queue = items.slice();
  const workers = Array.from({length: Math.min(n, queue.length)}, async () => {
    while (queue.length) {
      const item = queue.shift();
      await fn(item);
    }
  });
  await Promise.all(workers);
}

// Files whose pixel data is deliberately damaged (structure valid): decoding them must fail
// cleanly, see the last test.
const DAMAGED = new Set(valid.filter((e) => e.file.startsWith('pixel-corrupt')).map((e) => e.file));

const instanceRel = (e) => `studies/${e.study_uid}/series/${e.series_uid}/instances/${e.sop_instance_uid}`;
let stowed = false;

test('STOW every valid corpus file (multipart batches and single part) -> 200, all referenced', {timeout: 120_000}, async () => {
  assert.ok(valid.length >= 70, `only ${valid.length} valid corpus files`);
  let multipartRequests = 0;
  let singleRequests = 0;
  for (let gi = 0; gi < groups.length; gi++) {
    const store = stores[gi];
    // Build requests: big files alone as single part, the rest in batches of BATCH, and every
    // third batch sent as single-part requests instead.
    const requests = [];
    const small = groups[gi].filter((e) => e.size <= BIG);
    for (const e of groups[gi].filter((x) => x.size > BIG)) requests.push({single: true, files: [e]});
    for (let i = 0, n = 0; i < small.length; i += BATCH, n++) {
      const batch = small.slice(i, i + BATCH);
      if (n % 3 === 2) for (const e of batch) requests.push({single: true, files: [e]});
      else requests.push({single: false, files: batch});
    }
    for (const rq of requests) {
      const names = rq.files.map((e) => e.file).join(', ');
      const res = await store.stow(rq.files.map((e) => corpusBytes(e.file)), {single: rq.single, timeoutMs: 90_000});
      if (rq.single) singleRequests++; else multipartRequests++;
      assert.equal(res.status, 200, `STOW [${names}]: ${describe(res)}`);
      const r = stowResult(res);
      assert.deepEqual(r.failed, [], `STOW [${names}] failures`);
      assert.equal(r.referenced.length, rq.files.length, `STOW [${names}] referenced count`);
      for (const e of rq.files) {
        const ref = r.referenced.find((x) => x.sopUid === e.sop_instance_uid);
        assert.ok(ref, `${e.file}: ${e.sop_instance_uid} not in ReferencedSOPSequence`);
        assert.equal(ref.classUid, e.sop_class_uid, `${e.file}: ReferencedSOPClassUID`);
        assert.equal(ref.url, store.url(instanceRel(e)), `${e.file}: instance RetrieveURL`);
      }
      if (rq.files.length === 1 || new Set(rq.files.map((e) => e.study_uid)).size === 1) {
        assert.equal(r.retrieveUrl, store.url(`studies/${rq.files[0].study_uid}`), `[${names}] study RetrieveURL`);
      }
    }
  }
  assert.ok(multipartRequests > 0 && singleRequests > 0);
  stowed = true;
});

// Absent and present-but-empty are the same (README of MANIFEST-json).
function isEmpty(a) {
  return a === undefined || !('Value' in a) || (Array.isArray(a.Value) && a.Value.length === 0);
}
function compareAttr(expected, got) {
  if (isEmpty(expected)) {
    if (isEmpty(got)) {
      if (expected && got && expected.vr !== got.vr) return `vr ${JSON.stringify(got.vr)} != ${JSON.stringify(expected.vr)}`;
      return null;
    }
    return `expected empty/absent, got ${JSON.stringify(got)}`;
  }
  if (isEmpty(got)) return `expected ${JSON.stringify(expected)}, got ${JSON.stringify(got === undefined ? 'absent' : got)}`;
  const e = {vr: expected.vr, Value: expected.Value};
  const g = {vr: got.vr, Value: got.Value};
  try {
    assert.deepStrictEqual(g, e);
  } catch {
    return `expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`;
  }
  return null;
}

test('QIDO study level (StudyInstanceUID + includefield=all) matches MANIFEST-json exactly', {timeout: 60_000}, async () => {
  assert.ok(stowed, 'STOW step failed');
  const mismatches = [];
  await pool(valid, POOL, async (e) => {
    const store = storeOf.get(e.file);
    const list = await store.search('studies', {StudyInstanceUID: e.study_uid, includefield: 'all'});
    if (list.length !== 1) {
      mismatches.push(`${e.file}: ${list.length} studies for StudyInstanceUID=${e.study_uid}`);
      return;
    }
    const got = list[0];
    for (const [tag, exp] of Object.entries(e.expected)) {
      const diff = compareAttr(exp, got[tag]);
      if (diff) mismatches.push(`${e.file} ${tag}: ${diff}${e.index && e.index.json_quirks ? ` (quirks: ${e.index.json_quirks})` : ''}`);
    }
    // Tags listed as absent in INDEX.tsv must come back absent or empty.
    for (const tag of (e.index && e.index.absent_study_tags ? e.index.absent_study_tags.split(',') : [])) {
      if (!isEmpty(got[tag])) mismatches.push(`${e.file} ${tag}: absent in the file, got ${JSON.stringify(got[tag])}`);
    }
  });
  assert.deepEqual(mismatches, [], `study attribute mismatches:\n${mismatches.join('\n')}`);
});

const stored = new Map(); // file -> path of the as-stored copy

test('WADO instance with transfer-syntax=* is byte-identical (SHA-256) and dcmdump reads it', {timeout: 90_000}, async () => {
  assert.ok(stowed, 'STOW step failed');
  const problems = [];
  await pool(valid, POOL, async (e) => {
    const store = storeOf.get(e.file);
    const res = await store.req('GET', instanceRel(e), {
      headers: {accept: 'multipart/related; type="application/dicom"; transfer-syntax=*'}, timeoutMs: 60_000,
    });
    if (res.status !== 200) { problems.push(`${e.file}: ${describe(res)}`); return; }
    const ct = parseMediaType(res.contentType);
    if (ct.type !== 'multipart/related' || ct.params.type !== 'application/dicom') {
      problems.push(`${e.file}: Content-Type ${res.contentType}`);
    }
    const parts = decodeMultipart(res.buf, res.contentType);
    if (parts.length !== 1) { problems.push(`${e.file}: ${parts.length} parts`); return; }
    const pct = parseMediaType(parts[0].headers['content-type']);
    if (pct.type !== 'application/dicom') problems.push(`${e.file}: part Content-Type ${parts[0].headers['content-type']}`);
    if (pct.params['transfer-syntax'] !== undefined && pct.params['transfer-syntax'] !== e.transfer_syntax_uid) {
      problems.push(`${e.file}: part transfer-syntax ${pct.params['transfer-syntax']}, stored ${e.transfer_syntax_uid}`);
    }
    const body = parts[0].body;
    if (sha256(body) !== sha256(corpusBytes(e.file))) {
      problems.push(`${e.file}: retrieved ${body.length} bytes differ from the ${e.size}-byte original`);
      return;
    }
    const p = path.join(tmp, 'stored', e.file);
    fs.writeFileSync(p, body);
    stored.set(e.file, p);
    const d = await dcmdump(p);
    if (d.code !== 0) problems.push(`${e.file}: dcmdump exit ${d.code}: ${d.stderr.slice(0, 300)}`);
  });
  assert.deepEqual(problems, [], problems.join('\n'));
});

test('single-part Accept application/dicom; transfer-syntax=* returns the stored bytes', {timeout: 30_000}, async () => {
  const picks = valid.filter((e) => e.size < 300_000).slice(0, 6);
  for (const e of picks) {
    const res = await storeOf.get(e.file).req('GET', instanceRel(e), {headers: {accept: 'application/dicom; transfer-syntax=*'}});
    assert.equal(res.status, 200, `${e.file}: ${describe(res)}`);
    assert.equal(parseMediaType(res.contentType).type, 'application/dicom', `${e.file} Content-Type`);
    assert.equal(sha256(res.buf), sha256(corpusBytes(e.file)), `${e.file} bytes`);
  }
});

const infoByFile = new Map(); // file -> pydicom info of the as-stored copy

test('instance metadata parses with pydicom (same SOPInstanceUID); BulkDataURIs are absolute and dereference', {timeout: 90_000}, async () => {
  assert.ok(stowed, 'STOW step failed');
  const problems = [];
  const metas = {};
  const uris = [];
  await pool(valid, POOL, async (e) => {
    const store = storeOf.get(e.file);
    const res = await store.req('GET', `${instanceRel(e)}/metadata`);
    if (res.status !== 200) { problems.push(`${e.file}: ${describe(res)}`); return; }
    if (!/^application\/dicom\+json/.test(res.contentType)) problems.push(`${e.file}: metadata Content-Type ${res.contentType}`);
    const arr = res.json;
    if (!Array.isArray(arr) || arr.length !== 1) { problems.push(`${e.file}: metadata is not a one-element array`); return; }
    metas[e.file] = arr;
  });
  const parsed = await py('metadata_from_json.py', [], {input: JSON.stringify(metas)});
  for (const e of valid) {
    const p = parsed[e.file];
    if (!p) continue;
    if (p.error) { problems.push(`${e.file}: pydicom from_json: ${p.error}`); continue; }
    assert.equal(p.length, 1);
    if (p[0].sopInstance !== e.sop_instance_uid) problems.push(`${e.file}: SOPInstanceUID ${p[0].sopInstance}`);
    if (p[0].study !== e.study_uid) problems.push(`${e.file}: StudyInstanceUID ${p[0].study}`);
    if (p[0].series !== e.series_uid) problems.push(`${e.file}: SeriesInstanceUID ${p[0].series}`);
    const prefix = `${storeOf.get(e.file).url(instanceRel(e))}/bulkdata/`;
    for (const u of p[0].bulkDataURIs) {
      if (!u.startsWith(prefix)) problems.push(`${e.file}: BulkDataURI ${u} does not start with ${prefix}`);
      else uris.push({file: e.file, uri: u});
    }
    // Pixel data, when present, must be a BulkDataURI (never inlined).
    const px = ['7FE00010', '7FE00008', '7FE00009'].find((t) => metas[e.file][0][t]);
    if (px && !metas[e.file][0][px].BulkDataURI) problems.push(`${e.file}: ${px} has no BulkDataURI`);
  }
  // Dereference: at most 8 URIs per instance (some carry 100+ private UN elements), pixel data always.
  const perFile = new Map();
  const chosen = uris.filter(({file, uri}) => {
    const n = perFile.get(file) || 0;
    if (/\/bulkdata\/7FE0000[089]$/i.test(uri) || n < 8) { perFile.set(file, n + 1); return true; }
    return false;
  });
  await pool(chosen.filter(({file}) => !DAMAGED.has(file)), POOL, async ({file, uri}) => {
    const r = await http('', 'GET', uri, {headers: {accept: 'application/octet-stream; transfer-syntax=*'}});
    if (r.status !== 200) problems.push(`${file}: GET ${uri}: ${describe(r)}`);
    else if (!/^application\/octet-stream/.test(r.contentType)) problems.push(`${file}: ${uri} Content-Type ${r.contentType}`);
  });
  assert.ok(chosen.length > valid.length / 2, `only ${chosen.length} BulkDataURIs seen`);
  // Default Accept of bulkdata is multipart/related octet-stream.
  const {file, uri} = chosen[0];
  const m = await http('', 'GET', uri);
  assert.equal(m.status, 200, `${file}: ${describe(m)}`);
  assert.equal(decodeMultipart(m.buf, m.contentType).length, 1);
  assert.deepEqual(problems, [], problems.join('\n'));
});

test('default retrieve is Explicit VR LE, parses with pydicom and has complete pixel data', {timeout: 120_000}, async () => {
  assert.ok(stored.size === valid.length, 'transfer-syntax=* step failed');
  const problems = [];
  const origInfo = await py('part10_info.py', valid.map((e) => stored.get(e.file)));
  for (const e of valid) infoByFile.set(e.file, origInfo[stored.get(e.file)]);
  const images = valid.filter((e) => {
    const i = infoByFile.get(e.file);
    return !i.error && i.pixelKeyword && i.rows && i.columns && !DAMAGED.has(e.file);
  });
  assert.ok(images.length >= 55, `only ${images.length} image instances`);
  const explicitPaths = new Map();
  await pool(images, POOL, async (e) => {
    const res = await storeOf.get(e.file).req('GET', instanceRel(e), {timeoutMs: 90_000});
    if (res.status !== 200) { problems.push(`${e.file} (${e.transfer_syntax_uid}): ${describe(res)}`); return; }
    const ct = parseMediaType(res.contentType);
    if (ct.type !== 'multipart/related' || ct.params['transfer-syntax'] !== TS.EXPLICIT_LE) {
      problems.push(`${e.file}: Content-Type ${res.contentType}`);
    }
    const parts = decodeMultipart(res.buf, res.contentType);
    if (parts.length !== 1) { problems.push(`${e.file}: ${parts.length} parts`); return; }
    const pts = parseMediaType(parts[0].headers['content-type']).params['transfer-syntax'];
    if (pts !== TS.EXPLICIT_LE) problems.push(`${e.file}: part transfer-syntax ${pts}`);
    // Stored as Explicit VR LE already: passed through untouched.
    if (e.transfer_syntax_uid === TS.EXPLICIT_LE && sha256(parts[0].body) !== sha256(corpusBytes(e.file))) {
      problems.push(`${e.file}: stored as Explicit VR LE, but the default retrieve is not the stored bytes`);
    }
    const p = path.join(tmp, 'explicit', e.file);
    fs.writeFileSync(p, parts[0].body);
    explicitPaths.set(e.file, p);
  });
  const info = await py('part10_info.py', [...explicitPaths.values()]);
  for (const e of images) {
    if (!explicitPaths.has(e.file)) continue;
    const o = infoByFile.get(e.file);
    const i = info[explicitPaths.get(e.file)];
    const tag = `${e.file} (stored ${e.transfer_syntax_uid})`;
    if (i.error) { problems.push(`${tag}: pydicom: ${i.error}`); continue; }
    if (i.transferSyntax !== TS.EXPLICIT_LE) problems.push(`${tag}: TransferSyntaxUID ${i.transferSyntax}`);
    if (i.sopInstance !== e.sop_instance_uid) problems.push(`${tag}: SOPInstanceUID ${i.sopInstance}`);
    for (const k of ['rows', 'columns', 'bitsAllocated', 'samplesPerPixel', 'pixelKeyword']) {
      if (i[k] !== o[k]) problems.push(`${tag}: ${k} ${i[k]}, stored ${o[k]}`);
    }
    const frames = i.numberOfFrames || 1;
    // YBR_FULL_422 native data has 2 samples per pixel on average (PS3.3 C.7.6.3.1.2).
    const spp = i.photometric === 'YBR_FULL_422' ? 2 : i.samplesPerPixel;
    const expected = Math.ceil((i.rows * i.columns * frames * spp * i.bitsAllocated) / 8);
    const padded = expected + (expected % 2);
    // A file stored as Explicit LE comes back as stored, even with over-long pixel data (quirk).
    if (e.transfer_syntax_uid === TS.EXPLICIT_LE && i.pixelLength === o.pixelLength && i.pixelLength >= padded) continue;
    if (i.pixelLength !== padded) {
      problems.push(`${tag}: ${i.pixelKeyword} is ${i.pixelLength} bytes, expected ${padded} ` +
          `(${i.rows}x${i.columns}x${frames}x${spp}x${i.bitsAllocated} bits, ${i.photometric})`);
    }
  }
  assert.deepEqual(problems, [], problems.join('\n'));
});

test('deliberately damaged codestream: default retrieve and pixel bulkdata fail with a clean 4xx, not 500',
    {timeout: 30_000}, async () => {
  assert.ok(DAMAGED.size > 0);
  for (const file of DAMAGED) {
    const e = valid.find((x) => x.file === file);
    const store = storeOf.get(file);
    const attempts = [
      ['default retrieve', instanceRel(e), {}],
      ['frames/1', `${instanceRel(e)}/frames/1`, {}],
      ['bulkdata 7FE00010', `${instanceRel(e)}/bulkdata/7FE00010`, {accept: 'application/octet-stream; transfer-syntax=*'}],
      ['rendered', `${instanceRel(e)}/rendered`, {}],
      ['study retrieve', `studies/${e.study_uid}`, {}],
    ];
    const failures = [];
    for (const [what, rel, headers] of attempts) {
      const r = await store.req('GET', rel, {headers});
      if (r.status === 200) continue; // a tolerant decoder is fine too
      if (!(r.status === 400 || r.status === 406) || !(r.json && r.json.error && r.json.error.code === r.status)) {
        failures.push(`${file} ${what}: ${describe(r)}`);
      }
    }
    assert.deepEqual(failures, [], failures.join('\n'));
    // The stored bytes stay retrievable.
    const {bytes} = await store.retrieveInstance(e.study_uid, e.series_uid, e.sop_instance_uid);
    assert.equal(sha256(bytes), sha256(corpusBytes(file)));
  }
});
