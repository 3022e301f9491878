import type { ModuleDef, Registry } from '../../metadata/registry';
import type { FieldDef } from '../../metadata/types';
import { valueKind } from '../../metadata/field-types';
import type { RecordData } from '../../records/read';
import { toIso } from '../../records/time';

/** A field V8 answers and accepts as an attribute: not a link, not sensitive, not marked `api-visible: false`. */
export function isAttribute(field: FieldDef | undefined): field is FieldDef {
  if (!field || field.type === 'link' || field.sensitive) return false;
  const visible = field['api-visible'];
  return !(visible === false || visible === 'false' || visible === 0 || visible === '0');
}

/** A record's attributes: every attribute field (or those asked for), datetimes in ISO 8601, no id. */
export function attributesOf(module: ModuleDef, record: RecordData, fields?: readonly string[]): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(record)) {
    const field = module.fields[name];
    if (name === 'id' || !isAttribute(field) || (fields && !fields.includes(name))) continue;
    attributes[name] = valueKind(field) === 'datetime' && typeof value === 'string' && value ? toIso(value.slice(0, 19)) : value;
  }
  return attributes;
}

/**
 * SuiteCRM's relationships object: one entry per related module (keyed by that module's name,
 * sorted by it, the first link to it winning), each linking to `<selfPath>/relationships/<link>`.
 */
export function relationshipsOf(registry: Registry, module: ModuleDef, selfPath: string): Record<string, unknown> {
  const links = Object.values(module.links).filter((l) => registry.modules.has(l.module));
  const sorted = links.map((link, index) => ({ link, index })).sort((a, b) => (a.link.module < b.link.module ? -1 : a.link.module > b.link.module ? 1 : a.index - b.index));
  const out: Record<string, unknown> = {};
  for (const { link } of sorted) out[link.module] ??= { links: { related: `${selfPath}/relationships/${link.name}` } };
  return out;
}

/** The path a record's links start from, relative as SuiteCRM writes them. */
export function recordPath(module: ModuleDef, id: string): string {
  return `V8/module/${module.name}/${id}`;
}

/** A resource object: `type` is the object name ('Account'), as SuiteCRM sends it back. */
export function resourceOf(registry: Registry, module: ModuleDef, record: RecordData, options: { fields?: readonly string[]; selfPath?: string; relationships?: boolean } = {}): Record<string, unknown> {
  const data: Record<string, unknown> = { type: module.objectName, id: record.id, attributes: attributesOf(module, record, options.fields) };
  if (options.relationships !== false) {
    const relationships = relationshipsOf(registry, module, options.selfPath ?? recordPath(module, String(record.id)));
    if (Object.keys(relationships).length) data.relationships = relationships;
  }
  return data;
}
