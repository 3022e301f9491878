import Router from '@koa/router';
import type { CrmServices } from '../../app/services';
import { CaneError } from '../../errors';
import { accessTokenEndpoint } from './access-token';
import { requireBearer } from './auth';
import { JSON_API, oauthErrors, v8Errors } from './errors';
import { metaRoutes } from './meta';
import { moduleRoutes } from './records';
import { relationshipRoutes } from './relationships';

/**
 * Where SuiteCRM's V8 API answers: /Api (SuiteCRM 7's rewrite), /Api/index.php (its physical entry)
 * and /legacy/Api (SuiteCRM 8).
 */
export const V8_PREFIXES = ['/Api', '/Api/index.php', '/legacy/Api'];

/** SuiteCRM's JSON:API (`/Api/access_token`, `/Api/V8/...`) under one prefix. */
function v8RouterAt(prefix: string, services: CrmServices): Router {
  const router = new Router({ prefix });
  router.post('/access_token', oauthErrors(services.log), accessTokenEndpoint(services));

  const v8 = new Router();
  v8.use(v8Errors(services.log));
  v8.use(requireBearer(services));
  v8.use(async (ctx, next) => {
    await next();
    if (ctx.body !== undefined && ctx.status < 300) ctx.type = JSON_API;
  });
  metaRoutes(v8, services);
  moduleRoutes(v8, services);
  relationshipRoutes(v8, services);
  v8.all('/{*rest}', () => {
    throw new CaneError('not_found', 'Not found', 404);
  });
  router.use('/V8', v8.routes());
  return router;
}

export function v8Routers(services: CrmServices): Router[] {
  return V8_PREFIXES.map((prefix) => v8RouterAt(prefix, services));
}
