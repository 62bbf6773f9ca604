// Support with two administrators, each in their own browser, against a real `ems all`: one takes
// a waiting conversation and the other sees live who has it (and is warned before replying); the
// inbox finds a conversation by a fragment of a message, filters by "Mine" and pages with "Load
// more"; when the conversation is handed back, the customer rates it in the chat and the
// administrators see the rating. Screenshots on a desktop and a phone.
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
import { apiAs } from './fixtures.mjs';

const suffix = randomBytes(3).toString('hex');
const PASSWORD = 'a long e2e passphrase';
const customer = { username: `rate-${suffix}`, displayName: `Radu Rating ${suffix}` };
const second = { username: `maria-${suffix}`, displayName: `Maria Second ${suffix}` };
// No rule answers it, and no AI is configured: it goes to a person.
const QUESTION = 'My solar inverter shows the code E-417 since this morning, is that serious?';
const STEP = { timeout: 3 * 60_000 };
const LIVE_WAIT = { timeout: 60_000 };
/** More conversations than one inbox page holds (20), so that "Load more" shows. */
const FILLERS = 21;

let ems;
let browser;
const cleanUp = cleanUpOnce(() => [browser, ems]);

const nav = (page) => page.getByRole('navigation', { name: 'Main' });

async function openInbox(page, username, password, heading = 'Users') {
  await signIn(page, username, password);
  await waitForHeading(page, heading);
  await page.locator('header .connection[data-state="connected"]').waitFor();
  await nav(page)
    .getByRole('link', { name: /^Support/ })
    .click();
  await waitForHeading(page, 'Support inbox');
}

const row = (page, name) => page.locator('.conversation-row').filter({ hasText: name });

describe('Support with several administrators', { timeout: 15 * 60_000 }, () => {
  let client;
  let first;
  let other;
  let rootName;

  before(async () => {
    ems = await startEms();
    browser = await launchBrowser();
    const api = await apiAs(ems.baseUrl, ADMIN.username, ADMIN.password);
    rootName = api.user.display_name;
    await api.post('/api/users', {
      username: customer.username,
      display_name: customer.displayName,
      password: PASSWORD,
      role: 'client',
    });
    await api.post('/api/users', {
      username: second.username,
      display_name: second.displayName,
      password: PASSWORD,
      role: 'admin',
    });
    // Conversations the second administrator holds, enough to need a second page.
    const maria = await apiAs(ems.baseUrl, second.username, PASSWORD);
    for (let index = 0; index < FILLERS; index += 1) {
      const filler = await api.post('/api/users', {
        username: `fill-${suffix}-${index}`,
        display_name: `Filler ${index} ${suffix}`,
        password: PASSWORD,
        role: 'client',
      });
      await maria.post(`/api/support/conversations/${filler.id}/takeover`);
    }
  });

  after(cleanUp);

  it('shows every administrator who has taken a conversation, live, and warns the others', STEP, async () => {
    client = await newPage(browser, ems.baseUrl, { locale: 'en-US' });
    await signIn(client.page, customer.username, PASSWORD);
    await waitForHeading(client.page, 'My devices');
    await client.page.getByRole('button', { name: 'Support chat' }).click();
    const panel = client.page.getByRole('dialog', { name: 'Support chat' });
    const input = panel.getByLabel('Message to support');
    await input.fill(QUESTION);
    await input.press('Enter');
    await panel.getByText('A person from the support team is answering.').waitFor(LIVE_WAIT);

    first = await newPage(browser, ems.baseUrl, { locale: 'en-US' });
    other = await newPage(browser, ems.baseUrl, { locale: 'en-US' });
    await openInbox(first.page, ADMIN.username, ADMIN.password);
    await first.page.getByText('No other administrator is online.').waitFor();
    await openInbox(other.page, second.username, PASSWORD);
    // Each sees the other: Maria from her snapshot, the first administrator as she arrives.
    await other.page.getByText(`Also online: ${rootName}`).waitFor(LIVE_WAIT);
    await first.page.getByText(`Also online: ${second.displayName}`).waitFor(LIVE_WAIT);
    const seenByOther = row(other.page, customer.displayName);
    await seenByOther.locator('.mode-tag', { hasText: /^Waiting$/ }).waitFor();
    assert.equal(await seenByOther.locator('.assignee-tag').count(), 0, 'nobody has it yet');

    // The first administrator takes it from the list.
    await first.page.getByRole('button', { name: `Take the conversation with ${customer.displayName}` }).click();
    const pane = first.page.getByRole('region', { name: new RegExp(customer.displayName) });
    await pane.getByText('You are answering.').waitFor();
    await row(first.page, customer.displayName)
      .locator('.assignee-tag', { hasText: /^Yours$/ })
      .waitFor();

    // The other sees who has it without reloading, and loses the Take button.
    await seenByOther.locator('.assignee-tag', { hasText: `${rootName} has it` }).waitFor(LIVE_WAIT);
    await seenByOther.getByRole('button', { name: /^Take the conversation/ }).waitFor({ state: 'detached' });
    await seenByOther.locator('.conversation-item').click();
    const otherPane = other.page.getByRole('region', { name: new RegExp(customer.displayName) });
    await otherPane.getByText(`${rootName} has this conversation.`).waitFor();
    await otherPane.getByRole('note').getByText(`${rootName} has this conversation`).waitFor();
    await otherPane.getByRole('button', { name: `Take over from ${rootName}` }).waitFor();
    await assertAccessible(other.page, 'a conversation another administrator has');
    await screenshot(other.page, 'support-admins-held-by-other-desktop');

    // Asked through the API, taking it without force is refused, naming the holder.
    const maria = await apiAs(ems.baseUrl, second.username, PASSWORD);
    await assert.rejects(
      maria.post(`/api/support/conversations/${(await customerId()).id}/takeover`),
      (error) => /HTTP 409/.test(error.message) && error.message.includes(rootName),
    );
  });

  it('finds a conversation by part of a message, filters by Mine and pages with Load more', STEP, async () => {
    const { page } = first;
    await page.goto('/admin/support');
    await waitForHeading(page, 'Support inbox');
    // Every filler conversation plus the customer's: the first page holds 20.
    await page.getByText(`${FILLERS + 1} conversations`).waitFor();
    assert.equal(await page.locator('.conversation-row').count(), 20);
    await page.getByRole('button', { name: 'Load more conversations' }).click();
    await page.locator('.conversation-row').nth(FILLERS).waitFor();
    assert.equal(await page.locator('.conversation-row').count(), FILLERS + 1);
    await page.getByRole('button', { name: 'Load more conversations' }).waitFor({ state: 'detached' });

    await page.getByLabel('Search conversations').fill('inverter shows the code');
    await page.getByText('1 conversation', { exact: true }).waitFor();
    assert.equal(await page.locator('.conversation-row').count(), 1);
    await row(page, customer.displayName).waitFor();
    await page.getByLabel('Search conversations').fill('no such words anywhere');
    await page.getByText('No conversations match “no such words anywhere”.').waitFor();
    await page.getByLabel('Search conversations').fill('');
    await page.getByText(`${FILLERS + 1} conversations`).waitFor();

    await page.getByRole('button', { name: 'Mine', exact: true }).click();
    await page.getByText('1 conversation', { exact: true }).waitFor();
    await row(page, customer.displayName).waitFor();
    await page.getByRole('button', { name: 'Unassigned', exact: true }).click();
    await page.getByText('None here.').waitFor();
    await other.page.goto('/admin/support?assigned=me');
    await other.page.getByText(`${FILLERS} conversations`).waitFor();
    assert.equal(await row(other.page, customer.displayName).count(), 0, 'not among Maria’s');
    await page.getByRole('button', { name: 'All', exact: true }).click();
    await page.getByText(`${FILLERS + 1} conversations`).waitFor();
    await assertAccessible(page, 'the inbox with assignees');
    await screenshot(page, 'support-admins-inbox-desktop');
  });

  it('asks the customer for a rating on hand-back and shows it to the administrators', STEP, async () => {
    const { page } = first;
    await row(page, customer.displayName).locator('.conversation-item').click();
    const pane = page.getByRole('region', { name: new RegExp(customer.displayName) });
    await pane
      .getByLabel(`Reply to ${customer.displayName}`)
      .fill('E-417 is a grid voltage warning; it clears by itself.');
    await pane.getByRole('button', { name: 'Send reply' }).click();
    const panel = client.page.getByRole('dialog', { name: 'Support chat' });
    await panel.locator('.chat-message--admin').filter({ hasText: 'grid voltage' }).waitFor(LIVE_WAIT);
    await pane.getByRole('button', { name: 'Hand back to the bot' }).click();

    const prompt = panel.getByRole('form', { name: 'Rate the help you got' });
    await prompt.getByText(`How did ${rootName} help you?`).waitFor(LIVE_WAIT);
    await assertAccessible(client.page, 'the rating prompt');
    await screenshot(client.page, 'support-admins-rating-prompt-desktop');
    await prompt.getByRole('button', { name: 'Send rating' }).click();
    await prompt.getByText('Choose a rating from 1 to 5 first.').waitFor();
    await prompt.getByRole('button', { name: '4 of 5: Very good' }).click();
    await prompt.getByPlaceholder('A comment (optional)').fill('Quick and clear');
    await prompt.getByRole('button', { name: 'Send rating' }).click();
    await panel.getByText(`Thank you for rating ${rootName} 4/5.`).waitFor();
    await prompt.waitFor({ state: 'detached' });

    // Both administrators see it live in the list, and in the averages.
    for (const admin of [first, other]) {
      await admin.page.goto('/admin/support');
      await row(admin.page, customer.displayName).locator('.rating-tag', { hasText: '★ 4/5' }).waitFor(LIVE_WAIT);
    }
    await other.page.getByText('Ratings by administrator').click();
    await other.page.locator('.ratings-list li', { hasText: rootName }).getByText('★ 4.0 (1 rating)').waitFor();

    // Reloaded, the customer is not asked again: the rating is stored once.
    await client.page.reload();
    await waitForHeading(client.page, 'My devices');
    await client.page.getByRole('button', { name: 'Support chat' }).click();
    await panel.locator('.chat-message--admin').first().waitFor();
    assert.equal(await panel.getByRole('form', { name: 'Rate the help you got' }).count(), 0);
  });

  it('fits a 360 px phone: the inbox with its filters and badges, and the rating prompt', STEP, async () => {
    const phone = await newPage(browser, ems.baseUrl, { viewport: PHONE, locale: 'en-US' });
    try {
      await openInbox(phone.page, second.username, PASSWORD);
      await row(phone.page, customer.displayName).locator('.rating-tag').waitFor();
      await phone.page
        .locator('.assignee-tag--me', { hasText: /^Yours$/ })
        .first()
        .waitFor();
      await assertNoSidewaysScroll(phone.page, 'the inbox on a phone');
      await screenshot(phone.page, 'support-admins-inbox-phone');

      // A second hand-back, of a conversation Maria holds, asks the customer on their phone.
      const maria = await apiAs(ems.baseUrl, second.username, PASSWORD);
      const { id } = await customerId();
      await maria.post(`/api/support/conversations/${id}/takeover`);
      await maria.post(`/api/support/conversations/${id}/handback`);
      const customerPhone = await newPage(browser, ems.baseUrl, { viewport: PHONE, locale: 'en-US' });
      try {
        await signIn(customerPhone.page, customer.username, PASSWORD);
        await waitForHeading(customerPhone.page, 'My devices');
        await customerPhone.page.getByRole('button', { name: 'Support chat' }).click();
        const prompt = customerPhone.page.getByRole('form', { name: 'Rate the help you got' });
        await prompt.getByText(`How did ${second.displayName} help you?`).waitFor({ timeout: WAIT_MS });
        await assertNoSidewaysScroll(customerPhone.page, 'the rating prompt on a phone');
        await screenshot(customerPhone.page, 'support-admins-rating-prompt-phone');
      } finally {
        await customerPhone.context.close();
      }
    } finally {
      await phone.context.close();
    }
  });

  /** The customer's account, from the administrators' API. */
  async function customerId() {
    const api = await apiAs(ems.baseUrl, ADMIN.username, ADMIN.password);
    const users = await api.get(`/api/users?q=${customer.username}`);
    return users.items[0];
  }
});
