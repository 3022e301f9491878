/**
 * Typed errors. Every error Cane raises on purpose carries a stable `code`, an HTTP `status`
 * and details; the API layers convert them to Sugar's wire shapes at one boundary.
 */
export class CaneError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Metadata that cannot be loaded: names the file, the JSON pointer inside it and the rule broken. */
export class MetadataError extends CaneError {
  constructor(readonly file: string, readonly pointer: string, readonly rule: string, problem: string) {
    super('invalid_metadata', `${file}${pointer ? ` at ${pointer}` : ''}: ${problem} (${rule})`, 500, { file, pointer, rule });
  }
}

export interface FieldProblem {
  field: string;
  rule: string;
  message: string;
}

/** Record data that breaks the vardefs; lists every failing field at once. */
export class ValidationError extends CaneError {
  constructor(readonly module: string, readonly problems: FieldProblem[]) {
    super(
      'invalid_parameter',
      `${module}: ${problems.map((p) => `${p.field}: ${p.message} (${p.rule})`).join('; ')}`,
      422,
      { module, fields: problems },
    );
  }
}

export class NotFoundError extends CaneError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('not_found', message, 404, details);
  }
}

/** Optimistic locking: the record changed since the caller read it. */
export class ConflictError extends CaneError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('edit_conflict', message, 409, details);
  }
}

/** If-Match named a version of the record that is no longer current (HTTP's 412, not Sugar's 409). */
export class PreconditionFailedError extends CaneError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('precondition_failed', message, 412, details);
  }
}

/** A filter or order_by that names an unknown field or operator, or carries a malformed value. */
export class FilterError extends CaneError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('invalid_parameter', message, 422, details);
  }
}

/** Thrown by a before_* logic hook to stop the operation; reaches the API as a 422. */
export class HookVeto extends CaneError {
  constructor(message: string, readonly field?: string) {
    super('hook_veto', message, 422, field ? { field } : {});
  }
}

export class AccessDeniedError extends CaneError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('not_authorized', message, 403, details);
  }
}
