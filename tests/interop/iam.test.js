'use strict';
// IAM on datasets and DICOM stores (spec §7): getIamPolicy (GET), setIamPolicy with etags,
// testIamPermissions.
const assert = require('node:assert/strict');
const {test} = require('node:test');
const {useServer, expectApiError, PARENT, datasetName, storeName} = require('./lib/server');

const T = {timeout: 30_000};
const DS = 'iam-ds';
const DSN = datasetName(DS);
const SN = storeName(DS, 'iam-store');
const EMPTY = {version: 1, etag: 'ACAB'};

const fx = useServer({setup: async () => {
  await fx.datasets.create({parent: PARENT, datasetId: DS, requestBody: {}});
  await fx.stores.create({parent: DSN, dicomStoreId: 'iam-store', requestBody: {}});
}});

const BINDINGS = [
  {role: 'roles/healthcare.dicomViewer', members: ['user:alice@example.com', 'group:readers@example.com']},
  {role: 'roles/healthcare.dicomEditor', members: ['serviceAccount:svc@proj.iam.gserviceaccount.com']},
];

function kinds() {
  return [
    ['dataset', DSN, fx.datasets],
    ['store', SN, fx.stores],
  ];
}

test('getIamPolicy on a resource without a policy -> {version:1, etag:"ACAB"}', T, async () => {
  for (const [kind, resource, api] of kinds()) {
    for (const v of [undefined, 0, 1, 3]) {
      const params = {resource};
      if (v !== undefined) params['options.requestedPolicyVersion'] = v;
      const r = await api.getIamPolicy(params);
      assert.equal(r.status, 200);
      assert.deepEqual(r.data, EMPTY, `${kind} version ${v}`);
    }
  }
});

test('getIamPolicy: bad requestedPolicyVersion -> 400; missing resource -> 404', T, async () => {
  for (const [kind, resource, api] of kinds()) {
    for (const v of [2, 4, -1, 'abc']) {
      await expectApiError(api.getIamPolicy({resource, 'options.requestedPolicyVersion': v}), 400, 'INVALID_ARGUMENT', `${kind} v=${v}`);
    }
  }
  await expectApiError(fx.datasets.getIamPolicy({resource: datasetName('nope')}), 404, 'NOT_FOUND');
  await expectApiError(fx.stores.getIamPolicy({resource: storeName(DS, 'nope')}), 404, 'NOT_FOUND');
  await expectApiError(fx.stores.getIamPolicy({resource: storeName('nope', 'nope')}), 404, 'NOT_FOUND');
});

test('setIamPolicy stores the policy with a new etag; get returns it; stale etag -> 409 ABORTED', T, async () => {
  for (const [kind, resource, api] of kinds()) {
    const first = await api.setIamPolicy({resource, requestBody: {policy: {bindings: BINDINGS}}});
    assert.equal(first.status, 200);
    assert.deepEqual(first.data.bindings, BINDINGS, kind);
    assert.equal(typeof first.data.etag, 'string');
    assert.ok(first.data.etag.length > 0);
    assert.notEqual(first.data.etag, 'ACAB', `${kind}: new etag`);
    if ('version' in first.data) assert.equal(typeof first.data.version, 'number');
    assert.deepEqual(Object.keys(first.data).filter((k) => !['version', 'bindings', 'etag'].includes(k)), []);

    const got = await api.getIamPolicy({resource});
    assert.deepEqual(got.data, first.data, `${kind}: get returns what was set`);

    // Stale etags: the empty-policy one and a made-up one.
    for (const etag of ['ACAB', 'QUJDRA==']) {
      await expectApiError(api.setIamPolicy({resource, requestBody: {policy: {bindings: [], etag}}}), 409, 'ABORTED', `${kind} etag ${etag}`);
    }
    assert.deepEqual((await api.getIamPolicy({resource})).data, first.data, `${kind}: unchanged after 409`);

    // Current etag: accepted, etag changes again.
    const newBindings = [{role: 'roles/healthcare.datasetAdmin', members: ['user:bob@example.com']}];
    const second = await api.setIamPolicy({resource, requestBody: {policy: {bindings: newBindings, etag: first.data.etag}}});
    assert.deepEqual(second.data.bindings, newBindings);
    assert.notEqual(second.data.etag, first.data.etag);
    await expectApiError(api.setIamPolicy({resource, requestBody: {policy: {bindings: BINDINGS, etag: first.data.etag}}}),
        409, 'ABORTED', `${kind}: etag from before the last write`);

    // No etag: unconditional overwrite.
    const third = await api.setIamPolicy({resource, requestBody: {policy: {bindings: BINDINGS}}});
    assert.deepEqual(third.data.bindings, BINDINGS);
    assert.notEqual(third.data.etag, second.data.etag);
    assert.deepEqual((await api.getIamPolicy({resource})).data, third.data);
  }
});

test('dataset and store policies are independent; a new store has no policy', T, async () => {
  await fx.stores.create({parent: DSN, dicomStoreId: 'iam-fresh', requestBody: {}});
  const fresh = await fx.stores.getIamPolicy({resource: storeName(DS, 'iam-fresh')});
  assert.deepEqual(fresh.data, EMPTY);
  const d = await fx.datasets.setIamPolicy({resource: DSN, requestBody: {policy: {bindings: [
    {role: 'roles/viewer', members: ['user:only-dataset@example.com']}]}}});
  const s = await fx.stores.getIamPolicy({resource: SN});
  assert.ok(!JSON.stringify(s.data).includes('only-dataset'), 'store policy unaffected by dataset policy');
  assert.deepEqual((await fx.datasets.getIamPolicy({resource: DSN})).data, d.data);

  // Read-modify-write from the empty policy (what gcloud does): the "ACAB" etag just read is current.
  const rmw = await fx.stores.setIamPolicy({resource: storeName(DS, 'iam-fresh'),
    requestBody: {policy: {...fresh.data, bindings: BINDINGS}}});
  assert.deepEqual(rmw.data.bindings, BINDINGS);
  assert.notEqual(rmw.data.etag, 'ACAB');
});

test('setIamPolicy: missing resource -> 404; bad body -> 400', T, async () => {
  await expectApiError(fx.datasets.setIamPolicy({resource: datasetName('nope'), requestBody: {policy: {bindings: BINDINGS}}}), 404, 'NOT_FOUND');
  await expectApiError(fx.stores.setIamPolicy({resource: storeName(DS, 'nope'), requestBody: {policy: {bindings: BINDINGS}}}), 404, 'NOT_FOUND');
  const before = (await fx.stores.getIamPolicy({resource: SN})).data;
  const bad = [
    ['bindings not a list', {policy: {bindings: 'x'}}],
    ['role not a string', {policy: {bindings: [{role: 5, members: []}]}}],
    ['members not a list', {policy: {bindings: [{role: 'roles/viewer', members: 'user:a@example.com'}]}}],
    ['unknown field', {policy: {bindings: []}, bogus: 1}],
    ['unknown policy field', {policy: {bindings: [], owners: []}}],
    ['policy not an object', {policy: 'x'}],
  ];
  for (const [what, body] of bad) {
    await expectApiError(fx.stores.setIamPolicy({resource: SN, requestBody: body}), 400, 'INVALID_ARGUMENT', what);
  }
  assert.deepEqual((await fx.stores.getIamPolicy({resource: SN})).data, before, 'unchanged after bad requests');
});

test('testIamPermissions: returns the valid healthcare.* subset; {} for missing resources', T, async () => {
  const valid = ['healthcare.datasets.get', 'healthcare.dicomStores.get', 'healthcare.dicomStores.dicomWebRead',
    'healthcare.dicomStores.dicomWebWrite', 'healthcare.dicomStores.import'];
  // Well-formed permissions of other services are simply not granted. (Malformed names and
  // wildcards are not asserted: the contract leaves filter-vs-400 open.)
  const invalid = ['storage.objects.get', 'resourcemanager.projects.get', 'bigquery.tables.create'];
  for (const [kind, resource, api] of kinds()) {
    const r = await api.testIamPermissions({resource, requestBody: {permissions: [...invalid.slice(0, 2), ...valid, invalid[2]]}});
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.data), ['permissions'], kind);
    assert.deepEqual([...r.data.permissions].sort(), [...valid].sort(), kind);

    const none = await api.testIamPermissions({resource, requestBody: {permissions: invalid}});
    assert.deepEqual(none.data, {}, `${kind}: no valid permission -> {}`);
    const empty = await api.testIamPermissions({resource, requestBody: {permissions: []}});
    assert.deepEqual(empty.data, {}, `${kind}: empty request -> {}`);
  }
  for (const [api, resource] of [[fx.datasets, datasetName('nope')], [fx.stores, storeName(DS, 'nope')], [fx.stores, storeName('nope', 'x')]]) {
    const r = await api.testIamPermissions({resource, requestBody: {permissions: valid}});
    assert.equal(r.status, 200, resource);
    assert.deepEqual(r.data, {}, `missing ${resource} -> {}`);
  }
  await expectApiError(fx.datasets.testIamPermissions({resource: DSN, requestBody: {permissions: 'healthcare.datasets.get'}}),
      400, 'INVALID_ARGUMENT', 'permissions not a list');
});
