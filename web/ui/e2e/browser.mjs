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

/**
 * Signs out with the header's button and waits for the server to have ended the session: a page
 * load straight after the click would cut the request off and the refresh cookie would stay.
 */
export async function signOut(page) {
  await Promise.all([
    page.waitForResponse((response) => new URL(response.url()).pathname === '/api/auth/logout'),
    page.getByRole('button', { name: 'Sign out' }).click(),
  ]);
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

/** Phone sizes the layout is checked at besides PHONE (360×740). */
export const PHONE_390 = { width: 390, height: 844 };
export const LAPTOP = { width: 1366, height: 850 };

/**
 * In the page: the part of the viewport that the page's content scrolls through, between the bars
 * fixed to the top and bottom edges of the screen. A bar spans the whole width (as the navigation
 * bar and the notifications band do); anything narrower that is fixed over the page, such as a
 * floating button, is not a bar: it covers what passes under it for good.
 */
const OPEN_AREA = `window.__emsOpenArea = () => {
  const width = document.documentElement.clientWidth;
  const height = window.innerHeight;
  const fixed = [...document.querySelectorAll('body *')].filter((element) => {
    const position = getComputedStyle(element).position;
    return (position === 'fixed' || position === 'sticky') && element.checkVisibility();
  });
  let top = 0;
  let bottom = height;
  for (let changed = true; changed; ) {
    changed = false;
    for (const element of fixed) {
      const box = element.getBoundingClientRect();
      if (box.width < width - 2 || box.height < 1) continue;
      // Only a bar that shows: one under a full-screen panel covers nothing.
      const middle = document.elementFromPoint(width / 2, (Math.max(box.top, 0) + Math.min(box.bottom, height)) / 2);
      if (!middle || !element.contains(middle)) continue;
      if (box.top <= top + 1 && box.bottom > top && box.bottom < height / 2) {
        top = box.bottom;
        changed = true;
      }
      if (box.bottom >= bottom - 1 && box.top < bottom && box.top > height / 2) {
        bottom = box.top;
        changed = true;
      }
    }
  }
  // A pixel's margin: hit testing rounds to whole pixels.
  return { top: top + 1, bottom: bottom - 1, width, height };
}`;

/**
 * Scrolls the page from top to bottom and, at each step, checks every visible button, link, form
 * field, table cell and chart in the open area of the viewport: at several points inside it,
 * document.elementFromPoint must be the element itself or something inside it (or its label). At
 * the bottom of the page, nothing may be left under a bar, where scrolling cannot reach it.
 * `within` limits the check to the elements inside that selector (an open full-screen panel).
 */
export async function assertNothingOccluded(page, what, { within = 'body' } = {}) {
  // Evaluated through the DevTools protocol, as the axe source is: the page's policy allows no eval.
  await page.evaluate(OPEN_AREA);
  const problems = await page.evaluate(
    async ({ within }) => {
      const frame = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      const describe = (element) => {
        if (!element) return 'nothing';
        const classes =
          typeof element.className === 'string' && element.className
            ? `.${element.className.trim().split(/\s+/).join('.')}`
            : '';
        const text = (element.getAttribute('aria-label') ?? element.textContent ?? '')
          .trim()
          .replace(/\s+/g, ' ')
          .slice(0, 40);
        return `<${element.tagName.toLowerCase()}${classes}>${text ? ` "${text}"` : ''}`;
      };
      const root = document.querySelector(within);
      if (!root) return [`nothing matches ${within}`];
      const selector = 'a[href], button, input, select, textarea, th, td, figure, [role="img"]';
      const candidates = () =>
        [...root.querySelectorAll(selector)].filter(
          (element) =>
            !element.closest('[inert], .visually-hidden') &&
            element.checkVisibility({ opacityProperty: true, visibilityProperty: true }),
        );
      /** The element's box, cut to what its scrolling or clipping ancestors let show. */
      const shown = (element, area, box) => {
        let left = Math.max(box.left, 0);
        let right = Math.min(box.right, area.width);
        let top = Math.max(box.top, area.top);
        let bottom = Math.min(box.bottom, area.bottom);
        for (let parent = element.parentElement; parent && parent !== document.body; parent = parent.parentElement) {
          const style = getComputedStyle(parent);
          if (style.overflowX !== 'visible' || style.overflowY !== 'visible') {
            const clip = parent.getBoundingClientRect();
            left = Math.max(left, clip.left);
            right = Math.min(right, clip.right);
            top = Math.max(top, clip.top);
            bottom = Math.min(bottom, clip.bottom);
          }
        }
        // Hit testing rounds to whole pixels: keep off the edges, where a neighbour may answer.
        left += 2;
        right -= 2;
        top += 2;
        bottom -= 2;
        return right - left >= 4 && bottom - top >= 4 ? { left, right, top, bottom } : null;
      };
      /** Part of something fixed to the screen, which scrolling does not move. */
      const inFixed = (element) => {
        for (let node = element; node && node !== document.body; node = node.parentElement) {
          const position = getComputedStyle(node).position;
          if (position === 'fixed' || position === 'sticky') return true;
        }
        return false;
      };
      const onTop = (element, x, y) => {
        const hit = document.elementFromPoint(x, y);
        if (!hit) return { ok: false, hit };
        if (hit === element || element.contains(hit)) return { ok: true };
        if ([...(element.labels ?? [])].some((label) => label.contains(hit))) return { ok: true };
        return { ok: false, hit };
      };
      const found = new Map();
      const html = document.documentElement;
      const maxScroll = html.scrollHeight - window.innerHeight;
      const before = window.scrollY;
      for (let y = 0; ;) {
        window.scrollTo({ top: y, behavior: 'instant' });
        await frame();
        const area = window.__emsOpenArea();
        for (const element of candidates()) {
          // Each line of a link that wraps is a box of its own.
          const box = [...element.getClientRects()].map((rect) => shown(element, area, rect)).find(Boolean);
          if (!box) continue;
          const w = box.right - box.left;
          const h = box.bottom - box.top;
          for (const [fx, fy] of [
            [0.5, 0.5],
            [0.2, 0.2],
            [0.8, 0.2],
            [0.2, 0.8],
            [0.8, 0.8],
          ]) {
            const x = box.left + w * fx;
            const y2 = box.top + h * fy;
            const result = onTop(element, x, y2);
            if (!result.ok) {
              const key = `${describe(element)} is covered by ${describe(result.hit)}`;
              if (!found.has(key))
                found.set(
                  key,
                  `${key} at (${Math.round(x)}, ${Math.round(y2)}), scrolled to ${Math.round(window.scrollY)}`,
                );
              break;
            }
          }
        }
        if (window.scrollY >= maxScroll - 1) {
          // At the very bottom: whatever is still under the bottom bar can never be uncovered.
          for (const element of candidates()) {
            if (inFixed(element)) continue;
            const box = element.getBoundingClientRect();
            if (box.height < 4 || box.width < 4) continue;
            if (box.bottom > area.bottom + 1 && box.top < area.height) {
              const key = `${describe(element)} stays under the bar at the bottom of the screen`;
              if (!found.has(key))
                found.set(
                  key,
                  `${key} (its bottom at ${Math.round(box.bottom)}, the bar from ${Math.round(area.bottom)})`,
                );
            }
          }
          break;
        }
        y = Math.min(maxScroll, y + Math.max(100, (area.bottom - area.top) * 0.75));
      }
      window.scrollTo({ top: before, behavior: 'instant' });
      await frame();
      return [...found.values()];
    },
    { within },
  );
  assert.deepEqual(problems, [], `covered content on ${what}:\n${problems.join('\n')}`);
}

/**
 * Fails unless `locator` (the view's main content: a chart, a table, a list, a reply box) starts
 * in the open area of the first screen, with the page scrolled to the top; with `whole`, unless
 * it fits there entirely.
 */
export async function assertInFirstScreen(page, locator, what, { whole = false } = {}) {
  await locator.first().waitFor();
  await page.evaluate(
    () =>
      new Promise((resolve) => {
        window.scrollTo({ top: 0, behavior: 'instant' });
        // What is fixed to the screen may have changed size a frame ago (a notification).
        requestAnimationFrame(() => requestAnimationFrame(resolve));
      }),
  );
  await page.evaluate(OPEN_AREA);
  const area = await page.evaluate(() => window.__emsOpenArea());
  const box = await locator.first().evaluate((element) => {
    const rect = element.getBoundingClientRect();
    return { top: rect.top, bottom: rect.bottom };
  });
  assert.ok(
    box.top < area.bottom - 24,
    `${what} starts at ${Math.round(box.top)} px, below the first screen (open to ${Math.round(area.bottom)} px)`,
  );
  if (whole) {
    assert.ok(
      box.bottom <= area.bottom + 1,
      `${what} ends at ${Math.round(box.bottom)} px, below the first screen (open to ${Math.round(area.bottom)} px)`,
    );
  }
}
