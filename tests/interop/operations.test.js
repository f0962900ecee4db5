'use strict';
// Long-running operations under a dataset (spec §9): get, list (filter done=…, paging),
// cancel of a finished operation.
const assert = require('node:assert/strict');
const {test} = require('node:test');
const {useServer, expectApiError, listAll, PARENT, datasetName} = require('./lib/server');

const T = {timeout: 30_000};
const DS = 'ops-ds';
let createOp;

const fx = useServer({setup: async () => {
  createOp = (await fx.datasets.create({parent: PARENT, datasetId: DS, requestBody: {}})).data;
  await fx.datasets.create({parent: PARENT, datasetId: 'ops-other', requestBody: {}});
}});

test('get returns the create operation; unknown ids -> 404', T, async () => {
  const r = await fx.operations.get({name: createOp.name});
  assert.equal(r.status, 200);
  assert.deepEqual(r.data, createOp);
  const id = createOp.name.split('/').pop();
  assert.match(id, /^\d+$/);
  await expectApiError(fx.operations.get({name: `${datasetName(DS)}/operations/1234567890123456789`}), 404, 'NOT_FOUND');
  await expectApiError(fx.operations.get({name: `${datasetName(DS)}/operations/${id}0`}), 404, 'NOT_FOUND');
  await expectApiError(fx.operations.get({name: `${datasetName('ops-other')}/operations/${id}`}), 404, 'NOT_FOUND',
      'operation id looked up under another dataset');
  await expectApiError(fx.operations.get({name: `${datasetName('no-such-ds')}/operations/${id}`}), 404, 'NOT_FOUND');
});

test('list: all, filter done=true/false, paging', T, async () => {
  const all = await fx.operations.list({name: datasetName(DS)});
  assert.deepEqual(all.data, {operations: [createOp]});

  const doneTrue = await fx.operations.list({name: datasetName(DS), filter: 'done=true'});
  assert.deepEqual(doneTrue.data, {operations: [createOp]});
  const doneFalse = await fx.operations.list({name: datasetName(DS), filter: 'done=false'});
  assert.deepEqual(doneFalse.data, {}, 'no running operations: empty list is {}');

  const {items, pages} = await listAll((p) => fx.operations.list(p), {name: datasetName(DS), pageSize: 1}, 'operations');
  assert.deepEqual(items, [createOp]);
  assert.ok(pages.length <= 2);

  const other = await fx.operations.list({name: datasetName('ops-other')});
  assert.equal(other.data.operations.length, 1);
  assert.notEqual(other.data.operations[0].name, createOp.name);
  assert.ok(other.data.operations[0].name.startsWith(`${datasetName('ops-other')}/operations/`));

  await expectApiError(fx.operations.list({name: datasetName('no-such-ds')}), 404, 'NOT_FOUND');
  await expectApiError(fx.operations.list({name: datasetName(DS), pageToken: 'bogus-token'}), 400, 'INVALID_ARGUMENT');
  await expectApiError(fx.operations.list({name: datasetName(DS), pageSize: -1}), 400, 'INVALID_ARGUMENT');
});

test('cancel a finished operation -> {} and nothing changes; missing -> 404', T, async () => {
  const r = await fx.operations.cancel({name: createOp.name});
  assert.equal(r.status, 200);
  assert.deepEqual(r.data, {});
  const again = await fx.operations.cancel({name: createOp.name, requestBody: {}});
  assert.deepEqual(again.data, {});
  const g = await fx.operations.get({name: createOp.name});
  assert.deepEqual(g.data, createOp, 'finished operation unchanged by cancel');
  await expectApiError(fx.operations.cancel({name: `${datasetName(DS)}/operations/1234567890123456789`}), 404, 'NOT_FOUND');
  await expectApiError(fx.operations.cancel({name: `${datasetName('no-such-ds')}/operations/1`}), 404, 'NOT_FOUND');
});

test('operations of a deleted dataset are gone', T, async () => {
  const op = (await fx.datasets.create({parent: PARENT, datasetId: 'ops-gone', requestBody: {}})).data;
  await fx.datasets.delete({name: datasetName('ops-gone')});
  await expectApiError(fx.operations.get({name: op.name}), 404, 'NOT_FOUND');
  await expectApiError(fx.operations.list({name: datasetName('ops-gone')}), 404, 'NOT_FOUND');
});
