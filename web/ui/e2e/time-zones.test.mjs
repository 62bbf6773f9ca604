// The customer's local time, against a real EMS, in a Chromium whose clock is in Bucharest
// (UTC+2, UTC+3 from 29 March 2026, when the clocks jump from 03:00 to 04:00): readings sent by a
// meter appear on the local days and hours they belong to, the day the clocks change has 23
// hours, alerts and chat show local 24-hour times, and choosing another zone in the settings
// changes every label.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { assertAccessible, launchBrowser, newPage, screenshot, signIn, waitForHeading, WAIT_MS } from './browser.mjs';
import { ADMIN, cleanUpOnce, startEms } from './ems-server.mjs';
import { apiAs, poll, publishReadings } from './fixtures.mjs';

const suffix = randomBytes(3).toString('hex');
const customer = { username: `local-${suffix}`, displayName: `Lia Local ${suffix}`, password: 'a long e2e passphrase' };
const deviceName = `Boiler ${suffix}`;
const ZONE = 'Europe/Bucharest';
const LIMIT = 2.5;

// 21:30 UTC on 28 March is 23:30 there; 22:30 UTC is already 00:30 on the 29th; 05:30 UTC on
// the 29th is 08:30, summer time.
const READINGS = [
  { at: '2026-03-28T21:30:00Z', kwh: 0.75 },
  { at: '2026-03-28T22:30:00Z', kwh: 3 },
  { at: '2026-03-29T05:30:00Z', kwh: 1.5 },
];

const STEP = { timeout: 2 * 60_000 };

let ems;
let browser;
// Closes the browser, stops the server and drops its database; also on Ctrl-C or a CI's SIGTERM.
const cleanUp = cleanUpOnce(() => [browser, ems]);

/** The step and kWh cells of the consumption table, row by row. */
async function tableRows(page) {
  await page.locator('.value-table').waitFor();
  return page
    .locator('.value-table tbody tr')
    .evaluateAll((rows) =>
      rows.map((row) => [row.querySelector('th').textContent.trim(), row.querySelector('td').textContent.trim()]),
    );
}

/** The table of one day of the device, once its total reads `total`. */
async function dayTable(page, deviceId, date, total) {
  await page.goto(`/consumption?device=${deviceId}&date=${date}&show=table`);
  await waitForHeading(page, 'Consumption');
  await page.locator('.value-table tfoot td').first().getByText(total, { exact: true }).waitFor();
  return tableRows(page);
}

/** HH:MM on the 24-hour clock in `zone`, as a person there reads the instant. */
function clockIn(zone, iso) {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(iso));
}

describe('Times in the customer’s zone', { timeout: 10 * 60_000 }, () => {
  let device;
  let context;
  let page;

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
    device = await admin.post('/api/devices', { name: deviceName, max_hourly_kwh: LIMIT, owner_id: user.id });
    await publishReadings(
      ems.database,
      READINGS.map(({ at, kwh }) => ({ device_id: device.id, timestamp: Date.parse(at), measurement_value: kwh })),
    );
    await poll('the readings to be stored', async () => {
      const series = await admin.get(
        `/api/devices/${device.id}/consumption?from=2026-03-28&to=2026-03-30&step=day&tz=UTC`,
      );
      return series.total_kwh === 5.25;
    });
    // A 12-hour locale, so a 24-hour clock is the dashboard's doing.
    ({ context, page } = await newPage(browser, ems.baseUrl, { locale: 'en-US', timezoneId: ZONE }));
    await signIn(page, customer.username, customer.password);
    await waitForHeading(page, 'My devices');
  });

  after(async () => {
    await context?.close();
    await cleanUp();
  });

  it('puts a reading at 22:30 UTC on the next local day, on the day the clocks go forward', STEP, async () => {
    const spring = await dayTable(page, device.id, '2026-03-29', '4.5 kWh');
    assert.equal(spring.length, 23, 'the day the clocks go forward has 23 hours');
    assert.deepEqual(spring.slice(0, 4), [
      ['00:00–01:00', '3 kWh ⚠ over the limit'],
      ['01:00–02:00', 'no data'],
      ['02:00–04:00', 'no data'],
      ['04:00–05:00', 'no data'],
    ]);
    assert.deepEqual(
      spring.find(([hour]) => hour === '08:00–09:00'),
      ['08:00–09:00', '1.5 kWh'],
    );
    assert.equal(spring.at(-1)[0], '23:00–00:00');
    await page.getByText(`Times in ${ZONE}`).waitFor();
    await assertAccessible(page, 'the consumption table in Bucharest');

    // The evening before holds only its own 23:30.
    const before = await dayTable(page, device.id, '2026-03-28', '0.75 kWh');
    assert.equal(before.length, 24);
    assert.deepEqual(before.at(-1), ['23:00–00:00', '0.75 kWh']);

    // The chart, aggregated the same way.
    await page.goto(`/consumption?device=${device.id}&date=2026-03-29`);
    const summary = page.locator('.consumption-summary');
    await summary.getByText('Total 4.5 kWh.').waitFor();
    assert.match(await summary.textContent(), /Highest hour: 00:00–01:00, 3 kWh\./);
    await page.locator('.chart-canvas canvas').first().waitFor();
    await screenshot(page, 'time-zones-day-chart');
  });

  it('adds up the week by local days', STEP, async () => {
    await page.goto(`/consumption?device=${device.id}&date=2026-03-29&view=week&show=table`);
    await page.locator('.value-table tfoot td').first().getByText('5.25 kWh', { exact: true }).waitFor();
    const week = await tableRows(page);
    assert.deepEqual(week.slice(-2), [
      ['Saturday, March 28', '0.75 kWh'],
      ['Sunday, March 29', '4.5 kWh'],
    ]);
  });

  it('types and names dates in one format', STEP, async () => {
    await page.goto(`/consumption?device=${device.id}&date=2026-03-29`);
    const field = page.getByLabel('Day (YYYY-MM-DD)');
    assert.equal(await field.inputValue(), '2026-03-29');
    await field.fill('2026-03-2');
    await field.blur();
    await page.getByText('Enter the day as YYYY-MM-DD, such as 2026-11-24.').waitFor();
    await field.fill('2026-03-28');
    await page.waitForURL(/date=2026-03-28/);
    await page.locator('.consumption-summary').getByText('Total 0.75 kWh.').waitFor();
  });

  it('shows the alert’s hour on the local clock', STEP, async () => {
    await page.goto('/alerts?kind=overconsumption');
    await waitForHeading(page, 'Alerts');
    const row = page.locator('tbody tr').filter({ hasText: deviceName });
    await row.first().waitFor();
    assert.match(await row.first().textContent(), /Mar 29, 2026, 00:00–01:00 GMT\+2/);
  });

  it('writes chat times on the 24-hour clock, in the local zone', STEP, async () => {
    await page.getByRole('button', { name: 'Support chat' }).click();
    const panel = page.getByRole('dialog', { name: 'Support chat' });
    const input = panel.getByLabel('Message to support');
    await input.fill('hello');
    await input.press('Enter');
    const mine = panel.locator('.chat-message--customer', { hasText: /hello/ }).first();
    await mine.locator('time').waitFor({ timeout: WAIT_MS });
    const time = mine.locator('time');
    const sent = await time.getAttribute('datetime');
    assert.equal((await time.textContent()).trim(), clockIn(ZONE, sent));
    const answer = panel.locator('.chat-message--rule time').first();
    await answer.waitFor({ timeout: 30_000 });
    assert.match((await answer.textContent()).trim(), /^\d{2}:\d{2}$/);
    await page.keyboard.press('Escape');
  });

  it('follows a zone chosen in the settings, and keeps it', STEP, async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await waitForHeading(page, 'Settings');
    const select = page.getByLabel('Time zone');
    assert.equal(await select.inputValue(), '', 'the browser’s own zone at first');
    assert.match(await select.locator('option').first().textContent(), /Europe\/Bucharest/);
    await select.selectOption('UTC');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved. Times are shown in UTC (UTC).' }).waitFor();
    await assertAccessible(page, 'the settings');

    // In UTC, 22:30 is on the 28th, and the 29th has 24 hours.
    const utcDay = await dayTable(page, device.id, '2026-03-29', '1.5 kWh');
    assert.equal(utcDay.length, 24);
    assert.deepEqual(utcDay[5], ['05:00–06:00', '1.5 kWh']);
    await page.getByText('Times in UTC').waitFor();
    const utcBefore = await dayTable(page, device.id, '2026-03-28', '3.75 kWh');
    assert.deepEqual(utcBefore.slice(-3), [
      ['21:00–22:00', '0.75 kWh'],
      ['22:00–23:00', '3 kWh ⚠ over the limit'],
      ['23:00–00:00', 'no data'],
    ]);

    // A reload signs in again from the cookie: the setting comes back with the account.
    await page.goto('/alerts?kind=overconsumption');
    const row = page.locator('tbody tr').filter({ hasText: deviceName });
    await row.first().waitFor();
    assert.match(await row.first().textContent(), /Mar 28, 2026, 22:00–23:00 UTC/);
  });

  it('lets an administrator see and set the customer’s zone in the user form', STEP, async () => {
    const admin = await newPage(browser, ems.baseUrl, { locale: 'en-US', timezoneId: ZONE });
    try {
      await signIn(admin.page, ADMIN.username, ADMIN.password);
      await waitForHeading(admin.page, 'Users');
      await admin.page.goto(`/admin/users?q=${customer.username}`);
      await admin.page.getByRole('button', { name: `Edit ${customer.username}` }).click();
      const edit = admin.page.getByRole('dialog', { name: `Edit ${customer.username}` });
      const zone = edit.getByLabel('Time zone');
      assert.equal(await zone.inputValue(), 'UTC', 'the zone the customer chose');
      await zone.selectOption(ZONE);
      await edit.getByRole('button', { name: 'Save' }).click();
      await admin.page
        .getByRole('status')
        .filter({ hasText: `User ${customer.username} saved.` })
        .waitFor();
    } finally {
      await admin.context.close();
    }
    // The customer's next page load has it.
    await page.goto(`/consumption?device=${device.id}&date=2026-03-29&show=table`);
    await page.getByText(`Times in ${ZONE}`).waitFor();
    await page.locator('.value-table tfoot td').first().getByText('4.5 kWh', { exact: true }).waitFor();
  });
});
