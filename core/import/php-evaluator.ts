import { Engine } from 'php-parser';
import { PhpArray, type PhpKey, type PhpValue } from './php-array';

/** Something in a PHP file the importer did not carry over, and what it did instead. */
export interface SkippedConstruct {
  file: string;
  line: number;
  what: string;
  instead: string;
}

/** A `VardefManager::createVardef('Module', 'Object', array(templates))` call. */
export interface CreateVardefCall {
  module: string;
  objectName: string;
  templates: string[];
  line: number;
}

/** The variables of an evaluation, shared by files evaluated in sequence (Sugar's Extension fragments). */
export class PhpScope {
  readonly vars = new Map<string, PhpValue>();
  readonly createVardefs: CreateVardefCall[] = [];

  array(name: string): PhpArray | undefined {
    const v = this.vars.get(name);
    return v instanceof PhpArray ? v : undefined;
  }
}

/** Loose view of php-parser's AST: only the members the evaluator reads. */
interface Node {
  kind: string;
  loc?: { start: { line: number } } | null;
  [member: string]: unknown;
}

class Unsupported extends Error {
  constructor(readonly node: Node, readonly what: string) {
    super(what);
  }
}

const parser = new Engine({ parser: { php7: true, suppressErrors: false, extractDoc: false }, ast: { withPositions: true } });

/** Parses PHP text; undefined when it is not PHP (then the caller names the file and skips it). */
export function parsePhp(source: string, file: string): Node | undefined {
  if (!/^\s*<\?php/i.test(source)) return undefined;
  try {
    return parser.parseCode(source, file) as unknown as Node;
  } catch {
    return undefined;
  }
}

/**
 * Evaluates a PHP metadata file into `scope` without executing anything: assignments of literal
 * arrays and scalars, string concatenation, variables holding literals, translate() (kept as its
 * label key), array_merge of literals and createVardef calls. Everything else is reported and left out.
 */
export function evaluatePhp(program: Node, file: string, scope: PhpScope, skipped: SkippedConstruct[]): void {
  const skip = (node: Node, what: string, instead: string) => skipped.push({ file, line: lineOf(node), what, instead });
  const evaluator = new Evaluator(scope, skip);
  for (const statement of (program.children as Node[]) ?? []) evaluator.statement(statement);
}

class Evaluator {
  constructor(
    private readonly scope: PhpScope,
    private readonly skip: (node: Node, what: string, instead: string) => void,
  ) {}

  statement(node: Node): void {
    try {
      switch (node.kind) {
        case 'expressionstatement':
          return this.expressionStatement(node.expression as Node);
        case 'global':
        case 'inline':
        case 'noop':
        case 'declare':
          return;
        case 'if':
          if (isEntryPointGuard(node)) return;
          return this.skip(node, 'a conditional (if)', 'not evaluated; neither branch carried over');
        case 'include':
          return this.skip(node, `${node.require ? 'a require' : 'an include'} of another file`, 'not followed');
        default:
          return this.skip(node, `a PHP ${node.kind} statement`, 'not executed');
      }
    } catch (e) {
      if (!(e instanceof Unsupported)) throw e;
      this.skip(e.node, e.what, 'the whole statement left out');
    }
  }

  private expressionStatement(expr: Node): void {
    if (expr.kind === 'assign') return this.assign(expr);
    if (expr.kind === 'call' && this.createVardef(expr)) return;
    if (expr.kind === 'include') return this.skip(expr, `${expr.require ? 'a require' : 'an include'} of another file`, 'not followed');
    if (expr.kind === 'call') return this.skip(expr, `a call of ${calleeName(expr)}()`, 'not executed');
    if (expr.kind === 'exit') return this.skip(expr, 'exit/die', 'ignored');
    this.skip(expr, `a PHP ${expr.kind} expression`, 'not executed');
  }

  private assign(expr: Node): void {
    const { name, keys } = this.target(expr.left as Node);
    const right = this.value(expr.right as Node);
    const operator = expr.operator as string;
    if (operator !== '=' && operator !== '.=') throw new Unsupported(expr, `an assignment with ${operator}`);
    if (!keys.length) {
      this.scope.vars.set(name, operator === '.=' ? `${scalarText(this.scope.vars.get(name) ?? '', expr)}${scalarText(right, expr)}` : right);
      return;
    }
    let container = this.scope.vars.get(name);
    if (!(container instanceof PhpArray)) {
      container = new PhpArray();
      this.scope.vars.set(name, container);
    }
    let current = container;
    for (const key of keys.slice(0, -1)) {
      let next = key === undefined ? undefined : current.get(key);
      if (!(next instanceof PhpArray)) {
        next = new PhpArray();
        current.set(key, next);
      }
      current = next;
    }
    const last = keys[keys.length - 1];
    if (operator === '.=') {
      const before = last === undefined ? '' : current.get(last) ?? '';
      current.set(last, `${scalarText(before, expr)}${scalarText(right, expr)}`);
    } else current.set(last, right);
  }

  /** `$a`, `$a['x']['y']`, `$a[$module_name][]`: the variable and its keys (undefined for `[]`). */
  private target(node: Node): { name: string; keys: Array<PhpKey | undefined> } {
    if (node.kind === 'variable' && typeof node.name === 'string') return { name: node.name, keys: [] };
    if (node.kind === 'offsetlookup') {
      const base = this.target(node.what as Node);
      const offset = node.offset as Node | null;
      if (!offset) return { name: base.name, keys: [...base.keys, undefined] };
      return { name: base.name, keys: [...base.keys, this.key(offset)] };
    }
    throw new Unsupported(node, `an assignment to a computed target (${node.kind})`);
  }

  private key(node: Node): PhpKey {
    const k = this.value(node);
    if (typeof k === 'string' || typeof k === 'number') return k;
    if (typeof k === 'boolean') return k ? 1 : 0;
    if (k === null) return '';
    throw new Unsupported(node, 'an array used as a key');
  }

  private createVardef(call: Node): boolean {
    const what = call.what as Node;
    if (what.kind !== 'staticlookup') return false;
    const cls = (what.what as Node).name;
    const method = (what.offset as Node).name;
    if (cls !== 'VardefManager' || method !== 'createVardef') return false;
    const args = (call.arguments as Node[]).map((a) => this.value(a));
    const [module, objectName, templates] = args;
    if (typeof module !== 'string' || typeof objectName !== 'string') throw new Unsupported(call, 'createVardef with a computed module or object name');
    const list = templates instanceof PhpArray ? [...templates.entries.values()].filter((t): t is string => typeof t === 'string') : ['default'];
    this.scope.createVardefs.push({ module, objectName, templates: list, line: lineOf(call) });
    return true;
  }

  value(node: Node): PhpValue {
    switch (node.kind) {
      case 'string':
        return node.value as string;
      case 'number':
        return Number(String(node.value).replaceAll('_', ''));
      case 'boolean':
        return node.value as boolean;
      case 'nullkeyword':
        return null;
      case 'array':
        return this.array(node);
      case 'variable': {
        const name = node.name as string;
        const v = this.scope.vars.get(name);
        if (typeof name !== 'string' || v === undefined) throw new Unsupported(node, `the variable $${String(name)}, which has no literal value here`);
        return v instanceof PhpArray ? v.clone() : v;
      }
      case 'offsetlookup': {
        const container = this.value(node.what as Node);
        const offset = node.offset as Node | null;
        const found = container instanceof PhpArray && offset ? container.get(this.key(offset)) : undefined;
        if (found === undefined) throw new Unsupported(node, 'a lookup in an array that has no literal value here');
        return found instanceof PhpArray ? found.clone() : found;
      }
      case 'bin':
        return this.binary(node);
      case 'unary': {
        const v = this.value(node.what as Node);
        if (node.type === '-' && typeof v === 'number') return -v;
        if (node.type === '+' && typeof v === 'number') return v;
        if (node.type === '!') return !v;
        throw new Unsupported(node, `the operator ${String(node.type)}`);
      }
      case 'cast': {
        const v = this.value(node.expr as Node);
        if (v instanceof PhpArray) throw new Unsupported(node, 'a cast of an array');
        if (node.type === 'int') return Math.trunc(Number(v));
        if (node.type === 'float') return Number(v);
        if (node.type === 'string') return scalarText(v, node);
        if (node.type === 'bool') return Boolean(v) && v !== '0';
        throw new Unsupported(node, `a cast to ${String(node.type)}`);
      }
      case 'encapsed':
        return (node.value as Node[]).map((part) => scalarText(this.value(part.kind === 'encapsedpart' ? (part.expression as Node) : part), part)).join('');
      case 'nowdoc':
        return node.value as string;
      case 'name': {
        const constant = String(node.name).toLowerCase();
        if (constant === 'true') return true;
        if (constant === 'false') return false;
        if (constant === 'null') return null;
        throw new Unsupported(node, `the constant ${String(node.name)}`);
      }
      case 'call':
        return this.knownCall(node);
      default:
        throw new Unsupported(node, `a PHP ${node.kind} expression`);
    }
  }

  private array(node: Node): PhpArray {
    const result = new PhpArray();
    for (const item of (node.items as Array<Node | null>) ?? []) {
      if (!item) continue;
      const entry = item.kind === 'entry' ? item : ({ kind: 'entry', key: null, value: item, loc: item.loc } as Node);
      try {
        if (entry.unpack) throw new Unsupported(entry, 'an unpacked array (...)');
        const key = entry.key ? this.key(entry.key as Node) : undefined;
        result.set(key, this.value(entry.value as Node));
      } catch (e) {
        if (!(e instanceof Unsupported)) throw e;
        const label = entry.key ? describeKey(entry.key as Node) : 'an entry';
        this.skip(e.node, e.what, `${label} left out of the array`);
      }
    }
    return result;
  }

  private binary(node: Node): PhpValue {
    const left = this.value(node.left as Node);
    const right = this.value(node.right as Node);
    if (node.type === '.') return `${scalarText(left, node)}${scalarText(right, node)}`;
    if (typeof left === 'number' && typeof right === 'number') {
      if (node.type === '+') return left + right;
      if (node.type === '-') return left - right;
      if (node.type === '*') return left * right;
    }
    throw new Unsupported(node, `the operator ${String(node.type)}`);
  }

  /** translate('LBL_X', 'Module') keeps the label key; array_merge of literal arrays merges as PHP does. */
  private knownCall(node: Node): PhpValue {
    const name = calleeName(node).toLowerCase();
    const args = node.arguments as Node[];
    if (name === 'translate' && args.length) {
      const key = this.value(args[0]);
      if (typeof key === 'string') return key;
    }
    if (name === 'array_merge') {
      const merged = new PhpArray();
      for (const arg of args) {
        const v = this.value(arg);
        if (!(v instanceof PhpArray)) throw new Unsupported(arg, 'array_merge of something that is not an array');
        for (const [k, item] of v.entries) merged.set(typeof k === 'number' ? undefined : k, item);
      }
      return merged;
    }
    throw new Unsupported(node, `a call of ${calleeName(node)}()`);
  }
}

function calleeName(call: Node): string {
  const what = call.what as Node;
  if (what.kind === 'name') return String(what.name);
  if (what.kind === 'staticlookup') return `${String((what.what as Node).name)}::${String((what.offset as Node).name)}`;
  if (what.kind === 'propertylookup') return `->${String((what.offset as Node).name)}`;
  return what.kind;
}

function describeKey(node: Node): string {
  return node.kind === 'string' || node.kind === 'number' ? `'${String(node.value)}'` : 'an entry';
}

function scalarText(value: PhpValue, node: Node): string {
  if (value instanceof PhpArray) throw new Unsupported(node, 'an array used as a string');
  if (value === null || value === false) return '';
  if (value === true) return '1';
  return String(value);
}

/** `if (!defined('sugarEntry') || !sugarEntry) die(...)`: the header of every Sugar file, harmless. */
function isEntryPointGuard(node: Node): boolean {
  return JSON.stringify(node.test ?? '').includes('"sugarEntry"');
}

function lineOf(node: Node): number {
  return node.loc?.start.line ?? 0;
}
