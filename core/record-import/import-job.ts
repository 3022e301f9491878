import type { Engine } from '../app/engine';
import { SYSTEM, type Actor } from '../records/actor';
import { actorFor, type UserRow } from '../security/authenticate';
import { RECORD_IMPORT_JOB, RecordImports } from './record-imports';

/** Registers the job that runs a queued import (once per queue), as the user who started it. */
export function registerRecordImportJob(engine: Engine): void {
  if (engine.jobs.hasHandler(RECORD_IMPORT_JOB)) return;
  engine.jobs.register(RECORD_IMPORT_JOB, async (job, { signal }) => {
    const importId = (job.data as { importId?: string } | null)?.importId;
    if (!importId) throw new Error('the job names no import');
    const imports = new RecordImports(engine);
    const imp = await imports.store.get(importId);
    if (imp.state !== 'queued') return { message: `import ${importId} is ${imp.state}; nothing to do` };
    const summary = await imports.run(await actorOf(engine, imp.userId), importId, undefined, signal);
    return { message: `${summary.rows} rows: ${summary.created} created, ${summary.updated} updated, ${summary.skipped} duplicates skipped, ${summary.refused} refused${summary.message ? `; ${summary.message}` : ''}` };
  });
}

async function actorOf(engine: Engine, userId: string | null): Promise<Actor> {
  if (!userId) return SYSTEM;
  const user = (await engine.db.knex('users').where({ id: userId, deleted: 0 }).first()) as UserRow | undefined;
  if (!user) throw new Error(`the user who started the import (${userId}) no longer exists`);
  return actorFor(user);
}
