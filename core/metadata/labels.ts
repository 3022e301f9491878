import type { ModuleDef } from './registry-types';

/** What label lookups need of the registry (the Registry itself, or a test double). */
export interface LabelSource {
  readonly modules: ReadonlyMap<string, ModuleDef>;
  readonly appStrings: Readonly<Record<string, string>>;
}

/** The first key that has a string, in the module's strings or the application's; undefined when none has. */
export function findLabel(registry: LabelSource, module: string | undefined, ...keys: Array<string | undefined>): string | undefined {
  const own = module ? registry.modules.get(module)?.strings : undefined;
  for (const key of keys) {
    if (!key) continue;
    const text = (own && Object.hasOwn(own, key) ? own[key] : undefined) ?? (Object.hasOwn(registry.appStrings, key) ? registry.appStrings[key] : undefined);
    if (text !== undefined) return text.replace(/:$/, '');
  }
  return undefined;
}

/** Keys that may label a field: the cell's label, its vname, then Sugar's LBL_<NAME>. */
export function fieldLabelKeys(module: ModuleDef | undefined, field: string, cellLabel?: string): string[] {
  const vname = module?.fields[field]?.vname;
  return [cellLabel, vname, `LBL_${field.toUpperCase()}`].filter((k): k is string => Boolean(k));
}

/** A field's label as every page and API shows it: its strings, else words made from its key. */
export function fieldLabel(registry: LabelSource, module: string, field: string, cellLabel?: string): string {
  const keys = fieldLabelKeys(registry.modules.get(module), field, cellLabel);
  return findLabel(registry, module, ...keys) ?? humanise(keys[0] ?? field);
}

/** Keys that may label a layout panel: the key itself, upper-cased, and LBL_PANEL_<KEY>. */
export function panelLabelKeys(panel: string): string[] {
  const upper = panel.toUpperCase();
  return [panel, upper, upper.startsWith('LBL_') ? upper : `LBL_PANEL_${upper}`];
}

/**
 * Words from a key with no string, so no page shows 'LBL_ACCOUNT_NAME' or 'assigned_user_id':
 * 'LBL_ACCOUNT_NAME' -> 'Account Name', 'loyalty_tier_c' -> 'Loyalty Tier', 'assigned_user_id' -> 'Assigned User'.
 */
export function humanise(key: string): string {
  const words = key
    .replace(/^(LBL|LNK|lbl|lnk)_/, '')
    .replace(/_c$/i, '')
    .replace(/_id$/i, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .split(/[_\s]+/)
    .filter(Boolean);
  if (!words.length) return key;
  return words.map((w) => w[0].toUpperCase() + w.slice(1).toLowerCase()).join(' ');
}
