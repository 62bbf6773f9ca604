// Alerts people act on, against a real EMS: readings over the limit in several hours of several
// devices become incidents (an hour's alerts of one device), listed newest first with their kinds
// inside; the badge counts incidents; one click acknowledges them all and the badge clears; only
// recent open incidents turn a device card red; a device snoozed from its card says until
// when, while an alert raised meanwhile is stored but neither counted nor shown as a toast; and
// an hour on course to cross the limit is forecast before it does, unless the owner turned that
// off on the device's card.
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
import { apiAs, poll, publishReadings } from './fixtures.mjs';

const suffix = randomBytes(3).toString('hex');
const customer = {
  username: `inc-${suffix}`,
  displayName: `Ida Incident ${suffix}`,
  password: 'a long e2e passphrase',
};
const names = { kiln: `Kiln ${suffix}`, pump: `Pump ${suffix}`, heater: `Heater ${suffix}` };
const LIMIT = 1;

const HOUR_MS = 3600 * 1000;
const thisHour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
// Three complete hours before this one, and one three days back.
const [h0, h1, h2] = [thisHour - 3 * HOUR_MS, thisHour - 2 * HOUR_MS, thisHour - HOUR_MS];
const old = thisHour - 72 * HOUR_MS;

/** 10-minute readings in the hour starting at `hour` (:05, :15, …), one per value. */
const readings = (deviceId, hour, values) =>
  values.map((kwh, index) => ({
    device_id: deviceId,
    timestamp: hour + (index * 10 + 5) * 60_000,
    measurement_value: kwh,
  }));

/** "14:00–15:00 UTC", as the alert centre ends an hour. */
const hourRange = (hour) => {
  const clock = (at) => new Date(at).toISOString().slice(11, 16);
  return `${clock(hour)}–${clock(hour + HOUR_MS)} UTC`;
};

const STEP = { timeout: 2 * 60_000 };

let ems;
let browser;
// Closes the browser, stops the server and drops its database; also on Ctrl-C or a CI's SIGTERM.
const cleanUp = cleanUpOnce(() => [browser, ems]);

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

describe('Alert incidents', { timeout: 10 * 60_000 }, () => {
  let admin;
  let client;
  const devices = {};
  let context;
  let page;

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
    for (const [key, name] of Object.entries(names)) {
      devices[key] = await admin.post('/api/devices', { name, max_hourly_kwh: LIMIT, owner_id: user.id });
    }
    client = await apiAs(ems.baseUrl, customer.username, customer.password);
  });

  after(async () => {
    await context?.close();
    await cleanUp();
  });

  it('raises both kinds in the same hours, seven alerts in four incidents', STEP, async () => {
    await publishReadings(ems.database, [
      // 3 kWh, 3 kW on average: over the hourly limit and a peak.
      ...readings(devices.kiln.id, h0, [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]),
      // One reading of 1.5 kW: a peak, but 0.25 kWh in the hour.
      ...readings(devices.pump.id, h1, [0.25]),
      // 1.5 kWh, 1.5 kW on average: both kinds again.
      ...readings(devices.kiln.id, h2, [0.25, 0.25, 0.25, 0.25, 0.25, 0.25]),
      // Three days ago, still open: an incident, but no reason for a red card today.
      ...readings(devices.heater.id, old, [0.5, 0.5, 0.5]),
    ]);
    const incidents = await poll('the alerts', async () => {
      const alerts = await client.get('/api/alerts?per_page=100');
      return alerts.total === 7 ? client.get('/api/alerts/incidents') : null;
    });
    assert.deepEqual(
      incidents.items.map((incident) => [incident.device_name, incident.hour, incident.kinds]),
      [
        [names.kiln, new Date(h2).toISOString().replace('.000', ''), ['overconsumption', 'peak']],
        [names.pump, new Date(h1).toISOString().replace('.000', ''), ['peak']],
        [names.kiln, new Date(h0).toISOString().replace('.000', ''), ['overconsumption', 'peak']],
        [names.heater, new Date(old).toISOString().replace('.000', ''), ['overconsumption', 'peak']],
      ],
    );
  });

  it('shows red cards only for recent open incidents and counts incidents on the badge', STEP, async () => {
    ({ context, page } = await newPage(browser, ems.baseUrl, { locale: 'en-US' }));
    await signIn(page, customer.username, customer.password);
    await waitForHeading(page, 'My devices');
    const kiln = page.getByRole('article', { name: names.kiln });
    await kiln.getByText('2 incidents in the last 24 h to acknowledge').waitFor();
    await page.getByRole('article', { name: names.pump }).getByText('1 incident in the last 24 h').waitFor();
    const heater = page.getByRole('article', { name: names.heater });
    await heater.waitFor();
    assert.equal(await heater.getAttribute('class'), 'card device-card', 'an open incident of three days ago');
    assert.match(await kiln.getAttribute('class'), /device-card--alerting/);
    await waitForBadge(page, 4);
    await page.getByRole('link', { name: /^Alerts\W+4 to acknowledge$/ }).waitFor();
  });

  it('lists the incidents newest first with their kinds inside, and one click acknowledges all', STEP, async () => {
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: /^Alerts/ })
      .click();
    await waitForHeading(page, 'Alerts');
    await page.getByText('4 incidents').waitFor();
    const rows = page.locator('tbody tr');
    const texts = await rows.allTextContents();
    assert.equal(texts.length, 4);
    const expected = [
      [names.kiln, h2, /Over the hourly limit.*Peak above the limit/],
      [names.pump, h1, /^(?!.*Over the hourly limit).*Peak above the limit/],
      [names.kiln, h0, /Over the hourly limit.*Peak above the limit/],
      [names.heater, old, /Over the hourly limit.*Peak above the limit/],
    ];
    expected.forEach(([name, hour, kinds], index) => {
      assert.ok(texts[index].includes(name), `row ${index + 1} is ${name}: ${texts[index]}`);
      assert.ok(
        texts[index].includes(hourRange(hour)),
        `row ${index + 1} is about ${hourRange(hour)}: ${texts[index]}`,
      );
      assert.match(texts[index], kinds);
    });
    // Units that read naturally: the peak as power, the hour's total as energy.
    // (The total when the hour first went over, and the reading that first went over: which of
    // the six that is depends on how the monitors' batches split them.)
    const clock = (at) => new Date(at).toISOString().slice(11, 16);
    const hh = clock(h2).slice(0, 2);
    assert.match(texts[0], new RegExp(`1\\.(25|5) kWh in the hour ${clock(h2)}–${clock(h2 + HOUR_MS)} — limit 1 kWh`));
    assert.match(texts[0], new RegExp(`1\\.5 kW average, 10 min ending ${hh}:[0-5]5 — limit 1 kW`));
    assert.equal(await rows.getByRole('button', { name: /^Acknowledge/ }).count(), 4, 'one button per incident');
    await assertAccessible(page, 'the incident list');
    await screenshot(page, 'alert-incidents-desktop');

    await page.getByRole('button', { name: 'Acknowledge all' }).click();
    await page.getByRole('status').filter({ hasText: 'Every open alert acknowledged (7 alerts).' }).waitFor();
    await waitForBadge(page, 0);
    await page.getByRole('link', { name: 'Alerts', exact: true }).waitFor();
    await rows
      .first()
      .getByText(/^Acknowledged /)
      .waitFor();
    assert.equal(await rows.getByRole('button', { name: /^Acknowledge/ }).count(), 0);
    const open = await client.get('/api/alerts/incidents?acknowledged=false');
    assert.equal(open.total, 0);
  });

  it('snoozes a device from its card, which says until when, and its alerts stay quiet', STEP, async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My devices' }).click();
    await waitForHeading(page, 'My devices');
    const kiln = page.getByRole('article', { name: names.kiln });
    await kiln.waitFor();
    assert.equal(await kiln.getAttribute('class'), 'card device-card', 'acknowledged: no longer red');
    await kiln.getByLabel('Snooze alerts').selectOption({ label: 'For 1 hour' });
    const snoozed = kiln.getByText(/^Snoozed until \d\d:\d\d$/);
    await snoozed.waitFor();
    const device = await client.get(`/api/devices/${devices.kiln.id}`);
    const until = Date.parse(device.snoozed_until);
    assert.ok(Math.abs(until - (Date.now() + HOUR_MS)) < 5 * 60_000, `an hour from now: ${device.snoozed_until}`);
    assert.equal((await snoozed.textContent()).trim(), `Snoozed until ${new Date(until).toISOString().slice(11, 16)}`);
    await screenshot(page, 'device-snoozed-desktop');

    // Over the limit while snoozed: stored, already acknowledged, and no toast, no badge.
    await publishReadings(ems.database, readings(devices.kiln.id, thisHour, [1.5]));
    const quiet = await poll('the snoozed alerts', async () => {
      const alerts = await client.get(
        `/api/alerts?device_id=${devices.kiln.id}&from=${new Date(thisHour).toISOString()}`,
      );
      return alerts.total === 2 ? alerts.items : null;
    });
    assert.ok(
      quiet.every((alert) => alert.snoozed && alert.acknowledged_at),
      JSON.stringify(quiet),
    );
    // The pump is awake: its alert arrives live, and the kiln's never did.
    await publishReadings(ems.database, readings(devices.pump.id, thisHour, [0.5]));
    await page
      .locator('.toast')
      .filter({ hasText: `${names.pump}: peak above the limit` })
      .waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('.toast').filter({ hasText: names.kiln }).count(), 0);
    await waitForBadge(page, 1);

    await kiln.getByRole('button', { name: /^Turn off/ }).click();
    await kiln.getByLabel('Snooze alerts').waitFor();
    assert.equal((await client.get(`/api/devices/${devices.kiln.id}`)).snoozed_until ?? null, null);
  });

  it('warns before an hour crosses the limit, and the owner can turn that off on the card', STEP, async () => {
    // A forecast is about an hour still in progress. Meters' clocks may run ahead, so when this
    // hour is about to end the step uses the next one rather than wait for it.
    const hour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS + (Date.now() % HOUR_MS > 50 * 60_000 ? HOUR_MS : 0);
    const clock = (at) => new Date(at).toISOString().slice(11, 16);
    // Readings may run ahead of the clock. After :25, 0.5 kWh so far and 0.3 in the last 10
    // minutes (1.8 kW, a peak): two and a half readings to come make 1.25 kWh, above 1 kWh. (The
    // monitors may store :25 before :05 or :15, when their batches go to different replicas: the
    // forecast is made on the total stored by then, 0.3 or 0.4 kWh, and is 1.05 or 1.15 kWh.)
    await publishReadings(ems.database, readings(devices.heater.id, hour, [0.1, 0.1, 0.3]));
    const toast = page.locator('.toast').filter({ hasText: `${names.heater}: peak above the limit and forecast` });
    await toast.waitFor({ timeout: 30_000 });
    assert.match(await toast.textContent(), new RegExp(`1\\.[12]5 kWh forecast for the hour ${clock(hour)}–`));

    await page.goto(`/alerts?device=${devices.heater.id}&kind=forecast`);
    await waitForHeading(page, 'Alerts');
    const row = page.locator('tbody tr').filter({ hasText: hourRange(hour) });
    await row.locator('.kind--forecast').getByText('Forecast to cross the limit').waitFor();
    assert.match(
      await row.textContent(),
      new RegExp(
        `1\\.[12]5 kWh forecast for the hour ${clock(hour)}–${clock(hour + HOUR_MS)} at ${clock(hour + 25 * 60_000)}, 35 min left — limit 1 kWh`,
      ),
    );
    await assertAccessible(page, 'a forecast in the alert centre');
    await screenshot(page, 'alert-forecast-desktop');

    // The pump's owner does not want them: the card's switch, then readings that would warn.
    await page.goto('/');
    await waitForHeading(page, 'My devices');
    const pump = page.getByRole('article', { name: names.pump });
    const warn = pump.getByRole('checkbox', { name: /^Warn me before the hourly limit is crossed/ });
    assert.equal(await warn.isChecked(), true, 'on for a new device');
    await warn.uncheck();
    await poll(
      'the switch to be stored',
      async () => !(await client.get(`/api/devices/${devices.pump.id}`)).forecast_alerts,
    );
    await page.getByRole('article', { name: names.pump }).getByRole('checkbox', { checked: false }).waitFor();
    await screenshot(page, 'device-forecast-off-desktop');
    // At :15 and :25 (after the one at :05 of the snooze step, when that was this hour).
    await publishReadings(ems.database, readings(devices.pump.id, hour + 10 * 60_000, [0.2, 0.3]));
    await poll('the pump’s readings', async () => {
      const pumpNow = await client.get(`/api/devices/${devices.pump.id}`);
      return pumpNow.last_reading && Date.parse(pumpNow.last_reading.at) === hour + 25 * 60_000;
    });
    const forecasts = await client.get(`/api/alerts?device_id=${devices.pump.id}&kind=forecast`);
    assert.equal(forecasts.total, 0, 'no forecast for a device whose owner turned them off');

    const phone = await newPage(browser, ems.baseUrl, { viewport: PHONE, locale: 'en-US' });
    try {
      await signIn(phone.page, customer.username, customer.password);
      await waitForHeading(phone.page, 'My devices');
      await phone.page.getByRole('article', { name: names.pump }).getByRole('checkbox').waitFor();
      await assertNoSidewaysScroll(phone.page, 'the device cards with their switches');
      await screenshot(phone.page, 'device-forecast-switch-phone');
      await phone.page.goto(`/alerts?device=${devices.heater.id}&kind=forecast`);
      await phone.page.locator('.kind--forecast').first().waitFor();
      await assertNoSidewaysScroll(phone.page, 'a forecast in the alert centre');
      await screenshot(phone.page, 'alert-forecast-phone');
    } finally {
      await phone.context.close();
    }
  });

  it(
    'shows an alert pushed while the dashboard is closed as a notification, and offers the setting',
    STEP,
    async () => {
      await page.goto('/settings');
      await page.getByRole('heading', { name: 'Alerts when the dashboard is closed' }).waitFor();
      await page.getByText('Off: alerts show only while the dashboard is open.').waitFor();
      await page.getByRole('button', { name: 'Turn on for this browser' }).waitFor();
      await assertAccessible(page, 'the settings with Web Push');
      await screenshot(page, 'push-settings-desktop');

      // What the push sender sends (its delivery, encryption and VAPID are tested in
      // ems/tests/push.rs), handed to this browser's service worker as its push service would.
      await context.grantPermissions(['notifications'], { origin: ems.baseUrl });
      const cdp = await context.newCDPSession(page);
      const registration = new Promise((resolve) =>
        cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
          const live = registrations.find((each) => !each.isDeleted);
          if (live) resolve(live);
        }),
      );
      await cdp.send('ServiceWorker.enable');
      const { registrationId } = await registration;
      const message = {
        title: `${names.kiln}: over the hourly limit`,
        body: `${names.kiln} used 1.50 kWh in the hour, above its limit of 1.00 kWh`,
        url: `/alerts?device=${devices.kiln.id}&acknowledged=false`,
        tag: 'alert-4242',
        alert_id: 4242,
      };
      for (const _ of [1, 2]) {
        await cdp.send('ServiceWorker.deliverPushMessage', {
          origin: new URL(ems.baseUrl).origin,
          registrationId,
          data: JSON.stringify(message),
        });
      }
      const shown = await poll('the notification', async () => {
        const notifications = await page.evaluate(async () => {
          const ready = await navigator.serviceWorker.ready;
          return (await ready.getNotifications()).map((each) => ({
            title: each.title,
            body: each.body,
            tag: each.tag,
            url: each.data?.url,
          }));
        });
        return notifications.length > 0 ? notifications : null;
      });
      // Pushed twice, shown once: the alert's tag.
      assert.deepEqual(shown, [{ title: message.title, body: message.body, tag: message.tag, url: message.url }]);

      const phone = await newPage(browser, ems.baseUrl, { viewport: PHONE, locale: 'en-US' });
      try {
        await signIn(phone.page, customer.username, customer.password);
        await waitForHeading(phone.page, 'My devices');
        await phone.page.goto('/settings');
        await phone.page.getByRole('heading', { name: 'Alerts when the dashboard is closed' }).waitFor();
        await assertNoSidewaysScroll(phone.page, 'the settings');
        await screenshot(phone.page, 'push-settings-phone');
      } finally {
        await phone.context.close();
      }
    },
  );
});
