// Every main view, on a laptop and on phones, with a live notification showing where one can
// arrive: nothing covers the page's buttons, links, fields, tables or charts at any scroll
// position, and each view's main content is on its first screen. Screenshots of each go to
// test-artifacts/ (screens-<view>-<size>.png).
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  assertInFirstScreen,
  assertNothingOccluded,
  LAPTOP,
  launchBrowser,
  newPage,
  PHONE,
  PHONE_390,
  screenshot,
  signIn,
  signOut,
  waitForHeading,
} from './browser.mjs';
import { ADMIN, cleanUpOnce, startEms } from './ems-server.mjs';
import { apiAs, poll, publishReadings, readingsFor } from './fixtures.mjs';

const suffix = randomBytes(3).toString('hex');
const customer = {
  username: `screens-${suffix}`,
  displayName: `Dana Screens ${suffix}`,
  password: 'a long e2e passphrase',
};
const DEVICES = [
  { name: `Heat pump ${suffix}`, location: 'Garden', max_hourly_kwh: 4 },
  { name: `Sauna heater ${suffix}`, location: 'Basement', max_hourly_kwh: 2.5 },
  { name: `Fridge ${suffix}`, location: 'Kitchen', max_hourly_kwh: 0.5 },
];
const DAY_MS = 24 * 60 * 60 * 1000;
const today = new Date().toISOString().slice(0, 10);
const yesterday = new Date(Date.now() - DAY_MS).toISOString().slice(0, 10);
const STEP = { timeout: 5 * 60_000 };
const LIVE_WAIT = { timeout: 30_000 };

let ems;
let browser;
let devices;

// Closes the browser, stops the server and drops its database; also on Ctrl-C or a CI's SIGTERM.
const cleanUp = cleanUpOnce(() => [browser, ems]);

/** A day of a household's readings: `base` kWh an hour spread over six readings, more in the evening. */
function dayOf(deviceId, date, base, hours) {
  const values = {};
  for (const hour of hours) {
    const evening = hour >= 17 && hour <= 21 ? 1.6 : 1;
    values[hour] = Array.from({ length: 6 }, (_, index) => Number(((base * evening) / 6 + index * 0.001).toFixed(3)));
  }
  return readingsFor(deviceId, date, values);
}

const hoursUntilNow = () => Array.from({ length: new Date().getUTCHours() }, (_, hour) => hour);
const allHours = Array.from({ length: 24 }, (_, hour) => hour);

/** Yesterday's hours not used yet for the sauna's over-limit readings (each raises new alerts). */
let spareHour = 0;

/**
 * Makes sure a live alert's notification is showing, raising one with over-limit readings if
 * none is, and holds it there with the pointer (a notification stays while pointed at).
 */
async function withToast(page) {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const toast = page.locator('.toast').last();
    if (!(await toast.isVisible())) {
      const hour = spareHour % 24;
      // A few minutes after the hour's regular readings, so they are new readings, not repeats.
      const minutes = 2 + Math.floor(spareHour / 24);
      spareHour += 1;
      const extra = readingsFor(devices[1].id, yesterday, { [hour]: [1, 1, 1, 1, 1, 1] }).map((reading) => ({
        ...reading,
        timestamp: reading.timestamp + minutes * 60_000,
      }));
      await publishReadings(ems.database, extra);
      await toast.waitFor(LIVE_WAIT);
    }
    try {
      await toast.hover({ timeout: 3_000 });
      return;
    } catch {
      // It timed out just then: raise another.
    }
  }
  throw new Error('no notification stayed long enough to point at');
}

/** Checks one view and saves its screenshot as `name` (first, so a failure can be seen). */
async function check(page, name, what, main, { toast = false, within, whole = false } = {}) {
  if (toast) await withToast(page);
  await screenshot(page, name);
  await assertInFirstScreen(page, main, `the ${what}'s main content`, { whole });
  await assertNothingOccluded(page, what, within ? { within } : {});
}

describe('Every view, on a laptop and on phones', { timeout: 20 * 60_000 }, () => {
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
    devices = [];
    for (const device of DEVICES) {
      devices.push(await admin.post('/api/devices', { ...device, description: '', owner_id: user.id }));
    }
    const readings = [];
    for (const [index, device] of devices.entries()) {
      const base = [2.2, 1.7, 0.15][index];
      readings.push(...dayOf(device.id, yesterday, base, allHours), ...dayOf(device.id, today, base, hoursUntilNow()));
    }
    await publishReadings(ems.database, readings);
    await poll('the readings to be stored', async () => {
      const loaded = await admin.get(
        `/api/devices/${devices[2].id}/consumption?from=${yesterday}&to=${today}&step=hour`,
      );
      return loaded.points.filter((point) => point.kwh > 0).length === 24;
    });
    // The sauna (limit 2.5 kWh) goes over in the evening: alerts to list.
  });

  after(cleanUp);

  for (const [size, viewport] of [
    ['desktop', LAPTOP],
    ['phone', PHONE_390],
    ['phone-360', PHONE],
  ]) {
    it(`shows every view uncovered, main content first, at ${viewport.width}×${viewport.height}`, STEP, async () => {
      const { context, page } = await newPage(browser, ems.baseUrl, { viewport, locale: 'en-GB' });
      const nav = page.getByRole('navigation', { name: 'Main' });
      try {
        await page.goto('/login');
        await waitForHeading(page, 'Sign in');
        await check(page, `screens-login-${size}`, 'sign-in page', page.locator('main form'));

        await signIn(page, customer.username, customer.password);
        await waitForHeading(page, 'My devices');
        await page.getByRole('article', { name: DEVICES[2].name }).waitFor();
        await page.locator('header .connection[data-state="connected"]').waitFor();
        await check(page, `screens-customer-devices-${size}`, 'customer devices', page.locator('.card-grid'), {
          toast: true,
        });

        await nav.getByRole('link', { name: 'Consumption' }).click();
        await waitForHeading(page, 'Consumption');
        for (const kind of ['Day', 'Week', 'Month']) {
          await page.getByRole('radio', { name: kind, exact: true }).check();
          await page.locator('figure.chart .u-over').waitFor();
          await check(
            page,
            `screens-consumption-${kind.toLowerCase()}-${size}`,
            `consumption ${kind.toLowerCase()}`,
            page.locator('figure.chart'),
            { toast: true },
          );
        }
        await page.getByRole('link', { name: 'Table' }).click();
        await page.locator('.value-table tfoot').waitFor();
        await check(page, `screens-consumption-table-${size}`, 'consumption table', page.locator('.value-table'), {
          toast: true,
        });

        await nav.getByRole('link', { name: /^Alerts/ }).click();
        await waitForHeading(page, 'Alerts');
        await page
          .getByRole('button', { name: /^Acknowledge/ })
          .first()
          .waitFor();
        await check(page, `screens-customer-alerts-${size}`, 'customer alerts', page.locator('main table'), {
          toast: true,
        });

        await nav.getByRole('button', { name: 'Support chat' }).click();
        const panel = page.getByRole('dialog', { name: 'Support chat' });
        // A question for support, answered automatically; the inbox lists the conversation.
        await panel.getByLabel('Message to support').fill('hello');
        await panel.getByLabel('Message to support').press('Enter');
        await panel.locator('.chat-message--rule').first().waitFor(LIVE_WAIT);
        const fullScreen = viewport.width < 1024;
        await check(page, `screens-customer-chat-${size}`, 'open support chat', panel.locator('.chat-form'), {
          whole: true,
          // Narrow screens give the chat the whole screen, as a page of its own.
          within: fullScreen ? '.chat-dock' : undefined,
        });
        await panel.getByRole('button', { name: 'Close the support chat' }).click();

        await signOut(page);
        await signIn(page, ADMIN.username, ADMIN.password);
        await waitForHeading(page, 'Users');
        await check(page, `screens-admin-users-${size}`, 'admin users', page.locator('main table'));

        await nav.getByRole('link', { name: 'Devices' }).click();
        await waitForHeading(page, 'Devices');
        await page.getByText(DEVICES[0].name).first().waitFor();
        await check(page, `screens-admin-devices-${size}`, 'admin devices', page.locator('main table'));

        await nav.getByRole('link', { name: /^Alerts/ }).click();
        await waitForHeading(page, 'Alerts of all customers');
        await page
          .getByRole('button', { name: /^Acknowledge/ })
          .first()
          .waitFor();
        await check(page, `screens-admin-alerts-${size}`, 'admin alerts', page.locator('main table'));

        await nav.getByRole('link', { name: 'Support' }).click();
        await waitForHeading(page, 'Support inbox');
        const conversation = page.getByRole('link', { name: new RegExp(customer.displayName) });
        await check(page, `screens-admin-inbox-${size}`, 'support inbox', page.locator('.conversation-list'));
        await conversation.click();
        const reply = page.locator('.inbox-conversation .chat-form');
        await page.locator('.inbox-conversation .chat-message').first().waitFor();
        await check(page, `screens-admin-conversation-${size}`, 'support conversation', reply, { whole: true });

        await nav.getByRole('link', { name: 'System' }).click();
        await waitForHeading(page, 'System');
        await page.locator('.replicas-table tbody tr').first().waitFor();
        await check(page, `screens-admin-system-${size}`, 'system', page.locator('.replicas-table'));
      } finally {
        await context.close();
      }
    });
  }
});
