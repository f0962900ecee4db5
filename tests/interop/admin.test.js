'use strict';
// The process contract and the client wiring: --help/--version, the "listening on" line,
// /healthz, stdout discipline, --gcs-root, the bearer token the client sends, graceful
// SIGTERM (in-flight request finishes, idle keep-alive connections do not block exit).
const assert = require('node:assert/strict');
const http = require('node:http');
const {spawnSync} = require('node:child_process');
const {test} = require('node:test');
const {
  TOKEN, PARENT, binaryPath, makeTempDir, removeDir, startServer, terminate, stopServer, stopAndCheck, makeClient,
  rawRequest, datasetName, storeName,
} = require('./lib/server');

const T = {timeout: 45_000};

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms); }),
  ]);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('--help and --version exit 0 with output', T, () => {
  for (const args of [['--help'], ['--version'], ['serve', '--help']]) {
    const r = spawnSync(binaryPath(), args, {encoding: 'utf8', timeout: 10_000});
    assert.equal(r.error, undefined, `${args.join(' ')}: ${r.error}`);
    assert.equal(r.status, 0, `${args.join(' ')} exit status; stderr: ${r.stderr}`);
    assert.ok((r.stdout + r.stderr).trim().length > 0, `${args.join(' ')} printed nothing`);
  }
});

test('the client sends Authorization: Bearer <token> and the expected paths', T, async () => {
  const seen = [];
  const srv = http.createServer((req, res) => {
    seen.push({method: req.method, url: req.url, auth: req.headers.authorization});
    req.resume();
    req.on('end', () => {
      res.writeHead(200, {'content-type': 'application/json'});
      res.end('{}');
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const hc = makeClient(`http://127.0.0.1:${srv.address().port}`);
    await hc.projects.locations.datasets.get({name: datasetName('d')});
    await hc.projects.locations.datasets.dicomStores.getIamPolicy({resource: storeName('d', 's')});
    await hc.projects.locations.datasets.operations.cancel({name: `${datasetName('d')}/operations/1`});
  } finally {
    await new Promise((r) => srv.close(r));
  }
  assert.deepEqual(seen, [
    {method: 'GET', url: `/v1/${datasetName('d')}`, auth: `Bearer ${TOKEN}`},
    {method: 'GET', url: `/v1/${storeName('d', 's')}:getIamPolicy`, auth: `Bearer ${TOKEN}`},
    {method: 'POST', url: `/v1/${datasetName('d')}/operations/1:cancel`, auth: `Bearer ${TOKEN}`},
  ]);
});

test('serve: one stdout line, /healthz 200, access log not on stdout, SIGTERM exit 0', T, async () => {
  const dir = makeTempDir();
  const gcs = makeTempDir('dicomstore-interop-gcs-');
  let h;
  try {
    h = await startServer({dataDir: dir, args: ['--gcs-root', gcs]});
    assert.match(h.base, /^http:\/\/127\.0\.0\.1:\d+$/);
    for (let i = 0; i < 3; i++) {
      const r = await rawRequest(h.base, 'GET', '/healthz');
      assert.equal(r.status, 200);
    }
    const hc = makeClient(h.base);
    await hc.projects.locations.datasets.create({parent: PARENT, datasetId: 'log-ds', requestBody: {}});
    await assert.rejects(hc.projects.locations.datasets.get({name: datasetName('nope')}));
    await sleep(100);
    assert.equal(h.stdout(), `listening on 127.0.0.1:${h.port}\n`, 'stdout holds exactly the ready line');
    assert.ok(h.stderr().length > 0, 'access log lines go to stderr');
    await stopAndCheck(h);
    const after = await rawRequest(h.base, 'GET', '/healthz', {timeoutMs: 2000}).then(() => 'served', (e) => e);
    assert.notEqual(after, 'served', 'nothing listens after exit');
  } finally {
    if (h) await stopServer(h).catch(() => {});
    removeDir(dir);
    removeDir(gcs);
  }
});

test('two servers on separate data dirs are independent', T, async () => {
  const d1 = makeTempDir();
  const d2 = makeTempDir();
  let a; let b;
  try {
    [a, b] = await Promise.all([startServer({dataDir: d1}), startServer({dataDir: d2})]);
    assert.notEqual(a.port, b.port);
    await makeClient(a.base).projects.locations.datasets.create({parent: PARENT, datasetId: 'only-in-a', requestBody: {}});
    const lb = await makeClient(b.base).projects.locations.datasets.list({parent: PARENT});
    assert.deepEqual(lb.data, {});
    await Promise.all([stopAndCheck(a), stopAndCheck(b)]);
  } finally {
    for (const h of [a, b]) if (h) await stopServer(h).catch(() => {});
    removeDir(d1);
    removeDir(d2);
  }
});

test('SIGTERM: an in-flight request completes and is persisted; idle keep-alive does not block exit', T, async () => {
  const dir = makeTempDir();
  let h;
  const agent = new http.Agent({keepAlive: true, maxSockets: 4});
  try {
    h = await startServer({dataDir: dir});
    const hc = makeClient(h.base);
    await hc.projects.locations.datasets.create({parent: PARENT, datasetId: 'drain-ds', requestBody: {}});

    // An idle keep-alive connection.
    await new Promise((resolve, reject) => {
      const req = http.get({host: '127.0.0.1', port: h.port, path: '/healthz', agent}, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
    });

    // A request whose headers and part of its body have arrived when SIGTERM is sent.
    const body = JSON.stringify({labels: {drained: 'yes'}});
    const req = http.request({
      host: '127.0.0.1', port: h.port, method: 'POST',
      path: `/v1/${datasetName('drain-ds')}/dicomStores?dicomStoreId=inflight`,
      headers: {'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'authorization': `Bearer ${TOKEN}`},
    });
    const response = new Promise((resolve, reject) => {
      req.on('response', (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c) => { data += c; });
        res.on('end', () => resolve({status: res.statusCode, body: data}));
      });
      req.on('error', reject);
    });
    req.flushHeaders();
    req.write(body.slice(0, 5));
    await sleep(300);
    terminate(h);
    await sleep(300);
    req.end(body.slice(5));
    const res = await withTimeout(response, 10_000, 'in-flight request');
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(JSON.parse(res.body), {name: storeName('drain-ds', 'inflight'), labels: {drained: 'yes'}});

    const status = await withTimeout(h.exited, 10_000, 'exit after SIGTERM with an idle keep-alive connection open');
    assert.deepEqual(status, {code: 0, signal: null}, h.diag());
    h.stopped = true;

    h = await startServer({dataDir: dir});
    const g = await makeClient(h.base).projects.locations.datasets.dicomStores.get({name: storeName('drain-ds', 'inflight')});
    assert.deepEqual(g.data, {name: storeName('drain-ds', 'inflight'), labels: {drained: 'yes'}});
    await stopAndCheck(h);
  } finally {
    agent.destroy();
    if (h) await stopServer(h).catch(() => {});
    removeDir(dir);
  }
});
