import { isStored } from '../metadata/field-types';
import type { ModuleDef } from '../metadata/registry';
import { SYSTEM_FIELDS } from '../records/validate';
import type { LoadedPlugin } from './manifest';

/**
 * What a before_save hook may change: the rules its `{ patch }` is held to. The runner applies
 * patches between hooks by the same list of fields (runner.js keeps its own copy of the shape
 * check, being plain JavaScript in another process).
 */

/** Fields a plugin may patch on a module: stored, not system-maintained, system_only or sensitive, and covered by write:<Module> or write:<Module>#<field>. */
export function patchableFields(plugin: LoadedPlugin, module: ModuleDef): string[] {
  const whole = plugin.permissions.has(`write:${module.name}`);
  return Object.keys(module.fields).filter((f) => settable(module, f) && (whole || plugin.permissions.has(`write:${module.name}#${f}`)));
}

function settable(module: ModuleDef, field: string): boolean {
  return Object.hasOwn(module.fields, field) && isStored(module.fields[field]) && !SYSTEM_FIELDS.has(field) && !module.fields[field].sensitive && !module.fields[field].system_only;
}

/**
 * The patch a hook returned, or what is wrong with it. `requireWrite` throws the permission
 * refusal (the bridge's, so the message is the same as for a host call).
 */
export function checkPatch(module: ModuleDef, value: unknown, requireWrite: (fields: string[]) => void): Record<string, unknown> | string {
  const patch = patchOf(value);
  if (!patch) return 'before_save must return nothing or { patch: { field: value } }';
  const unknown = Object.keys(patch).filter((f) => !settable(module, f));
  if (unknown.length) return `patch names fields that cannot be set: ${unknown.join(', ')}`;
  if (!Object.keys(patch).length) return patch;
  try {
    requireWrite(Object.keys(patch));
  } catch (err) {
    return (err as Error).message;
  }
  return patch;
}

/** `{ patch }` with values that are null, strings, numbers, booleans or lists of strings; nothing is an empty patch. */
function patchOf(value: unknown): Record<string, unknown> | undefined {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) return undefined;
  if (Object.keys(value).some((k) => k !== 'patch')) return undefined;
  const patch = (value as { patch?: unknown }).patch;
  if (patch === undefined) return {};
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return undefined;
  for (const v of Object.values(patch)) {
    if (v !== null && !['string', 'number', 'boolean'].includes(typeof v) && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) return undefined;
  }
  return patch as Record<string, unknown>;
}
