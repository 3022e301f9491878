import type { FieldDef } from './types';

/** How a field's value behaves in Cane (validation, conversion), whatever its column type. */
export type ValueKind =
  | 'string' | 'text' | 'enum' | 'multienum' | 'int' | 'float' | 'decimal'
  | 'bool' | 'date' | 'datetime' | 'time';

/** Sugar's MysqlManager $type_map keys: the physical types a column can have. */
const PHYSICAL_TYPES = new Set([
  'int', 'double', 'float', 'uint', 'ulong', 'long', 'short', 'varchar', 'text', 'longtext', 'date', 'enum',
  'relate', 'multienum', 'html', 'longhtml', 'datetime', 'datetimecombo', 'time', 'bool', 'tinyint', 'char',
  'blob', 'longblob', 'currency', 'decimal', 'decimal2', 'id', 'url', 'encrypt', 'file',
]);

/** Logical types that Sugar always pairs with a dbType; without one they are stored as varchar. */
const IMPLIED_VARCHAR = new Set(['phone', 'name', 'email', 'user_name', 'fullname', 'password', 'image', 'parent_type', 'iframe', 'readonly', 'radioenum', 'dynamicenum', 'wysiwyg', 'emailbody', 'stringmap', 'CronSchedule']);
const IMPLIED_ID = new Set(['assigned_user_name', 'modified_user_name', 'currency_id']);

const NEVER_STORED = new Set(['link', 'function', 'none', 'parent']);

/** dbType, then dbtype, then type: DBManager::getFieldType. */
export function physicalType(field: FieldDef): string {
  const declared = String(field.dbType ?? field.dbtype ?? field.type);
  if (PHYSICAL_TYPES.has(declared)) return declared;
  if (IMPLIED_ID.has(declared)) return 'id';
  if (IMPLIED_VARCHAR.has(declared)) return 'varchar';
  return declared;
}

/** A real column: source missing, 'db' or 'custom_fields' (a column of `<table>_cstm`), and a type that has storage. */
export function isStored(field: FieldDef): boolean {
  if (field.source && field.source !== 'db' && field.source !== 'custom_fields') return false;
  return !NEVER_STORED.has(field.type);
}

export function isKnownPhysicalType(type: string): boolean {
  return PHYSICAL_TYPES.has(type);
}

export function valueKind(field: FieldDef): ValueKind {
  switch (field.type) {
    case 'int': case 'uint': case 'long': case 'ulong': case 'short': case 'tinyint':
      return 'int';
    case 'float': case 'double':
      return 'float';
    case 'decimal': case 'decimal2': case 'currency':
      return 'decimal';
    case 'bool':
      return 'bool';
    case 'date':
      return 'date';
    case 'datetime': case 'datetimecombo':
      return 'datetime';
    case 'time':
      return 'time';
    case 'enum': case 'radioenum': case 'dynamicenum':
      return 'enum';
    case 'multienum':
      return 'multienum';
    case 'text': case 'longtext': case 'html': case 'longhtml': case 'wysiwyg': case 'emailbody':
      return 'text';
    default:
      return 'string';
  }
}

/** Column length in characters for string-like columns, as Sugar defaults it. */
export function maxLength(field: FieldDef): number | undefined {
  const type = physicalType(field);
  if (type === 'id') return 36;
  const len = field.len === undefined ? undefined : parseInt(String(field.len), 10);
  if (['varchar', 'enum', 'relate', 'url', 'encrypt', 'file', 'char'].includes(type)) return len ?? 255;
  if (type === 'text' || type === 'multienum' || type === 'html') return len ?? 65535;
  return undefined;
}

/** [precision, scale] of a decimal column: currency is decimal(26,6) as in Sugar. */
export function decimalShape(field: FieldDef): [number, number] {
  const type = physicalType(field);
  if (type === 'currency') return [26, 6];
  const len = String(field.len ?? '');
  if (len.includes(',')) {
    const [p, s] = len.split(',').map((n) => parseInt(n, 10));
    return [p, s];
  }
  const precision = len ? parseInt(len, 10) : 26;
  const scale = field.precision !== undefined ? parseInt(String(field.precision), 10) : 6;
  return [precision, scale];
}

export function isTruthy(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 'true';
}

/** Sugar: `required` plus isnull false, the primary id, or auto_increment give NOT NULL. */
export function isNotNull(field: FieldDef, primary: boolean): boolean {
  if (primary || field.auto_increment) return true;
  return isTruthy(field.required) && (field.isnull === false || field.isnull === 'false');
}
