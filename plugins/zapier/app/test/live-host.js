'use strict';

// Starts a real `intellectra-integrations serve` on loopback for the app's tests: a temp dir, a
// generated registry (the Zapier plugin plus a stand-in host app), a tenant and an API key made with
// the CLI, and a local receiver standing in for hooks.zapier.com. `stop()` undoes all of it.

const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const APP_DIR = path.resolve(__dirname, '..');
const REPO_DIR = path.resolve(APP_DIR, '..', '..', '..');

const cliPath = () => {
  if (process.env.INTELLECTRA_CLI) return process.env.INTELLECTRA_CLI;
  const venv = path.join(REPO_DIR, '.venv', 'bin', 'intellectra-integrations');
  return fs.existsSync(venv) ? venv : 'intellectra-integrations';
};

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const waitFor = async (check, what, timeoutMs = 30000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
};

// hooks.zapier.com's stand-in: records every POST body.
const startReceiver = () =>
  new Promise((resolve) => {
    const received = [];
    const server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ url: req.url, headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status": "success"}');
      });
    });
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${server.address().port}`, received, close: () => server.close() }),
    );
  });

const startLiveHost = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'intellectra-zapier-app-'));
  fs.writeFileSync(
    path.join(dir, 'registry.toml'),
    [
      'autoload = false',
      '[plugins.zapier]',
      'module = "plugins.zapier"',
      '[plugins.test_host_app]',
      'module = "zapier_app_test_host"',
      '',
    ].join('\n'),
  );
  const env = {
    ...process.env,
    INTELLECTRA_DATABASE_URL: `sqlite:///${path.join(dir, 'intellectra.db')}`,
    INTELLECTRA_REGISTRY: path.join(dir, 'registry.toml'),
    INTELLECTRA_SECRET_KEYS: `${crypto.randomBytes(32).toString('base64url')}=`,
    INTELLECTRA_ALLOW_LOOPBACK_TARGETS: '1', // the test receiver listens on 127.0.0.1
    PYTHONPATH: [path.join(__dirname, 'host_app'), process.env.PYTHONPATH].filter(Boolean).join(path.delimiter),
  };
  const cli = (...args) => JSON.parse(execFileSync(cliPath(), args, { env, cwd: dir, encoding: 'utf8' }));

  const tenant = cli('tenants', 'create', 'Zap Test Studio', '--json');
  const key = cli('zapier', 'keys', 'create', '--tenant', tenant.id, '--label', 'app tests', '--json');
  const port = await freePort();
  env.INTELLECTRA_PUBLIC_URL = `http://127.0.0.1:${port}`; // serve needs it outside --sandbox
  const server = spawn(cliPath(), ['serve', '--port', String(port)], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  server.stdout.on('data', (chunk) => (output += chunk));
  server.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => server.once('exit', resolve));
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => {
      if (server.exitCode !== null) throw new Error(`serve exited (${server.exitCode}):\n${output}`);
      try {
        return (await fetch(`${baseUrl}/healthz`)).ok;
      } catch (e) {
        return false;
      }
    }, 'the host to serve');
  } catch (e) {
    server.kill('SIGTERM');
    throw e;
  }
  const receiver = await startReceiver();

  return {
    baseUrl,
    tenant,
    apiKey: key.api_key,
    receiver,
    waitFor,
    // What the host app does with host.emit(...): a domain event for this tenant.
    emit: async (type, data) => {
      const response = await fetch(`${baseUrl}/api/test-host/emit`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type, data }),
      });
      if (response.status !== 201) throw new Error(`emit failed: ${response.status} ${await response.text()}`);
      return (await response.json()).id;
    },
    hooks: async () => {
      const response = await fetch(`${baseUrl}/api/zapier/hooks`, { headers: { 'x-api-key': key.api_key } });
      return (await response.json()).hooks;
    },
    stop: async () => {
      receiver.close();
      if (server.exitCode === null) {
        server.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
};

module.exports = { startLiveHost };
