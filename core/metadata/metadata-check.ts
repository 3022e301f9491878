import type { Registry } from './registry';
import type { ModuleDef } from './registry-types';
import { fieldLabelKeys, findLabel, humanise, panelLabelKeys } from './labels';
import { cellLabel, cellName } from './layout-cells';

export interface MetadataProblem {
  rule: 'unknown_module' | 'unknown_relationship' | 'missing_label';
  module?: string;
  message: string;
}

/** SuiteCRM modules that Cane does not ship but whose relationships its metadata keeps, as Sugar's does. */
const ABSENT_SUITE_MODULES = new Set(['SecurityGroups']);

/**
 * What loads but is probably a mistake: relationships naming a module that is not defined and links
 * naming a relationship no module declares (their links are disabled; a typo looks just like this),
 * and labels with no string (pages
 * show a humanised key instead).
 */
export function checkMetadata(registry: Registry): MetadataProblem[] {
  const problems: MetadataProblem[] = [];
  for (const rel of registry.relationships.values()) {
    for (const side of ['lhs_module', 'rhs_module'] as const) {
      if (!registry.modules.has(rel[side]) && !ABSENT_SUITE_MODULES.has(rel[side])) {
        problems.push({ rule: 'unknown_module', message: `relationship '${rel.name}' (${rel.file} or its overlays) names ${side} '${rel[side]}', which is not a module; its links are disabled` });
      }
    }
  }
  for (const m of registry.modules.values()) {
    for (const [name, field] of Object.entries(m.fields)) {
      if (field.type === 'link' && field.relationship && !registry.relationships.has(field.relationship)) {
        problems.push({ rule: 'unknown_relationship', module: m.name, message: `${m.name}.${name}: relationship '${field.relationship}' is declared by no module; the link is disabled` });
      }
    }
  }
  for (const m of registry.modules.values()) problems.push(...missingLabels(registry, m));
  return problems;
}

function missingLabels(registry: Registry, m: ModuleDef): MetadataProblem[] {
  const problems: MetadataProblem[] = [];
  const seen = new Set<string>();
  const report = (what: string, keys: string[]) => {
    if (findLabel(registry, m.name, ...keys)) return;
    const message = `${m.name}: ${what} has no string (tried ${keys.join(', ')}); pages show '${humanise(keys[0])}'`;
    if (!seen.has(message)) problems.push({ rule: 'missing_label', module: m.name, message });
    seen.add(message);
  };
  for (const [name, field] of Object.entries(m.fields)) {
    if (field.vname) report(`field '${name}'`, fieldLabelKeys(m, name));
  }
  for (const view of ['edit', 'detail', 'quickcreate'] as const) {
    for (const [panel, rows] of Object.entries(m.views[view]?.panels ?? {})) {
      report(`panel '${panel}' of the ${view} view`, panelLabelKeys(panel));
      for (const row of rows) {
        for (const cell of row) {
          const name = cellName(cell);
          if (name && !m.fields[name]?.vname) report(`field '${name}'`, fieldLabelKeys(m, name, cellLabel(cell)));
        }
      }
    }
  }
  for (const [column, def] of Object.entries(m.views.list ?? {})) {
    const field = column.toLowerCase();
    report(`list column '${column}'`, fieldLabelKeys(m, field, (def as { label?: string }).label));
  }
  for (const [key, panel] of Object.entries(m.views.subpanels?.subpanel_setup ?? {})) {
    report(`subpanel '${key}'`, [String(panel.title_key ?? key)]);
  }
  return problems;
}
