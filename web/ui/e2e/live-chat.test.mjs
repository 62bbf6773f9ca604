// Live alerts and support chat over the WebSocket, against a real `ems all` with its brokers: an
// administrator sets up a customer and a device in the dashboard; readings published to RabbitMQ
// raise an alert the signed-in customer sees as a toast without reloading; the customer chats
// with the bot, asks for a person, and an administrator answers from the support inbox, live.
// Then the System page lists the monitor replicas, and a dropped connection comes back.
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
  waitForHeading,
  WAIT_MS,
} from './browser.mjs';
import { ADMIN, cleanUpOnce, MONITORS, startEms } from './ems-server.mjs';
import { publishReadings, readingsFor } from './fixtures.mjs';

const suffix = randomBytes(3).toString('hex');
const customer = { username: `chat-${suffix}`, displayName: `Cara Chat ${suffix}`, password: 'a long e2e passphrase' };
const device = { name: `Heat pump ${suffix}`, location: 'Garden', limit: '2,5' };
const today = new Date().toISOString().slice(0, 10);
// 3 kWh in today's first hour: over the 2.5 kWh limit, and 3 kW on average, a peak too.
const TODAY_HOURS = { 0: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5] };
const STEP = { timeout: 2 * 60_000 };
const LIVE_WAIT = { timeout: 60_000 };

let ems;
let browser;
// Closes the browser, stops the server and drops its database; also on Ctrl-C or a CI's SIGTERM.
const cleanUp = cleanUpOnce(() => [browser, ems]);

const nav = (page) => page.getByRole('navigation', { name: 'Main' });
const connection = (page) => page.locator('header .connection');

async function waitForConnected(page) {
  await page.locator('header .connection[data-state="connected"]').waitFor();
}

async function badge(page) {
  return page.evaluate(() => {
    const element = document.querySelector('.app-nav .nav-badge');
    return element ? Number(element.getAttribute('data-count')) : 0;
  });
}

describe('Live alerts and support chat', { timeout: 10 * 60_000 }, () => {
  let admin;
  let client;
  let deviceId;

  before(async () => {
    ems = await startEms();
    browser = await launchBrowser();
    admin = await newPage(browser, ems.baseUrl, { locale: 'en-US' });
  });

  after(cleanUp);

  it('lets the administrator create a customer and assign a device in the dashboard', STEP, async () => {
    const { page } = admin;
    await signIn(page, ADMIN.username, ADMIN.password);
    await waitForHeading(page, 'Users');
    await waitForConnected(page);

    await page.getByRole('button', { name: 'New user' }).click();
    const dialog = page.getByRole('dialog', { name: 'New user' });
    await dialog.getByLabel('Username').fill(customer.username);
    await dialog.getByLabel('Display name').fill(customer.displayName);
    await dialog.getByLabel('Role').selectOption('client');
    await dialog.getByLabel('Password').fill(customer.password);
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `User ${customer.username} created.` })
      .waitFor();

    await nav(page).getByRole('link', { name: 'Devices' }).click();
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
  });

  it('shows the customer a live alert as a toast, and the badge goes up, without reloading', STEP, async () => {
    client = await newPage(browser, ems.baseUrl, { locale: 'en-US' });
    const { page } = client;
    await signIn(page, customer.username, customer.password);
    await waitForHeading(page, 'My devices');
    const card = page.getByRole('article', { name: device.name });
    await card.waitFor();
    deviceId = await page.evaluate(
      async (accessToken) => {
        const response = await fetch('/api/me/devices', { headers: { Authorization: `Bearer ${accessToken}` } });
        return (await response.json()).items[0].id;
      },
      await accessTokenOf(page),
    );
    await waitForConnected(page);
    assert.equal(await badge(page), 0);
    assert.equal((await connection(page).textContent()).trim(), 'Live updates: Live');
    await page.evaluate(() => (window.__sameDocument = true));

    await publishReadings(ems.database, readingsFor(deviceId, today, TODAY_HOURS));
    const toast = page.locator('.toast').filter({ hasText: `${device.name}: over the hourly limit` });
    await toast.waitFor(LIVE_WAIT);
    assert.match(await toast.textContent(), /3 kWh in the hour 00:00–01:00 — limit 2\.5 kWh/);
    // The overconsumption and the peak alert: one incident, one toast, counted once.
    assert.equal(await page.locator('.toast').count(), 1);
    await page.waitForFunction(
      () => Number(document.querySelector('.app-nav .nav-badge')?.getAttribute('data-count') ?? 0) === 1,
      null,
      { timeout: WAIT_MS },
    );
    await page.getByRole('link', { name: /^Alerts\W+1 to acknowledge$/ }).waitFor();
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was reloaded');
    await screenshot(page, 'live-alert-toast-desktop');
  });

  it('answers the customer automatically, then hands over to a person', STEP, async () => {
    const { page } = client;
    await page.getByRole('button', { name: 'Support chat' }).click();
    const panel = page.getByRole('dialog', { name: 'Support chat' });
    await panel.waitFor();
    const input = panel.getByLabel('Message to support');
    assert.equal(await input.evaluate((element) => element === document.activeElement), true);

    await input.fill('hello');
    await input.press('Enter');
    const automatic = panel.locator('.chat-message--rule');
    await automatic.first().waitFor(LIVE_WAIT);
    assert.match(await automatic.first().locator('.chat-source').textContent(), /^Automatic answer$/);
    await panel.locator('.chat-message--customer .chat-body', { hasText: /^hello$/ }).waitFor();
    await panel.getByText('Sending…').waitFor({ state: 'detached' });

    // No keyword rule knows this question; with the embedding model (scripts/test.sh fetches it
    // and sets EMS_EMBEDDING_MODEL) the FAQ answer that means the same comes back, automatically.
    if (process.env.EMS_EMBEDDING_MODEL) {
      await input.fill('Is there an app for my iPhone?');
      await input.press('Enter');
      const byMeaning = panel.locator('.chat-message--rule', { hasText: 'installable web app' });
      await byMeaning.waitFor(LIVE_WAIT);
      assert.match(await byMeaning.locator('.chat-source').textContent(), /^Automatic answer$/);
      await screenshot(page, 'customer-chat-meaning-desktop');
    }

    await input.fill('talk to a person');
    await input.press('Enter');
    const notice = panel.locator('.chat-message--system');
    await notice.first().waitFor(LIVE_WAIT);
    assert.match(await notice.first().locator('.chat-source').textContent(), /^Notice$/);
    await panel.getByText('A person from the support team is answering.').waitFor();
    await assertAccessible(page, 'the support chat');
    await screenshot(page, 'customer-chat-desktop');
  });

  it('lets an administrator read the conversation in the inbox and reply live', STEP, async () => {
    const { page } = admin;
    await nav(page).getByRole('link', { name: 'Support' }).click();
    await waitForHeading(page, 'Support inbox');
    const item = page.getByRole('link', { name: new RegExp(customer.displayName) });
    await item.waitFor();
    const unread = Number(await item.locator('.nav-badge').getAttribute('data-count'));
    assert.ok(unread >= 1, `unread count ${unread}`);
    assert.match(await item.textContent(), /Person/);
    await assertAccessible(page, 'the support inbox');
    await screenshot(page, 'admin-inbox-desktop');

    await item.click();
    const pane = page.getByRole('region', { name: new RegExp(customer.displayName) });
    await pane.locator('.chat-message--customer .chat-body', { hasText: /^talk to a person$/ }).waitFor();
    await item.locator('.nav-badge').waitFor({ state: 'detached' });
    // Reading it sends a receipt: the customer sees their messages as seen.
    const customerPanel = client.page.getByRole('dialog', { name: 'Support chat' });
    await customerPanel
      .locator('.chat-message--customer')
      .filter({ hasText: 'talk to a person' })
      .getByText('Seen')
      .waitFor(LIVE_WAIT);
    await pane.getByRole('button', { name: 'Hand back to the bot' }).waitFor();

    // Typing shows on the customer's side.
    const reply = pane.getByLabel(`Reply to ${customer.displayName}`);
    await reply.fill('Hi, this is');
    await customerPanel.getByText('Support is typing…').waitFor();

    await reply.fill('Hi, this is the support team. How can I help?');
    await pane.getByRole('button', { name: 'Send reply' }).click();
    const answer = customerPanel.locator('.chat-message--admin').filter({ hasText: 'How can I help?' });
    await answer.waitFor(LIVE_WAIT);
    assert.equal((await answer.locator('.chat-source').textContent()).trim(), 'Support team');
    // The customer has the panel open, so the reply shows as seen.
    await pane.locator('.chat-message--admin').filter({ hasText: 'How can I help?' }).getByText('Seen').waitFor();
    await assertAccessible(page, 'a conversation in the support inbox');
    await screenshot(page, 'admin-conversation-desktop');
    await screenshot(client.page, 'customer-chat-reply-desktop');

    // Handing back to the bot shows on both sides; taking over again too.
    await pane.getByRole('button', { name: 'Hand back to the bot' }).click();
    await pane.getByRole('button', { name: 'Take over' }).waitFor();
    await customerPanel.getByText('Automatic answers; ask for a person at any time.').waitFor(LIVE_WAIT);
    await pane.getByRole('button', { name: 'Take over' }).click();
    await pane.getByText('You are answering.').waitFor();
    await customerPanel.getByText('A person from the support team is answering.').waitFor(LIVE_WAIT);
  });

  it('fits a 360 px phone: the chat full screen and the inbox', STEP, async () => {
    const phone = await newPage(browser, ems.baseUrl, { viewport: PHONE, locale: 'en-US', colorScheme: 'dark' });
    try {
      await signIn(phone.page, customer.username, customer.password);
      await waitForHeading(phone.page, 'My devices');
      await phone.page.getByRole('button', { name: 'Support chat' }).click();
      const panel = phone.page.getByRole('dialog', { name: 'Support chat' });
      await panel.locator('.chat-message--admin').first().waitFor();
      const box = await panel.boundingBox();
      assert.ok(box.width >= PHONE.width - 1 && box.height >= PHONE.height - 1, `panel ${JSON.stringify(box)}`);
      await assertNoSidewaysScroll(phone.page, 'the support chat');
      await assertAccessible(phone.page, 'the support chat on a phone, dark theme');
      await screenshot(phone.page, 'customer-chat-dark-phone');
      // Escape closes it, and focus goes back to its button.
      await phone.page.keyboard.press('Escape');
      const launcher = phone.page.getByRole('button', { name: 'Support chat' });
      await launcher.waitFor();
      // The launcher takes the focus in an effect after it renders: wait for it, with a deadline.
      await phone.page.waitForFunction(() => document.activeElement?.classList.contains('chat-launcher'), null, {
        timeout: 5000,
      });
    } finally {
      await phone.context.close();
    }
    const adminPhone = await newPage(browser, ems.baseUrl, { viewport: PHONE, locale: 'en-US' });
    try {
      await signIn(adminPhone.page, ADMIN.username, ADMIN.password);
      await waitForHeading(adminPhone.page, 'Users');
      await adminPhone.page.goto('/admin/support');
      await adminPhone.page.getByRole('link', { name: new RegExp(customer.displayName) }).click();
      await adminPhone.page.getByRole('link', { name: '← All conversations' }).waitFor();
      await assertNoSidewaysScroll(adminPhone.page, 'a conversation in the inbox');
      await screenshot(adminPhone.page, 'admin-conversation-phone');
    } finally {
      await adminPhone.context.close();
    }
  });

  it('lists the monitor replicas on the System page', STEP, async () => {
    const { page } = admin;
    await nav(page).getByRole('link', { name: 'System' }).click();
    await waitForHeading(page, 'System');
    const rows = page.locator('.replicas-table tbody tr');
    await page.waitForFunction(
      (count) => document.querySelectorAll('.replicas-table tbody tr').length === count,
      MONITORS,
      { timeout: 30_000 },
    );
    for (let replica = 1; replica <= MONITORS; replica += 1) {
      await rows
        .filter({ hasText: `Monitor ${replica}` })
        .getByText('Live', { exact: true })
        .waitFor();
    }
    await assertAccessible(page, 'the System page');
    await screenshot(page, 'admin-system-desktop');
    await page.setViewportSize(PHONE);
    await assertNoSidewaysScroll(page, 'the System page');
    await screenshot(page, 'admin-system-phone');
  });

  it('shows reconnecting, then live again, when the connection drops', STEP, async () => {
    const { page } = client;
    await waitForConnected(page);
    await page.evaluate(() => {
      window.__states = [];
      const header = document.querySelector('header');
      new MutationObserver(() => {
        const state = document.querySelector('header .connection')?.getAttribute('data-state');
        if (state && window.__states.at(-1) !== state) window.__states.push(state);
      }).observe(header, { subtree: true, attributes: true, childList: true });
      window.__emsLive.drop();
    });
    await page.waitForFunction(() => window.__states.includes('connected'), null, { timeout: WAIT_MS });
    const states = await page.evaluate(() => window.__states);
    assert.deepEqual(states.slice(0, 1), ['reconnecting']);
    assert.equal(states.at(-1), 'connected');
    await client.context.close();
  });
});
