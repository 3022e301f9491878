/**
 * Who performs an operation. Every record operation takes one explicitly: system work says
 * it is the system, nobody acts by omission.
 */
export type Actor =
  | { type: 'user'; id: string; isAdmin: boolean; userName?: string }
  | { type: 'system'; id?: string; label?: string };

/** System work attributed to the admin user id '1' in created_by/modified_user_id, as Sugar's scheduler does. */
export const SYSTEM: Actor = Object.freeze({ type: 'system', id: '1', label: 'system' });

export function actorId(actor: Actor): string | null {
  return actor.id ?? null;
}

/** Cane's own code, as opposed to a plugin, which acts as the system under 'plugin:<id>'. */
export function isCane(actor: Actor): boolean {
  return actor.type === 'system' && (actor.label ?? 'system') === 'system';
}
