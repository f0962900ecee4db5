'use strict';
// `dicomstore sql --auth` end to end (spec/stackql.md §3.4): a Node HTTP server started here is
// both the OAuth token endpoint (it verifies the service account's RS256 JWT assertion) and a
// fake Healthcare API that only answers with the token it issued. No dicomstore server.
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const {test, before, after} = require('node:test');
const {makeTempDir, removeDir} = require('./lib/server');
const {sqlCli, describeRun} = require('./lib/sql');

const T = {timeout: 30_000};
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const CLIENT_EMAIL = 'sql-test@interop-project.iam.gserviceaccount.com';
const KEY_ID = 'test-key-0123456789abcdef';
const STATIC_BEARER = 'static-bearer-token-from-env';
const QUERY = "SELECT name FROM google.healthcare.datasets WHERE projectsId='p' AND locationsId='l'";
const DATASETS = {datasets: [{name: 'projects/p/locations/l/datasets/d1'}]};

const {privateKey, publicKey} = crypto.generateKeyPairSync('rsa', {modulusLength: 2048});
const tmp = makeTempDir('dicomstore-sql-auth-');
const issued = new Set();
const log = []; // {path, auth, error?}
let server;
let base;

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const sendJson = (res, status, body) => {
  res.writeHead(status, {'content-type': 'application/json'});
  res.end(JSON.stringify(body));
};

// Verifies an RS256 assertion against our public key; returns the claims or throws.
function verifyAssertion(assertion, audience) {
  const parts = String(assertion || '').split('.');
  if (parts.length !== 3) throw new Error('assertion is not a compact JWS');
  const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
  if (header.alg !== 'RS256') throw new Error(`alg ${header.alg}`);
  if (header.kid !== undefined && header.kid !== KEY_ID) throw new Error(`kid ${header.kid}`);
  const ok = crypto.verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), publicKey, Buffer.from(parts[2], 'base64url'));
  if (!ok) throw new Error('bad signature');
  if (claims.iss !== CLIENT_EMAIL) throw new Error(`iss ${claims.iss}`);
  if (claims.aud !== audience) throw new Error(`aud ${claims.aud} != ${audience}`);
  if (!String(claims.scope || '').split(' ').includes(SCOPE)) throw new Error(`scope ${claims.scope}`);
  const now = Math.floor(Date.now() / 1000);
  if (!(claims.exp > now && claims.exp - claims.iat <= 3600 && claims.iat <= now + 60)) {
    throw new Error(`iat/exp ${claims.iat}/${claims.exp}`);
  }
  return claims;
}

function handle(req, res, body) {
  const url = new URL(req.url, base);
  log.push({method: req.method, path: url.pathname, auth: req.headers.authorization || null});
  if (url.pathname === '/token' || url.pathname === '/token-refuses') {
    if (req.method !== 'POST') return sendJson(res, 405, {error: 'invalid_request'});
    if (!/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] || '')) {
      return sendJson(res, 400, {error: 'invalid_request', error_description: 'form body expected'});
    }
    if (url.pathname === '/token-refuses') {
      return sendJson(res, 400, {error: 'invalid_grant', error_description: 'Invalid JWT Signature.'});
    }
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== JWT_BEARER) {
      return sendJson(res, 400, {error: 'unsupported_grant_type', error_description: String(form.get('grant_type'))});
    }
    try {
      verifyAssertion(form.get('assertion'), `${base}/token`);
    } catch (e) {
      log[log.length - 1].error = e.message;
      return sendJson(res, 400, {error: 'invalid_grant', error_description: e.message});
    }
    const token = `ya29.test-${crypto.randomBytes(12).toString('hex')}`;
    issued.add(token);
    return sendJson(res, 200, {access_token: token, expires_in: 3599, token_type: 'Bearer'});
  }
  if (req.method === 'GET' && url.pathname === '/v1/projects/p/locations/l/datasets') {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization || '');
    if (!m || !(issued.has(m[1]) || m[1] === STATIC_BEARER)) {
      return sendJson(res, 401, {error: {code: 401, status: 'UNAUTHENTICATED',
        message: 'Request had invalid authentication credentials. Expected OAuth 2 access token.'}});
    }
    return sendJson(res, 200, DATASETS);
  }
  return sendJson(res, 404, {error: {code: 404, status: 'NOT_FOUND', message: `no route ${req.method} ${url.pathname}`}});
}

before(async () => {
  server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString()));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(async () => {
  if (server) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  removeDir(tmp);
});

function keyJson(tokenPath = '/token') {
  return JSON.stringify({
    type: 'service_account',
    project_id: 'interop-project',
    private_key_id: KEY_ID,
    private_key: privateKey.export({type: 'pkcs8', format: 'pem'}),
    client_email: CLIENT_EMAIL,
    client_id: '1234567890',
    token_uri: `${base}${tokenPath}`,
  });
}

function writeKey(name, tokenPath) {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, keyJson(tokenPath), {mode: 0o600});
  return file;
}

const saAuth = (file) => JSON.stringify({google: {type: 'service_account', credentialsfilepath: file}});

test('service_account key file: JWT assertion verified, the issued token reaches the API, the row comes back', T, async () => {
  const key = writeKey('sa.json');
  log.length = 0;
  const cli = sqlCli({endpoint: base, auth: saAuth(key)});
  const r = await cli.ok(QUERY, {format: 'json'});
  assert.deepEqual(JSON.parse(r.stdout), [{name: 'projects/p/locations/l/datasets/d1'}]);
  assert.equal(r.stderr, '');
  const tokenCalls = log.filter((l) => l.path === '/token');
  assert.equal(tokenCalls.length, 1, JSON.stringify(log));
  assert.equal(tokenCalls[0].error, undefined);
  const apiCalls = log.filter((l) => l.path.startsWith('/v1/'));
  assert.equal(apiCalls.length, 1);
  assert.ok(issued.has(apiCalls[0].auth.replace(/^Bearer /, '')), `API saw ${apiCalls[0].auth}`);

  // Two statements in one process: one token, reused.
  log.length = 0;
  const two = await cli.ok(`${QUERY}; ${QUERY}`, {format: 'csv'});
  assert.equal(two.stdout, 'name\nprojects/p/locations/l/datasets/d1\nname\nprojects/p/locations/l/datasets/d1\n');
  assert.equal(log.filter((l) => l.path === '/token').length, 1, JSON.stringify(log));
  assert.equal(log.filter((l) => l.path.startsWith('/v1/')).length, 2);
});

test('service_account key from an environment variable (credentialsenvvar; also the default for --auth {})', T, async () => {
  const env = {SQL_TEST_SA_KEY: keyJson()};
  const viaVar = sqlCli({endpoint: base, auth: JSON.stringify({google: {type: 'service_account', credentialsenvvar: 'SQL_TEST_SA_KEY'}})});
  const r = await viaVar.ok(QUERY, {format: 'csv', env});
  assert.equal(r.stdout, 'name\nprojects/p/locations/l/datasets/d1\n');
  // The provider default: GOOGLE_CREDENTIALS holds the key content.
  const dflt = sqlCli({endpoint: base, auth: '{}'});
  const d = await dflt.ok(QUERY, {format: 'csv', env: {GOOGLE_CREDENTIALS: keyJson()}});
  assert.equal(d.stdout, 'name\nprojects/p/locations/l/datasets/d1\n');
});

test('bearer token from an environment variable', T, async () => {
  log.length = 0;
  const cli = sqlCli({endpoint: base, auth: JSON.stringify({google: {type: 'bearer', credentialsenvvar: 'SQL_TEST_TOKEN'}})});
  const r = await cli.ok(QUERY, {format: 'csv', env: {SQL_TEST_TOKEN: STATIC_BEARER}});
  assert.equal(r.stdout, 'name\nprojects/p/locations/l/datasets/d1\n');
  assert.deepEqual(log.map((l) => [l.path, l.auth]), [['/v1/projects/p/locations/l/datasets', `Bearer ${STATIC_BEARER}`]]);

  // The variable unset: a clear message naming it, non-zero exit, no request.
  log.length = 0;
  const missing = await cli.run(QUERY, {env: {SQL_TEST_TOKEN: undefined}});
  assert.notEqual(missing.code, 0, describeRun(missing));
  assert.equal(missing.stdout, '');
  assert.match(missing.stderr, /SQL_TEST_TOKEN/);
  assert.equal(log.length, 0);

  // A wrong token: the API's 401 message, exit 1.
  const wrong = await cli.run(QUERY, {env: {SQL_TEST_TOKEN: 'not-the-token'}});
  assert.equal(wrong.code, 1, describeRun(wrong));
  assert.equal(wrong.stdout, '');
  assert.match(wrong.stderr, /invalid authentication credentials/);
});

test('token endpoint answers 400 invalid_grant: non-zero exit, the error on stderr, no API call', T, async () => {
  const key = writeKey('sa-refused.json', '/token-refuses');
  log.length = 0;
  const r = await sqlCli({endpoint: base, auth: saAuth(key)}).run(QUERY);
  assert.equal(r.timedOut, false);
  assert.notEqual(r.code, 0, describeRun(r));
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /invalid_grant/);
  assert.match(r.stderr, /Invalid JWT Signature/);
  assert.ok(r.stderr.includes(CLIENT_EMAIL), r.stderr);
  assert.deepEqual(log.map((l) => l.path), ['/token-refuses']);
});

test('--auth problems are reported before any request: bad JSON, unreadable key file, wrong key type', T, async () => {
  log.length = 0;
  const badJson = await sqlCli({endpoint: base, auth: '{"google":'}).run(QUERY);
  assert.notEqual(badJson.code, 0);
  assert.match(badJson.stderr, /--auth/);
  const noFile = await sqlCli({endpoint: base, auth: saAuth(path.join(tmp, 'missing.json'))}).run(QUERY);
  assert.notEqual(noFile.code, 0);
  assert.match(noFile.stderr, /missing\.json/);
  const wrongType = path.join(tmp, 'user.json');
  fs.writeFileSync(wrongType, JSON.stringify({type: 'authorized_user', client_id: 'x', refresh_token: 'y'}));
  const wt = await sqlCli({endpoint: base, auth: saAuth(wrongType)}).run(QUERY);
  assert.notEqual(wt.code, 0);
  assert.match(wt.stderr, /authorized_user/);
  assert.equal(log.length, 0, JSON.stringify(log));
});
