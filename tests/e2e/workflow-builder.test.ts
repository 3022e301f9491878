import type { Browser, Page } from 'playwright-core';
import { SYSTEM } from '../../core/records/actor';
import { browserAvailable, launchBrowser, screenshotPath, uiLogin } from '../helpers/browser';
import { describeSms } from '../helpers/sms';

const run = browserAvailable() ? describeSms : (title: string) => describe.skip(title, () => undefined);

run('workflow builder in the web UI (Chromium)', (get) => {
  let browser: Browser;
  let page: Page;
  let kind = '';
  let list = '';
  let workflowId = '';
  let lead = '';
  const knex = () => get().crm.engine.db.knex;
  const url = (path: string) => `${get().server.url}/ui${path}`;
  const shot = (name: string) => page.screenshot({ path: screenshotPath(kind, `workflow-builder-${name}.png`), fullPage: true });
  /** A choice that updates the form through the server (ui.js submits "Update form"): wait for the new page. */
  const reloadingWith = async (action: () => Promise<unknown>) => {
    await Promise.all([page.waitForNavigation(), action()]);
  };
  const stored = async () => ({
    flow: await knex()('aow_workflow').where({ id: workflowId }).first(),
    conditions: await knex()('aow_conditions').where({ aow_workflow_id: workflowId, deleted: 0 }).orderBy('condition_order'),
    actions: await knex()('aow_actions').where({ aow_workflow_id: workflowId, deleted: 0 }).orderBy('action_order'),
  });

  beforeAll(async () => {
    browser = await launchBrowser();
    kind = get().crm.engine.db.dialect.name;
    list = (await get().crm.records.create(SYSTEM, 'ProspectLists', { name: 'Converted leads list', list_type: 'default' })).id;
    // saved (and its events delivered) before any workflow exists, so only the test looks at it
    lead = (await get().crm.records.create(SYSTEM, 'Leads', { first_name: 'Connie', last_name: 'Verted', status: 'Converted', assigned_user_id: 'demo-user-sally' })).id;
    await get().drain();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await uiLogin(page, get().server.url, 'admin', 'secret-admin');
  });
  afterAll(async () => { await browser?.close(); });

  it('builds "Converted leads" from the list view: a status condition picked from its dropdown, an SMS to the assigned user with a live segment count, a target list', async () => {
    await page.goto(url('/AOW_WorkFlow'));
    await page.getByRole('link', { name: 'New in builder' }).click();
    await page.getByRole('heading', { level: 1, name: 'New workflow' }).waitFor();
    await page.locator('#wf-name').fill('Converted leads');
    await reloadingWith(() => page.locator('#wf-flow_module').selectOption('Leads'));
    expect(await page.locator('#wf-name').inputValue()).toBe('Converted leads');
    await page.getByLabel('Run when').selectOption('On_Save');

    await reloadingWith(() => page.getByRole('button', { name: 'Add condition' }).click());
    const condition = page.locator('fieldset#c1');
    // following a relationship offers the related module's fields, typed like them
    await condition.getByLabel('Record').selectOption('accounts');
    await condition.getByLabel('Field').selectOption('industry');
    expect(await condition.getByLabel('Value').locator('option', { hasText: 'Banking' }).count()).toBe(1);
    await condition.getByLabel('Field').selectOption('annual_revenue');
    expect(await condition.getByLabel('Value').evaluate((el) => el.tagName)).toBe('INPUT');
    await condition.getByLabel('Type').selectOption('Any_Change');
    expect(await condition.locator('[data-wf-value="c1"]').textContent()).toContain('any change to the field');
    await condition.getByLabel('Record').selectOption('');
    await condition.getByLabel('Field').selectOption('date_entered');
    await condition.getByLabel('Type').selectOption('Date');
    expect(await condition.getByLabel('Date from').locator('option').allTextContents()).toEqual(expect.arrayContaining(['Now', 'Today', 'Date Created']));
    expect(await condition.getByLabel('Operator').locator('option').allTextContents()).toContain('Greater Than');
    await condition.getByLabel('Field').selectOption('status');
    // the value follows the field: the options of the Lead status dropdown; only operators that fit an enum
    await condition.getByLabel('Value').selectOption('Converted');
    const operators = await condition.getByLabel('Operator').locator('option').allTextContents();
    expect(operators).toContain('Equal To');
    expect(operators).not.toContain('Greater Than');
    expect(operators).not.toContain('Contains');

    await reloadingWith(() => page.getByRole('button', { name: 'Add action' }).click());
    // what was chosen before the round trip is still there
    expect(await page.locator('fieldset#c1').getByLabel('Value').inputValue()).toBe('Converted');
    await reloadingWith(() => page.locator('fieldset#a1').getByLabel('Send to').selectOption('assigned_user'));
    const sms = page.locator('fieldset#a1');
    await sms.getByLabel('Message').fill('A lead of yours converted.');
    await sms.locator('[data-wf-sms-count]').getByText('GSM-7 · 1 segment · 26 characters').waitFor();
    await sms.locator('[data-wf-sms-preview]').getByText('A lead of yours converted.').waitFor();
    await sms.getByLabel('Message').fill('A lead of yours converted 🎉');
    await sms.locator('[data-wf-sms-count]').getByText(/UCS-2 · 1 segment/).waitFor();
    await sms.getByLabel('Message').fill('A lead of yours converted.');
    await sms.locator('[data-wf-sms-count]').getByText('GSM-7 · 1 segment · 26 characters').waitFor();

    await reloadingWith(() => page.getByRole('button', { name: 'Add action' }).click());
    await reloadingWith(() => page.locator('fieldset#a2').getByLabel('Action', { exact: true }).selectOption('AddToTargetList'));
    await page.locator('fieldset#a2').getByLabel('Target list').selectOption(list);
    await shot('new');

    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('status').getByText('Workflow created.').waitFor();
    workflowId = /AOW_WorkFlow\/([^/]+)\/builder/.exec(page.url())![1];
    const { flow, conditions, actions } = await stored();
    expect(flow).toMatchObject({ name: 'Converted leads', flow_module: 'Leads', run_when: 'On_Save', status: 'Inactive' });
    expect(conditions.map((c: Record<string, unknown>) => [c.field, c.operator, c.value_type, c.value])).toEqual([['status', 'Equal_To', 'Value', 'Converted']]);
    expect(actions.map((a: Record<string, unknown>) => a.action)).toEqual(['SendSMS', 'AddToTargetList']);
  });

  it('shows the saved rows after a reload', async () => {
    await page.reload();
    expect(await page.locator('fieldset#c1').getByLabel('Field').inputValue()).toBe('status');
    expect(await page.locator('fieldset#c1').getByLabel('Value').inputValue()).toBe('Converted');
    expect(await page.locator('fieldset#a1').getByLabel('Action', { exact: true }).inputValue()).toBe('SendSMS');
    expect(await page.locator('fieldset#a1').getByLabel('Send to').inputValue()).toBe('assigned_user');
    expect(await page.locator('fieldset#a1').getByLabel('Message').inputValue()).toBe('A lead of yours converted.');
    expect(await page.locator('fieldset#a1 [data-wf-sms-count]').textContent()).toBe('GSM-7 · 1 segment · 26 characters');
    expect(await page.locator('fieldset#a2').getByLabel('Target list').inputValue()).toBe(list);
  });

  it('shows a bad row\'s error beside it, keeps what was typed and changes nothing', async () => {
    const before = await stored();
    await page.locator('#wf-name').fill('Converted leads (renamed)');
    await reloadingWith(() => page.getByRole('button', { name: 'Add action' }).click());
    await reloadingWith(() => page.locator('fieldset#a3').getByLabel('Action', { exact: true }).selectOption('Delay'));
    await page.locator('fieldset#a3').getByLabel('Wait').fill('-1');
    await page.locator('fieldset#a3').getByLabel('Unit').selectOption('day');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const error = page.locator('fieldset#a3 [data-wf-row-error]');
    await error.waitFor();
    expect(await error.textContent()).toBe("action 3: a delay is a whole number of days from 1 up to a year, not '-1'");
    expect(await page.locator('[data-wf-row-error]').count()).toBe(1);
    await page.locator('[data-wf-problems]').getByRole('link', { name: /^Action 3: a delay is a whole number/ }).waitFor();
    expect(await page.locator('fieldset#a3').getByLabel('Wait').inputValue()).toBe('-1');
    expect(await page.locator('#wf-name').inputValue()).toBe('Converted leads (renamed)');
    await shot('refused');
    expect(await stored()).toEqual(before);

    // fixed: the row goes
    await page.locator('fieldset#a3').getByLabel('Remove').check();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('status').getByText('Workflow saved.').waitFor();
    const after = await stored();
    expect(after.flow.name).toBe('Converted leads (renamed)');
    expect(after.actions.map((a: Record<string, unknown>) => a.id)).toEqual(before.actions.map((a: Record<string, unknown>) => a.id));
  });

  it('activates and deactivates', async () => {
    await page.getByRole('button', { name: 'Activate' }).click();
    await page.getByRole('status').getByText('Workflow activated.').waitFor();
    expect(await page.locator('[data-wf-status]').textContent()).toBe('Active');
    expect((await stored()).flow.status).toBe('Active');
    await page.getByRole('button', { name: 'Deactivate' }).click();
    await page.getByRole('status').getByText('Workflow deactivated.').waitFor();
    expect((await stored()).flow.status).toBe('Inactive');
    await page.getByRole('button', { name: 'Activate' }).click();
    await page.getByRole('status').getByText('Workflow activated.').waitFor();
  });

  it('tests the workflow on a Lead picked by name: which conditions hold and what each action would do, without doing it', async () => {
    const { fake } = get();
    const sent = fake.messages.length;
    const test = page.locator('section[data-wf-test]');
    await test.getByLabel('Lead').fill('Connie Ver');
    await test.getByRole('option', { name: 'Connie Verted' }).click();
    await test.getByRole('button', { name: 'Test' }).click();
    await page.locator('[data-wf-test-summary]').getByText('every condition holds').waitFor();
    expect(await page.locator('[data-wf-test-conditions] tbody tr').first().getAttribute('data-holds')).toBe('yes');
    expect(await page.locator('[data-wf-test-actions] tbody tr').first().textContent()).toMatch(/Send SMS.*send "A lead of yours converted\." to its assigned user/);
    await shot('test');
    expect(fake.messages.length).toBe(sent);
    expect(await knex()('aow_processed').where({ aow_workflow_id: workflowId, parent_id: lead }).first()).toBeUndefined();
  });

  it('is reached from the workflow\'s detail view', async () => {
    await page.goto(url(`/AOW_WorkFlow/${workflowId}`));
    await page.getByRole('link', { name: 'Builder' }).click();
    await page.getByRole('heading', { level: 1, name: /Workflow builder: Converted leads/ }).waitFor();
  });
}, { plugins: { installedDir: '/nonexistent' } });
