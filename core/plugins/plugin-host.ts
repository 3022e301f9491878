import crypto from 'node:crypto';
import type { Knex } from 'knex';
import schedule from 'node-schedule';
import type { Engine } from '../app/engine';
import { CaneError, HookVeto } from '../errors';
import type { Bean } from '../hooks/types';
import type { Logger, OutboxEvent } from '../records/context';
import { storedTextDeep } from '../records/stored-text';
import type { Cause } from '../records/cause';
import { formatDateTime, type Clock } from '../records/time';
import { withoutSensitive } from '../records/save';
import type { RecordData } from '../records/read';
import { deterministicId } from '../jobs/schedulers';
import { Bridge, type Invocation } from './bridge';
import { EventDelivery, type Delivery, type DeliveryResult, type DeliveryTarget } from './delivery';
import { effectiveLimits, limitKind, type PluginLimits } from './limits';
import { checkManifest, checkSettings, missingHandler, discoverPlugins, pluginOf, publicSettings, type HookDecl, type LoadedPlugin, type PluginManifest, type RefusedPlugin } from './manifest';
import { PackageStore, sha256, type PackageInfo } from './packages';
import { PluginAdmin } from './plugin-admin';
import { PluginState } from './plugin-state';
import { checkPatch, patchableFields } from './patches';
import { RunnerClient, type BatchCall, type Outcome } from './runner-client';

export interface PluginHostOptions {
  dirs: Array<{ dir: string; builtIn: boolean }>;
  /** Per plugin id: settings values (secret ones stay on the host). */
  settings?: Record<string, Record<string, unknown>>;
  /** Installation ceiling applied on top of the defaults per hook kind. */
  limits?: Partial<PluginLimits>;
  /** A hook is switched off after this many of its own faults in a row (default 5). */
  maxConsecutiveFaults?: number;
  /** Seconds a worker holds a claimed delivery or lane (default 30). */
  leaseSeconds?: number;
  /** Isolates per plugin, so calls in parallel do not share one (default 4). */
  poolSize?: number;
}

/** Where a plugin comes from: the built-in folder, CANE_PLUGINS_DIR, or the database (cane plugin install). */
export type PluginOrigin = 'built-in' | 'folder' | 'installed';

/** How often a watching process reads the plugin generation. */
export const WATCH_INTERVAL_MS = 1000;

/** A plugin that may run here, before its settings are checked and its code loaded. */
interface Candidate {
  manifest: PluginManifest;
  dir: string;
  origin: PluginOrigin;
  sha: string;
  /** File plugins have their code; an installed one's is read from the database when it must be loaded. */
  code?: string;
}

/** Jobs of this name were queued by earlier versions for after-hooks; they are moved to the event deliveries. */
export const LEGACY_PLUGIN_JOB = 'plugin.hook';

export interface ActiveHook {
  plugin: LoadedPlugin;
  decl: HookDecl;
  name: string;
  /** Scheduled handlers: the manifest's cron expression. */
  cron?: string;
}

/** What a host call failing for the host's reasons looks like to the plugin: the delivery is retried, not blamed on it. */
interface RunResult {
  outcome: Outcome;
  hostErrors: number;
}

/**
 * Loads sandboxed plugins and connects them to the save pipeline and the event deliveries.
 * before_save hooks of one save run in one exchange with the runner before the transaction opens
 * and return patches or a veto; after-events are written as deliveries inside the change's
 * transaction and delivered after commit (see delivery.ts).
 */
export class PluginHost implements DeliveryTarget {
  readonly loaded: LoadedPlugin[] = [];
  readonly refused: RefusedPlugin[] = [];
  readonly runner: RunnerClient;
  readonly bridge: Bridge;
  readonly state: PluginState;
  readonly delivery: EventDelivery;
  /** Installs, uninstalls, switches and settings (the CLI and the admin page). */
  readonly admin: PluginAdmin;
  private readonly packages: PackageStore;
  private hooks: ActiveHook[] = [];
  /** A hook is switched off after this many faults in a row. */
  maxFaults: number;
  /** Plugins of the folders as read at start (folders are not watched). */
  private files: { loaded: LoadedPlugin[]; refused: RefusedPlugin[] } = { loaded: [], refused: [] };
  /** What the runner has loaded, by plugin id. */
  private readonly inRunner = new Map<string, { key: string; sha: string; plugin: LoadedPlugin }>();
  /** Code that did not run, by key and digest, so a reload does not try it again. */
  private readonly broken = new Map<string, string>();
  private readonly origins = new Map<string, { origin: PluginOrigin; package?: PackageInfo }>();
  private stored = new Map<string, Record<string, unknown>>();
  private generation = -1;
  private started = false;
  private closed = false;
  private reloading: Promise<void> = Promise.resolve();
  private watchTimer: NodeJS.Timeout | undefined;
  private watching: Promise<unknown> | undefined;
  private schedulesOn = false;

  constructor(private readonly engine: Engine, private readonly options: PluginHostOptions, private readonly log: Logger, private readonly clock: Clock) {
    this.bridge = new Bridge(engine, log, clock);
    this.bridge.runWorkflowAction = async (offer, payload) => {
      if (!(await this.state.isEnabled(offer.pluginId, '*'))) return { ok: false, error: `the plugin ${offer.pluginId} that provides ${offer.name} is switched off` };
      return this.callPlugin(offer.pluginId, offer.handler, payload, { readOnly: false });
    };
    this.runner = new RunnerClient((call) => this.bridge.handle(call), log);
    this.state = new PluginState(engine.db, clock);
    this.delivery = new EventDelivery(engine.db, this, log, clock, { leaseSeconds: options.leaseSeconds });
    this.maxFaults = options.maxConsecutiveFaults ?? 5;
    this.packages = new PackageStore(engine.db, clock);
    this.admin = new PluginAdmin({
      engine, dirs: options.dirs, fileSettings: options.settings, limits: options.limits, packages: this.packages, state: this.state,
      discard: (id) => this.delivery.discard(id), log, clock,
    });
    this.admin.onChange = () => (this.started && !this.closed ? this.refresh() : Promise.resolve());
  }

  async start(): Promise<void> {
    this.files = discoverPlugins(this.options.dirs, this.engine.registry);
    await this.packages.ensureGeneration();
    this.generation = await this.packages.generation();
    await this.reload();
    for (const r of this.refused) this.log.error({ plugin: r.id ?? r.dir }, `plugin refused: ${r.problem}`);
    this.started = true;
    this.wire();
  }

  /**
   * Reads the installed plugins and saved settings again and brings the runner and the hook list in
   * line: new and upgraded plugins are loaded (an upgrade under its new key, then the old key is
   * unloaded), uninstalled ones unloaded. Reloads run one at a time. The engine hook, outbox and job
   * handler stay as wire() registered them: they look the hooks up on every call.
   */
  refresh(): Promise<void> {
    const run = async () => {
      if (this.closed || !this.started) return;
      const generation = await this.packages.generation();
      this.state.forget();
      const before = this.refused.map((r) => `${r.id}: ${r.problem}`);
      await this.reload();
      this.generation = generation;
      for (const r of this.refused) if (!before.includes(`${r.id}: ${r.problem}`)) this.log.error({ plugin: r.id ?? r.dir }, `plugin refused: ${r.problem}`);
    };
    this.reloading = this.reloading.catch(() => undefined).then(run);
    return this.reloading;
  }

  /** Polls the plugin generation (a one-row read) and reloads when another process, or this one, changed plugins. */
  startWatching(pollMs = WATCH_INTERVAL_MS): void {
    if (this.watchTimer || this.closed) return;
    const tick = () => {
      this.watching = this.packages.generation()
        .then((generation) => (generation !== this.generation ? this.refresh() : undefined))
        .catch((err) => this.log.warn({ err }, 'plugin reload failed; trying again'))
        .finally(() => {
          this.watching = undefined;
          if (!this.closed) this.watchTimer = setTimeout(tick, pollMs);
        });
    };
    this.watchTimer = setTimeout(tick, pollMs);
  }

  private async reload(): Promise<void> {
    const [packages, stored] = await Promise.all([this.packages.list(), this.packages.allSettings()]);
    const refused: RefusedPlugin[] = [...this.files.refused];
    const candidates: Candidate[] = this.files.loaded.map((p) => ({ manifest: p.manifest, dir: p.dir, origin: p.builtIn ? 'built-in' : 'folder', sha: sha256(p.code), code: p.code }));
    const origins = new Map<string, { origin: PluginOrigin; package?: PackageInfo }>(candidates.map((c) => [c.manifest.id, { origin: c.origin }]));
    for (const pkg of packages) {
      const dir = `database:${pkg.source}`;
      const fromFolder = candidates.find((c) => c.manifest.id === pkg.pluginId);
      if (fromFolder) {
        refused.push({ dir, id: pkg.pluginId, problem: `the installed plugin is not loaded: a plugin with this id is loaded from ${fromFolder.dir}` });
        continue;
      }
      origins.set(pkg.pluginId, { origin: 'installed', package: pkg });
      const checked = checkManifest(pkg.manifest, this.engine.registry);
      if ('problem' in checked) refused.push({ dir, id: pkg.pluginId, problem: checked.problem });
      else if (checked.id !== pkg.pluginId) refused.push({ dir, id: pkg.pluginId, problem: `the stored manifest is for '${checked.id}'` });
      else candidates.push({ manifest: checked, dir, origin: 'installed', sha: pkg.sha256 });
    }
    this.stored = stored;

    const next: LoadedPlugin[] = [];
    for (const c of candidates) {
      const id = c.manifest.id;
      const settingsProblem = checkSettings(c.manifest, this.settingsOf(id));
      if (settingsProblem) {
        refused.push({ dir: c.dir, id, problem: settingsProblem });
        continue;
      }
      const key = `${id}@${c.manifest.version}`;
      const current = this.inRunner.get(id);
      if (current && current.key === key && current.sha === c.sha) {
        next.push(current.plugin);
        continue;
      }
      const code = c.code ?? (await this.packages.code(id));
      if (code === undefined) continue; // uninstalled while this reload ran; the next one tidies up
      const plugin = pluginOf(c.manifest, code, c.dir, c.origin === 'built-in');
      const problem = await this.loadIntoRunner(plugin, sha256(code));
      if (problem) {
        refused.push({ dir: c.dir, id, problem: current ? `${problem} (version ${current.plugin.manifest.version} keeps running)` : problem });
        if (current) next.push(current.plugin);
        continue;
      }
      // Load before unload: calls keep being served while a new version replaces an old one.
      if (current && current.key !== key) await this.runner.unload(current.key);
      this.inRunner.set(id, { key, sha: sha256(code), plugin });
      next.push(plugin);
    }
    const dropped: string[] = [];
    for (const [id, { key, plugin }] of [...this.inRunner]) {
      if (next.includes(plugin)) continue;
      await this.runner.unload(key);
      this.inRunner.delete(id);
      dropped.push(id);
    }

    this.loaded.splice(0, this.loaded.length, ...next);
    this.refused.splice(0, this.refused.length, ...refused);
    this.origins.clear();
    for (const [id, o] of origins) this.origins.set(id, o);
    const hooks: ActiveHook[] = [];
    for (const plugin of next) {
      for (const decl of plugin.manifest.hooks ?? []) hooks.push({ plugin, decl, name: `${decl.module}.${decl.event}.${decl.handler}` });
      for (const sched of plugin.manifest.schedules ?? []) {
        hooks.push({ plugin, decl: { module: '*', event: 'schedule', handler: sched.handler, delivery: sched.delivery }, name: `schedule.${sched.handler}`, cron: sched.cron });
      }
      // A workflow action is a handler the plugin offers to Cane (run by the workflows plugin through the host).
      for (const action of plugin.manifest.workflowActions ?? []) {
        if (!hooks.some((h) => h.plugin === plugin && h.decl.event === 'call' && h.decl.handler === action.handler)) {
          hooks.push({ plugin, decl: { module: '*', event: 'call', handler: action.handler }, name: `*.call.${action.handler}` });
        }
      }
    }
    this.hooks = hooks.sort((a, b) => (a.decl.priority ?? 100) - (b.decl.priority ?? 100));
    this.engine.workflowActions.replace(next.flatMap((plugin) => (plugin.manifest.workflowActions ?? []).map((a) => ({ ...a, pluginId: plugin.manifest.id }))));
    await this.delivery.ensureLanes(this.orderedPluginIds());
    if (this.schedulesOn) this.armSchedules();
    // This process wrote events for an uninstalled plugin until now: drop them (uninstall dropped the earlier ones).
    for (const id of dropped) {
      if (!origins.has(id) && !(await this.packages.get(id))) await this.delivery.discard(id);
    }
  }

  /** Loads one plugin's code into the runner; answers the problem when it does not run. */
  private async loadIntoRunner(plugin: LoadedPlugin, sha: string): Promise<string | undefined> {
    const known = this.broken.get(`${plugin.key}|${sha}`);
    if (known) return known;
    const memory = effectiveLimits('after', this.options.limits, plugin.manifest.limits).memoryMb;
    const result = await this.runner.load(plugin.key, plugin.code, memory, this.options.poolSize);
    const missing = result.ok ? missingHandler(plugin.manifest, result.handlers) : undefined;
    if (missing) {
      await this.runner.unload(plugin.key);
      this.broken.set(`${plugin.key}|${sha}`, missing);
      return missing;
    }
    if (result.ok) return undefined;
    const problem = `the entry file does not run: ${result.error}`;
    if (!/plugin runner/.test(String(result.error))) this.broken.set(`${plugin.key}|${sha}`, problem);
    return problem;
  }

  /** Whether a reload unloaded the hook's version of its plugin since the hook was looked up. */
  private replaced(hook: ActiveHook): boolean {
    return !this.loaded.includes(hook.plugin);
  }

  /** Built-in, from CANE_PLUGINS_DIR, or installed in the database (with its package). */
  originOf(pluginId: string): { origin: PluginOrigin; package?: PackageInfo } | undefined {
    return this.origins.get(pluginId);
  }

  /** Saved settings (cane plugin settings, the admin page) replace CANE_PLUGIN_SETTINGS for that plugin. */
  settingsOf(pluginId: string): Record<string, unknown> {
    return this.stored.get(pluginId) ?? this.options.settings?.[pluginId] ?? {};
  }

  private matching(module: string, event: string): ActiveHook[] {
    return this.hooks.filter((h) => h.decl.event === event && (h.decl.module === module || h.decl.module === '*'));
  }

  private wire() {
    // One application-level hook: it runs the plugin hooks of the bean's module, after in-process hooks.
    this.engine.hooks.register('*', { event: 'before_save', order: 10_000, label: 'sandboxed plugins', handler: (bean, _e, args) => this.beforeSave(bean, args) });
    this.engine.context.outbox.push((trx, event) => this.enqueueAfter(trx, event));
    this.engine.jobs.register(LEGACY_PLUGIN_JOB, async (job) => {
      const data = job.data as { plugin: string; hook: string; payload: Record<string, unknown> };
      const hook = this.hook(data.plugin, data.hook);
      if (!hook) return { message: `plugin hook ${data.plugin} ${data.hook} is not loaded; dropped` };
      await this.delivery.enqueueOnce(job.id, { pluginId: data.plugin, hook: data.hook, ordered: hook.decl.delivery === 'ordered', payload: data.payload });
      return { message: 'moved to plugin event deliveries' };
    });
  }

  /** A loaded hook by plugin id and hook name ('<module>.<event>.<handler>'). */
  hook(pluginId: string, name: string): ActiveHook | undefined {
    return this.hooks.find((h) => h.plugin.manifest.id === pluginId && h.name === name);
  }

  activePluginIds(): string[] {
    return this.loaded.map((p) => p.manifest.id);
  }

  orderedPluginIds(): string[] {
    return [...new Set(this.hooks.filter((h) => h.decl.delivery === 'ordered').map((h) => h.plugin.manifest.id))];
  }

  // ---------------------------------------------------------------- running hooks

  private limitsOf(hook: ActiveHook): PluginLimits {
    return effectiveLimits(limitKind(hook.decl.event), this.options.limits, hook.plugin.manifest.limits, hook.decl.limits);
  }

  private settingsJson(plugin: LoadedPlugin): string {
    return JSON.stringify(publicSettings(plugin.manifest, this.settingsOf(plugin.manifest.id)));
  }

  private open(hook: ActiveHook, limits: PluginLimits, effectKey?: string, readOnly = false): { id: string; inv: Invocation } {
    const id = crypto.randomUUID();
    const inv: Invocation = { plugin: hook.plugin, hook: hook.name, limits, calls: 0, logBytes: 0, effectKey, effects: 0, done: false, hostErrors: 0, readOnly };
    this.bridge.invocations.set(id, inv);
    return { id, inv };
  }

  private close1(id: string) {
    const inv = this.bridge.invocations.get(id);
    if (inv) inv.done = true;
    this.bridge.invocations.delete(id);
  }

  /** Runs one hook in the sandbox; says how many of its host calls failed for the host's reasons. */
  private async run(hook: ActiveHook, payload: unknown, effectKey?: string, readOnly = false): Promise<RunResult> {
    const limits = this.limitsOf(hook);
    const eventJson = JSON.stringify(storedTextDeep(payload));
    if (eventJson.length > limits.payloadBytes) return { outcome: { outcome: 'fault', error: `event of ${eventJson.length} bytes exceeds the ${limits.payloadBytes}-byte limit` }, hostErrors: 0 };
    const { id, inv } = this.open(hook, limits, effectKey, readOnly);
    inv.cause = causeOfEvent(payload);
    try {
      const outcome = await this.runner.invoke(id, hook.plugin.key, hook.decl.handler, eventJson, this.settingsJson(hook.plugin), this.clock().getTime(), limits);
      return { outcome, hostErrors: inv.hostErrors };
    } finally {
      this.close1(id);
    }
  }

  /** Runs one hook and keeps its fault count (tests and tools call hooks directly with this). */
  async invoke(hook: ActiveHook, payload: unknown, effectKey?: string): Promise<Outcome> {
    const { outcome } = await this.run(hook, payload, effectKey);
    if (outcome.outcome === 'fault') return this.fault(hook, outcome.error);
    await this.state.resetFaults(hook.plugin.manifest.id, hook.name);
    return outcome;
  }

  /**
   * Calls a handler a plugin offers to Cane itself (a hook with event 'call'), such as the workflow
   * builder's "test on a record". Read-only by default: every host call that would change
   * something is refused. A fault is the plugin's and counted like any other.
   */
  async callPlugin(pluginId: string, handler: string, payload: unknown, options: { readOnly?: boolean } = {}): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
    const hook = this.hooks.find((h) => h.plugin.manifest.id === pluginId && h.decl.event === 'call' && h.decl.handler === handler);
    if (!hook) return { ok: false, error: `${pluginId} is not loaded or offers no call named '${handler}'` };
    if (!(await this.state.isEnabled(pluginId, hook.name))) return { ok: false, error: `${pluginId} is switched off` };
    const { outcome } = await this.run(hook, { module: hook.decl.module, event: 'call', call: handler, ...((payload && typeof payload === 'object') ? payload : { value: payload }) }, undefined, options.readOnly !== false);
    if (outcome.outcome === 'fault') {
      await this.fault(hook, outcome.error);
      return { ok: false, error: outcome.error };
    }
    if (outcome.outcome === 'veto') return { ok: false, error: outcome.veto.message };
    return { ok: true, value: outcome.value };
  }

  /** Records one of the plugin's own faults: in plugin_audit, and toward switching the hook off. */
  private async fault(hook: ActiveHook, error: string): Promise<Outcome> {
    const { plugin } = hook;
    await this.bridge.audit({ plugin, hook: hook.name }, 'fault', {}, 'fault', error, 0).catch(() => undefined);
    // A fail-closed hook stays on: switching it off would let every save through unchecked.
    const failClosed = hook.decl.onError === 'block' && limitKind(hook.decl.event) === 'before';
    const state = await this.state.recordFault(plugin.manifest.id, hook.name, error, failClosed ? Number.MAX_SAFE_INTEGER : this.maxFaults);
    this.log.warn({ plugin: plugin.key, hook: hook.name, faults: state.consecutive }, `plugin fault: ${error}${state.disabled ? ' (hook switched off)' : ''}`);
    return { outcome: 'fault', error };
  }

  // ---------------------------------------------------------------- before_save: one exchange per save

  private async beforeSave(bean: Bean, args: { isUpdate: boolean; submitted: string[] }): Promise<void> {
    const module = this.engine.registry.module(bean.module_dir);
    const hooks: ActiveHook[] = [];
    for (const hook of this.matching(module.name, 'before_save')) if (await this.state.isEnabled(hook.plugin.manifest.id, hook.name)) hooks.push(hook);
    if (!hooks.length) return;
    const event = storedTextDeep({
      module: module.name, event: 'before_save', isUpdate: args.isUpdate, submitted: args.submitted,
      record: withoutSensitive(module, { ...bean } as unknown as RecordData), before: bean.fetched_row ? withoutSensitive(module, { ...bean.fetched_row } as unknown as RecordData) : null,
    });
    const eventJson = JSON.stringify(event);
    const calls: BatchCall[] = [];
    const byInvocation = new Map<string, ActiveHook>();
    for (const hook of hooks) {
      const limits = this.limitsOf(hook);
      if (eventJson.length > limits.payloadBytes) {
        await this.fault(hook, `event of ${eventJson.length} bytes exceeds the ${limits.payloadBytes}-byte limit`);
        if (hook.decl.onError === 'block') throw unavailable(hook, `the record is too large for it (${eventJson.length} bytes)`);
        continue;
      }
      const { id } = this.open(hook, limits);
      byInvocation.set(id, hook);
      calls.push({ invokeId: id, key: hook.plugin.key, handler: hook.decl.handler, settings: this.settingsJson(hook.plugin), now: this.clock().getTime(), limits, allowed: patchableFields(hook.plugin, module), stopOnFault: hook.decl.onError === 'block' });
    }
    if (!calls.length) return;
    let results: Awaited<ReturnType<RunnerClient['invokeBatch']>>;
    try {
      results = await this.runner.invokeBatch(eventJson, calls);
    } finally {
      for (const id of byInvocation.keys()) this.close1(id);
    }
    // The runner applied the same patches in the same order; here they are checked, recorded and applied to the bean.
    for (const result of results) {
      const hook = byInvocation.get(result.invokeId)!;
      if (result.outcome === 'veto') throw new HookVeto(String(result.veto.message).slice(0, 500), result.veto.field && module.fields[result.veto.field] ? result.veto.field : undefined);
      if (result.outcome === 'fault') {
        // Upgraded or uninstalled while this save waited for it: not the plugin's fault, but a
        // fail-closed hook still fails the save (the next save runs what is loaded now).
        if (this.replaced(hook)) {
          if (hook.decl.onError === 'block') throw unavailable(hook, `it was being replaced: ${result.error}`);
          continue;
        }
        await this.fault(hook, result.error);
        if (hook.decl.onError === 'block') throw unavailable(hook, result.error);
        continue;
      }
      const problem = checkPatch(module, result.value, (fields) => this.bridge.requireWrite(hook.plugin, module.name, fields));
      if (typeof problem === 'string') {
        await this.fault(hook, problem);
        if (hook.decl.onError === 'block') throw unavailable(hook, problem);
        continue;
      }
      await this.state.resetFaults(hook.plugin.manifest.id, hook.name);
      Object.assign(bean, problem);
    }
  }

  // ---------------------------------------------------------------- after-events: deliveries

  /** Writes one delivery per subscribed after-hook, in the change's own transaction (switched-off hooks keep receiving them). */
  private async enqueueAfter(trx: Knex, event: OutboxEvent): Promise<void> {
    const hooks = this.matching(event.module, event.event);
    if (!hooks.length) return;
    const payload = storedTextDeep({ ...event }) as unknown as Record<string, unknown>;
    await this.delivery.enqueue(trx, crypto.randomUUID(), hooks.map((h) => ({ pluginId: h.plugin.manifest.id, hook: h.name, ordered: h.decl.delivery === 'ordered', payload })));
  }

  /**
   * One delivery attempt. A fault is the plugin's when its code failed on its own (exception,
   * limit, denied capability, bad arguments); it is the host's when a host call failed for reasons
   * of the host (lock wait, deadlock, a duplicate key from concurrency, a lost connection) or the
   * runner stopped under it. Only the plugin's faults count toward switching it off.
   */
  async deliver(d: Delivery): Promise<DeliveryResult> {
    const hook = this.hook(d.pluginId, d.hook);
    if (!hook) {
      const plugin = this.loaded.find((p) => p.manifest.id === d.pluginId);
      if (!plugin) return { status: 'paused', reason: `${d.pluginId} is not loaded in this process` };
      // The loaded version no longer has this hook: its events have nobody to go to, and must not hold the lane.
      await this.bridge.audit({ plugin, hook: d.hook }, 'delivery', {}, 'dropped', `event ${d.eventId} dropped: ${plugin.key} has no hook ${d.hook}`, 0).catch(() => undefined);
      return { status: 'delivered' };
    }
    if (!(await this.state.isEnabled(d.pluginId, d.hook))) return { status: 'paused', reason: 'switched off' };
    const { outcome: answer, hostErrors } = await this.run(hook, d.payload, d.id);
    // A veto means nothing after the commit: it is a mistake of the plugin, not a delivery.
    const outcome: Outcome = answer.outcome === 'veto' ? { outcome: 'fault', error: `${hook.decl.event === 'schedule' ? 'Veto is not possible in a scheduled handler (there is no change to stop)' : `Veto is not possible in ${hook.decl.event} (the change is already committed)`}: ${answer.veto.message}` } : answer;
    if (outcome.outcome !== 'fault') {
      // A host call that failed for the host's reasons may have left the effect undone even if the plugin went on.
      if (hostErrors > 0) return this.hostFault(hook, d, `${hostErrors} host call(s) failed; delivered again`);
      await this.state.resetFaults(d.pluginId, d.hook);
      return { status: 'delivered' };
    }
    const runnerStopped = /the plugin runner (stopped|did not answer)/.test(outcome.error);
    // A runner that keeps stopping on the same event is the plugin's doing, not bad luck.
    if (hostErrors > 0 || (runnerStopped && d.attempts < 3) || this.replaced(hook)) return this.hostFault(hook, d, outcome.error);
    await this.fault(hook, outcome.error);
    return { status: 'failed', blame: 'plugin', error: outcome.error };
  }

  private async hostFault(hook: ActiveHook, d: Delivery, error: string): Promise<DeliveryResult> {
    await this.bridge.audit({ plugin: hook.plugin, hook: hook.name }, 'delivery', {}, 'retry', `host fault (not counted against the plugin): ${error}`, 0).catch(() => undefined);
    this.log.warn({ plugin: hook.plugin.key, hook: hook.name, delivery: d.id, attempts: d.attempts }, `plugin delivery will be retried after a host fault: ${error}`);
    return { status: 'failed', blame: 'host', error };
  }

  /** Delivers events in the background until close(), and follows plugin changes (startWatching). */
  startDelivery(pollMs?: number, concurrency?: number): void {
    this.delivery.start(pollMs, concurrency);
    this.startWatching();
  }

  /** Delivers everything due now, in this process (tests, tools). */
  drain(): Promise<number> {
    return this.delivery.drain();
  }

  // ---------------------------------------------------------------- state

  isEnabled(pluginId: string, hook: string): Promise<boolean> {
    return this.state.isEnabled(pluginId, hook);
  }

  /** Switches a plugin ('*') or hook on or off; the generation moves with it, so other processes see it at their next poll. */
  async setEnabled(pluginId: string, hook: string, enabled: boolean): Promise<void> {
    await this.packages.change((trx) => this.state.setEnabled(pluginId, hook, enabled, trx));
    this.state.forget();
  }

  /** Plugins with permissions, state, fault counts and undelivered events, for `cane plugin list` and admins. */
  async describe() {
    const states = await this.state.all();
    const backlog = await this.delivery.backlog();
    const stateOf = (id: string, hook: string) => states.find((r) => r.plugin_id === id && r.hook === hook);
    return {
      loaded: this.loaded.map((p) => ({
        id: p.manifest.id, name: p.manifest.name, version: p.manifest.version, builtIn: p.builtIn, permissions: [...p.permissions],
        origin: this.origins.get(p.manifest.id)?.origin ?? (p.builtIn ? 'built-in' : 'folder'), source: this.origins.get(p.manifest.id)?.package?.source ?? p.dir,
        enabled: !stateOf(p.manifest.id, '*') || Number(stateOf(p.manifest.id, '*')!.enabled) !== 0,
        backlog: backlog.get(p.manifest.id) ?? { pending: 0, retrying: 0, oldest: null, lastError: null },
        hooks: this.hooks.filter((h) => h.plugin === p).map((h) => {
          const s = stateOf(p.manifest.id, h.name);
          return { name: h.name, delivery: h.decl.delivery ?? (limitKind(h.decl.event) === 'before' ? 'inline' : 'unordered'), enabled: !s || Number(s.enabled) !== 0, faults: Number(s?.total_faults ?? 0), consecutiveFaults: Number(s?.consecutive_faults ?? 0), lastError: (s?.last_error as string | undefined) ?? null };
        }),
      })),
      refused: this.refused,
    };
  }

  // ---------------------------------------------------------------- schedules

  private readonly timers: schedule.Job[] = [];

  /**
   * Arms the manifests' schedules (again after every reload) and follows plugin changes. A firing
   * only writes a delivery whose event id is derived from the plugin, handler and minute, so
   * several Cane processes write it once.
   */
  startSchedules(): number {
    this.schedulesOn = true;
    this.startWatching();
    return this.armSchedules();
  }

  private armSchedules(): number {
    for (const t of this.timers.splice(0)) t.cancel();
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
    const eventId = deterministicId(`${hook.plugin.manifest.id}|${hook.name}|${minute}`);
    const payload = { module: '*', event: 'schedule', id: '', isUpdate: false, record: { fired_at: formatDateTime(fireDate) }, changes: {} };
    await this.delivery.enqueueOnce(eventId, { pluginId: hook.plugin.manifest.id, hook: hook.name, ordered: hook.decl.delivery === 'ordered', payload });
    return eventId;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.watchTimer) clearTimeout(this.watchTimer);
    this.watchTimer = undefined;
    await this.watching;
    await this.reloading.catch(() => undefined);
    for (const t of this.timers) t.cancel();
    await this.delivery.stop();
    await this.runner.close();
  }
}

function unavailable(hook: ActiveHook, why: string): CaneError {
  return new CaneError('plugin_unavailable', `The plugin ${hook.plugin.manifest.name} is unavailable, so this change cannot be saved now: ${why}`, 503, { plugin: hook.plugin.manifest.id });
}

/** The cause a plugin's changes get while it handles this event: its record, one level deeper. */
function causeOfEvent(payload: unknown): Cause | undefined {
  const e = payload as { module?: unknown; id?: unknown; depth?: unknown } | null;
  if (!e || typeof e.module !== 'string' || typeof e.id !== 'string' || !e.id) return undefined;
  return { module: e.module, id: e.id, depth: (typeof e.depth === 'number' ? e.depth : 0) + 1 };
}
