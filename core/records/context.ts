import type { Knex } from 'knex';
import type { Database } from '../db/connection';
import type { HookRegistry } from '../hooks/hook-registry';
import type { ModuleDef, Registry } from '../metadata/registry';
import type { Actor } from './actor';
import { currentCause } from './cause';
import type { Clock } from './time';
import type { RecordValidator } from './validate';

export interface Logger {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

export type ModuleAction = 'access' | 'view' | 'list' | 'edit' | 'delete' | 'import' | 'export' | 'massupdate';

/**
 * Record-level access. `scope` narrows a query to what the actor may see (a where clause, never a
 * filter after fetching); `check` refuses an action on a record. The roles issue plugs Sugar's
 * ACL in here; the default lets everything through.
 */
export interface AccessPolicy {
  scope(actor: Actor, module: ModuleDef, action: ModuleAction, query: Knex.QueryBuilder, alias: string): Promise<void> | void;
  check(actor: Actor, module: ModuleDef, action: ModuleAction, record?: Record<string, unknown>): Promise<void> | void;
}

export const allowAll: AccessPolicy = { scope: () => undefined, check: () => undefined };

/** A change, as the outbox sees it inside the transaction that makes it. */
export interface OutboxEvent {
  event: 'after_save' | 'after_delete' | 'after_restore' | 'after_relationship_add' | 'after_relationship_delete' | 'user.login' | 'export' | 'sms.status' | 'sms.inbound' | 'campaign.launch' | 'lead.convert';
  module: string;
  id: string;
  isUpdate: boolean;
  record: Record<string, unknown>;
  changes: Record<string, { before: unknown; after: unknown }>;
  /** Relationship events: the link and the other record. */
  link?: string;
  relatedModule?: string;
  relatedId?: string;
  /** Who acted (user id). */
  actorId?: string;
  /** For work Cane or a plugin did itself: 'system' or 'plugin:<plugin id>' (a plugin can tell the changes it caused). */
  origin?: string;
  /** How many plugin-made changes led to this one (0 or absent: a person's or Cane's own change). */
  depth?: number;
  /** The record whose event the plugin was handling when it made this change. */
  causedBy?: { module: string; id: string };
  /** Export: how many records left the system. */
  count?: number;
}

/** Runs the outbox listeners for an event in a transaction of its own (events that are not part of a save). */
export async function publish(ctx: RecordContext, event: OutboxEvent): Promise<void> {
  if (!ctx.outbox.length) return;
  await ctx.db.knex.transaction((trx) => emit(ctx.outbox, trx, event));
}

/** Runs the outbox listeners for an event inside the transaction of the change it reports, so both commit or neither. */
export async function emit(outbox: readonly OutboxListener[], trx: Knex, event: OutboxEvent): Promise<void> {
  for (const listener of outbox) await listener(trx, event);
}

/**
 * Writes durable work (job rows) in the same transaction as the change, so a rolled-back save
 * leaves no work behind and a committed one cannot lose it.
 */
export type OutboxListener = (trx: Knex, event: OutboxEvent) => Promise<void>;

/** What every record operation needs; built once by the engine. */
export interface RecordContext {
  outbox: OutboxListener[];
  db: Database;
  registry: Registry;
  hooks: HookRegistry;
  validator: RecordValidator;
  access: AccessPolicy;
  clock: Clock;
  log: Logger;
}

/** Who made a change, for its after-event: `origin` for system work and plugins, and for a change a plugin made while handling an event, its depth and cause. */
export function originOf(actor: Actor): Pick<OutboxEvent, 'origin' | 'depth' | 'causedBy'> {
  const cause = currentCause();
  return {
    origin: actor.type === 'system' ? actor.label ?? 'system' : undefined,
    ...(cause ? { depth: cause.depth, causedBy: { module: cause.module, id: cause.id } } : {}),
  };
}
