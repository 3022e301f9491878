import type { PluginManifest } from './manifest';

/** One property of a manifest's settings schema, as far as forms and the command line use it. */
export interface SettingDef {
  type?: string | string[];
  enum?: unknown[];
  title?: string;
  description?: string;
  default?: unknown;
  secret?: boolean;
  minimum?: number;
  maximum?: number;
}

export function settingDefs(manifest: PluginManifest): Record<string, SettingDef> {
  return (manifest.settings?.properties ?? {}) as Record<string, SettingDef>;
}

export function requiredSettings(manifest: PluginManifest): string[] {
  const required = manifest.settings?.required;
  return Array.isArray(required) ? required.filter((r): r is string => typeof r === 'string') : [];
}

export function settingType(def: SettingDef | undefined): string | undefined {
  const type = Array.isArray(def?.type) ? def!.type.find((t) => t !== 'null') : def?.type;
  if (type) return type;
  if (def?.enum?.length) return typeof def.enum[0];
  return undefined;
}

/**
 * A typed-in value (command line `key=value`, a form field) as the schema's type wants it. What
 * cannot be converted stays the text it was, so the schema check names the setting and the problem.
 */
export function settingValue(def: SettingDef | undefined, raw: string): unknown {
  const enumMatch = def?.enum?.find((e) => String(e) === raw);
  if (enumMatch !== undefined) return enumMatch;
  switch (settingType(def)) {
    case 'number':
    case 'integer':
      return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    case 'boolean':
      return ['true', '1', 'on', 'yes'].includes(raw) ? true : ['false', '0', 'off', 'no'].includes(raw) ? false : raw;
    case 'array':
    case 'object':
      try {
        return JSON.parse(raw);
      } catch {
        return raw;
      }
    default:
      return raw;
  }
}

/** Settings for showing: secret values become 'set' or 'not set'. */
export function maskedSettings(manifest: PluginManifest, values: Record<string, unknown>): Record<string, unknown> {
  const defs = settingDefs(manifest);
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, defs[name]?.secret ? (value === undefined || value === '' ? 'not set' : 'set') : value]));
}
