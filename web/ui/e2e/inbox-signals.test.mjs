// What the support inbox tells an administrator, against a real `ems all`: a customer who has
// the chat open shows as online to an administrator who signs in after them; a question handed
// to a person puts a badge on the Support navigation, live and after a reload; the customer is
// told so in their own language only; and once the administrator replies, the conversation no
// longer waits and the badge clears.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { assertAccessible, launchBrowser, newPage, screenshot, signIn, waitForHeading, WAIT_MS } from './browser.mjs';
import { ADMIN, cleanUpOnce, startEms } from './ems-server.mjs';
import { apiAs } from './fixtures.mjs';

const suffix = randomBytes(3).toString('hex');
const customer = { username: `sig-${suffix}`, displayName: `Sina Signal ${suffix}`, password: 'a long e2e passphrase' };
// No rule answers it, and no AI is configured: it goes to a person.
const QUESTION = 'My heat pump makes a strange noise since yesterday, what should I do?';
const ENGLISH_NOTICE = "I've passed this to our support team; an administrator will reply here.";
const STEP = { timeout: 2 * 60_000 };
const LIVE_WAIT = { timeout: 60_000 };

let ems;
let browser;
// Closes the browser, stops the server and drops its database; also on Ctrl-C or a CI's SIGTERM.
const cleanUp = cleanUpOnce(() => [browser, ems]);

const nav = (page) => page.getByRole('navigation', { name: 'Main' });
const supportLink = (page) => nav(page).getByRole('link', { name: /^Support/ });

async function waitForConnected(page) {
  await page.locator('header .connection[data-state="connected"]').waitFor();
}

/** The number on the Support navigation link; 0 when it shows none. */
async function supportBadge(page) {
  const badge = supportLink(page).locator('.nav-badge');
  return (await badge.count()) === 0 ? 0 : Number(await badge.getAttribute('data-count'));
}

async function waitForSupportBadge(page, expected) {
  await page.waitForFunction(
    (count) => {
      const link = [...document.querySelectorAll('.app-nav a')].find(
        (a) => a.getAttribute('href') === '/admin/support',
      );
      const badge = link?.querySelector('.nav-badge');
      return (badge ? Number(badge.getAttribute('data-count')) : 0) === count;
    },
    expected,
    { timeout: WAIT_MS },
  );
}

describe('Support inbox signals', { timeout: 10 * 60_000 }, () => {
  let client;
  let admin;

  before(async () => {
    ems = await startEms();
    browser = await launchBrowser();
    const api = await apiAs(ems.baseUrl, ADMIN.username, ADMIN.password);
    await api.post('/api/users', {
      username: customer.username,
      display_name: customer.displayName,
      password: customer.password,
      role: 'client',
    });
  });

  after(cleanUp);

  it('shows the customer online to an administrator who signs in after them', STEP, async () => {
    client = await newPage(browser, ems.baseUrl, { locale: 'en-US' });
    await signIn(client.page, customer.username, customer.password);
    await waitForHeading(client.page, 'My devices');
    await waitForConnected(client.page);
    await client.page.getByRole('button', { name: 'Support chat' }).click();
    const panel = client.page.getByRole('dialog', { name: 'Support chat' });
    const input = panel.getByLabel('Message to support');
    await input.fill('hello');
    await input.press('Enter');
    await panel.locator('.chat-message--rule').first().waitFor(LIVE_WAIT);

    // Only now does the administrator sign in: no one told them when the customer connected.
    admin = await newPage(browser, ems.baseUrl, { locale: 'en-US' });
    const { page } = admin;
    await signIn(page, ADMIN.username, ADMIN.password);
    await waitForHeading(page, 'Users');
    await waitForConnected(page);
    await supportLink(page).click();
    await waitForHeading(page, 'Support inbox');
    const item = page.getByRole('link', { name: new RegExp(`${customer.displayName}\\s*, online`) });
    await item.waitFor({ timeout: WAIT_MS });
    assert.equal(await item.locator('.presence-dot--online').count(), 1);
    assert.equal(await supportBadge(page), 0, 'nothing waits for an administrator yet');
  });

  it('counts a question handed to a person on the Support badge, live and after a reload', STEP, async () => {
    const panel = client.page.getByRole('dialog', { name: 'Support chat' });
    const input = panel.getByLabel('Message to support');
    await input.fill(QUESTION);
    await input.press('Enter');
    const notice = panel.locator('.chat-message--system .chat-body');
    await notice.first().waitFor(LIVE_WAIT);
    // One language: the customer wrote English, so the notice is in English, and only in it.
    assert.equal((await notice.first().textContent()).trim(), ENGLISH_NOTICE);
    await panel.getByText('A person from the support team is answering.').waitFor();

    const { page } = admin;
    await waitForSupportBadge(page, 1);
    await supportLink(page).getByText('1 waiting for an administrator').waitFor({ state: 'attached' });
    const item = page.getByRole('link', { name: new RegExp(customer.displayName) });
    await item.locator('.mode-tag', { hasText: /^Waiting$/ }).waitFor();

    await page.reload();
    await waitForHeading(page, 'Support inbox');
    await waitForSupportBadge(page, 1);
    await page.getByRole('link', { name: new RegExp(`${customer.displayName}\\s*, online`) }).waitFor();
    await assertAccessible(page, 'the support inbox with a waiting conversation');
    await screenshot(page, 'admin-inbox-waiting-desktop');
  });

  it('stops waiting and clears the badge once the administrator replies', STEP, async () => {
    const { page } = admin;
    await page.getByRole('link', { name: new RegExp(customer.displayName) }).click();
    const pane = page.getByRole('region', { name: new RegExp(customer.displayName) });
    await pane.locator('.chat-message--customer .chat-body', { hasText: QUESTION }).waitFor();
    const state = pane.locator('.chat-mode');
    await state.getByText('Waiting for an administrator to answer.').waitFor();
    assert.match(await state.textContent(), /^Online\. /);

    await pane.getByLabel(`Reply to ${customer.displayName}`).fill('Hello, this is support. Is it a rattle or a hum?');
    await pane.getByRole('button', { name: 'Send reply' }).click();
    const customerPanel = client.page.getByRole('dialog', { name: 'Support chat' });
    await customerPanel.locator('.chat-message--admin').filter({ hasText: 'rattle or a hum' }).waitFor(LIVE_WAIT);

    await state.getByText('You are answering.').waitFor(LIVE_WAIT);
    assert.doesNotMatch(await state.textContent(), /Waiting for an administrator/);
    await waitForSupportBadge(page, 0);
    const item = page.getByRole('link', { name: new RegExp(customer.displayName) });
    await item.locator('.mode-tag', { hasText: /^Waiting$/ }).waitFor({ state: 'detached' });
    await item.locator('.mode-tag', { hasText: /^Person$/ }).waitFor();

    // Still so after a reload: the API agrees.
    await page.reload();
    await pane.getByText('You are answering.').waitFor();
    assert.equal(await supportBadge(page), 0);

    // The customer leaves: the administrator sees them go offline.
    await client.context.close();
    await item.locator('.presence-dot--online').waitFor({ state: 'detached', ...LIVE_WAIT });
    assert.doesNotMatch(await item.textContent(), /, online/, 'still said to be online');
    assert.doesNotMatch(await state.textContent(), /Online/);
  });
});
