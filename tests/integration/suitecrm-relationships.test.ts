import { ValidationError } from '../../core/errors';
import { linkRecords } from '../../core/records/link';
import { relatedIds } from '../../core/records/relationships';
import { formatDateTime } from '../../core/records/time';
import { createUser } from '../../core/security/users';
import { describeEachServer } from '../helpers/crm';
import { admin } from '../helpers/engine';

/**
 * Relationships between shipped modules that SuiteCRM 7.14 declares, under SuiteCRM's relationship
 * and link names (modules/<Module>/vardefs.php, metadata/contacts_usersMetaData.php).
 */
describeEachServer('SuiteCRM relationships between shipped modules', (get) => {
  const ids: Record<string, string> = {};
  let token: string;

  const related = async (module: string, id: string, link: string) =>
    (await get().crm.records.listRelated(admin, module, id, link, { orderBy: [{ field: 'id', direction: 'asc' }] })).records.map((r) => r.id).sort();

  beforeAll(async () => {
    const { crm } = get();
    token = await get().login('admin', 'secret-admin');
    const create = async (module: string, fields: Record<string, unknown>) => (await crm.records.create(admin, module, fields)).id;
    ids.user = (await createUser(crm.engine, { user_name: 'targeted', password: 'targeted-secret-1', first_name: 'Tess' })).id;
    ids.campaign = await create('Campaigns', { name: 'Spring', campaign_type: 'SMS', status: 'Active', end_date: '2026-12-31', assigned_user_id: ids.user });
    ids.account = await create('Accounts', { name: 'Acme' });
    ids.contact = await create('Contacts', { first_name: 'Cora', last_name: 'Contact' });
    ids.lead = await create('Leads', { first_name: 'Lee', last_name: 'Lead' });
    ids.prospect = await create('Prospects', { first_name: 'Pia', last_name: 'Prospect' });
    ids.opportunity = await create('Opportunities', { name: 'Deal', amount: 10, date_closed: '2026-06-30', sales_stage: 'Prospecting', campaign_id: ids.campaign });
    // campaign_log rows as SuiteCRM's campaign code writes them: target_type is the target's module.
    const now = formatDateTime(new Date());
    const log = async (key: string, row: Record<string, unknown>) => {
      await crm.engine.db.knex('campaign_log').insert({ id: `log-${key}`, campaign_id: ids.campaign, activity_date: now, date_modified: now, deleted: 0, archived: 0, hits: 0, ...row });
    };
    await log('account', { target_id: ids.account, target_type: 'Accounts', activity_type: 'targeted' });
    await log('contact', { target_id: ids.contact, target_type: 'Contacts', activity_type: 'contact', related_id: ids.contact, related_type: 'Contacts' });
    await log('lead', { target_id: ids.lead, target_type: 'Leads', activity_type: 'lead', related_id: ids.lead, related_type: 'Leads' });
    await log('prospect', { target_id: ids.prospect, target_type: 'Prospects', activity_type: 'targeted' });
    await log('opportunity', { target_id: ids.prospect, target_type: 'Prospects', activity_type: 'lead', related_id: ids.opportunity, related_type: 'Opportunities' });
    await log('user', { target_id: ids.user, target_type: 'Users', activity_type: 'targeted' });
    // The role column decides: a row about a Lead whose id happens to be the contact's is not the contact's.
    await log('mislabelled', { target_id: ids.contact, target_type: 'Leads', activity_type: 'targeted' });
  });

  it('uses SuiteCRM relationship names (campaign_campaignlog, not campaign_campaign_log)', () => {
    const { relationships } = get().crm.engine.registry;
    expect(relationships.has('campaign_campaign_log')).toBe(false);
    expect(relationships.get('campaign_campaignlog')).toMatchObject({ lhs_module: 'Campaigns', rhs_module: 'CampaignLog', rhs_key: 'campaign_id', relationship_type: 'one-to-many' });
    expect(relationships.get('contact_campaign_log')).toMatchObject({ lhs_module: 'Contacts', rhs_module: 'CampaignLog', rhs_key: 'target_id', relationship_role_column: 'target_type', relationship_role_column_value: 'Contacts' });
    expect(relationships.get('campaignlog_targeted_users')).toMatchObject({ lhs_module: 'CampaignLog', lhs_key: 'target_id', rhs_module: 'Users', rhs_key: 'id' });
    expect(relationships.get('campaign_assigned_user')).toMatchObject({ lhs_module: 'Users', rhs_module: 'Campaigns', rhs_key: 'assigned_user_id', relationship_type: 'one-to-many' });
    expect(relationships.get('campaign_modified_user')).toMatchObject({ lhs_module: 'Users', rhs_module: 'Campaigns', rhs_key: 'modified_user_id', relationship_type: 'one-to-many' });
    expect(relationships.get('opportunities_campaign')).toMatchObject({ lhs_module: 'Campaigns', rhs_module: 'Opportunities', rhs_key: 'campaign_id' });
    expect(relationships.get('contacts_users')).toMatchObject({ lhs_module: 'Contacts', rhs_module: 'Users', join_table: 'contacts_users', join_key_lhs: 'contact_id', join_key_rhs: 'user_id' });
    expect(relationships.get('schedulers_created_by_rel')).toMatchObject({ lhs_module: 'Users', rhs_module: 'Schedulers', rhs_key: 'created_by', relationship_type: 'one-to-one' });
    expect(relationships.get('schedulers_modified_user_id_rel')).toMatchObject({ lhs_module: 'Users', rhs_module: 'Schedulers', rhs_key: 'modified_user_id' });
  });

  it('reads the campaign log of a campaign and the campaign of a log entry', async () => {
    expect(await related('Campaigns', ids.campaign, 'log_entries')).toEqual(['account', 'contact', 'lead', 'mislabelled', 'opportunity', 'prospect', 'user'].map((k) => `log-${k}`).sort());
    expect(await related('CampaignLog', 'log-contact', 'campaign')).toEqual([ids.campaign]);
  });

  it("reads each target's campaign log by target_id, keeping to its own target_type", async () => {
    expect(await related('Accounts', ids.account, 'campaigns')).toEqual(['log-account']);
    expect(await related('Contacts', ids.contact, 'campaigns')).toEqual(['log-contact']);
    expect(await related('Leads', ids.lead, 'campaigns')).toEqual(['log-lead']);
    expect(await related('Prospects', ids.prospect, 'campaigns')).toEqual(['log-opportunity', 'log-prospect']);
  });

  it('reads the records a log entry names by related_id / target_id', async () => {
    expect(await related('CampaignLog', 'log-contact', 'created_contact')).toEqual([ids.contact]);
    expect(await related('CampaignLog', 'log-lead', 'created_lead')).toEqual([ids.lead]);
    expect(await related('CampaignLog', 'log-opportunity', 'created_opportunities')).toEqual([ids.opportunity]);
    expect(await related('CampaignLog', 'log-user', 'targeted_user')).toEqual([ids.user]);
    // A row whose related_id names something else reaches nothing.
    expect(await related('CampaignLog', 'log-account', 'created_contact')).toEqual([]);
    expect(await related('CampaignLog', 'log-opportunity', 'created_contact')).toEqual([]);
    // The same, for many log entries at once (as list views and relate names read links).
    const { engine } = get().crm;
    const links = engine.registry.module('CampaignLog').links;
    const many = async (link: string) => Object.fromEntries(await relatedIds(engine.context, engine.db.knex, links[link], ['log-contact', 'log-lead', 'log-opportunity', 'log-user', 'log-account']));
    expect(await many('created_contact')).toEqual({ 'log-contact': [ids.contact] });
    expect(await many('created_lead')).toEqual({ 'log-lead': [ids.lead] });
    expect(await many('created_opportunities')).toEqual({ 'log-opportunity': [ids.opportunity] });
    expect(await many('targeted_user')).toEqual({ 'log-user': [ids.user] });
    const contactLinks = engine.registry.module('Contacts').links;
    expect(Object.fromEntries(await relatedIds(engine.context, engine.db.knex, contactLinks.campaigns, [ids.contact]))).toEqual({ [ids.contact]: ['log-contact'] });
  });

  it('reads the same links over REST v10', async () => {
    const v10 = (path: string) => get().call('GET', `/rest/v10${path}`, { token });
    const contactLog = await v10(`/Contacts/${ids.contact}/link/campaigns`);
    expect(contactLog.status).toBe(200);
    expect(contactLog.body.records.map((r: { id: string; target_type: string }) => [r.id, r.target_type])).toEqual([['log-contact', 'Contacts']]);
    const created = await v10(`/CampaignLog/log-contact/link/created_contact`);
    expect(created.status).toBe(200);
    expect(created.body.records.map((r: { id: string; name: string }) => [r.id, r.name])).toEqual([[ids.contact, 'Cora Contact']]);
  });

  it('refuses writes through the log links with a 4xx naming the link, changing nothing', async () => {
    const other = (await get().crm.records.create(admin, 'Contacts', { last_name: 'Other' })).id;
    const viaApi = await get().call('POST', `/rest/v10/CampaignLog/log-contact/link/created_contact/${other}`, { token });
    expect(viaApi.status).toBe(403);
    expect(viaApi.body.error_message).toMatch(/CampaignLog is append-only/);
    // Below the append-only rule of CampaignLog, the engine itself will not write a link keyed on related_id.
    const { engine } = get().crm;
    const err = await linkRecords(engine.context, admin, engine.registry.module('CampaignLog'), 'log-contact', 'created_contact', other).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).status).toBe(422);
    expect((err as ValidationError).problems).toEqual([expect.objectContaining({ field: 'created_contact', rule: 'read_only' })]);
    const row = await engine.db.knex('campaign_log').where('id', 'log-contact').first();
    expect(row.related_id).toBe(ids.contact);
    expect(await engine.db.knex('contacts').where('id', other).first('id')).toEqual({ id: other });
  });

  it('relates an opportunity to its campaign through opportunities_campaign (campaign_link, campaigns)', async () => {
    const { records } = get().crm;
    expect(await related('Opportunities', ids.opportunity, 'campaign_link')).toEqual([ids.campaign]);
    expect(await related('Opportunities', ids.opportunity, 'campaigns')).toEqual([ids.campaign]);
    const other = await records.create(admin, 'Campaigns', { name: 'Autumn', campaign_type: 'Radio', status: 'Planning', end_date: '2026-12-31' });
    await records.link(admin, 'Opportunities', ids.opportunity, 'campaign_link', other.id);
    expect((await records.retrieve(admin, 'Opportunities', ids.opportunity)).campaign_id).toBe(other.id);
    await records.link(admin, 'Opportunities', ids.opportunity, 'campaign_link', ids.campaign);
  });

  it('relates contacts and users many-to-many in contacts_users (user_sync, contacts_sync)', async () => {
    const { records, engine } = get().crm;
    await records.link(admin, 'Contacts', ids.contact, 'user_sync', ids.user);
    expect(await related('Users', ids.user, 'contacts_sync')).toEqual([ids.contact]);
    expect(await related('Contacts', ids.contact, 'user_sync')).toEqual([ids.user]);
    const rows = await engine.db.knex('contacts_users').where({ contact_id: ids.contact, user_id: ids.user });
    expect(rows).toEqual([expect.objectContaining({ deleted: expect.anything(), date_modified: expect.anything() })]);
    await records.unlink(admin, 'Users', ids.user, 'contacts_sync', ids.contact);
    expect(await related('Contacts', ids.contact, 'user_sync')).toEqual([]);
    expect(Number((await engine.db.knex('contacts_users').where({ contact_id: ids.contact }).first()).deleted)).toBe(1);
  });

  it('reads who created and last modified a campaign and a scheduler', async () => {
    const { engine } = get().crm;
    const campaign = engine.registry.module('Campaigns');
    expect(campaign.links.assigned_user_link.module).toBe('Users');
    expect(await related('Campaigns', ids.campaign, 'assigned_user_link')).toEqual([ids.user]);
    const now = formatDateTime(new Date());
    await engine.db.knex('schedulers').insert({ id: 'sched-1', name: 'Nightly', job: 'function::nightly', job_interval: '0::2::*::*::*', status: 'Active', date_time_start: now, created_by: ids.user, modified_user_id: '1', date_entered: now, date_modified: now, deleted: 0, catch_up: 0 });
    expect(await related('Schedulers', 'sched-1', 'created_by_link')).toEqual([ids.user]);
    expect(await related('Schedulers', 'sched-1', 'modified_user_link')).toEqual(['1']);
    const scheduler = await get().crm.records.retrieve(admin, 'Schedulers', 'sched-1');
    expect([scheduler.created_by_name, scheduler.modified_by_name]).toEqual(['targeted', 'admin']);
  });

  it('creates contacts_users with the columns SuiteCRM has', async () => {
    const { db } = get().crm.engine;
    expect([...(await db.dialect.columns(db.knex, 'contacts_users')).keys()].sort()).toEqual(['contact_id', 'date_modified', 'deleted', 'id', 'user_id']);
  });
});
