import { AccessDeniedError } from '../errors';
import type { ModuleDef } from '../metadata/registry';
import type { Actor } from './actor';

/** The name an actor writes under in `append_only.writers`: 'plugin:<id>' for plugins, 'system' for Cane's own code. */
function writerName(actor: Actor): string | undefined {
  return actor.type === 'system' ? actor.label ?? 'system' : undefined;
}

/**
 * Append-only modules (activity log, campaign log) keep a trail nothing may rewrite: no update,
 * delete, restore or relationship change by anyone, admins included, and creates only by the
 * writers their vardefs name.
 */
export function assertAppendAllowed(module: ModuleDef, actor: Actor, operation: 'create' | 'update' | 'delete' | 'restore' | 'link'): void {
  const rule = module.appendOnly;
  if (!rule) return;
  if (operation === 'create') {
    const writer = writerName(actor);
    if (writer && rule.writers.includes(writer)) return;
    throw new AccessDeniedError(`${module.name} is append-only: its entries are written only by ${rule.writers.length ? rule.writers.join(', ') : 'Cane itself'} and cannot be created through the API, the UI or another plugin`, { module: module.name, action: 'create', append_only: true });
  }
  throw new AccessDeniedError(`${module.name} is append-only: its entries cannot be changed, deleted or relinked by anyone`, { module: module.name, action: operation, append_only: true });
}

/** Module actions that would write to an append-only module: no user holds them, so no screen offers them. */
export function isAppendOnlyWrite(module: ModuleDef, action: string): boolean {
  return Boolean(module.appendOnly) && (action === 'edit' || action === 'delete' || action === 'massupdate' || action === 'import');
}
