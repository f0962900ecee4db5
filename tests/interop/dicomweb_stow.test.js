'use strict';
// STOW-RS semantics (spec §10.2, §3.3): invalid corpus files next to valid ones, malformed
// requests (no boundary, garbage, truncated, unknown Content-Type, absurd Accept), duplicates,
// study path mismatch, XML vs JSON responses. After every bad request the server still serves
// and nothing is half-stored.
const assert = require('node:assert/strict');
const {test} = require('node:test');
const {useServer} = require('./lib/server');
const {
  corpus, corpusEntry, corpusBytes, sha256, Store, stowResult, encodeMultipart, describe, http, py,
} = require('./lib/dicom');

const T = {timeout: 60_000};
const DS = 'stow';
let store; // invalid-file probing, one file per request
let mixed; // the one big mixed request
let bad; // malformed requests
let dup; // duplicates, study path, XML

const fx = useServer({setup: async () => {
  store = await Store.create(fx, DS, 'single');
  mixed = await Store.create(fx, DS, 'mixed');
  bad = await Store.create(fx, DS, 'bad');
  dup = await Store.create(fx, DS, 'dup');
}});

const invalid = corpus().filter((e) => !e.valid);
// Two valid files whose UIDs and study no invalid file shares.
const invalidUids = new Set(invalid.flatMap((e) => [e.sop_instance_uid, e.study_uid]).filter(Boolean));
const partners = corpus().filter((e) => e.valid && !invalidUids.has(e.sop_instance_uid) && !invalidUids.has(e.study_uid) &&
    e.size < 100_000 && !e.file.startsWith('qido-')).slice(0, 2);

const rel = (e) => `studies/${e.study_uid}/series/${e.series_uid}/instances/${e.sop_instance_uid}`;

function assertFailureItem(f, context) {
  assert.equal(f.reason, 272, `${context}: FailureReason ${JSON.stringify(f.item)}`);
  assert.equal(typeof f.detail, 'string', `${context}: FailureDetail (00091097) ${JSON.stringify(f.item)}`);
  assert.ok(f.detail.length > 0, `${context}: empty FailureDetail`);
  assert.deepEqual(f.item['00090010'], {vr: 'LO', Value: ['GOOGLE']}, `${context}: private creator`);
  assert.equal(f.item['00091097'].vr, 'LT', `${context}: FailureDetail VR`);
}

async function healthy(s = store) {
  const h = await http(fx.base, 'GET', '/healthz');
  assert.equal(h.status, 200, 'server stopped serving');
  const q = await s.qido('studies');
  assert.ok(q.status === 200 || q.status === 204, `QIDO after bad input: ${describe(q)}`);
}

async function instanceCount(s) {
  return (await s.search('instances')).length;
}

const outcome = new Map(); // file -> 'stored' | 'failed'

test('every invalid corpus file alone: 200 + referenced and retrievable as stored, or 409 + clean failure item', T, async () => {
  assert.ok(invalid.length >= 10, `${invalid.length} invalid files`);
  for (const e of invalid) {
    for (const single of [true, false]) {
      const res = await store.stow([corpusBytes(e.file)], {single});
      const ctx = `${e.file} (${single ? 'single part' : 'multipart'})`;
      assert.ok(res.status === 200 || res.status === 409, `${ctx}: ${describe(res)}`);
      const r = stowResult(res);
      assert.equal(r.referenced.length + r.failed.length, 1, `${ctx}: one result item: ${JSON.stringify(r.body)}`);
      const got = res.status === 200 ? 'stored' : 'failed';
      if (single) outcome.set(e.file, got);
      else assert.equal(got, outcome.get(e.file), `${ctx}: same outcome as single part`);
      if (res.status === 409) {
        assert.equal(r.failed.length, 1, ctx);
        assertFailureItem(r.failed[0], ctx);
        if (e.sop_instance_uid && r.failed[0].sopUid !== undefined) {
          assert.equal(r.failed[0].sopUid, e.sop_instance_uid, `${ctx}: ReferencedSOPInstanceUID`);
        }
      } else {
        assert.equal(r.referenced.length, 1, ctx);
        const ref = r.referenced[0];
        const m = /\/studies\/([^/]+)\/series\/([^/]+)\/instances\/([^/]+)$/.exec(ref.url || '');
        assert.ok(m, `${ctx}: RetrieveURL ${ref.url}`);
        assert.equal(m[3], ref.sopUid);
        const back = await store.retrieveInstance(m[1], m[2], m[3]);
        assert.equal(sha256(back.bytes), sha256(corpusBytes(e.file)), `${ctx}: stored bytes`);
      }
    }
    await healthy();
  }
  // Files that are refused by design must fail; spot-check the categories.
  for (const f of invalid.filter((e) => /^(bad-(empty|gzip|truncated|meta-missing|ts-mismatch|no-dataset|private-sq)|meta-no-group-length|raw-ct-small-no-meta-misaligned|dicomdir|nonpatient-)/.test(e.file))) {
    assert.equal(outcome.get(f.file), 'failed', `${f.file} must be refused`);
  }
});

test('invalid corpus files in ONE multipart request with two valid files -> 409, valid ones stored', T, async () => {
  assert.equal(partners.length, 2);
  assert.equal(outcome.size, invalid.length, 'previous test did not run');
  // Interleave: valid, invalid..., valid.
  const files = [partners[0], ...invalid, partners[1]];
  const res = await mixed.stow(files.map((e) => corpusBytes(e.file)), {timeoutMs: 60_000});
  assert.equal(res.status, 409, describe(res));
  const r = stowResult(res);
  const expectFailed = [...outcome.values()].filter((o) => o === 'failed').length;
  const expectStored = 2 + [...outcome.values()].filter((o) => o === 'stored').length;
  assert.equal(r.failed.length, expectFailed, `failed items: ${JSON.stringify(r.failed.map((f) => f.detail))}`);
  assert.equal(r.referenced.length, expectStored, 'referenced items');
  for (const f of r.failed) assertFailureItem(f, 'mixed request');
  for (const p of partners) {
    const ref = r.referenced.find((x) => x.sopUid === p.sop_instance_uid);
    assert.ok(ref, `${p.file} not referenced`);
    assert.equal(ref.url, mixed.url(rel(p)));
    const back = await mixed.retrieveInstance(p.study_uid, p.series_uid, p.sop_instance_uid);
    assert.equal(sha256(back.bytes), sha256(corpusBytes(p.file)), `${p.file} bytes`);
  }
  // Refused files with known UIDs are not retrievable.
  for (const e of invalid.filter((x) => outcome.get(x.file) === 'failed' && x.sop_instance_uid && x.study_uid)) {
    const g = await mixed.req('GET', rel(e));
    assert.equal(g.status, 404, `${e.file} must not be stored: ${describe(g)}`);
  }
  assert.equal(await instanceCount(mixed), expectStored);
  await healthy(mixed);
});

// Malformed requests. Each carries a fresh, valid instance in a complete first part where
// possible, so a half-stored request would show in the instance count.
const fresh = () => corpusBytes('sc-tiny-10x5.dcm');
const freshEntry = () => corpusEntry('sc-tiny-10x5.dcm');
const CRLF = '\r\n';
const part = (boundary, body, ct = 'application/dicom') => Buffer.concat([Buffer.from(`--${boundary}${CRLF}Content-Type: ${ct}${CRLF}${CRLF}`), body, Buffer.from(CRLF)]);

async function expectBad(name, body, headers, {codes = [400], status} = {}) {
  const res = await bad.req('POST', 'studies', {body, headers: {accept: 'application/dicom+json', ...headers}});
  assert.ok(codes.includes(res.status), `${name}: ${describe(res)}`);
  assert.match(res.contentType, /^application\/json/, `${name}: error Content-Type`);
  const j = res.json;
  assert.ok(j && j.error && j.error.code === res.status && typeof j.error.message === 'string' && j.error.message.length > 0,
      `${name}: error envelope ${describe(res)}`);
  if (status) assert.equal(j.error.status, status, `${name}: error.status`);
  return res;
}

test('malformed multipart bodies -> 400 envelope, nothing stored, server keeps serving', T, async () => {
  const B = 'interop-boundary-1';
  const type = `multipart/related; type="application/dicom"; boundary=${B}`;
  const good = Buffer.concat([part(B, fresh()), Buffer.from(`--${B}--${CRLF}`)]);
  const cases = [
    ['no boundary parameter', good, {'content-type': 'multipart/related; type="application/dicom"'}],
    ['empty boundary parameter', good, {'content-type': 'multipart/related; type="application/dicom"; boundary='}],
    ['boundary never appears', good, {'content-type': 'multipart/related; type="application/dicom"; boundary=other-boundary'}],
    ['empty body', Buffer.alloc(0), {'content-type': type}],
    ['garbage after a boundary', Buffer.concat([part(B, fresh()), Buffer.from(`--${B}xyz garbage${CRLF}--${B}--${CRLF}`)]), {'content-type': type}],
    ['garbage part without header end', Buffer.concat([part(B, fresh()), Buffer.from(`--${B}${CRLF}garbage without a blank line`), Buffer.from(`${CRLF}--${B}--${CRLF}`)]), {'content-type': type}],
    ['truncated inside the first part', good.subarray(0, 200), {'content-type': type}],
    ['truncated before the close delimiter', good.subarray(0, good.length - 12), {'content-type': type}],
    ['truncated after a complete part', Buffer.concat([part(B, fresh()), Buffer.from(`--${B}${CRLF}Content-Type: application/dicom${CRLF}${CRLF}`), corpusBytes('ct-small.dcm').subarray(0, 1000)]), {'content-type': type}],
    ['only a close delimiter', Buffer.from(`--${B}--${CRLF}`), {'content-type': type}, {codes: [400, 409]}],
  ];
  const before = await instanceCount(bad);
  for (const [name, body, headers, opts] of cases) {
    const res = await bad.req('POST', 'studies', {body, headers: {accept: 'application/dicom+json', ...headers}});
    if (opts && res.status === 409) {
      // An empty multipart may also be reported as a STOW body without any stored instance.
      assert.deepEqual(stowResult(res).referenced, [], name);
    } else {
      await expectBad(name, body, headers, {status: 'INVALID_ARGUMENT', ...(opts || {})});
    }
    assert.equal(await instanceCount(bad), before, `${name}: something was stored`);
    await healthy(bad);
  }
  // The same instance in a well-formed request is fine afterwards.
  const ok = await bad.req('POST', 'studies', {body: good, headers: {'content-type': type, accept: 'application/dicom+json'}});
  assert.equal(ok.status, 200, describe(ok));
  assert.equal(await instanceCount(bad), before + 1);
  const e = freshEntry();
  assert.equal(stowResult(ok).referenced[0].sopUid, e.sop_instance_uid);
});

test('unsupported Content-Types -> 400 envelope, nothing stored', T, async () => {
  const before = await instanceCount(bad);
  const f = corpusBytes('cs-greek.dcm');
  const mp = encodeMultipart([{body: f}]);
  for (const [name, body, ct] of [
    ['image/png', f, 'image/png'],
    ['text/plain', 'hello', 'text/plain'],
    ['application/json', '{}', 'application/json'],
    ['application/dicom+xml (XML metadata not accepted)', '<NativeDicomModel/>', 'application/dicom+xml'],
    ['multipart/mixed', mp.body, mp.contentType.replace('multipart/related', 'multipart/mixed')],
    ['multipart/related; type=image/jpeg', mp.body, mp.contentType.replace('application/dicom', 'image/jpeg')],
    ['no Content-Type', f, null],
  ]) {
    await expectBad(name, body, {'content-type': ct}, {codes: [400, 415]});
  }
  assert.equal(await instanceCount(bad), before);
  await healthy(bad);
});

test('STOW with an unsatisfiable Accept -> 406 envelope and nothing stored', {
  ...T,
}, async () => {
  const before = await instanceCount(bad);
  const mp = encodeMultipart([{body: corpusBytes('cs-arabic.dcm')}]);
  const res = await bad.req('POST', 'studies', {body: mp.body, headers: {'content-type': mp.contentType, accept: 'text/x-absurd'}});
  assert.equal(res.status, 406, describe(res));
  assert.equal(res.json && res.json.error && res.json.error.code, 406, `envelope: ${describe(res)}`);
  assert.equal(await instanceCount(bad), before);
});

// NativeDicomModel XML -> DICOM JSON (py/native_dicom_model.py, a real XML parser), with the
// XML-only attributes split off: {json, xmlAttrs: {'<path>': {keyword, privateCreator}}}.
async function xmlAsJson(xml) {
  const parsed = await py('native_dicom_model.py', [], {input: xml});
  const xmlAttrs = {};
  const strip = (ds, prefix) => {
    for (const [tag, el] of Object.entries(ds)) {
      if (el._xml) { xmlAttrs[prefix + tag] = el._xml; delete el._xml; }
      if (el.vr === 'SQ' && el.Value) el.Value.forEach((item, i) => strip(item, `${prefix}${tag}/${i}/`));
    }
  };
  strip(parsed, '');
  return {json: parsed, xmlAttrs};
}

test('Accept negotiation on STOW: none / */* / application/dicom+xml -> XML; dicom+json -> JSON', T, async () => {
  const e = corpusEntry('cs-latin1-french.dcm');
  const mp = encodeMultipart([{body: corpusBytes(e.file)}]);
  for (const accept of [null, '*/*', 'application/dicom+xml', 'application/*']) {
    const res = await dup.req('POST', 'studies', {body: mp.body, headers: {'content-type': mp.contentType, accept}});
    assert.equal(res.status, 200, `Accept ${accept}: ${describe(res)}`);
    assert.match(res.contentType, /^application\/dicom\+xml/, `Accept ${accept}`);
    const xml = res.text;
    assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>/);
    assert.match(xml, /<NativeDicomModel[ >]/);
    assert.match(xml, /<DicomAttribute tag="00081199" vr="SQ" keyword="ReferencedSOPSequence"><Item number="1">/);
    assert.ok(xml.includes(`<DicomAttribute tag="00081155" vr="UI" keyword="ReferencedSOPInstanceUID"><Value number="1">${e.sop_instance_uid}</Value>`),
        `XML lacks ReferencedSOPInstanceUID: ${xml}`);
    assert.ok(xml.includes(`<Value number="1">${dup.url(`studies/${e.study_uid}`)}</Value>`), 'XML study RetrieveURL');
  }
  const res = await dup.req('POST', 'studies', {body: mp.body, headers: {'content-type': mp.contentType, accept: 'application/dicom+json'}});
  assert.equal(res.status, 200);
  assert.equal(stowResult(res).referenced[0].sopUid, e.sop_instance_uid);
  // The XML rendering parses and says exactly what the JSON says.
  const xmlRes = await dup.req('POST', 'studies', {body: mp.body, headers: {'content-type': mp.contentType}});
  const {json, xmlAttrs} = await xmlAsJson(xmlRes.buf);
  assert.deepEqual(json, res.json);
  assert.equal(xmlAttrs['00081199'].keyword, 'ReferencedSOPSequence');
  assert.equal(xmlAttrs['00081199/0/00081155'].keyword, 'ReferencedSOPInstanceUID');
});

test('identical re-send -> 200 and not stored twice; same UIDs with different bytes -> 409 "already exists"', T, async () => {
  const a = corpusEntry('ts-mr-explicit-le.dcm');
  const b = corpusEntry('ts-mr-implicit-le.dcm'); // same UIDs, other encoding
  assert.equal(a.sop_instance_uid, b.sop_instance_uid);
  const before = await instanceCount(dup);
  const r1 = await dup.stow([corpusBytes(a.file)]);
  assert.equal(r1.status, 200, describe(r1));
  for (const single of [false, true]) {
    const again = await dup.stow([corpusBytes(a.file)], {single});
    assert.equal(again.status, 200, describe(again));
    assert.equal(stowResult(again).referenced[0].sopUid, a.sop_instance_uid);
    assert.deepEqual(stowResult(again).failed, []);
  }
  assert.equal(await instanceCount(dup), before + 1, 'identical re-send stored a second copy');
  const m = await dup.req('GET', `studies/${a.study_uid}:getStudyMetrics`);
  assert.equal(m.status, 200, describe(m));
  assert.equal(m.json.instanceCount, '1');

  const conflict = await dup.stow([corpusBytes(b.file)]);
  assert.equal(conflict.status, 409, describe(conflict));
  const c = stowResult(conflict);
  assert.deepEqual(c.referenced, []);
  assert.equal(c.failed.length, 1);
  assertFailureItem(c.failed[0], 'different bytes');
  assert.equal(c.failed[0].sopUid, b.sop_instance_uid);
  assert.equal(c.failed[0].classUid, b.sop_class_uid);
  assert.match(c.failed[0].detail, /already exists/i);
  // The XML form carries the same failure with the private creator on FailureDetail.
  const xml = await dup.stow([corpusBytes(b.file)], {accept: 'application/dicom+xml'});
  assert.equal(xml.status, 409);
  assert.match(xml.contentType, /^application\/dicom\+xml/);
  assert.match(xml.text, /<DicomAttribute tag="00081198" vr="SQ" keyword="FailedSOPSequence">/);
  assert.match(xml.text, /<DicomAttribute tag="00081197" vr="US" keyword="FailureReason"><Value number="1">272<\/Value>/);
  assert.match(xml.text, /<DicomAttribute tag="00091097" vr="LT" privateCreator="GOOGLE"><Value number="1">[^<]*already exists/);
  const parsed = await xmlAsJson(xml.buf);
  assert.deepEqual(parsed.json, conflict.json, 'XML and JSON failure bodies agree');
  assert.equal(parsed.xmlAttrs['00081198/0/00091097'].privateCreator, 'GOOGLE');
  // The first version is what is stored.
  const back = await dup.retrieveInstance(a.study_uid, a.series_uid, a.sop_instance_uid);
  assert.equal(sha256(back.bytes), sha256(corpusBytes(a.file)));
  // A request mixing the conflict with a new instance: 409, the new one stored.
  const n = corpusEntry('cs-cyrillic.dcm');
  const mixedRes = await dup.stow([corpusBytes(b.file), corpusBytes(n.file)]);
  assert.equal(mixedRes.status, 409);
  const mr = stowResult(mixedRes);
  assert.deepEqual(mr.referenced.map((x) => x.sopUid), [n.sop_instance_uid]);
  assert.deepEqual(mr.failed.map((x) => x.sopUid), [b.sop_instance_uid]);
});

test('POST studies/{uid}: instances of another study fail (409), matching ones are stored', T, async () => {
  const match = corpusEntry('qido-p1-cr-s1.dcm');
  const other = corpusEntry('qido-p2-mr-carotid.dcm');
  const res = await dup.stow([corpusBytes(match.file), corpusBytes(other.file)], {study: match.study_uid});
  assert.equal(res.status, 409, describe(res));
  const r = stowResult(res);
  assert.deepEqual(r.referenced.map((x) => x.sopUid), [match.sop_instance_uid]);
  assert.equal(r.failed.length, 1);
  assertFailureItem(r.failed[0], 'study mismatch');
  assert.equal(r.failed[0].sopUid, other.sop_instance_uid);
  assert.equal(r.retrieveUrl, dup.url(`studies/${match.study_uid}`));
  assert.equal((await dup.req('GET', rel(other))).status, 404, 'mismatching instance was stored');
  assert.equal((await dup.req('GET', rel(match), {headers: {accept: 'application/dicom; transfer-syntax=*'}})).status, 200);
  // Single part into the wrong study.
  const single = await dup.stow([corpusBytes(other.file)], {study: match.study_uid, single: true});
  assert.equal(single.status, 409, describe(single));
  // All matching -> 200.
  const ok = await dup.stow([corpusBytes(other.file)], {study: other.study_uid});
  assert.equal(ok.status, 200, describe(ok));
});

test('STOW into a missing store / dataset -> 404 envelope', T, async () => {
  const mp = encodeMultipart([{body: corpusBytes('cs-utf8.dcm')}]);
  for (const p of [`/v1/projects/interop-project/locations/us-central1/datasets/${DS}/dicomStores/nope/dicomWeb/studies`,
    '/v1/projects/interop-project/locations/us-central1/datasets/no-ds/dicomStores/s/dicomWeb/studies']) {
    const res = await http(fx.base, 'POST', p, {body: mp.body, headers: {'content-type': mp.contentType, accept: 'application/dicom+json'}});
    assert.equal(res.status, 404, describe(res));
    assert.equal(res.json.error.code, 404);
    assert.equal(res.json.error.status, 'NOT_FOUND');
  }
});
