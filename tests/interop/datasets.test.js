'use strict';
// Datasets (spec §4): create as an already-done Operation, get, list, patch, delete.
const assert = require('node:assert/strict');
const {test} = require('node:test');
const {
  useServer, expectApiError, assertTimestamp, listAll, PARENT, datasetName, storeName,
} = require('./lib/server');

const fx = useServer();
const T = {timeout: 30_000};

const OP_NAME = /^(.+)\/operations\/(\d+)$/;

function checkCreateOperation(op, id, parent = PARENT, timeZone) {
  const name = datasetName(id, parent);
  const m = OP_NAME.exec(op.name);
  assert.ok(m, `operation name ${op.name} is not <dataset>/operations/<digits>`);
  assert.equal(m[1], name, 'operation lives under the new dataset');
  assert.equal(op.done, true);
  assert.equal(op.error, undefined);
  assert.deepEqual(Object.keys(op).sort(), ['done', 'metadata', 'name', 'response']);
  const md = op.metadata;
  assert.equal(Object.keys(md)[0], '@type', '@type is the first key of the Any');
  assert.equal(md['@type'], 'type.googleapis.com/google.cloud.healthcare.v1.OperationMetadata');
  assert.equal(md.apiMethodName, 'google.cloud.healthcare.v1.dataset.DatasetService.CreateDataset');
  const ct = assertTimestamp(md.createTime, 'metadata.createTime');
  const et = assertTimestamp(md.endTime, 'metadata.endTime');
  assert.ok(ct <= et, 'createTime <= endTime');
  assert.notEqual(md.cancelRequested, false, 'false booleans are omitted');
  const expected = {'@type': 'type.googleapis.com/google.cloud.healthcare.v1.dataset.Dataset', name};
  if (timeZone) expected.timeZone = timeZone;
  assert.deepEqual(op.response, expected);
  assert.equal(Object.keys(op.response)[0], '@type');
  return m[2];
}

test('create returns a done Operation; get, operations.get and operations.list agree', T, async () => {
  const r = await fx.datasets.create({parent: PARENT, datasetId: 'ds-create', requestBody: {}});
  assert.equal(r.status, 200);
  checkCreateOperation(r.data, 'ds-create');

  const g = await fx.datasets.get({name: datasetName('ds-create')});
  assert.deepEqual(g.data, {name: datasetName('ds-create')}, 'defaults omitted: exactly {name}');

  const og = await fx.operations.get({name: r.data.name});
  assert.deepEqual(og.data, r.data, 'operations.get returns the same Operation');

  const ol = await fx.operations.list({name: datasetName('ds-create')});
  assert.ok(Array.isArray(ol.data.operations), JSON.stringify(ol.data));
  assert.ok(ol.data.operations.some((o) => o.name === r.data.name), 'create op is listed');
  assert.equal(ol.data.nextPageToken, undefined);
});

test('create with timeZone echoes it; operation ids are distinct', T, async () => {
  const a = await fx.datasets.create({parent: PARENT, datasetId: 'ds-tz', requestBody: {timeZone: 'Europe/Paris'}});
  const idA = checkCreateOperation(a.data, 'ds-tz', PARENT, 'Europe/Paris');
  const g = await fx.datasets.get({name: datasetName('ds-tz')});
  assert.deepEqual(g.data, {name: datasetName('ds-tz'), timeZone: 'Europe/Paris'});
  const b = await fx.datasets.create({parent: PARENT, datasetId: 'ds-tz2', requestBody: {timeZone: 'UTC'}});
  const idB = checkCreateOperation(b.data, 'ds-tz2', PARENT, 'UTC');
  assert.notEqual(idA, idB);
});

test('create: name in body is ignored', T, async () => {
  const r = await fx.datasets.create({
    parent: PARENT, datasetId: 'ds-named',
    requestBody: {name: `${PARENT}/datasets/something-else`},
  });
  checkCreateOperation(r.data, 'ds-named');
  await expectApiError(fx.datasets.get({name: `${PARENT}/datasets/something-else`}), 404, 'NOT_FOUND');
  const g = await fx.datasets.get({name: datasetName('ds-named')});
  assert.equal(g.data.name, datasetName('ds-named'));
});

test('create duplicate -> 409 ALREADY_EXISTS, original unchanged', T, async () => {
  await fx.datasets.create({parent: PARENT, datasetId: 'ds-dup', requestBody: {timeZone: 'Asia/Tokyo'}});
  await expectApiError(
      fx.datasets.create({parent: PARENT, datasetId: 'ds-dup', requestBody: {timeZone: 'UTC'}}), 409, 'ALREADY_EXISTS');
  const g = await fx.datasets.get({name: datasetName('ds-dup')});
  assert.deepEqual(g.data, {name: datasetName('ds-dup'), timeZone: 'Asia/Tokyo'});
  const ol = await fx.operations.list({name: datasetName('ds-dup')});
  assert.equal(ol.data.operations.length, 1, 'failed create left no operation');
});

test('dataset ids: Unicode and 256 chars valid; bad ones -> 400', T, async () => {
  for (const id of ['données', '数据集', 'a', 'A.b_c-9', 'x'.repeat(256)]) {
    const r = await fx.datasets.create({parent: PARENT, datasetId: id, requestBody: {}});
    checkCreateOperation(r.data, id);
    const g = await fx.datasets.get({name: datasetName(id)});
    assert.deepEqual(g.data, {name: datasetName(id)}, `get ${id}`);
  }
  for (const id of ['bad id', 'a/b', 'x'.repeat(257), 'a:b', 'a%b', 'semi;colon', 'tab\tid', '']) {
    await expectApiError(fx.datasets.create({parent: PARENT, datasetId: id, requestBody: {}}),
        400, 'INVALID_ARGUMENT', `datasetId ${JSON.stringify(id)}`);
  }
  await expectApiError(fx.datasets.create({parent: PARENT, requestBody: {}}), 400, 'INVALID_ARGUMENT', 'no datasetId');
  const all = await listAll((p) => fx.datasets.list(p), {parent: PARENT}, 'datasets');
  for (const d of all.items) {
    assert.ok(!/bad id|a\/b|a:b|semi|tab/.test(d.name), `rejected dataset was created: ${d.name}`);
    assert.notEqual(d.name, datasetName('x'.repeat(257)));
  }
});

test('get missing dataset -> 404 NOT_FOUND', T, async () => {
  await expectApiError(fx.datasets.get({name: datasetName('no-such-dataset')}), 404, 'NOT_FOUND');
  await expectApiError(fx.datasets.get({name: 'projects/other/locations/l/datasets/ds-create'}), 404, 'NOT_FOUND',
      'dataset of another project');
});

test('list: ordered by id, paginated, nextPageToken absent on last page, isolated per location', T, async () => {
  const parent = `projects/interop-project/locations/list-loc`;
  const ids = ['m5', 'b2', 'z7', 'a1', 'k4', 'c3', 'y6'];
  for (const id of ids) await fx.datasets.create({parent, datasetId: id, requestBody: {}});
  // Another location must not leak into this list.
  await fx.datasets.create({parent: 'projects/interop-project/locations/other-loc', datasetId: 'a0', requestBody: {}});
  const sorted = [...ids].sort();

  const full = await fx.datasets.list({parent});
  assert.deepEqual(full.data.datasets.map((d) => d.name), sorted.map((id) => `${parent}/datasets/${id}`));
  assert.ok(!('nextPageToken' in full.data), 'single page: nextPageToken absent');
  for (const d of full.data.datasets) assert.deepEqual(Object.keys(d), ['name']);

  const {items, pages} = await listAll((p) => fx.datasets.list(p), {parent, pageSize: 3}, 'datasets');
  assert.deepEqual(pages.map((p) => p.datasets.length), [3, 3, 1]);
  assert.deepEqual(items.map((d) => d.name), sorted.map((id) => `${parent}/datasets/${id}`));

  const exact = await listAll((p) => fx.datasets.list(p), {parent, pageSize: 7}, 'datasets');
  assert.equal(exact.items.length, 7);
  assert.ok(exact.pages.length <= 2);
  if (exact.pages.length === 2) assert.deepEqual(exact.pages[1], {}, 'an extra last page must be empty');

  const r1000 = await fx.datasets.list({parent, pageSize: 1000});
  assert.equal(r1000.data.datasets.length, 7);

  const empty = await fx.datasets.list({parent: 'projects/interop-project/locations/empty-loc'});
  assert.deepEqual(empty.data, {}, 'empty list is {}');
});

test('list: default page size is 100; pageSize 0 means the default', T, async () => {
  const parent = 'projects/interop-project/locations/many-loc';
  const ids = Array.from({length: 101}, (_, i) => `ds-${String(i).padStart(3, '0')}`);
  for (let i = 0; i < ids.length; i += 10) {
    await Promise.all(ids.slice(i, i + 10).map((id) => fx.datasets.create({parent, datasetId: id, requestBody: {}})));
  }
  for (const params of [{parent}, {parent, pageSize: 0}]) {
    const first = await fx.datasets.list(params);
    assert.equal(first.data.datasets.length, 100, JSON.stringify(params));
    assert.ok(first.data.nextPageToken, 'a second page exists');
    const second = await fx.datasets.list({...params, pageToken: first.data.nextPageToken});
    assert.deepEqual(second.data, {datasets: [{name: `${parent}/datasets/ds-100`}]});
  }
});

test('list: bad pageSize / pageToken -> 400', T, async () => {
  for (const pageSize of [1001, -1, 100000]) {
    await expectApiError(fx.datasets.list({parent: PARENT, pageSize}), 400, 'INVALID_ARGUMENT', `pageSize ${pageSize}`);
  }
  for (const pageToken of ['garbage', 'AAAA', '%%%', 'x'.repeat(300)]) {
    await expectApiError(fx.datasets.list({parent: PARENT, pageToken}), 400, 'INVALID_ARGUMENT', `pageToken ${pageToken}`);
  }
});

test('list: a page token from one collection is not valid for another', T, async () => {
  const parent = `projects/interop-project/locations/list-loc`;
  const r = await fx.datasets.list({parent, pageSize: 1});
  assert.ok(r.data.nextPageToken);
  await expectApiError(fx.datasets.list({parent: 'projects/interop-project/locations/other-loc', pageToken: r.data.nextPageToken}),
      400, 'INVALID_ARGUMENT');
  await expectApiError(fx.stores.list({parent: datasetName('ds-create'), pageToken: r.data.nextPageToken}),
      400, 'INVALID_ARGUMENT');
});

test('patch timeZone (camelCase and snake_case masks)', T, async () => {
  const name = datasetName('ds-patch');
  await fx.datasets.create({parent: PARENT, datasetId: 'ds-patch', requestBody: {}});
  let r = await fx.datasets.patch({name, updateMask: 'timeZone', requestBody: {timeZone: 'America/New_York'}});
  assert.deepEqual(r.data, {name, timeZone: 'America/New_York'});
  assert.deepEqual((await fx.datasets.get({name})).data, {name, timeZone: 'America/New_York'});

  r = await fx.datasets.patch({name, updateMask: 'time_zone', requestBody: {timeZone: 'Australia/Sydney'}});
  assert.deepEqual(r.data, {name, timeZone: 'Australia/Sydney'});

  // Masked but absent in body: cleared (default omitted).
  r = await fx.datasets.patch({name, updateMask: 'timeZone', requestBody: {}});
  assert.deepEqual(r.data, {name});
  assert.deepEqual((await fx.datasets.get({name})).data, {name});

  // name in body is not a change of identity.
  r = await fx.datasets.patch({name, updateMask: 'timeZone', requestBody: {name: datasetName('elsewhere'), timeZone: 'UTC'}});
  assert.deepEqual(r.data, {name, timeZone: 'UTC'});
  await expectApiError(fx.datasets.get({name: datasetName('elsewhere')}), 404, 'NOT_FOUND');
});

test('patch: missing/empty/unknown mask, bad zone -> 400 and nothing changes', T, async () => {
  const name = datasetName('ds-patch-bad');
  await fx.datasets.create({parent: PARENT, datasetId: 'ds-patch-bad', requestBody: {timeZone: 'Europe/Berlin'}});
  const before = (await fx.datasets.get({name})).data;
  await expectApiError(fx.datasets.patch({name, requestBody: {timeZone: 'UTC'}}), 400, 'INVALID_ARGUMENT', 'no mask');
  await expectApiError(fx.datasets.patch({name, updateMask: '', requestBody: {timeZone: 'UTC'}}), 400, 'INVALID_ARGUMENT', 'empty mask');
  for (const mask of ['name', 'labels', 'foo', 'timeZone,foo', 'timezone', 'timeZone,']) {
    await expectApiError(fx.datasets.patch({name, updateMask: mask, requestBody: {timeZone: 'UTC'}}),
        400, 'INVALID_ARGUMENT', `mask ${mask}`);
  }
  for (const tz of ['Mars/Olympus_Mons', 'not a zone', 'Europe/', '../../etc/passwd']) {
    await expectApiError(fx.datasets.patch({name, updateMask: 'timeZone', requestBody: {timeZone: tz}}),
        400, 'INVALID_ARGUMENT', `timeZone ${tz}`);
  }
  await expectApiError(fx.datasets.create({parent: PARENT, datasetId: 'ds-bad-tz', requestBody: {timeZone: 'Mars/Olympus_Mons'}}),
      400, 'INVALID_ARGUMENT', 'create with bad timeZone');
  await expectApiError(fx.datasets.get({name: datasetName('ds-bad-tz')}), 404, 'NOT_FOUND');
  assert.deepEqual((await fx.datasets.get({name})).data, before);
  await expectApiError(fx.datasets.patch({name: datasetName('no-such'), updateMask: 'timeZone', requestBody: {timeZone: 'UTC'}}),
      404, 'NOT_FOUND');
});

test('delete removes the dataset and its stores', T, async () => {
  const name = datasetName('ds-del');
  await fx.datasets.create({parent: PARENT, datasetId: 'ds-del', requestBody: {}});
  await fx.stores.create({parent: name, dicomStoreId: 's1', requestBody: {labels: {a: 'b'}}});
  await fx.stores.create({parent: name, dicomStoreId: 's2', requestBody: {}});
  const d = await fx.datasets.delete({name});
  assert.equal(d.status, 200);
  assert.deepEqual(d.data, {});
  await expectApiError(fx.datasets.get({name}), 404, 'NOT_FOUND');
  await expectApiError(fx.stores.get({name: storeName('ds-del', 's1')}), 404, 'NOT_FOUND');
  await expectApiError(fx.stores.get({name: storeName('ds-del', 's2')}), 404, 'NOT_FOUND');
  await expectApiError(fx.stores.list({parent: name}), 404, 'NOT_FOUND');
  await expectApiError(fx.operations.list({name}), 404, 'NOT_FOUND');
  await expectApiError(fx.datasets.delete({name}), 404, 'NOT_FOUND', 'second delete');
  const all = await listAll((p) => fx.datasets.list(p), {parent: PARENT}, 'datasets');
  assert.ok(!all.items.some((x) => x.name === name));

  // Recreating the same id gives an empty dataset: the old stores are gone.
  await fx.datasets.create({parent: PARENT, datasetId: 'ds-del', requestBody: {}});
  const l = await fx.stores.list({parent: name});
  assert.deepEqual(l.data, {});
  await expectApiError(fx.stores.get({name: storeName('ds-del', 's1')}), 404, 'NOT_FOUND');
  const ops = await fx.operations.list({name});
  assert.equal(ops.data.operations.length, 1, 'only the new create operation');
});
