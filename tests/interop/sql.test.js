'use strict';
// `dicomstore sql` / `dicomstore shell` end to end (the StackQL dialect, spec/stackql.md):
// real CLI processes against a server started here (`--endpoint`) and in-process on a data
// directory (`--data`, then a server on that directory), cross-checked with the official
// @googleapis/healthcare client. Every statement kind, pagination, output formats (golden
// files under golden/sql), DICOM tables, actionable errors and the input modes.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {test, after} = require('node:test');
const {
  useServer, startServer, stopAndCheck, makeClient, makeTempDir, removeDir, expectApiError,
  PROJECT, LOCATION, PARENT, datasetName, storeName,
} = require('./lib/server');
const {corpusEntry, copyCorpusFiles, str} = require('./lib/dicom');
const {
  sqlCli, runCli, assertExit, describeRun, whereLoc, whereDs, whereStore, execArgs, assertGolden,
  startRecordingProxy, closedPort,
} = require('./lib/sql');

const T = {timeout: 30_000};
const DS = 'sql-ds';
const DS2 = 'sql-ds2';
const DSN = datasetName(DS);
const sn = (id, ds = DS) => storeName(ds, id);
const tmp = makeTempDir('dicomstore-sql-');
after(() => removeDir(tmp));

const fx = useServer({setup: async () => {
  for (const id of [DS, DS2]) await fx.datasets.create({parent: PARENT, datasetId: id, requestBody: {}});
}});
const q = () => sqlCli({endpoint: fx.base});

// The qido-* corpus files: 2 patients, 5 studies, 8 series, 9 instances, 16x16 images.
const QIDO_FILES = [
  'qido-p1-cr-s1.dcm', 'qido-p1-cr-s2.dcm', 'qido-p1-ct-a.dcm', 'qido-p1-ct-b.dcm',
  'qido-p2-ct2n-a.dcm', 'qido-p2-ct5n-a.dcm', 'qido-p2-mr-brain-s1.dcm', 'qido-p2-mr-brain-s2a.dcm',
  'qido-p2-mr-carotid.dcm',
].map(corpusEntry);
const PATIENT_ID = (e) => str(e.expected, '00100020');
const uniq = (xs) => [...new Set(xs)].sort();

const DESPATCHED = 'The operation was despatched successfully';
const COMPLETED = 'The operation completed successfully';

// ---------------------------------------------------------------------------------------------
// Meta commands

test('SHOW SERVICES / RESOURCES / METHODS and DESCRIBE', T, async () => {
  const services = await q().rows('SHOW SERVICES IN google');
  assert.deepEqual(services, [{id: 'healthcare:v00.00.00000', name: 'healthcare', title: 'Cloud Healthcare API'}]);

  const resources = await q().rows('SHOW RESOURCES IN google.healthcare');
  const names = resources.map((r) => r.name);
  for (const r of ['datasets', 'dicom_stores', 'dicom_stores_iam_policies', 'dicom_store_metrics', 'studies',
    'series', 'instances', 'studies_metadata', 'study_metrics', 'operations']) {
    assert.ok(names.includes(r), `SHOW RESOURCES lacks ${r}: ${names}`);
  }
  for (const r of resources) assert.equal(r.id, `google.healthcare.${r.name}`);

  const methods = await q().rows('SHOW METHODS IN google.healthcare.dicom_stores');
  const m = Object.fromEntries(methods.map((r) => [r.MethodName, r]));
  assert.deepEqual(m.get, {MethodName: 'get', RequiredParams: 'datasetsId, dicomStoresId, locationsId, projectsId',
    SQLVerb: 'SELECT', LongName: 'projects_locations_datasets_dicomStores_get'});
  assert.equal(m.list.RequiredParams, 'datasetsId, locationsId, projectsId');
  assert.equal(m.create.SQLVerb, 'INSERT');
  assert.equal(m.patch.SQLVerb, 'UPDATE');
  assert.equal(m.delete.SQLVerb, 'DELETE');
  assert.equal(m.store_instances.SQLVerb, 'EXEC');
  assert.equal(m.search_for_studies.SQLVerb, 'EXEC');
  // Rows grouped SELECT, INSERT, DELETE, UPDATE, (REPLACE), EXEC.
  const order = ['SELECT', 'INSERT', 'DELETE', 'UPDATE', 'REPLACE', 'EXEC'];
  const ranks = methods.map((r) => order.indexOf(r.SQLVerb));
  assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b), `SHOW METHODS grouping: ${methods.map((r) => r.SQLVerb)}`);

  const iam = await q().rows('SHOW METHODS IN google.healthcare.dicom_stores_iam_policies');
  assert.deepEqual(iam.map((r) => [r.MethodName, r.SQLVerb]),
      [['get_iam_policy', 'SELECT'], ['set_iam_policy', 'REPLACE'], ['test_iam_permissions', 'EXEC']]);
  const studies = await q().rows('SHOW METHODS IN google.healthcare.studies');
  assert.ok(studies.some((r) => r.MethodName === 'delete' && r.SQLVerb === 'DELETE' &&
      r.RequiredParams.split(', ').includes('studiesId')), JSON.stringify(studies));

  const dsCols = await q().rows('DESCRIBE google.healthcare.dicom_stores');
  assert.deepEqual(dsCols, [
    {name: 'name', type: 'string'}, {name: 'labels', type: 'object'}, {name: 'notificationConfig', type: 'object'},
    {name: 'notificationConfigs', type: 'array'}, {name: 'streamConfigs', type: 'array'},
  ]);
  const studyCols = await q().rows('DESCRIBE google.healthcare.studies');
  const types = Object.fromEntries(studyCols.map((r) => [r.name, r.type]));
  assert.equal(types.StudyInstanceUID, 'string');
  assert.equal(types.PatientID, 'string');
  assert.equal(types.NumberOfStudyRelatedInstances, 'integer');

  // Meta commands need no server: the same answers in-process.
  const local = sqlCli({data: path.join(tmp, 'meta-only')});
  assert.deepEqual(await local.rows('DESCRIBE google.healthcare.dicom_stores'), dsCols);
});

test('golden: DESCRIBE EXTENDED (table output wraps long descriptions)', T, async () => {
  const r = await q().ok('DESCRIBE EXTENDED google.healthcare.dicom_stores');
  assertGolden('describe_extended_dicom_stores.table.txt', r.stdout);
  assert.equal(r.stderr, '');
});

// ---------------------------------------------------------------------------------------------
// INSERT / SELECT / UPDATE / DELETE / REPLACE / EXEC against the server

test('INSERT /*+ AWAIT */ a dataset: progress and completion on stderr, the client sees it', T, async () => {
  const r = await q().ok(`INSERT /*+ AWAIT */ INTO google.healthcare.datasets (projectsId, locationsId, datasetId, data__timeZone)
      SELECT '${PROJECT}', '${LOCATION}', 'sql-awaited', 'Europe/Paris'`);
  assert.equal(r.stdout, '', 'no result set without RETURNING');
  assert.match(r.stderr, new RegExp(`^operation ${PARENT}/datasets/[^/ ]+/operations/\\S+: (done|in progress)`, 'm'));
  assert.match(r.stderr, new RegExp(`^${COMPLETED}$`, 'm'));
  const g = await fx.datasets.get({name: datasetName('sql-awaited')});
  assert.deepEqual(g.data, {name: datasetName('sql-awaited'), timeZone: 'Europe/Paris'});
  // Without AWAIT: despatched.
  const r2 = await q().ok(`INSERT INTO google.healthcare.datasets (projectsId, locationsId, datasetId)
      VALUES ('${PROJECT}', '${LOCATION}', 'sql-plain')`);
  assert.equal(r2.stdout, '');
  assert.equal(r2.stderr, `${DESPATCHED}\n`);
  assert.equal((await fx.datasets.get({name: datasetName('sql-plain')})).data.name, datasetName('sql-plain'));
});

test('INSERT plain and with data__ fields (labels JSON, nested config); the client sees them', T, async () => {
  const r = await q().ok(`INSERT INTO google.healthcare.dicom_stores (projectsId, locationsId, datasetsId, dicomStoreId)
      VALUES ('${PROJECT}', '${LOCATION}', '${DS}', 'plain')`);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `${DESPATCHED}\n`);
  assert.deepEqual((await fx.stores.get({name: sn('plain')})).data, {name: sn('plain')});

  await q().ok(`INSERT INTO google.healthcare.dicom_stores
      (projectsId, locationsId, datasetsId, dicomStoreId, data__labels, data__notificationConfig)
      VALUES ('${PROJECT}', '${LOCATION}', '${DS}', 'labelled', '{"env":"dev","team":"imaging"}',
              '{"pubsubTopic":"projects/p/topics/t"}'),
             ('${PROJECT}', '${LOCATION}', '${DS}', 'labelled2', '{"env":"prod"}', NULL)`);
  assert.deepEqual((await fx.stores.get({name: sn('labelled')})).data, {
    name: sn('labelled'), labels: {env: 'dev', team: 'imaging'}, notificationConfig: {pubsubTopic: 'projects/p/topics/t'},
  });
  assert.deepEqual((await fx.stores.get({name: sn('labelled2')})).data, {name: sn('labelled2'), labels: {env: 'prod'}});

  // RETURNING turns the API response into a result set.
  const rows = await q().rows(`INSERT INTO google.healthcare.dicom_stores (projectsId, locationsId, datasetsId, dicomStoreId, data__labels)
      VALUES ('${PROJECT}', '${LOCATION}', '${DS2}', 'returning', '{"k":"v"}') RETURNING name, labels`);
  assert.deepEqual(rows, [{name: sn('returning', DS2), labels: '{"k":"v"}'}]);
});

test('SELECT: get (one row) vs list, local filters, json_extract; what the client creates SQL lists', T, async () => {
  await fx.stores.create({parent: DSN, dicomStoreId: 'from-client', requestBody: {
    labels: {env: 'dev', origin: 'client'},
    streamConfigs: [{bigqueryDestination: {tableUri: 'bq://p.d.t'}}],
  }});
  const got = await q().rows(`SELECT * FROM google.healthcare.dicom_stores WHERE ${whereStore(DS, 'from-client')}`);
  assert.equal(got.length, 1);
  assert.equal(got[0].name, sn('from-client'));
  assert.deepEqual(JSON.parse(got[0].labels), {env: 'dev', origin: 'client'});
  assert.deepEqual(JSON.parse(got[0].streamConfigs), [{bigqueryDestination: {tableUri: 'bq://p.d.t'}}]);
  assert.equal(got[0].notificationConfig, null);

  // list: every store of the dataset, exactly what the client lists.
  const listed = await q().rows(`SELECT name FROM google.healthcare.dicom_stores WHERE ${whereDs(DS)} ORDER BY name`);
  const viaClient = (await fx.stores.list({parent: DSN})).data.dicomStores.map((s) => s.name).sort();
  assert.deepEqual(listed.map((r) => r.name), viaClient);

  // Non-parameter predicates run locally.
  const dev = await q().rows(`SELECT name, json_extract(labels, '$.env') AS env FROM google.healthcare.dicom_stores
      WHERE ${whereDs(DS)} AND json_extract(labels, '$.env') = 'dev' ORDER BY name`);
  assert.deepEqual(dev, [{name: sn('from-client'), env: 'dev'}, {name: sn('labelled'), env: 'dev'}]);
  const like = await q().rows(`SELECT count(*) AS n FROM google.healthcare.dicom_stores WHERE ${whereDs(DS)} AND name LIKE '%/labelled%'`);
  assert.deepEqual(like, [{n: 2}]);
});

test('SELECT with IN fans out one request per value; joins and GROUP BY run locally', T, async () => {
  const proxy = await startRecordingProxy(fx.base);
  try {
    const viaProxy = sqlCli({endpoint: proxy.base});
    const rows = await viaProxy.rows(`SELECT datasetsId, count(*) AS n FROM google.healthcare.dicom_stores
        WHERE ${whereLoc()} AND datasetsId IN ('${DS}', '${DS2}') GROUP BY datasetsId ORDER BY datasetsId`);
    const n1 = (await fx.stores.list({parent: DSN})).data.dicomStores.length;
    const n2 = (await fx.stores.list({parent: datasetName(DS2)})).data.dicomStores.length;
    assert.deepEqual(rows, [{datasetsId: DS, n: n1}, {datasetsId: DS2, n: n2}]);
    const lists = proxy.requests.filter((r) => r.method === 'GET' && /\/dicomStores(\?|$)/.test(r.url));
    assert.deepEqual(lists.map((r) => r.url.split('?')[0]).sort(),
        [`/v1/${DSN}/dicomStores`, `/v1/${datasetName(DS2)}/dicomStores`]);
  } finally {
    await proxy.close();
  }

  // A dependent join: the stores of every dataset listed by the other table.
  const prefix = `${PARENT}/datasets/`;
  const joined = await q().rows(`SELECT substr(d.name, ${prefix.length + 1}) AS ds, count(s.name) AS stores
      FROM google.healthcare.datasets d
      JOIN google.healthcare.dicom_stores s
        ON s.projectsId = '${PROJECT}' AND s.locationsId = '${LOCATION}' AND s.datasetsId = substr(d.name, ${prefix.length + 1})
      WHERE d.projectsId = '${PROJECT}' AND d.locationsId = '${LOCATION}' AND d.name IN ('${datasetName(DS)}', '${datasetName(DS2)}')
      GROUP BY 1 ORDER BY 1`);
  const n1 = (await fx.stores.list({parent: DSN})).data.dicomStores.length;
  assert.deepEqual(joined, [{ds: DS, stores: n1}, {ds: DS2, stores: 1}]);
});

test('INSERT ... SELECT copies labels from one resource into new stores', T, async () => {
  await q().ok(`INSERT INTO google.healthcare.dicom_stores (projectsId, locationsId, datasetsId, dicomStoreId, data__labels)
      SELECT '${PROJECT}', '${LOCATION}', '${DS2}', replace(name, '${DSN}/dicomStores/', 'copy-of-'), labels
      FROM google.healthcare.dicom_stores WHERE ${whereDs(DS)} AND name LIKE '%/labelled%'`);
  const copies = (await fx.stores.list({parent: datasetName(DS2)})).data.dicomStores
      .filter((s) => s.name.includes('/copy-of-')).sort((a, b) => a.name.localeCompare(b.name));
  assert.deepEqual(copies, [
    {name: sn('copy-of-labelled', DS2), labels: {env: 'dev', team: 'imaging'}},
    {name: sn('copy-of-labelled2', DS2), labels: {env: 'prod'}},
  ]);
});

test('UPDATE with updateMask (RETURNING) and without (mask = the SET fields)', T, async () => {
  await fx.stores.create({parent: DSN, dicomStoreId: 'upd', requestBody: {
    labels: {a: '1'}, notificationConfig: {pubsubTopic: 'projects/p/topics/keep'},
  }});
  const rows = await q().rows(`UPDATE google.healthcare.dicom_stores SET data__labels = '{"a":"2","b":"3"}'
      WHERE ${whereStore(DS, 'upd')} AND updateMask = 'labels' RETURNING name, labels`);
  assert.deepEqual(rows, [{name: sn('upd'), labels: '{"a":"2","b":"3"}'}]);
  assert.deepEqual((await fx.stores.get({name: sn('upd')})).data, {
    name: sn('upd'), labels: {a: '2', b: '3'}, notificationConfig: {pubsubTopic: 'projects/p/topics/keep'},
  });

  const r = await q().ok(`UPDATE google.healthcare.dicom_stores
      SET data__notificationConfig = '{"pubsubTopic":"projects/p/topics/new"}' WHERE ${whereStore(DS, 'upd')}`);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `${DESPATCHED}\n`);
  assert.deepEqual((await fx.stores.get({name: sn('upd')})).data, {
    name: sn('upd'), labels: {a: '2', b: '3'}, notificationConfig: {pubsubTopic: 'projects/p/topics/new'},
  }, 'labels must survive an UPDATE that only sets notificationConfig');
});

test('DELETE a store: gone for the client; a second DELETE is an API error', T, async () => {
  await fx.stores.create({parent: DSN, dicomStoreId: 'doomed', requestBody: {}});
  const r = await q().ok(`DELETE FROM google.healthcare.dicom_stores WHERE ${whereStore(DS, 'doomed')}`);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `${DESPATCHED}\n`);
  await expectApiError(fx.stores.get({name: sn('doomed')}), 404, 'NOT_FOUND');
  const again = await q().fail(`DELETE FROM google.healthcare.dicom_stores WHERE ${whereStore(DS, 'doomed')}`);
  assert.equal(again.stdout, '');
  assert.match(again.stderr, /not found/i);
});

test('REPLACE an IAM policy; getIamPolicy via the client shows it; SELECT + json_each unnests it', T, async () => {
  await fx.stores.create({parent: DSN, dicomStoreId: 'iam', requestBody: {}});
  const policy = {bindings: [{role: 'roles/healthcare.dicomViewer', members: ['user:a@example.com', 'user:b@example.com']}]};
  const r = await q().ok(`REPLACE google.healthcare.dicom_stores_iam_policies SET data__policy = '${JSON.stringify(policy)}'
      WHERE ${whereStore(DS, 'iam')}`);
  assert.equal(r.stderr, `${DESPATCHED}\n`);
  const g = await fx.stores.getIamPolicy({resource: sn('iam')});
  assert.deepEqual(g.data.bindings, policy.bindings);
  assert.equal(typeof g.data.etag, 'string');

  const rows = await q().rows(`SELECT role, m.value AS member FROM google.healthcare.dicom_stores_iam_policies, json_each(members) m
      WHERE ${whereStore(DS, 'iam')} ORDER BY member`);
  assert.deepEqual(rows, [
    {role: 'roles/healthcare.dicomViewer', member: 'user:a@example.com'},
    {role: 'roles/healthcare.dicomViewer', member: 'user:b@example.com'},
  ]);
  // And what the client sets, SQL reads.
  await fx.stores.setIamPolicy({resource: sn('iam'), requestBody: {policy: {
    bindings: [{role: 'roles/healthcare.dicomEditor', members: ['group:g@example.com']}],
  }}});
  assert.deepEqual(await q().rows(`SELECT role, members FROM google.healthcare.dicom_stores_iam_policies WHERE ${whereStore(DS, 'iam')}`),
      [{role: 'roles/healthcare.dicomEditor', members: '["group:g@example.com"]'}]);
});

test('EXEC with the long and the short method name; SHOWRESULTS; @@json body', T, async () => {
  const long = `EXEC google.healthcare.dicom_stores.projects_locations_datasets_dicomStores_get ${execArgs(DS, 'labelled')}`;
  const short = `EXEC google.healthcare.dicom_stores.get ${execArgs(DS, 'labelled')}`;
  for (const stmt of [long, short]) {
    const r = await q().ok(stmt);
    assert.equal(r.stdout, '', `${stmt}: no rows without SHOWRESULTS`);
    assert.equal(r.stderr, `${DESPATCHED}\n`);
  }
  const expected = [{name: sn('labelled'), labels: '{"env":"dev","team":"imaging"}',
    notificationConfig: '{"pubsubTopic":"projects/p/topics/t"}'}];
  const viaLong = await q().rows(long.replace('EXEC ', 'EXEC /*+ SHOWRESULTS */ '));
  const viaShort = await q().rows(short.replace('EXEC ', 'EXEC /*+ SHOWRESULTS */ '));
  assert.deepEqual(viaLong, expected);
  assert.deepEqual(viaShort, expected);

  await q().ok(`EXEC google.healthcare.dicom_stores.patch ${execArgs(DS, 'labelled2')}, @updateMask='labels'
      @@json='{"labels":{"via":"exec"}}'`);
  assert.deepEqual((await fx.stores.get({name: sn('labelled2')})).data, {name: sn('labelled2'), labels: {via: 'exec'}});

  // EXEC of a list method with SHOWRESULTS: rows are the items.
  const listed = await q().rows(`EXEC /*+ SHOWRESULTS */ google.healthcare.datasets.list @projectsId='${PROJECT}', @locationsId='${LOCATION}'`);
  assert.ok(listed.some((d) => d.name === DSN), JSON.stringify(listed));
});

// ---------------------------------------------------------------------------------------------
// Pagination

test('pagination: 120 stores (server page = 100) are all counted; --page-limit 1 warns and truncates', {timeout: 60_000}, async () => {
  const ds = 'sql-paging';
  await fx.datasets.create({parent: PARENT, datasetId: ds, requestBody: {}});
  const ids = Array.from({length: 120}, (_, i) => `p${String(i).padStart(3, '0')}`);
  for (let i = 0; i < ids.length; i += 10) {
    await Promise.all(ids.slice(i, i + 10).map((id) =>
      fx.stores.create({parent: datasetName(ds), dicomStoreId: id, requestBody: {labels: {i: String(Number(id.slice(1)) % 3)}}})));
  }
  const first = await fx.stores.list({parent: datasetName(ds)});
  assert.equal(first.data.dicomStores.length, 100, 'the server default page size is 100');
  assert.ok(first.data.nextPageToken);

  const count = await q().ok(`SELECT count(*) AS n FROM google.healthcare.dicom_stores WHERE ${whereDs(ds)}`, {format: 'csv'});
  assert.equal(count.stdout, 'n\n120\n');
  assert.equal(count.stderr, '');
  const groups = await q().rows(`SELECT json_extract(labels, '$.i') AS i, count(*) AS n FROM google.healthcare.dicom_stores
      WHERE ${whereDs(ds)} GROUP BY 1 ORDER BY 1`);
  assert.deepEqual(groups, [{i: '0', n: 40}, {i: '1', n: 40}, {i: '2', n: 40}]);

  const limited = await q().ok(`SELECT name FROM google.healthcare.dicom_stores WHERE ${whereDs(ds)}`,
      {format: 'jsonl', args: ['--page-limit', '1']});
  const lines = limited.stdout.trim().split('\n');
  assert.equal(lines.length, 100);
  assert.match(limited.stderr, /warning: page limit of 1 reached/);
  assert.match(limited.stderr, /truncated/);

  const two = await q().ok(`SELECT count(*) AS n FROM google.healthcare.dicom_stores WHERE ${whereDs(ds)}`,
      {format: 'csv', args: ['--page-limit', '2']});
  assert.equal(two.stdout, 'n\n120\n');
  assert.equal(two.stderr, '', 'no warning when the last page was reached');

  // Explicit pageSize is passed through; the CLI still follows the tokens.
  const small = await q().ok(`SELECT count(*) AS n FROM google.healthcare.dicom_stores WHERE ${whereDs(ds)} AND pageSize = 7`,
      {format: 'csv'});
  assert.equal(small.stdout, 'n\n120\n');
});

// ---------------------------------------------------------------------------------------------
// Output formats (golden files)

const GOLDEN_DS = 'golden';
const GOLDEN_QUERY = `SELECT replace(name, '${datasetName(GOLDEN_DS)}/dicomStores/', '') AS store, labels,
    json_extract(labels, '$.env') AS env, length(name) AS len
  FROM google.healthcare.dicom_stores WHERE ${whereDs(GOLDEN_DS)} ORDER BY name`;
const GOLDEN_FORMATS = {table: 'txt', json: 'txt', jsonl: 'txt', csv: 'txt', text: 'txt'};
const GOLDEN_SETUP = [
  `INSERT INTO google.healthcare.datasets (projectsId, locationsId, datasetId) VALUES ('${PROJECT}', '${LOCATION}', '${GOLDEN_DS}')`,
  `INSERT INTO google.healthcare.dicom_stores (projectsId, locationsId, datasetsId, dicomStoreId, data__labels) VALUES
     ('${PROJECT}', '${LOCATION}', '${GOLDEN_DS}', 'alpha', '{"env":"dev","team":"imaging"}'),
     ('${PROJECT}', '${LOCATION}', '${GOLDEN_DS}', 'beta', NULL),
     ('${PROJECT}', '${LOCATION}', '${GOLDEN_DS}', 'données', '{"équipe":"imagerie"}'),
     ('${PROJECT}', '${LOCATION}', '${GOLDEN_DS}', 'gamma', '{"env":"prod","tier":"1"}')`,
].join(';\n') + ';';

test('golden: table, json, jsonl, csv and text output of a deterministic query', T, async () => {
  const setup = await q().ok(GOLDEN_SETUP);
  assert.equal(setup.stdout, '');
  for (const [format, ext] of Object.entries(GOLDEN_FORMATS)) {
    const r = await q().ok(GOLDEN_QUERY, {format});
    assert.equal(r.stderr, '', `${format}: nothing on stderr`);
    assertGolden(`stores.${format}.${ext}`, r.stdout);
  }
  // The json output parses back to the same rows.
  const rows = JSON.parse((await q().ok(GOLDEN_QUERY, {format: 'json'})).stdout);
  assert.deepEqual(rows.map((r) => r.store), ['alpha', 'beta', 'données', 'gamma']);
  assert.equal(rows[1].labels, null);
  assert.equal(typeof rows[0].len, 'number');
});

// ---------------------------------------------------------------------------------------------
// DICOM

const DDS = 'sql-dicom';
const DSTORE = 'dicom';

test('DICOM: store_instances @file=<folder>, then studies/series/instances with pushed-down match keys', {timeout: 60_000}, async () => {
  await fx.datasets.create({parent: PARENT, datasetId: DDS, requestBody: {}});
  await fx.stores.create({parent: datasetName(DDS), dicomStoreId: DSTORE, requestBody: {}});
  const dir = path.join(tmp, 'upload');
  fs.mkdirSync(dir);
  copyCorpusFiles(QIDO_FILES.map((e) => e.file), dir);
  fs.writeFileSync(path.join(dir, '.hidden'), 'not DICOM, skipped');

  const stow = await q().ok(`EXEC google.healthcare.dicom_stores.store_instances ${execArgs(DDS, DSTORE)}, @file='${dir}'`,
      {format: 'json'});
  const rows = JSON.parse(stow.stdout);
  assert.equal(rows.length, QIDO_FILES.length);
  assert.deepEqual(uniq(rows.map((r) => r.status)), ['stored']);
  assert.deepEqual(uniq(rows.map((r) => r.SOPInstanceUID)), uniq(QIDO_FILES.map((e) => e.sop_instance_uid)));
  for (const r of rows) {
    const e = QIDO_FILES.find((x) => x.sop_instance_uid === r.SOPInstanceUID);
    assert.equal(r.SOPClassUID, e.sop_class_uid);
    assert.equal(r.RetrieveURL, `${fx.base}/v1/${storeName(DDS, DSTORE)}/dicomWeb/studies/${e.study_uid}/series/${e.series_uid}/instances/${e.sop_instance_uid}`);
  }
  assert.match(stow.stderr, new RegExp(`^${QIDO_FILES.length} of ${QIDO_FILES.length} instances stored from ${QIDO_FILES.length} files$`, 'm'));

  // Studies: every study of the corpus subset, values as in MANIFEST.tsv / MANIFEST-json.
  const studies = await q().rows(`SELECT * FROM google.healthcare.studies WHERE ${whereStore(DDS, DSTORE)} ORDER BY StudyInstanceUID`);
  assert.deepEqual(studies.map((s) => s.StudyInstanceUID), uniq(QIDO_FILES.map((e) => e.study_uid)));
  for (const s of studies) {
    const files = QIDO_FILES.filter((e) => e.study_uid === s.StudyInstanceUID);
    assert.equal(s.PatientID, PATIENT_ID(files[0]));
    assert.equal(s.PatientName, files[0].patient_name);
    assert.equal(s.StudyDate, str(files[0].expected, '00080020'));
    assert.equal(s.AccessionNumber, str(files[0].expected, '00080050') ?? null);
    assert.equal(s.ModalitiesInStudy, uniq(files.map((e) => e.modality)).join('\\'));
    assert.equal(s.NumberOfStudyRelatedSeries, uniq(files.map((e) => e.series_uid)).length);
    assert.equal(s.NumberOfStudyRelatedInstances, files.length);
  }

  // PatientID is pushed down to QIDO (visible in the request the CLI sends).
  const proxy = await startRecordingProxy(fx.base);
  try {
    const viaProxy = sqlCli({endpoint: proxy.base});
    const pid = PATIENT_ID(QIDO_FILES[0]);
    const p1 = await viaProxy.rows(`SELECT StudyInstanceUID, PatientName FROM google.healthcare.studies
        WHERE ${whereStore(DDS, DSTORE)} AND PatientID = '${pid}' ORDER BY StudyInstanceUID`);
    const expected = uniq(QIDO_FILES.filter((e) => PATIENT_ID(e) === pid).map((e) => e.study_uid));
    assert.deepEqual(p1.map((s) => s.StudyInstanceUID), expected);
    const searches = proxy.requests.filter((r) => r.url.includes('/dicomWeb/studies'));
    assert.equal(searches.length, 1, JSON.stringify(proxy.requests.map((r) => r.url)));
    assert.ok(new URL(searches[0].url, proxy.base).searchParams.get('PatientID') === pid,
        `PatientID not pushed down: ${searches[0].url}`);

    // Same answer as QIDO through the official client.
    const c = await fx.stores.searchForStudies({parent: storeName(DDS, DSTORE), dicomWebPath: 'studies', PatientID: pid},
        {responseType: 'json'});
    assert.deepEqual(c.data.map((d) => str(d, '0020000D')).sort(), expected);
    assert.deepEqual(p1.map((s) => s.PatientName), c.data.map((d) => str(d, '00100010')));

    // Series of one study: StudyInstanceUID pushed down.
    proxy.clear();
    const mr = QIDO_FILES.find((e) => e.file === 'qido-p2-mr-brain-s1.dcm');
    const series = await viaProxy.rows(`SELECT SeriesInstanceUID, Modality, NumberOfSeriesRelatedInstances
        FROM google.healthcare.series WHERE ${whereStore(DDS, DSTORE)} AND StudyInstanceUID = '${mr.study_uid}'
        ORDER BY SeriesInstanceUID`);
    const mrFiles = QIDO_FILES.filter((e) => e.study_uid === mr.study_uid);
    assert.deepEqual(series, uniq(mrFiles.map((e) => e.series_uid)).map((uid) => ({
      SeriesInstanceUID: uid, Modality: 'MR', NumberOfSeriesRelatedInstances: mrFiles.filter((e) => e.series_uid === uid).length,
    })));
    const sreq = proxy.requests.filter((r) => r.url.includes('/dicomWeb/'));
    assert.equal(sreq.length, 1);
    assert.equal(new URL(sreq[0].url, proxy.base).searchParams.get('StudyInstanceUID'), mr.study_uid);

    // Instances of two studies with IN: one search per value.
    proxy.clear();
    const two = uniq(QIDO_FILES.filter((e) => PATIENT_ID(e) === pid).map((e) => e.study_uid));
    const inst = await viaProxy.rows(`SELECT SOPInstanceUID, SOPClassUID, Rows, Columns, BitsAllocated, Modality, PatientID
        FROM google.healthcare.instances WHERE ${whereStore(DDS, DSTORE)}
        AND StudyInstanceUID IN (${two.map((u) => `'${u}'`).join(', ')}) ORDER BY SOPInstanceUID`);
    const instFiles = QIDO_FILES.filter((e) => two.includes(e.study_uid)).sort((a, b) => (a.sop_instance_uid < b.sop_instance_uid ? -1 : 1));
    assert.deepEqual(inst, instFiles.map((e) => ({
      SOPInstanceUID: e.sop_instance_uid, SOPClassUID: e.sop_class_uid, Rows: Number(e.rows), Columns: Number(e.cols),
      BitsAllocated: Number(e.bits_allocated), Modality: e.modality, PatientID: pid,
    })));
    const ireq = proxy.requests.filter((r) => r.url.includes('/dicomWeb/'));
    assert.deepEqual(ireq.map((r) => new URL(r.url, proxy.base).searchParams.get('StudyInstanceUID')).sort(), two);
  } finally {
    await proxy.close();
  }
});

test('DICOM: search EXEC with @PatientID, metadata and metrics resources', T, async () => {
  const pid = PATIENT_ID(QIDO_FILES.find((e) => e.file.startsWith('qido-p2-')));
  const expected = uniq(QIDO_FILES.filter((e) => PATIENT_ID(e) === pid).map((e) => e.study_uid));
  const r = await q().ok(`EXEC google.healthcare.dicom_stores.search_for_studies ${execArgs(DDS, DSTORE)}, @PatientID='${pid}'`,
      {format: 'json'});
  const found = JSON.parse(r.stdout);
  assert.deepEqual(found.map((s) => s.StudyInstanceUID).sort(), expected);
  for (const s of found) assert.equal(s.PatientID, pid);
  // Unknown or QIDO-only args on a non-search method are rejected with a pointer to SHOW METHODS.
  const bad = await q().fail(`EXEC google.healthcare.dicom_stores.get ${execArgs(DDS, DSTORE)}, @PatientID='${pid}'`);
  assert.match(bad.stderr, /unknown parameter @PatientID/);
  assert.match(bad.stderr, /SHOW METHODS IN google\.healthcare\.dicom_stores/);

  const mr = QIDO_FILES.filter((e) => e.file.startsWith('qido-p2-mr-brain-'));
  const study = mr[0].study_uid;
  const meta = await q().rows(`SELECT SOPInstanceUID, Modality, PatientID, Rows,
        json_extract(metadata, '$.00100010.Value[0].Alphabetic') AS pn
      FROM google.healthcare.studies_metadata WHERE ${whereStore(DDS, DSTORE)} AND studiesId = '${study}' ORDER BY SOPInstanceUID`);
  assert.deepEqual(meta, mr.map((e) => e.sop_instance_uid).sort().map((uid) => ({
    SOPInstanceUID: uid, Modality: 'MR', PatientID: pid, Rows: 16, pn: mr[0].patient_name,
  })));

  const [storeMetrics] = await q().rows(`SELECT * FROM google.healthcare.dicom_store_metrics WHERE ${whereStore(DDS, DSTORE)}`);
  const viaClient = (await fx.stores.getDICOMStoreMetrics({name: storeName(DDS, DSTORE)})).data;
  assert.equal(storeMetrics.name, storeName(DDS, DSTORE));
  for (const k of ['studyCount', 'seriesCount', 'instanceCount']) assert.equal(String(storeMetrics[k]), String(viaClient[k]), k);
  assert.equal(String(storeMetrics.instanceCount), String(QIDO_FILES.length));
  assert.equal(String(storeMetrics.studyCount), String(uniq(QIDO_FILES.map((e) => e.study_uid)).length));

  const [sm] = await q().rows(`SELECT instanceCount, seriesCount FROM google.healthcare.study_metrics
      WHERE ${whereStore(DDS, DSTORE)} AND studiesId = '${study}'`);
  assert.deepEqual([String(sm.instanceCount), String(sm.seriesCount)], [String(mr.length), String(uniq(mr.map((e) => e.series_uid)).length)]);

  const e = mr[0];
  const [info] = await q().rows(`SELECT referencedResource, json_extract(blobStorageInfo, '$.sizeBytes') AS size
      FROM google.healthcare.instances_storage_info WHERE ${whereStore(DDS, DSTORE)}
      AND studiesId = '${e.study_uid}' AND seriesId = '${e.series_uid}' AND instancesId = '${e.sop_instance_uid}'`);
  assert.equal(info.referencedResource, `${storeName(DDS, DSTORE)}/dicomWeb/studies/${e.study_uid}/series/${e.series_uid}/instances/${e.sop_instance_uid}`);
  assert.equal(String(info.size), String(e.size));
});

test('DICOM: /*+ AWAIT */ study deletes (EXEC studies.delete and DELETE FROM studies) report the operation', T, async () => {
  const carotid = QIDO_FILES.find((e) => e.file === 'qido-p2-mr-carotid.dcm');
  const r = await q().ok(`EXEC /*+ AWAIT */ google.healthcare.studies.delete ${execArgs(DDS, DSTORE)}, @studiesId='${carotid.study_uid}'`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`^operation ${datasetName(DDS)}/operations/\\S+: done`, 'm'));
  assert.match(r.stderr, new RegExp(`^${COMPLETED}$`, 'm'));
  await expectApiError(fx.stores.studies.retrieveMetadata({parent: storeName(DDS, DSTORE),
    dicomWebPath: `studies/${carotid.study_uid}/metadata`}, {responseType: 'json'}), 404);

  const ct = QIDO_FILES.find((e) => e.file === 'qido-p1-ct-a.dcm');
  const d = await q().ok(`DELETE /*+ AWAIT */ FROM google.healthcare.studies WHERE ${whereStore(DDS, DSTORE)} AND studiesId = '${ct.study_uid}'`);
  assert.match(d.stderr, /: done/);
  assert.match(d.stderr, new RegExp(`^${COMPLETED}$`, 'm'));

  const left = await q().rows(`SELECT StudyInstanceUID FROM google.healthcare.studies WHERE ${whereStore(DDS, DSTORE)} ORDER BY 1`);
  const expected = uniq(QIDO_FILES.map((e) => e.study_uid)).filter((u) => u !== carotid.study_uid && u !== ct.study_uid);
  assert.deepEqual(left.map((s) => s.StudyInstanceUID), expected);
  const c = await fx.stores.searchForStudies({parent: storeName(DDS, DSTORE), dicomWebPath: 'studies'}, {responseType: 'json'});
  assert.deepEqual(c.data.map((x) => str(x, '0020000D')).sort(), expected);
});

// ---------------------------------------------------------------------------------------------
// Errors users can act on

test('errors: missing required parameters name them and point at SHOW METHODS (exit 1, nothing on stdout)', T, async () => {
  const r = await q().fail(`SELECT name FROM google.healthcare.dicom_stores WHERE projectsId = '${PROJECT}'`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /SHOW METHODS IN google\.healthcare\.dicom_stores/);
  assert.match(r.stderr, /locationsId/);
  assert.match(r.stderr, /datasetsId/);

  const e = await q().fail(`EXEC google.healthcare.dicom_stores.get @projectsId='${PROJECT}', @locationsId='${LOCATION}'`);
  assert.equal(e.stdout, '');
  assert.match(e.stderr, /SHOW METHODS/);
  assert.match(e.stderr, /datasetsId/);
  assert.match(e.stderr, /dicomStoresId/);

  const i = await q().fail(`INSERT INTO google.healthcare.dicom_stores (projectsId, dicomStoreId) VALUES ('${PROJECT}', 'x')`);
  assert.match(i.stderr, /SHOW METHODS/);
  assert.match(i.stderr, /locationsId/);

  const m = await q().fail(`EXEC google.healthcare.dicom_stores.no_such_method ${execArgs(DS, 'x')}`);
  assert.match(m.stderr, /no_such_method/);
  assert.match(m.stderr, /SHOW METHODS IN google\.healthcare\.dicom_stores/);
});

test('errors: an API error (404 dataset) prints the API message on stderr, exit 1, nothing on stdout', T, async () => {
  const r = await q().fail(`SELECT name FROM google.healthcare.dicom_stores WHERE ${whereDs('no-such-dataset')}`, {format: 'json'});
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /not found/i);
  assert.ok(r.stderr.includes(datasetName('no-such-dataset')), r.stderr);
  // The message is the API's own.
  const api = await fx.raw('GET', `/v1/${datasetName('no-such-dataset')}/dicomStores`);
  assert.equal(api.status, 404);
  assert.ok(r.stderr.includes(api.json.error.message), `stderr ${JSON.stringify(r.stderr)} lacks ${api.json.error.message}`);

  // A failing statement stops the script: the first result is printed, the third never runs.
  const s = await q().fail(`SELECT 1 AS a; SELECT name FROM google.healthcare.dicom_stores WHERE ${whereDs('no-such-dataset')};
      INSERT INTO google.healthcare.dicom_stores (projectsId, locationsId, datasetsId, dicomStoreId) VALUES ('${PROJECT}', '${LOCATION}', '${DS}', 'never')`,
  {format: 'csv'});
  assert.equal(s.stdout, 'a\n1\n');
  await expectApiError(fx.stores.get({name: sn('never')}), 404, 'NOT_FOUND');
});

test('errors: a syntax error reports its position (1-based, in the script as written), exit 1', T, async () => {
  const r = await q().fail('SELEC name FROM google.healthcare.dicom_stores');
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /position 1\b/);
  assert.match(r.stderr, /SELEC/);
  const stmt = 'SELECT name FROM google.healthcare.datasets WHERE AND';
  const p = await q().fail(stmt);
  const m = /position (\d+)/.exec(p.stderr);
  assert.ok(m, p.stderr);
  assert.equal(Number(m[1]), stmt.indexOf('AND') + 1, p.stderr);
  // In a script the position counts from the start of the script.
  const script = `SELECT 1 AS a;\n${stmt}`;
  const s = await q().fail(script, {format: 'csv'});
  assert.equal(Number(/position (\d+)/.exec(s.stderr)[1]), script.lastIndexOf('AND') + 1, s.stderr);
});

test('errors: a script stops at the failing statement; those before it have run, none after', T, async () => {
  const r = await q().fail(`INSERT INTO google.healthcare.dicom_stores (projectsId, locationsId, datasetsId, dicomStoreId)
      VALUES ('${PROJECT}', '${LOCATION}', '${DS}', 'before-syntax-error');
      SELEC name FROM google.healthcare.dicom_stores;
      INSERT INTO google.healthcare.dicom_stores (projectsId, locationsId, datasetsId, dicomStoreId)
      VALUES ('${PROJECT}', '${LOCATION}', '${DS}', 'after-syntax-error')`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /position \d+/);
  await fx.stores.get({name: sn('before-syntax-error')});
  await expectApiError(fx.stores.get({name: sn('after-syntax-error')}), 404, 'NOT_FOUND');
  // An error the pre-parser finds (here an unterminated string) stops the script before anything runs.
  const u = await q().fail(`INSERT INTO google.healthcare.dicom_stores (projectsId, locationsId, datasetsId, dicomStoreId)
      VALUES ('${PROJECT}', '${LOCATION}', '${DS}', 'before-open-string');
      SELECT 'open`);
  assert.match(u.stderr, /unterminated/);
  await expectApiError(fx.stores.get({name: sn('before-open-string')}), 404, 'NOT_FOUND');
});

test('errors: bad -o exits 2; unreachable endpoint and unreadable -i are clear', T, async () => {
  const o = await q().fail('SHOW SERVICES IN google', {format: 'yaml'}, 2);
  assert.equal(o.stdout, '');
  assert.match(o.stderr, /yaml/);

  const port = await closedPort();
  const u = await sqlCli({endpoint: `http://127.0.0.1:${port}`}).run(`SELECT name FROM google.healthcare.datasets WHERE ${whereLoc()}`);
  assert.equal(u.timedOut, false);
  assert.notEqual(u.code, 0, describeRun(u));
  assert.equal(u.stdout, '');
  assert.ok(u.stderr.includes(`127.0.0.1:${port}`) || u.stderr.includes(`port ${port}`), u.stderr);
  assert.match(u.stderr, /connect/i);

  const i = await q().run(undefined, {args: ['-i', path.join(tmp, 'no-such-file.sql')]});
  assert.notEqual(i.code, 0);
  assert.equal(i.stdout, '');
  assert.match(i.stderr, /no-such-file\.sql/);
});

test('errors: unknown options and invalid option values exit 2', T, async () => {
  for (const args of [['sql', '--no-such-flag', 'SELECT 1'], ['sql', '--page-limit', '-1', 'SELECT 1'],
    ['shell', '--no-such-flag']]) {
    const r = await runCli(args);
    assertExit(r, 2, args.join(' '));
    assert.equal(r.stdout, '');
    assert.notEqual(r.stderr, '');
  }
});

// ---------------------------------------------------------------------------------------------
// Input modes

test('input: -i FILE, stdin, -i - (comments and multi-line statements)', T, async () => {
  const script = `-- a comment line
SELECT name
  FROM google.healthcare.dicom_stores   /* inline comment */
  WHERE ${whereStore(DS, 'labelled')};
SELECT 'x;y' AS "semi;colon";
`;
  const file = path.join(tmp, 'script.sql');
  fs.writeFileSync(file, script);
  const expected = `name\n${sn('labelled')}\nsemi;colon\nx;y\n`;
  const viaFile = await q().ok(undefined, {format: 'csv', args: ['-i', file]});
  assert.equal(viaFile.stdout, expected);
  const viaStdin = await q().ok(undefined, {format: 'csv', input: script});
  assert.equal(viaStdin.stdout, expected);
  const viaDash = await q().ok(undefined, {format: 'csv', args: ['-i', '-'], input: script});
  assert.equal(viaDash.stdout, expected);
  // Empty input: nothing to do, success.
  const empty = await q().ok(undefined, {input: ''});
  assert.equal(empty.stdout, '');
});

test('shell: piped multi-line statements; a failing one in the middle does not stop it (exit 0)', T, async () => {
  const input = [
    'SELECT name',
    '  FROM google.healthcare.dicom_stores',
    `  WHERE ${whereStore(DS, 'labelled')};`,
    `SELECT name FROM google.healthcare.dicom_stores WHERE ${whereDs('no-such-dataset')};`,
    '',
    'SELEC oops;',
    `INSERT INTO google.healthcare.dicom_stores (projectsId, locationsId, datasetsId, dicomStoreId)`,
    `  VALUES ('${PROJECT}', '${LOCATION}', '${DS}', 'from-shell');`,
    "SELECT 'last' AS x",
  ].join('\n');
  const r = await q().shell(input, {format: 'csv'});
  assertExit(r, 0, 'shell');
  assert.equal(r.stdout, `name\n${sn('labelled')}\nx\nlast\n`);
  assert.match(r.stderr, /not found/i);
  assert.match(r.stderr, /position/);
  assert.match(r.stderr, new RegExp(DESPATCHED));
  assert.equal((await fx.stores.get({name: sn('from-shell')})).data.name, sn('from-shell'));

  // exit stops reading.
  const quit = await q().shell("SELECT 1 AS a;\nexit\nSELECT 2 AS b;\n", {format: 'csv'});
  assertExit(quit, 0, 'shell exit');
  assert.equal(quit.stdout, 'a\n1\n');
});

// ---------------------------------------------------------------------------------------------
// In-process (--data DIR, no server), then a server on that DIR

test('in-process --data: every statement kind works without a server; a server on the dir then serves the data', {timeout: 60_000}, async () => {
  const dir = makeTempDir('dicomstore-sql-inproc-');
  let server;
  try {
    const local = sqlCli({data: dir});
    const ds = 'local-ds';
    const create = await local.ok(`INSERT /*+ AWAIT */ INTO google.healthcare.datasets (projectsId, locationsId, datasetId)
        VALUES ('${PROJECT}', '${LOCATION}', '${ds}')`);
    assert.match(create.stderr, /^operation .*\/operations\/\S+: done/m);
    assert.match(create.stderr, new RegExp(`^${COMPLETED}$`, 'm'));
    await local.ok(`INSERT INTO google.healthcare.dicom_stores (projectsId, locationsId, datasetsId, dicomStoreId, data__labels)
        VALUES ('${PROJECT}', '${LOCATION}', '${ds}', 'a', '{"env":"dev"}'), ('${PROJECT}', '${LOCATION}', '${ds}', 'b', '{"env":"prod"}');
        INSERT INTO google.healthcare.dicom_stores (projectsId, locationsId, datasetsId, dicomStoreId, data__labels)
        SELECT '${PROJECT}', '${LOCATION}', '${ds}', 'copy', labels FROM google.healthcare.dicom_stores WHERE ${whereStore(ds, 'a')};
        UPDATE google.healthcare.dicom_stores SET data__labels = '{"env":"stage"}' WHERE ${whereStore(ds, 'b')} AND updateMask = 'labels';
        INSERT INTO google.healthcare.dicom_stores (projectsId, locationsId, datasetsId, dicomStoreId) VALUES ('${PROJECT}', '${LOCATION}', '${ds}', 'gone');
        DELETE FROM google.healthcare.dicom_stores WHERE ${whereStore(ds, 'gone')};
        REPLACE google.healthcare.dicom_stores_iam_policies
          SET data__policy = '{"bindings":[{"role":"roles/healthcare.dicomViewer","members":["user:local@example.com"]}]}'
          WHERE ${whereStore(ds, 'a')}`);
    const listed = await local.rows(`SELECT name, json_extract(labels, '$.env') AS env FROM google.healthcare.dicom_stores
        WHERE ${whereDs(ds)} ORDER BY name`);
    assert.deepEqual(listed, [
      {name: storeName(ds, 'a'), env: 'dev'}, {name: storeName(ds, 'b'), env: 'stage'}, {name: storeName(ds, 'copy'), env: 'dev'},
    ]);
    const viaLong = await local.rows(`EXEC /*+ SHOWRESULTS */ google.healthcare.dicom_stores.projects_locations_datasets_dicomStores_get ${execArgs(ds, 'a')}`);
    const viaShort = await local.rows(`EXEC /*+ SHOWRESULTS */ google.healthcare.dicom_stores.get ${execArgs(ds, 'a')}`);
    assert.deepEqual(viaLong, [{name: storeName(ds, 'a'), labels: '{"env":"dev"}'}]);
    assert.deepEqual(viaShort, viaLong);

    // DICOM in-process.
    const up = path.join(dir, '..', `${path.basename(dir)}-upload`);
    fs.mkdirSync(up);
    try {
      const files = QIDO_FILES.filter((e) => e.file.startsWith('qido-p1-'));
      copyCorpusFiles(files.map((e) => e.file), up);
      const stow = await local.rows(`EXEC google.healthcare.dicom_stores.store_instances ${execArgs(ds, 'a')}, @file='${up}'`);
      assert.equal(stow.filter((r) => r.status === 'stored').length, files.length);
      // Its RetrieveURL has no server to name; it must at least carry the resource path.
      for (const r of stow) assert.ok(r.RetrieveURL.endsWith(`/v1/${storeName(ds, 'a')}/dicomWeb/studies/${files.find((e) => e.sop_instance_uid === r.SOPInstanceUID).study_uid}/series/${files.find((e) => e.sop_instance_uid === r.SOPInstanceUID).series_uid}/instances/${r.SOPInstanceUID}`), r.RetrieveURL);
      const studies = await local.rows(`SELECT StudyInstanceUID, NumberOfStudyRelatedInstances AS n FROM google.healthcare.studies
          WHERE ${whereStore(ds, 'a')} AND PatientID = '${PATIENT_ID(files[0])}' ORDER BY 1`);
      assert.deepEqual(studies, uniq(files.map((e) => e.study_uid)).map((u) => ({
        StudyInstanceUID: u, n: files.filter((e) => e.study_uid === u).length,
      })));
    } finally {
      removeDir(up);
    }

    // Golden output is the same in-process as against the server.
    await local.ok(GOLDEN_SETUP);
    for (const format of ['table', 'csv']) {
      const r = await local.ok(GOLDEN_QUERY, {format});
      assertGolden(`stores.${format}.txt`, r.stdout, {update: false});
    }

    // A server on the same directory serves what SQL wrote.
    server = await startServer({dataDir: dir});
    const hc = makeClient(server.base);
    const stores = hc.projects.locations.datasets.dicomStores;
    const all = (await stores.list({parent: datasetName(ds)})).data.dicomStores;
    assert.deepEqual(all.map((s) => s.name).sort(), ['a', 'b', 'copy'].map((id) => storeName(ds, id)));
    assert.deepEqual((await stores.get({name: storeName(ds, 'b')})).data, {name: storeName(ds, 'b'), labels: {env: 'stage'}});
    assert.deepEqual((await stores.getIamPolicy({resource: storeName(ds, 'a')})).data.bindings,
        [{role: 'roles/healthcare.dicomViewer', members: ['user:local@example.com']}]);
    const qido = await stores.searchForInstances({parent: storeName(ds, 'a'), dicomWebPath: 'instances'}, {responseType: 'json'});
    assert.deepEqual(qido.data.map((x) => str(x, '00080018')).sort(),
        uniq(QIDO_FILES.filter((e) => e.file.startsWith('qido-p1-')).map((e) => e.sop_instance_uid)));
    assert.equal((await hc.projects.locations.datasets.get({name: datasetName(GOLDEN_DS)})).data.name, datasetName(GOLDEN_DS));

    // And in-process SQL next to the running server sees what the client adds.
    await stores.create({parent: datasetName(ds), dicomStoreId: 'by-client', requestBody: {labels: {env: 'client'}}});
    const seen = await local.rows(`SELECT labels FROM google.healthcare.dicom_stores WHERE ${whereStore(ds, 'by-client')}`);
    assert.deepEqual(seen, [{labels: '{"env":"client"}'}]);
  } finally {
    if (server) await stopAndCheck(server);
    removeDir(dir);
  }
});
