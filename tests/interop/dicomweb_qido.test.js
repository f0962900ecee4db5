'use strict';
// QIDO-RS semantics (spec §10.3, §1.2, §13.1) on the qido-* corpus files (two patients, five
// studies, several series) plus three files with other names/referring physicians. Expected
// answers come from a small reference model built from MANIFEST.tsv and MANIFEST-json.
const assert = require('node:assert/strict');
const {test, after} = require('node:test');
const {useServer, makeTempDir, removeDir} = require('./lib/server');
const {corpus, corpusEntry, corpusBytes, Store, describe, values, first, str, synthesize, queryString} = require('./lib/dicom');

const T = {timeout: 30_000};
const DS = 'qido';
const files = [
  ...corpus().filter((e) => e.file.startsWith('qido-')),
  ...['ts-sc-rgb-odd-3x3.dcm', 'cs-latin1-german.dcm', 'waveform-ecg-12lead.dcm'].map(corpusEntry),
];
let store;
let bulk;
let synthetic = [];
const tmp = makeTempDir('dicomstore-qido-');
after(() => removeDir(tmp));

const fx = useServer({setup: async () => {
  store = await Store.create(fx, DS, 'q');
  const res = await store.stow(files.map((e) => corpusBytes(e.file)));
  assert.equal(res.status, 200, describe(res));
}});

// Reference model.
const pnOf = (e) => str(e.expected, '00100010') || '';
const model = files.map((e) => ({
  file: e.file,
  study: e.study_uid, series: e.series_uid, sop: e.sop_instance_uid, modality: e.modality,
  PatientName: pnOf(e),
  PatientID: str(e.expected, '00100020') || '',
  AccessionNumber: str(e.expected, '00080050') || '',
  ReferringPhysicianName: str(e.expected, '00080090') || '',
  StudyDate: str(e.expected, '00080020') || '',
  StudyDescription: null,
}));
const TAGS = {
  StudyInstanceUID: '0020000D', PatientName: '00100010', PatientID: '00100020', AccessionNumber: '00080050',
  ReferringPhysicianName: '00080090', StudyDate: '00080020', SeriesInstanceUID: '0020000E', Modality: '00080060',
  SOPInstanceUID: '00080018',
};
const uniq = (a) => [...new Set(a)].sort();
const studiesOf = (rows) => uniq(rows.map((r) => r.study));
const seriesOf = (rows) => uniq(rows.map((r) => r.series));
const sopsOf = (rows) => uniq(rows.map((r) => r.sop));
const allStudies = studiesOf(model);
const field = {StudyInstanceUID: 'study', SeriesInstanceUID: 'series', SOPInstanceUID: 'sop', Modality: 'modality'};
const get = (r, key) => r[field[key] || key];

const uidsIn = (list, tag) => uniq(list.map((ds) => first(ds, tag)));
async function studyUids(query, rel = 'studies') { return uidsIn(await store.search(rel, query), '0020000D'); }
async function seriesUids(query, rel = 'series') { return uidsIn(await store.search(rel, query), '0020000E'); }
async function sopUids(query, rel = 'instances') { return uidsIn(await store.search(rel, query), '00080018'); }

async function expectError(rel, query, code, pattern) {
  const res = await store.qido(rel, query);
  const ctx = `GET ${rel}${queryString(query)}`;
  assert.equal(res.status, code, `${ctx}: ${describe(res)}`);
  assert.match(res.contentType, /^application\/json/, `${ctx}: error Content-Type`);
  const j = res.json;
  assert.ok(j && j.error && j.error.code === code && typeof j.error.message === 'string', `${ctx}: envelope ${describe(res)}`);
  if (code === 400) assert.equal(j.error.status, 'INVALID_ARGUMENT', ctx);
  if (pattern) assert.match(j.error.message, pattern, `${ctx}: message`);
  return j;
}

test('every match key, keyword and tag form, at study, series and instance level', T, async () => {
  const keys = {
    studies: ['StudyInstanceUID', 'PatientName', 'PatientID', 'AccessionNumber', 'ReferringPhysicianName', 'StudyDate'],
    series: ['StudyInstanceUID', 'PatientName', 'PatientID', 'AccessionNumber', 'ReferringPhysicianName', 'StudyDate',
      'SeriesInstanceUID', 'Modality'],
    instances: ['StudyInstanceUID', 'PatientName', 'PatientID', 'AccessionNumber', 'ReferringPhysicianName', 'StudyDate',
      'SeriesInstanceUID', 'Modality', 'SOPInstanceUID'],
  };
  const pick = {studies: studiesOf, series: seriesOf, instances: sopsOf};
  const fetchUids = {studies: studyUids, series: seriesUids, instances: sopUids};
  let checked = 0;
  for (const level of Object.keys(keys)) {
    for (const key of keys[level]) {
      const vals = uniq(model.map((r) => get(r, key)).filter((v) => v !== ''));
      assert.ok(vals.length > 0, `${key} has no values in the model`);
      for (const v of vals) {
        const want = pick[level](model.filter((r) => get(r, key) === v));
        for (const name of [key, TAGS[key]]) {
          assert.deepEqual(await fetchUids[level]({[name]: v}), want, `${level}?${name}=${v}`);
          checked++;
        }
      }
      // A value that matches nothing -> 204.
      const none = await store.qido(level, {[key]: key === 'StudyDate' ? '19000101' : '1.2.3.4.5.6.7.8.9.0'});
      assert.equal(none.status, 204, `${level}?${key}=<nothing>: ${describe(none)}`);
    }
  }
  assert.ok(checked > 100);
  // Spot checks the model cannot get wrong.
  assert.equal((await studyUids({PatientID: '77654033'})).length, 2);
  assert.equal((await studyUids({PatientName: 'Doe^Peter'})).length, 3);
  assert.equal((await seriesUids({Modality: 'CR'})).length, 2);
  assert.equal((await sopUids({Modality: 'CT'})).length, 4);
  assert.deepEqual(await studyUids({ReferringPhysicianName: 'Moriarty^James'}), [corpusEntry('ts-sc-rgb-odd-3x3.dcm').study_uid]);
  assert.deepEqual(await studyUids({PatientName: 'Äneas^Rüdiger'}), [corpusEntry('cs-latin1-german.dcm').study_uid]);
  // Several keys combine with AND.
  assert.deepEqual(await studyUids({PatientID: '98890234', StudyDate: '20030505', AccessionNumber: '428'}),
      [corpusEntry('qido-p2-mr-carotid.dcm').study_uid]);
  assert.equal((await store.qido('studies', {PatientID: '98890234', AccessionNumber: '2', StudyDate: '20030505'})).status, 204);
});

test('StudyDate ranges: A-B, -B, A- (inclusive), exact, empty ranges', T, async () => {
  const dated = model.filter((r) => /^\d{8}$/.test(r.StudyDate));
  const inRange = (lo, hi) => studiesOf(dated.filter((r) => (!lo || r.StudyDate >= lo) && (!hi || r.StudyDate <= hi)));
  const cases = [
    ['20010101-20030505', '20010101', '20030505'],
    ['19950903-19950903', '19950903', '19950903'],
    ['-20010101', '', '20010101'],
    ['20030505-', '20030505', ''],
    ['19000101-', '19000101', ''],
    ['-19950902', '', '19950902'],
    ['20010102-20030504', '20010102', '20030504'],
  ];
  for (const [q, lo, hi] of cases) {
    const want = inRange(lo, hi);
    for (const level of ['studies', 'series']) {
      const got = level === 'studies' ? await studyUids({StudyDate: q}) : uidsIn(await store.search('series', {StudyDate: q}), '0020000D');
      assert.deepEqual(got, want, `${level}?StudyDate=${q}`);
    }
  }
  assert.equal(inRange('20010101', '20030505').length, 4, 'model sanity');
  assert.equal((await store.qido('studies', {StudyDate: '20300101-'})).status, 204);
  assert.equal((await store.qido('studies', {StudyDate: '20010101-20000101'})).status, 204, 'inverted range');
  for (const bad of ['2001', '2001-01-01', '20010101-2003', 'yesterday', '20011301x']) {
    await expectError('studies', {StudyDate: bad}, 400);
  }
});

test('fuzzymatching=true: any query word is a prefix of a name word, case-insensitive', T, async () => {
  const words = (s) => s.toLowerCase().split(/[\^ ]+/).filter(Boolean);
  const fuzzy = (q) => studiesOf(model.filter((r) => words(q).some((w) => words(r.PatientName).some((n) => n.startsWith(w)))));
  const queries = ['doe', 'Do', 'DOE', 'pet', 'Peter', 'arch', 'Doe Peter', 'Doe^Peter', 'lest', 'rüd', 'äneas', 'g', 'anon'];
  for (const q of queries) {
    const want = fuzzy(q);
    assert.ok(want.length > 0, `model: ${q}`);
    assert.deepEqual(await studyUids({PatientName: q, fuzzymatching: 'true'}), want, `fuzzy ${q}`);
  }
  for (const q of ['eter', 'oe', 'xyz', 'Petera']) {
    assert.deepEqual(fuzzy(q), [], `model: ${q}`);
    const r = await store.qido('studies', {PatientName: q, fuzzymatching: 'true'});
    assert.equal(r.status, 204, `fuzzy ${q} (not a word prefix): ${describe(r)}`);
  }
  // Without fuzzy matching a prefix does not match; fuzzymatching=false is the default.
  for (const fm of [undefined, 'false']) {
    const q = fm ? {PatientName: 'doe', fuzzymatching: fm} : {PatientName: 'doe'};
    assert.equal((await store.qido('studies', q)).status, 204, `exact doe (${fm})`);
  }
  // Fuzzy also works at series and instance level.
  assert.deepEqual(uidsIn(await store.search('instances', {PatientName: 'arch', fuzzymatching: 'true'}), '00080018'),
      sopsOf(model.filter((r) => r.PatientName === 'Doe^Archibald')));
  await expectError('studies', {fuzzymatching: 'maybe'}, 400);
});

test('nested routes: studies/{u}/series, studies/{u}/instances, studies/{u}/series/{s}/instances', T, async () => {
  for (const st of allStudies) {
    const rows = model.filter((r) => r.study === st);
    assert.deepEqual(await seriesUids({}, `studies/${st}/series`), seriesOf(rows), `studies/${st}/series`);
    assert.deepEqual(await sopUids({}, `studies/${st}/instances`), sopsOf(rows), `studies/${st}/instances`);
    for (const se of seriesOf(rows)) {
      assert.deepEqual(await sopUids({}, `studies/${st}/series/${se}/instances`), sopsOf(rows.filter((r) => r.series === se)));
    }
    // Every result of a nested search belongs to the path's study.
    for (const ds of await store.search(`studies/${st}/series`, {includefield: 'all'})) assert.equal(first(ds, '0020000D'), st);
  }
  // Path UIDs combine with match keys.
  const cr = corpusEntry('qido-p1-cr-s1.dcm');
  assert.deepEqual(await seriesUids({Modality: 'CR'}, `studies/${cr.study_uid}/series`), seriesOf(model.filter((r) => r.study === cr.study_uid)));
  assert.equal((await store.qido(`studies/${cr.study_uid}/series`, {Modality: 'MR'})).status, 204);
  assert.deepEqual(await sopUids({SOPInstanceUID: cr.sop_instance_uid}, `studies/${cr.study_uid}/instances`), [cr.sop_instance_uid]);
  // Unknown study, or a series of another study -> 204.
  const other = corpusEntry('qido-p2-mr-carotid.dcm');
  for (const rel of ['studies/1.2.3.999/series', 'studies/1.2.3.999/instances', `studies/1.2.3.999/series/${cr.series_uid}/instances`,
    `studies/${cr.study_uid}/series/${other.series_uid}/instances`]) {
    const r = await store.qido(rel);
    assert.equal(r.status, 204, `${rel}: ${describe(r)}`);
  }
  // Match keys of a higher level are valid at the nested routes as well.
  assert.deepEqual(await sopUids({PatientID: '77654033'}, `studies/${cr.study_uid}/instances`), sopsOf(model.filter((r) => r.study === cr.study_uid)));
});

test('default attributes, includefield (keyword, tag, comma list, repeated, all) and computed counts', T, async () => {
  const cr = corpusEntry('qido-p1-cr-s1.dcm');
  const [plain] = await store.search('studies', {StudyInstanceUID: cr.study_uid});
  for (const tag of ['00080020', '00080030', '00080050', '00080090', '00100010', '00100020', '00100030', '00100040', '0020000D', '00200010']) {
    assert.ok(tag in plain, `default study attribute ${tag} missing: ${JSON.stringify(plain)}`);
  }
  assert.equal(first(plain, '00080020'), '20010101');
  assert.deepEqual(values(plain, '00100010'), [{Alphabetic: 'Doe^Archibald'}]);
  for (const q of [{includefield: 'StudyDescription'}, {includefield: '00081030'}]) {
    const [r] = await store.search('studies', {StudyInstanceUID: cr.study_uid, ...q});
    assert.deepEqual(r['00081030'], {vr: 'LO', Value: ['XR C Spine Comp Min 4 Views']}, JSON.stringify(q));
  }
  for (const q of [
    {includefield: 'StudyDescription,ModalitiesInStudy,NumberOfStudyRelatedSeries,NumberOfStudyRelatedInstances'},
    {includefield: ['StudyDescription', '00080061', 'NumberOfStudyRelatedSeries', '00201208']},
    {includefield: 'all'},
  ]) {
    for (const st of allStudies) {
      const rows = model.filter((r) => r.study === st);
      const [r] = await store.search('studies', {StudyInstanceUID: st, ...q});
      const ctx = `${st} ${JSON.stringify(q)}`;
      // The qido-* files all carry StudyDescription (possibly empty); the others do not.
      if (rows[0].file.startsWith('qido-')) assert.ok('00081030' in r, `${ctx}: StudyDescription`);
      assert.equal(r['00080061'] && r['00080061'].vr, 'CS', `${ctx}: ModalitiesInStudy`);
      assert.deepEqual(uniq(values(r, '00080061')), uniq(rows.map((x) => x.modality)), `${ctx}: ModalitiesInStudy`);
      assert.deepEqual(r['00201206'], {vr: 'IS', Value: [seriesOf(rows).length]}, `${ctx}: NumberOfStudyRelatedSeries`);
      assert.deepEqual(r['00201208'], {vr: 'IS', Value: [rows.length]}, `${ctx}: NumberOfStudyRelatedInstances`);
    }
  }
  // Series level: NumberOfSeriesRelatedInstances, SeriesNumber via includefield.
  for (const q of [{includefield: 'NumberOfSeriesRelatedInstances,SeriesNumber'}, {includefield: 'all'}]) {
    const list = await store.search('series', q);
    assert.equal(list.length, seriesOf(model).length);
    for (const ds of list) {
      const se = first(ds, '0020000E');
      assert.deepEqual(ds['00201209'], {vr: 'IS', Value: [model.filter((r) => r.series === se).length]}, `${se} ${JSON.stringify(q)}`);
      assert.ok('00200011' in ds, `${se}: SeriesNumber`);
      assert.equal(first(ds, '00080060'), model.find((r) => r.series === se).modality, 'Modality is a default series attribute');
    }
  }
  // Instance level default attributes and includefield=all (every attribute of the instance).
  const [inst] = await store.search('instances', {SOPInstanceUID: cr.sop_instance_uid});
  for (const tag of ['00080016', '00080018', '00280010', '00280011', '00280100']) assert.ok(tag in inst, `default instance attribute ${tag}`);
  assert.equal(first(inst, '00080016'), cr.sop_class_uid);
  const [full] = await store.search('instances', {SOPInstanceUID: cr.sop_instance_uid, includefield: 'all'});
  assert.deepEqual(values(full, '0008103E'), ['Cervical LAT']);
  assert.deepEqual(values(full, '00100020'), ['77654033']);
  assert.ok(!('7FE00010' in full) || !('Value' in full['7FE00010']), 'pixel data must not be inlined in QIDO');
});

test('limit/offset paging is stable and complete; 204 past the end; bad values 400', T, async () => {
  for (const [level, ids, tag] of [['studies', allStudies, '0020000D'], ['series', seriesOf(model), '0020000E'], ['instances', sopsOf(model), '00080018']]) {
    const whole = (await store.search(level)).map((ds) => first(ds, tag));
    assert.deepEqual(uniq(whole), ids, `${level}: all results`);
    assert.deepEqual((await store.search(level)).map((ds) => first(ds, tag)), whole, `${level}: order is deterministic`);
    for (const limit of [1, 3, 5]) {
      const pages = [];
      for (let offset = 0; offset < whole.length; offset += limit) {
        const page = (await store.search(level, {limit, offset})).map((ds) => first(ds, tag));
        assert.ok(page.length > 0 && page.length <= limit, `${level} limit=${limit} offset=${offset}: ${page.length}`);
        pages.push(...page);
      }
      assert.deepEqual(pages, whole, `${level} paged with limit=${limit}`);
    }
    const past = await store.qido(level, {offset: whole.length});
    assert.equal(past.status, 204, `${level} offset past the end: ${describe(past)}`);
    assert.equal((await store.search(level, {limit: 2, offset: whole.length - 1})).length, 1);
  }
  for (const q of [{limit: '-1'}, {limit: 'abc'}, {limit: '1.5'}, {offset: '-1'}, {offset: 'x'}, {offset: '1000001'}]) {
    await expectError('studies', q, 400);
  }
  // offset up to 1,000,000 is allowed.
  assert.equal((await store.qido('studies', {offset: '1000000'})).status, 204);
});

test('unsupported keys -> 400 with Google-like messages', T, async () => {
  const inst = corpusEntry('qido-p1-ct-a.dcm');
  await expectError('studies', {Modality: 'CT'}, 400, /not a supported/);
  await expectError('studies', {SeriesInstanceUID: inst.series_uid}, 400, /not a supported/);
  await expectError('studies', {SOPInstanceUID: inst.sop_instance_uid}, 400, /not a supported/);
  await expectError('series', {SOPInstanceUID: inst.sop_instance_uid}, 400, /not a supported/);
  await expectError('instances', {SOPClassUID: inst.sop_class_uid}, 400, /SOPClassUID is not a supported instance/);
  await expectError('instances', {'00080016': inst.sop_class_uid}, 400, /not a supported/);
  await expectError('studies', {StudyDescription: 'Brain'}, 400, /not a supported/);
  await expectError('studies', {PatientBirthDate: '19700101'}, 400, /not a supported/);
  await expectError('studies', {foo: 'bar'}, 400);
  await expectError(`studies/${inst.study_uid}/instances`, {SOPClassUID: inst.sop_class_uid}, 400, /not a supported/);
  await expectError('studies', {includefield: 'Foo'}, 400, /unknown\/unsupported QIDO attribute: Foo/);
  await expectError('instances', {includefield: 'NotAKeyword'}, 400, /unknown\/unsupported QIDO attribute/);
  await expectError('studies', {includefield: 'StudyDescription,Foo'}, 400, /unknown\/unsupported QIDO attribute/);
  // UID lists are not supported by Google: reject (or support them exactly).
  const two = [inst.study_uid, corpusEntry('qido-p2-mr-carotid.dcm').study_uid];
  const list = await store.qido('studies', {StudyInstanceUID: two.join(',')});
  if (list.status === 200) assert.deepEqual(uidsIn(list.json, '0020000D'), uniq(two));
  else assert.equal(list.status, 400, describe(list));
  // Wildcards are not supported: literal (no match) or 400, never a wildcard match.
  for (const q of ['Doe*', 'Doe^Pete?', '*']) {
    const r = await store.qido('studies', {PatientName: q});
    assert.ok(r.status === 204 || r.status === 400, `PatientName=${q}: ${describe(r)}`);
  }
});

test('includefield with an unknown 8-hex tag -> 400', {...T}, async () => {
  await expectError('studies', {includefield: '12345678'}, 400, /unknown\/unsupported QIDO attribute/);
});

test('system query parameters are ignored (alt=, prettyPrint=false, access_token, key, fields, ...)', T, async () => {
  const baseline = await store.search('studies', {PatientID: '98890234', includefield: 'StudyDescription'});
  assert.equal(baseline.length, 3);
  const systems = [
    'alt=&prettyPrint=false', 'alt=json', 'alt=media', 'prettyPrint=true', 'access_token=tok', 'key=k', 'fields=*',
    '%24.xgafv=1', '$.xgafv=2', 'quotaUser=u', 'callback=cb', 'oauth_token=t', 'uploadType=media', 'upload_protocol=raw',
  ];
  for (const sys of systems) {
    for (const rel of ['studies', 'series', 'instances']) {
      const q = `PatientID=98890234&includefield=StudyDescription&${sys}`;
      const r = await store.qido(rel, q);
      assert.equal(r.status, 200, `${rel}?${q}: ${describe(r)}`);
      if (rel === 'studies') assert.deepEqual(r.json, baseline, `${rel}?${sys}`);
    }
  }
  // Go's generated client sends exactly "?alt=&prettyPrint=false" with no other parameter.
  const r = await store.qido('studies', 'alt=&prettyPrint=false');
  assert.equal(r.status, 200);
  assert.equal(r.json.length, allStudies.length);
});

test('Accept: application/dicom+json and */* are fine', T, async () => {
  for (const accept of ['application/dicom+json', '*/*', 'application/json, application/dicom+json;q=0.9', 'application/*']) {
    const r = await store.req('GET', 'studies', {headers: {accept}});
    assert.equal(r.status, 200, `Accept ${accept}: ${describe(r)}`);
    assert.match(r.contentType, /^application\/dicom\+json/);
  }
});

test('unsatisfiable Accept -> 406 with a matching envelope', {...T}, async () => {
  const r = await store.req('GET', 'studies', {headers: {accept: 'text/x-absurd'}});
  assert.equal(r.status, 406, describe(r));
  assert.match(r.contentType, /^application\/json/);
  assert.equal(r.json.error.code, 406, describe(r));
});

test('QIDO on a missing store -> 404 envelope', T, async () => {
  for (const rel of ['studies', 'series', 'instances']) {
    const r = await fx.raw('GET', `/v1/projects/interop-project/locations/us-central1/datasets/${DS}/dicomStores/nope/dicomWeb/${rel}`);
    assert.equal(r.status, 404, r.text);
    assert.equal(r.json.error.status, 'NOT_FOUND');
  }
});

test('default limits 100 (studies, series) / 1000 (instances); limit clamped at 5000 for studies', {timeout: 120_000}, async () => {
  bulk = await Store.create(fx, DS, 'bulk');
  const N = 5001;
  synthetic = await synthesize(N, '1.2.826.0.1.3680043.9.7433.1', {dir: tmp, patient: 'Bulk^Paging'});
  for (let i = 0; i < N; i += 500) {
    const res = await bulk.stow(synthetic.slice(i, i + 500).map((s) => s.bytes), {timeoutMs: 60_000});
    assert.equal(res.status, 200, describe(res));
  }
  const count = async (rel, q) => (await bulk.search(rel, q)).length;
  assert.equal(await count('studies'), 100, 'default study limit');
  assert.equal(await count('series'), 100, 'default series limit');
  assert.equal(await count('instances'), 1000, 'default instance limit');
  assert.equal(await count('studies', {limit: 6000}), 5000, 'study limit clamped at 5000');
  assert.equal(await count('series', {limit: 6000}), 5000, 'series limit clamped at 5000');
  assert.equal(await count('instances', {limit: 6000}), N, 'instance limit up to 50000');
  assert.equal(await count('studies', {limit: 100, offset: 4950}), 51, 'last study page');
  assert.equal(await count('studies', {offset: 5000}), 1);
  const page = await bulk.search('studies', {limit: 5, offset: 2500});
  const again = await bulk.search('studies', {limit: 5, offset: 2500});
  assert.deepEqual(page, again, 'deterministic paging');
  // Matching within many studies.
  const one = synthetic[4321];
  assert.deepEqual(uidsIn(await bulk.search('studies', {StudyInstanceUID: one.study}), '0020000D'), [one.study]);
  assert.deepEqual(uidsIn(await bulk.search('instances', {SOPInstanceUID: one.sop}), '00080018'), [one.sop]);
  assert.equal((await bulk.search('studies', {PatientName: 'bulk', fuzzymatching: 'true', limit: 6000})).length, 5000);
});
