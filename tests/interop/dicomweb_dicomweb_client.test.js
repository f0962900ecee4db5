'use strict';
// DICOMweb through dicomweb-client (the library OHIF and Slim use) on top of xhr2: storeInstances
// (quoted boundary, no Accept), search*, retrieveInstance (default and transfer-syntax=*),
// retrieveStudyMetadata, retrieveInstanceFrames, retrieveSeries/Study.
global.XMLHttpRequest = require('xhr2');
const assert = require('node:assert/strict');
const {test} = require('node:test');
const DICOMweb = require('dicomweb-client');
const {useServer, TOKEN} = require('./lib/server');
const {corpusEntry, corpusBytes, sha256, Store, first, parseMediaType, TS} = require('./lib/dicom');

const T = {timeout: 60_000};
let store;
let client;
const fx = useServer({setup: async () => {
  store = await Store.create(fx, 'dwc', 'store');
  client = new DICOMweb.api.DICOMwebClient({url: store.url(), headers: {Authorization: `Bearer ${TOKEN}`}, verbose: false});
}});

const FILES = ['qido-p2-ct2n-a.dcm', 'qido-p2-ct5n-a.dcm', 'qido-p2-mr-brain-s1.dcm', 'mf-us-rle-palette-10f.dcm', 'ts-ct-jpeg-baseline-50.dcm'].map(corpusEntry);
const [CT2, CT5, MRB, RLE, JPG] = FILES;
const ab = (buf) => buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
const ids = (e) => ({studyInstanceUID: e.study_uid, seriesInstanceUID: e.series_uid, sopInstanceUID: e.sop_instance_uid});

test('storeInstances: several datasets in one request, then one into studies/{uid}', T, async () => {
  await client.storeInstances({datasets: FILES.slice(0, 4).map((e) => ab(corpusBytes(e.file)))});
  await client.storeInstances({datasets: [ab(corpusBytes(JPG.file))], studyInstanceUID: JPG.study_uid});
  const all = await store.search('instances');
  assert.deepEqual(all.map((d) => first(d, '00080018')).sort(), FILES.map((e) => e.sop_instance_uid).sort());
  // A conflict rejects.
  await assert.rejects(client.storeInstances({datasets: [ab(corpusBytes('qido-p1-cr-s1.dcm'))], studyInstanceUID: JPG.study_uid}));
});

test('searchForStudies / searchForSeries / searchForInstances with queryParams', T, async () => {
  const studies = await client.searchForStudies();
  assert.deepEqual(studies.map((d) => first(d, '0020000D')).sort(), [...new Set(FILES.map((e) => e.study_uid))].sort());
  const peter = await client.searchForStudies({queryParams: {PatientName: 'Doe^Peter', includefield: 'NumberOfStudyRelatedInstances'}});
  assert.deepEqual(peter.map((d) => first(d, '0020000D')).sort(), [CT2.study_uid, MRB.study_uid].sort());
  const ctStudy = peter.find((d) => first(d, '0020000D') === CT2.study_uid);
  assert.deepEqual(ctStudy['00201208'], {vr: 'IS', Value: [2]});
  const series = await client.searchForSeries({studyInstanceUID: CT2.study_uid});
  assert.deepEqual(series.map((d) => first(d, '0020000E')).sort(), [CT2.series_uid, CT5.series_uid].sort());
  const allSeries = await client.searchForSeries({queryParams: {Modality: 'CT'}});
  assert.deepEqual(allSeries.map((d) => first(d, '0020000E')).sort(), [CT2.series_uid, CT5.series_uid, JPG.series_uid].sort());
  const inst = await client.searchForInstances({studyInstanceUID: CT2.study_uid, seriesInstanceUID: CT5.series_uid});
  assert.deepEqual(inst.map((d) => first(d, '00080018')), [CT5.sop_instance_uid]);
  const inst2 = await client.searchForInstances({studyInstanceUID: CT2.study_uid});
  assert.equal(inst2.length, 2);
  const inst3 = await client.searchForInstances({queryParams: {SOPInstanceUID: RLE.sop_instance_uid}});
  assert.deepEqual(inst3.map((d) => first(d, '00080018')), [RLE.sop_instance_uid]);
  // No match (204): the library resolves to an empty result.
  const none = await client.searchForStudies({queryParams: {PatientID: 'nobody'}});
  assert.ok(!none || none.length === 0, `204 gave ${JSON.stringify(none)}`);
  // A bad key rejects.
  await assert.rejects(client.searchForInstances({queryParams: {SOPClassUID: '1.2.3'}}));
});

// dicomweb-client 0.11.3 rejects any `mediaTypes` in retrieveInstance/Series/Study
// ("Media type application/ is not supported": _getSharedMediaTypes returns the type prefix),
// so transfer-syntax=* goes through the helper those methods call.
const ANY_TS = [{mediaType: 'application/dicom', transferSyntaxUID: '*'}];
const retrieveAsStored = async (urlPath) => client._httpGetMultipartApplicationDicom(`${client.wadoURL}/${urlPath}`, ANY_TS, false, {});

test('retrieveInstance: default (Explicit VR LE) and transfer-syntax=* (stored bytes)', T, async () => {
  for (const e of [RLE, JPG, CT2]) {
    const [stored, ...more] = await retrieveAsStored(store.instancePath(e.study_uid, e.series_uid, e.sop_instance_uid));
    assert.equal(more.length, 0);
    assert.equal(sha256(Buffer.from(stored)), sha256(corpusBytes(e.file)), `${e.file} transfer-syntax=*`);
    const def = Buffer.from(await client.retrieveInstance(ids(e)));
    assert.equal(def.subarray(128, 132).toString(), 'DICM', `${e.file} default retrieve is Part 10`);
    assert.ok(def.includes(Buffer.from(TS.EXPLICIT_LE)), `${e.file}: default retrieve carries Explicit VR LE`);
    if (e !== CT2) assert.notEqual(sha256(def), sha256(corpusBytes(e.file)), `${e.file} was decompressed`);
  }
  const series = await client.retrieveSeries({studyInstanceUID: CT2.study_uid, seriesInstanceUID: CT2.series_uid});
  assert.equal(series.length, 1);
  const study = await retrieveAsStored(`studies/${CT2.study_uid}`);
  assert.deepEqual(study.map((b) => sha256(Buffer.from(b))).sort(), [CT2, CT5].map((e) => sha256(corpusBytes(e.file))).sort());
});

test('retrieveStudyMetadata / retrieveSeriesMetadata / retrieveInstanceMetadata; BulkDataURI usable', T, async () => {
  const md = await client.retrieveStudyMetadata({studyInstanceUID: CT2.study_uid});
  assert.deepEqual(md.map((d) => first(d, '00080018')).sort(), [CT2.sop_instance_uid, CT5.sop_instance_uid].sort());
  const smd = await client.retrieveSeriesMetadata({studyInstanceUID: MRB.study_uid, seriesInstanceUID: MRB.series_uid});
  assert.deepEqual(smd.map((d) => first(d, '00080018')), [MRB.sop_instance_uid]);
  const imd = await client.retrieveInstanceMetadata(ids(RLE));
  const uri = imd[0]['7FE00010'].BulkDataURI;
  assert.ok(uri.startsWith(store.url()), uri);
  const bulk = await client.retrieveBulkData({BulkDataURI: uri});
  const first0 = Array.isArray(bulk) ? bulk[0] : bulk;
  assert.equal(first0.byteLength, 600 * 430 * 10, 'decoded pixel data through BulkDataURI');
});

test('retrieveInstanceFrames: default uncompressed, several frames, transfer-syntax as stored', T, async () => {
  const frames = await client.retrieveInstanceFrames({...ids(RLE), frameNumbers: [2, 1]});
  assert.equal(frames.length, 2);
  for (const f of frames) assert.equal(f.byteLength, 600 * 430);
  const bulkFrames = await store.req('GET', `${store.instancePath(RLE.study_uid, RLE.series_uid, RLE.sop_instance_uid)}/bulkdata/7FE00010`,
      {headers: {accept: 'application/octet-stream; transfer-syntax=*'}});
  const size = 600 * 430;
  assert.ok(Buffer.from(frames[0]).equals(bulkFrames.buf.subarray(size, 2 * size)), 'frame 2 bytes');
  assert.ok(Buffer.from(frames[1]).equals(bulkFrames.buf.subarray(0, size)), 'frame 1 bytes');
  const native = await client.retrieveInstanceFrames({...ids(CT2), frameNumbers: [1]});
  assert.equal(native[0].byteLength, 16 * 16 * 2);
  // JPEG frame as stored via the image/jpeg-or-octet-stream negotiation OHIF uses; the server
  // may answer with the stored JPEG or refuse the image type (406), never garbage.
  try {
    const jpeg = await client.retrieveInstanceFrames({...ids(JPG), frameNumbers: [1],
      mediaTypes: [{mediaType: 'image/jpeg', transferSyntaxUID: '1.2.840.10008.1.2.4.50'}, {mediaType: 'application/octet-stream', transferSyntaxUID: '1.2.840.10008.1.2.1'}]});
    const b = Buffer.from(jpeg[0]);
    assert.ok((b[0] === 0xff && b[1] === 0xd8) || b.length === 512 * 512, `frame of ${b.length} bytes`);
  } catch (err) {
    assert.equal(err.status || (err.request && err.request.status), 406, `unexpected failure: ${err.message || err}`);
  }
  // transfer-syntax=* for frames, raw HTTP (the library cannot express it).
  const r = await store.req('GET', `${store.instancePath(JPG.study_uid, JPG.series_uid, JPG.sop_instance_uid)}/frames/1`,
      {headers: {accept: 'multipart/related; type="application/octet-stream"; transfer-syntax=*'}});
  assert.equal(r.status, 200);
  assert.equal(parseMediaType(r.contentType).params['transfer-syntax'], TS.JPEG_BASELINE);
});
