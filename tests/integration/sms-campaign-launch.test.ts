import { SYSTEM } from '../../core/records/actor';
import { describeSms } from '../helpers/sms';
import { session } from '../helpers/ui-session';

/** Pages of 7 members, so a launch of a few dozen crosses many pages and the boundary between modules. */
const PAGE = 7;

describeSms('SMS campaign launch: set-based pages, progress, two launches or workers at once', (get) => {
  const records = () => get().crm.records;
  const knex = () => get().crm.engine.db.knex;
  const api = async (method: string, path: string, body?: unknown) => get().server.call(method, `/rest/v10${path}`, { token: get().token, body });
  const admin = { type: 'user', id: '1', isAdmin: true } as const;

  /** A campaign to `contacts` Contacts and `leads` Leads (distinct numbers), plus an exempt Contact and a Lead sharing a Contact's number. */
  async function campaignTo(name: string, contacts: number, leads: number) {
    const template = (await records().create(SYSTEM, 'SMSTemplates', { name, body: `${name}: hello {{last_name}}`, template_type: 'marketing' })).id;
    const campaign = (await records().create(SYSTEM, 'Campaigns', { name, campaign_type: 'SMS', status: 'Planning', end_date: '2027-12-31' })).id;
    const list = (await records().create(SYSTEM, 'ProspectLists', { name: `${name} list`, list_type: 'default' })).id;
    const exempt = (await records().create(SYSTEM, 'ProspectLists', { name: `${name} exempt`, list_type: 'exempt' })).id;
    await records().link(SYSTEM, 'Campaigns', campaign, 'prospectlists', list);
    await records().link(SYSTEM, 'Campaigns', campaign, 'prospectlists', exempt);
    const number = (i: number) => `+1415557${name.length}${String(i).padStart(3, '0')}`;
    for (let i = 0; i < contacts; i++) {
      const c = await records().create(SYSTEM, 'Contacts', { last_name: `${name} C${i}`, phone_mobile: number(i) });
      await records().link(SYSTEM, 'ProspectLists', list, 'contacts', c.id);
    }
    for (let i = 0; i < leads; i++) {
      const l = await records().create(SYSTEM, 'Leads', { last_name: `${name} L${i}`, phone_mobile: number(500 + i) });
      await records().link(SYSTEM, 'ProspectLists', list, 'leads', l.id);
    }
    const left = await records().create(SYSTEM, 'Contacts', { last_name: `${name} exempt`, phone_mobile: number(900) });
    await records().link(SYSTEM, 'ProspectLists', list, 'contacts', left.id);
    await records().link(SYSTEM, 'ProspectLists', exempt, 'contacts', left.id);
    const twin = await records().create(SYSTEM, 'Leads', { last_name: `${name} twin`, phone_mobile: number(0) });
    await records().link(SYSTEM, 'ProspectLists', list, 'leads', twin.id);
    return { campaign, template, numbers: [...Array.from({ length: contacts }, (_, i) => number(i)), ...Array.from({ length: leads }, (_, i) => number(500 + i))] };
  }

  const sentPerNumber = (prefix: string) => {
    const counts = new Map<string, number>();
    for (const m of get().fake.messages.filter((x) => x.body.startsWith(prefix))) counts.set(m.to, (counts.get(m.to) ?? 0) + 1);
    return counts;
  };

  test('a launch over many pages reaches each number once, logs each member, and shows its progress', async () => {
    const { campaign, template, numbers } = await campaignTo('Paged', 30, 12);
    const launched = await api('POST', `/Campaigns/${campaign}/sms/launch`, { template_id: template });
    expect(launched).toMatchObject({ status: 202, body: { members: 43 } });
    await get().drain();
    const counts = sentPerNumber('Paged:');
    expect([...counts.keys()].sort()).toEqual([...numbers].sort());
    expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
    const log = await knex()('campaign_log').where('campaign_id', campaign).select('activity_type', 'more_information');
    expect(log.filter((r: { activity_type: string }) => r.activity_type === 'targeted')).toHaveLength(42);
    expect(log.filter((r: { activity_type: string }) => r.activity_type !== 'targeted')).toEqual([{ activity_type: 'blocked', more_information: 'duplicate' }]);
    const overview = (await api('GET', `/Campaigns/${campaign}/sms`)).body;
    expect(overview.run).toMatchObject({ state: 'complete', progress: { total: 43, done: 43, queued: 42, refused: 1, queued_all: true } });
    const ui = session(get().server.url);
    await ui.login('admin', 'secret-admin');
    const page = await ui.request('GET', `/ui/Campaigns/${campaign}/sms`);
    expect(page.text).toMatch(/<progress max="43" value="43"><\/progress> <span data-campaign-progress>43 of 43 members gone through \(42 queued, 1 left out\)/);
  });

  test("a member's account is linked to its message, as a single send links it", async () => {
    const { campaign, template } = await campaignTo('Linked', 2, 0);
    const account = await records().create(SYSTEM, 'Accounts', { name: 'Linked Inc' });
    const member = await records().create(SYSTEM, 'Contacts', { last_name: 'Linked member', phone_mobile: '+14155579999', account_id: account.id });
    const list = (await get().crm.sms!.campaigns.lists(campaign)).find((l) => l.list_type === 'default')!;
    await records().link(SYSTEM, 'ProspectLists', list.id, 'contacts', member.id);
    await get().crm.sms!.campaigns.launch(admin, campaign, { template_id: template });
    await get().drain();
    const message = await knex()('sms').where({ campaign_id: campaign, parent_id: member.id }).first('id');
    const linked = await api('GET', `/SMS/${message.id}/link/related_accounts`);
    expect(linked.body.records.map((r: { id: string }) => r.id)).toEqual([account.id]);
  });

  test('two launches at once: one is refused, each member is queued once', async () => {
    const { campaign, template, numbers } = await campaignTo('Twice', 20, 0);
    const answers = await Promise.all([1, 2].map(() => api('POST', `/Campaigns/${campaign}/sms/launch`, { template_id: template })));
    expect(answers.map((a) => a.status).sort()).toEqual([202, 422]);
    expect(answers.find((a) => a.status === 422)!.body.fields).toMatchObject([{ field: 'status', rule: 'running' }]);
    await get().drain();
    expect((await knex()('sms').where('campaign_id', campaign).count({ n: '*' }).first())).toMatchObject({ n: 20 });
    const counts = sentPerNumber('Twice:');
    expect(counts.size).toBe(numbers.length);
    expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
  });

  test('two workers running the same launch at once (a lease taken over) write each page once', async () => {
    const { campaign, template } = await campaignTo('Racing', 25, 10);
    const campaigns = get().crm.sms!.campaigns;
    const { job_id } = await campaigns.launch(admin, campaign, { template_id: template });
    await Promise.all([1, 2, 3].map(() => campaigns.queueMembers(campaign, job_id, admin, template)));
    const rows = await knex()('sms').where('campaign_id', campaign).select('to_number');
    expect(rows).toHaveLength(35);
    expect(new Set(rows.map((r: { to_number: string }) => r.to_number)).size).toBe(35);
    expect(await knex()('campaign_log').where('campaign_id', campaign).count({ n: '*' }).first()).toMatchObject({ n: 36 });
    const ids: string[] = await knex()('sms').where('campaign_id', campaign).pluck('id');
    const dispatchJobs = await knex()(get().crm.engine.jobs.table).where('target', 'function::sms.dispatch').whereIn('data', ids.map((id) => JSON.stringify({ id }))).count({ n: '*' }).first();
    expect(dispatchJobs).toMatchObject({ n: 35 });
    expect((await campaigns.runs.get(campaign))!.progress).toMatchObject({ total: 36, done: 36, queued: 35, refused: 1 });
    await get().drain();
    expect([...sentPerNumber('Racing:').values()].filter((n) => n !== 1)).toEqual([]);
  });

  test('a paused launch stops between pages and a resume goes on after the last page queued', async () => {
    const { campaign, template, numbers } = await campaignTo('Halves', 20, 0);
    const campaigns = get().crm.sms!.campaigns;
    const { job_id } = await campaigns.launch(admin, campaign, { template_id: template });
    let pages = 0;
    await campaigns.queueMembers(campaign, job_id, admin, template, undefined, async () => {
      if (++pages === 2) await campaigns.pause(admin, campaign);
    });
    const paused = (await campaigns.runs.get(campaign))!;
    expect(paused.state).toBe('paused');
    expect(paused.progress.done).toBe(2 * PAGE);
    await campaigns.resume(admin, campaign);
    await get().drain();
    const counts = sentPerNumber('Halves:');
    expect(counts.size).toBe(numbers.length);
    expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
    expect((await campaigns.runs.get(campaign))!).toMatchObject({ state: 'complete', progress: { done: 21 } });
  });

  test('a list edited while its launch runs: no record or number twice, nothing lost; a relaunch reaches the members added behind the cursor', async () => {
    const { campaign, template } = await campaignTo('Edited', 40, 0);
    const campaigns = get().crm.sms!.campaigns;
    const list = (await campaigns.lists(campaign)).find((l) => l.list_type === 'default')!;
    const listed = async (): Promise<string[]> => (await knex()('prospect_lists_prospects').where({ prospect_list_id: list.id, deleted: 0, related_type: 'Contacts' }).orderBy('related_id').pluck('related_id')).map(String);
    // Every member of any module (the twin Lead gets its number when its Contact is removed before being reached).
    const everListed = new Set((await knex()('prospect_lists_prospects').where({ prospect_list_id: list.id, deleted: 0 }).pluck('related_id')).map(String));
    const removed = new Set<string>();
    const { job_id } = await campaigns.launch(admin, campaign, { template_id: template });
    let pages = 0;
    const ahead: string[] = [];
    const behind: string[] = [];
    const originals = await listed();
    // After each of the first three pages: two new members, one whose id sorts before every other (behind the
    // cursor) and one after every other (ahead of it), and two original members removed.
    await campaigns.queueMembers(campaign, job_id, admin, template, undefined, async () => {
      if (++pages > 3) return;
      const suffix = String(pages).padStart(12, '0');
      for (const [id, bucket] of [[`00000000-0000-4000-8000-${suffix}`, behind], [`ffffffff-ffff-4fff-8fff-${suffix}`, ahead]] as const) {
        const contact = await records().create(SYSTEM, 'Contacts', { id, last_name: `Edited added ${id}`, phone_mobile: `+14155589${pages}${bucket === ahead ? 1 : 0}0` });
        await records().link(SYSTEM, 'ProspectLists', list.id, 'contacts', contact.id);
        everListed.add(contact.id);
        bucket.push(contact.id);
      }
      for (const id of [originals.shift()!, originals.pop()!]) {
        await records().unlink(SYSTEM, 'ProspectLists', list.id, 'contacts', id);
        removed.add(id);
      }
    });
    const messages = async () => knex()('sms').where('campaign_id', campaign).select('parent_id', 'to_number');
    const once = (rows: Array<{ parent_id: string; to_number: string }>) => {
      expect(new Set(rows.map((r) => r.parent_id)).size).toBe(rows.length);
      expect(new Set(rows.map((r) => r.to_number)).size).toBe(rows.length);
    };
    const first = await messages();
    once(first);
    for (const r of first) expect(everListed.has(r.parent_id)).toBe(true);
    const firstReached = new Set(first.map((r: { parent_id: string }) => r.parent_id));
    expect(ahead.filter((id) => firstReached.has(id))).toEqual(ahead);
    expect(behind.filter((id) => firstReached.has(id))).toEqual([]);
    expect((await campaigns.runs.get(campaign))!.queuedAll).toBe(true);
    await get().drain();
    expect((await campaigns.runs.get(campaign))!.state).toBe('complete');

    // A relaunch goes through the list as it is now: whoever is on it and was not reached yet.
    expect((await api('POST', `/Campaigns/${campaign}/sms/launch`, { template_id: template })).status).toBe(202);
    await get().drain();
    const after = await messages();
    once(after);
    const exempt = new Set((await knex()('prospect_lists_prospects').whereIn('prospect_list_id', (await campaigns.lists(campaign)).filter((l) => l.list_type === 'exempt').map((l) => l.id)).andWhere('deleted', 0).pluck('related_id')).map(String));
    const reached = new Set(after.map((r: { parent_id: string }) => r.parent_id));
    expect(behind.filter((id) => reached.has(id))).toEqual(behind);
    for (const id of await listed()) if (!exempt.has(id)) expect(reached.has(id)).toBe(true);
    for (const id of removed) if (!first.some((r: { parent_id: string }) => r.parent_id === id)) expect(reached.has(id)).toBe(false);
    const logged = await knex()('campaign_log').where('campaign_id', campaign).select('target_id', 'activity_type');
    expect(new Set(logged.map((l: { target_id: string; activity_type: string }) => `${l.target_id}:${l.activity_type}`)).size).toBe(logged.length);
    expect([...sentPerNumber('Edited:').values()].filter((n) => n !== 1)).toEqual([]);
  });
}, {}, {}, { launchPageSize: PAGE });
