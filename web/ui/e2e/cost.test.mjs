// Cost against a real EMS: an administrator sets a customer's time-of-use tariff in the users
// page; readings published to RabbitMQ become hourly totals; the customer sees each hour's cost,
// the day's, the comparison with the day before in money, the month so far with its projection,
// and downloads the day as CSV.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
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
} from './browser.mjs';
import { ADMIN, cleanUpOnce, startEms } from './ems-server.mjs';
import { apiAs, poll, publishReadings, readingsFor } from './fixtures.mjs';

const suffix = randomBytes(3).toString('hex');
const customer = {
  username: `payer-${suffix}`,
  displayName: `Paula Payer ${suffix}`,
  password: 'a long e2e passphrase',
};
const deviceName = `Heat pump ${suffix}`;

const DAY_MS = 24 * 3600 * 1000;
const today = new Date().toISOString().slice(0, 10);
const yesterday = new Date(Date.now() - DAY_MS).toISOString().slice(0, 10);
const dayBefore = new Date(Date.now() - 2 * DAY_MS).toISOString().slice(0, 10);

// The tariff: night (00–07, 23–24) at 0.50 RON per kWh, day (07–23) at 1.10, on the customer's
// clock (UTC here). Yesterday: 06:00 at night, 07:00 and 12:00 by day; the day before, 07:00.
const YESTERDAY_HOURS = {
  6: [0.25, 0.25, 0.25, 0.25, 0.25, 0.25], // 1.5 kWh × 0.50 = 0.75
  7: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5], // 3 kWh × 1.10 = 3.30
  12: [0.25, 0.25, 0.25, 0.25, 0.25, 0.25], // 1.5 kWh × 1.10 = 1.65
};
const DAY_BEFORE_HOURS = { 7: YESTERDAY_HOURS[12] }; // 1.5 kWh × 1.10 = 1.65
const EXPECTED_COSTS = { 6: 'RON 0.75', 7: 'RON 3.30', 12: 'RON 1.65' };

const STEP = { timeout: 2 * 60_000 };
/** Intl separates the currency from the amount with a no-break space. */
const plain = (text) => text.replaceAll('\u00a0', ' ').trim();
const hourName = (hour) => `${String(hour).padStart(2, '0')}:00–${String((hour + 1) % 24).padStart(2, '0')}:00`;

let ems;
let browser;
const cleanUp = cleanUpOnce(() => [browser, ems]);

describe('Cost', { timeout: 10 * 60_000 }, () => {
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
      time_zone: 'UTC',
    });
    device = await admin.post('/api/devices', { name: deviceName, max_hourly_kwh: 10, owner_id: user.id });
    await publishReadings(ems.database, [
      ...readingsFor(device.id, yesterday, YESTERDAY_HOURS),
      ...readingsFor(device.id, dayBefore, DAY_BEFORE_HOURS),
    ]);
    await poll('the readings to be stored', async () => {
      const series = await admin.get(
        `/api/devices/${device.id}/consumption?from=${dayBefore}&to=${today}&step=day&tz=UTC`,
      );
      return series.total_kwh === 7.5;
    });
  });

  after(cleanUp);

  it('lets an administrator set a time-of-use tariff, saying what to fix', STEP, async () => {
    for (const [viewport, name] of [
      [undefined, 'desktop'],
      [PHONE, 'phone'],
    ]) {
      const { context, page } = await newPage(browser, ems.baseUrl, { locale: 'en-US', viewport });
      await signIn(page, ADMIN.username, ADMIN.password);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
      await waitForHeading(page, 'Users');
      await page.getByRole('searchbox', { name: 'Search users' }).fill(customer.username);
      await page.getByRole('button', { name: `Tariff of ${customer.username}` }).click();
      const dialog = page.getByRole('dialog', { name: `Tariff of ${customer.username}` });
      await dialog.getByRole('button', { name: 'Save tariff' }).waitFor();
      await dialog.getByLabel('Currency').fill('XYZ');
      await dialog.getByRole('radio', { name: 'Time of use' }).check();
      const prices = dialog.getByLabel('Price per kWh');
      assert.equal(await prices.count(), 3, 'night, day and late night to start with');
      await prices.nth(0).fill('0.50');
      await prices.nth(1).fill('1.10');
      await prices.nth(2).fill('0,50');
      await dialog.getByRole('button', { name: 'Save tariff' }).click();
      await dialog.getByText(/"XYZ" is not an ISO 4217 currency code/).waitFor();
      await dialog.getByLabel('Currency').fill('RON');
      await screenshot(page, `cost-tariff-dialog-${name}`);
      if (viewport) await assertNoSidewaysScroll(page, 'the tariff dialog on a phone');
      await assertAccessible(page, 'the tariff dialog');
      await dialog.getByRole('button', { name: 'Save tariff' }).click();
      await page.getByText(`Tariff of ${customer.username} saved.`).waitFor();
      await context.close();
    }
    const tariff = await admin.get(`/api/users/${device.owner_id}/tariff`);
    assert.deepEqual(
      tariff.bands.map((band) => [band.from_hour, band.to_hour, band.price]),
      [
        [0, 7, '0.5'],
        [7, 23, '1.1'],
        [23, 24, '0.5'],
      ],
    );
    assert.equal(tariff.currency, 'RON');
  });

  describe('the customer', () => {
    let context;
    let page;

    before(async () => {
      ({ context, page } = await newPage(browser, ems.baseUrl, { locale: 'en-US', acceptDownloads: true }));
      await signIn(page, customer.username, customer.password);
      await waitForHeading(page, 'My devices');
    });

    after(() => context?.close());

    it('sees what each hour cost and the day in money against the day before', STEP, async () => {
      await page.goto(`/consumption?device=${device.id}&date=${yesterday}&show=table&compare=1`);
      const table = page.getByRole('table', { name: new RegExp(deviceName) });
      await table.getByRole('columnheader', { name: 'Cost (RON)' }).waitFor();
      const rows = await table
        .locator('tbody tr')
        .evaluateAll((all) => all.map((row) => [...row.querySelectorAll('th, td')].map((cell) => cell.textContent)));
      for (const [hour, cost] of Object.entries(EXPECTED_COSTS)) {
        const row = rows.find((cells) => cells[0] === hourName(Number(hour)));
        assert.equal(plain(row[2]), cost, `the cost of ${hourName(Number(hour))}`);
      }
      assert.equal(plain(rows.find((cells) => cells[0] === hourName(3))[2]), '—', 'no readings, no cost');
      const totals = (await table.locator('tfoot td').allTextContents()).map(plain);
      assert.deepEqual(totals, ['6 kWh', 'RON 5.70', '1.5 kWh', 'RON 1.65']);
      const summary = plain(await page.locator('.consumption-summary').textContent());
      assert.match(
        summary,
        /Total 6 kWh\. Cost RON 5\.70\. RON 4\.05 \(245\.5 %\) more than the previous day \(RON 1\.65\)\./,
      );
      await assertAccessible(page, 'the consumption table with cost');
      await screenshot(page, 'cost-consumption-table-desktop');

      // On the chart, pointing at an hour shows its kWh and cost, and the day before's.
      await page.getByRole('link', { name: 'Chart' }).click();
      const chart = page.locator('.chart-canvas');
      await chart.locator('canvas').first().waitFor();
      const area = await chart.locator('.u-over').boundingBox();
      await page.mouse.move(area.x + (area.width * 7.5) / 24, area.y + area.height / 2);
      assert.deepEqual((await chart.locator('.u-legend .u-value').allTextContents()).map(plain), [
        '07:00',
        '3 kWh · RON 3.30',
        '1.5 kWh · RON 1.65',
        '10 kWh',
      ]);
      await page.mouse.move(0, 0);
      await screenshot(page, 'cost-consumption-chart-desktop');
    });

    it('sees the month so far and its projection', STEP, async () => {
      const month = await poll('the month so far', async () => {
        const card = page.locator('.month-so-far');
        return (await card.locator('[data-figure="kwh-so-far"]').count()) > 0 ? card : null;
      });
      const expected = await admin.get(`/api/devices/${device.id}/consumption/month-to-date?tz=UTC`);
      const used = plain(await month.locator('[data-figure="kwh-so-far"]').textContent());
      if (yesterday.slice(0, 7) === today.slice(0, 7) && dayBefore.slice(0, 7) === today.slice(0, 7)) {
        assert.equal(used, '7.5 kWh');
        assert.equal(plain(await month.locator('[data-figure="cost-so-far"]').textContent()), 'RON 7.35');
      } else {
        assert.equal(used, expected.kwh_so_far == null ? 'No readings yet' : `${expected.kwh_so_far} kWh`);
      }
      if (expected.projected_cost != null) {
        const projected = Number(expected.projected_cost).toFixed(2);
        assert.match(
          plain(await month.locator('[data-figure="projection"]').textContent()),
          new RegExp(`RON ${projected}`),
        );
      }
      assert.match(await month.textContent(), /average per hour so far/);
    });

    it('downloads the day as CSV with a row per hour, local times, kWh and cost', STEP, async () => {
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Download CSV' }).click(),
      ]);
      assert.equal(download.suggestedFilename(), `consumption-${device.id}-${yesterday}-to-${yesterday}-hour.csv`);
      const lines = (await readFile(await download.path(), 'utf8')).trim().split('\n');
      assert.equal(lines.length, 25);
      assert.equal(lines[0], 'start,kwh,cost,currency');
      assert.equal(lines[1], `${yesterday}T00:00:00+00:00,,,`);
      assert.equal(lines[7], `${yesterday}T06:00:00+00:00,1.5,0.75,RON`);
      assert.equal(lines[8], `${yesterday}T07:00:00+00:00,3,3.3,RON`);
      assert.equal(lines[13], `${yesterday}T12:00:00+00:00,1.5,1.65,RON`);

      // All my devices: this customer has one, so the same rows under another name.
      await page.getByLabel('Device', { exact: true }).selectOption({ label: 'All my devices' });
      await page.getByRole('heading', { level: 2, name: /^All my devices/ }).waitFor();
      await page
        .locator('.consumption-summary')
        .getByText(/Cost RON\s5\.70/)
        .waitFor();
      const [all] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Download CSV' }).click(),
      ]);
      assert.equal(all.suggestedFilename(), `consumption-all-devices-${yesterday}-to-${yesterday}-hour.csv`);
      assert.deepEqual((await readFile(await all.path(), 'utf8')).trim().split('\n'), lines);
    });

    it('fits a phone', STEP, async () => {
      const phone = await newPage(browser, ems.baseUrl, { locale: 'en-US', viewport: PHONE });
      try {
        await signIn(phone.page, customer.username, customer.password);
        await waitForHeading(phone.page, 'My devices');
        await phone.page.goto(`/consumption?device=${device.id}&date=${yesterday}&compare=1`);
        await phone.page
          .locator('.consumption-summary')
          .getByText(/Cost RON\s5\.70/)
          .waitFor();
        await phone.page.locator('.month-so-far [data-figure="kwh-so-far"]').waitFor();
        await assertNoSidewaysScroll(phone.page, 'the consumption view with cost on a phone');
        await screenshot(phone.page, 'cost-consumption-phone');
      } finally {
        await phone.context.close();
      }
    });
  });
});
