// No data is not zero, against a real EMS: a device that never reported says so on its card and
// in its consumption, with no zero bars for the empty period; a day whose readings were all 0
// says 0 kWh; "All my devices" breaks the total down per device; the administrator sees the id
// a meter must send and each device's last reading, and cannot give a device to an administrator.
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
} from './browser.mjs';
import { ADMIN, cleanUpOnce, startEms } from './ems-server.mjs';
import { apiAs, poll, publishReadings, readingsFor } from './fixtures.mjs';

const suffix = randomBytes(3).toString('hex');
const customer = { username: `gaps-${suffix}`, displayName: `Gia Gaps ${suffix}`, password: 'a long e2e passphrase' };
// Named so that they sort in this order, as the API lists them.
const silentName = `Attic meter ${suffix}`;
const kettleName = `Kettle ${suffix}`;
const fridgeName = `Standby fridge ${suffix}`;
const LIMIT = 2.5;

const DAY_MS = 24 * 3600 * 1000;
const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
// The run's UTC days, from one instant taken before its readings are published (see `before`).
let today;
let tomorrow;
let yesterday;

// Yesterday: the kettle used 1.5 kWh at 08:00 and 0.75 kWh at 09:00; the fridge reported in the
// same hours and used nothing. The attic meter never reports. The kettle also reports now.
const KETTLE_HOURS = { 8: [0.25, 0.25, 0.25, 0.25, 0.25, 0.25], 9: [0.125, 0.125, 0.125, 0.125, 0.125, 0.125] };
const FRIDGE_HOURS = { 8: [0, 0, 0, 0, 0, 0], 9: [0, 0, 0, 0, 0, 0] };
const KETTLE_NOW = 0.125;

/** "08:00–09:00", as the table names hours. */
const hourName = (hour) => `${String(hour).padStart(2, '0')}:00–${String((hour + 1) % 24).padStart(2, '0')}:00`;

const STEP = { timeout: 2 * 60_000 };

let ems;
let browser;
// Closes the browser, stops the server and drops its database; also on Ctrl-C or a CI's SIGTERM.
const cleanUp = cleanUpOnce(() => [browser, ems]);

/** Every cell of the consumption table's body, row by row: the step, then each value. */
async function tableRows(page) {
  return page
    .locator('.value-table tbody tr')
    .evaluateAll((rows) => rows.map((row) => [...row.children].map((cell) => cell.textContent.trim())));
}

async function tableFoot(page) {
  return page.locator('.value-table tfoot td').allTextContents();
}

/** Points at the bar of step `index` of `count` and returns what the chart's legend then says. */
async function legendAt(page, index, count) {
  const chart = page.locator('.chart-canvas');
  const area = await chart.locator('.u-over').boundingBox();
  await page.mouse.move(area.x + (area.width * (index + 0.5)) / count, area.y + area.height / 2);
  const values = await chart.locator('.u-legend .u-value').allTextContents();
  await page.mouse.move(0, 0);
  return values;
}

describe('No data is not zero', { timeout: 10 * 60_000 }, () => {
  let admin;
  let silent;
  let kettle;
  let fridge;

  before(async () => {
    // A run that starts in the last two minutes of a UTC day waits for the next one, so that
    // "today" is the same day from the readings to the last check.
    const leftOfDay = DAY_MS - (Date.now() % DAY_MS);
    if (leftOfDay < 2 * 60_000) await new Promise((resolve) => setTimeout(resolve, leftOfDay + 1000));
    const now = Date.now();
    [today, tomorrow, yesterday] = [isoDay(now), isoDay(now + DAY_MS), isoDay(now - DAY_MS)];
    ems = await startEms();
    browser = await launchBrowser();
    admin = await apiAs(ems.baseUrl, ADMIN.username, ADMIN.password);
    const user = await admin.post('/api/users', {
      username: customer.username,
      display_name: customer.displayName,
      password: customer.password,
      role: 'client',
    });
    const device = (name) => admin.post('/api/devices', { name, max_hourly_kwh: LIMIT, owner_id: user.id });
    silent = await device(silentName);
    kettle = await device(kettleName);
    fridge = await device(fridgeName);
    await publishReadings(ems.database, [
      ...readingsFor(kettle.id, yesterday, KETTLE_HOURS),
      ...readingsFor(fridge.id, yesterday, FRIDGE_HOURS),
      // Two minutes ago or, in the first two minutes of a day, a second after its midnight: today.
      {
        device_id: kettle.id,
        timestamp: Math.max(now - 2 * 60_000, now - (now % DAY_MS) + 1000),
        measurement_value: KETTLE_NOW,
      },
    ]);
    const day = (device, from, to) => admin.get(`/api/devices/${device.id}/consumption?from=${from}&to=${to}`);
    await poll('the readings to be stored', async () => {
      const [k, f, kettleToday] = await Promise.all([
        day(kettle, yesterday, today),
        day(fridge, yesterday, today),
        day(kettle, today, tomorrow),
      ]);
      return (
        k.total_kwh === 2.25 && f.points[8].kwh === 0 && f.points[9].kwh === 0 && kettleToday.total_kwh === KETTLE_NOW
      );
    });
  });

  after(cleanUp);

  describe('the customer', () => {
    let context;
    let page;

    before(async () => {
      ({ context, page } = await newPage(browser, ems.baseUrl, { locale: 'en-US' }));
      await signIn(page, customer.username, customer.password);
      await waitForHeading(page, 'My devices');
    });

    after(() => context?.close());

    it('sees which devices report: "No readings yet", or the last reading and online', STEP, async () => {
      const silentCard = page.getByRole('article', { name: silentName });
      await silentCard.getByText('No readings yet').waitFor();
      // Today's figures arrive after the device list.
      await silentCard.getByText('No readings today').waitFor();
      const silentFacts = await silentCard.locator('.facts').textContent();
      assert.match(silentFacts, /Last readingNo readings yet/);
      assert.match(silentFacts, /Today \(UTC\)No readings today/);
      assert.doesNotMatch(silentFacts, /0 kWh|Nothing used/, 'no reading is not zero use');
      const silentStatus = silentCard.locator('.device-status');
      assert.equal((await silentStatus.locator('[aria-hidden]').textContent()).trim(), 'Offline');

      const kettleCard = page.getByRole('article', { name: kettleName });
      const kettleFacts = await kettleCard.locator('.facts').textContent();
      assert.match(kettleFacts, /Last reading(just now|[1-9] min ago)0\.125 kWh at /);
      const kettleStatus = kettleCard.locator('.device-status');
      assert.equal((await kettleStatus.locator('[aria-hidden]').textContent()).trim(), 'Online');
      // The rule is told, as a tooltip and to screen readers.
      assert.match(await kettleStatus.getAttribute('title'), /at most 30 minutes old \(3 of its 10-minute intervals\)/);
      assert.match(await kettleStatus.textContent(), /30 minutes/);

      const fridgeCard = page.getByRole('article', { name: fridgeName });
      assert.match(await fridgeCard.locator('.facts').textContent(), /Last reading\d+ h ago0 kWh at /);
      assert.equal((await fridgeCard.locator('.device-status [aria-hidden]').textContent()).trim(), 'Offline');
      await assertAccessible(page, 'device cards with and without readings');
      await screenshot(page, 'gaps-device-cards-desktop');
    });

    it('sees no zero bars for a device that never reported, only "no data"', STEP, async () => {
      await page.goto(`/consumption?device=${silent.id}&date=${yesterday}`);
      const summary = page.locator('.consumption-summary');
      await summary.getByText('No readings for this period.').waitFor();
      assert.doesNotMatch(await summary.textContent(), /0 kWh|Nothing was used/);
      const chart = page.locator('.chart-canvas');
      await chart.locator('canvas').first().waitFor();
      assert.match(await chart.getAttribute('aria-label'), /No readings for this period/);
      // The chart has nothing at any hour: its legend says "—" where a zero bar would say 0 kWh.
      for (const hour of [3, 8, 20]) {
        assert.deepEqual(await legendAt(page, hour, 24), [`${String(hour).padStart(2, '0')}:00`, '—', '2.5 kWh']);
      }

      await page.getByRole('link', { name: 'Table' }).click();
      await page.getByRole('table', { name: new RegExp(silentName) }).waitFor();
      assert.deepEqual(
        await tableRows(page),
        Array.from({ length: 24 }, (_, hour) => [hourName(hour), 'no data']),
      );
      assert.deepEqual(await tableFoot(page), ['No readings']);
      await assertAccessible(page, 'the table of a device without readings');
    });

    it('sees 0 kWh for a day whose readings add up to nothing', STEP, async () => {
      await page.goto(`/consumption?device=${fridge.id}&date=${yesterday}&show=table`);
      await page.getByRole('table', { name: new RegExp(fridgeName) }).waitFor();
      await page.locator('.consumption-summary').getByText('Total 0 kWh. Nothing was used.').waitFor();
      assert.match(await page.locator('.consumption-summary').textContent(), /No readings for 22 of 24 hours\./);
      assert.deepEqual(
        await tableRows(page),
        Array.from({ length: 24 }, (_, hour) => [hourName(hour), hour === 8 || hour === 9 ? '0 kWh' : 'no data']),
      );
      assert.deepEqual(await tableFoot(page), ['0 kWh']);
    });

    it('sees all devices broken down per device, in the chart and the table', STEP, async () => {
      await page.goto(`/consumption?date=${yesterday}`);
      const chart = page.locator('.chart-canvas');
      await chart.locator('canvas').first().waitFor();
      await page.locator('.consumption-summary').getByText('Total 2.25 kWh.').waitFor();
      // The legend names each device with its total.
      const labels = await chart.locator('.u-legend .u-label').allTextContents();
      assert.deepEqual(labels.slice(1), [
        `${silentName} (no readings)`,
        `${kettleName} (2.25 kWh)`,
        `${fridgeName} (0 kWh)`,
      ]);
      // Each device's own value at 08:00, not the stacked sum.
      assert.deepEqual(await legendAt(page, 8, 24), ['08:00', '—', '1.5 kWh', '0 kWh']);
      assert.deepEqual(await legendAt(page, 3, 24), ['03:00', '—', '—', '—']);
      await assertAccessible(page, 'the stacked chart of all devices');
      await screenshot(page, 'gaps-all-devices-chart-desktop');

      await page.getByRole('link', { name: 'Table' }).click();
      const table = page.getByRole('table', { name: /^All my devices/ });
      await table.waitFor();
      const headers = (await table.locator('thead th').allTextContents()).map((text) => text.trim());
      assert.deepEqual(headers, ['Hour', 'All devices', silentName, kettleName, fridgeName]);
      const rows = await tableRows(page);
      assert.deepEqual(rows[8], [hourName(8), '1.5 kWh', 'no data', '1.5 kWh', '0 kWh']);
      assert.deepEqual(rows[9], [hourName(9), '0.75 kWh', 'no data', '0.75 kWh', '0 kWh']);
      assert.deepEqual(rows[3], [hourName(3), 'no data', 'no data', 'no data', 'no data']);
      assert.deepEqual(await tableFoot(page), ['2.25 kWh', 'No readings', '2.25 kWh', '0 kWh']);
      await assertAccessible(page, 'the table of all devices');

      // A week adds each device's days up the same way.
      await page.getByRole('radio', { name: 'Week' }).check();
      await page.getByRole('columnheader', { name: kettleName }).waitFor();
      await table.locator('tfoot td').nth(2).filter({ hasText: /kWh/ }).waitFor();
      const weekFoot = await tableFoot(page);
      assert.equal(weekFoot[1], 'No readings');
      assert.equal(weekFoot[3], '0 kWh');
      assert.match(weekFoot[2], /^2\.(25|375) kWh$/, 'yesterday, and now if it is the same week');
    });
  });

  it('fits a 360 px phone: cards, the breakdown and the device ids', STEP, async () => {
    for (const who of [customer, ADMIN]) {
      const phone = await newPage(browser, ems.baseUrl, { viewport: PHONE, locale: 'en-US' });
      try {
        await signIn(phone.page, who.username, who.password);
        await waitForHeading(phone.page, who === customer ? 'My devices' : 'Users');
        if (who === customer) {
          await phone.page.getByRole('article', { name: silentName }).getByText('No readings yet').waitFor();
          await assertNoSidewaysScroll(phone.page, 'the device cards');
          await screenshot(phone.page, 'gaps-device-cards-phone');
          await phone.page.goto(`/consumption?date=${yesterday}`);
          await phone.page.locator('.chart-canvas canvas').first().waitFor();
          await assertNoSidewaysScroll(phone.page, 'the stacked chart');
          await screenshot(phone.page, 'gaps-all-devices-chart-phone');
          await phone.page.getByRole('link', { name: 'Table' }).click();
          await phone.page.getByRole('columnheader', { name: fridgeName }).waitFor();
          await assertNoSidewaysScroll(phone.page, 'the table of all devices');
        } else {
          await phone.page.goto(`/admin/devices?q=${suffix}`);
          await phone.page.locator('code', { hasText: kettle.id }).waitFor();
          await assertNoSidewaysScroll(phone.page, 'the devices with their ids');
          await screenshot(phone.page, 'gaps-admin-devices-phone');
        }
      } finally {
        await phone.context.close();
      }
    }
  });

  describe('the administrator', () => {
    let context;
    let page;

    before(async () => {
      ({ context, page } = await newPage(browser, ems.baseUrl, { locale: 'en-US' }));
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ems.baseUrl });
      await signIn(page, ADMIN.username, ADMIN.password);
      await waitForHeading(page, 'Users');
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Devices' }).click();
      await waitForHeading(page, 'Devices');
      await page.getByLabel('Search devices').fill(suffix);
    });

    after(() => context?.close());

    const rowOf = (name) => page.getByRole('row').filter({ has: page.getByRole('rowheader', { name }) });

    it('sees the device id a meter must send, copies it, and sees the last reading', STEP, async () => {
      const row = rowOf(kettleName);
      const id = row.locator('code');
      await id.waitFor();
      assert.equal((await id.textContent()).trim(), kettle.id);
      assert.match(await id.evaluate((element) => getComputedStyle(element).fontFamily), /monospace/);
      await row.getByRole('button', { name: `Copy the device id of ${kettleName}` }).click();
      await row.getByRole('status').filter({ hasText: 'Copied' }).waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), kettle.id);

      assert.match(await row.textContent(), /(just now|[1-9] min ago), 0\.125 kWh/);
      assert.match(await row.textContent(), /Online/);
      assert.match(await rowOf(silentName).textContent(), /No readings yet/);
      await assertAccessible(page, 'the devices with their ids and last readings');
      await screenshot(page, 'gaps-admin-devices-desktop');
    });

    it('is offered only customers as owners', STEP, async () => {
      await rowOf(silentName)
        .getByRole('button', { name: `Reassign ${silentName}` })
        .click();
      const dialog = page.getByRole('dialog', { name: `Assign ${silentName}` });
      await dialog.getByLabel('Find a user by name or username').fill(ADMIN.username);
      await dialog.getByText(`No customer matches “${ADMIN.username}”.`).waitFor();
      assert.equal(await dialog.getByRole('radio').count(), 0);
      await dialog.getByLabel('Find a user by name or username').fill(customer.username);
      await dialog.getByRole('radio', { name: new RegExp(customer.displayName) }).waitFor();
      await dialog.getByRole('button', { name: 'Cancel' }).click();
    });
  });
});
