'use strict';
// DICOMweb delete (spec §10.5): instance delete -> {} and QIDO counts follow; series/study
// delete -> done Operation, afterwards searches 204 and retrieves 404; metrics follow; other
// stores are untouched; deleted data can be stored again.
const assert = require('node:assert/strict');
const {test, after} = require('node:test');
const {useServer, makeTempDir, removeDir, datasetName, assertTimestamp} = require('./lib/server');
const {corpusEntry, corpusBytes, sha256, Store, describe, first, synthesize} = require('./lib/dicom');

const T = {timeout: 60_000};
const DS = 'deletes';
let store;
let twin; // a second store with the same data
let synth;
const tmp = makeTempDir('dicomstore-delete-');
after(() => removeDir(tmp));

const CR1 = corpusEntry('qido-p1-cr-s1.dcm');
const CR2 = corpusEntry('qido-p1-cr-s2.dcm');
const CT2 = corpusEntry('qido-p2-ct2n-a.dcm');
const CT5 = corpusEntry('qido-p2-ct5n-a.dcm');
const MR1 = corpusEntry('qido-p2-mr-brain-s1.dcm');
const MR2 = corpusEntry('qido-p2-mr-brain-s2a.dcm');
const RLE = corpusEntry('mf-us-rle-palette-10f.dcm');
const FILES = [CR1, CR2, CT2, CT5, MR1, MR2, RLE];

const fx = useServer({setup: async () => {
  store = await Store.create(fx, DS, 'main');
  twin = await Store.create(fx, DS, 'twin');
  synth = await synthesize(5, '1.2.826.0.1.3680043.9.7433.4', {perStudy: 5, dir: tmp, patient: 'Delete^Me'});
  for (const s of [store, twin]) {
    const res = await s.stow([...FILES.map((e) => corpusBytes(e.file)), ...synth.map((x) => x.bytes)]);
    assert.equal(res.status, 200, describe(res));
  }
}});

const rel = (e) => `studies/${e.study_uid}/series/${e.series_uid}/instances/${e.sop_instance_uid}`;
const srel = (x) => `studies/${x.study}/series/${x.series}/instances/${x.sop}`;

async function studyCounts(s, study) {
  const list = await s.search('studies', {StudyInstanceUID: study, includefield: 'NumberOfStudyRelatedSeries,NumberOfStudyRelatedInstances'});
  if (list.length === 0) return null;
  return {series: first(list[0], '00201206'), instances: first(list[0], '00201208')};
}
async function seriesCount(s, study, series) {
  const list = await s.search(`studies/${study}/series`, {SeriesInstanceUID: series, includefield: 'NumberOfSeriesRelatedInstances'});
  return list.length ? first(list[0], '00201209') : null;
}
async function metrics(s) {
  const r = await fx.raw('GET', `/v1/${s.name}:getDICOMStoreMetrics`);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

test('instance delete -> {}; study/series counts and metrics follow; last instance removes series and study', T, async () => {
  const study = synth[0].study;
  const series = synth[0].series;
  assert.deepEqual(await studyCounts(store, study), {series: 1, instances: 5});
  const m0 = await metrics(store);
  for (let i = 0; i < 5; i++) {
    const r = await store.req('DELETE', srel(synth[i]));
    assert.equal(r.status, 200, describe(r));
    assert.match(r.contentType, /^application\/json/);
    assert.deepEqual(r.json, {});
    assert.equal((await store.req('GET', srel(synth[i]), {headers: {accept: 'application/dicom; transfer-syntax=*'}})).status, 404);
    assert.equal((await store.qido('instances', {SOPInstanceUID: synth[i].sop})).status, 204);
    const left = 4 - i;
    if (left > 0) {
      assert.deepEqual(await studyCounts(store, study), {series: 1, instances: left}, `after deleting ${i + 1}`);
      assert.equal(await seriesCount(store, study, series), left);
      const sm = (await store.req('GET', `studies/${study}:getStudyMetrics`)).json;
      assert.equal(sm.instanceCount, String(left));
    } else {
      assert.equal(await studyCounts(store, study), null, 'empty study still listed');
      assert.equal((await store.qido('series', {SeriesInstanceUID: series})).status, 204, 'empty series still listed');
      assert.equal((await store.req('GET', `studies/${study}:getStudyMetrics`)).status, 404);
      assert.equal((await store.req('GET', `studies/${study}`)).status, 404);
    }
  }
  const m1 = await metrics(store);
  assert.equal(Number(m1.instanceCount), Number(m0.instanceCount) - 5);
  assert.equal(Number(m1.studyCount), Number(m0.studyCount) - 1);
  assert.equal(Number(m1.seriesCount), Number(m0.seriesCount) - 1);
  assert.equal(Number(m1.blobStorageSizeBytes), Number(m0.blobStorageSizeBytes) - synth.reduce((a, x) => a + x.bytes.length, 0));
  // Deleting again -> 404; the twin store still has everything.
  const again = await store.req('DELETE', srel(synth[0]));
  assert.equal(again.status, 404, describe(again));
  assert.equal(again.json.error.status, 'NOT_FOUND');
  assert.deepEqual(await studyCounts(twin, study), {series: 1, instances: 5});
});

test('deleting one instance of a two-series study updates NumberOfStudyRelatedSeries/Instances', T, async () => {
  assert.deepEqual(await studyCounts(store, CR1.study_uid), {series: 2, instances: 2});
  const r = await store.req('DELETE', rel(CR2));
  assert.deepEqual(r.json, {});
  assert.deepEqual(await studyCounts(store, CR1.study_uid), {series: 1, instances: 1});
  assert.deepEqual((await store.search(`studies/${CR1.study_uid}/series`)).map((d) => first(d, '0020000E')), [CR1.series_uid]);
  // Store it again: back to 2/2 and byte-identical.
  const res = await store.stow([corpusBytes(CR2.file)]);
  assert.equal(res.status, 200, describe(res));
  assert.deepEqual(await studyCounts(store, CR1.study_uid), {series: 2, instances: 2});
  const back = await store.retrieveInstance(CR2.study_uid, CR2.series_uid, CR2.sop_instance_uid);
  assert.equal(sha256(back.bytes), sha256(corpusBytes(CR2.file)));
});

function assertDoneOperation(op, method) {
  assert.match(op.name, new RegExp(`^${datasetName(DS)}/operations/[^/]+$`));
  assert.equal(op.done, true);
  assert.ok(!('error' in op), JSON.stringify(op));
  assert.deepEqual(op.response, {'@type': 'type.googleapis.com/google.protobuf.Empty'});
  assert.equal(op.metadata['@type'], 'type.googleapis.com/google.cloud.healthcare.v1.OperationMetadata');
  assert.equal(op.metadata.apiMethodName, `google.cloud.healthcare.v1.dicomweb.DicomWebService.${method}`);
  assertTimestamp(op.metadata.createTime, 'createTime');
  assertTimestamp(op.metadata.endTime, 'endTime');
}

test('series delete -> done Operation; the other series of the study stays', T, async () => {
  const r = await store.req('DELETE', `studies/${CT2.study_uid}/series/${CT2.series_uid}`);
  assert.equal(r.status, 200, describe(r));
  assertDoneOperation(r.json, 'DeleteSeries');
  assert.deepEqual((await store.search(`studies/${CT2.study_uid}/series`)).map((d) => first(d, '0020000E')), [CT5.series_uid]);
  assert.equal((await store.qido(`studies/${CT2.study_uid}/series/${CT2.series_uid}/instances`)).status, 204);
  assert.equal((await store.req('GET', `studies/${CT2.study_uid}/series/${CT2.series_uid}`)).status, 404);
  assert.equal((await store.req('GET', `studies/${CT2.study_uid}/series/${CT2.series_uid}:getSeriesMetrics`)).status, 404);
  assert.deepEqual(await studyCounts(store, CT2.study_uid), {series: 1, instances: 1});
  const again = await store.req('DELETE', `studies/${CT2.study_uid}/series/${CT2.series_uid}`);
  assert.equal(again.status, 404, describe(again));
  // The operation is listed and gettable on the dataset.
  const got = await fx.raw('GET', `/v1/${r.json.name}`);
  assert.deepEqual(got.json, r.json);
  assert.deepEqual(await studyCounts(twin, CT2.study_uid), {series: 2, instances: 2}, 'twin store changed');
});

test('study delete -> done Operation; searches 204, every retrieve 404, metrics follow', T, async () => {
  const m0 = await metrics(store);
  const r = await store.req('DELETE', `studies/${RLE.study_uid}`);
  assert.equal(r.status, 200, describe(r));
  assertDoneOperation(r.json, 'DeleteStudy');
  assert.ok(Number(r.json.metadata.counter && r.json.metadata.counter.success) >= 1, JSON.stringify(r.json.metadata));
  for (const [level, q] of [['studies', {StudyInstanceUID: RLE.study_uid}], ['series', {StudyInstanceUID: RLE.study_uid}],
    ['instances', {SOPInstanceUID: RLE.sop_instance_uid}], [`studies/${RLE.study_uid}/series`, {}], [`studies/${RLE.study_uid}/instances`, {}]]) {
    const s = await store.qido(level, q);
    assert.equal(s.status, 204, `${level}: ${describe(s)}`);
  }
  for (const p of [`studies/${RLE.study_uid}`, `studies/${RLE.study_uid}/metadata`, `studies/${RLE.study_uid}/series/${RLE.series_uid}`,
    rel(RLE), `${rel(RLE)}/metadata`, `${rel(RLE)}/frames/1`, `${rel(RLE)}/rendered`, `${rel(RLE)}/bulkdata/7FE00010`,
    `studies/${RLE.study_uid}:getStudyMetrics`, `${rel(RLE)}:getStorageInfo`]) {
    const g = await store.req('GET', p);
    assert.equal(g.status, 404, `${p}: ${describe(g)}`);
    assert.equal(g.json.error.status, 'NOT_FOUND', p);
  }
  const m1 = await metrics(store);
  assert.equal(Number(m1.studyCount), Number(m0.studyCount) - 1);
  assert.equal(Number(m1.seriesCount), Number(m0.seriesCount) - 1);
  assert.equal(Number(m1.instanceCount), Number(m0.instanceCount) - 1);
  assert.equal(Number(m1.blobStorageSizeBytes), Number(m0.blobStorageSizeBytes) - RLE.size);
  assert.equal((await store.req('DELETE', `studies/${RLE.study_uid}`)).status, 404);
  // The twin still serves it, byte-identical.
  const t = await twin.retrieveInstance(RLE.study_uid, RLE.series_uid, RLE.sop_instance_uid);
  assert.equal(sha256(t.bytes), sha256(corpusBytes(RLE.file)));
  // Store again after the delete.
  const res = await store.stow([corpusBytes(RLE.file)]);
  assert.equal(res.status, 200, describe(res));
  assert.deepEqual(await studyCounts(store, RLE.study_uid), {series: 1, instances: 1});
});

test('delete everything: store metrics go to zero, searches 204', T, async () => {
  const studies = (await store.search('studies')).map((d) => first(d, '0020000D'));
  assert.ok(studies.length >= 3);
  for (const st of studies) {
    const r = await store.req('DELETE', `studies/${st}`);
    assert.equal(r.status, 200, describe(r));
    assert.equal(r.json.done, true);
  }
  for (const level of ['studies', 'series', 'instances']) assert.equal((await store.qido(level)).status, 204, level);
  const m = await metrics(store);
  assert.equal(m.studyCount || '0', '0');
  assert.equal(m.seriesCount || '0', '0');
  assert.equal(m.instanceCount || '0', '0');
  assert.equal(m.blobStorageSizeBytes || '0', '0');
  // Twin untouched.
  assert.equal((await metrics(twin)).instanceCount, String(FILES.length + synth.length));
});

test('delete on missing resources / store -> 404 envelope', T, async () => {
  for (const p of ['studies/1.2.3.4', `studies/${CR1.study_uid}/series/1.2.3.4`, `studies/${CR1.study_uid}/series/${CR1.series_uid}/instances/1.2.3.4`]) {
    const r = await twin.req('DELETE', p);
    assert.equal(r.status, 404, `${p}: ${describe(r)}`);
    assert.equal(r.json.error.status, 'NOT_FOUND');
  }
  const r = await fx.raw('DELETE', `/v1/${datasetName(DS)}/dicomStores/nope/dicomWeb/studies/${CR1.study_uid}`);
  assert.equal(r.status, 404, r.text);
});
