import { HookVeto, ValidationError } from '../../core/errors';
import { MAX_LOGIC_DEPTH } from '../../core/hooks/hook-registry';
import type { Bean } from '../../core/hooks/types';
import { admin, describeEachEngine } from '../helpers/engine';

describeEachEngine('logic hooks', (get) => {
  const removers: Array<() => void> = [];
  afterEach(() => { while (removers.length) removers.pop()!(); });

  it('runs before_save in order; hooks may change fields or veto with a message', async () => {
    const { records, hooks } = get();
    const calls: string[] = [];
    removers.push(hooks.register('Accounts', { event: 'before_save', order: 20, label: 'second', handler: (bean) => { calls.push('second'); bean.rating = `${String(bean.name).length}`; } }));
    removers.push(hooks.register('Accounts', { event: 'before_save', order: 10, label: 'first', handler: (bean) => { calls.push('first'); bean.name = String(bean.name).trim(); } }));
    removers.push(hooks.register('*', { event: 'before_save', order: 1, label: 'application', handler: () => { calls.push('application'); } }));
    const a = await records.create(admin, 'Accounts', { name: '  Padded  ' });
    expect(calls).toEqual(['first', 'second', 'application']);
    expect([a.name, a.rating]).toEqual(['Padded', '6']);

    removers.push(hooks.register('Accounts', { event: 'before_save', order: 5, label: 'veto', handler: (bean) => { if (bean.industry === 'Other') throw new HookVeto('Pick a real industry', 'industry'); } }));
    const err = await records.update(admin, 'Accounts', a.id, { industry: 'Other' }).catch((e) => e);
    expect(err).toBeInstanceOf(HookVeto);
    expect(err).toMatchObject({ status: 422, field: 'industry', message: 'Pick a real industry' });
    expect((await records.retrieve(admin, 'Accounts', a.id)).industry).toBeNull();
  });

  it('validates what before_save hooks leave behind', async () => {
    const { records, hooks } = get();
    removers.push(hooks.register('Accounts', { event: 'before_save', order: 1, label: 'bad', handler: (bean) => { bean.industry = 'Piracy'; } }));
    const err = await records.create(admin, 'Accounts', { name: 'Hooked' }).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).problems).toEqual([{ field: 'industry', rule: 'enum', message: "'Piracy' is not an option of industry_dom" }]);
  });

  it('gives after_save isUpdate and dataChanges, with fetched_row', async () => {
    const { records, hooks } = get();
    const seen: Array<{ isUpdate: boolean; changes: string[]; before: unknown }> = [];
    removers.push(hooks.register('Leads', { event: 'after_save', order: 1, label: 'spy', handler: (bean: Bean, _e, args) => {
      seen.push({ isUpdate: args.isUpdate, changes: Object.keys(args.dataChanges).sort(), before: bean.fetched_row?.status ?? null });
    } }));
    const lead = await records.create(admin, 'Leads', { last_name: 'Hook', status: 'New' });
    await records.update(admin, 'Leads', lead.id, { status: 'Assigned', title: 'CTO' });
    expect(seen).toEqual([
      { isUpdate: false, changes: [], before: null },
      { isUpdate: true, changes: ['status', 'title'], before: 'New' },
    ]);
  });

  it('logs an after_save failure without undoing the commit', async () => {
    const { records, hooks } = get();
    removers.push(hooks.register('Leads', { event: 'after_save', order: 1, label: 'boom', handler: () => { throw new Error('after hook exploded'); } }));
    const lead = await records.create(admin, 'Leads', { last_name: 'Survives' });
    expect((await records.retrieve(admin, 'Leads', lead.id)).last_name).toBe('Survives');
  });

  it('fires delete, restore, retrieve and process_record hooks with Sugar arguments', async () => {
    const { records, hooks } = get();
    const events: string[] = [];
    for (const event of ['before_delete', 'after_delete', 'before_restore', 'after_restore'] as const) {
      removers.push(hooks.register('Prospects', { event, order: 1, label: event, handler: (bean, e, args) => { events.push(`${e}:${(args as { id: string }).id === bean.id}`); } }));
    }
    removers.push(hooks.register('Prospects', { event: 'after_retrieve', order: 1, label: 'mask', handler: (bean) => { bean.phone_mobile = '***'; } }));
    removers.push(hooks.register('Prospects', { event: 'process_record', order: 1, label: 'list', handler: (bean) => { bean.title = 'listed'; } }));
    const p = await records.create(admin, 'Prospects', { last_name: 'Target', phone_mobile: '+15550001111' });
    expect((await records.retrieve(admin, 'Prospects', p.id)).phone_mobile).toBe('***');
    expect((await records.list(admin, 'Prospects', {})).records.every((r) => r.title === 'listed')).toBe(true);
    await records.delete(admin, 'Prospects', p.id);
    await records.restore(admin, 'Prospects', p.id);
    expect(events).toEqual(['before_delete:true', 'after_delete:true', 'before_restore:true', 'after_restore:true']);
  });

  it('fires relationship hooks on both records', async () => {
    const { records, hooks } = get();
    const seen: string[] = [];
    for (const module of ['Accounts', 'Contacts']) {
      for (const event of ['before_relationship_add', 'after_relationship_add', 'after_relationship_delete'] as const) {
        removers.push(hooks.register(module, { event, order: 1, label: 'spy', handler: (_bean, e, args) => { seen.push(`${args.module}.${args.link}:${e}:${args.related_module}`); } }));
      }
    }
    const a = await records.create(admin, 'Accounts', { name: 'Rel' });
    const c = await records.create(admin, 'Contacts', { last_name: 'Rel' });
    await records.link(admin, 'Accounts', a.id, 'contacts', c.id);
    await records.unlink(admin, 'Accounts', a.id, 'contacts', c.id);
    expect(seen).toEqual([
      'Accounts.contacts:before_relationship_add:Contacts', 'Contacts.accounts:before_relationship_add:Accounts',
      'Accounts.contacts:after_relationship_add:Contacts', 'Contacts.accounts:after_relationship_add:Accounts',
      'Accounts.contacts:after_relationship_delete:Contacts', 'Contacts.accounts:after_relationship_delete:Accounts',
    ]);
  });

  it('stops runaway recursion at Sugar\'s max logic depth', async () => {
    const { records, hooks } = get();
    let runs = 0;
    removers.push(hooks.register('Campaigns', { event: 'after_save', order: 1, label: 'recursive', handler: async (bean) => {
      runs++;
      await records.update(admin, 'Campaigns', String(bean.id), { impressions: runs });
    } }));
    const c = await records.create(admin, 'Campaigns', { name: 'Loop', status: 'Active', campaign_type: 'SMS', end_date: '2026-12-31' });
    expect(runs).toBe(MAX_LOGIC_DEPTH);
    expect((await records.retrieve(admin, 'Campaigns', c.id)).impressions).toBe(MAX_LOGIC_DEPTH);
  });
});
