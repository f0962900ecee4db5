'use strict';
// WADO-RS beyond the single-instance round trip (spec §10.4, §5.3): study/series retrieve,
// metadata at every level, frames (default uncompressed, transfer-syntax=*, lists, range
// errors), rendered (JPEG/PNG, viewport), transcoding targets and 406, bulk data, 404s, and the
// study/series/instance/store metrics.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {test, after} = require('node:test');
const {useServer, makeTempDir, removeDir} = require('./lib/server');
const {
  TS, corpusEntry, corpusBytes, sha256, Store, decodeMultipart, parseMediaType, describe, first, py,
} = require('./lib/dicom');

const T = {timeout: 60_000};
const FILES = ['mf-us-rle-palette-10f.dcm', 'mf-mr-explicit-le-16f.dcm', 'ts-ct-jpeg-baseline-50.dcm', 'mf-sc-rgb-rle-2f.dcm',
  'ts-sc-rgb-odd-3x3.dcm', 'qido-p1-cr-s1.dcm', 'qido-p1-cr-s2.dcm', 'sr-basic-text.dcm'].map(corpusEntry);
const E = Object.fromEntries(FILES.map((e) => [e.file.replace(/\.dcm$/, ''), e]));
let store;
const tmp = makeTempDir('dicomstore-wado-');
after(() => removeDir(tmp));

const fx = useServer({setup: async () => {
  store = await Store.create(fx, 'wado', 'w');
  const res = await store.stow(FILES.map((e) => corpusBytes(e.file)));
  assert.equal(res.status, 200, describe(res));
}});

const rel = (e) => `studies/${e.study_uid}/series/${e.series_uid}/instances/${e.sop_instance_uid}`;
const ANY = 'multipart/related; type="application/dicom"; transfer-syntax=*';
const OCTET_ANY = 'multipart/related; type="application/octet-stream"; transfer-syntax=*';

async function get(p, accept, code = 200) {
  const r = await store.req('GET', p, {headers: accept ? {accept} : {}});
  assert.equal(r.status, code, `GET ${p} (Accept ${accept}): ${describe(r)}`);
  return r;
}
function assertError(r, code, status, ctx) {
  assert.equal(r.status, code, `${ctx}: ${describe(r)}`);
  assert.match(r.contentType, /^application\/json/, `${ctx}: Content-Type`);
  assert.ok(r.json && r.json.error && typeof r.json.error.message === 'string', `${ctx}: envelope ${describe(r)}`);
  if (status) assert.equal(r.json.error.status, status, `${ctx}: status`);
}

// Image dimensions from PNG IHDR / JPEG SOFn.
function imageSize(buf) {
  if (buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    return {type: 'png', width: buf.readUInt32BE(16), height: buf.readUInt32BE(20)};
  }
  assert.ok(buf[0] === 0xff && buf[1] === 0xd8, 'neither PNG nor JPEG');
  let p = 2;
  while (p + 9 < buf.length) {
    assert.equal(buf[p], 0xff, 'JPEG marker expected');
    const m = buf[p + 1];
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return {type: 'jpeg', height: buf.readUInt16BE(p + 5), width: buf.readUInt16BE(p + 7)};
    }
    p += 2 + buf.readUInt16BE(p + 2);
  }
  assert.fail('no JPEG SOF marker');
}

test('study and series retrieve: every instance once, byte-identical with transfer-syntax=*, Explicit LE by default', T, async () => {
  const study = E['qido-p1-cr-s1'].study_uid;
  const members = FILES.filter((e) => e.study_uid === study);
  assert.equal(members.length, 2);
  const r = await get(`studies/${study}`, ANY);
  const parts = decodeMultipart(r.buf, r.contentType);
  assert.deepEqual(parts.map((p) => sha256(p.body)).sort(), members.map((e) => sha256(corpusBytes(e.file))).sort());
  for (const p of parts) assert.equal(parseMediaType(p.headers['content-type']).type, 'application/dicom');
  // Lestrade study: two instances in one series.
  const les = E['mf-sc-rgb-rle-2f'];
  const series = await get(`studies/${les.study_uid}/series/${les.series_uid}`, ANY);
  const sparts = decodeMultipart(series.buf, series.contentType);
  assert.deepEqual(sparts.map((p) => sha256(p.body)).sort(),
      [E['mf-sc-rgb-rle-2f'], E['ts-sc-rgb-odd-3x3']].map((e) => sha256(corpusBytes(e.file))).sort());
  // Default: Explicit VR LE for every part (the RLE one is decoded).
  const def = await get(`studies/${les.study_uid}/series/${les.series_uid}`);
  assert.equal(parseMediaType(def.contentType).params['transfer-syntax'], TS.EXPLICIT_LE);
  const dparts = decodeMultipart(def.buf, def.contentType);
  assert.equal(dparts.length, 2);
  for (const p of dparts) assert.equal(parseMediaType(p.headers['content-type']).params['transfer-syntax'], TS.EXPLICIT_LE);
  const paths = dparts.map((p, i) => { const f = path.join(tmp, `series-${i}.dcm`); fs.writeFileSync(f, p.body); return f; });
  const info = await py('part10_info.py', paths);
  assert.deepEqual(paths.map((p) => info[p].sopInstance).sort(), [les.sop_instance_uid, E['ts-sc-rgb-odd-3x3'].sop_instance_uid].sort());
  for (const p of paths) assert.equal(info[p].transferSyntax, TS.EXPLICIT_LE, JSON.stringify(info[p]));
});

test('metadata at study, series and instance level: one dataset per instance, dicom+json', T, async () => {
  const les = E['mf-sc-rgb-rle-2f'];
  for (const [p, n] of [
    [`studies/${les.study_uid}/metadata`, 2],
    [`studies/${les.study_uid}/series/${les.series_uid}/metadata`, 2],
    [`${rel(les)}/metadata`, 1],
    [`studies/${E['qido-p1-cr-s1'].study_uid}/metadata`, 2],
  ]) {
    for (const accept of [undefined, 'application/dicom+json']) {
      const r = await get(p, accept);
      assert.match(r.contentType, /^application\/dicom\+json/);
      assert.ok(Array.isArray(r.json) && r.json.length === n, `${p}: ${r.json.length}`);
      for (const ds of r.json) {
        assert.ok(first(ds, '00080018'), `${p}: SOPInstanceUID`);
        if (ds['7FE00010']) assert.ok(ds['7FE00010'].BulkDataURI && !('InlineBinary' in ds['7FE00010']), `${p}: pixel data as BulkDataURI`);
      }
    }
  }
});

test('frames: default uncompressed, lists in request order, %2C, transfer-syntax=* as stored', T, async () => {
  // Native multi-frame: frames equal slices of the raw pixel data (bulkdata).
  for (const e of [E['mf-mr-explicit-le-16f'], E['mf-us-rle-palette-10f'], E['mf-sc-rgb-rle-2f']]) {
    const bulk = await get(`${rel(e)}/bulkdata/7FE00010`, 'application/octet-stream; transfer-syntax=*');
    const frames = Number(e.frames);
    const spp = e.file.includes('rgb') ? 3 : 1;
    const size = Number(e.rows) * Number(e.cols) * spp * Number(e.bits_allocated) / 8;
    assert.equal(bulk.buf.length, size * frames + ((size * frames) % 2), `${e.file}: raw pixel data length`);
    const list = [frames, 1, 2].filter((v, i, a) => a.indexOf(v) === i);
    for (const p of [`${rel(e)}/frames/${list.join(',')}`, `${rel(e)}/frames/${list.join('%2C')}`]) {
      const r = await get(p);
      const ct = parseMediaType(r.contentType);
      assert.equal(ct.params.type, 'application/octet-stream', p);
      assert.equal(ct.params['transfer-syntax'], TS.EXPLICIT_LE, p);
      const parts = decodeMultipart(r.buf, r.contentType);
      assert.equal(parts.length, list.length, p);
      parts.forEach((part, i) => {
        const k = list[i];
        assert.equal(part.body.length, size, `${p}: frame ${k} length`);
        assert.ok(part.body.equals(bulk.buf.subarray((k - 1) * size, k * size)), `${p}: frame ${k} bytes`);
      });
    }
  }
  // transfer-syntax=*: compressed frames as stored.
  const rle = await get(`${rel(E['mf-us-rle-palette-10f'])}/frames/2`, OCTET_ANY);
  assert.equal(parseMediaType(rle.contentType).params['transfer-syntax'], TS.RLE);
  const rleFrame = decodeMultipart(rle.buf, rle.contentType)[0].body;
  assert.equal(rleFrame.readUInt32LE(0), 1, 'RLE header: one segment for 8-bit palette');
  assert.equal(rleFrame.readUInt32LE(4), 64, 'RLE header: first segment offset');
  const jpg = await get(`${rel(E['ts-ct-jpeg-baseline-50'])}/frames/1`, OCTET_ANY);
  assert.equal(parseMediaType(jpg.contentType).params['transfer-syntax'], TS.JPEG_BASELINE);
  const jpgFrame = decodeMultipart(jpg.buf, jpg.contentType)[0].body;
  assert.deepEqual([...jpgFrame.subarray(0, 2)], [0xff, 0xd8], 'JPEG SOI');
  assert.deepEqual(imageSize(jpgFrame), {type: 'jpeg', width: 512, height: 512});
  // Native stored + transfer-syntax=*: same as uncompressed.
  const nat = await get(`${rel(E['mf-mr-explicit-le-16f'])}/frames/3`, OCTET_ANY);
  assert.equal(decodeMultipart(nat.buf, nat.contentType)[0].body.length, 256 * 256);
});

test('frames: bad numbers -> 400, no pixel data -> 400, unsupported frame media type -> 406', T, async () => {
  const e = E['mf-us-rle-palette-10f'];
  for (const f of ['11', '0', 'x', '1,11', '-1', '', '1,,2']) {
    const r = await store.req('GET', `${rel(e)}/frames/${f}`);
    if (f === '' && r.status === 404) continue; // an empty frame list may not route at all
    assertError(r, 400, 'INVALID_ARGUMENT', `frames/${f}`);
  }
  assertError(await store.req('GET', `${rel(E['sr-basic-text'])}/frames/1`), 400, 'INVALID_ARGUMENT', 'SR frames');
  const r = await store.req('GET', `${rel(e)}/frames/1`, {headers: {accept: 'multipart/related; type="video/mpeg"'}});
  assert.equal(r.status, 406, describe(r));
});

test('rendered: JPEG by default, PNG on request, viewport scales within the box, first frame or given frame', T, async () => {
  const e = E['mf-us-rle-palette-10f']; // 600 x 430
  const jpeg = await get(`${rel(e)}/rendered`);
  assert.match(jpeg.contentType, /^image\/jpeg/);
  assert.deepEqual(imageSize(jpeg.buf), {type: 'jpeg', width: 600, height: 430});
  const png = await get(`${rel(e)}/rendered`, 'image/png');
  assert.match(png.contentType, /^image\/png/);
  assert.deepEqual(imageSize(png.buf), {type: 'png', width: 600, height: 430});
  for (const [vw, vh] of [[100, 50], [300, 300], [60, 43]]) {
    const v = await get(`${rel(e)}/rendered?viewport=${vw},${vh}`, 'image/png');
    const s = imageSize(v.buf);
    assert.ok(s.width <= vw && s.height <= vh && (s.width === vw || s.height === vh), `viewport ${vw},${vh}: ${s.width}x${s.height}`);
    assert.ok(Math.abs(s.width / s.height - 600 / 430) < 0.1, `viewport ${vw},${vh}: aspect ${s.width}x${s.height}`);
  }
  const f2 = await get(`${rel(e)}/frames/2/rendered`);
  assert.match(f2.contentType, /^image\/jpeg/);
  assert.deepEqual(imageSize(f2.buf), {type: 'jpeg', width: 600, height: 430});
  const f2png = await get(`${rel(e)}/frames/2/rendered?viewport=120,86`, 'image/png');
  assert.deepEqual(imageSize(f2png.buf), {type: 'png', width: 120, height: 86});
  for (const other of [E['ts-ct-jpeg-baseline-50'], E['ts-sc-rgb-odd-3x3'], E['mf-sc-rgb-rle-2f'], E['mf-mr-explicit-le-16f']]) {
    const r = await get(`${rel(other)}/rendered`, 'image/png');
    assert.deepEqual(imageSize(r.buf), {type: 'png', width: Number(other.cols), height: Number(other.rows)}, other.file);
  }
  assert.equal((await store.req('GET', `${rel(e)}/rendered`, {headers: {accept: 'image/gif'}})).status, 406);
  assertError(await store.req('GET', `${rel(e)}/rendered?viewport=abc`), 400, 'INVALID_ARGUMENT', 'viewport=abc');
  assertError(await store.req('GET', `${rel(E['sr-basic-text'])}/rendered`), 400, 'INVALID_ARGUMENT', 'SR rendered');
  assertError(await store.req('GET', `${rel(e)}/frames/11/rendered`), 400, 'INVALID_ARGUMENT', 'frame 11 rendered');
});

test('transfer syntax targets: stored TS passes through, native targets transcode, compressed targets 406', T, async () => {
  const jpeg = E['ts-ct-jpeg-baseline-50'];
  const same = await get(rel(jpeg), `multipart/related; type="application/dicom"; transfer-syntax=${TS.JPEG_BASELINE}`);
  assert.equal(sha256(decodeMultipart(same.buf, same.contentType)[0].body), sha256(corpusBytes(jpeg.file)), 'stored TS requested');
  const impl = await get(rel(jpeg), `multipart/related; type="application/dicom"; transfer-syntax=${TS.IMPLICIT_LE}`);
  const p = path.join(tmp, 'implicit.dcm');
  fs.writeFileSync(p, decodeMultipart(impl.buf, impl.contentType)[0].body);
  const info = (await py('part10_info.py', [p]))[p];
  assert.equal(info.transferSyntax, TS.IMPLICIT_LE, JSON.stringify(info));
  assert.equal(info.pixelLength, 512 * 512);
  // Single part with a target TS.
  const single = await get(rel(jpeg), `application/dicom; transfer-syntax=${TS.EXPLICIT_LE}`);
  assert.equal(parseMediaType(single.contentType).type, 'application/dicom');
  assert.equal(single.buf.subarray(128, 132).toString(), 'DICM');
  // A compressed target the data is not stored in.
  for (const [e, ts] of [[E['mf-mr-explicit-le-16f'], TS.JPEG_BASELINE], [jpeg, '1.2.840.10008.1.2.4.70'], [E['mf-sc-rgb-rle-2f'], '1.2.840.10008.1.2.4.90']]) {
    for (const target of [rel(e), `studies/${e.study_uid}`]) {
      const r = await store.req('GET', target, {headers: {accept: `multipart/related; type="application/dicom"; transfer-syntax=${ts}`}});
      assert.equal(r.status, 406, `${e.file} -> ${ts}: ${describe(r)}`);
      assert.match(r.contentType, /^application\/json/);
    }
  }
  for (const accept of ['text/html', 'application/dicom+json', 'multipart/related; type="image/jpeg"']) {
    const r = await store.req('GET', rel(jpeg), {headers: {accept}});
    assert.equal(r.status, 406, `Accept ${accept}: ${describe(r)}`);
  }
});

test('missing study / series / instance -> 404 envelope on every retrieve route', T, async () => {
  const e = E['qido-p1-cr-s1'];
  const routes = [
    'studies/1.2.3.4', 'studies/1.2.3.4/metadata', `studies/${e.study_uid}/series/1.2.3.4`, `studies/${e.study_uid}/series/1.2.3.4/metadata`,
    `studies/${e.study_uid}/series/${e.series_uid}/instances/1.2.3.4`, `studies/${e.study_uid}/series/${e.series_uid}/instances/1.2.3.4/metadata`,
    `studies/${e.study_uid}/series/${e.series_uid}/instances/1.2.3.4/frames/1`, `studies/${e.study_uid}/series/${e.series_uid}/instances/1.2.3.4/rendered`,
    `studies/${e.study_uid}/series/${e.series_uid}/instances/1.2.3.4/bulkdata/7FE00010`,
    // The instance exists, but not under this series / study.
    `studies/${e.study_uid}/series/${E['qido-p1-cr-s2'].series_uid}/instances/${e.sop_instance_uid}`,
    `studies/${E['sr-basic-text'].study_uid}/series/${e.series_uid}/instances/${e.sop_instance_uid}`,
    'studies/1.2.3.4:getStudyMetrics', `studies/${e.study_uid}/series/1.2.3.4:getSeriesMetrics`,
    `studies/${e.study_uid}/series/${e.series_uid}/instances/1.2.3.4:getStorageInfo`,
  ];
  for (const r of routes) assertError(await store.req('GET', r), 404, 'NOT_FOUND', r);
  // A bulk data path the instance does not have: the spec leaves the code open (400 or 404).
  const nb = await store.req('GET', `${rel(e)}/bulkdata/7FE00099`);
  assertError(nb, nb.status === 400 ? 400 : 404, undefined, 'missing bulkdata tag');
});

test('metrics: study, series, instance storage info and store metrics (int64 as strings)', T, async () => {
  const les = E['mf-sc-rgb-rle-2f'];
  const odd = E['ts-sc-rgb-odd-3x3'];
  const sm = (await get(`studies/${les.study_uid}:getStudyMetrics`)).json;
  assert.equal(sm.study, `${store.name}/dicomWeb/studies/${les.study_uid}`);
  assert.equal(sm.seriesCount, '1');
  assert.equal(sm.instanceCount, '2');
  assert.equal(sm.blobStorageSizeBytes, String(les.size + odd.size));
  assert.match(sm.structuredStorageSizeBytes, /^[1-9]\d*$/);
  const se = (await get(`studies/${les.study_uid}/series/${les.series_uid}:getSeriesMetrics`)).json;
  assert.equal(se.series, `${store.name}/dicomWeb/studies/${les.study_uid}/series/${les.series_uid}`);
  assert.equal(se.instanceCount, '2');
  assert.equal(se.blobStorageSizeBytes, String(les.size + odd.size));
  const si = (await get(`${rel(les)}:getStorageInfo`)).json;
  assert.equal(si.referencedResource, `${store.name}/dicomWeb/${rel(les)}`);
  assert.equal(si.blobStorageInfo.sizeBytes, String(les.size));
  assert.equal(typeof si.structuredStorageInfo.sizeBytes, 'string');
  const cr = (await get(`studies/${E['qido-p1-cr-s1'].study_uid}:getStudyMetrics`)).json;
  assert.equal(cr.seriesCount, '2');
  assert.equal(cr.instanceCount, '2');
  const store1 = await fx.raw('GET', `/v1/${store.name}:getDICOMStoreMetrics`);
  assert.equal(store1.status, 200, store1.text);
  const studies = new Set(FILES.map((e) => e.study_uid));
  const series = new Set(FILES.map((e) => e.series_uid));
  assert.equal(store1.json.name, store.name);
  assert.equal(store1.json.studyCount, String(studies.size));
  assert.equal(store1.json.seriesCount, String(series.size));
  assert.equal(store1.json.instanceCount, String(FILES.length));
  assert.equal(store1.json.blobStorageSizeBytes, String(FILES.reduce((a, e) => a + e.size, 0)));
  assert.match(store1.json.structuredStorageSizeBytes, /^[1-9]\d*$/);
  // The official client reads the same.
  const viaClient = await fx.stores.getDICOMStoreMetrics({name: store.name});
  assert.deepEqual(viaClient.data, store1.json);
});

test('Accept lists: an unsatisfiable first choice falls back to the next acceptable one', {
  ...T,
}, async () => {
  const jpeg = E['ts-ct-jpeg-baseline-50'];
  const lossless = 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.70';
  for (const [alt, ts] of [
    ['multipart/related; type="application/dicom"; transfer-syntax=*', TS.JPEG_BASELINE],
    ['multipart/related; type="application/dicom"; transfer-syntax=*;q=0.1', TS.JPEG_BASELINE],
    [`multipart/related; type="application/dicom"; transfer-syntax=${TS.EXPLICIT_LE}`, TS.EXPLICIT_LE],
    ['multipart/related; type="application/dicom"', TS.EXPLICIT_LE],
    ['*/*', TS.EXPLICIT_LE],
  ]) {
    const r = await store.req('GET', rel(jpeg), {headers: {accept: `${lossless}, ${alt}`}});
    assert.equal(r.status, 200, `Accept "${lossless}, ${alt}": ${describe(r)}`);
    assert.equal(parseMediaType(r.contentType).params['transfer-syntax'], ts, `Accept "${lossless}, ${alt}"`);
  }
});

test('frames of a JPEG-stored instance as image/jpeg (spec §10.4 frame media types)', {
  ...T,
}, async () => {
  const jpeg = E['ts-ct-jpeg-baseline-50'];
  const r = await store.req('GET', `${rel(jpeg)}/frames/1`, {headers: {accept: `multipart/related; type="image/jpeg"; transfer-syntax=${TS.JPEG_BASELINE}`}});
  assert.equal(r.status, 200, describe(r));
  const ct = parseMediaType(r.contentType);
  assert.equal(ct.params.type, 'image/jpeg');
  const [part] = decodeMultipart(r.buf, r.contentType);
  assert.match(part.headers['content-type'], /^image\/jpeg/);
  const stored = await get(`${rel(jpeg)}/frames/1`, OCTET_ANY);
  assert.ok(part.body.equals(decodeMultipart(stored.buf, stored.contentType)[0].body), 'JPEG frame is the stored fragment');
});

test('406 answers carry error.code 406 in the envelope', {
  ...T,
}, async () => {
  const r = await store.req('GET', rel(E['mf-mr-explicit-le-16f']), {headers: {accept: `multipart/related; type="application/dicom"; transfer-syntax=${TS.JPEG_BASELINE}`}});
  assert.equal(r.status, 406);
  assert.equal(r.json.error.code, 406, describe(r));
});

test('system query parameters on retrieve routes are ignored (Go client: alt=&prettyPrint=false)', T, async () => {
  const e = E['mf-us-rle-palette-10f'];
  for (const sys of ['alt=&prettyPrint=false', 'alt=json', 'alt=media', 'access_token=x&key=y', 'fields=*&quotaUser=q', '%24.xgafv=1']) {
    const inst = await get(`${rel(e)}?${sys}`, ANY);
    assert.equal(sha256(decodeMultipart(inst.buf, inst.contentType)[0].body), sha256(corpusBytes(e.file)), sys);
    const md = await get(`${rel(e)}/metadata?${sys}`);
    assert.equal(md.json.length, 1, sys);
    const fr = await get(`${rel(e)}/frames/1?${sys}`);
    assert.equal(decodeMultipart(fr.buf, fr.contentType)[0].body.length, 600 * 430, sys);
    const rd = await get(`${rel(e)}/rendered?${sys}`);
    assert.match(rd.contentType, /^image\/jpeg/, sys);
    const st = await get(`studies/${e.study_uid}?${sys}`, ANY);
    assert.equal(decodeMultipart(st.buf, st.contentType).length, 1, sys);
    const sm = await get(`studies/${e.study_uid}:getStudyMetrics?${sys}`);
    assert.equal(sm.json.instanceCount, '1', sys);
  }
  // A query parameter that is neither a system parameter nor viewport on rendered: accepted or 400, never a crash.
  const odd = await store.req('GET', `${rel(e)}?foo=bar`, {headers: {accept: ANY}});
  assert.ok(odd.status === 200 || odd.status === 400, describe(odd));
});
