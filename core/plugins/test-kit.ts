import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEngine, type Engine } from '../app/engine';
import { CaneError, HookVeto, ValidationError } from '../errors';
import { silentLogger } from '../logger';
import { SYSTEM } from '../records/actor';
import type { RecordData } from '../records/read';
import { PluginHost } from './plugin-host';
import { ensureFirstAdmin } from '../security/users';

export interface KitOptions {
  /** ISO instant the fixed clock starts at (default 2026-01-01T09:00:00Z). */
  now?: string;
  settings?: Record<string, unknown>;
}

export interface SaveResult {
  record?: RecordData;
  veto?: { message: string; field?: string };
  error?: { code: string; message: string };
}

/**
 * Runs one plugin on the real runtime (runner process, isolates, limits) against a real SQLite
 * CRM built from the metadata, with a fixed clock and an SMS spy. For plugin authors' tests
 * (`cane plugin test`) and Cane's own.
 */
export class PluginTestKit {
  readonly smsSent: Array<Record<string, unknown>> = [];

  private constructor(readonly engine: Engine, readonly host: PluginHost, private readonly tmp: string, readonly pluginId: string, private readonly time: { now: Date }) {}

  static async create(pluginDir: string, options: KitOptions = {}): Promise<PluginTestKit> {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-plugin-kit-'));
    const manifest = JSON.parse(fs.readFileSync(path.join(pluginDir, 'plugin.json'), 'utf8'));
    fs.mkdirSync(path.join(tmp, 'plugins'));
    fs.symlinkSync(path.resolve(pluginDir), path.join(tmp, 'plugins', 'under-test'), 'dir');
    const time = { now: new Date(options.now ?? '2026-01-01T09:00:00Z') };
    const clock = () => new Date(time.now);
    const engine = await createEngine({ databaseUrl: `sqlite:${path.join(tmp, 'kit.sqlite')}`, logger: silentLogger, clock, customDir: path.join(tmp, 'custom') });
    // The administrator (id '1') that kit.save acts as, as in a real installation.
    await ensureFirstAdmin(engine, undefined);
    const host = new PluginHost(engine, { dirs: [{ dir: path.join(tmp, 'plugins'), builtIn: false }], settings: { [manifest.id]: options.settings ?? {} } }, silentLogger, clock);
    const kit = new PluginTestKit(engine, host, tmp, manifest.id, time);
    host.bridge.smsSender = async (message) => {
      kit.smsSent.push(message);
      // The shape the real sms.send answers with.
      return { sent: [{ id: `spy-${kit.smsSent.length}`, to: message.to, status: 'queued' }], refused: [] };
    };
    await host.start();
    const refused = host.refused.find((r) => r.id === manifest.id || r.dir.endsWith('under-test'));
    if (refused) {
      await kit.close();
      throw new Error(`plugin refused: ${refused.problem}`);
    }
    return kit;
  }

  /** Moves the fixed clock forward. */
  advance(seconds: number): void {
    this.time.now = new Date(this.time.now.getTime() + seconds * 1000);
  }

  /** Creates (or, with options.id, updates) a record as an admin; a veto or error is returned, not thrown. */
  async save(module: string, data: Record<string, unknown>, options: { id?: string } = {}): Promise<SaveResult> {
    const actor = { type: 'user' as const, id: '1', isAdmin: true };
    try {
      const record = options.id ? await this.engine.records.update(actor, module, options.id, data) : await this.engine.records.create(actor, module, data);
      return { record };
    } catch (err) {
      if (err instanceof HookVeto) return { veto: { message: err.message, field: err.field } };
      if (err instanceof ValidationError || err instanceof CaneError) return { error: { code: err.code, message: err.message } };
      throw err;
    }
  }

  /** Delivers queued work (after-events to the plugin, jobs) until nothing is due; returns how much ran. */
  async runJobs(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = (await this.engine.jobs.runOnce(1)) + (await this.host.drain());
      if (!n) return total;
      total += n;
    }
  }

  /** Every refusal and fault of the plugin so far, one line each, naming the capability or limit: what `cane plugin test` prints. */
  async problems(): Promise<string[]> {
    const rows = await this.engine.db.knex('plugin_audit').where({ plugin_id: this.pluginId }).whereIn('outcome', ['denied', 'fault', 'error']).orderBy('date_entered');
    return rows.map((r: { outcome: string; capability: string; hook: string; message: string | null }) =>
      r.outcome === 'fault' ? `fault in ${r.hook}: ${r.message}` : `${r.outcome === 'denied' ? 'denied' : 'failed'}: ${r.capability} in ${r.hook}: ${r.message}`);
  }

  /** Host calls the plugin made (plugin_audit rows), oldest first. */
  async hostCalls(): Promise<Array<{ capability: string; outcome: string; message: string | null; target_module: string | null }>> {
    return this.engine.db.knex('plugin_audit').where({ plugin_id: this.pluginId }).whereNotIn('capability', ['fault', 'delivery']).orderBy('date_entered').select('capability', 'outcome', 'message', 'target_module');
  }

  /** Host calls refused for a missing permission. */
  async denied() {
    return (await this.hostCalls()).filter((c) => c.outcome === 'denied');
  }

  /** Faults recorded for the plugin (exceptions, limits). */
  async faults(): Promise<string[]> {
    return (await this.engine.db.knex('plugin_audit').where({ plugin_id: this.pluginId, outcome: 'fault' }).orderBy('date_entered')).map((r: { message: string }) => r.message);
  }

  records = {
    create: (module: string, data: Record<string, unknown>) => this.engine.records.create(SYSTEM, module, data),
    list: async (module: string, filter?: unknown[]) => (await this.engine.records.list(SYSTEM, module, { filter: filter as never, maxNum: 200 })).records,
  };

  async close(): Promise<void> {
    await this.host.close();
    await this.engine.close();
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}
