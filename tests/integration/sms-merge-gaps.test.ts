import { SYSTEM } from '../../core/records/actor';
import { session } from '../helpers/ui-session';
import { describeSms } from '../helpers/sms';

/** Issue 16 (traps): an empty merge field is flagged in previews with the member named; {{default}} fills it. */
describeSms('SMS merge-field gaps', (get) => {
  it('names the recipients whose text would have a gap, in the API preview and on the campaign page', async () => {
    const { crm, server, token } = get();
    const full = await crm.records.create(SYSTEM, 'Contacts', { first_name: 'Ines', last_name: 'Gapless', title: 'CFO', phone_mobile: '+14155558801' });
    const gappy = await crm.records.create(SYSTEM, 'Contacts', { last_name: 'Gappy', phone_mobile: '+14155558802' });
    const template = await crm.records.create(SYSTEM, 'SMSTemplates', { name: 'Gap test', body: 'Hi {{default first_name "there"}}, as {{title}} you get 10% off', template_type: 'marketing' });
    const preview = await server.call('POST', '/rest/v10/SMS/preview', { token, body: { records: [{ module: 'Contacts', id: full.id }, { module: 'Contacts', id: gappy.id }], template_id: template.id } });
    expect(preview.status).toBe(200);
    // first_name has a fallback, so only title is a gap, and only for Gappy
    expect(preview.body.empty_fields).toEqual([{ name: 'Gappy', to: '+14155558802', fields: ['title'] }]);
    expect(preview.body.first).toMatchObject({ body: 'Hi Ines, as CFO you get 10% off', empty_fields: [] });

    const campaign = await crm.records.create(SYSTEM, 'Campaigns', { name: 'Gap campaign', campaign_type: 'SMS', status: 'Active', end_date: '2026-12-31' });
    const list = await crm.records.create(SYSTEM, 'ProspectLists', { name: 'Gap list', list_type: 'default' });
    await crm.records.link(SYSTEM, 'Campaigns', campaign.id, 'prospectlists', list.id);
    for (const c of [full, gappy]) await crm.records.link(SYSTEM, 'ProspectLists', list.id, 'contacts', c.id);
    const ui = session(server.url);
    await ui.login('admin', 'secret-admin');
    const page = await ui.request('GET', `/ui/Campaigns/${campaign.id}/sms?template_id=${template.id}`);
    expect(page.status).toBe(200);
    const gaps = page.text.slice(page.text.indexOf('data-campaign-gaps'), page.text.indexOf('</div>', page.text.indexOf('data-campaign-gaps')));
    expect(gaps).toContain('Gappy (+14155558802): <code>title</code> empty');
    expect(gaps).not.toContain('Ines');
    expect(page.text).toContain('{{default first_name "there"}}');
  });
});
