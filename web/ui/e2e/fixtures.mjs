// Test data through EMS's own interfaces: accounts and devices over the REST API, readings as a
// meter sends them, to RabbitMQ.
import amqp from 'amqplib';
import { AMQP_URL } from './ems-server.mjs';

/** A REST client signed in as `username`. */
export async function apiAs(baseUrl, username, password) {
  const call = async (method, path, body, token) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        Accept: 'application/json',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  const session = await call('POST', '/api/auth/login', { username, password });
  return {
    user: session.user,
    get: (path) => call('GET', path, undefined, session.access_token),
    post: (path, body) => call('POST', path, body, session.access_token),
    put: (path, body) => call('PUT', path, body, session.access_token),
  };
}

/**
 * Publishes readings (`{device_id, timestamp: epoch ms, measurement_value: kWh}`) to the
 * namespace's `readings` queue as persistent messages, and waits for the broker to confirm them.
 */
export async function publishReadings(namespace, readings) {
  const connection = await amqp.connect(AMQP_URL, { timeout: 10_000 });
  try {
    const channel = await connection.createConfirmChannel();
    const queue = `${namespace}.readings`;
    for (const reading of readings) {
      channel.sendToQueue(queue, Buffer.from(JSON.stringify(reading)), {
        persistent: true,
        contentType: 'application/json',
      });
    }
    await channel.waitForConfirms();
    await channel.close();
  } finally {
    await connection.close();
  }
}

/** Six 10-minute readings per hour: `hours` maps an hour of `date` (UTC) to its six kWh values. */
export function readingsFor(deviceId, date, hours) {
  return Object.entries(hours).flatMap(([hour, values]) =>
    values.map((kwh, index) => ({
      device_id: deviceId,
      // 10 minutes apart inside the hour (:05, :15, … :55), so each falls in that hour.
      timestamp: Date.parse(`${date}T${String(hour).padStart(2, '0')}:00:00Z`) + (index * 10 + 5) * 60_000,
      measurement_value: kwh,
    })),
  );
}

/** Calls `check` until it returns something truthy, or fails after `timeoutMs` with `what`. */
export async function poll(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(
    `timed out after ${timeoutMs / 1000} s waiting for ${what}; last: ${last?.message ?? JSON.stringify(last)}`,
  );
}
