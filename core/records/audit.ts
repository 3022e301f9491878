import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { ModuleDef } from '../metadata/registry';
import { isStored, isTruthy, valueKind } from '../metadata/field-types';
import { toStorage, type FieldValue } from './values';

export interface FieldChange {
  field_name: string;
  data_type: string;
  before: FieldValue;
  after: FieldValue;
}

/** Stored fields whose value differs between two versions of a record. */
export function diff(module: ModuleDef, before: Record<string, FieldValue>, after: Record<string, FieldValue>): Record<string, FieldChange> {
  const changes: Record<string, FieldChange> = {};
  for (const name of module.columns) {
    if (!(name in after)) continue;
    if (!same(before[name] ?? null, after[name] ?? null)) {
      changes[name] = { field_name: name, data_type: module.fields[name].type, before: before[name] ?? null, after: after[name] ?? null };
    }
  }
  return changes;
}

function same(a: FieldValue, b: FieldValue): boolean {
  if (Array.isArray(a) || Array.isArray(b)) return JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
  if (typeof a === 'number' || typeof b === 'number') return a !== null && b !== null && Math.abs(Number(a) - Number(b)) <= 1e-10 * Math.max(1, Math.abs(Number(a)));
  if (a === '' && b === null) return true;
  if (a === null && b === '') return true;
  return a === b;
}

/**
 * Writes one <table>_audit row per changed audited field, inside the caller's transaction.
 * text and multienum values go to the *_value_text columns, the rest to *_value_string.
 */
export async function writeAuditRows(trx: Knex, module: ModuleDef, id: string, changes: Record<string, FieldChange>, userId: string | null, now: string): Promise<number> {
  if (!module.audited) return 0;
  const rows = Object.values(changes)
    .filter((c) => isTruthy(module.fields[c.field_name]?.audited) && isStored(module.fields[c.field_name]))
    .map((c) => {
      const field = module.fields[c.field_name];
      const asText = ['text', 'multienum'].includes(valueKind(field));
      const render = (v: FieldValue) => (v === null ? null : String(toStorage(field, v)));
      return {
        id: crypto.randomUUID(),
        parent_id: id,
        date_created: now,
        created_by: userId,
        field_name: c.field_name,
        data_type: c.data_type,
        [asText ? 'before_value_text' : 'before_value_string']: render(c.before),
        [asText ? 'after_value_text' : 'after_value_string']: render(c.after),
      };
    });
  if (rows.length) await trx(`${module.table}_audit`).insert(rows);
  return rows.length;
}
