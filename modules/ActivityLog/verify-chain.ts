import crypto from 'node:crypto';
import type { Database } from '../../core/db/connection';

export interface ChainReport {
  entries: number;
  ok: boolean;
  /** The first entry that does not fit the chain, and why. */
  broken?: { sequence: number; id: string; problem: string };
}

/** The same digest input as plugins/audit-log/index.js. */
function digestInput(prev: string, e: Record<string, unknown>): string {
  const s = (v: unknown) => (v === null || v === undefined ? '' : String(v));
  return JSON.stringify([prev, s(e.action), s(e.target_module), s(e.target_id), s(e.actor_id), s(e.occurred_at).slice(0, 19), s(e.name), s(e.details)]);
}

/**
 * Walks the activity log in order and checks every link: each entry's prev_hash is the previous
 * entry's hash and its hash is the SHA-256 of its content. An edited, removed or reordered entry
 * breaks the chain at that point.
 */
export async function verifyActivityChain(db: Database): Promise<ChainReport> {
  let prev = 'genesis';
  let entries = 0;
  let lastSequence = 0;
  for (let offset = 0; ; offset += 1000) {
    const rows = await db.knex('cane_activity_log').where('deleted', 0).orderBy('sequence').limit(1000).offset(offset);
    for (const row of rows) {
      entries++;
      const broken = (problem: string): ChainReport => ({ entries, ok: false, broken: { sequence: Number(row.sequence), id: row.id, problem } });
      if (Number(row.sequence) <= lastSequence) return broken('sequence out of order');
      lastSequence = Number(row.sequence);
      if (row.prev_hash !== prev) return broken(`prev_hash does not match the previous entry (an entry before it was removed or changed)`);
      const hash = crypto.createHash('sha256').update(digestInput(prev, row)).digest('hex');
      if (hash !== row.hash) return broken('content does not match its hash (the entry was edited)');
      prev = row.hash;
    }
    if (rows.length < 1000) break;
  }
  const removed = await db.knex('cane_activity_log').where('deleted', 1).count({ n: '*' }).first();
  if (Number(removed?.n ?? 0) > 0) return { entries, ok: false, broken: { sequence: 0, id: '', problem: `${String(removed?.n)} entries are marked deleted` } };
  return { entries, ok: true };
}
