// Going offline and coming back, in Chromium against a real EMS: the header and the banner say
// the same, a reload without a network shows the last data seen (and says from when), the views
// recover by themselves once the network is back, and signing out leaves nothing behind. Then the
// phone layout: one header row, the navigation at the bottom, column headings whole.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  assertInFirstScreen,
  assertNothingOccluded,
  launchBrowser,
  newPage,
  PHONE,
  PHONE_390,
  screenshot,
  signIn,
  waitForHeading,
  WAIT_MS,
} from './browser.mjs';
import { ADMIN, cleanUpOnce, startEms } from './ems-server.mjs';
import { apiAs, poll, publishReadings, readingsFor } from './fixtures.mjs';

const suffix = randomBytes(3).toString('hex');
const customer = {
  username: `offline-${suffix}`,
  displayName: `Olga Offline ${suffix}`,
  password: 'a long e2e passphrase',
};
const DEVICES = [
  { name: `Boiler ${suffix}`, location: 'Attic', max_hourly_kwh: 3 },
  { name: `Dryer ${suffix}`, location: 'Laundry', max_hourly_kwh: 2 },
];
const DAY_MS = 24 * 60 * 60 * 1000;
const today = new Date().toISOString().slice(0, 10);
const yesterday = new Date(Date.now() - DAY_MS).toISOString().slice(0, 10);
const STEP = { timeout: 3 * 60_000 };

let ems;
let browser;

// Closes the browser, stops the server and drops its database; also on Ctrl-C or a CI's SIGTERM.
const cleanUp = cleanUpOnce(() => [browser, ems]);

const connection = (page) => page.locator('header .connection');

async function connectionIs(page, state, words) {
  await page.locator(`header .connection[data-state="${state}"]`).waitFor();
  assert.equal((await connection(page).textContent()).trim(), `Live updates: ${words}`);
}

/** Waits until the service worker controls the page, so a reload works without a network. */
async function serviceWorkerInControl(page) {
  await page.evaluate(
    (timeout) =>
      Promise.race([
        navigator.serviceWorker.ready.then(() =>
          navigator.serviceWorker.controller
            ? undefined
            : new Promise((resolve) =>
                navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }),
              ),
        ),
        new Promise((_, reject) => setTimeout(() => reject(new Error('no service worker took control')), timeout)),
      ]),
    WAIT_MS,
  );
}

/** How many API answers the dashboard keeps in IndexedDB on this device. */
function keptAnswers(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const request = indexedDB.open('ems-offline');
        request.onerror = () => reject(request.error);
        request.onsuccess = () => {
          const db = request.result;
          if (!db.objectStoreNames.contains('answers')) {
            db.close();
            return resolve(0);
          }
          const count = db.transaction('answers').objectStore('answers').count();
          count.onsuccess = () => {
            db.close();
            resolve(count.result);
          };
          count.onerror = () => reject(count.error);
        };
      }),
  );
}

describe('Offline and back, and the phone layout', { timeout: 10 * 60_000 }, () => {
  let customerPage;

  before(async () => {
    ems = await startEms();
    browser = await launchBrowser();
    const admin = await apiAs(ems.baseUrl, ADMIN.username, ADMIN.password);
    const user = await admin.post('/api/users', {
      username: customer.username,
      display_name: customer.displayName,
      password: customer.password,
      role: 'client',
    });
    const devices = [];
    for (const device of DEVICES) {
      devices.push(await admin.post('/api/devices', { ...device, description: '', owner_id: user.id }));
    }
    const hours = Object.fromEntries(Array.from({ length: 24 }, (_, hour) => [hour, [0.2, 0.2, 0.2, 0.2, 0.2, 0.2]]));
    await publishReadings(ems.database, [
      ...readingsFor(devices[0].id, yesterday, hours),
      ...readingsFor(devices[1].id, yesterday, hours),
    ]);
    await poll('the readings to be stored', async () => {
      const loaded = await admin.get(
        `/api/devices/${devices[1].id}/consumption?from=${yesterday}&to=${today}&step=day`,
      );
      return loaded.total_kwh > 28.7;
    });
  });

  after(cleanUp);

  it('says Offline in the header and the banner at once, and Live again once back', STEP, async () => {
    customerPage = await newPage(browser, ems.baseUrl, { locale: 'en-GB' });
    const { context, page } = customerPage;
    await signIn(page, customer.username, customer.password);
    await waitForHeading(page, 'My devices');
    await page.getByRole('article', { name: DEVICES[1].name }).waitFor();
    await connectionIs(page, 'connected', 'Live');
    await serviceWorkerInControl(page);

    await context.setOffline(true);
    await page.getByText('You are offline').waitFor();
    await connectionIs(page, 'offline', 'Offline');
    await screenshot(page, 'offline-banner-desktop');

    await context.setOffline(false);
    await connectionIs(page, 'connected', 'Live');
    await page.getByText('You are offline').waitFor({ state: 'detached' });
  });

  it('reloads offline into the last data seen, says from when, and recovers without a click', STEP, async () => {
    const { context, page } = customerPage;
    await context.setOffline(true);
    await connectionIs(page, 'offline', 'Offline');
    await page.reload();
    await waitForHeading(page, 'My devices');
    await page.getByRole('article', { name: DEVICES[1].name }).waitFor();
    const notice = page.getByText(/^Shown from \d{2}:\d{2}, offline\.$/);
    await notice.waitFor();
    await page.getByText('You are offline').waitFor();
    await connectionIs(page, 'offline', 'Offline');
    await screenshot(page, 'offline-reload-desktop');

    // A page not seen before has nothing kept: it says so, and loads by itself once back.
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: /^Alerts/ })
      .click();
    await waitForHeading(page, 'Alerts');
    await page.getByText('has not been loaded on this device before').waitFor();

    await context.setOffline(false);
    await connectionIs(page, 'connected', 'Live');
    await page.getByText('No alerts yet.').waitFor();
    await page.getByText('has not been loaded on this device before').waitFor({ state: 'detached' });
    await notice.waitFor({ state: 'detached' });
  });

  it('brings the consumption view back from its error once online, without a click', STEP, async () => {
    const { context, page } = customerPage;
    await context.setOffline(false);
    await page.goto('/consumption');
    await waitForHeading(page, 'Consumption');
    await page.locator('figure.chart .u-over').waitFor();

    await context.setOffline(true);
    await page.getByText('You are offline').waitFor();
    // A period never loaded: it cannot be shown offline.
    await page.getByRole('radio', { name: 'Month', exact: true }).check();
    await page.locator('.consumption [role="alert"], .consumption .form-error').first().waitFor();
    assert.equal(await page.locator('figure.chart').count(), 0);

    await context.setOffline(false);
    await page.getByText('You are offline').waitFor({ state: 'detached' });
    await page.locator('figure.chart .u-over').waitFor();
  });

  it('forgets what it kept when the customer signs out', STEP, async () => {
    const { context, page } = customerPage;
    assert.ok((await keptAnswers(page)) > 0, 'nothing was kept on the device while signed in');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await waitForHeading(page, 'Sign in');
    await context.setOffline(true);
    await page.reload();
    await waitForHeading(page, 'Sign in');
    assert.equal(await page.getByText(DEVICES[0].name).count(), 0);
    const kept = await keptAnswers(page);
    assert.equal(kept, 0, 'answers kept on the device after signing out');
    await context.setOffline(false);
    await context.close();
  });

  for (const viewport of [PHONE_390, PHONE]) {
    it(
      `fits a ${viewport.width} px phone: one header row, navigation at the bottom, headings whole`,
      STEP,
      async () => {
        const { context, page } = await newPage(browser, ems.baseUrl, { viewport, locale: 'en-GB' });
        try {
          await signIn(page, customer.username, customer.password);
          await waitForHeading(page, 'My devices');
          await page.getByRole('article', { name: DEVICES[0].name }).waitFor();
          const header = await page.locator('header.app-header').boundingBox();
          assert.ok(header.height <= 72, `the header is ${header.height} px tall`);
          const nav = await page.getByRole('navigation', { name: 'Main' }).boundingBox();
          assert.ok(Math.abs(nav.y + nav.height - viewport.height) <= 1, `the navigation is at ${JSON.stringify(nav)}`);
          await assertInFirstScreen(page, page.locator('.card-grid'), 'the devices');
          await assertNothingOccluded(page, `the devices on a ${viewport.width} px phone`);

          await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Consumption' }).click();
          await waitForHeading(page, 'Consumption');
          await page.locator('figure.chart').waitFor();
          await assertInFirstScreen(page, page.locator('figure.chart'), 'the chart');
          await page.getByRole('link', { name: 'Table' }).click();
          await page.locator('.value-table tfoot').waitFor();
          const broken = await page.evaluate(() => {
            // Each word of each column heading on one line: one box per word.
            const found = [];
            for (const th of document.querySelectorAll('main th')) {
              const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
              for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                for (const match of node.textContent.matchAll(/\S+/g)) {
                  const range = document.createRange();
                  range.setStart(node, match.index);
                  range.setEnd(node, match.index + match[0].length);
                  const lines = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
                  if (lines.size > 1) found.push(match[0]);
                }
              }
            }
            return found;
          });
          assert.deepEqual(broken, [], 'words broken across lines in table headings');
          await screenshot(page, `phone-${viewport.width}-consumption-table`);
        } finally {
          await context.close();
        }
      },
    );
  }
});
