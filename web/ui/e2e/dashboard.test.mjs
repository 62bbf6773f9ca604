// The dashboard against a real EMS in Chromium: signing in, administration, a customer's view,
// access rules, phone layout, accessibility and offline start. The steps build on each other
// (the customer the administrator creates is the one who signs in later), so they run in order.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  accessTokenOf,
  assertAccessible,
  assertNoSidewaysScroll,
  launchBrowser,
  newPage,
  PHONE,
  screenshot,
  signIn,
  signOut,
  waitForHeading,
  WAIT_MS,
} from './browser.mjs';
import { ADMIN, cleanUpOnce, startEms } from './ems-server.mjs';

const suffix = randomBytes(3).toString('hex');
const customer = { username: `e2e-${suffix}`, displayName: `Erin Tester ${suffix}`, password: 'a long e2e passphrase' };
const device = { name: `Sauna heater ${suffix}`, location: 'Basement', limit: '2,5' };

// No step should take this long; it bounds the waits that have no timeout of their own.
const STEP = { timeout: 2 * 60_000 };

let ems;
let browser;

// Closes the browser, stops the server and drops its database; also on Ctrl-C or a CI's SIGTERM.
const cleanUp = cleanUpOnce(() => [browser, ems]);

describe('EMS dashboard', { timeout: 10 * 60_000 }, () => {
  let admin;

  before(async () => {
    ems = await startEms();
    browser = await launchBrowser();
    admin = await newPage(browser, ems.baseUrl);
  });

  after(cleanUp);

  it('sends visitors to sign in, and says in words when the password is wrong', STEP, async () => {
    const { page } = admin;
    await page.goto('/admin/users');
    await waitForHeading(page, 'Sign in');
    assert.match(page.url(), /\/login\?next=%2Fadmin%2Fusers$/);
    await assertAccessible(page, 'the sign-in page');
    await screenshot(page, 'login-desktop');

    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const password = page.getByLabel('Password');
    await page.getByText('The username or password is wrong').waitFor();
    assert.equal(await password.getAttribute('aria-invalid'), 'true');
    assert.match(await password.evaluate((input) => input.getAttribute('aria-describedby')), /error/);
  });

  it('lets the administrator in, to the users table, and back where they were going', STEP, async () => {
    const { page } = admin;
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await waitForHeading(page, 'Users');
    assert.match(page.url(), /\/admin\/users$/);
    await page.getByRole('rowheader', { name: 'ana', exact: true }).waitFor();
    await assertAccessible(page, 'the users page');
    await screenshot(page, 'admin-users-desktop');
  });

  it('creates a customer, with API errors shown beside the field at fault', STEP, async () => {
    const { page } = admin;
    await page.getByRole('button', { name: 'New user' }).click();
    const dialog = page.getByRole('dialog', { name: 'New user' });
    // The dialog takes focus, so keyboard users start typing in it.
    assert.equal(await dialog.getByLabel('Username').evaluate((input) => input === document.activeElement), true);
    await dialog.getByLabel('Username').fill(customer.username);
    await dialog.getByLabel('Display name').fill(customer.displayName);
    await dialog.getByLabel('Role').selectOption('client');
    await dialog.getByLabel('Password').fill('short');
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await dialog.getByText(/Must be 10 to \d+ characters/).waitFor();
    assert.equal(await dialog.getByLabel('Password').getAttribute('aria-invalid'), 'true');
    await assertAccessible(page, 'the new-user dialog with an error');
    await screenshot(page, 'admin-new-user-error-desktop');

    await dialog.getByLabel('Password').fill(customer.password);
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `User ${customer.username} created.` })
      .waitFor();
    await dialog.waitFor({ state: 'detached' });

    await page.getByLabel('Search users').fill(customer.username);
    await page.waitForURL(new RegExp(`q=${customer.username}`));
    // The search leaves only the new user.
    await page.waitForFunction(
      (username) => {
        const rows = [...document.querySelectorAll('tbody tr')];
        return rows.length === 1 && rows[0].querySelector('th')?.textContent === username;
      },
      customer.username,
      { timeout: WAIT_MS },
    );
  });

  it('creates a device and assigns it to that customer', STEP, async () => {
    const { page } = admin;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Devices' }).click();
    await waitForHeading(page, 'Devices');

    await page.getByRole('button', { name: 'New device' }).click();
    const form = page.getByRole('dialog', { name: 'New device' });
    await form.getByLabel('Name').fill(device.name);
    await form.getByLabel('Location').fill(device.location);
    await form.getByLabel('Hourly limit (kWh)').fill(device.limit);
    await form.getByRole('button', { name: 'Create device' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Device ${device.name} created.` })
      .waitFor();

    await page.getByLabel('Search devices').fill(suffix);
    const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: device.name }) });
    await row.getByText('Not assigned').waitFor();
    await row.getByRole('button', { name: `Assign ${device.name}` }).click();

    const assign = page.getByRole('dialog', { name: `Assign ${device.name}` });
    await assign.getByLabel('Find a user by name or username').fill(customer.username);
    await assign.getByRole('radio', { name: new RegExp(customer.displayName) }).check();
    await assign.getByRole('button', { name: 'Assign', exact: true }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `${device.name} assigned to ${customer.username}.` })
      .waitFor();
    await row.getByRole('cell', { name: customer.username }).waitFor();
    await assertAccessible(page, 'the devices page');
    await screenshot(page, 'admin-devices-desktop');
  });

  it('shows the customer that device under My devices', STEP, async () => {
    const { context, page } = await newPage(browser, ems.baseUrl);
    try {
      // By keyboard alone: the first Tab reaches the skip link, Enter submits the form, and
      // focus lands on the new page's heading, as after a full page load.
      await page.goto('/login');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
      await page.getByLabel('Username').focus();
      await page.keyboard.type(customer.username);
      await page.keyboard.press('Tab');
      await page.keyboard.type(customer.password);
      await page.keyboard.press('Enter');
      await waitForHeading(page, 'My devices');
      await page.waitForFunction(() => document.activeElement?.tagName === 'H1', null, { timeout: WAIT_MS });
      const card = page.getByRole('article', { name: device.name });
      await card.waitFor();
      assert.match(await card.textContent(), /Basement/);
      assert.match(await card.textContent(), /2\.5 kWh/);
      await assertAccessible(page, 'the customer devices page');
      await screenshot(page, 'customer-devices-desktop');
    } finally {
      await context.close();
    }
  });

  it('keeps a customer out of the administrators’ pages', STEP, async () => {
    const { context, page } = await newPage(browser, ems.baseUrl);
    try {
      await signIn(page, 'ana', 'ems-demo');
      await waitForHeading(page, 'My devices');
      const nav = page.getByRole('navigation', { name: 'Main' });
      assert.equal(await nav.getByRole('link', { name: 'Users' }).count(), 0);
      for (const path of ['/admin/users', '/admin/devices']) {
        await page.goto(path);
        await waitForHeading(page, 'For administrators only');
        assert.equal(await page.getByRole('table').count(), 0, `${path} shows a table to a customer`);
      }
      const status = await page.evaluate(
        async (accessToken) => {
          const response = await fetch('/api/users', {
            headers: { Authorization: `Bearer ${accessToken}` },
            signal: AbortSignal.timeout(5_000),
          });
          return response.status;
        },
        await accessTokenOf(page),
      );
      assert.equal(status, 403);
    } finally {
      await context.close();
    }
  });

  it('keeps the refresh token out of reach of scripts, and stays signed in across reloads and tabs', STEP, async () => {
    const { context, page } = await newPage(browser, ems.baseUrl);
    const refreshCookie = async () => (await context.cookies()).find((cookie) => cookie.name === 'ems_refresh');
    const signedIn = (tab) => tab.getByRole('article', { name: 'Home office' }).waitFor();
    try {
      // What an earlier version left behind is deleted on start.
      await page.goto('/login');
      await page.evaluate(() => localStorage.setItem('ems.session', '{"refreshToken":"left-over"}'));
      await signIn(page, 'ben', 'ems-demo');
      await signedIn(page);

      const cookie = await refreshCookie();
      assert.ok(cookie && cookie.value.length >= 40, 'the refresh token is set as a cookie');
      assert.deepEqual(
        { httpOnly: cookie.httpOnly, secure: cookie.secure, sameSite: cookie.sameSite, path: cookie.path },
        { httpOnly: true, secure: true, sameSite: 'Strict', path: '/api/auth' },
      );
      const visible = await page.evaluate(() => ({
        cookies: document.cookie,
        stored: Object.entries(localStorage),
        session: Object.entries(sessionStorage),
      }));
      assert.equal(visible.cookies, '', 'document.cookie shows nothing');
      for (const [key, value] of [...visible.stored, ...visible.session]) {
        assert.ok(!key.startsWith('ems.session'), `${key} is still stored`);
        assert.ok(!value.includes(cookie.value) && !/eyJ[\w-]+\.eyJ/.test(value), `${key} holds a token: ${value}`);
      }

      // A reload, and a second tab, get their sessions from the cookie.
      await page.reload();
      await signedIn(page);
      const other = await context.newPage();
      await other.goto('/');
      await signedIn(other);

      // Both tabs reloading at once must not present one cookie twice, which would end the login.
      for (let round = 1; round <= 3; round += 1) {
        await Promise.all([page.reload(), other.reload()]);
        await Promise.all([signedIn(page), signedIn(other)]);
      }
      await waitForHeading(other, 'My devices');

      // Signing out in one tab signs out both, and the server clears the cookie.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await waitForHeading(page, 'Sign in');
      await waitForHeading(other, 'Sign in');
      assert.equal(await refreshCookie(), undefined, 'the refresh cookie is cleared');
      await page.reload();
      await waitForHeading(page, 'Sign in');
      assert.equal(await page.getByRole('alert').count(), 0, 'a signed-out start shows no error');
    } finally {
      await context.close();
    }
  });

  it('renews the access token before it expires', STEP, async () => {
    const { context, page } = await newPage(browser, ems.baseUrl);
    try {
      await page.clock.install();
      await signIn(page, 'ben', 'ems-demo');
      await page.getByRole('article', { name: 'Home office' }).waitFor();
      const renewed = page.waitForResponse(
        (response) => response.url().endsWith('/api/auth/refresh') && response.request().method() === 'POST',
      );
      // The access token lasts 15 minutes; the dashboard renews it a minute before.
      await page.clock.fastForward('14:30');
      assert.equal((await renewed).status(), 200);
      await page.getByRole('link', { name: 'My devices' }).click();
      await page.getByRole('article', { name: 'Home office' }).waitFor();
    } finally {
      await context.close();
    }
  });

  it('fits a 360 px wide phone without sideways scrolling', STEP, async () => {
    const { context, page } = await newPage(browser, ems.baseUrl, { viewport: PHONE });
    try {
      await page.goto('/login');
      await waitForHeading(page, 'Sign in');
      await assertNoSidewaysScroll(page, 'the sign-in page');
      await screenshot(page, 'login-phone');

      await signIn(page, ADMIN.username, ADMIN.password);
      await waitForHeading(page, 'Users');
      // Stacked rows on phones: each cell's name starts with its column's label.
      await page.getByRole('rowheader', { name: 'Username ana', exact: true }).waitFor();
      await assertNoSidewaysScroll(page, 'the users page');
      await screenshot(page, 'admin-users-phone');

      await page.goto('/admin/devices');
      await page.getByRole('rowheader', { name: `Name ${device.name}`, exact: true }).waitFor();
      await assertNoSidewaysScroll(page, 'the devices page');
      await screenshot(page, 'admin-devices-phone');

      await page.getByRole('button', { name: 'New device' }).click();
      await page.getByRole('dialog', { name: 'New device' }).waitFor();
      await assertNoSidewaysScroll(page, 'the new-device dialog');
      await screenshot(page, 'admin-new-device-phone');
      await page.keyboard.press('Escape');
      await page.getByRole('dialog').waitFor({ state: 'detached' });

      await signOut(page);
      await signIn(page, customer.username, customer.password);
      await page.getByRole('article', { name: device.name }).waitFor();
      await assertNoSidewaysScroll(page, 'the customer devices page');
      await screenshot(page, 'customer-devices-phone');
    } finally {
      await context.close();
    }
  });

  it('is readable in the dark theme', STEP, async () => {
    const { context, page } = await newPage(browser, ems.baseUrl, { colorScheme: 'dark' });
    try {
      await page.goto('/login');
      await waitForHeading(page, 'Sign in');
      await assertAccessible(page, 'the sign-in page in the dark theme');
      await screenshot(page, 'login-dark-desktop');
      await signIn(page, customer.username, customer.password);
      await page.getByRole('article', { name: device.name }).waitFor();
      await assertAccessible(page, 'the customer devices page in the dark theme');
      await screenshot(page, 'customer-devices-dark-desktop');

      // The toggle overrides the system's choice, and the choice is remembered.
      await page.getByRole('button', { name: /^Theme: Auto/ }).click();
      await page.reload();
      await page.getByRole('button', { name: /^Theme: Light/ }).waitFor();
      const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
      assert.equal(background, 'rgb(246, 248, 247)');
    } finally {
      await context.close();
    }
  });

  it('edits, resets a password, unassigns, and deletes only after asking', STEP, async () => {
    const { page } = admin;
    const status = (text) => page.getByRole('status').filter({ hasText: text });

    await page.goto(`/admin/users?q=${customer.username}`);
    const userRow = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: customer.username }) });
    await userRow.getByRole('button', { name: `Edit ${customer.username}` }).click();
    const edit = page.getByRole('dialog', { name: `Edit ${customer.username}` });
    await edit.getByLabel('Display name').fill(`Erin Renamed ${suffix}`);
    await edit.getByRole('button', { name: 'Save' }).click();
    await status(`User ${customer.username} saved.`).waitFor();
    await userRow.getByRole('cell', { name: `Erin Renamed ${suffix}` }).waitFor();

    await userRow.getByRole('button', { name: `Reset password of ${customer.username}` }).click();
    const reset = page.getByRole('dialog', { name: `New password for ${customer.username}` });
    await reset.getByLabel('New password').fill('another long passphrase');
    await reset.getByRole('button', { name: 'Set password' }).click();
    await status(`Password of ${customer.username} changed`).waitFor();

    await page.goto(`/admin/devices?q=${suffix}`);
    const deviceRow = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: device.name }) });
    await deviceRow.getByRole('button', { name: `Edit ${device.name}` }).click();
    const editDevice = page.getByRole('dialog', { name: `Edit ${device.name}` });
    await editDevice.getByLabel('Hourly limit (kWh)').fill('three');
    await editDevice.getByRole('button', { name: 'Save' }).click();
    await editDevice.getByText('Enter the limit as a number of kWh').waitFor();
    await editDevice.getByLabel('Hourly limit (kWh)').fill('3');
    await editDevice.getByRole('button', { name: 'Save' }).click();
    await status(`Device ${device.name} saved.`).waitFor();
    await deviceRow.getByRole('cell', { name: '3 kWh' }).waitFor();

    await deviceRow.getByRole('button', { name: `Unassign ${device.name}` }).click();
    await status(`${device.name} no longer has an owner.`).waitFor();
    await deviceRow.getByRole('cell', { name: 'Not assigned' }).waitFor();

    await deviceRow.getByRole('button', { name: `Delete ${device.name}` }).click();
    const confirmDevice = page.getByRole('dialog', { name: `Delete ${device.name}?` });
    await confirmDevice.getByRole('button', { name: 'Cancel' }).click();
    await confirmDevice.waitFor({ state: 'detached' });
    await deviceRow.waitFor();
    await deviceRow.getByRole('button', { name: `Delete ${device.name}` }).click();
    await confirmDevice.getByRole('button', { name: 'Delete device' }).click();
    await status(`Device ${device.name} deleted.`).waitFor();
    await deviceRow.waitFor({ state: 'detached' });

    await page.goto(`/admin/users?q=${customer.username}`);
    await userRow.getByRole('button', { name: `Delete ${customer.username}` }).click();
    const confirmUser = page.getByRole('dialog', { name: `Delete ${customer.username}?` });
    await confirmUser.getByRole('button', { name: 'Delete user' }).click();
    await status(`User ${customer.username} deleted.`).waitFor();
    await page.getByText(`No users match “${customer.username}”.`).waitFor();
  });

  it('is installable, starts offline from the cached app shell and says it is offline', STEP, async () => {
    const manifest = await (
      await fetch(`${ems.baseUrl}/manifest.webmanifest`, { signal: AbortSignal.timeout(WAIT_MS) })
    ).json();
    assert.equal(manifest.display, 'standalone');
    for (const size of ['192x192', '512x512']) {
      const icon = manifest.icons.find((candidate) => candidate.sizes === size && candidate.type === 'image/png');
      assert.ok(icon, `the manifest has no ${size} PNG icon`);
      const response = await fetch(new URL(icon.src, ems.baseUrl), { signal: AbortSignal.timeout(WAIT_MS) });
      assert.equal(response.headers.get('content-type'), 'image/png');
    }

    const { context, page } = await newPage(browser, ems.baseUrl);
    try {
      await page.goto('/login');
      assert.equal(await page.locator('link[rel="manifest"]').count(), 1);
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
      await context.setOffline(true);
      await page.reload();
      await waitForHeading(page, 'Sign in');
      await page.getByText('You are offline').waitFor();
      await screenshot(page, 'offline-desktop');
    } finally {
      await context.close();
    }
  });
});
