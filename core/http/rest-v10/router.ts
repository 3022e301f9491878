import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { CrmServices } from '../../app/services';
import { formatDateTime } from '../../records/time';
import { v10Errors } from '../middleware/errors';
import { bulkEndpoint } from './bulk';
import { globalSearchRoutes } from './globalsearch';
import { logoutEndpoint, requireToken, tokenEndpoint } from './auth';
import { meEndpoint, metadataEndpoint } from './metadata';
import { openApiDocument } from './openapi';
import { passwordEndpoint } from './password';
import { leadConvertRoutes } from './lead-convert';
import { recordRoutes } from './records';
import { smsRoutes } from './sms';

/** REST v10, mounted at /rest/v10. Public routes first; everything after requireToken needs a token. */
export function restV10Router(services: CrmServices): Router {
  const router = new Router({ prefix: '/rest/v10' });
  router.use(v10Errors(services.log));
  router.post('/oauth2/token', tokenEndpoint(services));
  router.post('/oauth2/logout', logoutEndpoint(services));
  router.get('/ping', (ctx) => { ctx.body = JSON.stringify('pong'); ctx.type = 'application/json'; });
  router.get('/ping/whattimeisit', (ctx) => { ctx.body = JSON.stringify(formatDateTime(new Date()).replace(' ', 'T') + '+00:00'); ctx.type = 'application/json'; });
  let openapi: Record<string, unknown> | undefined;
  router.get('/openapi.json', (ctx) => { ctx.body = (openapi ??= openApiDocument(services.engine.registry)); });

  const authed = new Router();
  authed.use(requireToken(services));
  authed.post('/bulk', bulkEndpoint(services, () => routes as unknown as Middleware));
  authed.get('/me', meEndpoint(services));
  authed.put('/me/password', passwordEndpoint(services));
  authed.post('/me/password', passwordEndpoint(services));
  authed.get('/metadata', metadataEndpoint(services));
  if (services.sms) smsRoutes(authed, services, services.sms);
  globalSearchRoutes(authed, services);
  leadConvertRoutes(authed, services);
  recordRoutes(authed, services);
  router.use(authed.routes(), authed.allowedMethods());
  const routes = router.routes();
  return router;
}
