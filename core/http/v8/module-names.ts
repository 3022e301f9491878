import type { ModuleDef, Registry } from '../../metadata/registry';
import { badRequest } from './errors';

/** Names SuiteCRM's bean aliases accept besides module and object names. */
const ALIASES: Record<string, string> = { Case: 'Cases' };

/**
 * The module a V8 request names: its module name ('Accounts') or, as SuiteCRM's bean aliases allow,
 * its object name ('Account'), the `type` SuiteCRM itself sends back.
 */
export function moduleNamed(registry: Registry, name: unknown): ModuleDef | undefined {
  if (typeof name !== 'string' || !name) return undefined;
  const direct = registry.modules.get(name) ?? (Object.hasOwn(ALIASES, name) ? registry.modules.get(ALIASES[name]) : undefined);
  if (direct) return direct;
  for (const module of registry.modules.values()) if (module.objectName === name) return module;
  return undefined;
}

export function requireModule(registry: Registry, name: unknown): ModuleDef {
  const module = moduleNamed(registry, name);
  if (!module) throw badRequest(`Module ${typeof name === 'string' ? name : JSON.stringify(name ?? null)} does not exist`);
  return module;
}
