import type Router from '@koa/router';
import type { Context } from 'koa';
import type { CrmServices } from '../../app/services';
import { FilterError } from '../../errors';
import type { Actor } from '../../records/actor';
import { GlobalSearch } from '../../search/global-search';
import { readJson } from '../middleware/body';
import { RecordAcl, toV10 } from './format';
import { queryOf } from './params';

/** Sugar's default page of global search results, and the most one page may hold. */
const DEFAULT_MAX = 20;
const MAX_PAGE = 100;

function integer(name: string, value: unknown, min: number, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'number' ? value : /^-?\d+$/.test(String(value)) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min) throw new FilterError(`${name} must be a whole number >= ${min}, got '${String(value)}'`, { field: name, rule: 'integer' });
  return n;
}

function moduleList(value: unknown): string[] | undefined {
  if (value === undefined || value === '') return undefined;
  const names = (Array.isArray(value) ? value.map(String) : String(value).split(',')).map((m) => m.trim()).filter(Boolean);
  return names.length ? names : undefined;
}

/**
 * Sugar 7's global search: `GET|POST /globalsearch` and `/<module>/globalsearch` with q, module_list
 * (comma list), max_num, offset — URL parameters win over the JSON body, as Sugar's — answering
 * `{next_offset, total, query_time, records}` where each record carries `_module`. Sugar ranks with
 * Elasticsearch; Cane lists the matches module by module (see core/search/global-search.ts), so no
 * `_score` or `_highlights`. `GET /search` (Sugar's older unified search) answers the same.
 */
export function globalSearchRoutes(router: Router, services: CrmServices): void {
  const search = new GlobalSearch(services.engine, services.acl);

  async function answer(ctx: Context, module?: string) {
    const body = ctx.method === 'POST' ? await readJson(ctx, services.bodyLimit) : {};
    const params = { ...(body && typeof body === 'object' && !Array.isArray(body) ? body as Record<string, unknown> : {}), ...queryOf(ctx) };
    const maxNum = Math.min(integer('max_num', params.max_num, 1, DEFAULT_MAX), MAX_PAGE);
    const offset = integer('offset', params.offset, 0, 0);
    if (typeof params.q !== 'string' && params.q !== undefined) throw new FilterError('q must be text', { field: 'q', rule: 'type' });
    const actor = (ctx.state as { actor: Actor }).actor;
    const started = process.hrtime.bigint();
    const { total, records } = await search.flat(actor, String(params.q ?? ''), { modules: module ? [module] : moduleList(params.module_list), offset, maxNum });
    const rights = new Map<string, RecordAcl>();
    const out = [];
    for (const { module: name, record } of records) {
      const def = services.engine.registry.module(name);
      if (!rights.has(name)) rights.set(name, await RecordAcl.for(services.acl, actor, def));
      out.push(toV10(def, record, rights.get(name)!));
    }
    ctx.body = {
      next_offset: total > offset + maxNum ? offset + maxNum : -1,
      total,
      query_time: Number(process.hrtime.bigint() - started) / 1e6,
      records: out,
    };
  }

  for (const path of ['/globalsearch', '/search']) {
    router.get(path, (ctx) => answer(ctx));
    router.post(path, (ctx) => answer(ctx));
  }
  router.get('/:module/globalsearch', (ctx) => answer(ctx, ctx.params.module));
  router.post('/:module/globalsearch', (ctx) => answer(ctx, ctx.params.module));
}
