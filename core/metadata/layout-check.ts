import { MetadataError } from '../errors';
import type { FieldDef, ModuleViews } from './types';

/** SearchFields.php pseudo-fields Cane answers itself. */
const SEARCH_PSEUDO_FIELDS = new Set(['current_user_only', 'favorites_only']);

/**
 * Layout cells and list columns must name fields of the module: a typo stops start-up. What Sugar
 * itself tolerates is kept or left out with a note instead: cells drawn by customCode, search entries
 * backed by SearchFields.php (which Cane does not read), list columns PHP computes (related_fields,
 * customCode), and subpanels fed by PHP functions.
 * Returns the layout to use.
 */
export function checkLayoutFields(
  file: string, base: string, view: keyof ModuleViews, layout: Record<string, unknown>,
  fields: Record<string, FieldDef>, module: string, warn: (message: string) => void,
): Record<string, unknown> {
  const known = (name: string) => name in fields;
  if (view === 'list') {
    for (const [column, def] of Object.entries(layout)) {
      if (known(column.toLowerCase())) continue;
      // A column whose value PHP computes (get_list_view_data: related_fields, customCode) is Sugar's, not a typo.
      const computed = typeof def === 'object' && def !== null && ('related_fields' in def || 'customCode' in def);
      if (!computed) throw new MetadataError(file, `${base}/${column}`, 'field', `'${column.toLowerCase()}' is not a field of ${module}`);
      warn(`${file}: ${base}/${column}: '${column.toLowerCase()}' is a column PHP computes, not a field of ${module}; left out of the list`);
      delete layout[column];
    }
  } else if (view === 'detail' || view === 'edit' || view === 'quickcreate') {
    for (const [panel, rows] of Object.entries((layout as { panels: Record<string, unknown[][]> }).panels)) {
      rows.forEach((row, r) => row.forEach((cell, c) => {
        const name = typeof cell === 'string' ? cell : (cell as { name?: string } | null)?.name;
        const drawn = typeof cell === 'object' && cell !== null && 'customCode' in cell;
        if (name && !known(name) && !drawn) throw new MetadataError(file, `${base}/panels/${panel}/${r}/${c}`, 'field', `'${name}' is not a field of ${module}`);
      }));
    }
  } else if (view === 'search') {
    const search = layout as { layout: Record<string, Record<string, { name: string }>> };
    for (const [kind, entries] of Object.entries(search.layout)) {
      for (const [key, entry] of Object.entries(entries)) {
        if (known(entry.name) || SEARCH_PSEUDO_FIELDS.has(entry.name)) continue;
        warn(`${file}: ${base}/layout/${kind}/${key}: '${entry.name}' is not a field of ${module} (a SearchFields.php entry?); left out of the search form`);
        delete entries[key];
      }
    }
  } else if (view === 'subpanels') {
    const setup = (layout as { subpanel_setup: Record<string, Record<string, unknown>> }).subpanel_setup;
    for (const [key, panel] of Object.entries(setup)) {
      const pointer = `${base}/subpanel_setup/${key}`;
      if (panel.type === 'collection') {
        const members = (panel.collection_list ?? {}) as Record<string, { get_subpanel_data?: string }>;
        for (const [member, source] of Object.entries(members)) {
          if (keepSubpanelSource(file, `${pointer}/collection_list/${member}`, source.get_subpanel_data, fields, module, warn)) continue;
          delete members[member];
        }
        continue;
      }
      if (!keepSubpanelSource(file, pointer, panel.get_subpanel_data, fields, module, warn)) delete setup[key];
    }
  }
  return layout;
}

/** A subpanel's data source must be a link of the module; a PHP function source is left out with a note. */
function keepSubpanelSource(
  file: string, pointer: string, source: unknown, fields: Record<string, FieldDef>, module: string, warn: (message: string) => void,
): boolean {
  if (typeof source === 'string' && source.startsWith('function:')) {
    warn(`${file}: ${pointer}: '${source}' is PHP code Cane does not run; this subpanel is left out`);
    return false;
  }
  const link = typeof source === 'string' ? fields[source] : undefined;
  if (!link || link.type !== 'link') {
    throw new MetadataError(file, `${pointer}/get_subpanel_data`, 'link', `'${String(source)}' is not a link of ${module}`);
  }
  return true;
}
