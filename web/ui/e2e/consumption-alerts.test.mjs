// Consumption and alerts against a real EMS: readings published to RabbitMQ as a meter would
// send them go through the balancer and a monitor into hourly totals and alerts; then, in
// Chromium, the customer sees them on the device card, in the consumption chart and its table,
// and in the alert centre, and the administrator filters everyone's alerts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  assertAccessible,
  assertNoSidewaysScroll,
  launchBrowser,
  newPage,
  PHONE,
  screenshot,
  signIn,
  waitForHeading,
  WAIT_MS,
} from './browser.mjs';
import { ADMIN, cleanUpOnce, startEms } from './ems-server.mjs';
import { apiAs, poll, publishReadings, readingsFor } from './fixtures.mjs';

const suffix = randomBytes(3).toString('hex');
const customer = { username: `meter-${suffix}`, displayName: `Mia Meter ${suffix}`, password: 'a long e2e passphrase' };
const deviceName = `Sauna heater ${suffix}`;
const LIMIT = 2.5;

const DAY_MS = 24 * 3600 * 1000;
const today = new Date().toISOString().slice(0, 10);
const yesterday = new Date(Date.now() - DAY_MS).toISOString().slice(0, 10);

// Yesterday: six 10-minute readings in each of four hours. Binary fractions, so every sum is
// exact. 10:00 goes over the 2.5 kWh limit (2.75 kWh), and its 0.5 kWh readings, 3 kW on
// average, also raise a peak alert. Today: 3 kWh in the first hour, over the limit too.
const YESTERDAY_HOURS = {
  8: [0.125, 0.125, 0.125, 0.125, 0.125, 0.125],
  9: [0.25, 0.25, 0.25, 0.25, 0.25, 0.25],
  10: [0.5, 0.5, 0.5, 0.5, 0.375, 0.375],
  14: [0.375, 0.375, 0.375, 0.375, 0.375, 0.375],
};
const TODAY_HOURS = { 0: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5] };
// An hour without readings was not measured: null, not 0.
const hourTotals = (hours) =>
  Array.from({ length: 24 }, (_, hour) => hours[hour]?.reduce((sum, kwh) => sum + kwh, 0) ?? null);
const EXPECTED_YESTERDAY = hourTotals(YESTERDAY_HOURS); // [null ×8, 0.75, 1.5, 2.75, null ×3, 2.25, null ×9]
const YESTERDAY_TOTAL = 7.25;
const TODAY_TOTAL = 3;

// A device card is red for open incidents (an hour's alerts of one device) about the last 24
// hours: today's first hour always, yesterday's 10:00 only until 11:00 today.
const recentSince = Math.floor((Date.now() - DAY_MS) / 3_600_000) * 3_600_000;
const recentIncidents = [`${yesterday}T10:00:00Z`, `${today}T00:00:00Z`].filter(
  (hour) => Date.parse(hour) >= recentSince,
).length;
const cardAlerting = `${recentIncidents} incident${recentIncidents === 1 ? '' : 's'} in the last 24 h to acknowledge`;
// Once yesterday's 10:00 incident is acknowledged, only today's first hour is left open.
const cardAlertingAfterAcknowledging = '1 incident in the last 24 h to acknowledge';

/** "08:00–09:00", as the table names hours. */
const hourName = (hour) => `${String(hour).padStart(2, '0')}:00–${String((hour + 1) % 24).padStart(2, '0')}:00`;
/** The Monday of the week a date is in (UTC). */
const mondayOf = (date) => {
  const day = new Date(`${date}T00:00:00Z`);
  return new Date(day.getTime() - ((day.getUTCDay() + 6) % 7) * DAY_MS).toISOString().slice(0, 10);
};

const STEP = { timeout: 2 * 60_000 };

let ems;
let browser;
// Closes the browser, stops the server and drops its database; also on Ctrl-C or a CI's SIGTERM.
const cleanUp = cleanUpOnce(() => [browser, ems]);

/** The hour and kWh cells of the consumption table, row by row. */
async function tableRows(page) {
  return page
    .locator('.value-table tbody tr')
    .evaluateAll((rows) =>
      rows.map((row) => [row.querySelector('th').textContent.trim(), row.querySelector('td').textContent.trim()]),
    );
}

async function badgeCount(page) {
  const link = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Alerts/ });
  return (await link.locator('.nav-badge').count()) === 0
    ? 0
    : Number(await link.locator('.nav-badge').getAttribute('data-count'));
}

async function waitForBadge(page, count) {
  await page.waitForFunction(
    (expected) => {
      const badge = document.querySelector('.app-nav .nav-badge');
      return (badge ? Number(badge.getAttribute('data-count')) : 0) === expected;
    },
    count,
    { timeout: WAIT_MS },
  );
}

describe('Consumption and alerts', { timeout: 10 * 60_000 }, () => {
  let admin;
  let device;

  before(async () => {
    ems = await startEms();
    browser = await launchBrowser();
    admin = await apiAs(ems.baseUrl, ADMIN.username, ADMIN.password);
    const user = await admin.post('/api/users', {
      username: customer.username,
      display_name: customer.displayName,
      password: customer.password,
      role: 'client',
    });
    device = await admin.post('/api/devices', {
      name: deviceName,
      description: 'Electric sauna',
      location: 'Basement',
      max_hourly_kwh: LIMIT,
      owner_id: user.id,
    });
    // Today's first hour is still in progress when this runs between 00:00 and 01:00 UTC: a
    // forecast would join its alerts then, and this test counts them (forecasts are tested in
    // alert-incidents.test.mjs).
    await admin.put(`/api/devices/${device.id}/forecast-alerts`, { enabled: false });
  });

  after(cleanUp);

  it('stores the readings a meter publishes to RabbitMQ, with their alerts', STEP, async () => {
    await publishReadings(ems.database, [
      ...readingsFor(device.id, yesterday, YESTERDAY_HOURS),
      ...readingsFor(device.id, today, TODAY_HOURS),
    ]);
    const from = yesterday;
    const to = new Date(Date.parse(`${today}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
    const series = await poll('the readings to be stored', async () => {
      const loaded = await admin.get(`/api/devices/${device.id}/consumption?from=${from}&to=${to}&step=hour`);
      return loaded.total_kwh === YESTERDAY_TOTAL + TODAY_TOTAL ? loaded : null;
    });
    assert.deepEqual(
      series.points.slice(0, 24).map((point) => point.kwh),
      EXPECTED_YESTERDAY,
    );
    const alerts = await poll('the alerts', async () => {
      const page = await admin.get(`/api/alerts?device_id=${device.id}`);
      return page.total === 4 ? page.items : null;
    });
    assert.deepEqual(
      alerts.map((alert) => `${alert.kind} ${alert.hour}`).sort(),
      [
        `overconsumption ${today}T00:00:00Z`,
        `overconsumption ${yesterday}T10:00:00Z`,
        `peak ${today}T00:00:00Z`,
        `peak ${yesterday}T10:00:00Z`,
      ].sort(),
    );
  });

  describe('the customer', () => {
    let context;
    let page;

    before(async () => {
      ({ context, page } = await newPage(browser, ems.baseUrl, { locale: 'en-US' }));
      await signIn(page, customer.username, customer.password);
      await waitForHeading(page, 'My devices');
    });

    after(() => context?.close());

    it('sees today against the limit on the device card, alerting, and the badge', STEP, async () => {
      const card = page.getByRole('article', { name: deviceName });
      await card.getByText(cardAlerting).waitFor();
      const facts = await card.locator('.facts').textContent();
      assert.match(facts, /Today \(UTC\)3 kWh/);
      assert.match(facts, /Highest hour3 kWh at 00:00over the limit \(120 %\)/);
      assert.match(await card.getByRole('img').getAttribute('aria-label'), /against the limit of 2\.5 kWh/);
      // Two incidents, each an overconsumption and a peak.
      await waitForBadge(page, 2);
      await page.getByRole('link', { name: /^Alerts\W+2 to acknowledge$/ }).waitFor();
      await assertAccessible(page, 'the device cards with today’s consumption');
      await screenshot(page, 'customer-devices-today-desktop');
    });

    it('charts yesterday’s hours against the limit, with exactly the values sent', STEP, async () => {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Consumption' }).click();
      await waitForHeading(page, 'Consumption');
      await page.getByLabel('Device', { exact: true }).selectOption({ label: deviceName });
      await page.getByLabel('Day (YYYY-MM-DD)').fill(yesterday);
      await page.waitForURL(new RegExp(`date=${yesterday}`));
      const chart = page.locator('.chart-canvas');
      await chart.locator('canvas').first().waitFor();
      const summary = page.locator('.consumption-summary');
      await summary.getByText('Total 7.25 kWh.').waitFor();
      assert.match(
        await summary.textContent(),
        /Highest hour: 10:00–11:00, 2\.75 kWh\. 1 hour over the limit of 2\.5 kWh\./,
      );
      // The chart's text alternative says the same.
      assert.match(await chart.getAttribute('aria-label'), /Total 7\.25 kWh\..*1 hour over the limit of 2\.5 kWh/);

      // Pointing at each bar shows its value and the limit in the chart's legend.
      const area = await chart.locator('.u-over').boundingBox();
      for (const hour of [8, 9, 10, 14, 3]) {
        await page.mouse.move(area.x + (area.width * (hour + 0.5)) / 24, area.y + area.height / 2);
        const values = await chart.locator('.u-legend .u-value').allTextContents();
        assert.deepEqual(
          values,
          [
            `${String(hour).padStart(2, '0')}:00`,
            EXPECTED_YESTERDAY[hour] === null ? '—' : `${EXPECTED_YESTERDAY[hour]} kWh`,
            '2.5 kWh',
          ],
          `the legend at ${hour}:00`,
        );
      }
      await page.mouse.move(0, 0);
      await assertAccessible(page, 'the consumption chart');
      await screenshot(page, 'consumption-day-chart-desktop');

      await page.getByRole('link', { name: 'Table' }).click();
      const table = page.getByRole('table', { name: new RegExp(deviceName) });
      await table.waitFor();
      assert.match(await table.locator('caption').textContent(), /Hourly limit 2\.5 kWh/);
      assert.deepEqual(
        await tableRows(page),
        EXPECTED_YESTERDAY.map((kwh, hour) => [
          hourName(hour),
          kwh === null ? 'no data' : kwh > LIMIT ? `${kwh} kWh ⚠ over the limit` : `${kwh} kWh`,
        ]),
      );
      assert.equal((await table.locator('tfoot td').textContent()).trim(), '7.25 kWh');
      await assertAccessible(page, 'the consumption table');
      await screenshot(page, 'consumption-day-table-desktop');
    });

    it('compares with the previous day, and adds up weeks and months by day', STEP, async () => {
      await page.getByLabel('Compare with the previous day').check();
      const table = page.getByRole('table', { name: new RegExp(deviceName) });
      await table.getByRole('columnheader', { name: 'Previous day' }).waitFor();
      assert.deepEqual(await table.locator('tfoot td').allTextContents(), ['7.25 kWh', 'No readings']);
      await page
        .locator('.consumption-summary')
        .getByText('No readings for the previous day to compare with.')
        .waitFor();

      // Yesterday's week, and today's if it is the same one, in daily totals.
      await page.getByRole('radio', { name: 'Week' }).check();
      await page.getByRole('columnheader', { name: 'Previous week' }).waitFor();
      const weekTotal = YESTERDAY_TOTAL + (mondayOf(today) === mondayOf(yesterday) ? TODAY_TOTAL : 0);
      await table.locator('tfoot td').first().getByText(`${weekTotal} kWh`, { exact: true }).waitFor();
      const week = await tableRows(page);
      assert.equal(week.length, 7);
      assert.ok(
        week.some(([, kwh]) => kwh === `${YESTERDAY_TOTAL} kWh`),
        `no day of ${JSON.stringify(week)} shows ${YESTERDAY_TOTAL} kWh`,
      );

      // All devices together: this customer has one, so the same figures.
      await page.getByLabel('Device', { exact: true }).selectOption({ label: 'All my devices' });
      const allDevices = page.getByRole('table', { name: /^All my devices/ });
      await allDevices.locator('tfoot td').first().getByText(`${weekTotal} kWh`, { exact: true }).waitFor();

      await page.getByRole('radio', { name: 'Month' }).check();
      const monthTotal = YESTERDAY_TOTAL + (today.slice(0, 7) === yesterday.slice(0, 7) ? TODAY_TOTAL : 0);
      await page.getByRole('columnheader', { name: 'Previous month' }).waitFor();
      await page.locator('.value-table tfoot td').first().getByText(`${monthTotal} kWh`, { exact: true }).waitFor();
      await page.getByRole('link', { name: 'Chart' }).click();
      await page.locator('.chart-canvas canvas').first().waitFor();
      await assertAccessible(page, 'the month chart of all devices');
      await screenshot(page, 'consumption-month-compare-desktop');
    });

    it('lists the overconsumption alert, and acknowledging its incident lowers the badge', STEP, async () => {
      await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: /^Alerts/ })
        .click();
      await waitForHeading(page, 'Alerts');
      const rows = page.locator('tbody tr');
      await page.getByText('2 incidents').waitFor();
      await page.getByLabel('Kind').selectOption('overconsumption');
      await page.waitForURL(/kind=overconsumption/);
      const alert = rows.filter({ hasText: '10:00–11:00 UTC' });
      // Filtered: the incident's peak is left out.
      await alert.locator('.kind--peak').waitFor({ state: 'detached' });
      assert.match(await alert.textContent(), new RegExp(`Over the hourly limit${deviceName}`));
      assert.match(await alert.textContent(), /2\.75 kWh in the hour 10:00–11:00 — limit 2\.5 kWh/);
      await assertAccessible(page, 'the alert centre');
      await screenshot(page, 'alerts-desktop');

      // The whole incident: its overconsumption and its peak.
      await page.getByLabel('Kind').selectOption('');
      const incident = rows.filter({ hasText: '10:00–11:00 UTC' });
      await incident.locator('.kind--peak').waitFor();
      await incident
        .getByRole('button', { name: /^Acknowledge over the hourly limit and peak above the limit/ })
        .click();
      await page.getByRole('status').filter({ hasText: 'acknowledged (2 alerts).' }).waitFor();
      await incident.getByText(/^Acknowledged /).waitFor();
      await waitForBadge(page, 1);
      assert.equal(await badgeCount(page), 1);

      // Still to acknowledge: today's incident.
      await page.getByLabel('Status').selectOption('false');
      await page.getByText('1 incident', { exact: true }).waitFor();
      assert.equal(await rows.getByRole('button', { name: /^Acknowledge/ }).count(), 1);
    });

    it('fits a 360 px phone, chart and alerts alike', STEP, async () => {
      const phone = await newPage(browser, ems.baseUrl, { viewport: PHONE, locale: 'en-US' });
      try {
        await signIn(phone.page, customer.username, customer.password);
        await waitForHeading(phone.page, 'My devices');
        await phone.page.getByText(cardAlertingAfterAcknowledging).waitFor();
        await assertNoSidewaysScroll(phone.page, 'the device cards');
        await screenshot(phone.page, 'customer-devices-today-phone');

        await phone.page.goto(`/consumption?device=${device.id}&date=${yesterday}&compare=1`);
        await phone.page.locator('.chart-canvas canvas').first().waitFor();
        await phone.page.locator('.consumption-summary').getByText('Total 7.25 kWh.').waitFor();
        await assertNoSidewaysScroll(phone.page, 'the consumption chart');
        await screenshot(phone.page, 'consumption-day-chart-phone');

        await phone.page.getByRole('link', { name: 'Table' }).click();
        await phone.page.getByRole('columnheader', { name: 'Previous day' }).waitFor();
        await assertNoSidewaysScroll(phone.page, 'the consumption table');
        await screenshot(phone.page, 'consumption-day-table-phone');

        await phone.page.goto('/alerts');
        await phone.page.getByText('2 incidents').waitFor();
        await assertNoSidewaysScroll(phone.page, 'the alert centre');
        await screenshot(phone.page, 'alerts-phone');
      } finally {
        await phone.context.close();
      }
    });

    it('is readable in the dark theme', STEP, async () => {
      const dark = await newPage(browser, ems.baseUrl, { colorScheme: 'dark', locale: 'en-US' });
      try {
        await signIn(dark.page, customer.username, customer.password);
        await waitForHeading(dark.page, 'My devices');
        await dark.page.goto(`/consumption?device=${device.id}&date=${yesterday}`);
        await dark.page.locator('.chart-canvas canvas').first().waitFor();
        await assertAccessible(dark.page, 'the consumption chart in the dark theme');
        await screenshot(dark.page, 'consumption-day-chart-dark-desktop');
      } finally {
        await dark.context.close();
      }
    });
  });

  it('lets the administrator filter every customer’s alerts by customer, kind and status', STEP, async () => {
    for (const viewport of [undefined, PHONE]) {
      const { context, page } = await newPage(browser, ems.baseUrl, {
        locale: 'en-US',
        ...(viewport ? { viewport } : {}),
      });
      try {
        await signIn(page, ADMIN.username, ADMIN.password);
        await waitForHeading(page, 'Users');
        await waitForBadge(page, 1);
        await page
          .getByRole('navigation', { name: 'Main' })
          .getByRole('link', { name: /^Alerts/ })
          .click();
        await waitForHeading(page, 'Alerts of all customers');
        await page.getByLabel('Customer').selectOption({ label: `${customer.displayName} (${customer.username})` });
        await page.getByText('2 incidents').waitFor();

        await page.getByLabel('Kind').selectOption('peak');
        await page.waitForURL(/kind=peak/);
        await page.locator('tbody .kind--overconsumption').first().waitFor({ state: 'detached' });
        // The filtered list may still be on its way: both incidents, then their kinds.
        await page.locator('tbody th').nth(1).waitFor();
        const kinds = await page.locator('tbody th').allTextContents();
        assert.deepEqual(
          kinds.map((kind) => kind.replace(/^Incident/, '').trim()),
          ['Peak above the limit', 'Peak above the limit'],
        );

        await page.getByLabel('Kind').selectOption('overconsumption');
        await page.getByLabel('Status').selectOption('true');
        await page.getByText('1 incident', { exact: true }).waitFor();
        assert.match(
          await page.locator('tbody tr').textContent(),
          new RegExp(`${yesterday.slice(8, 10).replace(/^0/, '')}, \\d{4}, 10:00–11:00 UTC`),
        );
        assert.match(page.url(), /kind=overconsumption/);
        assert.match(page.url(), /acknowledged=true/);

        await page.getByLabel('Status').selectOption('');
        await page.getByLabel('Kind').selectOption('');
        await page.getByText('2 incidents').waitFor();
        if (viewport) {
          await assertNoSidewaysScroll(page, 'the administrators’ alerts');
          await screenshot(page, 'admin-alerts-phone');
        } else {
          await assertAccessible(page, 'the administrators’ alerts');
          await screenshot(page, 'admin-alerts-desktop');
        }
      } finally {
        await context.close();
      }
    }
  });
});
