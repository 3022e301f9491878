import type { Registry } from './registry';

/** One module as the registry merged it (shipped, custom/modules, Extension fragments), for `cane metadata:show`. */
export function showModule(registry: Registry, name: string): Record<string, unknown> {
  const m = registry.module(name);
  const links = Object.fromEntries(Object.values(m.links).map((l) => [l.name, { module: l.module, relationship: l.relationship.name, side: l.side, one: l.one }]));
  const relationships = Object.fromEntries([...registry.relationships.values()]
    .filter((r) => r.lhs_module === name || r.rhs_module === name)
    .map(({ name: rel, relFields: _fields, ...def }) => [rel, def]));
  return {
    module: m.name,
    objectName: m.objectName,
    table: m.table,
    customTable: m.customTable,
    file: m.file,
    custom: m.custom,
    audited: m.audited,
    fields: m.fields,
    indices: m.indices,
    links,
    relationships,
    views: m.views,
    strings: m.strings,
  };
}
