import table from './twilio-errors.json';

export type ErrorClass = 'permanent' | 'opt_out' | 'backpressure' | 'transient' | 'auth';

export interface ClassifiedError {
  class: ErrorClass;
  code: string;
  reason: string;
}

const codes = table.codes as Record<string, { class: ErrorClass; reason: string }>;

/** Looks an error up in twilio-errors.json; unknown codes are classed by HTTP status. */
export function classifyError(code: string | number | undefined | null, httpStatus?: number, message?: string): ClassifiedError {
  const key = code === undefined || code === null || code === '' ? '' : String(code);
  const known = codes[key];
  if (known) return { class: known.class, code: key, reason: known.reason };
  const status = httpStatus ?? 0;
  const cls: ErrorClass = status === 429 ? 'backpressure' : status >= 500 || status === 0 ? 'transient' : status === 401 ? 'auth' : 'permanent';
  return { class: cls, code: key || (status ? `HTTP ${status}` : ''), reason: message ?? (status ? `the provider answered HTTP ${status}` : 'the provider failed') };
}
