'use strict';
// DICOMweb through the official generated client @googleapis/healthcare (spec §13): the calls
// Google's Node samples make (storeInstances with a stream body and explicit Content-Type,
// search*, retrieveMetadata, retrieveInstance with responseType arraybuffer, study delete ->
// Operation, metrics).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {test, after} = require('node:test');
const {useServer, expectApiError, makeTempDir, removeDir, PARENT, datasetName, storeName} = require('./lib/server');
const {corpusEntry, corpusBytes, copyCorpusFiles, sha256, encodeMultipart, decodeMultipart, parseMediaType, first, stowResult} = require('./lib/dicom');

const T = {timeout: 60_000};
const DS = 'gclient';
const SN = storeName(DS, 'store');
const tmp = makeTempDir('dicomstore-gclient-');
after(() => removeDir(tmp));

const fx = useServer({setup: async () => {
  await fx.datasets.create({parent: PARENT, datasetId: DS, requestBody: {}});
  await fx.stores.create({parent: datasetName(DS), dicomStoreId: 'store', requestBody: {}});
}});
const ds = () => fx.stores; // projects.locations.datasets.dicomStores
const CT = corpusEntry('ct-small.dcm');
const CR1 = corpusEntry('qido-p1-cr-s1.dcm');
const CR2 = corpusEntry('qido-p1-cr-s2.dcm');
const MR = corpusEntry('qido-p2-mr-carotid.dcm');
const RLE = corpusEntry('mf-us-rle-palette-10f.dcm');
const instPath = (e) => `studies/${e.study_uid}/series/${e.series_uid}/instances/${e.sop_instance_uid}`;
// gaxios 7 hands back a Blob for media types other than application/json unless told
// otherwise; DICOM JSON callers therefore ask for responseType 'json' (the server must keep
// sending application/dicom+json, spec §13.5).
const JSON_RT = {responseType: 'json'};
const hdr = (r, name) => (typeof r.headers.get === 'function' ? r.headers.get(name) : r.headers[name]);

test('storeInstances: single part from a file stream (Google Node sample), Accept dicom+json', T, async () => {
  const [file] = copyCorpusFiles([CT.file], tmp);
  const r = await ds().storeInstances({parent: SN, dicomWebPath: 'studies', requestBody: fs.createReadStream(file)},
      {...JSON_RT, headers: {'Content-Type': 'application/dicom', Accept: 'application/dicom+json'}});
  assert.equal(r.status, 200);
  assert.match(hdr(r, 'content-type'), /^application\/dicom\+json/);
  assert.equal(first(r.data, '00081199') && first(r.data, '00081199')['00081155'].Value[0], CT.sop_instance_uid);
  assert.equal(first(r.data, '00081190'), `${fx.base}/v1/${SN}/dicomWeb/studies/${CT.study_uid}`);
});

test('storeInstances: multipart Buffer body, studies.storeInstances into the study path, XML by default', T, async () => {
  const mp = encodeMultipart([{body: corpusBytes(CR1.file)}, {body: corpusBytes(CR2.file)}]);
  const r = await ds().storeInstances({parent: SN, dicomWebPath: 'studies', requestBody: mp.body},
      {...JSON_RT, headers: {'Content-Type': mp.contentType, Accept: 'application/dicom+json'}});
  assert.equal(r.status, 200);
  const refs = r.data['00081199'].Value.map((it) => it['00081155'].Value[0]).sort();
  assert.deepEqual(refs, [CR1.sop_instance_uid, CR2.sop_instance_uid].sort());
  // studies.storeInstances (POST studies/{uid}), no Accept -> XML body.
  const mp2 = encodeMultipart([{body: corpusBytes(MR.file)}, {body: corpusBytes(RLE.file)}]);
  const x = await ds().studies.storeInstances({parent: SN, dicomWebPath: `studies/${MR.study_uid}`, requestBody: mp2.body},
      {responseType: 'text', headers: {'Content-Type': mp2.contentType}, validateStatus: () => true});
  assert.equal(x.status, 409, 'RLE file belongs to another study');
  assert.match(hdr(x, 'content-type'), /^application\/dicom\+xml/);
  const xml = typeof x.data === 'string' ? x.data : Buffer.from(x.data).toString();
  assert.match(xml, /<NativeDicomModel/);
  assert.ok(xml.includes(MR.sop_instance_uid) && xml.includes(RLE.sop_instance_uid));
  // The RLE file into its own study.
  const ok = await ds().studies.storeInstances({parent: SN, dicomWebPath: `studies/${RLE.study_uid}`, requestBody: corpusBytes(RLE.file)},
      {...JSON_RT, headers: {'Content-Type': 'application/dicom', Accept: 'application/dicom+json'}});
  assert.equal(ok.status, 200);
});

test('storeInstances: a conflict rejects with 409 and the DICOM JSON body', T, async () => {
  const other = corpusEntry('ts-mr-explicit-le.dcm');
  await ds().storeInstances({parent: SN, dicomWebPath: 'studies', requestBody: corpusBytes(other.file)},
      {...JSON_RT, headers: {'Content-Type': 'application/dicom', Accept: 'application/dicom+json'}});
  let err;
  try {
    await ds().storeInstances({parent: SN, dicomWebPath: 'studies', requestBody: corpusBytes('ts-mr-implicit-le.dcm')},
        {...JSON_RT, headers: {'Content-Type': 'application/dicom', Accept: 'application/dicom+json'}});
  } catch (e) { err = e; }
  assert.ok(err && err.response, 'conflict did not reject');
  assert.equal(err.response.status, 409);
  const body = typeof err.response.data === 'string' ? JSON.parse(err.response.data) : err.response.data;
  const r = stowResult({contentType: hdr(err.response, 'content-type'), json: body, buf: Buffer.from(JSON.stringify(body))});
  assert.equal(r.failed.length, 1);
  assert.equal(r.failed[0].reason, 272);
  // Clean up for the later counts.
  const del = await ds().studies.delete({parent: SN, dicomWebPath: `studies/${other.study_uid}`});
  assert.equal(del.data.done, true);
});

test('searchForStudies / searchForSeries / searchForInstances at every route, with match keys as params', T, async () => {
  const st = await ds().searchForStudies({parent: SN, dicomWebPath: 'studies'}, JSON_RT);
  assert.equal(st.status, 200);
  assert.match(hdr(st, 'content-type'), /^application\/dicom\+json/);
  const studies = st.data.map((d) => first(d, '0020000D')).sort();
  assert.deepEqual(studies, [CT.study_uid, CR1.study_uid, MR.study_uid, RLE.study_uid].sort());
  const byPid = await ds().searchForStudies({parent: SN, dicomWebPath: 'studies', PatientID: '77654033', includefield: 'all'}, JSON_RT);
  assert.deepEqual(byPid.data.map((d) => first(d, '0020000D')), [CR1.study_uid]);
  assert.deepEqual(byPid.data[0]['00201206'], {vr: 'IS', Value: [2]});
  const se = await ds().searchForSeries({parent: SN, dicomWebPath: 'series', Modality: 'CR'}, JSON_RT);
  assert.deepEqual(se.data.map((d) => first(d, '0020000E')).sort(), [CR1.series_uid, CR2.series_uid].sort());
  const se2 = await ds().studies.searchForSeries({parent: SN, dicomWebPath: `studies/${CR1.study_uid}/series`}, JSON_RT);
  assert.equal(se2.data.length, 2);
  const inst = await ds().searchForInstances({parent: SN, dicomWebPath: 'instances', SOPInstanceUID: MR.sop_instance_uid}, JSON_RT);
  assert.deepEqual(inst.data.map((d) => first(d, '00080018')), [MR.sop_instance_uid]);
  const i2 = await ds().studies.searchForInstances({parent: SN, dicomWebPath: `studies/${CR1.study_uid}/instances`}, JSON_RT);
  assert.equal(i2.data.length, 2);
  const i3 = await ds().studies.series.searchForInstances({parent: SN, dicomWebPath: `studies/${CR1.study_uid}/series/${CR2.series_uid}/instances`}, JSON_RT);
  assert.deepEqual(i3.data.map((d) => first(d, '00080018')), [CR2.sop_instance_uid]);
  // Fuzzy and date range through the client.
  const fz = await ds().searchForStudies({parent: SN, dicomWebPath: 'studies', PatientName: 'doe', fuzzymatching: true}, JSON_RT);
  assert.deepEqual(fz.data.map((d) => first(d, '0020000D')).sort(), [CR1.study_uid, MR.study_uid].sort());
  const dr = await ds().searchForStudies({parent: SN, dicomWebPath: 'studies', StudyDate: '20010101-20030505'}, JSON_RT);
  assert.deepEqual(dr.data.map((d) => first(d, '0020000D')).sort(), [CR1.study_uid, MR.study_uid].sort());
  // No match: 204 with an empty body.
  const none = await ds().searchForStudies({parent: SN, dicomWebPath: 'studies', PatientID: 'nobody'}, JSON_RT);
  assert.equal(none.status, 204);
  assert.ok(none.data === '' || none.data === undefined || none.data === null, `204 body: ${JSON.stringify(none.data)}`);
  // Errors arrive as the JSON envelope.
  await expectApiError(ds().searchForInstances({parent: SN, dicomWebPath: 'instances', SOPClassUID: CT.sop_class_uid}, JSON_RT), 400, 'INVALID_ARGUMENT');
  await expectApiError(ds().searchForStudies({parent: SN, dicomWebPath: 'studies', includefield: 'Foo'}, JSON_RT), 400, 'INVALID_ARGUMENT');
});

test('retrieveMetadata (study, series, instance) and retrieveInstance as arraybuffer', T, async () => {
  const md = await ds().studies.retrieveMetadata({parent: SN, dicomWebPath: `studies/${CR1.study_uid}/metadata`}, JSON_RT);
  assert.equal(md.status, 200);
  assert.deepEqual(md.data.map((d) => first(d, '00080018')).sort(), [CR1.sop_instance_uid, CR2.sop_instance_uid].sort());
  const smd = await ds().studies.series.retrieveMetadata({parent: SN, dicomWebPath: `studies/${CR1.study_uid}/series/${CR1.series_uid}/metadata`}, JSON_RT);
  assert.deepEqual(smd.data.map((d) => first(d, '00080018')), [CR1.sop_instance_uid]);
  const imd = await ds().studies.series.instances.retrieveMetadata({parent: SN, dicomWebPath: `${instPath(RLE)}/metadata`}, JSON_RT);
  assert.equal(imd.data.length, 1);
  assert.ok(imd.data[0]['7FE00010'].BulkDataURI.startsWith(`${fx.base}/v1/${SN}/dicomWeb/${instPath(RLE)}/bulkdata/`));

  for (const e of [CT, RLE, MR]) {
    const r = await ds().studies.series.instances.retrieveInstance({parent: SN, dicomWebPath: instPath(e)},
        {responseType: 'arraybuffer', headers: {Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*'}});
    assert.equal(r.status, 200);
    const parts = decodeMultipart(Buffer.from(r.data), hdr(r, 'content-type'));
    assert.equal(parts.length, 1);
    assert.equal(sha256(parts[0].body), sha256(corpusBytes(e.file)), `${e.file} bytes`);
    const single = await ds().studies.series.instances.retrieveInstance({parent: SN, dicomWebPath: instPath(e)},
        {responseType: 'arraybuffer', headers: {Accept: 'application/dicom; transfer-syntax=*'}});
    assert.equal(sha256(Buffer.from(single.data)), sha256(corpusBytes(e.file)), `${e.file} single part`);
  }
  // Default Accept: Explicit VR LE.
  const def = await ds().studies.series.instances.retrieveInstance({parent: SN, dicomWebPath: instPath(RLE)}, {responseType: 'arraybuffer'});
  assert.equal(parseMediaType(hdr(def, 'content-type')).params['transfer-syntax'], '1.2.840.10008.1.2.1');
  // Study and series retrieve, frames and rendered through the client.
  const study = await ds().studies.retrieveStudy({parent: SN, dicomWebPath: `studies/${CR1.study_uid}`},
      {responseType: 'arraybuffer', headers: {Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*'}});
  assert.equal(decodeMultipart(Buffer.from(study.data), hdr(study, 'content-type')).length, 2);
  const frames = await ds().studies.series.instances.frames.retrieveFrames({parent: SN, dicomWebPath: `${instPath(RLE)}/frames/1,3`},
      {responseType: 'arraybuffer'});
  const fparts = decodeMultipart(Buffer.from(frames.data), hdr(frames, 'content-type'));
  assert.deepEqual(fparts.map((p) => p.body.length), [600 * 430, 600 * 430]);
  const rendered = await ds().studies.series.instances.retrieveRendered({parent: SN, dicomWebPath: `${instPath(RLE)}/rendered`, viewport: '64,64'},
      {responseType: 'arraybuffer', headers: {Accept: 'image/png'}});
  assert.match(hdr(rendered, 'content-type'), /^image\/png/);
  const png = Buffer.from(rendered.data);
  assert.ok(png.readUInt32BE(16) <= 64 && png.readUInt32BE(20) <= 64);
  // Missing instance -> 404 envelope (JSON, even with responseType json).
  await expectApiError(ds().studies.series.instances.retrieveMetadata({parent: SN, dicomWebPath: `studies/${CT.study_uid}/series/${CT.series_uid}/instances/1.2.3/metadata`}, JSON_RT),
      404, 'NOT_FOUND');
});

test('metrics through the client: getDICOMStoreMetrics, getStudyMetrics, getSeriesMetrics, getStorageInfo', T, async () => {
  const m = (await ds().getDICOMStoreMetrics({name: SN})).data;
  assert.deepEqual(Object.keys(m).sort(), ['blobStorageSizeBytes', 'instanceCount', 'name', 'seriesCount', 'structuredStorageSizeBytes', 'studyCount']);
  assert.equal(m.name, SN);
  assert.equal(m.studyCount, '4');
  assert.equal(m.seriesCount, '5');
  assert.equal(m.instanceCount, '5');
  assert.equal(m.blobStorageSizeBytes, String([CT, CR1, CR2, MR, RLE].reduce((a, e) => a + e.size, 0)));
  const web = ds().dicomWeb;
  const sm = (await web.studies.getStudyMetrics({study: `${SN}/dicomWeb/studies/${CR1.study_uid}`})).data;
  assert.equal(sm.seriesCount, '2');
  assert.equal(sm.instanceCount, '2');
  const se = (await web.studies.series.getSeriesMetrics({series: `${SN}/dicomWeb/studies/${CR1.study_uid}/series/${CR1.series_uid}`})).data;
  assert.equal(se.instanceCount, '1');
  assert.equal(se.blobStorageSizeBytes, String(CR1.size));
  const si = (await web.studies.series.instances.getStorageInfo({resource: `${SN}/dicomWeb/${instPath(MR)}`})).data;
  assert.equal(si.referencedResource, `${SN}/dicomWeb/${instPath(MR)}`);
  assert.equal(si.blobStorageInfo.sizeBytes, String(MR.size));
  await expectApiError(web.studies.getStudyMetrics({study: `${SN}/dicomWeb/studies/1.2.3`}), 404, 'NOT_FOUND');
});

test('instances.delete -> {}; studies.delete -> done Operation; then 204 / 404', T, async () => {
  const d1 = await ds().studies.series.instances.delete({parent: SN, dicomWebPath: instPath(CR2)});
  assert.equal(d1.status, 200);
  assert.deepEqual(d1.data, {});
  const left = await ds().studies.searchForInstances({parent: SN, dicomWebPath: `studies/${CR1.study_uid}/instances`}, JSON_RT);
  assert.deepEqual(left.data.map((d) => first(d, '00080018')), [CR1.sop_instance_uid]);
  const op = (await ds().studies.delete({parent: SN, dicomWebPath: `studies/${CR1.study_uid}`})).data;
  assert.match(op.name, new RegExp(`^${datasetName(DS)}/operations/[^/]+$`));
  assert.equal(op.done, true);
  assert.equal(op.response['@type'], 'type.googleapis.com/google.protobuf.Empty');
  assert.equal(op.metadata['@type'], 'type.googleapis.com/google.cloud.healthcare.v1.OperationMetadata');
  assert.equal(op.metadata.apiMethodName, 'google.cloud.healthcare.v1.dicomweb.DicomWebService.DeleteStudy');
  assert.ok(!('error' in op));
  const got = (await fx.operations.get({name: op.name})).data;
  assert.equal(got.done, true);
  assert.deepEqual(got.response, op.response);
  const none = await ds().searchForStudies({parent: SN, dicomWebPath: 'studies', StudyInstanceUID: CR1.study_uid}, JSON_RT);
  assert.equal(none.status, 204);
  await expectApiError(ds().studies.retrieveMetadata({parent: SN, dicomWebPath: `studies/${CR1.study_uid}/metadata`}, JSON_RT), 404, 'NOT_FOUND');
  await expectApiError(ds().studies.delete({parent: SN, dicomWebPath: `studies/${CR1.study_uid}`}), 404, 'NOT_FOUND');
  // Series delete -> Operation as well.
  const sop = (await ds().studies.series.delete({parent: SN, dicomWebPath: `studies/${RLE.study_uid}/series/${RLE.series_uid}`})).data;
  assert.equal(sop.done, true);
  assert.equal(sop.metadata.apiMethodName, 'google.cloud.healthcare.v1.dicomweb.DicomWebService.DeleteSeries');
  const m = (await ds().getDICOMStoreMetrics({name: SN})).data;
  assert.equal(m.studyCount, '2');
  assert.equal(m.instanceCount, '2');
});
