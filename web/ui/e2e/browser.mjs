// Debian's Chromium driven by playwright-core, plus the checks the tests share.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = require('axe-core').source;
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));

/** Every wait in the tests gives up after this long. */
export const WAIT_MS = 10_000;

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 360, height: 740 };

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 30_000,
  });
}

export async function newPage(browser, baseURL, { viewport = DESKTOP, colorScheme = 'light', ...options } = {}) {
  const context = await browser.newContext({
    baseURL,
    viewport,
    colorScheme,
    isMobile: viewport.width < 600,
    hasTouch: viewport.width < 600,
    ...options,
  });
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS);
  const page = await context.newPage();
  // Chromium reports each content-security-policy violation on the console.
  const violations = [];
  cspViolations.set(page, violations);
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) violations.push(message.text());
  });
  return { context, page };
}

const cspViolations = new WeakMap();

/** Fails if anything on the page was refused by the server's Content-Security-Policy. */
export function assertNoCspViolations(page, what) {
  assert.deepEqual(cspViolations.get(page) ?? [], [], `content security policy violations on ${what}`);
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

/**
 * Runs axe-core in the page and fails on any serious or critical violation, or on anything the
 * content security policy refused. axe is evaluated through the DevTools protocol, which the
 * policy (no inline scripts) rightly does not cover.
 */
export async function assertAccessible(page, what) {
  assertNoCspViolations(page, what);
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const results = await window.axe.run(document, { resultTypes: ['violations'] });
    return results.violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map((violation) => ({
        rule: violation.id,
        impact: violation.impact,
        help: violation.help,
        nodes: violation.nodes.map((node) => node.target.join(' ')).slice(0, 5),
      }));
  });
  assert.deepEqual(violations, [], `accessibility violations on ${what}:\n${JSON.stringify(violations, null, 2)}`);
}

export async function assertNoSidewaysScroll(page, what) {
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  assert.ok(scrollWidth <= clientWidth, `${what} is ${scrollWidth} px wide in a ${clientWidth} px viewport`);
}

export async function signIn(page, username, password) {
  await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/**
 * An access token for calling the API from the page. The dashboard keeps its own in memory only,
 * so this gets a fresh one from the refresh cookie, under the dashboard's refresh lock, just as a
 * second tab would.
 */
export async function accessTokenOf(page) {
  return page.evaluate(() =>
    navigator.locks.request('ems-session-refresh', async () => {
      const response = await fetch('/api/auth/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
        signal: AbortSignal.timeout(5_000),
      });
      if (!response.ok) throw new Error(`refresh: HTTP ${response.status}`);
      return (await response.json()).access_token;
    }),
  );
}

export async function heading(page) {
  const h1 = page.getByRole('heading', { level: 1 });
  await h1.waitFor();
  return (await h1.textContent())?.trim();
}

/** Waits for the main heading to read `text`. */
export async function waitForHeading(page, text) {
  await page.getByRole('heading', { level: 1, name: text, exact: true }).waitFor();
}
