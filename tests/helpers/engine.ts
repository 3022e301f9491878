import { createEngine, type Engine, type EngineOptions } from '../../core/app/engine';
import { silentLogger } from '../../core/logger';
import { SYSTEM, type Actor } from '../../core/records/actor';
import { describeEachKind } from './databases';

export const admin: Actor = { type: 'user', id: '1', isAdmin: true, userName: 'admin' };
export { SYSTEM };

/** A settable clock for tests: starts at a fixed instant, moves only when told. */
export function fixedClock(start = '2026-03-10T12:00:00Z') {
  let now = new Date(start);
  const clock = () => new Date(now);
  clock.advance = (seconds: number) => { now = new Date(now.getTime() + seconds * 1000); };
  clock.set = (iso: string) => { now = new Date(iso); };
  return clock;
}

/** describe() once per database kind with a fresh engine (schema synced) for the block. */
export function describeEachEngine(title: string, body: (get: () => Engine) => void, options: Partial<EngineOptions> = {}): void {
  describeEachKind(title, async (db) => {
    const engine = await createEngine({ database: db, customDir: '/nonexistent', logger: silentLogger, ...options });
    return { value: engine, stop: () => engine.close() };
  }, body);
}
