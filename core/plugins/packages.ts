import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Database } from '../db/connection';
import { formatDateTime, type Clock } from '../records/time';
import type { PluginManifest } from './manifest';

/** An installed plugin as stored, without its code. */
export interface PackageInfo {
  pluginId: string;
  version: string;
  /** As stored: checked again (checkManifest) by whoever loads it, since modules differ between installations. */
  manifest: unknown;
  sha256: string;
  source: string;
  installedBy: string | null;
  dateEntered: string | null;
  dateModified: string | null;
}

export interface NewPackage {
  manifest: PluginManifest;
  code: string;
  source: string;
  installedBy: string;
}

const GENERATION_ROW = 1;

export function sha256(text: string): string {
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Installed plugins (cane_plugin_packages), saved settings (cane_plugin_settings) and the plugin
 * generation (cane_plugin_generation). Every change bumps the generation in its own transaction,
 * so a process that sees the generation move re-reads a consistent picture.
 */
export class PackageStore {
  constructor(private readonly db: Database, private readonly clock: Clock) {}

  private now(): string {
    return formatDateTime(this.clock());
  }

  /** The cheap read every process polls. */
  async generation(): Promise<number> {
    const row = await this.db.knex('cane_plugin_generation').where('id', GENERATION_ROW).first('generation');
    return Number(row?.generation ?? 0);
  }

  /** Creates the generation row ahead of time, so changes only ever update it (no insert race between two first changes). */
  async ensureGeneration(): Promise<void> {
    await this.db.knex('cane_plugin_generation').insert({ id: GENERATION_ROW, generation: 0, date_modified: this.now() }).onConflict('id').ignore();
  }

  /** Moves the generation on, inside the caller's transaction (the row lock orders concurrent changes). */
  async bump(trx: Knex): Promise<void> {
    const now = this.now();
    const increment = () => trx('cane_plugin_generation').where('id', GENERATION_ROW).update({ generation: trx.raw('generation + 1'), date_modified: now });
    if (await increment()) return;
    await trx('cane_plugin_generation').insert({ id: GENERATION_ROW, generation: 0, date_modified: now }).onConflict('id').ignore();
    await increment();
  }

  /** Runs a change and bumps the generation in one transaction. */
  change<T>(fn: (trx: Knex) => Promise<T>): Promise<T> {
    return this.db.knex.transaction(async (trx) => {
      const result = await fn(trx);
      await this.bump(trx);
      return result;
    });
  }

  // ---------------------------------------------------------------- packages

  async list(): Promise<PackageInfo[]> {
    const rows = await this.db.knex('cane_plugin_packages')
      .select('plugin_id', 'version', 'manifest', 'sha256', 'source', 'installed_by', 'date_entered', 'date_modified').orderBy('plugin_id');
    return rows.map(toInfo);
  }

  async get(pluginId: string): Promise<PackageInfo | undefined> {
    const row = await this.db.knex('cane_plugin_packages').where('plugin_id', pluginId)
      .first('plugin_id', 'version', 'manifest', 'sha256', 'source', 'installed_by', 'date_entered', 'date_modified');
    return row ? toInfo(row) : undefined;
  }

  async code(pluginId: string): Promise<string | undefined> {
    const row = await this.db.knex('cane_plugin_packages').where('plugin_id', pluginId).first('code');
    return row ? String(row.code) : undefined;
  }

  /** Inserts or replaces a package (an upgrade keeps its date_entered). */
  async put(trx: Knex, pkg: NewPackage): Promise<void> {
    const now = this.now();
    const values = {
      version: pkg.manifest.version, manifest: JSON.stringify(pkg.manifest), code: pkg.code, sha256: sha256(pkg.code),
      source: pkg.source.slice(0, 255), installed_by: pkg.installedBy.slice(0, 100), date_modified: now,
    };
    const updated = await trx('cane_plugin_packages').where('plugin_id', pkg.manifest.id).update(values);
    if (!updated) await trx('cane_plugin_packages').insert({ id: crypto.randomUUID(), plugin_id: pkg.manifest.id, ...values, date_entered: now });
  }

  async remove(trx: Knex, pluginId: string): Promise<number> {
    return trx('cane_plugin_packages').where('plugin_id', pluginId).delete();
  }

  // ---------------------------------------------------------------- settings

  /** Saved settings of every plugin that has some. */
  async allSettings(): Promise<Map<string, Record<string, unknown>>> {
    const rows = await this.db.knex('cane_plugin_settings').select('plugin_id', 'settings');
    return new Map(rows.map((r: { plugin_id: string; settings: string }) => [r.plugin_id, parseObject(r.settings)]));
  }

  async settings(pluginId: string): Promise<Record<string, unknown> | undefined> {
    const row = await this.db.knex('cane_plugin_settings').where('plugin_id', pluginId).first('settings');
    return row ? parseObject(row.settings) : undefined;
  }

  async putSettings(trx: Knex, pluginId: string, values: Record<string, unknown>, modifiedBy: string): Promise<void> {
    const row = { settings: JSON.stringify(values), modified_by: modifiedBy.slice(0, 100), date_modified: this.now() };
    const updated = await trx('cane_plugin_settings').where('plugin_id', pluginId).update(row);
    if (!updated) await trx('cane_plugin_settings').insert({ id: crypto.randomUUID(), plugin_id: pluginId, ...row });
  }

  async removeSettings(trx: Knex, pluginId: string): Promise<void> {
    await trx('cane_plugin_settings').where('plugin_id', pluginId).delete();
  }
}

function toInfo(row: Record<string, unknown>): PackageInfo {
  return {
    pluginId: String(row.plugin_id), version: String(row.version), manifest: parseJson(row.manifest), sha256: String(row.sha256),
    source: String(row.source ?? ''), installedBy: (row.installed_by as string | null) ?? null,
    dateEntered: row.date_entered ? String(row.date_entered) : null, dateModified: row.date_modified ? String(row.date_modified) : null,
  };
}

function parseJson(text: unknown): unknown {
  try {
    return JSON.parse(String(text));
  } catch {
    return undefined;
  }
}

/** Stored settings that are not a JSON object read as none: the manifest's schema then decides. */
function parseObject(text: unknown): Record<string, unknown> {
  try {
    const value = JSON.parse(String(text ?? '{}'));
    return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}
