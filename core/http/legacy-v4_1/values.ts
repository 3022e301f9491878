import type { ModuleDef } from '../../metadata/registry';
import type { RecordData } from '../../records/read';
import { encodeMultienum } from '../../records/values';

export type NameValue = { name: string; value: string };

/** v4_1 returns every value as a string as read from the database: bools '0'/'1', DB-format dates, '' for NULL. */
export function asString(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (Array.isArray(value)) return encodeMultienum(value.map(String));
  return String(value);
}

/** A record as v4_1's entry_list item: {id, module_name, name_value_list: {field: {name, value}}}. */
export function toEntry(module: ModuleDef, record: RecordData, selectFields?: string[]) {
  const names = selectFields?.length ? selectFields.filter((f) => f in record || module.fields[f]) : Object.keys(record);
  const nvl: Record<string, NameValue> = {};
  for (const name of names) {
    if (module.fields[name]?.sensitive || name.startsWith('_')) continue;
    nvl[name] = { name, value: asString(record[name]) };
  }
  return { id: record.id, module_name: module.name, name_value_list: nvl };
}

/** Input name_value_list: a list of {name, value} or an object {field: value} (both occur in the wild). */
export function fromNameValueList(input: unknown): Record<string, unknown> {
  if (Array.isArray(input)) {
    const out: Record<string, unknown> = {};
    for (const item of input) {
      if (item && typeof item === 'object' && 'name' in item) out[String((item as NameValue).name)] = (item as NameValue).value;
    }
    return out;
  }
  if (input && typeof input === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(input)) out[k] = v && typeof v === 'object' && 'value' in (v as object) ? (v as NameValue).value : v;
    return out;
  }
  return {};
}
