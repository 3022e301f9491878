import type { Context } from 'koa';
import { CaneError } from '../../errors';

export const DEFAULT_BODY_LIMIT = 1_048_576;

/** The request body as text, refusing more than `limit` bytes (413). */
export async function readRaw(ctx: Context, limit: number): Promise<string> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw new CaneError('request_too_large', `The request body is larger than ${limit} bytes`, 413);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new CaneError('request_too_large', `The request body is larger than ${limit} bytes`, 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The request body as JSON (an empty body is {}); malformed JSON is a 422 saying where it broke. */
export async function readJson(ctx: Context, limit = DEFAULT_BODY_LIMIT): Promise<unknown> {
  const text = await readRaw(ctx, limit);
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CaneError('invalid_parameter', `The request body is not valid JSON: ${(err as Error).message}`, 422);
  }
}

/** A form-urlencoded (or JSON) body as a flat map, merged over the query string like PHP's $_REQUEST. */
export async function readForm(ctx: Context, limit = DEFAULT_BODY_LIMIT): Promise<Record<string, string>> {
  const text = ctx.method === 'GET' ? '' : await readRaw(ctx, limit);
  const fields: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(ctx.querystring)) fields[k] = v;
  if ((ctx.get('content-type') || '').includes('application/json') && text.trim()) {
    try {
      Object.assign(fields, JSON.parse(text));
    } catch {
      // v4_1 always answers 200 with an error body; the caller reports the missing method.
    }
  } else {
    for (const [k, v] of new URLSearchParams(text)) fields[k] = v;
  }
  return fields;
}
