'use strict';
// Requests the generated client cannot send (spec §1, §3): malformed JSON, oversized bodies,
// unknown routes, system query parameters, raw ids. Every error must be the JSON envelope,
// and afterwards the server must still serve with nothing changed.
const assert = require('node:assert/strict');
const {test} = require('node:test');
const {useServer, assertRawError, assertEnvelope, PARENT, datasetName, storeName} = require('./lib/server');

const T = {timeout: 30_000};
const DS = 'bad-ds';
const DSN = datasetName(DS);
const SN = storeName(DS, 'bad-store');
const STORE = {labels: {a: 'b'}, notificationConfig: {pubsubTopic: 'projects/p/topics/t'}};
let snapshot;

const fx = useServer({setup: async () => {
  await fx.datasets.create({parent: PARENT, datasetId: DS, requestBody: {timeZone: 'Europe/London'}});
  await fx.stores.create({parent: DSN, dicomStoreId: 'bad-store', requestBody: STORE});
  await fx.stores.setIamPolicy({resource: SN, requestBody: {policy: {bindings: [{role: 'roles/viewer', members: ['user:a@example.com']}]}}});
  snapshot = await takeSnapshot();
}});
async function takeSnapshot() {
  const get = async (p) => {
    const r = await fx.raw('GET', p);
    assert.equal(r.status, 200, `${p}: ${r.text}`);
    return r.json;
  };
  return {
    datasets: await get(`/v1/${PARENT}/datasets`),
    dataset: await get(`/v1/${DSN}`),
    stores: await get(`/v1/${DSN}/dicomStores`),
    store: await get(`/v1/${SN}`),
    storePolicy: await get(`/v1/${SN}:getIamPolicy`),
    datasetPolicy: await get(`/v1/${DSN}:getIamPolicy`),
    operations: await get(`/v1/${DSN}/operations`),
  };
}

async function assertUnchanged(what) {
  const now = await takeSnapshot();
  assert.deepEqual(now, snapshot, `state changed after ${what}`);
}

test('healthz and a successful call carry the expected content types', T, async () => {
  const h = await fx.raw('GET', '/healthz');
  assert.equal(h.status, 200);
  const r = await fx.raw('GET', `/v1/${SN}`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') || '', /^application\/json/);
  assert.deepEqual(r.json, {name: SN, ...STORE});
});

test('malformed and non-object JSON bodies -> 400 on every admin POST/PATCH', T, async () => {
  const bodies = ['{', '{"labels":', '{"labels": {"a": "b"},}', "{'labels': {}}", 'null', '[]', '"x"', '5', 'true',
    '{"labels": {"a": "b"}} trailing', '\u0000', '{"a":1}{"b":2}'];
  const targets = [
    ['POST', `/v1/${PARENT}/datasets?datasetId=bad-json-ds`],
    ['PATCH', `/v1/${DSN}?updateMask=timeZone`],
    ['POST', `/v1/${DSN}/dicomStores?dicomStoreId=bad-json-store`],
    ['PATCH', `/v1/${SN}?updateMask=labels`],
    ['POST', `/v1/${SN}:setIamPolicy`],
    ['POST', `/v1/${DSN}:setIamPolicy`],
    ['POST', `/v1/${SN}:testIamPermissions`],
  ];
  for (const [method, p] of targets) {
    for (const body of bodies) {
      const r = await fx.raw(method, p, {body});
      assertRawError(r, 400, 'INVALID_ARGUMENT', `${method} ${p} body ${JSON.stringify(body)}`);
    }
  }
  await assertUnchanged('malformed JSON');
});

test('invalid UTF-8 and deeply nested JSON -> 400', T, async () => {
  const p = `/v1/${DSN}/dicomStores?dicomStoreId=utf8-store`;
  const badUtf8 = Buffer.concat([Buffer.from('{"labels":{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]);
  assertRawError(await fx.raw('POST', p, {body: badUtf8}), 400, 'INVALID_ARGUMENT', 'invalid UTF-8');
  const deep = '{"labels":' + '['.repeat(5000) + ']'.repeat(5000) + '}';
  assertRawError(await fx.raw('POST', p, {body: deep}), 400, 'INVALID_ARGUMENT', 'deep nesting');
  const deepObj = '{"notificationConfig":' + '{"a":'.repeat(3000) + '1' + '}'.repeat(3000) + '}';
  assertRawError(await fx.raw('POST', p, {body: deepObj}), 400, 'INVALID_ARGUMENT', 'deep object nesting');
  await assertUnchanged('bad JSON encodings');
});

test('empty body is {} (store create, cancel)', T, async () => {
  const r = await fx.raw('POST', `/v1/${DSN}/dicomStores?dicomStoreId=empty-body`, {body: '', headers: {'content-type': 'application/json'}});
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, {name: storeName(DS, 'empty-body')});
  const d = await fx.raw('DELETE', `/v1/${storeName(DS, 'empty-body')}`);
  assert.equal(d.status, 200);
  assert.deepEqual(d.json, {});
  const op = snapshot.operations.operations[0].name;
  const c = await fx.raw('POST', `/v1/${op}:cancel`);
  assert.equal(c.status, 200, c.text);
  assert.deepEqual(c.json, {});
  await assertUnchanged('empty bodies');
});

test('bodies over 10 MB on admin calls are rejected and the server keeps serving', T, async () => {
  const big = JSON.stringify({labels: {a: 'b'}, notificationConfig: {pubsubTopic: 'x'.repeat(11 * 1024 * 1024)}});
  for (const [method, p] of [
    ['POST', `/v1/${DSN}/dicomStores?dicomStoreId=huge-store`],
    ['PATCH', `/v1/${SN}?updateMask=notificationConfig`],
    ['POST', `/v1/${PARENT}/datasets?datasetId=huge-ds`],
  ]) {
    const r = await fx.raw(method, p, {body: big});
    // The contract lists oversized admin bodies under 400 INVALID_ARGUMENT; spec §11 allows 413.
    assert.ok(r.status === 400 || r.status === 413, `${method} ${p}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
    assertEnvelope(r.json, r.status, r.status === 400 ? 'INVALID_ARGUMENT' : undefined, `${method} ${p}`);
  }
  const h = await fx.raw('GET', '/healthz');
  assert.equal(h.status, 200);
  await assertUnchanged('oversized bodies');
});

test('unknown routes and methods -> JSON error envelope', T, async () => {
  for (const p of ['/v1/nothing', '/nothing', '/', '/v1/', '/v2/' + DSN, `/v1/${DSN}/fhirStores`, `/v1/${SN}/unknownCollection`]) {
    const r = await fx.raw('GET', p);
    assertRawError(r, 404, 'NOT_FOUND', `GET ${p}`);
  }
  for (const [method, p] of [['PUT', `/v1/${DSN}`], ['POST', `/v1/${SN}`], ['DELETE', `/v1/${PARENT}/datasets`],
    ['POST', `/v1/${SN}:frobnicate`], ['GET', `/v1/${SN}:setIamPolicy`]]) {
    const r = await fx.raw(method, p, {body: method === 'GET' || method === 'DELETE' ? undefined : '{}'});
    assert.ok([400, 404, 405, 501].includes(r.status), `${method} ${p}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
    assertEnvelope(r.json, r.status, undefined, `${method} ${p}`);
  }
  await assertUnchanged('unknown routes');
});

test('system query parameters are accepted and ignored', T, async () => {
  const sys = 'alt=json&prettyPrint=false&%24.xgafv=2&$.xgafv=2&fields=name&key=x&access_token=x&quotaUser=q&callback=&oauth_token=t&uploadType=u&upload_protocol=p';
  let r = await fx.raw('GET', `/v1/${SN}?${sys}`);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, snapshot.store);
  r = await fx.raw('GET', `/v1/${SN}?alt=&prettyPrint=true`);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, snapshot.store);
  r = await fx.raw('GET', `/v1/${DSN}?${sys}`);
  assert.deepEqual(r.json, snapshot.dataset);
  r = await fx.raw('GET', `/v1/${DSN}/dicomStores?pageSize=10&${sys}`);
  assert.deepEqual(r.json, snapshot.stores);
  r = await fx.raw('GET', `/v1/${DSN}/operations?${sys}`);
  assert.deepEqual(r.json, snapshot.operations);
  r = await fx.raw('GET', `/v1/${SN}:getIamPolicy?options.requestedPolicyVersion=3&${sys}`);
  assert.deepEqual(r.json, snapshot.storePolicy);
  r = await fx.raw('POST', `/v1/${DSN}/dicomStores?dicomStoreId=sys-store&${sys}`, {body: {labels: {x: 'y'}}});
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, {name: storeName(DS, 'sys-store'), labels: {x: 'y'}});
  r = await fx.raw('PATCH', `/v1/${storeName(DS, 'sys-store')}?updateMask=labels&${sys}`, {body: {labels: {x: 'z'}}});
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, {name: storeName(DS, 'sys-store'), labels: {x: 'z'}});
  r = await fx.raw('DELETE', `/v1/${storeName(DS, 'sys-store')}?${sys}`);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, {});
  r = await fx.raw('GET', `/v1/${storeName(DS, 'sys-store')}?${sys}`);
  assertRawError(r, 404, 'NOT_FOUND', 'system params on a 404');
  // access_token in the query instead of a header.
  r = await fx.raw('GET', `/v1/${SN}?access_token=abc`, {headers: {authorization: null}});
  assert.equal(r.status, 200, r.text);
  await assertUnchanged('system parameters');
});

test('raw ids and query values: bad -> 400, Unicode percent-encoded -> ok', T, async () => {
  for (const q of ['datasetId=a/b', 'datasetId=bad%20id', 'datasetId=bad+id', 'datasetId=%FF', 'datasetId=a%00b',
    'datasetId=' + 'x'.repeat(257), 'datasetId=', '']) {
    const r = await fx.raw('POST', `/v1/${PARENT}/datasets?${q}`, {body: {}});
    assertRawError(r, 400, 'INVALID_ARGUMENT', `create dataset ?${q}`);
  }
  for (const q of ['dicomStoreId=a/b', 'dicomStoreId=bad%20id', 'dicomStoreId=%C3', 'dicomStoreId=', '']) {
    const r = await fx.raw('POST', `/v1/${DSN}/dicomStores?${q}`, {body: {}});
    assertRawError(r, 400, 'INVALID_ARGUMENT', `create store ?${q}`);
  }
  for (const q of ['pageSize=abc', 'pageSize=10.5', 'pageSize=1e3', 'pageSize=1001', 'pageSize=-5', 'pageToken=%FF%FE',
    'pageSize=99999999999999999999']) {
    const r = await fx.raw('GET', `/v1/${DSN}/dicomStores?${q}`);
    assertRawError(r, 400, 'INVALID_ARGUMENT', `list ?${q}`);
  }
  // Malformed names in the path: 400 (malformed) or 404 (no such resource) are both acceptable.
  for (const p of [`/v1/${PARENT}/datasets/bad%20id`, `/v1/${PARENT}/datasets/a%2Fb`, `/v1/${DSN}/dicomStores/bad%20id`,
    `/v1/${PARENT}/datasets/%FF`]) {
    const r = await fx.raw('GET', p);
    assert.ok(r.status === 400 || r.status === 404, `GET ${p}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
    assertEnvelope(r.json, r.status, r.status === 400 ? 'INVALID_ARGUMENT' : 'NOT_FOUND', `GET ${p}`);
  }
  const c = await fx.raw('POST', `/v1/${PARENT}/datasets?datasetId=donn%C3%A9es-raw`, {body: {}});
  assert.equal(c.status, 200, c.text);
  assert.equal(c.json.response.name, datasetName('données-raw'));
  const g = await fx.raw('GET', `/v1/${PARENT}/datasets/donn%C3%A9es-raw`);
  assert.equal(g.status, 200, g.text);
  assert.deepEqual(g.json, {name: datasetName('données-raw')});
  const del = await fx.raw('DELETE', `/v1/${PARENT}/datasets/donn%C3%A9es-raw`);
  assert.equal(del.status, 200, del.text);
  await assertUnchanged('raw ids');
});

test('unknown fields and wrong types in raw bodies -> 400', T, async () => {
  for (const [method, p, body] of [
    ['POST', `/v1/${PARENT}/datasets?datasetId=uf-ds`, {timeZone: 'UTC', labels: {a: 'b'}}],
    ['POST', `/v1/${PARENT}/datasets?datasetId=uf-ds`, {timeZone: 5}],
    ['PATCH', `/v1/${DSN}?updateMask=timeZone`, {timeZone: ['UTC']}],
    ['POST', `/v1/${DSN}/dicomStores?dicomStoreId=uf-store`, {label: {a: 'b'}}],
    ['POST', `/v1/${DSN}/dicomStores?dicomStoreId=uf-store`, {labels: {a: {b: 'c'}}}],
    ['POST', `/v1/${SN}:testIamPermissions`, {permissions: [1, 2]}],
    ['POST', `/v1/${SN}:testIamPermissions`, {permission: ['healthcare.datasets.get']}],
  ]) {
    assertRawError(await fx.raw(method, p, {body}), 400, 'INVALID_ARGUMENT', `${method} ${p} ${JSON.stringify(body)}`);
  }
  await assertUnchanged('unknown fields');
});
