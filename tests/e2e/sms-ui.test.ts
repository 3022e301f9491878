import type { Browser, Page } from 'playwright-core';
import { browserAvailable, launchBrowser, screenshotPath } from '../helpers/browser';
import { describeSms } from '../helpers/sms';
import { session } from '../helpers/ui-session';

const run = browserAvailable() ? describeSms : (title: string) => describe.skip(title, () => undefined);

run('SMS in the web UI (Chromium)', (get) => {
  let browser: Browser;
  let page: Page;
  let kind = '';
  const url = (path: string) => `${get().server.url}/ui${path}`;
  const shot = (name: string) => page.screenshot({ path: screenshotPath(kind, `sms-${name}.png`), fullPage: true });

  beforeAll(async () => {
    browser = await launchBrowser();
    kind = get().crm.engine.db.dialect.name;
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    await page.goto(url('/login'));
    await page.getByLabel('User Name').fill('admin');
    await page.getByLabel('Password').fill('secret-admin');
    await page.getByRole('button', { name: 'Log In' }).click();
    await page.waitForURL(/\/ui$/);
  });
  afterAll(async () => { await browser?.close(); });

  it('sends from a contact: live preview, segment counter and the UCS-2 warning', async () => {
    const { crm, fake, drain } = get();
    const contact = await crm.records.retrieve({ type: 'system', id: '1' }, 'Contacts', 'demo-contact-02');
    await page.goto(url('/Contacts/demo-contact-02'));
    await page.getByRole('link', { name: 'Send SMS' }).click();
    await page.getByRole('heading', { level: 1, name: 'Send SMS' }).waitFor();
    await page.getByLabel('Message').fill('Hi {{first_name}}, see you at 5');
    const counter = page.locator('[data-sms-counter]');
    await counter.getByText(/GSM-7 · 1 segment · \d+ characters left/).waitFor();
    await page.locator('[data-sms-preview]').getByText(`Hi ${contact.first_name}, see you at 5`).waitFor();
    expect(await page.locator('[data-sms-warning]').isHidden()).toBe(true);
    await page.getByLabel('Message').fill('Hi {{first_name}}, see you at 5 😀');
    await counter.getByText(/UCS-2 · 1 segment/).waitFor();
    await page.locator('[data-sms-warning]').getByText(/Unicode \(UCS-2\).*😀/).waitFor();
    await shot('compose-ucs2');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByRole('heading', { name: '1 queued for sending' }).waitFor();
    await shot('sent');
    await drain();
    const sent = fake.messages.filter((m) => m.body.includes('see you at 5'));
    expect(sent).toHaveLength(1);
    expect(sent[0].to).toBe(String(contact.phone_mobile).replace(/[^+\d]/g, ''));
    expect(sent[0].body).toBe(`Hi ${contact.first_name}, see you at 5 😀`);
    // The result page leads back to the contact it was sent from.
    await page.locator('[data-sms-back]').click();
    await page.waitForURL(/\/ui\/Contacts\/demo-contact-02$/);
    await page.locator('#subpanel-sms').getByText(/Hi .*see you at 5/).first().waitFor();
  });

  it('sends a template to the rows selected in a list (mass action) and lists refusals', async () => {
    const { crm, fake, drain } = get();
    await crm.sms!.setConsent({ type: 'system', id: '1' }, '+14155552001', 'opted_out', 'ui', 'test');
    await page.goto(url('/Contacts?order_by=last_name:asc'));
    const boxes = page.locator('input[name="ids"]');
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await boxes.nth(2).check();
    const ids = await Promise.all([0, 1, 2].map((i) => boxes.nth(i).getAttribute('value')));
    await page.getByRole('button', { name: 'Send SMS' }).click();
    await page.getByRole('heading', { level: 1, name: 'Send SMS to 3 Contacts' }).waitFor();
    await page.getByLabel('Template').selectOption('demo-template-followup');
    await page.locator('[data-sms-preview]').getByText(/Thanks for your time today/).waitFor();
    await shot('mass-compose');
    const before = fake.messages.length;
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByText(/queued for sending|not sent/).first().waitFor();
    await shot('mass-result');
    expect(await page.locator('[data-sms-back]').textContent()).toBe('Back to Contacts');
    const numbers = await Promise.all(ids.map(async (id) => (await crm.records.retrieve({ type: 'system', id: '1' }, 'Contacts', id!)).phone_mobile));
    // The demo's own consent history has opt-outs too.
    const optedOut = (await Promise.all(numbers.map((n) => crm.sms!.consent.state(String(n))))).filter((c) => c.state === 'opted_out').length;
    if (optedOut) await page.locator('[data-sms-refused]').getByText(/has opted out/).waitFor();
    await drain();
    expect(fake.messages.length - before).toBe(3 - optedOut);
    for (const m of fake.messages.slice(before)) expect(m.body).toMatch(/^Thanks for your time today, \w+\. \w+ will send the proposal tomorrow\.$/);
  });

  it('sends to every record matching a list search in the background and follows its progress', async () => {
    const { crm, fake, drain } = get();
    const now = new Date().toISOString().slice(0, 19).replace('T', ' ');
    const everyone = Array.from({ length: 45 }, (_, i) => ({ id: `everyone-${String(i).padStart(2, '0')}`, first_name: `Member${i}`, last_name: 'Everyoneson', phone_mobile: i === 7 ? null : `+1415556${String(7000 + i)}`, deleted: 0, date_entered: now, date_modified: now, created_by: '1', modified_user_id: '1', assigned_user_id: '1' }));
    await crm.engine.db.knex.batchInsert('contacts', everyone, 50);
    await page.goto(url('/Contacts?s_last_name=Everyoneson'));
    await page.getByText('1–20 of 45').first().waitFor();
    // Delete does not act on all matching records: it says so and changes nothing.
    await page.getByLabel(/All 45 records matching the search/).check();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByText(/works on the rows you select, not on all matching records; nothing was changed/).waitFor();
    expect(Number((await crm.engine.db.knex('contacts').where({ last_name: 'Everyoneson', deleted: 0 }).count({ n: '*' }))[0].n)).toBe(45);

    await page.getByLabel(/All 45 records matching the search/).check();
    await shot('list-all-matching');
    await page.getByRole('button', { name: 'Send SMS' }).click();
    await page.getByRole('heading', { level: 1, name: 'Send SMS to 45 Contacts' }).waitFor();
    await page.locator('[data-recipients]').getByText('and 25 more').waitFor();
    await page.getByLabel('Message').fill('Members evening on Friday, {{first_name}}');
    await page.locator('[data-sms-preview]').getByText('Members evening on Friday, Member0').waitFor();
    const before = fake.messages.length;
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'SMS to 45 recipients' }).waitFor();
    await shot('send-progress');
    await drain();
    // the page follows the send until it ends, then shows the final counts and what was not sent
    await page.locator('[data-sms-send-state]').getByText('Complete').waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-count="queued"]').textContent()).toBe('44');
    await page.locator('[data-sms-send-refused-codes]').getByText('no number: 1').waitFor();
    await page.locator('[data-sms-refused]').getByText('Member7 Everyoneson has no Mobile number').waitFor();
    await shot('send-complete');
    await drain();
    const sent = fake.messages.slice(before).filter((m) => m.body.startsWith('Members evening on Friday'));
    expect(sent).toHaveLength(44);
    expect(new Set(sent.map((m) => m.to)).size).toBe(44);

    // Export acts on all matching records too
    const ui = session(get().server.url);
    const csrf = await ui.login('admin', 'secret-admin');
    const csv = await ui.request('POST', '/ui/Contacts/mass', { csrf, action: 'export', select_entire_list: '1', list_query: 's_last_name=Everyoneson', return_to: '/ui/Contacts' });
    expect(csv.status).toBe(200);
    const lines = csv.text.trim().split('\n');
    expect(lines).toHaveLength(46);
    expect(lines.slice(1).every((line) => line.includes('Everyoneson'))).toBe(true);
  });

  it('quick-sends to a typed number', async () => {
    const { fake, drain } = get();
    await page.goto(url('/SMS/compose'));
    await page.getByLabel('To').fill('415 555 0166');
    await page.getByLabel('Message').fill('Your order is ready');
    await page.locator('[data-sms-counter]').getByText(/GSM-7 · 1 segment/).waitFor();
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByRole('heading', { name: '1 queued for sending' }).waitFor();
    await drain();
    expect(fake.sentTo('+14155550166').map((m) => m.body)).toEqual(['Your order is ready']);
  });

  it('records an opt-out typed in the UI, with its history, and refuses to send to it', async () => {
    const { crm } = get();
    const contact = await crm.records.retrieve({ type: 'system', id: '1' }, 'Contacts', 'demo-contact-04');
    await page.goto(url('/Contacts/demo-contact-04'));
    await page.getByRole('link', { name: 'SMS Consent' }).click();
    const mobile = page.locator('section.sms-consent').filter({ hasText: 'Mobile' });
    await mobile.getByLabel('Note').fill('asked by phone');
    await mobile.getByRole('button', { name: 'Opt out' }).click();
    await page.getByRole('status').getByText(/is now opted out/).waitFor();
    await page.locator('section.sms-consent').filter({ hasText: 'Mobile' }).getByRole('cell', { name: 'asked by phone' }).waitFor();
    await shot('consent');
    const number = String(contact.phone_mobile).replace(/[^+\d]/g, '');
    expect((await crm.sms!.consent.state(number))).toMatchObject({ state: 'opted_out', source: 'ui' });
    await page.goto(url('/SMS/compose?parent_type=Contacts&parent_id=demo-contact-04'));
    await page.getByLabel('Message').fill('Hello');
    await page.locator('[data-sms-refused]').getByText(/has opted out/).waitFor();
  });

  it('explains what is wrong instead of sending', async () => {
    await page.goto(url('/SMS/compose'));
    await page.getByLabel('To').fill('12345');
    await page.getByLabel('Message').fill('Hello');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByText(/invalid number/).waitFor();
    await page.goto(url('/SMS/compose'));
    await page.getByLabel('To').fill('+14155550167');
    await page.getByLabel('Message').fill('Hello {{#if}}');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByText(/template syntax error/).first().waitFor();
    expect(get().fake.sentTo('+14155550167')).toHaveLength(0);
  });

  it('sends a campaign to its target lists from the campaign page and shows the results', async () => {
    const { crm, fake, drain } = get();
    const system = { type: 'system', id: '1' } as const;
    const template = await crm.records.create(system, 'SMSTemplates', { name: 'Autumn offer', body: 'Hi {{first_name}}, autumn deals this week. Reply STOP to opt out.', template_type: 'marketing' });
    const campaign = await crm.records.create(system, 'Campaigns', { name: 'Autumn SMS', campaign_type: 'SMS', status: 'Active', end_date: '2026-12-31' });
    const list = await crm.records.create(system, 'ProspectLists', { name: 'Autumn customers', list_type: 'default' });
    await crm.records.link(system, 'Campaigns', campaign.id, 'prospectlists', list.id);
    const members = ['demo-contact-06', 'demo-contact-07', 'demo-contact-08'];
    for (const id of members) await crm.records.link(system, 'ProspectLists', list.id, 'contacts', id);
    const numbers = await Promise.all(members.map(async (id) => String((await crm.records.retrieve(system, 'Contacts', id)).phone_mobile).replace(/[^+\d]/g, '')));

    await page.goto(url(`/Campaigns/${campaign.id}`));
    await page.getByRole('link', { name: 'SMS Campaign' }).click();
    await page.getByRole('heading', { level: 1, name: 'SMS campaign: Autumn SMS' }).waitFor();
    expect(await page.locator('[data-campaign-members]').textContent()).toBe('3');
    expect(await page.getByRole('button', { name: 'Send campaign' }).isDisabled()).toBe(true);
    // First load: what is missing is a checklist, not a red error; the disabled button looks disabled.
    await page.locator('[data-campaign-problems]').getByText(/choose the SMS template/).waitFor();
    expect(await page.locator('[data-campaign-errors]').count()).toBe(0);
    expect(Number(await page.getByRole('button', { name: 'Send campaign' }).evaluate((b) => (globalThis as unknown as { getComputedStyle(e: unknown): { opacity: string } }).getComputedStyle(b).opacity))).toBeLessThan(0.6);
    await page.getByLabel('SMS template').selectOption({ label: 'Autumn offer (marketing)' });
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.locator('[data-campaign-preview]').getByText(/^Hi \w+, autumn deals this week/).waitFor();
    expect(await page.getByRole('button', { name: 'Send test to test lists' }).isDisabled()).toBe(true);
    await shot('campaign');
    await page.getByRole('button', { name: 'Send campaign' }).click();
    // nothing is sent before the confirmation, which says what the send reaches
    await page.locator('[data-campaign-confirm]').getByText(/It goes to 3 members: about 3 segments, starting now/).waitFor();
    expect(fake.messages.filter((m) => m.body.includes('autumn deals'))).toEqual([]);
    await shot('campaign-confirm');
    await page.getByRole('button', { name: 'Confirm and send' }).click();
    await page.getByRole('status').getByText('Campaign queued for 3 members; messages go out as the queue sends them.').waitFor();
    await drain();
    expect(fake.messages.filter((m) => m.body.includes('autumn deals')).map((m) => m.to).sort()).toEqual([...numbers].sort());
    await page.reload();
    expect(await page.locator('[data-result-messages]').textContent()).toBe('3');
    await page.locator('[data-campaign-results] table.list').getByRole('cell', { name: 'Accepted' }).waitFor();
    expect(await page.locator('[data-campaign-results]').getByRole('img', { name: /messages by status/ }).count()).toBe(1);
    await shot('campaign-results');
  });
});
