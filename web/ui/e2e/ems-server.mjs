// Runs a real EMS for the end-to-end tests: a fresh PostgreSQL database with the demo data, and
// `ems all` serving the built dashboard on a free port. stop() undoes all of it.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import pg from 'pg';

const UI_DIR = fileURLToPath(new URL('../dist/', import.meta.url));
const EMS_BIN = process.env.EMS_BIN ?? fileURLToPath(new URL('../../../target/debug/ems', import.meta.url));
// The server's maintenance database, through which test databases are made and dropped.
const ADMIN_DATABASE_URL = process.env.EMS_E2E_POSTGRES_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
export const AMQP_URL = process.env.EMS_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672/%2f';
export const MONITORS = 2;
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

export const ADMIN = { username: 'admin', password: 'ems-admin' };
export const DEMO_PASSWORD = 'ems-demo';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function onAdminDatabase(sql) {
  const client = new pg.Client({
    connectionString: ADMIN_DATABASE_URL,
    connectionTimeoutMillis: 10_000,
    query_timeout: 30_000,
  });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Deletes the durable queues `ems all` declared inside `namespace`, named as in
 * common/src/broker.rs (`Names`), so the broker does not collect them run after run.
 */
async function deleteQueues(namespace) {
  const connection = await amqp.connect(AMQP_URL, { timeout: 10_000 });
  try {
    const channel = await connection.createChannel();
    const queues = ['readings', 'readings.invalid', ...Array.from({ length: MONITORS }, (_, i) => `ingest.${i + 1}`)];
    for (const queue of queues) await channel.deleteQueue(`${namespace}.${queue}`);
  } finally {
    await connection.close();
  }
}

function databaseUrl(name) {
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs `ems` to completion, failing with its output when it fails. */
function runEms(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(EMS_BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), READY_TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`ems ${args[0]} failed (${signal ?? `exit ${code}`}):\n${output}`));
    });
  });
}

/** Polls /readyz until it answers 200, the process dies, or the deadline passes. */
async function waitUntilReady(baseUrl, child, log) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`ems all exited with ${child.exitCode}:\n${log()}`);
    try {
      const response = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`ems all was not ready within ${READY_TIMEOUT_MS / 1000} s:\n${log()}`);
}

export async function startEms() {
  if (!existsSync(EMS_BIN))
    throw new Error(`no ems binary at ${EMS_BIN}; build it with cargo build --bin ems, or set EMS_BIN`);
  if (!existsSync(`${UI_DIR}index.html`)) throw new Error(`no built dashboard in ${UI_DIR}; run npm run build first`);

  const database = `ems_e2e_${randomBytes(6).toString('hex')}`;
  const env = {
    ...process.env,
    EMS_DATABASE_URL: databaseUrl(database),
    EMS_ADMIN_USERNAME: ADMIN.username,
    EMS_ADMIN_PASSWORD: ADMIN.password,
    EMS_DEMO_PASSWORD: DEMO_PASSWORD,
    // Its own queue and subject names, so it neither takes nor sends messages of any other EMS
    // on the same RabbitMQ and NATS (a developer's, or the Rust pipeline tests).
    EMS_NAMESPACE: database,
    EMS_MONITORS: String(MONITORS),
    EMS_LOG: 'warn',
    // Some tests replay fixed days of past years (the days the clocks change), which the default
    // retention of raw readings (90 days) would refuse as too old.
    EMS_RAW_RETENTION: process.env.EMS_RAW_RETENTION ?? 'forever',
  };
  let child = null;
  let spawned = false;
  let output = '';

  async function stop() {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    // Both, even when one fails.
    const results = await Promise.allSettled([
      onAdminDatabase(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`),
      spawned ? deleteQueues(database) : undefined,
    ]);
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
  }

  try {
    await onAdminDatabase(`CREATE DATABASE ${database}`);
    await runEms(['seed', '--demo'], env);
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    spawned = true;
    child = spawn(EMS_BIN, ['all', '--listen', `127.0.0.1:${port}`, '--ui-dir', UI_DIR], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    await waitUntilReady(baseUrl, child, () => output);
    return { baseUrl, database, stop, log: () => output };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

/**
 * The clean-up of a test file: closes its browser, then stops its server and drops the database,
 * once however often called, and also on Ctrl-C or a CI's SIGTERM. `parts` gives the browser and
 * the server when called (either may not have started).
 */
export function cleanUpOnce(parts) {
  let cleaning;
  const cleanUp = () => {
    cleaning ??= (async () => {
      const [browser, ems] = parts();
      await browser?.close().catch(() => undefined);
      await ems?.stop();
    })();
    return cleaning;
  };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      cleanUp().finally(() => process.exit(130));
    });
  }
  return cleanUp;
}
