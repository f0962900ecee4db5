'use strict';
// Everything created survives a SIGTERM + restart on the same data dir.
const assert = require('node:assert/strict');
const {test} = require('node:test');
const {useServer, expectApiError, listAll, PARENT, datasetName, storeName} = require('./lib/server');

const fx = useServer();

test('datasets, stores, labels, configs, IAM policies and operations persist across restart', {timeout: 45_000}, async () => {
  const DS = 'persist-ds';
  const DSN = datasetName(DS);
  const op = (await fx.datasets.create({parent: PARENT, datasetId: DS, requestBody: {timeZone: 'Europe/Rome'}})).data;
  await fx.datasets.create({parent: PARENT, datasetId: 'persist-ünï', requestBody: {}});
  const full = {
    labels: {team: 'imaging', tier: 'gold'},
    notificationConfig: {pubsubTopic: 'projects/p/topics/t', sendForBulkImport: true},
    notificationConfigs: [{pubsubTopic: 'projects/p/topics/t2'}],
    streamConfigs: [{bigqueryDestination: {tableUri: 'bq://a.b.c', writeDisposition: 'WRITE_EMPTY'}}],
  };
  await fx.stores.create({parent: DSN, dicomStoreId: 'kept', requestBody: full});
  await fx.stores.create({parent: DSN, dicomStoreId: 'patched', requestBody: {labels: {v: '1'}}});
  await fx.stores.patch({name: storeName(DS, 'patched'), updateMask: 'labels', requestBody: {labels: {v: '2'}}});
  await fx.stores.create({parent: DSN, dicomStoreId: 'deleted', requestBody: {}});
  await fx.stores.delete({name: storeName(DS, 'deleted')});
  await fx.datasets.create({parent: PARENT, datasetId: 'gone-ds', requestBody: {}});
  await fx.stores.create({parent: datasetName('gone-ds'), dicomStoreId: 's', requestBody: {}});
  await fx.datasets.delete({name: datasetName('gone-ds')});
  const bindings = [{role: 'roles/healthcare.dicomViewer', members: ['user:a@example.com']}];
  const dsPolicy = (await fx.datasets.setIamPolicy({resource: DSN, requestBody: {policy: {bindings}}})).data;
  const stPolicy = (await fx.stores.setIamPolicy({resource: storeName(DS, 'kept'), requestBody: {policy: {bindings}}})).data;

  const snapshot = async () => ({
    datasets: (await listAll((p) => fx.datasets.list(p), {parent: PARENT}, 'datasets')).items,
    dataset: (await fx.datasets.get({name: DSN})).data,
    stores: (await listAll((p) => fx.stores.list(p), {parent: DSN}, 'dicomStores')).items,
    kept: (await fx.stores.get({name: storeName(DS, 'kept')})).data,
    dsPolicy: (await fx.datasets.getIamPolicy({resource: DSN})).data,
    stPolicy: (await fx.stores.getIamPolicy({resource: storeName(DS, 'kept')})).data,
    patchedPolicy: (await fx.stores.getIamPolicy({resource: storeName(DS, 'patched')})).data,
    op: (await fx.operations.get({name: op.name})).data,
    ops: (await fx.operations.list({name: DSN})).data,
  });
  const before = await snapshot();
  assert.deepEqual(before.kept, {name: storeName(DS, 'kept'), ...full});
  assert.deepEqual(before.dsPolicy, dsPolicy);
  assert.deepEqual(before.stPolicy, stPolicy);
  assert.deepEqual(before.op, op);
  assert.deepEqual(before.datasets.map((d) => d.name), [datasetName(DS), datasetName('persist-ünï')].sort());
  assert.deepEqual(before.stores.map((s) => s.name), [storeName(DS, 'kept'), storeName(DS, 'patched')]);

  await fx.restart();

  const after = await snapshot();
  assert.deepEqual(after, before, 'state after restart');
  await expectApiError(fx.stores.get({name: storeName(DS, 'deleted')}), 404, 'NOT_FOUND');
  await expectApiError(fx.datasets.get({name: datasetName('gone-ds')}), 404, 'NOT_FOUND');
  await expectApiError(fx.stores.get({name: storeName('gone-ds', 's')}), 404, 'NOT_FOUND');

  // Etags keep working: the pre-restart etag is current, an older one is stale.
  const next = await fx.stores.setIamPolicy({resource: storeName(DS, 'kept'), requestBody: {policy: {bindings: [], etag: stPolicy.etag}}});
  assert.notEqual(next.data.etag, stPolicy.etag);
  await expectApiError(fx.datasets.setIamPolicy({resource: DSN, requestBody: {policy: {bindings, etag: 'ACAB'}}}), 409, 'ABORTED');

  // Ids and operation ids do not collide with the ones from before the restart.
  await expectApiError(fx.datasets.create({parent: PARENT, datasetId: DS, requestBody: {}}), 409, 'ALREADY_EXISTS');
  await expectApiError(fx.stores.create({parent: DSN, dicomStoreId: 'kept', requestBody: {}}), 409, 'ALREADY_EXISTS');
  const op2 = (await fx.datasets.create({parent: PARENT, datasetId: 'after-restart', requestBody: {}})).data;
  assert.notEqual(op2.name.split('/').pop(), op.name.split('/').pop(), 'new operation id differs');
  const op3 = (await fx.datasets.create({parent: PARENT, datasetId: 'gone-ds', requestBody: {}})).data;
  assert.deepEqual((await fx.operations.list({name: datasetName('gone-ds')})).data, {operations: [op3]});
  assert.deepEqual((await fx.stores.list({parent: datasetName('gone-ds')})).data, {});

  // A second restart right after writes keeps them too.
  await fx.restart();
  assert.deepEqual((await fx.operations.get({name: op2.name})).data, op2);
  assert.deepEqual((await fx.datasets.get({name: datasetName('after-restart')})).data, {name: datasetName('after-restart')});
});
