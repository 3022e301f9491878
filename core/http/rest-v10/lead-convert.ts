import type Router from '@koa/router';
import type { CrmServices } from '../../app/services';
import type { Actor } from '../../records/actor';
import { LeadConversion } from '../../records/lead-conversion';
import { readJson } from '../middleware/body';
import { RecordAcl, toV10 } from './format';

/**
 * Sugar 7's LeadConvertApi: POST /Leads/:id/convert with `{modules: {Contacts: {...}, Accounts: {id} | {...},
 * Opportunities: {...}}, transfer_activities?}` answers `{modules: [records]}` (each with `_module`).
 * GET /Leads/:id/convert is Cane's: what a conversion would create (fields copied from the lead) and
 * possible duplicates of each record, for a client's wizard.
 */
export function leadConvertRoutes(router: Router, services: CrmServices): void {
  const { engine, acl } = services;
  const conversion = () => new LeadConversion(engine.context, engine.records);
  const actor = (ctx: { state: unknown }) => (ctx.state as { actor: Actor }).actor;

  router.get('/Leads/:id/convert', async (ctx) => {
    const proposal = await conversion().proposal(actor(ctx), ctx.params.id);
    ctx.body = {
      modules: proposal.modules.map((m) => ({
        module: m.module, required: m.def.required === true, copy_data: m.def.copyData === true, values: m.values,
        duplicates: m.duplicates.map((d) => ({ id: d.id, name: d.name })),
      })),
    };
  });

  router.post('/Leads/:id/convert', async (ctx) => {
    const who = actor(ctx);
    const converted = await conversion().convert(who, ctx.params.id, await readJson(ctx, services.bodyLimit));
    const modules = [];
    for (const { module, record } of converted) {
      const def = engine.registry.module(module);
      modules.push({ ...toV10(def, record, await RecordAcl.for(acl, who, def)), _module: module });
    }
    ctx.body = { modules };
  });
}
