import { FilterError } from '../errors';
import type { ModuleDef } from '../metadata/registry';
import type { Filter, FilterClause } from './filter-to-knex';
import type { OrderBy } from './order-by';

/**
 * Sugar's v4_1 `query` argument is a SQL WHERE fragment. Cane never sends it to the database:
 * this parser accepts the forms clients really use — comparisons (=, <>, !=, <, <=, >, >=),
 * [NOT] LIKE, [NOT] IN (...), IS [NOT] NULL, BETWEEN, AND, OR and parentheses, on columns of
 * the module's table — and turns them into the v10 filter language. Anything else is refused
 * with a message naming what was not understood and where.
 */

type Token =
  | { kind: 'ident'; value: string; pos: number }
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'number'; value: string; pos: number }
  | { kind: 'op'; value: string; pos: number }
  | { kind: 'punct'; value: '(' | ')' | ',' | '.'; pos: number }
  | { kind: 'end'; value: ''; pos: number };

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'LIKE', 'IN', 'IS', 'NULL', 'BETWEEN', 'ASC', 'DESC']);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (what: string) => { throw new FilterError(`query: ${what} at position ${i + 1}`, { position: i + 1 }); };
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === "'" || c === '"') {
      const start = i;
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) { i = start; fail('unterminated string'); }
        if (text[i] === c && text[i + 1] === c) { value += c; i += 2; continue; }
        if (text[i] === '\\' && i + 1 < text.length) { value += text[i + 1]; i += 2; continue; }
        if (text[i] === c) { i++; break; }
        value += text[i++];
      }
      tokens.push({ kind: 'string', value, pos: start });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^-?\d+(\.\d+)?/.exec(text.slice(i))!;
      tokens.push({ kind: 'number', value: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))!;
      tokens.push({ kind: 'ident', value: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    if (c === '`') {
      const end = text.indexOf('`', i + 1);
      if (end < 0) fail('unterminated `identifier`');
      const name = text.slice(i + 1, end);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) fail(`'${name}' is not a column name`);
      tokens.push({ kind: 'ident', value: name, pos: i });
      i = end + 1;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (['<>', '!=', '<=', '>='].includes(two)) { tokens.push({ kind: 'op', value: two, pos: i }); i += 2; continue; }
    if (['=', '<', '>'].includes(c)) { tokens.push({ kind: 'op', value: c, pos: i }); i++; continue; }
    if (c === '(' || c === ')' || c === ',' || c === '.') { tokens.push({ kind: 'punct', value: c, pos: i }); i++; continue; }
    fail(`'${c}' is not understood (only comparisons, LIKE, IN, IS NULL, BETWEEN, AND, OR and parentheses are accepted)`);
  }
  tokens.push({ kind: 'end', value: '', pos: text.length });
  return tokens;
}

class Parser {
  private i = 0;

  constructor(private readonly tokens: Token[], private readonly module: ModuleDef) {}

  private peek(): Token { return this.tokens[this.i]; }
  private next(): Token { return this.tokens[this.i++]; }
  private keyword(word: string): boolean {
    const t = this.peek();
    if (t.kind === 'ident' && t.value.toUpperCase() === word) { this.i++; return true; }
    return false;
  }
  private fail(what: string, token = this.peek()): never {
    throw new FilterError(`query: ${what} at position ${token.pos + 1}`, { position: token.pos + 1 });
  }
  private expectPunct(value: string) {
    const t = this.next();
    if (t.kind !== 'punct' || t.value !== value) this.fail(`expected '${value}'`, t);
  }

  parseWhere(): Filter {
    if (this.peek().kind === 'end') return [];
    const clause = this.or();
    if (this.peek().kind !== 'end') this.fail(`unexpected '${this.peek().value}'`);
    return [clause];
  }

  parseOrderBy(): OrderBy[] {
    const result: OrderBy[] = [];
    if (this.peek().kind === 'end') return result;
    for (;;) {
      const field = this.column();
      let direction: 'asc' | 'desc' = 'asc';
      if (this.keyword('DESC')) direction = 'desc';
      else this.keyword('ASC');
      result.push({ field, direction });
      const t = this.peek();
      if (t.kind === 'punct' && t.value === ',') { this.i++; continue; }
      if (t.kind !== 'end') this.fail(`unexpected '${t.value}' in order_by`);
      return result;
    }
  }

  private or(): FilterClause {
    const parts = [this.and()];
    while (this.keyword('OR')) parts.push(this.and());
    return parts.length === 1 ? parts[0] : { $or: parts };
  }

  private and(): FilterClause {
    const parts = [this.primary()];
    while (this.keyword('AND')) parts.push(this.primary());
    return parts.length === 1 ? parts[0] : { $and: parts };
  }

  private primary(): FilterClause {
    const t = this.peek();
    if (t.kind === 'punct' && t.value === '(') {
      this.i++;
      const inner = this.or();
      this.expectPunct(')');
      return inner;
    }
    return this.predicate();
  }

  /** `accounts.name`, `name`, or `accounts_cstm.tier_c`; the table must be the module's. */
  private column(): string {
    const first = this.next();
    if (first.kind !== 'ident' || KEYWORDS.has(first.value.toUpperCase())) this.fail('expected a column name', first);
    let name = first.value;
    const dot = this.peek();
    if (dot.kind === 'punct' && dot.value === '.') {
      this.i++;
      const col = this.next();
      if (col.kind !== 'ident') this.fail('expected a column name after the table', col);
      const table = first.value.toLowerCase();
      if (table !== this.module.table && table !== `${this.module.table}_cstm`) this.fail(`table '${first.value}' is not ${this.module.table}`, first);
      name = col.value;
    }
    const field = this.module.fields[name];
    if (!field || field.source === 'non-db' || field.type === 'link' || field.sensitive) this.fail(`'${name}' is not a column of ${this.module.table}`, first);
    return name;
  }

  private literal(): string | number {
    const t = this.next();
    if (t.kind === 'string') return t.value;
    if (t.kind === 'number') return Number(t.value);
    if (t.kind === 'punct' && t.value === '(') this.fail('sub-queries are not accepted', t);
    if (t.kind === 'ident' && t.value.toUpperCase() === 'SELECT') this.fail('sub-queries are not accepted', t);
    if (t.kind === 'ident') this.fail(`'${t.value}' is not a value (comparing columns or calling functions is not accepted; quote text values)`, t);
    return this.fail('expected a value', t);
  }

  private predicate(): FilterClause {
    const field = this.column();
    const t = this.peek();
    if (t.kind === 'op') {
      this.i++;
      const value = this.literal();
      const op = { '=': '$equals', '<>': '$not_equals', '!=': '$not_equals', '<': '$lt', '<=': '$lte', '>': '$gt', '>=': '$gte' }[t.value]!;
      return { [field]: { [op]: value } };
    }
    if (this.keyword('IS')) {
      const negate = this.keyword('NOT');
      if (!this.keyword('NULL')) this.fail('expected NULL after IS');
      return { [field]: { [negate ? '$not_null' : '$is_null']: '' } };
    }
    const negate = this.keyword('NOT');
    if (this.keyword('LIKE')) {
      const pattern = this.next();
      if (pattern.kind !== 'string') this.fail('LIKE needs a quoted pattern', pattern);
      return likeClause(field, pattern.value, negate, (what) => this.fail(what, pattern));
    }
    if (this.keyword('IN')) {
      this.expectPunct('(');
      const values = [this.literal()];
      while (this.peek().kind === 'punct' && this.peek().value === ',') { this.i++; values.push(this.literal()); }
      this.expectPunct(')');
      return { [field]: { [negate ? '$not_in' : '$in']: values } };
    }
    if (!negate && this.keyword('BETWEEN')) {
      const low = this.literal();
      if (!this.keyword('AND')) this.fail('expected AND in BETWEEN');
      return { [field]: { $between: [low, this.literal()] } };
    }
    return this.fail(`expected a comparison after '${field}'`);
  }
}

/**
 * A LIKE pattern in the filter language, where `%` inside a value is a wildcard: 'x%' starts,
 * '%x' ends, '%x%' contains, 'x%y' both starts with 'x%y' and ends with 'y' (which is what LIKE
 * 'x%y' means), no % equals. '_' is taken literally.
 */
function likeClause(field: string, pattern: string, negate: boolean, fail: (what: string) => never): FilterClause {
  const starts = pattern.endsWith('%');
  const ends = pattern.startsWith('%');
  const core = pattern.replace(/^%+/, '').replace(/%+$/, '');
  if (negate) {
    if (!(starts && ends)) fail("NOT LIKE accepts only '%x%'");
    return { [field]: { $not_contains: core } };
  }
  if (starts && ends) return { [field]: { $contains: core } };
  if (starts) return { [field]: { $starts: core } };
  if (ends) return { [field]: { $ends: core } };
  if (!core.includes('%')) return { [field]: { $equals: core } };
  const last = core.slice(core.lastIndexOf('%') + 1);
  return { $and: [{ [field]: { $starts: core } }, { [field]: { $ends: last } }] };
}

export function parseSqlWhere(module: ModuleDef, query: string): Filter {
  if (query.length > 4000) throw new FilterError('query: longer than 4000 characters');
  return new Parser(tokenize(query), module).parseWhere();
}

export function parseSqlOrderBy(module: ModuleDef, orderBy: string): OrderBy[] {
  if (orderBy.length > 500) throw new FilterError('order_by: longer than 500 characters');
  return new Parser(tokenize(orderBy), module).parseOrderBy();
}
