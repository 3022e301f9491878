import type { Browser, Page } from 'playwright-core';
import { SYSTEM } from '../../core/records/actor';
import { browserAvailable, launchBrowser, screenshotPath, uiLogin } from '../helpers/browser';
import { describeEachServer } from '../helpers/crm';

const run = browserAvailable() ? describeEachServer : (title: string) => describe.skip(title, () => undefined);

/**
 * Issue 16, item 6 (the traps outside SMS): Add To Target List asks which list and names it; subpanel
 * Create fills in the parent, links and returns to it; results lead back to where the user came from.
 */
run('UI traps in Chromium', (get) => {
  let browser: Browser;
  let page: Page;
  let kind = '';
  const dialogs: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
    kind = get().crm.engine.db.dialect.name;
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on('dialog', async (d) => { dialogs.push(d.message()); await d.accept(); });
    await uiLogin(page, get().url, 'admin', 'secret-admin');
  });
  afterAll(async () => { await browser?.close(); });

  const url = (path: string) => `${get().url}/ui${path}`;
  const shot = (name: string) => page.screenshot({ path: screenshotPath(kind, `ui-traps-${name}.png`), fullPage: true });
  const members = async (listId: string) => (await get().crm.engine.db.knex('prospect_lists_prospects').where({ prospect_list_id: listId, deleted: 0 }).pluck('related_id')).sort();
  const massGroup = () => page.getByRole('group', { name: 'With the selected records' });

  it('Add To Target List adds nothing until the user picks a list, then names the list it added to', async () => {
    const { records } = get().crm.engine;
    const optedIn = await records.create(SYSTEM, 'ProspectLists', { name: 'Customers who opted in', list_type: 'default' });
    const spring = await records.create(SYSTEM, 'ProspectLists', { name: 'Spring prospects', list_type: 'default' });
    const ids: string[] = [];
    for (const first of ['Ada', 'Bea', 'Cy']) ids.push((await records.create(SYSTEM, 'Contacts', { first_name: first, last_name: 'Trapper' })).id);
    await records.create(SYSTEM, 'Contacts', { first_name: 'Otto', last_name: 'Outsider' });

    await page.goto(url('/Contacts?s_last_name=Trapper&order_by=name:asc'));
    await page.getByRole('checkbox', { name: 'Select all' }).check();
    const choice = massGroup().getByLabel('Target list');
    expect(await choice.inputValue()).toBe('');
    expect(await choice.evaluate((s) => (s as unknown as { required: boolean }).required)).toBe(true);
    expect(await choice.locator('option').allTextContents()).toEqual(['— choose a target list —', 'Customers who opted in', 'Spring prospects']);

    // Without a choice the browser stops the form: nothing is sent, nothing is added.
    const before = page.url();
    await massGroup().getByRole('button', { name: 'Add To Target List' }).click();
    expect(await choice.evaluate((s) => (s as unknown as { validity: { valueMissing: boolean } }).validity.valueMissing)).toBe(true);
    expect(page.url()).toBe(before);
    expect(await members(optedIn.id)).toEqual([]);

    await choice.selectOption({ label: 'Spring prospects' });
    await shot('add-to-list');
    await massGroup().getByRole('button', { name: 'Add To Target List' }).click();
    await page.getByRole('status').getByText("3 of 3 records added to 'Spring prospects'").waitFor();
    expect(await members(spring.id)).toEqual(ids.sort());
    expect(await members(optedIn.id)).toEqual([]);
    // The result is the list the user came from, search kept, with the way to the target list.
    expect(new URL(page.url()).searchParams.get('s_last_name')).toBe('Trapper');
    expect(await page.locator('tbody tr').count()).toBe(3);
    await shot('add-to-list-result');
    await page.getByRole('status').getByRole('link', { name: "Open 'Spring prospects'" }).click();
    await page.getByRole('heading', { level: 1, name: 'Spring prospects' }).waitFor();

    // A form sent without a list (no browser check) is refused by the server, naming what is missing.
    await page.goto(url('/Contacts?s_last_name=Trapper'));
    await page.getByRole('checkbox', { name: 'Select all' }).check();
    await massGroup().getByLabel('Target list').evaluate((s) => { (s as unknown as { required: boolean }).required = false; });
    await massGroup().getByRole('button', { name: 'Add To Target List' }).click();
    await page.getByRole('status').getByText('Choose a target list first; nothing was added.').waitFor();
    expect(await members(optedIn.id)).toEqual([]);
  });

  it('mass update and mass delete return to the list as the user left it; a refusal links back to it', async () => {
    const { records } = get().crm.engine;
    for (const last of ['Returner', 'Returnee']) await records.create(SYSTEM, 'Leads', { last_name: last, status: 'New' });
    const listUrl = '/Leads?s_last_name=Return&order_by=name:asc';
    await page.goto(url(listUrl));
    await page.getByRole('checkbox', { name: 'Select all' }).check();
    await massGroup().getByLabel('Status').selectOption('Assigned');
    await massGroup().getByRole('button', { name: 'Mass Update' }).click();
    await page.getByRole('status').getByText('2 of 2 records: done').waitFor();
    let at = new URL(page.url());
    expect([at.pathname, at.searchParams.get('s_last_name'), at.searchParams.get('order_by')]).toEqual(['/ui/Leads', 'Return', 'name:asc']);

    // A refused action (here a form whose security token went stale) leads back to the same list.
    await page.getByRole('checkbox', { name: 'Select all' }).check();
    await page.locator('#list-form input[name=csrf]').evaluate((i) => { (i as unknown as { value: string }).value = 'stale'; });
    await massGroup().getByRole('button', { name: 'Mass Update' }).click();
    await page.getByRole('heading', { level: 1, name: 'Refused' }).waitFor();
    await shot('refused-back-link');
    await page.getByRole('link', { name: 'Back to Leads' }).click();
    at = new URL(page.url());
    expect([at.pathname, at.searchParams.get('s_last_name')]).toEqual(['/ui/Leads', 'Return']);

    await page.getByRole('checkbox', { name: 'Select all' }).check();
    await massGroup().getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('status').getByText('2 of 2 records: deleted').waitFor();
    at = new URL(page.url());
    expect([at.pathname, at.searchParams.get('s_last_name'), at.searchParams.get('order_by')]).toEqual(['/ui/Leads', 'Return', 'name:asc']);
    expect(dialogs.length).toBeGreaterThan(0);
    expect(await records.count(SYSTEM, 'Leads', { filter: [{ last_name: { $in: ['Returner', 'Returnee'] } }] })).toBe(0);
  });

  it('any refusal page leads back to the page the user came from', async () => {
    const { records } = get().crm.engine;
    const account = await records.create(SYSTEM, 'Accounts', { name: 'Refusal Rowing' });
    await page.goto(url(`/Accounts/${account.id}/edit`));
    await page.locator('form.edit input[name=csrf]').evaluate((i) => { (i as unknown as { value: string }).value = 'stale'; });
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { level: 1, name: 'Refused' }).waitFor();
    await page.getByRole('link', { name: 'Back', exact: true }).click();
    await page.waitForURL(new RegExp(`/ui/Accounts/${account.id}/edit$`));
  });

  it("subpanel Create on an Account fills in the Account, links the new Contact and returns to the Account", async () => {
    const { records, db } = get().crm.engine;
    const account = await records.create(SYSTEM, 'Accounts', { name: 'Osprey Outfitters' });
    await page.goto(url(`/Accounts/${account.id}`));
    const contacts = page.locator('#subpanel-contacts');
    await contacts.getByRole('link', { name: 'Create Contact' }).click();
    expect(await page.getByLabel('Account Name').inputValue()).toBe('Osprey Outfitters');
    expect(await page.locator('input[name=account_id]').inputValue()).toBe(account.id);
    // Cancel goes back to the Account too.
    expect(await page.getByRole('link', { name: 'Cancel' }).getAttribute('href')).toBe(`/ui/Accounts/${account.id}`);
    await page.getByLabel('Last Name').fill('Newcomb');
    await shot('subpanel-create');
    await page.getByRole('button', { name: 'Save' }).click();

    await page.waitForURL(new RegExp(`/ui/Accounts/${account.id}\\?notice=`));
    await page.getByRole('status').getByText("Contact 'Newcomb' created and linked.").waitFor();
    await contacts.getByRole('link', { name: 'Newcomb' }).waitFor();
    const contact = await db.knex('contacts').where({ last_name: 'Newcomb', deleted: 0 }).first();
    expect(await db.knex('accounts_contacts').where({ account_id: account.id, contact_id: contact.id, deleted: 0 }).count({ n: '*' }).first()).toMatchObject({ n: 1 });
    await shot('subpanel-created');
  });

  it('subpanel Create links through the relationship even when the new record has no field for the parent', async () => {
    const { records } = get().crm.engine;
    const list = await records.create(SYSTEM, 'ProspectLists', { name: 'Autumn fair', list_type: 'default' });
    await page.goto(url(`/ProspectLists/${list.id}`));
    await page.locator('#subpanel-contacts').getByRole('link', { name: 'Create Contact' }).click();
    expect(await page.getByLabel('Account Name').inputValue()).toBe('');
    await page.getByLabel('Last Name').fill('Fairgoer');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(new RegExp(`/ui/ProspectLists/${list.id}\\?notice=`));
    await page.locator('#subpanel-contacts').getByRole('link', { name: 'Fairgoer' }).waitFor();
    const contact = await get().crm.engine.db.knex('contacts').where({ last_name: 'Fairgoer', deleted: 0 }).first();
    expect(await members(list.id)).toEqual([contact.id]);
  });

  it('offers the same list choice in the dark theme', async () => {
    await page.goto(url('/preferences'));
    await page.getByLabel('Theme').selectOption('dark');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    await page.goto(url('/Contacts?s_last_name=Trapper'));
    expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
    await page.getByRole('checkbox', { name: 'Select all' }).check();
    const choice = massGroup().getByLabel('Target list');
    expect(await choice.inputValue()).toBe('');
    await choice.selectOption({ label: 'Customers who opted in' });
    await massGroup().getByRole('button', { name: 'Add To Target List' }).click();
    await page.getByRole('status').getByText("3 of 3 records added to 'Customers who opted in'").waitFor();
    await shot('add-to-list-dark');
    await page.goto(url('/preferences'));
    await page.getByLabel('Theme').selectOption('default');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
  });

  it('subpanel Create with a validation error keeps the parent and still links on the second try', async () => {
    const { records, db } = get().crm.engine;
    const account = await records.create(SYSTEM, 'Accounts', { name: 'Kestrel Kayaks' });
    await page.goto(url(`/Accounts/${account.id}`));
    await page.locator('#subpanel-contacts').getByRole('link', { name: 'Create Contact' }).click();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Please correct these fields:').waitFor();
    expect(await page.getByLabel('Account Name').inputValue()).toBe('Kestrel Kayaks');
    await page.getByLabel('Last Name').fill('Secondtry');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(new RegExp(`/ui/Accounts/${account.id}\\?notice=`));
    const contact = await db.knex('contacts').where({ last_name: 'Secondtry', deleted: 0 }).first();
    expect(await db.knex('accounts_contacts').where({ account_id: account.id, contact_id: contact.id, deleted: 0 }).count({ n: '*' }).first()).toMatchObject({ n: 1 });
  });
});
