import { SYSTEM } from '../../core/records/actor';
import { describeEachServer } from '../helpers/crm';
import { session } from '../helpers/ui-session';

/** Issue 16 (traps): the Campaign Log names its targets, on the list and through the API. */
describeEachServer('campaign log target names', (get) => {
  it('shows the name of the contact or lead each entry is about, linked to it', async () => {
    const { crm } = get();
    const campaign = await crm.records.create(SYSTEM, 'Campaigns', { name: 'Names campaign', campaign_type: 'SMS', status: 'Active', end_date: '2026-12-31' });
    const contact = await crm.records.create(SYSTEM, 'Contacts', { first_name: 'Greta', last_name: 'Lindqvist' });
    const lead = await crm.records.create(SYSTEM, 'Leads', { first_name: 'Omar', last_name: 'Haddad' });
    const row = (id: string, type: string, targetId: string) => ({ id, campaign_id: campaign.id, target_id: targetId, target_type: type, activity_type: 'targeted', activity_date: '2026-11-30 10:00:00', hits: 0, archived: 0, deleted: 0, date_modified: '2026-11-30 10:00:00' });
    await crm.engine.db.knex('campaign_log').insert([row('log-names-1', 'Contacts', contact.id), row('log-names-2', 'Leads', lead.id)]);

    const token = await get().login('admin', 'secret-admin');
    const entry = (await get().call('GET', '/rest/v10/CampaignLog/log-names-1', { token })).body;
    expect(entry).toMatchObject({ target_type: 'Contacts', target_id: contact.id, target_name: 'Greta Lindqvist' });

    const ui = session(get().url);
    await ui.login('admin', 'secret-admin');
    const list = await ui.request('GET', '/ui/CampaignLog');
    expect(list.status).toBe(200);
    expect(list.text).toContain('Greta Lindqvist');
    expect(list.text).toContain(`/ui/Contacts/${contact.id}`);
    expect(list.text).toContain('Omar Haddad');
  });
});
