import type { Context } from 'koa';
import { CaneError } from '../../errors';

/** A urlencoded form with repeated names kept (multi-selects, row checkboxes). */
export class FormData {
  constructor(private readonly params: URLSearchParams) {}

  get(name: string): string | undefined {
    return this.params.get(name) ?? undefined;
  }

  all(name: string): string[] {
    return this.params.getAll(name);
  }

  has(name: string): boolean {
    return this.params.has(name);
  }

  names(): string[] {
    return [...new Set(this.params.keys())];
  }
}

export async function readFormData(ctx: Context, limit: number): Promise<FormData> {
  const type = ctx.get('content-type') || '';
  if (!type.includes('application/x-www-form-urlencoded')) throw new CaneError('invalid_parameter', 'Forms must be posted as application/x-www-form-urlencoded', 415);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new CaneError('request_too_large', `The form is larger than ${limit} bytes`, 413);
    chunks.push(chunk as Buffer);
  }
  return new FormData(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}
