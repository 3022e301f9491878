// Dynamic target lists, written like a third-party plugin: it only uses ctx.
// A list's `dynamic_filter` is JSON { "<Module>": <v10 filter> }; for each module named there the
// list's members are exactly the records that match (Cane checks the filter when the list is
// saved). Members are ordinary rows of prospect_lists_prospects, so campaigns, exports and
// subpanels treat dynamic lists like static ones.

const PAGE = 200;
/** Pages per list and run: a list-save event works within its host-call budget; the schedule finishes the rest. */
const PAGES_PER_RUN = 4;

const linkOf = (module) => module.toLowerCase();
/** Modules that can be list members (ProspectLists' links through prospect_lists_prospects). */
const MEMBER_MODULES = ['Accounts', 'Contacts', 'Leads', 'Prospects', 'Users'];

function filtersOf(list) {
  try {
    const parsed = JSON.parse(String(list.dynamic_filter || ''));
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

async function dynamicLists(ctx) {
  const lists = await ctx.crm.records.find('ProspectLists', { filter: [{ dynamic_filter: { $not_empty: true } }], maxNum: PAGE, fields: ['id', 'name', 'dynamic_filter'] });
  return lists.filter((l) => Object.keys(filtersOf(l)).length);
}

async function isMember(ctx, list, module, id) {
  const found = await ctx.crm.records.related('ProspectLists', list.id, linkOf(module), { filter: [{ id }], maxNum: 1, fields: ['id'] });
  return found.records.length > 0;
}

/** One record against one list: joins when it matches, leaves when it does not. */
async function settle(ctx, list, module, id, exists) {
  const filter = filtersOf(list)[module];
  if (!filter) return;
  const matches = exists && (await ctx.crm.records.find(module, { filter: [...filter, { id }], maxNum: 1, fields: ['id'] })).length > 0;
  const member = await isMember(ctx, list, module, id);
  if (matches && !member) await ctx.crm.lists.addMembers(list.id, [{ module, id }]);
  if (!matches && member) await ctx.crm.lists.removeMembers(list.id, [{ module, id }]);
}

/** A whole list in line with its filters: matching records added, members that no longer match removed. */
async function refresh(ctx, list) {
  for (const [module, filter] of Object.entries(filtersOf(list))) {
    for (let page = 0; page < PAGES_PER_RUN; page++) {
      const matching = await ctx.crm.records.find(module, { filter, maxNum: PAGE, offset: page * PAGE, fields: ['id'], orderBy: [{ field: 'id', direction: 'asc' }] });
      if (!matching.length) break;
      const ids = matching.map((r) => r.id);
      const members = await ctx.crm.records.related('ProspectLists', list.id, linkOf(module), { filter: [{ id: { $in: ids } }], maxNum: PAGE, fields: ['id'] });
      const have = new Set(members.records.map((r) => r.id));
      const missing = ids.filter((id) => !have.has(id));
      if (missing.length) await ctx.crm.lists.addMembers(list.id, missing.map((id) => ({ module, id })));
      if (matching.length < PAGE) break;
    }
    for (let page = 0; page < PAGES_PER_RUN; page++) {
      const members = await ctx.crm.records.related('ProspectLists', list.id, linkOf(module), { maxNum: PAGE, offset: page * PAGE, fields: ['id'] });
      if (!members.records.length) break;
      const ids = members.records.map((r) => r.id);
      const still = new Set((await ctx.crm.records.find(module, { filter: [...filter, { id: { $in: ids } }], maxNum: PAGE, fields: ['id'] })).map((r) => r.id));
      const gone = ids.filter((id) => !still.has(id));
      if (gone.length) await ctx.crm.lists.removeMembers(list.id, gone.map((id) => ({ module, id })));
      if (members.records.length < PAGE) break;
    }
  }
}

definePlugin({
  hooks: {
    async onSave(ctx) {
      const e = ctx.event;
      if (e.module === 'ProspectLists') {
        if (!e.isUpdate || Object.prototype.hasOwnProperty.call(e.changes || {}, 'dynamic_filter')) await refresh(ctx, e.record);
        return;
      }
      if (!MEMBER_MODULES.includes(e.module)) return;
      for (const list of await dynamicLists(ctx)) await settle(ctx, list, e.module, e.id, true);
    },
    async onDelete(ctx) {
      const e = ctx.event;
      if (!MEMBER_MODULES.includes(e.module)) return;
      for (const list of await dynamicLists(ctx)) await settle(ctx, list, e.module, e.id, false);
    },
    async refreshAll(ctx) {
      for (const list of await dynamicLists(ctx)) await refresh(ctx, list);
    },
  },
});
