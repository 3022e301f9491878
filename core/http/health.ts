import Koa from 'koa';
import type { Engine } from '../app/engine';

/**
 * The HTTP application. For now it answers GET /health (database reachable, modules loaded,
 * queue depth) for load balancers and operators; the REST APIs and the UI mount here next.
 */
export function createHttpApp(engine: Engine): Koa {
  const app = new Koa();
  app.use(async (ctx, next) => {
    if (ctx.method !== 'GET' || ctx.path !== '/health') return next();
    const started = Date.now();
    try {
      const queued = await engine.db.knex('job_queue').where({ status: 'queued', deleted: 0 }).count({ n: '*' }).first();
      ctx.body = {
        status: 'ok',
        database: engine.db.dialect.name,
        modules: engine.registry.modules.size,
        queued_jobs: Number(queued?.n ?? 0),
        response_ms: Date.now() - started,
      };
    } catch (err) {
      ctx.status = 503;
      ctx.body = { status: 'unavailable', error: (err as Error).message };
    }
  });
  app.use(async (ctx) => {
    ctx.status = 404;
    ctx.body = { error: 'no_method', error_message: `No route for ${ctx.method} ${ctx.path}` };
  });
  return app;
}
