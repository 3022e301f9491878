import crypto from 'node:crypto';
import type { Database } from '../db/connection';

/**
 * The installation secret that keys token digests and cookie signatures. CANE_SECRET wins; otherwise
 * one is generated once and kept in Sugar's `config` table so every process shares it.
 */
export async function installationSecret(db: Database, fromEnv = process.env.CANE_SECRET): Promise<string> {
  if (fromEnv) return fromEnv;
  const where = { category: 'cane', name: 'secret' };
  const existing = await db.knex('config').where(where).first();
  if (existing?.value) return existing.value;
  const generated = crypto.randomBytes(32).toString('base64url');
  await db.knex.transaction(async (trx) => {
    const again = await trx('config').where(where).first();
    if (!again) await trx('config').insert({ ...where, value: generated });
  });
  return (await db.knex('config').where(where).first()).value;
}
