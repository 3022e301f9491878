import type { Context, Next } from 'koa';
import type { Engine } from '../app/engine';

/** GET /health: database reachable, modules loaded, queue depth; for load balancers and operators. */
export function healthMiddleware(engine: Engine) {
  return async (ctx: Context, next: Next) => {
    if (ctx.method !== 'GET' || ctx.path !== '/health') return next();
    const started = Date.now();
    try {
      const queued = await engine.db.knex(engine.jobs.table).where({ status: 'queued', deleted: 0 }).count({ n: '*' }).first();
      ctx.body = { status: 'ok', database: engine.db.dialect.name, modules: engine.registry.modules.size, queued_jobs: Number(queued?.n ?? 0), response_ms: Date.now() - started };
    } catch (err) {
      ctx.status = 503;
      ctx.body = { status: 'unavailable', error: (err as Error).message };
    }
  };
}
