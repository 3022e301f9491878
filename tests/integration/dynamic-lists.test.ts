import { SYSTEM } from '../../core/records/actor';
import { describeSms } from '../helpers/sms';

const admin = { type: 'user' as const, id: '1', isAdmin: true };
const SALEM_MOBILES = JSON.stringify({ Contacts: [{ primary_address_city: 'Salem' }, { phone_mobile: { $not_empty: true } }] });

describeSms('dynamic target lists kept current by the target-lists plugin', (get) => {
  const records = () => get().crm.records;
  const settle = async () => { for (let i = 0; i < 6; i++) await get().drain(); };
  const members = async (list: string) => (await records().listRelated(SYSTEM, 'ProspectLists', list, 'contacts', { fields: ['id', 'last_name'], maxNum: 200 })).records.map((r) => String(r.last_name)).sort();
  let list: string;
  const people: Record<string, string> = {};

  beforeAll(async () => {
    for (const [name, city, mobile] of [['Ada', 'Salem', '+14155550401'], ['Bo', 'Salem', null], ['Cy', 'Denver', '+14155550403'], ['Di', 'Salem', '+14155550404']] as const) {
      people[name] = (await records().create(SYSTEM, 'Contacts', { last_name: name, primary_address_city: city, phone_mobile: mobile })).id;
    }
    list = (await records().create(SYSTEM, 'ProspectLists', { name: 'Salem mobiles', list_type: 'default', dynamic_filter: SALEM_MOBILES })).id;
    await settle();
  });

  test('a new list with a filter starts with the records that match, and shows its member count', async () => {
    expect(await members(list)).toEqual(['Ada', 'Di']);
    expect((await records().retrieve(SYSTEM, 'ProspectLists', list)).entry_count).toBe(2);
    const page = await records().list(SYSTEM, 'ProspectLists', { filter: [{ id: list }], fields: ['name', 'entry_count'] });
    expect(page.records[0].entry_count).toBe(2);
  });

  test('members come and go as records change, and a deleted record leaves', async () => {
    await records().update(SYSTEM, 'Contacts', people.Bo, { phone_mobile: '+14155550402' }); // now matches
    await records().update(SYSTEM, 'Contacts', people.Ada, { primary_address_city: 'Cambridge' }); // no longer
    await records().create(SYSTEM, 'Contacts', { last_name: 'Ed', primary_address_city: 'Salem', phone_mobile: '+14155550405' });
    await settle();
    expect(await members(list)).toEqual(['Bo', 'Di', 'Ed']);
    await records().delete(SYSTEM, 'Contacts', people.Di);
    await settle();
    expect(await members(list)).toEqual(['Bo', 'Ed']);
  });

  test('a campaign to the dynamic list reaches exactly the matching, consenting numbers', async () => {
    const { crm, server, token } = get();
    expect((await server.call('POST', '/rest/v10/SMS/consent', { token, body: { number: '+14155550405', state: 'opted_out', note: 'asked' } })).status).toBe(200);
    const template = await records().create(SYSTEM, 'SMSTemplates', { name: 'Salem news', body: 'Hi {{last_name}}, news from Salem.', template_type: 'marketing' });
    const campaign = await records().create(SYSTEM, 'Campaigns', { name: 'Salem SMS', campaign_type: 'SMS', status: 'Active', end_date: '2027-12-31' });
    await records().link(SYSTEM, 'Campaigns', campaign.id, 'prospectlists', list);
    await crm.sms!.campaigns.launch(admin, campaign.id, { template_id: template.id });
    await settle();
    const sent = get().fake.messages.filter((m) => m.body.endsWith('news from Salem.')).map((m) => m.to).sort();
    expect(sent).toEqual(['+14155550402']); // Bo; Ed opted out; Ada moved away; Di deleted; Cy never in Salem
  });

  test('a changed filter brings the whole list in line; a bad filter is refused naming the field', async () => {
    await records().update(SYSTEM, 'ProspectLists', list, { dynamic_filter: JSON.stringify({ Contacts: [{ primary_address_city: { $in: ['Denver', 'Cambridge'] } }] }) });
    await settle();
    expect(await members(list)).toEqual(['Ada', 'Cy']);
    const bad = await records().update(SYSTEM, 'ProspectLists', list, { dynamic_filter: JSON.stringify({ Contacts: [{ shoe_size: 42 }] }) }).catch((e) => e);
    expect(bad).toMatchObject({ field: 'dynamic_filter' });
    expect(bad.message).toMatch(/^the dynamic filter for Contacts: .*shoe_size/);
    const notMember = await records().update(SYSTEM, 'ProspectLists', list, { dynamic_filter: JSON.stringify({ Opportunities: [] }) }).catch((e) => e);
    expect(notMember.message).toMatch(/names Opportunities, which cannot be a list member/);
    expect(await members(list)).toEqual(['Ada', 'Cy']);
  });
}, { plugins: { installedDir: '/nonexistent' } });
