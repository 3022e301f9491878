import type Router from '@koa/router';
import type { Context } from 'koa';
import type { CrmServices } from '../../app/services';
import type { ModuleDef } from '../../metadata/registry';
import type { FieldDef } from '../../metadata/types';
import type { Actor } from '../../records/actor';
import { ACL } from '../../security/acl';
import type { ModuleAction } from '../../records/context';
import { resourceOf } from './document';
import { badRequest } from './errors';
import { requireModule } from './module-names';
import { moduleLabel } from './relationships';
import { bearerToken } from './auth';

const ACTIONS: ModuleAction[] = ['access', 'view', 'list', 'edit', 'delete', 'import', 'export', 'massupdate'];
/** The vardef keys /meta/fields answers, as SuiteCRM's MetaService prunes them. */
const FIELD_KEYS = ['type', 'dbType', 'source', 'relationship', 'default', 'len', 'precision', 'comments', 'required'];

const actorOf = (ctx: Context) => ctx.state.actor as Actor;
const isAdmin = (actor: Actor) => actor.type === 'system' || Boolean(actor.isAdmin);

/** The actions the user holds at "enabled" or above (owner-only rights do not count, as in SuiteCRM); admins hold all. */
async function grantedActions(services: CrmServices, actor: Actor, module: ModuleDef): Promise<string[]> {
  if (isAdmin(actor)) return [...ACTIONS];
  const granted: string[] = [];
  for (const action of ACTIONS) if ((await services.acl.level(actor, module, action)) >= ACL.ENABLED) granted.push(action);
  return granted;
}

async function hasAccess(services: CrmServices, actor: Actor, module: ModuleDef): Promise<boolean> {
  return isAdmin(actor) || (await services.acl.level(actor, module, 'access')) > 0;
}

function prunedField(field: FieldDef): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of FIELD_KEYS) if (field[key] !== undefined) out[key] = field[key];
  out.required ??= false;
  out.dbType ??= field.type;
  return out;
}

/** /meta/modules, /meta/fields/{Module}, /current-user and /logout. */
export function metaRoutes(router: Router, services: CrmServices): void {
  const registry = services.engine.registry;

  router.get('/meta/modules', async (ctx) => {
    const modules: Record<string, unknown> = {};
    for (const module of registry.modules.values()) {
      if (!(await hasAccess(services, actorOf(ctx), module))) continue;
      const access = await grantedActions(services, actorOf(ctx), module);
      if (access.length) modules[module.name] = { label: moduleLabel(registry, module), access };
    }
    // SuiteCRM's data object has an empty id, which its serializer leaves out.
    ctx.body = { data: { type: 'modules', attributes: modules } };
  });

  router.get('/meta/fields/:module', async (ctx) => {
    const module = requireModule(registry, ctx.params.module);
    if (!(await hasAccess(services, actorOf(ctx), module))) throw badRequest('The API user does not have access to this module.');
    const fields = Object.fromEntries(Object.entries(module.fields).map(([name, field]) => [name, prunedField(field)]));
    ctx.body = { data: { type: 'fields', attributes: fields } };
  });

  router.get('/current-user', async (ctx) => {
    const users = registry.module('Users');
    const user = await services.engine.records.retrieve(actorOf(ctx), 'Users', ctx.state.user.id);
    ctx.body = { data: resourceOf(registry, users, user, { selfPath: 'V8/current-user' }) };
  });

  router.post('/logout', async (ctx) => {
    await services.tokens.revoke(bearerToken(ctx)!);
    ctx.body = { meta: { message: 'You have been successfully logged out' }, data: [] };
  });
}
