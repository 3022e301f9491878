import { SYSTEM } from '../../core/records/actor';
import { describeEachServer } from '../helpers/crm';
import { fixedClock } from '../helpers/engine';
import { session } from '../helpers/ui-session';

const clock = fixedClock('2026-09-01T09:00:00Z');

/** The panel of a detail page with this id (activities, history). */
function panel(html: string, key: string): string {
  return new RegExp(`<section class="subpanel card" id="subpanel-${key}"[\\s\\S]*?</section>`).exec(html)?.[0] ?? '';
}

/** Issue 16: Calls, Meetings, Tasks and Notes with SuiteCRM's tables; Activities and History on the records they belong to. */
describeEachServer('activities', (get) => {
  let token: string;
  beforeAll(async () => { token = await get().login('admin', 'secret-admin'); });
  const api = (method: string, path: string, body?: unknown) => get().call(method, `/rest/v10${path}`, { token, body });
  const detail = async (module: string, id: string) => {
    const browser = session(get().url);
    await browser.login('admin', 'secret-admin');
    const page = await browser.request('GET', `/ui/${module}/${id}`);
    expect(page.status).toBe(200);
    return page.text;
  };

  it('lists a call made with an Account parent under the Account\'s Activities, then under History once held', async () => {
    const account = (await api('POST', '/Accounts', { name: 'Callback Co' })).body;
    const created = await api('POST', '/Calls', { name: 'Discovery call', date_start: '2026-09-02T10:00:00+00:00', duration_hours: 0, duration_minutes: 30, direction: 'Outbound', parent_type: 'Accounts', parent_id: account.id });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ status: 'Planned', parent_type: 'Accounts', parent_id: account.id, parent_name: 'Callback Co', reminder_time: '-1' });
    const linked = await api('GET', `/Accounts/${account.id}/link/calls`);
    expect(linked.body.records.map((r: { id: string }) => r.id)).toEqual([created.body.id]);
    const row = await get().crm.engine.db.knex('calls').where('id', created.body.id).first();
    expect(row).toMatchObject({ parent_type: 'Accounts', parent_id: account.id, status: 'Planned', name: 'Discovery call' });

    let page = await detail('Accounts', account.id);
    expect(panel(page, 'activities')).toContain('Discovery call');
    expect(panel(page, 'history')).not.toContain('Discovery call');

    expect((await api('PUT', `/Calls/${created.body.id}`, { status: 'Held' })).status).toBe(200);
    page = await detail('Accounts', account.id);
    expect(panel(page, 'activities')).not.toContain('Discovery call');
    expect(panel(page, 'history')).toContain('Discovery call');
  });

  it('keeps open and done tasks, meetings and notes apart on an Opportunity', async () => {
    const deal = (await api('POST', '/Opportunities', { name: 'Big deal', amount: '1000', date_closed: '2026-12-31', sales_stage: 'Prospecting' })).body;
    const parent = { parent_type: 'Opportunities', parent_id: deal.id };
    const open = await api('POST', '/Tasks', { name: 'Send the quote', priority: 'High', date_due: '2026-09-05T12:00:00+00:00', ...parent });
    expect(open.body).toMatchObject({ status: 'Not Started' });
    await api('POST', '/Tasks', { name: 'Qualify budget', priority: 'Low', status: 'Completed', ...parent });
    await api('POST', '/Meetings', { name: 'Kick-off meeting', date_start: '2026-09-03T15:00:00+00:00', duration_hours: 1, duration_minutes: 0, location: 'Office', ...parent });
    await api('POST', '/Notes', { name: 'Budget approved', description: 'CFO signed off', ...parent });
    const page = await detail('Opportunities', deal.id);
    const activities = panel(page, 'activities');
    const history = panel(page, 'history');
    expect(activities).toContain('Send the quote');
    expect(activities).toContain('Kick-off meeting');
    expect(activities).not.toContain('Qualify budget');
    expect(history).toContain('Qualify budget');
    expect(history).toContain('Budget approved');
    expect(history).not.toContain('Send the quote');
  });

  it('links contacts to a call with accept_status and required, in calls_contacts, both ways', async () => {
    const jane = (await api('POST', '/Contacts', { first_name: 'Jane', last_name: 'Invitee' })).body;
    const call = (await api('POST', '/Calls', { name: 'Conference call', date_start: '2026-09-04T10:00:00+00:00', duration_hours: 1, duration_minutes: 0 })).body;
    const linked = await api('POST', `/Calls/${call.id}/link/contacts/${jane.id}`, { accept_status: 'accept', required: '0' });
    expect(linked.status).toBe(200);
    const row = await get().crm.engine.db.knex('calls_contacts').where({ call_id: call.id, contact_id: jane.id, deleted: 0 }).first();
    expect(row).toMatchObject({ accept_status: 'accept', required: '0' });
    const fromContact = await api('GET', `/Contacts/${jane.id}/link/calls`);
    expect(fromContact.body.records).toEqual([expect.objectContaining({ id: call.id, accept_status: 'accept' })]);
    expect(panel(await detail('Calls', call.id), 'contacts')).toContain('Jane Invitee');
    // SuiteCRM's column default when a contact is linked without one
    const joe = (await api('POST', '/Contacts', { last_name: 'Default' })).body;
    await api('POST', `/Calls/${call.id}/link/contacts/${joe.id}`);
    expect(await get().crm.engine.db.knex('calls_contacts').where({ call_id: call.id, contact_id: joe.id }).first()).toMatchObject({ accept_status: 'none', required: '1' });
  });

  it('invites a Contact or Lead parent and files tasks and notes under the contact', async () => {
    const contact = (await api('POST', '/Contacts', { first_name: 'Pat', last_name: 'Parent' })).body;
    const lead = (await api('POST', '/Leads', { last_name: 'Lead Parent' })).body;
    const call = (await api('POST', '/Calls', { name: 'Call Pat', date_start: '2026-09-04T11:00:00+00:00', duration_hours: 0, duration_minutes: 15, parent_type: 'Contacts', parent_id: contact.id })).body;
    const meeting = (await api('POST', '/Meetings', { name: 'Meet the lead', date_start: '2026-09-04T12:00:00+00:00', duration_hours: 1, duration_minutes: 0, parent_type: 'Leads', parent_id: lead.id, status: 'Held' })).body;
    const task = (await api('POST', '/Tasks', { name: 'Follow up with Pat', priority: 'Medium', parent_type: 'Contacts', parent_id: contact.id })).body;
    expect(task.contact_id).toBe(contact.id);
    await api('POST', '/Notes', { name: 'Pat prefers e-mail', parent_type: 'Contacts', parent_id: contact.id });
    expect((await api('GET', `/Contacts/${contact.id}/link/calls`)).body.records.map((r: { id: string }) => r.id)).toEqual([call.id]);
    expect((await api('GET', `/Leads/${lead.id}/link/meetings`)).body.records.map((r: { id: string }) => r.id)).toEqual([meeting.id]);
    // the assigned user (here the admin who created them) is on the call as its accepted organizer
    expect(await get().crm.engine.db.knex('calls_users').where({ call_id: call.id, deleted: 0 }).select('user_id', 'accept_status')).toEqual([{ user_id: '1', accept_status: 'accept' }]);
    const page = await detail('Contacts', contact.id);
    expect(panel(page, 'activities')).toContain('Call Pat');
    expect(panel(page, 'activities')).toContain('Follow up with Pat');
    expect(panel(page, 'history')).toContain('Pat prefers e-mail');
    expect(panel(await detail('Leads', lead.id), 'history')).toContain('Meet the lead');
  });

  it('keeps the way back to the parent when the quick-action form has errors, and ignores an unknown return module', async () => {
    const account = (await api('POST', '/Accounts', { name: 'Form Co' })).body;
    const browser = session(get().url);
    const csrf = await browser.login('admin', 'secret-admin');
    const form = await browser.request('GET', `/ui/Calls/new?parent_type=Accounts&parent_id=${account.id}&return_module=Accounts&return_id=${account.id}`);
    expect(form.text).toContain('name="return_module" value="Accounts"');
    expect(form.text).toContain('value="Form Co"');
    const post = { csrf, name: 'No date', status: 'Planned', duration_hours: '0', parent_type: 'Accounts', parent_id: account.id, parent_name_label: 'Form Co', return_module: 'Accounts', return_id: account.id };
    const refused = await browser.request('POST', '/ui/Calls/new', post);
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('name="return_id" value="' + account.id + '"');
    expect(refused.text).toContain(`href="/ui/Accounts/${account.id}"`);
    const saved = await browser.request('POST', '/ui/Calls/new', { ...post, name: 'With date', date_start: '2026-09-02T10:00' });
    expect(saved.status).toBe(302);
    expect(saved.location).toBe(`/ui/Accounts/${account.id}?notice=Saved.`);
    // a return module that does not exist is not a way out: the new record's page is shown
    const odd = await browser.request('POST', '/ui/Calls/new', { ...post, name: 'Odd return', date_start: '2026-09-02T10:00', return_module: 'Nowhere' });
    expect(odd.location).toMatch(/^\/ui\/Calls\/[0-9a-f-]{36}\?notice=Saved\.$/);
  });

  it('refuses bad input naming the field and rule', async () => {
    const missing = await api('POST', '/Calls', { name: 'No start', duration_hours: 0 });
    expect(missing.status).toBe(422);
    expect(JSON.stringify(missing.body)).toContain('date_start');
    const badStatus = await api('POST', '/Calls', { name: 'Odd', date_start: '2026-09-04T10:00:00+00:00', duration_hours: 0, status: 'Maybe' });
    expect(badStatus.status).toBe(422);
    expect(JSON.stringify(badStatus.body)).toContain('status');
    const badParent = await api('POST', '/Tasks', { name: 'Orphan', priority: 'Low', parent_type: 'Accounts', parent_id: 'no-such-account' });
    expect(badParent.status).toBe(422);
    expect(JSON.stringify(badParent.body)).toContain('parent_id');
    const badType = await api('POST', '/Notes', { name: 'Stray', parent_type: 'Nowhere', parent_id: 'x' });
    expect(badType.status).toBe(422);
    expect(badType.body.error_message).toMatch(/parent_type must be one of Accounts, Contacts/);
  });

  it('queues a reminder on save, moves it when the start moves, and leaves an alert for the assigned user when due', async () => {
    const { crm } = get();
    const jobs = crm.engine.jobs;
    clock.set('2026-09-01T09:00:00Z');
    token = await get().login('admin', 'secret-admin');
    const queued = (id: string) => crm.engine.db.knex(jobs.table).where({ name: `Reminder Calls ${id}`, status: 'queued' });
    // starts at 11:00, reminder one hour before
    const call = (await api('POST', '/Calls', { name: 'Reminder call', date_start: '2026-09-01T11:00:00+00:00', duration_hours: 0, duration_minutes: 15, reminder_time: 3600 })).body;
    let rows = await queued(call.id);
    expect(rows).toHaveLength(1);
    expect(String(rows[0].execute_time).slice(0, 19).replace('T', ' ')).toBe('2026-09-01 10:00:00');
    // the start moves to 12:00: the old reminder is cancelled, a new one queued for 11:00
    await api('PUT', `/Calls/${call.id}`, { date_start: '2026-09-01T12:00:00+00:00' });
    rows = await queued(call.id);
    expect(rows).toHaveLength(1);
    expect(String(rows[0].execute_time).slice(0, 19).replace('T', ' ')).toBe('2026-09-01 11:00:00');
    expect(await crm.engine.db.knex(jobs.table).where({ name: `Reminder Calls ${call.id}`, resolution: 'cancelled' })).toHaveLength(1);
    await jobs.runOnce(50);
    expect(await crm.engine.db.knex('alerts').where('target_module', 'Calls')).toHaveLength(0);
    clock.set('2026-09-01T11:00:01Z');
    token = await get().login('admin', 'secret-admin');
    await jobs.runOnce(50);
    const alerts = await crm.engine.db.knex('alerts').where({ target_module: 'Calls', deleted: 0 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ name: 'Reminder: Reminder call', assigned_user_id: '1', url_redirect: `index.php?action=DetailView&module=Calls&record=${call.id}` });
    // the user sees it in Alerts
    const list = await api('GET', '/Alerts?filter[0][assigned_user_id]=1');
    expect(list.status).toBe(200);
    expect(list.body.records.map((r: { name: string }) => r.name)).toContain('Reminder: Reminder call');

    // a meeting deleted before its reminder: cancelled, and no alert
    const meeting = await crm.engine.records.create(SYSTEM, 'Meetings', { name: 'Cancelled meeting', date_start: '2026-09-02T09:00:00Z', duration_hours: 1, duration_minutes: 0, reminder_time: 900, assigned_user_id: '1' });
    expect(await crm.engine.db.knex(jobs.table).where({ name: `Reminder Meetings ${meeting.id}`, status: 'queued' })).toHaveLength(1);
    await crm.engine.records.delete(SYSTEM, 'Meetings', meeting.id);
    expect(await crm.engine.db.knex(jobs.table).where({ name: `Reminder Meetings ${meeting.id}`, status: 'queued' })).toHaveLength(0);
    // no reminder (-1) or a held call queues nothing
    const none = await crm.engine.records.create(SYSTEM, 'Calls', { name: 'No reminder', date_start: '2026-09-03T09:00:00Z', duration_hours: 0, status: 'Held', reminder_time: 300 });
    expect(await crm.engine.db.knex(jobs.table).where({ name: `Reminder Calls ${none.id}` })).toHaveLength(0);
  });
}, { clock });

describeEachServer('activities in the demo data', (get) => {
  it('shows calls, meetings, tasks and notes on the demo accounts, contacts and opportunities', async () => {
    const browser = session(get().url);
    await browser.login('admin', 'secret-admin');
    const account = (await browser.request('GET', '/ui/Accounts/demo-account-01')).text;
    expect(panel(account, 'activities')).toContain('Quote follow-up');
    expect(panel(account, 'history')).toContain('Discovery call');
    expect(panel(account, 'history')).toContain('Check the billing address');
    expect(panel(account, 'history')).toContain('Decision process');
    const deal = (await browser.request('GET', '/ui/Opportunities/demo-opportunity-01')).text;
    expect(panel(deal, 'activities')).toContain('Send the 40-seat quote');
    expect(panel(deal, 'history')).toContain('Product demo');
    const contact = (await browser.request('GET', '/ui/Contacts/demo-contact-01')).text;
    // invited to the call and the meeting, and named on the task and the note
    expect(panel(contact, 'history')).toContain('Discovery call');
    expect(panel(contact, 'history')).toContain('Product demo');
    expect(panel(contact, 'activities')).toContain('Send the 40-seat quote');
    const rows = await get().crm.engine.db.knex('calls_contacts').where({ call_id: 'demo-call-01', contact_id: 'demo-contact-01', deleted: 0 });
    expect(rows.map((r: { accept_status: string }) => r.accept_status)).toEqual(['accept']);
  });

  it('lists, shows and edits each activity module from its own pages', async () => {
    const browser = session(get().url);
    await browser.login('admin', 'secret-admin');
    const pages: Array<[string, string, string]> = [['Calls', 'demo-call-01', 'Discovery call'], ['Meetings', 'demo-meeting-01', 'Product demo'], ['Tasks', 'demo-task-01', 'Send the 40-seat quote'], ['Notes', 'demo-note-01', 'Decision process']];
    for (const [module, id, name] of pages) {
      for (const path of [`/ui/${module}`, `/ui/${module}/${id}`, `/ui/${module}/${id}/edit`, `/ui/${module}/new`]) {
        const page = await browser.request('GET', path);
        expect([path, page.status]).toEqual([path, 200]);
        if (!path.endsWith('/new')) expect(page.text).toContain(name);
      }
    }
    expect((await browser.request('GET', '/ui/Alerts')).status).toBe(200);
  });
}, { demo: true });
