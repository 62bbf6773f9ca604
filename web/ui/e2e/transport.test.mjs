// How the dashboard travels: its scripts and styles arrive compressed (the build's brotli and
// gzip copies), and its live connection opens with a single-use ticket, never with the access
// token in the WebSocket's URL, where access logs and proxies would keep it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertNoCspViolations, launchBrowser, newPage, signIn, waitForHeading } from './browser.mjs';
import { cleanUpOnce, DEMO_PASSWORD, startEms } from './ems-server.mjs';

const STEP = { timeout: 60_000 };

let ems;
let browser;
// Closes the browser, stops the server and drops its database; also on Ctrl-C or a CI's SIGTERM.
const cleanUp = cleanUpOnce(() => [browser, ems]);

const connected = (page) => page.locator('header .connection[data-state="connected"]').waitFor();

describe('transport', { timeout: 3 * 60_000 }, () => {
  before(async () => {
    ems = await startEms();
    browser = await launchBrowser();
  });
  after(cleanUp);

  it("sends the dashboard's scripts and styles compressed", STEP, async () => {
    const { context, page } = await newPage(browser, ems.baseUrl);
    const assets = [];
    page.on('response', (response) => {
      const path = new URL(response.url()).pathname;
      if (/^\/assets\/.+\.(js|css)$/.test(path)) assets.push(response);
    });
    await page.goto('/login');
    await page.getByLabel('Username').waitFor();
    const loaded = await Promise.all(
      assets.map(async (response) => {
        const headers = await response.allHeaders();
        return { path: new URL(response.url()).pathname, encoding: headers['content-encoding'] ?? 'none' };
      }),
    );
    assert.ok(
      loaded.some(({ path }) => path.endsWith('.js')),
      `a script: ${JSON.stringify(loaded)}`,
    );
    assert.ok(
      loaded.some(({ path }) => path.endsWith('.css')),
      `a style sheet: ${JSON.stringify(loaded)}`,
    );
    // Chromium accepts brotli, so it gets the build's .br copies.
    assert.deepEqual(
      loaded.filter(({ encoding }) => encoding !== 'br'),
      [],
      'every script and style sheet arrives brotli-encoded',
    );
    assertNoCspViolations(page, 'the login page');
    await context.close();
  });

  it(
    'opens the live connection with a new ticket each time, and no access token in any WebSocket URL',
    STEP,
    async () => {
      const { context, page } = await newPage(browser, ems.baseUrl);
      const sockets = [];
      page.on('websocket', (socket) => sockets.push(socket.url()));
      await signIn(page, 'ana', DEMO_PASSWORD);
      await waitForHeading(page, 'My devices');
      await connected(page);

      // A dropped connection comes back with a ticket of its own.
      const reconnection = page.waitForEvent('websocket');
      await page.evaluate(() => window.__emsLive.drop());
      await reconnection;
      await connected(page);
      assert.ok(sockets.length >= 2, `the connection and its reconnection: ${sockets.join(', ')}`);
      for (const url of sockets) {
        const query = new URL(url).searchParams;
        assert.equal(query.get('access_token'), null, `no access token in ${url}`);
        assert.match(query.get('ticket') ?? '', /^[A-Za-z0-9_-]{43}$/, `a ticket in ${url}`);
      }
      const tickets = sockets.map((url) => new URL(url).searchParams.get('ticket'));
      assert.equal(new Set(tickets).size, tickets.length, 'every connection has its own ticket');

      // A ticket seen in a log is no use: it opened its connection and works no more.
      const replayed = await page.evaluate(
        (url) =>
          new Promise((resolve) => {
            const socket = new WebSocket(url);
            socket.onclose = (event) => resolve({ code: event.code, reason: event.reason });
          }),
        sockets[0],
      );
      assert.equal(replayed.code, 4401, JSON.stringify(replayed));
      assert.match(replayed.reason, /already used/);
      assertNoCspViolations(page, 'the dashboard');
      await context.close();
    },
  );
});
