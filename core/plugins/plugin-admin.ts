import fs from 'node:fs';
import path from 'node:path';
import type { Engine } from '../app/engine';
import { CaneError } from '../errors';
import type { Logger } from '../records/context';
import type { Clock } from '../records/time';
import { effectiveLimits, type PluginLimits } from './limits';
import { checkManifest, discoverPlugins, missingHandler, loadPlugin, settingsProblem, type LoadedPlugin, type PluginManifest } from './manifest';
import { PackageStore, type PackageInfo } from './packages';
import type { PluginState } from './plugin-state';
import { RunnerClient } from './runner-client';
import { settingDefs } from './settings-input';
import { unpackPluginArchive } from './tgz';

export interface PluginAdminDeps {
  engine: Engine;
  dirs: Array<{ dir: string; builtIn: boolean }>;
  /** CANE_PLUGIN_SETTINGS: used until settings are saved here for a plugin. */
  fileSettings?: Record<string, Record<string, unknown>>;
  limits?: Partial<PluginLimits>;
  packages: PackageStore;
  state: PluginState;
  /** Drops a plugin's undelivered events (EventDelivery.discard). */
  discard: (pluginId: string) => Promise<number>;
  log: Logger;
  clock: Clock;
}

/** A refused admin change: the message names the plugin, setting or archive entry and the problem. */
export class PluginAdminError extends CaneError {
  constructor(message: string, readonly setting?: string) {
    super('invalid_parameter', message, 422, setting ? { setting } : {});
  }
}

/** A plugin an admin can act on: from a folder (built-in or CANE_PLUGINS_DIR) or installed in the database. */
export interface KnownPlugin {
  id: string;
  origin: 'built-in' | 'folder' | 'installed';
  manifest: PluginManifest;
  package?: PackageInfo;
}

/**
 * What `cane plugin …` and the admin page change: installs and upgrades (checked like a plugin
 * folder at start, then compiled in a throwaway runner before anything is stored), uninstalls,
 * enabling and disabling, settings. Each change bumps the plugin generation in its transaction,
 * so every process on the database reloads within its poll interval; `onChange` lets this
 * process's host reload at once.
 */
export class PluginAdmin {
  onChange?: () => Promise<void>;

  constructor(private readonly deps: PluginAdminDeps) {}

  get packages(): PackageStore {
    return this.deps.packages;
  }

  private files(): LoadedPlugin[] {
    return discoverPlugins(this.deps.dirs, this.deps.engine.registry).loaded;
  }

  /** Every plugin with a usable manifest, folders first. */
  async known(): Promise<KnownPlugin[]> {
    const files = this.files().map((p): KnownPlugin => ({ id: p.manifest.id, origin: p.builtIn ? 'built-in' : 'folder', manifest: p.manifest }));
    for (const pkg of await this.deps.packages.list()) {
      if (files.some((f) => f.id === pkg.pluginId)) continue;
      const checked = checkManifest(pkg.manifest, this.deps.engine.registry);
      // A manifest this installation refuses can still be uninstalled; its settings need its schema.
      const stored = pkg.manifest && typeof pkg.manifest === 'object' && !Array.isArray(pkg.manifest) ? pkg.manifest : {};
      const manifest = 'problem' in checked ? ({ name: pkg.pluginId, entry: '', apiVersion: 0, ...stored, id: pkg.pluginId, version: pkg.version } as PluginManifest) : checked;
      files.push({ id: pkg.pluginId, origin: 'installed', manifest, package: pkg });
    }
    return files;
  }

  async plugin(id: string): Promise<KnownPlugin> {
    const found = (await this.known()).find((p) => p.id === id);
    if (!found) throw new PluginAdminError(`no plugin '${id}' is installed or built in`);
    return found;
  }

  // ---------------------------------------------------------------- install

  /**
   * Installs a plugin folder or .tgz archive. `upgrade` replaces an installed plugin with another
   * version. Nothing is stored (and running plugins are untouched) when any check fails.
   */
  async install(source: string, options: { upgrade?: boolean; installedBy?: string } = {}): Promise<{ id: string; version: string; previous?: string }> {
    const resolved = path.resolve(source);
    const archive = /\.(tgz|tar\.gz)$/i.test(resolved);
    if (!archive && !fs.existsSync(path.join(resolved, 'plugin.json'))) {
      throw new PluginAdminError(`${source}: not a plugin folder (no plugin.json) or a .tgz archive`);
    }
    const unpacked = archive ? unpackPluginArchive(resolved) : { dir: resolved, cleanup: () => undefined };
    try {
      const plugin = loadPlugin(unpacked.dir, this.deps.engine.registry, false);
      if ('problem' in plugin) throw new PluginAdminError(`${plugin.id ?? path.basename(source)}: ${plugin.problem}`);
      const { id, version } = plugin.manifest;
      const clash = this.files().find((p) => p.manifest.id === id);
      if (clash) {
        throw new PluginAdminError(clash.builtIn
          ? `${id}: a built-in plugin has this id; it cannot be installed over`
          : `${id}: a plugin with this id is loaded from the folder ${clash.dir}; remove it there first`);
      }
      const existing = await this.deps.packages.get(id);
      if (existing && !options.upgrade) throw new PluginAdminError(`${id}: version ${existing.version} is already installed; use --upgrade to install another version`);
      if (existing && existing.version === version) throw new PluginAdminError(`${id}: version ${version} is already installed; --upgrade needs a different version`);
      const problem = await this.compileProblem(plugin);
      if (problem) throw new PluginAdminError(`${id}: ${problem}`);
      await this.deps.packages.change((trx) => this.deps.packages.put(trx, {
        manifest: plugin.manifest, code: plugin.code, source: archive ? path.basename(resolved) : resolved, installedBy: options.installedBy ?? 'cli',
      }));
      await this.onChange?.();
      return { id, version, previous: existing?.version };
    } finally {
      unpacked.cleanup();
    }
  }

  /** Runs the code once in a runner of its own, as every process will when it loads it. */
  private async compileProblem(plugin: LoadedPlugin): Promise<string | undefined> {
    const runner = new RunnerClient(async () => ({ ok: false, error: 'no host calls while the plugin is being installed' }), this.deps.log);
    try {
      const memory = effectiveLimits('after', this.deps.limits, plugin.manifest.limits).memoryMb;
      const result = await runner.load(plugin.key, plugin.code, memory, 1);
      return result.ok ? missingHandler(plugin.manifest, result.handlers) : `the entry file does not run: ${result.error ?? 'unknown error'}`;
    } finally {
      await runner.close();
    }
  }

  /** Removes an installed plugin with its state, settings and undelivered events; answers how many events were dropped. */
  async uninstall(id: string): Promise<{ version: string; discarded: number }> {
    const pkg = await this.deps.packages.get(id);
    if (!pkg) {
      const file = this.files().find((p) => p.manifest.id === id);
      if (file) throw new PluginAdminError(`${id}: ${file.builtIn ? 'a built-in plugin' : `loaded from the folder ${file.dir}`}; only installed plugins can be uninstalled (disable it instead)`);
      throw new PluginAdminError(`no plugin '${id}' is installed`);
    }
    await this.deps.packages.change(async (trx) => {
      await this.deps.packages.remove(trx, id);
      await this.deps.state.remove(id, trx);
      await this.deps.packages.removeSettings(trx, id);
    });
    this.deps.state.forget();
    await this.onChange?.();
    // Every process that unloads the plugin discards again what it wrote meanwhile (see PluginHost.reload).
    const discarded = await this.deps.discard(id);
    return { version: pkg.version, discarded };
  }

  // ---------------------------------------------------------------- state and settings

  /** Switches a plugin ('*') or one of its hooks on or off, everywhere. */
  async setEnabled(id: string, hook: string, enabled: boolean): Promise<void> {
    const plugin = await this.plugin(id);
    if (hook !== '*') {
      const hooks = [...(plugin.manifest.hooks ?? []).map((h) => `${h.module}.${h.event}.${h.handler}`), ...(plugin.manifest.schedules ?? []).map((s) => `schedule.${s.handler}`)];
      if (!hooks.includes(hook)) throw new PluginAdminError(`${id} has no hook '${hook}' (its hooks: ${hooks.join(', ') || 'none'})`);
    }
    await this.deps.packages.change((trx) => this.deps.state.setEnabled(id, hook, enabled, trx));
    this.deps.state.forget();
    await this.onChange?.();
  }

  /** The settings a plugin runs with: saved ones, else those of CANE_PLUGIN_SETTINGS. */
  async settings(id: string): Promise<Record<string, unknown>> {
    return (await this.deps.packages.settings(id)) ?? this.deps.fileSettings?.[id] ?? {};
  }

  /**
   * Changes some settings (undefined removes one, back to its default) and saves the whole set,
   * checked against the manifest's JSON Schema; a refusal names the setting.
   */
  async saveSettings(id: string, changes: Record<string, unknown>, modifiedBy = 'cli'): Promise<Record<string, unknown>> {
    const { manifest } = await this.plugin(id);
    const defs = settingDefs(manifest);
    if (!Object.keys(defs).length && !manifest.settings) throw new PluginAdminError(`${id} has no settings`);
    const unknown = Object.keys(changes).find((name) => !(name in defs));
    if (unknown) throw new PluginAdminError(`${id}: unknown setting '${unknown}' (its settings: ${Object.keys(defs).join(', ') || 'none'})`, unknown);
    const next = { ...(await this.settings(id)) };
    for (const [name, value] of Object.entries(changes)) {
      if (value === undefined) delete next[name];
      else next[name] = value;
    }
    const problem = settingsProblem(manifest, next);
    if (problem) throw new PluginAdminError(`${id}: ${problem.message}`, problem.setting || undefined);
    await this.deps.packages.change((trx) => this.deps.packages.putSettings(trx, id, next, modifiedBy));
    await this.onChange?.();
    return next;
  }

  /** The plugin's latest host calls and faults from plugin_audit, newest first. */
  async recentCalls(id: string, limit = 20): Promise<Array<{ time: string; hook: string; capability: string; outcome: string; message: string | null }>> {
    const rows = await this.deps.engine.db.knex('plugin_audit').where('plugin_id', id).orderBy('date_entered', 'desc').limit(limit)
      .select('date_entered', 'hook', 'capability', 'outcome', 'message');
    return rows.map((r: Record<string, unknown>) => ({ time: String(r.date_entered ?? ''), hook: String(r.hook ?? ''), capability: String(r.capability ?? ''), outcome: String(r.outcome ?? ''), message: (r.message as string | null) ?? null }));
  }
}
