import type { ModuleDef } from './registry';

/**
 * A value derived from a module definition, computed once per definition: definitions do not change
 * after the registry is built, and saves would otherwise walk every field of the module on each record.
 */
export function perModule<T>(derive: (module: ModuleDef) => T): (module: ModuleDef) => T {
  const cache = new WeakMap<ModuleDef, T>();
  return (module) => {
    if (!cache.has(module)) cache.set(module, derive(module));
    return cache.get(module) as T;
  };
}
