import type { Database } from '../../core/db/connection';
import { CaneError, HookVeto } from '../../core/errors';
import type { HookDefinition } from '../../core/hooks/types';
import type { Registry } from '../../core/metadata/registry';
import { applyFilter } from '../../core/query/filter-to-knex';

/** The modules a target list holds members of (its links through the prospect_lists_prospects join). */
export function memberModules(registry: Registry): string[] {
  const lists = registry.module('ProspectLists');
  return Object.values(lists.links).filter((l) => l.relationship.join_table === 'prospect_lists_prospects').map((l) => l.module);
}

/**
 * A dynamic list's filter is checked when the list is saved: JSON of { "<Module>": <v10 filter> }
 * for member modules, each filter compiling against its module's fields, so the plugin that keeps
 * the membership current never meets one it cannot run.
 */
export function dynamicFilterHooks(registry: Registry, db: Database): HookDefinition[] {
  return [{
    event: 'before_save', order: 1, label: 'Check the dynamic filter',
    handler: (bean) => {
      const text = typeof bean.dynamic_filter === 'string' ? bean.dynamic_filter.trim() : '';
      if (!text) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        throw new HookVeto(`the dynamic filter is not JSON: ${(err as Error).message}`, 'dynamic_filter');
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new HookVeto('the dynamic filter is an object of module name → v10 filter, e.g. {"Contacts": [{"primary_address_city": "Boston"}]}', 'dynamic_filter');
      const allowed = memberModules(registry);
      for (const [module, filter] of Object.entries(parsed)) {
        if (!allowed.includes(module)) throw new HookVeto(`the dynamic filter names ${module}, which cannot be a list member (${allowed.join(', ')})`, 'dynamic_filter');
        try {
          const def = registry.module(module);
          const query = db.knex(`${def.table} as t`);
          applyFilter(query, filter, { knex: db.knex, module: def, dialect: db.dialect, alias: 't', userId: null, now: new Date() });
          query.toSQL(); // the clauses compile here: an unknown field or operator throws now
        } catch (err) {
          if (err instanceof CaneError) throw new HookVeto(`the dynamic filter for ${module}: ${err.message}`, 'dynamic_filter');
          throw err;
        }
      }
    },
  } satisfies HookDefinition<'before_save'> as HookDefinition];
}
