import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Engine } from '../app/engine';
import { CaneError, HookVeto } from '../errors';
import type { Bean } from '../hooks/types';
import { isStored } from '../metadata/field-types';
import type { Logger, OutboxEvent } from '../records/context';
import { formatDateTime, type Clock } from '../records/time';
import { SYSTEM_FIELDS } from '../records/validate';
import { Bridge, type Invocation } from './bridge';
import { effectiveLimits, limitKind, type PluginLimits } from './limits';
import schedule from 'node-schedule';
import Ajv from 'ajv';
import { deterministicId } from '../jobs/schedulers';
import { discoverPlugins, publicSettings, type HookDecl, type LoadedPlugin, type RefusedPlugin } from './manifest';
import { RunnerClient, type Outcome } from './runner-client';

export interface PluginHostOptions {
  dirs: Array<{ dir: string; builtIn: boolean }>;
  /** Per plugin id: settings values (secret ones stay on the host). */
  settings?: Record<string, Record<string, unknown>>;
  /** Installation ceiling applied on top of the defaults per hook kind. */
  limits?: Partial<PluginLimits>;
  /** A hook is switched off after this many faults in a row (default 5). */
  maxConsecutiveFaults?: number;
}

export const PLUGIN_JOB = 'plugin.hook';

/** How stale the enabled/disabled state may be in one process (switching off in another process takes effect within this). */
const STATE_TTL_MS = 2000;

export interface ActiveHook {
  plugin: LoadedPlugin;
  decl: HookDecl;
  name: string;
  /** Scheduled handlers: the manifest's cron expression. */
  cron?: string;
}

/**
 * Loads sandboxed plugins, wires their hooks into the save pipeline and the job queue, and keeps
 * their fault counts. before_save hooks run before the transaction and return a patch or a veto;
 * after_* hooks are written to job_queue inside the save's transaction and run after commit.
 */
export class PluginHost {
  readonly loaded: LoadedPlugin[] = [];
  readonly refused: RefusedPlugin[] = [];
  readonly runner: RunnerClient;
  readonly bridge: Bridge;
  private readonly hooks: ActiveHook[] = [];
  /** A hook is switched off after this many faults in a row. */
  maxFaults: number;

  constructor(private readonly engine: Engine, private readonly options: PluginHostOptions, private readonly log: Logger, private readonly clock: Clock) {
    this.bridge = new Bridge(engine, log, clock);
    this.runner = new RunnerClient((call) => this.bridge.handle(call), log);
    this.maxFaults = options.maxConsecutiveFaults ?? 5;
  }

  async start(): Promise<void> {
    const { loaded, refused } = discoverPlugins(this.options.dirs, this.engine.registry);
    this.refused.push(...refused);
    for (const plugin of loaded) {
      if (!(await this.isEnabled(plugin.manifest.id, '*'))) {
        this.refused.push({ dir: plugin.dir, id: plugin.manifest.id, problem: 'disabled' });
        continue;
      }
      const settingsProblem = checkSettings(plugin, this.options.settings?.[plugin.manifest.id] ?? {});
      if (settingsProblem) {
        this.refused.push({ dir: plugin.dir, id: plugin.manifest.id, problem: settingsProblem });
        continue;
      }
      const memory = effectiveLimits('after', this.options.limits, plugin.manifest.limits).memoryMb;
      const result = await this.runner.load(plugin.key, plugin.code, memory);
      if (!result.ok) {
        this.refused.push({ dir: plugin.dir, id: plugin.manifest.id, problem: `the entry file does not run: ${result.error}` });
        continue;
      }
      this.loaded.push(plugin);
      for (const decl of plugin.manifest.hooks ?? []) this.hooks.push({ plugin, decl, name: `${decl.module}.${decl.event}.${decl.handler}` });
      for (const sched of plugin.manifest.schedules ?? []) {
        this.hooks.push({ plugin, decl: { module: '*', event: 'schedule', handler: sched.handler }, name: `schedule.${sched.handler}`, cron: sched.cron });
      }
    }
    for (const r of this.refused) if (r.problem !== 'disabled') this.log.error({ plugin: r.id ?? r.dir }, `plugin refused: ${r.problem}`);
    this.hooks.sort((a, b) => (a.decl.priority ?? 100) - (b.decl.priority ?? 100));
    this.wire();
  }

  private matching(module: string, event: string): ActiveHook[] {
    return this.hooks.filter((h) => h.decl.event === event && (h.decl.module === module || h.decl.module === '*'));
  }

  private wire() {
    // One application-level hook: it picks the plugin hooks of the bean's module, after in-process hooks.
    if (this.hooks.some((h) => h.decl.event === 'before_save')) {
      this.engine.hooks.register('*', { event: 'before_save', order: 10_000, label: 'sandboxed plugins', handler: (bean, _e, args) => this.beforeSave(bean, args) });
    }
    this.engine.context.outbox.push((trx, event) => this.enqueueAfter(trx, event));
    this.engine.jobs.register(PLUGIN_JOB, async (job) => {
      const data = job.data as { plugin: string; hook: string; payload: unknown };
      const hook = this.hooks.find((h) => h.plugin.manifest.id === data.plugin && h.name === data.hook);
      if (!hook) return { message: `plugin hook ${data.plugin} ${data.hook} is no longer loaded; skipped` };
      if (!(await this.isEnabled(hook.plugin.manifest.id, hook.name))) return { message: 'hook disabled; skipped' };
      const outcome = await this.invoke(hook, data.payload, job.id);
      if (outcome.outcome === 'fault') throw new Error(outcome.error);
      return { message: outcome.outcome === 'veto' ? `vetoed: ${outcome.veto.message}` : 'done' };
    });
  }

  /** A loaded hook by plugin id and hook name ('<module>.<event>.<handler>'). */
  hook(pluginId: string, name: string): ActiveHook | undefined {
    return this.hooks.find((h) => h.plugin.manifest.id === pluginId && h.name === name);
  }

  /** Runs one hook in the sandbox and keeps its fault count. */
  async invoke(hook: ActiveHook, payload: unknown, effectKey?: string): Promise<Outcome> {
    const { plugin, decl } = hook;
    const limits = effectiveLimits(limitKind(decl.event), this.options.limits, plugin.manifest.limits, decl.limits);
    const eventJson = JSON.stringify(payload);
    if (eventJson.length > limits.payloadBytes) return this.fault(hook, `event of ${eventJson.length} bytes exceeds the ${limits.payloadBytes}-byte limit`);
    const settings = JSON.stringify(publicSettings(plugin.manifest, this.options.settings?.[plugin.manifest.id] ?? {}));
    const id = crypto.randomUUID();
    const inv: Invocation = { plugin, hook: hook.name, limits, calls: 0, logBytes: 0, effectKey, effects: 0, done: false };
    this.bridge.invocations.set(id, inv);
    let outcome: Outcome;
    try {
      outcome = await this.runner.invoke(id, plugin.key, decl.handler, eventJson, settings, this.clock().getTime(), limits);
    } finally {
      inv.done = true;
      this.bridge.invocations.delete(id);
    }
    if (outcome.outcome === 'fault') return this.fault(hook, outcome.error);
    await this.resetFaults(plugin.manifest.id, hook.name);
    return outcome;
  }

  private async fault(hook: ActiveHook, error: string): Promise<Outcome> {
    const { plugin } = hook;
    await this.bridge.audit({ plugin, hook: hook.name }, 'fault', {}, 'fault', error, 0).catch(() => undefined);
    const state = await this.recordFault(plugin.manifest.id, hook.name, error);
    this.log.warn({ plugin: plugin.key, hook: hook.name, faults: state.consecutive }, `plugin fault: ${error}${state.disabled ? ' (hook switched off)' : ''}`);
    return { outcome: 'fault', error };
  }

  private async beforeSave(bean: Bean, args: { isUpdate: boolean; submitted: string[] }): Promise<void> {
    const module = bean.module_dir;
    const def = this.engine.registry.module(module);
    for (const hook of this.matching(module, 'before_save')) {
      if (!(await this.isEnabled(hook.plugin.manifest.id, hook.name))) continue;
      const payload = { module, event: 'before_save', isUpdate: args.isUpdate, submitted: args.submitted, record: { ...bean }, before: bean.fetched_row };
      const outcome = await this.invoke(hook, payload);
      if (outcome.outcome === 'veto') throw new HookVeto(String(outcome.veto.message).slice(0, 500), outcome.veto.field && def.fields[outcome.veto.field] ? outcome.veto.field : undefined);
      if (outcome.outcome === 'fault') {
        if (hook.decl.onError === 'block') throw new CaneError('plugin_unavailable', `The plugin ${hook.plugin.manifest.name} is unavailable, so this change cannot be saved now: ${outcome.error}`, 503, { plugin: hook.plugin.manifest.id });
        continue;
      }
      const patch = patchOf(outcome.value);
      if (!patch) {
        await this.fault(hook, 'before_save must return nothing or { patch: { field: value } }');
        if (hook.decl.onError === 'block') throw new CaneError('plugin_unavailable', `The plugin ${hook.plugin.manifest.name} returned an invalid result`, 503);
        continue;
      }
      const unknown = Object.keys(patch).filter((f) => !def.fields[f] || !isStored(def.fields[f]) || SYSTEM_FIELDS.has(f));
      if (unknown.length) {
        await this.fault(hook, `patch names fields that cannot be set: ${unknown.join(', ')}`);
        continue;
      }
      if (!Object.keys(patch).length) continue;
      try {
        this.bridge.requireWrite(hook.plugin, module, Object.keys(patch));
      } catch (err) {
        await this.fault(hook, (err as Error).message);
        if (hook.decl.onError === 'block') throw new CaneError('plugin_unavailable', (err as Error).message, 503);
        continue;
      }
      Object.assign(bean, patch);
    }
  }

  /** Writes one job per after_* plugin hook, in the save's own transaction, with an id that makes it unique. */
  private async enqueueAfter(trx: Knex, event: OutboxEvent): Promise<void> {
    for (const hook of this.matching(event.module, event.event)) {
      const payload = { ...event };
      // Written in the change's own transaction, so it is queued exactly once; the id then keys the job's effects.
      const id = crypto.randomUUID();
      await this.engine.jobs.enqueue({ id, target: PLUGIN_JOB, name: `${hook.plugin.manifest.id} ${hook.name}`, data: { plugin: hook.plugin.manifest.id, hook: hook.name, payload }, retries: 3, delaySeconds: 30 }, trx);
    }
  }

  // ---------------------------------------------------------------- state (enabled, faults)

  /** Plugin state rows, re-read at most every STATE_TTL_MS so a save does not query them per hook. */
  private stateCache: { at: number; rows: Map<string, Record<string, unknown>> } | undefined;

  private async states(): Promise<Map<string, Record<string, unknown>>> {
    if (this.stateCache && Date.now() - this.stateCache.at < STATE_TTL_MS) return this.stateCache.rows;
    const rows = await this.engine.db.knex('cane_plugin_state').select('*');
    this.stateCache = { at: Date.now(), rows: new Map(rows.map((r: { plugin_id: string; hook: string }) => [`${r.plugin_id}|${r.hook}`, r])) };
    return this.stateCache.rows;
  }

  private async stateRow(pluginId: string, hook: string) {
    return (await this.states()).get(`${pluginId}|${hook}`);
  }

  async isEnabled(pluginId: string, hook: string): Promise<boolean> {
    const plugin = await this.stateRow(pluginId, '*');
    if (plugin && Number(plugin.enabled) === 0) return false;
    if (hook === '*') return true;
    const row = await this.stateRow(pluginId, hook);
    return !row || Number(row.enabled) !== 0;
  }

  async setEnabled(pluginId: string, hook: string, enabled: boolean): Promise<void> {
    await this.upsertState(pluginId, hook, { enabled: enabled ? 1 : 0, ...(enabled ? { consecutive_faults: 0 } : {}) });
  }

  private async upsertState(pluginId: string, hook: string, values: Record<string, unknown>) {
    this.stateCache = undefined;
    const knex = this.engine.db.knex;
    const now = formatDateTime(this.clock());
    const updated = await knex('cane_plugin_state').where({ plugin_id: pluginId, hook }).update({ ...values, date_modified: now });
    if (!updated) {
      try {
        await knex('cane_plugin_state').insert({ id: crypto.randomUUID(), plugin_id: pluginId, hook, enabled: 1, consecutive_faults: 0, total_faults: 0, ...values, date_modified: now });
      } catch (err) {
        if (!this.engine.db.dialect.isDuplicateKey(err)) throw err;
        await knex('cane_plugin_state').where({ plugin_id: pluginId, hook }).update({ ...values, date_modified: now });
      }
    }
  }

  private async recordFault(pluginId: string, hook: string, error: string): Promise<{ consecutive: number; disabled: boolean }> {
    const row = await this.engine.db.knex('cane_plugin_state').where({ plugin_id: pluginId, hook }).first();
    const consecutive = Number(row?.consecutive_faults ?? 0) + 1;
    const disabled = consecutive >= this.maxFaults;
    await this.upsertState(pluginId, hook, {
      consecutive_faults: consecutive, total_faults: Number(row?.total_faults ?? 0) + 1, last_error: error.slice(0, 2000), ...(disabled ? { enabled: 0 } : {}),
    });
    return { consecutive, disabled };
  }

  private async resetFaults(pluginId: string, hook: string) {
    const row = await this.stateRow(pluginId, hook);
    if (row && Number(row.consecutive_faults) > 0) await this.upsertState(pluginId, hook, { consecutive_faults: 0 });
  }

  /** Plugins with permissions, state and fault counts, for `cane plugin list` and admins. */
  async describe() {
    const states = await this.engine.db.knex('cane_plugin_state').select('*');
    return {
      loaded: this.loaded.map((p) => ({
        id: p.manifest.id, name: p.manifest.name, version: p.manifest.version, builtIn: p.builtIn, permissions: [...p.permissions],
        hooks: (p.manifest.hooks ?? []).map((h) => {
          const name = `${h.module}.${h.event}.${h.handler}`;
          const s = states.find((r: { plugin_id: string; hook: string }) => r.plugin_id === p.manifest.id && r.hook === name);
          return { name, enabled: !s || Number(s.enabled) !== 0, faults: Number(s?.total_faults ?? 0), lastError: s?.last_error ?? null };
        }),
      })),
      refused: this.refused,
    };
  }

  private readonly timers: schedule.Job[] = [];

  /**
   * Arms the manifests' schedules. A firing only queues a job whose id is derived from the plugin,
   * handler and minute, so several Cane processes queue it once.
   */
  startSchedules(): number {
    for (const hook of this.hooks.filter((h) => h.cron)) {
      const timer = schedule.scheduleJob(hook.cron!, (fireDate: Date) => {
        void this.fireSchedule(hook, fireDate).catch((err) => this.log.error({ err, plugin: hook.plugin.key }, 'plugin schedule could not be queued'));
      });
      if (timer) this.timers.push(timer);
    }
    return this.timers.length;
  }

  async fireSchedule(hook: ActiveHook, fireDate: Date): Promise<string> {
    const minute = formatDateTime(fireDate).slice(0, 16);
    const payload = { module: '*', event: 'schedule', id: '', isUpdate: false, record: { fired_at: formatDateTime(fireDate) }, changes: {} };
    return this.engine.jobs.enqueue({ id: deterministicId(`${hook.plugin.key}|${hook.name}|${minute}`), target: PLUGIN_JOB, name: `${hook.plugin.manifest.id} ${hook.name}`, data: { plugin: hook.plugin.manifest.id, hook: hook.name, payload }, retries: 0 });
  }

  async close(): Promise<void> {
    for (const t of this.timers) t.cancel();
    await this.runner.close();
  }
}

/** Settings values are checked against the manifest's JSON Schema before the plugin loads. */
function checkSettings(plugin: LoadedPlugin, values: Record<string, unknown>): string | undefined {
  const schema = plugin.manifest.settings;
  if (!schema) return undefined;
  try {
    const validate = new Ajv({ allErrors: true, strict: false }).compile({ type: 'object', ...schema });
    if (validate(values)) return undefined;
    const e = validate.errors![0];
    return `settings${e.instancePath ? ` at ${e.instancePath}` : ''}: ${e.message}`;
  } catch (err) {
    return `the settings schema is not valid JSON Schema: ${(err as Error).message}`;
  }
}

function patchOf(value: unknown): Record<string, unknown> | undefined {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.some((k) => k !== 'patch')) return undefined;
  const patch = (value as { patch?: unknown }).patch;
  if (patch === undefined) return {};
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return undefined;
  for (const v of Object.values(patch)) {
    if (v !== null && !['string', 'number', 'boolean'].includes(typeof v) && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) return undefined;
  }
  return patch as Record<string, unknown>;
}
