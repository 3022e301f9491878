import http, { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { Context, Middleware } from 'koa';
import type { CrmServices } from '../../app/services';
import { CaneError } from '../../errors';
import { readJson } from '../middleware/body';

/** At most this many sub-requests in one POST /bulk. */
export const MAX_BULK_REQUESTS = 100;

interface SubRequest { method: string; path: string; body: string; headers: Record<string, string> }
interface SubResponse { contents: unknown; headers: Record<string, unknown>; status: number; status_text: string }

function errorEntry(status: number, error: string, message: string): SubResponse {
  return { contents: { error, error_message: message }, headers: { 'content-type': 'application/json; charset=utf-8' }, status, status_text: http.STATUS_CODES[status] ?? '' };
}

/** One entry of `requests` as a request to run, or why it cannot run. */
function subRequestOf(raw: unknown, index: number): SubRequest | SubResponse {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return errorEntry(422, 'invalid_parameter', `requests[${index}] must be an object with url and method`);
  const { url, method = 'GET', data, headers = {} } = raw as Record<string, unknown>;
  if (typeof url !== 'string' || !/^\/(rest\/)?v10\//.test(url)) return errorEntry(422, 'invalid_parameter', `requests[${index}].url must be a /v10/… path`);
  const path = `/rest${url.replace(/^\/rest/, '')}`;
  if (/^\/rest\/v10\/bulk(\/|\?|$)/i.test(path)) return errorEntry(422, 'invalid_parameter', `requests[${index}] may not be another bulk request`);
  if (typeof method !== 'string' || !/^(GET|POST|PUT|DELETE|PATCH)$/i.test(method)) return errorEntry(422, 'invalid_parameter', `requests[${index}].method must be GET, POST, PUT, PATCH or DELETE`);
  if (!headers || typeof headers !== 'object' || Array.isArray(headers)) return errorEntry(422, 'invalid_parameter', `requests[${index}].headers must be an object`);
  // Sugar's clients send `data` as a JSON string; an object is taken as the body it encodes.
  const body = data === undefined || data === null ? '' : typeof data === 'string' ? data : JSON.stringify(data);
  const named = Object.fromEntries(Object.entries(headers).filter(([, v]) => typeof v === 'string').map(([k, v]) => [k.toLowerCase(), v as string]));
  return { method: method.toUpperCase(), path, body, headers: named };
}

/** Runs one sub-request through the v10 routes as if it had come in on its own. */
async function dispatch(ctx: Context, routes: Middleware, sub: SubRequest): Promise<SubResponse> {
  const req = new IncomingMessage(new Socket());
  req.method = sub.method;
  req.url = sub.path;
  // The caller's token rides along; the sub-request's own headers come on top.
  const token = ctx.get('oauth-token');
  const authorization = ctx.get('authorization');
  req.headers = {
    ...(token ? { 'oauth-token': token } : {}),
    ...(authorization ? { authorization } : {}),
    ...(sub.body ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(sub.body)) } : {}),
    ...sub.headers,
  };
  req.push(sub.body ? Buffer.from(sub.body) : null);
  if (sub.body) req.push(null);
  const subCtx = ctx.app.createContext(req, new ServerResponse(req));
  let routed = true;
  await routes(subCtx, async () => { routed = false; });
  if (!routed && subCtx.body === undefined) return errorEntry(404, 'no_method', `Could not find a route for ${sub.method} ${sub.path}`);
  let contents: unknown = subCtx.body ?? null;
  if (typeof contents === 'string' && /json/.test(subCtx.response.type)) contents = JSON.parse(contents);
  const status = subCtx.status;
  return { contents, headers: { ...subCtx.response.headers }, status, status_text: http.STATUS_CODES[status] ?? '' };
}

/**
 * POST /bulk (Sugar's BulkApi): `{requests: [{url: "/v10/…", method, data, headers}]}` → one
 * `{contents, headers, status, status_text}` per request, in order. Each runs alone, so one that
 * fails answers its own error and the others still run.
 */
export function bulkEndpoint(services: CrmServices, routes: () => Middleware) {
  return async (ctx: Context) => {
    const body = (await readJson(ctx, services.bodyLimit)) as { requests?: unknown };
    const requests = body && typeof body === 'object' && !Array.isArray(body) ? body.requests : undefined;
    if (!Array.isArray(requests)) throw new CaneError('missing_parameter', 'requests must be a list of {url, method, data}', 422, { field: 'requests' });
    if (requests.length > MAX_BULK_REQUESTS) throw new CaneError('invalid_parameter', `requests may hold at most ${MAX_BULK_REQUESTS} entries, got ${requests.length}`, 422, { field: 'requests' });
    const answers: SubResponse[] = [];
    for (const [index, raw] of requests.entries()) {
      const sub = subRequestOf(raw, index);
      answers.push('status' in sub ? sub : await dispatch(ctx, routes(), sub));
    }
    ctx.body = answers;
  };
}
