import crypto from 'node:crypto';
import Handlebars from 'handlebars';
import type { Engine } from '../app/engine';
import { CaneError, ConflictError } from '../errors';
import type { Actor } from '../records/actor';
import type { Logger } from '../records/context';
import { formatDateTime, type Clock } from '../records/time';
import type { Filter } from '../query/filter-to-knex';
import type { PluginLimits } from './limits';
import type { LoadedPlugin } from './manifest';
import type { HostCall } from './runner-client';
import type { WorkflowActionOffer } from './workflow-actions';
import { withCause, type Cause } from '../records/cause';

/** One running hook call: whose it is, what it may do, what it has used. */
export interface Invocation {
  plugin: LoadedPlugin;
  hook: string;
  limits: PluginLimits;
  calls: number;
  logBytes: number;
  /** Set for queued work (the job id): mutating calls are remembered under it and not repeated. */
  effectKey?: string;
  effects: number;
  done: boolean;
  /** Host calls that failed for the host's reasons (database errors, concurrency): not the plugin's fault. */
  hostErrors: number;
  /** A dry run: every call that would change something is refused. */
  readOnly?: boolean;
  /** The event being handled: the changes this call makes are caused by it, one level deeper. */
  cause?: Cause;
}

const MUTATING = new Set(['records.create', 'records.update', 'records.link', 'lists.addMembers', 'lists.removeMembers', 'sms.send', 'workflows.runAction']);

class Denied extends Error {}

/**
 * The host side of the one function a plugin can reach. Every call is checked against the
 * manifest's permissions at run time, capped, and recorded in plugin_audit; arguments are
 * untrusted input and checked before use.
 */
/** Sends an SMS for a plugin (the SMS module provides it; the test kit passes a spy). */
export type PluginSmsSender = (message: Record<string, unknown>, plugin: LoadedPlugin) => Promise<unknown>;

export class Bridge {
  readonly invocations = new Map<string, Invocation>();
  smsSender: PluginSmsSender | undefined;
  /** Runs a workflow action another plugin offers (the plugin host provides it). */
  runWorkflowAction: ((offer: WorkflowActionOffer, payload: Record<string, unknown>) => Promise<{ ok: true; value: unknown } | { ok: false; error: string }>) | undefined;

  constructor(private readonly engine: Engine, private readonly log: Logger, private readonly clock: Clock) {}

  actorFor(plugin: LoadedPlugin): Actor {
    return { type: 'system', id: '1', label: `plugin:${plugin.manifest.id}` };
  }

  async handle(call: HostCall): Promise<{ ok: true; result: unknown } | { ok: false; error: string }> {
    const inv = this.invocations.get(call.invokeId);
    if (!inv || inv.done || inv.plugin.key !== call.key) return { ok: false, error: 'this call is not part of a running hook' };
    const started = Date.now();
    const args = (call.args ?? {}) as Record<string, unknown>;
    let target: { module?: string; ids?: string[] } = {};
    try {
      if (call.method !== 'log' && ++inv.calls > inv.limits.hostCalls) throw new Denied(`host call limit of ${inv.limits.hostCalls} reached`);
      if (inv.readOnly && MUTATING.has(call.method)) throw new Denied(`${call.method} is not allowed in a read-only call (a dry run changes nothing)`);
      target = this.targetOf(call.method, args);
      const result = await this.once(inv, call.method, args, () => (inv.cause ? withCause(inv.cause, () => this.dispatch(inv, call.method, args)) : this.dispatch(inv, call.method, args)));
      if (call.method !== 'log') await this.audit(inv, call.method, target, 'ok', null, Date.now() - started);
      return { ok: true, result };
    } catch (err) {
      const denied = err instanceof Denied;
      const hostFault = !denied && (!(err instanceof CaneError) || err instanceof ConflictError);
      const message = denied || !hostFault ? (err as Error).message : err instanceof ConflictError ? `${err.message} (a concurrent change; the call may be retried)` : 'the host call failed (a fault of the host, not of the plugin; the delivery is retried)';
      if (hostFault) {
        inv.hostErrors++;
        this.log.warn({ err, plugin: inv.plugin.key, method: call.method }, 'plugin host call failed for a host reason');
      }
      await this.audit(inv, call.method, target, denied ? 'denied' : 'error', message, Date.now() - started).catch(() => undefined);
      return { ok: false, error: message };
    }
  }

  /** How often each distinct mutating call was made so far in one invocation. */
  private readonly calls = new WeakMap<Invocation, Map<string, number>>();

  /**
   * For an event delivery, a mutating call's result is stored under the delivery id, the call
   * (method and arguments) and how many times that same call came before in this attempt. A
   * redelivery that makes the same call again gets the stored result instead of acting twice;
   * a different call (because a read answered differently) acts.
   */
  private async once(inv: Invocation, method: string, args: unknown, act: () => Promise<unknown>): Promise<unknown> {
    if (!inv.effectKey || !MUTATING.has(method)) return act();
    const call = crypto.createHash('sha256').update(JSON.stringify([method, args])).digest('hex').slice(0, 32);
    const seen = this.calls.get(inv) ?? new Map<string, number>();
    this.calls.set(inv, seen);
    const occurrence = (seen.get(call) ?? 0) + 1;
    seen.set(call, occurrence);
    const key = `${inv.effectKey}:${call}:${occurrence}`;
    const knex = this.engine.db.knex;
    const previous = await knex('cane_plugin_effects').where('id', key).first();
    if (previous) return JSON.parse(previous.result ?? 'null');
    const result = await act();
    await knex('cane_plugin_effects').insert({ id: key, result: JSON.stringify(result ?? null), date_entered: formatDateTime(this.clock()) });
    return result;
  }

  private targetOf(method: string, args: Record<string, unknown>) {
    const module = typeof args.module === 'string' ? args.module : method.startsWith('lists.') ? 'ProspectLists' : undefined;
    const ids = typeof args.id === 'string' ? [args.id] : typeof args.listId === 'string' ? [args.listId] : undefined;
    return { module, ids };
  }

  private require(inv: Invocation, permission: string) {
    // read:* / write:* stand for every module (the built-in workflow engine acts on any module).
    const any = permission.replace(/^(read|write):[A-Za-z]\w*$/, '$1:*');
    if (!inv.plugin.permissions.has(permission) && !inv.plugin.permissions.has(any)) throw new Denied(`permission '${permission}' is not in the manifest of ${inv.plugin.manifest.id}`);
  }

  /** write:<Module>, or write:<Module>#<field> for every field written (before_save patches too). */
  requireWrite(plugin: LoadedPlugin, module: string, fields: string[]) {
    const def = this.engine.registry.modules.get(module);
    const sensitive = def ? fields.find((f) => Object.hasOwn(def.fields, f) && def.fields[f].sensitive) : undefined;
    if (sensitive) throw new Denied(`${module}.${sensitive} is sensitive: no plugin may write it, whatever its permissions`);
    if (plugin.permissions.has(`write:${module}`) || plugin.permissions.has('write:*')) return;
    const missing = fields.filter((f) => !plugin.permissions.has(`write:${module}#${f}`));
    if (missing.length || !fields.length) throw new Denied(`permission 'write:${module}' (or write:${module}#${missing[0] ?? '<field>'}) is not in the manifest of ${plugin.manifest.id}`);
  }

  private module(args: Record<string, unknown>): string {
    const module = args.module;
    if (typeof module !== 'string' || !this.engine.registry.modules.has(module)) throw new Denied(`unknown module '${String(module)}'`);
    return module;
  }

  private object(value: unknown, what: string): Record<string, unknown> {
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Denied(`${what} must be an object`);
    return value as Record<string, unknown>;
  }

  private string(value: unknown, what: string): string {
    if (typeof value !== 'string' || !value || value.length > 200) throw new Denied(`${what} must be a non-empty string`);
    return value;
  }

  private async dispatch(inv: Invocation, method: string, args: Record<string, unknown>): Promise<unknown> {
    const records = this.engine.records;
    const actor = this.actorFor(inv.plugin);
    switch (method) {
      case 'records.find': {
        const module = this.module(args);
        this.require(inv, `read:${module}`);
        const options = (args.options ?? {}) as { filter?: Filter; fields?: string[]; maxNum?: number; offset?: number; orderBy?: Array<{ field: string; direction: 'asc' | 'desc' }> };
        const orderBy = Array.isArray(options.orderBy) ? options.orderBy.map((o) => ({ field: String(o?.field), direction: o?.direction === 'desc' ? 'desc' as const : 'asc' as const })) : undefined;
        const page = await records.list(actor, module, { filter: options.filter, fields: options.fields, maxNum: Math.min(Number(options.maxNum ?? 20), 200), offset: options.offset, orderBy });
        return page.records;
      }
      case 'records.get': {
        const module = this.module(args);
        this.require(inv, `read:${module}`);
        return records.retrieve(actor, module, this.string(args.id, 'id'));
      }
      case 'records.create': {
        const module = this.module(args);
        const data = this.object(args.data, 'data');
        this.requireWrite(inv.plugin, module, Object.keys(data));
        return records.create(actor, module, data);
      }
      case 'records.update': {
        const module = this.module(args);
        const data = this.object(args.data, 'data');
        this.requireWrite(inv.plugin, module, Object.keys(data));
        return records.update(actor, module, this.string(args.id, 'id'), data);
      }
      case 'records.link': {
        const module = this.module(args);
        this.require(inv, `write:${module}`);
        await records.link(actor, module, this.string(args.id, 'id'), this.string(args.link, 'link'), this.string(args.relatedId, 'relatedId'), args.fields ? this.object(args.fields, 'fields') : {});
        return { linked: true };
      }
      case 'records.related': {
        const module = this.module(args);
        this.require(inv, `read:${module}`);
        const linkName = this.string(args.link, 'link');
        const def = this.engine.registry.module(module);
        if (!Object.hasOwn(def.links, linkName)) throw new Denied(`${module} has no link '${linkName}'`);
        this.require(inv, `read:${def.links[linkName].module}`);
        const options = (args.options ?? {}) as { filter?: Filter; fields?: string[]; maxNum?: number; offset?: number };
        const page = await records.listRelated(actor, module, this.string(args.id, 'id'), linkName, { filter: options.filter, fields: options.fields, maxNum: Math.min(Number(options.maxNum ?? 20), 200), offset: options.offset });
        return { module: def.links[linkName].module, records: page.records };
      }
      case 'templates.render': {
        const template = args.template;
        if (typeof template !== 'string' || template.length > inv.limits.payloadBytes) throw new Denied(`template must be a string of at most ${inv.limits.payloadBytes} characters`);
        return Handlebars.compile(template, { strict: false })(args.data ?? {});
      }
      case 'lists.addMembers': {
        const { listId, members } = this.listMembers(inv, args);
        for (const m of members) await records.link(actor, 'ProspectLists', listId, m.link, m.id);
        return { added: members.length };
      }
      case 'lists.removeMembers': {
        const { listId, members } = this.listMembers(inv, args);
        let removed = 0;
        for (const m of members) {
          const current = await records.listRelated(actor, 'ProspectLists', listId, m.link, { filter: [{ id: m.id }], fields: ['id'], maxNum: 1 });
          if (!current.records.length) continue;
          await records.unlink(actor, 'ProspectLists', listId, m.link, m.id);
          removed++;
        }
        return { removed };
      }
      case 'workflows.runAction': {
        this.require(inv, 'workflows:run');
        const name = this.string(args.name, 'name');
        const offer = this.engine.workflowActions.get(name);
        if (!offer || !this.runWorkflowAction) throw new Denied(`no plugin offers the workflow action '${name}'`);
        const problem = this.engine.workflowActions.problem(offer, args.parameters ?? {});
        if (problem) throw new CaneError('invalid_parameter', `${name}: ${problem}`, 422);
        const target = this.object(args.target, 'target');
        const result = await this.runWorkflowAction(offer, { parameters: args.parameters ?? {}, module: target.module, id: target.id, record: target.record ?? null });
        if (!result.ok) throw new CaneError('workflow_action_failed', `${name} (${offer.pluginId}): ${result.error}`, 502);
        return result.value ?? null;
      }
      case 'sms.send':
        this.require(inv, 'send:sms');
        if (!this.smsSender) throw new Denied('SMS sending is not available in this Cane');
        return this.smsSender(this.object(args, 'message'), inv.plugin);
      case 'log': {
        this.require(inv, 'log');
        const message = String((args as { message?: unknown }).message ?? '').slice(0, 2000);
        inv.logBytes += message.length;
        if (inv.logBytes > inv.limits.logBytes) throw new Denied(`log limit of ${inv.limits.logBytes} bytes reached`);
        const level = (args as { level?: string }).level === 'error' ? 'error' : (args as { level?: string }).level === 'warn' ? 'warn' : 'info';
        this.log[level]({ plugin: inv.plugin.key, hook: inv.hook }, message);
        return null;
      }
      default:
        throw new Denied(`unknown host function '${method}'`);
    }
  }

  /** The arguments of lists.addMembers/removeMembers, checked: the list and each member with its membership link. */
  private listMembers(inv: Invocation, args: Record<string, unknown>): { listId: string; members: Array<{ link: string; id: string }> } {
    this.require(inv, 'lists:write');
    const listId = this.string(args.listId, 'listId');
    if (!Array.isArray(args.members) || args.members.length > 1000) throw new Denied('members must be a list of at most 1000 {module, id}');
    const members = (args.members as Array<{ module?: unknown; id?: unknown }>).map((m) => ({ link: this.membershipLink(m?.module), id: this.string(m?.id, 'member id') }));
    return { listId, members };
  }

  /** The target-list link that holds members of a module (the prospect_lists_prospects join). */
  private membershipLink(module: unknown): string {
    const lists = this.engine.registry.module('ProspectLists');
    const link = Object.values(lists.links).find((l) => l.module === module && l.relationship.join_table === 'prospect_lists_prospects');
    if (!link) throw new Denied(`${String(module)} records cannot be target list members`);
    return link.name;
  }

  async audit(inv: Pick<Invocation, 'plugin' | 'hook'>, capability: string, target: { module?: string; ids?: string[] }, outcome: string, message: string | null, durationMs: number): Promise<void> {
    await this.engine.db.knex('plugin_audit').insert({
      id: crypto.randomUUID(), plugin_id: inv.plugin.manifest.id, version: inv.plugin.manifest.version, hook: inv.hook, capability,
      target_module: target.module ?? null, target_ids: target.ids ? JSON.stringify(target.ids) : null, outcome, message, duration_ms: durationMs,
      date_entered: formatDateTime(this.clock()),
    });
  }
}
