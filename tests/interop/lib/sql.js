'use strict';
// Helpers for the `dicomstore sql` / `dicomstore shell` end-to-end tests: run the CLI as a
// child process (always bounded in time, stdin always closed), build WHERE clauses, compare
// against golden files, and a recording HTTP proxy that shows which requests the CLI sent.
//
// CLI contract used here:
//   dicomstore sql [--endpoint URL | --data DIR] [--auth JSON] [-o FMT] [--page-limit N]
//                  [-i FILE] ["STATEMENTS"]         (stdin when no statements and no -i)
//   dicomstore shell [same options]                 (statements from stdin when not a tty)
//   results on stdout, status lines and errors on stderr; exit 1 = a statement failed,
//   2 = bad options.

const assert = require('node:assert/strict');
const {execFile} = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const {binaryPath, PROJECT, LOCATION} = require('./server');

const RUN_TIMEOUT_MS = 20_000;
const GOLDEN_DIR = path.join(__dirname, '..', 'golden', 'sql');

// Environment for the CLI: ours minus variables that would change its behaviour
// (GOOGLE_CREDENTIALS is the default --auth source for --endpoint).
function cliEnv(extra = {}) {
  const env = {...process.env};
  delete env.GOOGLE_CREDENTIALS;
  return {...env, ...extra};
}

// Runs `dicomstore <args>`; resolves to {code, signal, stdout, stderr}. Never rejects on a
// non-zero exit; a timeout kills the child (SIGKILL) and is reported as signal 'SIGKILL'.
function runCli(args, {input, env, cwd, timeoutMs = RUN_TIMEOUT_MS} = {}) {
  const bin = binaryPath();
  return new Promise((resolve) => {
    const child = execFile(bin, args, {
      timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, encoding: 'utf8',
      env: cliEnv(env), cwd,
    }, (err, stdout, stderr) => {
      let code = 0;
      if (err) code = typeof err.code === 'number' ? err.code : null;
      resolve({code, signal: err ? err.signal || null : null, stdout, stderr, args, timedOut: Boolean(err && err.killed)});
    });
    child.stdin.on('error', () => { /* the CLI may exit before reading stdin */ });
    child.stdin.end(input === undefined ? '' : input);
  });
}

const describeRun = (r) =>
  `\n--- dicomstore ${r.args.map((a) => JSON.stringify(a)).join(' ')}\n--- exit ${r.code} signal ${r.signal}` +
  `\n--- stdout:\n${r.stdout.slice(0, 4000)}\n--- stderr:\n${r.stderr.slice(0, 4000)}`;

function assertExit(r, code, what = '') {
  assert.equal(r.timedOut, false, `${what} timed out${describeRun(r)}`);
  assert.equal(r.code, code, `${what} exit code${describeRun(r)}`);
  return r;
}

// A CLI bound to one target: `--endpoint URL` or `--data DIR`.
//   const q = sqlCli({endpoint}); await q.ok("SELECT ...", {format: 'json'})
function sqlCli(target) {
  const targetArgs = target.endpoint ? ['--endpoint', target.endpoint] : ['--data', target.data];
  if (target.auth) targetArgs.push('--auth', target.auth);
  const argv = (statements, {format, args = []} = {}) =>
    ['sql', ...targetArgs, ...(format ? ['-o', format] : []), ...args, ...(statements === undefined ? [] : [statements])];
  const cli = {
    targetArgs,
    run: (statements, opts = {}) => runCli(argv(statements, opts), opts),
    shell: (input, {format, args = [], ...opts} = {}) =>
      runCli(['shell', ...targetArgs, ...(format ? ['-o', format] : []), ...args], {...opts, input}),
    // Must succeed; returns the run.
    async ok(statements, opts = {}) {
      return assertExit(await cli.run(statements, opts), 0, statements);
    },
    // Must exit with `code` (default 1).
    async fail(statements, opts = {}, code = 1) {
      return assertExit(await cli.run(statements, opts), code, statements);
    },
    // Runs with -o json and returns the parsed rows.
    async rows(statements, opts = {}) {
      const r = await cli.ok(statements, {...opts, format: 'json'});
      try {
        return JSON.parse(r.stdout);
      } catch (e) {
        assert.fail(`stdout is not JSON: ${e.message}${describeRun(r)}`);
      }
    },
  };
  return cli;
}

// WHERE fragments for the path parameters.
const sqlStr = (s) => `'${String(s).replace(/'/g, "''")}'`;
const whereLoc = (project = PROJECT, location = LOCATION) =>
  `projectsId = ${sqlStr(project)} AND locationsId = ${sqlStr(location)}`;
const whereDs = (ds) => `${whereLoc()} AND datasetsId = ${sqlStr(ds)}`;
const whereStore = (ds, store) => `${whereDs(ds)} AND dicomStoresId = ${sqlStr(store)}`;
const execArgs = (ds, store) =>
  `@projectsId=${sqlStr(PROJECT)}, @locationsId=${sqlStr(LOCATION)}, @datasetsId=${sqlStr(ds)}` +
  (store === undefined ? '' : `, @dicomStoresId=${sqlStr(store)}`);

// Golden files: tests/interop/golden/sql/<name>. UPDATE_GOLDEN=1 rewrites them (check the
// diff by eye before committing). `update: false` only compares (a second producer of the
// same output must not overwrite the file).
function assertGolden(name, actual, {update = true} = {}) {
  const file = path.join(GOLDEN_DIR, name);
  if (update && process.env.UPDATE_GOLDEN === '1') {
    fs.mkdirSync(GOLDEN_DIR, {recursive: true});
    fs.writeFileSync(file, actual);
  }
  assert.ok(fs.existsSync(file), `golden file ${file} is missing (run with UPDATE_GOLDEN=1 once)`);
  const expected = fs.readFileSync(file, 'utf8');
  assert.equal(actual, expected, `output differs from golden file ${file}`);
}

// A transparent HTTP proxy in front of `targetBase` that records every request line, so a
// test can see what the CLI sent (query strings, fan-out, pagination). Loopback only.
async function startRecordingProxy(targetBase) {
  const target = new URL(targetBase);
  const requests = [];
  const server = http.createServer((req, res) => {
    requests.push({method: req.method, url: req.url, headers: req.headers});
    const upstream = http.request({
      host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers,
    }, (ures) => {
      res.writeHead(ures.statusCode, ures.headers);
      ures.pipe(res);
    });
    upstream.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
    req.pipe(upstream);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    requests,
    clear() { requests.length = 0; },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}

// A port nothing listens on: bind, read the port, close.
async function closedPort() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const {port} = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

module.exports = {
  RUN_TIMEOUT_MS, GOLDEN_DIR, runCli, describeRun, assertExit, sqlCli, sqlStr, whereLoc, whereDs, whereStore,
  execArgs, assertGolden, startRecordingProxy, closedPort,
};
