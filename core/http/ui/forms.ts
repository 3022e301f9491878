import type { Context } from 'koa';
import { CaneError } from '../../errors';
import { readRaw } from '../middleware/body';

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

  /** A copy with `name` set to `value`. */
  with(name: string, value: string): FormData {
    const params = new URLSearchParams(this.params);
    params.set(name, value);
    return new FormData(params);
  }

  /** From decoded values (a query object or JSON): strings and lists of strings; anything else is dropped. */
  static of(values: Record<string, unknown>): FormData {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(values ?? {})) {
      for (const v of Array.isArray(value) ? value : [value]) if (typeof v === 'string') params.append(name, v);
    }
    return new FormData(params);
  }
}

export async function readFormData(ctx: Context, limit: number): Promise<FormData> {
  const type = ctx.get('content-type') || '';
  if (!type.includes('application/x-www-form-urlencoded')) throw new CaneError('invalid_parameter', 'Forms must be posted as application/x-www-form-urlencoded', 415);
  const text = await readRaw(ctx, limit);
  return new FormData(new URLSearchParams(text));
}
