'use strict';
// DICOM store administration (spec §5, §2.1): create, get, list (pagination, label filter),
// patch with updateMask, delete, label and id validation.
const assert = require('node:assert/strict');
const {test} = require('node:test');
const {useServer, expectApiError, listAll, PARENT, datasetName, storeName} = require('./lib/server');

const T = {timeout: 30_000};
const DS = 'stores-ds';
const DSN = datasetName(DS);
const sn = (id) => storeName(DS, id);

const fx = useServer({setup: async () => {
  await fx.datasets.create({parent: PARENT, datasetId: DS, requestBody: {}});
}});

const FULL = {
  labels: {team: 'imaging', env: 'test-1'},
  notificationConfig: {pubsubTopic: 'projects/p/topics/t', sendForBulkImport: true},
  notificationConfigs: [{pubsubTopic: 'projects/p/topics/t2'}, {pubsubTopic: 'projects/p/topics/t3'}],
  streamConfigs: [{
    bigqueryDestination: {tableUri: 'bq://project.dataset.table', force: true, writeDisposition: 'WRITE_APPEND'},
  }],
};

test('create with {} returns exactly {name}; get agrees', T, async () => {
  const r = await fx.stores.create({parent: DSN, dicomStoreId: 'empty', requestBody: {}});
  assert.equal(r.status, 200);
  assert.deepEqual(r.data, {name: sn('empty')});
  const g = await fx.stores.get({name: sn('empty')});
  assert.deepEqual(g.data, {name: sn('empty')});
});

test('create with every config field echoes it back; get agrees', T, async () => {
  const r = await fx.stores.create({parent: DSN, dicomStoreId: 'full', requestBody: FULL});
  const expected = {name: sn('full'), ...FULL};
  assert.deepEqual(r.data, expected);
  assert.deepEqual((await fx.stores.get({name: sn('full')})).data, expected);
});

test('create: defaults inside configs are omitted', T, async () => {
  const r = await fx.stores.create({
    parent: DSN, dicomStoreId: 'defaults',
    requestBody: {
      labels: {},
      notificationConfig: {pubsubTopic: 'projects/p/topics/t', sendForBulkImport: false},
      notificationConfigs: [],
      streamConfigs: [{bigqueryDestination: {tableUri: 'bq://a.b.c', force: false}}],
    },
  });
  assert.deepEqual(r.data, {
    name: sn('defaults'),
    notificationConfig: {pubsubTopic: 'projects/p/topics/t'},
    streamConfigs: [{bigqueryDestination: {tableUri: 'bq://a.b.c'}}],
  });
});

test('create: name in body is ignored', T, async () => {
  const r = await fx.stores.create({
    parent: DSN, dicomStoreId: 'named', requestBody: {name: storeName('other-ds', 'other')},
  });
  assert.deepEqual(r.data, {name: sn('named')});
  await expectApiError(fx.stores.get({name: storeName('other-ds', 'other')}), 404, 'NOT_FOUND');
});

test('create errors: missing dataset 404, duplicate 409, missing/bad id 400', T, async () => {
  await expectApiError(fx.stores.create({parent: datasetName('no-such-ds'), dicomStoreId: 's', requestBody: {}}),
      404, 'NOT_FOUND');
  await fx.stores.create({parent: DSN, dicomStoreId: 'dup', requestBody: {labels: {v: '1'}}});
  await expectApiError(fx.stores.create({parent: DSN, dicomStoreId: 'dup', requestBody: {labels: {v: '2'}}}),
      409, 'ALREADY_EXISTS');
  assert.deepEqual((await fx.stores.get({name: sn('dup')})).data, {name: sn('dup'), labels: {v: '1'}});
  await expectApiError(fx.stores.create({parent: DSN, requestBody: {}}), 400, 'INVALID_ARGUMENT', 'no dicomStoreId');
  for (const id of ['bad id', 'a/b', 'x'.repeat(257), '', 'a:b', 'q?x', 'a#b']) {
    await expectApiError(fx.stores.create({parent: DSN, dicomStoreId: id, requestBody: {}}),
        400, 'INVALID_ARGUMENT', `dicomStoreId ${JSON.stringify(id)}`);
  }
  for (const id of ['données', 'x'.repeat(256), 'Store.1_a-b', '７']) {
    const r = await fx.stores.create({parent: DSN, dicomStoreId: id, requestBody: {}});
    assert.deepEqual(r.data, {name: sn(id)});
    assert.deepEqual((await fx.stores.get({name: sn(id)})).data, {name: sn(id)});
  }
});

test('get missing store -> 404', T, async () => {
  await expectApiError(fx.stores.get({name: sn('nope')}), 404, 'NOT_FOUND');
  await expectApiError(fx.stores.get({name: storeName('no-such-ds', 'full')}), 404, 'NOT_FOUND');
});

test('labels: 64 labels, 63-char keys/values and Unicode lowercase are valid', T, async () => {
  const ok = {};
  for (let i = 0; i < 64; i++) ok[`k${i}`] = `v${i}`;
  ok.k0 = 'x'.repeat(63);
  const r = await fx.stores.create({parent: DSN, dicomStoreId: 'lbl-64', requestBody: {labels: ok}});
  assert.deepEqual(r.data.labels, ok);
  const key63 = 'a' + 'b'.repeat(62);
  const uni = {[key63]: 'v', 'é-ü_1': 'ß', ['あ'.repeat(42)]: 'x'};
  const r2 = await fx.stores.create({parent: DSN, dicomStoreId: 'lbl-uni', requestBody: {labels: uni}});
  assert.deepEqual(r2.data.labels, uni);
  assert.deepEqual((await fx.stores.get({name: sn('lbl-uni')})).data.labels, uni);
});

test('labels: invalid ones -> 400 on create and patch, nothing stored', T, async () => {
  const sixtyFive = {};
  for (let i = 0; i < 65; i++) sixtyFive[`k${i}`] = 'v';
  const bad = [
    ['uppercase key', {Team: 'x'}],
    ['65 labels', sixtyFive],
    ['64-char key', {['a'.repeat(64)]: 'v'}],
    ['key over 128 bytes', {['あ'.repeat(43)]: 'v'}],
    ['key starts with digit', {'1abc': 'v'}],
    ['key starts with dash', {'-abc': 'v'}],
    ['empty key', {'': 'v'}],
    ['key with space', {'a b': 'v'}],
    ['key with dot', {'a.b': 'v'}],
    ['uppercase value', {team: 'Imaging'}],
    ['64-char value', {team: 'v'.repeat(64)}],
    ['value with slash', {team: 'a/b'}],
    ['non-string value', {team: 5}],
    ['null value', {team: null}],
    ['labels not a map', ['team']],
  ];
  for (const [what, labels] of bad) {
    await expectApiError(fx.stores.create({parent: DSN, dicomStoreId: 'lbl-bad', requestBody: {labels}}),
        400, 'INVALID_ARGUMENT', `create: ${what}`);
  }
  await expectApiError(fx.stores.get({name: sn('lbl-bad')}), 404, 'NOT_FOUND', 'rejected store was not created');

  await fx.stores.create({parent: DSN, dicomStoreId: 'lbl-patch', requestBody: {labels: {keep: 'me'}}});
  for (const [what, labels] of bad) {
    await expectApiError(fx.stores.patch({name: sn('lbl-patch'), updateMask: 'labels', requestBody: {labels}}),
        400, 'INVALID_ARGUMENT', `patch: ${what}`);
  }
  assert.deepEqual((await fx.stores.get({name: sn('lbl-patch')})).data, {name: sn('lbl-patch'), labels: {keep: 'me'}});
});

test('create: unknown fields and wrong types -> 400', T, async () => {
  const bad = [
    ['unknown top-level field', {foo: 1}],
    ['unknown field next to known ones', {labels: {a: 'b'}, labelz: {}}],
    ['notificationConfig not an object', {notificationConfig: 'x'}],
    ['pubsubTopic not a string', {notificationConfig: {pubsubTopic: 5}}],
    ['sendForBulkImport not a bool', {notificationConfig: {pubsubTopic: 't', sendForBulkImport: 'yes'}}],
    ['unknown field in notificationConfig', {notificationConfig: {pubsubTopic: 't', topic: 'x'}}],
    ['notificationConfigs not a list', {notificationConfigs: {pubsubTopic: 't'}}],
    ['notificationConfigs item not an object', {notificationConfigs: ['t']}],
    ['streamConfigs not a list', {streamConfigs: {}}],
    ['bad writeDisposition enum', {streamConfigs: [{bigqueryDestination: {tableUri: 'bq://a.b.c', writeDisposition: 'WRITE_SOMETIMES'}}]}],
    ['unknown field in bigqueryDestination', {streamConfigs: [{bigqueryDestination: {tableUri: 'bq://a.b.c', bogus: 1}}]}],
    ['force not a bool', {streamConfigs: [{bigqueryDestination: {tableUri: 'bq://a.b.c', force: 'true!'}}]}],
    ['name not a string', {name: 7}],
  ];
  for (const [what, body] of bad) {
    await expectApiError(fx.stores.create({parent: DSN, dicomStoreId: 'types-bad', requestBody: body}),
        400, 'INVALID_ARGUMENT', what);
  }
  await expectApiError(fx.stores.get({name: sn('types-bad')}), 404, 'NOT_FOUND');
});

test('list: 25 stores, pageSize 10 -> 3 pages, all ids once, in id order', T, async () => {
  const ds = 'page-ds';
  await fx.datasets.create({parent: PARENT, datasetId: ds, requestBody: {}});
  const ids = [];
  for (let i = 0; i < 25; i++) ids.push(`st-${String((i * 7) % 25).padStart(2, '0')}`);
  for (const id of ids) await fx.stores.create({parent: datasetName(ds), dicomStoreId: id, requestBody: {}});
  const sorted = [...ids].sort();

  const {items, pages} = await listAll((p) => fx.stores.list(p), {parent: datasetName(ds), pageSize: 10}, 'dicomStores');
  assert.deepEqual(pages.map((p) => p.dicomStores.length), [10, 10, 5]);
  assert.ok(!('nextPageToken' in pages[2]));
  const names = items.map((s) => s.name);
  assert.equal(new Set(names).size, 25, 'no duplicates');
  assert.deepEqual(names, sorted.map((id) => storeName(ds, id)));

  const all = await fx.stores.list({parent: datasetName(ds)});
  assert.equal(all.data.dicomStores.length, 25, 'default pageSize (100) returns all');
  assert.ok(!('nextPageToken' in all.data));

  for (const pageSize of [1001, -1]) {
    await expectApiError(fx.stores.list({parent: datasetName(ds), pageSize}), 400, 'INVALID_ARGUMENT', `pageSize ${pageSize}`);
  }
  await expectApiError(fx.stores.list({parent: datasetName(ds), pageToken: 'not-a-token'}), 400, 'INVALID_ARGUMENT');
  await expectApiError(fx.stores.list({parent: datasetName('no-such-ds')}), 404, 'NOT_FOUND');

  // A store added behind the cursor does not duplicate or skip anything ahead of it.
  const p1 = await fx.stores.list({parent: datasetName(ds), pageSize: 10});
  await fx.stores.create({parent: datasetName(ds), dicomStoreId: 'st-00a', requestBody: {}});
  const rest = await listAll((p) => fx.stores.list(p),
      {parent: datasetName(ds), pageSize: 10, pageToken: p1.data.nextPageToken}, 'dicomStores');
  const seen = [...p1.data.dicomStores, ...rest.items].map((s) => s.name);
  assert.equal(new Set(seen).size, seen.length, 'no duplicates across a concurrent insert');
  for (const id of ids) assert.ok(seen.includes(storeName(ds, id)), `${id} not skipped`);

  const empty = await fx.stores.list({parent: DSN, filter: 'labels.nothing=here'});
  assert.deepEqual(empty.data, {}, 'empty result is {}');
});

test('list filter on labels', T, async () => {
  const ds = 'filter-ds';
  const parent = datasetName(ds);
  await fx.datasets.create({parent: PARENT, datasetId: ds, requestBody: {}});
  const stores = {
    'f-a': {env: 'prod', team: 'x'},
    'f-b': {env: 'dev', team: 'x'},
    'f-c': {env: 'prod'},
    'f-d': {},
    'f-e': {team: 'y', tier: 'gold'},
  };
  for (const [id, labels] of Object.entries(stores)) {
    await fx.stores.create({parent, dicomStoreId: id, requestBody: {labels}});
  }
  const cases = [
    ['labels.env=prod', ['f-a', 'f-c']],
    ['labels.env="prod"', ['f-a', 'f-c']],
    ['labels.team:*', ['f-a', 'f-b', 'f-e']],
    ['labels.env=prod AND labels.team=x', ['f-a']],
    ['labels.env=dev OR labels.tier=gold', ['f-b', 'f-e']],
    ['NOT labels.env:*', ['f-d', 'f-e']],
    ['NOT labels.env=prod', ['f-b', 'f-d', 'f-e']],
    ['(labels.env=prod OR labels.env=dev) AND NOT labels.team=x', ['f-c']],
    ['labels.env=prod AND (labels.team=x OR labels.team=y)', ['f-a']],
    ['labels.missing=prod', []],
    ['labels.missing:*', []],
    ['  labels.env = prod  ', ['f-a', 'f-c']],
    ['', ['f-a', 'f-b', 'f-c', 'f-d', 'f-e']],
  ];
  for (const [filter, want] of cases) {
    const {items} = await listAll((p) => fx.stores.list(p), {parent, filter}, 'dicomStores');
    assert.deepEqual(items.map((s) => s.name), want.map((id) => storeName(ds, id)), `filter ${JSON.stringify(filter)}`);
    for (const s of items) {
      const id = s.name.split('/').pop();
      const expected = {name: s.name};
      if (Object.keys(stores[id]).length) expected.labels = stores[id];
      assert.deepEqual(s, expected, 'listed stores are full resources');
    }
  }
  // Filter and pagination together.
  const paged = await listAll((p) => fx.stores.list(p), {parent, filter: 'labels.team:*', pageSize: 1}, 'dicomStores');
  assert.deepEqual(paged.items.map((s) => s.name), ['f-a', 'f-b', 'f-e'].map((id) => storeName(ds, id)));
  assert.ok(paged.pages.length >= 3 && paged.pages.length <= 4);

  for (const filter of ['name=x', 'labels.env!=prod', 'labels.env="prod', '(labels.env=prod', 'labels.env=prod)',
    'labels.env=prod AND', 'OR labels.env=prod', 'labels', 'labels.env', 'env=prod', 'labels.env=prod OR OR labels.a=b',
    'labels.env<prod']) {
    await expectApiError(fx.stores.list({parent, filter}), 400, 'INVALID_ARGUMENT', `filter ${JSON.stringify(filter)}`);
  }
});

test('patch: masked fields replaced wholesale, unmasked untouched, snake_case accepted', T, async () => {
  const name = sn('patch-me');
  await fx.stores.create({parent: DSN, dicomStoreId: 'patch-me', requestBody: FULL});
  let cur = {name, ...FULL};

  let r = await fx.stores.patch({name, updateMask: 'labels', requestBody: {labels: {fresh: 'one'}, notificationConfig: {pubsubTopic: 'projects/p/topics/ignored'}}});
  cur = {...cur, labels: {fresh: 'one'}};
  assert.deepEqual(r.data, cur, 'labels replaced, notificationConfig untouched');

  r = await fx.stores.patch({name, updateMask: 'notification_config', requestBody: {notificationConfig: {pubsubTopic: 'projects/p/topics/new'}}});
  cur = {...cur, notificationConfig: {pubsubTopic: 'projects/p/topics/new'}};
  assert.deepEqual(r.data, cur, 'snake_case mask, sendForBulkImport reset (whole message replaced)');

  const streams = [{bigqueryDestination: {tableUri: 'bq://x.y.z', writeDisposition: 'WRITE_TRUNCATE'}}];
  r = await fx.stores.patch({name, updateMask: 'streamConfigs,notificationConfigs', requestBody: {streamConfigs: streams}});
  cur = {...cur, streamConfigs: streams};
  delete cur.notificationConfigs;
  assert.deepEqual(r.data, cur, 'masked + absent = cleared');

  r = await fx.stores.patch({name, updateMask: 'labels', requestBody: {}});
  delete cur.labels;
  assert.deepEqual(r.data, cur, 'labels cleared');

  r = await fx.stores.patch({name, updateMask: 'labels,notificationConfig,notification_configs,stream_configs', requestBody: {}});
  assert.deepEqual(r.data, {name}, 'everything cleared');

  r = await fx.stores.patch({name, updateMask: 'labels', requestBody: {name: sn('elsewhere'), labels: {a: 'b'}}});
  assert.deepEqual(r.data, {name, labels: {a: 'b'}}, 'name in body ignored');
  await expectApiError(fx.stores.get({name: sn('elsewhere')}), 404, 'NOT_FOUND');
  assert.deepEqual((await fx.stores.get({name})).data, r.data);
});

test('patch errors: missing/empty/unknown mask, unknown fields, missing store', T, async () => {
  const name = sn('patch-bad');
  await fx.stores.create({parent: DSN, dicomStoreId: 'patch-bad', requestBody: FULL});
  const before = (await fx.stores.get({name})).data;
  await expectApiError(fx.stores.patch({name, requestBody: {labels: {}}}), 400, 'INVALID_ARGUMENT', 'no mask');
  await expectApiError(fx.stores.patch({name, updateMask: '', requestBody: {labels: {}}}), 400, 'INVALID_ARGUMENT', 'empty mask');
  for (const mask of ['name', 'foo', 'labels,foo', 'Labels', 'timeZone', 'labels,,streamConfigs']) {
    await expectApiError(fx.stores.patch({name, updateMask: mask, requestBody: {labels: {}}}),
        400, 'INVALID_ARGUMENT', `mask ${mask}`);
  }
  await expectApiError(fx.stores.patch({name, updateMask: 'labels', requestBody: {labels: {}, bogus: true}}),
      400, 'INVALID_ARGUMENT', 'unknown body field');
  await expectApiError(fx.stores.patch({name, updateMask: 'streamConfigs', requestBody: {streamConfigs: 'x'}}),
      400, 'INVALID_ARGUMENT', 'wrong type');
  assert.deepEqual((await fx.stores.get({name})).data, before, 'nothing changed');
  await expectApiError(fx.stores.patch({name: sn('nope'), updateMask: 'labels', requestBody: {}}), 404, 'NOT_FOUND');
  await expectApiError(fx.stores.patch({name: storeName('no-such-ds', 'x'), updateMask: 'labels', requestBody: {}}), 404, 'NOT_FOUND');
});

test('delete: {} then 404; id reusable', T, async () => {
  const name = sn('del-me');
  await fx.stores.create({parent: DSN, dicomStoreId: 'del-me', requestBody: FULL});
  const d = await fx.stores.delete({name});
  assert.equal(d.status, 200);
  assert.deepEqual(d.data, {});
  await expectApiError(fx.stores.get({name}), 404, 'NOT_FOUND');
  await expectApiError(fx.stores.delete({name}), 404, 'NOT_FOUND');
  await expectApiError(fx.stores.patch({name, updateMask: 'labels', requestBody: {}}), 404, 'NOT_FOUND');
  const {items} = await listAll((p) => fx.stores.list(p), {parent: DSN}, 'dicomStores');
  assert.ok(!items.some((s) => s.name === name));
  const r = await fx.stores.create({parent: DSN, dicomStoreId: 'del-me', requestBody: {}});
  assert.deepEqual(r.data, {name}, 'recreated store starts empty');
  await expectApiError(fx.stores.delete({name: storeName('no-such-ds', 'x')}), 404, 'NOT_FOUND');
});

test('concurrent creates: distinct ids all succeed; same id exactly once', T, async () => {
  const ds = 'race-ds';
  const parent = datasetName(ds);
  await fx.datasets.create({parent: PARENT, datasetId: ds, requestBody: {}});
  const distinct = await Promise.all(Array.from({length: 20}, (_, i) =>
    fx.stores.create({parent, dicomStoreId: `c-${String(i).padStart(2, '0')}`, requestBody: {labels: {i: String(i)}}})));
  assert.equal(distinct.length, 20);
  const {items} = await listAll((p) => fx.stores.list(p), {parent}, 'dicomStores');
  assert.equal(items.length, 20);

  const same = await Promise.allSettled(Array.from({length: 10}, (_, i) =>
    fx.stores.create({parent, dicomStoreId: 'same', requestBody: {labels: {i: String(i)}}})));
  const ok = same.filter((s) => s.status === 'fulfilled');
  const failed = same.filter((s) => s.status === 'rejected');
  assert.equal(ok.length, 1, 'exactly one create wins');
  for (const f of failed) {
    assert.equal(f.reason.response && f.reason.response.status, 409, f.reason.message);
    assert.equal(f.reason.response.data.error.status, 'ALREADY_EXISTS');
  }
  assert.deepEqual((await fx.stores.get({name: `${parent}/dicomStores/same`})).data, ok[0].value.data);

  const dsRace = await Promise.allSettled(Array.from({length: 6}, () =>
    fx.datasets.create({parent: PARENT, datasetId: 'race-same-ds', requestBody: {}})));
  assert.equal(dsRace.filter((s) => s.status === 'fulfilled').length, 1, 'exactly one dataset create wins');
  const ops = await fx.operations.list({name: datasetName('race-same-ds')});
  assert.equal(ops.data.operations.length, 1, 'one create operation');
});
