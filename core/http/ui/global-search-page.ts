import type Router from '@koa/router';
import { GlobalSearch } from '../../search/global-search';
import { searchFields } from '../../search/search-fields';
import type { Ui } from './ui-context';

/** Matches shown per module on the results page; the module's list (searched the same way) has the rest. */
const PER_MODULE = 10;

/**
 * The header's search box lands here: `/ui/search?q=…` shows the matches in every module the user
 * may list, grouped by module, each group linking to the module's list for the rest.
 */
export function globalSearchPage(router: Router, ui: Ui): void {
  const search = new GlobalSearch(ui.services.engine, ui.services.acl);

  router.get('/search', async (ctx) => {
    const q = typeof ctx.query.q === 'string' ? ctx.query.q : '';
    const actor = ui.actor(ctx);
    const base = ui.base(ctx);
    const groups = await search.grouped(actor, q, { perModule: PER_MODULE });
    const registry = ui.services.engine.registry;
    await ui.render(ctx, 'search', {
      title: q.trim() ? `Search: ${q.trim()}` : 'Search',
      q: q.trim(),
      globalQuery: q.trim(),
      searched: Boolean(q.trim()),
      total: groups.reduce((n, g) => n + g.total, 0),
      groups: groups.map((group) => {
        const module = registry.module(group.module);
        const { words } = searchFields(module);
        // Beside the name: the primary e-mail and the other searched fields (phones, account name) that have a value.
        const details = ['email1', ...words.filter((w) => w !== 'name' && w !== 'first_name' && w !== 'last_name')].filter((f) => module.fields[f]);
        return {
          module: group.module,
          label: ui.moduleLabel(group.module),
          total: group.total,
          more: group.total > group.records.length ? group.total - group.records.length : 0,
          listHref: listHref(base, module.name, advancedNames(module).includes('name') ? q.trim() : ''),
          records: group.records.map((r) => ({
            name: String(r.name ?? '').trim() || r.id,
            href: `${base}/${group.module}/${encodeURIComponent(r.id)}`,
            details: details.filter((f) => r[f] !== null && r[f] !== undefined && r[f] !== '').map((f) => ({ label: ui.fieldLabel(group.module, f), text: String(r[f]) })),
          })),
        };
      }),
    });
  });
}

function advancedNames(module: { views: { search?: { layout?: Record<string, unknown> } } }): string[] {
  const layout = (module.views.search?.layout?.advanced_search ?? {}) as Record<string, { name?: string }>;
  return Object.values(layout).map((e) => e.name ?? '');
}

/** The module's list, searching names that contain the text when its advanced search has a name field. */
function listHref(base: string, module: string, q: string): string {
  if (!q) return `${base}/${module}`;
  return `${base}/${module}?${new URLSearchParams({ advanced: '1', s_name: q, s_name_match: 'contains' })}`;
}
