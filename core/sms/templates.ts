import Handlebars from 'handlebars';

import type { Registry, ModuleDef } from '../metadata/registry';
import type { Actor } from '../records/actor';
import type { RecordService } from '../records/record-service';

/** SMS text is not HTML: no escaping; the built-in block helpers and `default`. */
const sms = Handlebars.create();
/** `{{default first_name "there"}}`: the field, or the fallback when the record leaves it empty. */
sms.registerHelper('default', (value: unknown, fallback: unknown) => (value === null || value === undefined || String(value).trim() === '' ? fallback : value));

export class TemplateProblem extends Error {}

interface Compiled {
  render: (data: unknown) => string;
  /** Paths used, split on dots (`assigned_user.first_name` → ['assigned_user', 'first_name']). */
  paths: string[][];
  /** Paths given a fallback with `{{default path "…"}}`: empty is fine for them. */
  guarded: Set<string>;
}

const cache = new Map<string, Compiled>();

export function compileSmsTemplate(body: string): Compiled {
  const hit = cache.get(body);
  if (hit) return hit;
  let ast: ReturnType<typeof sms.parse>;
  try {
    ast = sms.parse(body);
  } catch (err) {
    throw new TemplateProblem(`template syntax error: ${(err as Error).message.split('\n').slice(0, 3).join(' ')}`);
  }
  const paths: string[][] = [];
  const guarded = new Set<string>();
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const n = node as { type?: string; parts?: string[]; data?: boolean; original?: string; path?: { original?: string }; params?: Array<{ type?: string; original?: string }> };
    if (n.type === 'PathExpression' && !n.data && n.parts?.length) paths.push(n.parts);
    if ((n.type === 'MustacheStatement' || n.type === 'SubExpression') && n.path?.original === 'default' && n.params?.[0]?.type === 'PathExpression') guarded.add(String(n.params[0].original));
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) value.forEach(visit);
      else if (value && typeof value === 'object') visit(value);
    }
  };
  visit(ast);
  const template = sms.compile(ast, { noEscape: true, strict: false, knownHelpersOnly: false });
  const compiled = { render: (data: unknown) => template(data, { allowProtoPropertiesByDefault: false }), paths, guarded };
  if (cache.size > 500) cache.clear();
  cache.set(body, compiled);
  return compiled;
}

export const BLOCK_HELPERS = new Set(['if', 'unless', 'each', 'with', 'lookup', 'log', 'this', 'default']);

/** A relate field named `<x>_name` (or `<x>`) with an id field makes `{{x.field}}` reach the related record. */
export function relation(module: ModuleDef, head: string): { idField: string; module: string } | undefined {
  for (const name of [`${head}_name`, head]) {
    const f = module.fields[name];
    if (f?.type === 'relate' && f.id_name && f.module) return { idField: f.id_name, module: f.module };
  }
  return undefined;
}

/**
 * Checks a template's fields against a module's vardefs (or, without a module, that it uses none);
 * returns the problems, each naming the field.
 */
export function templateFieldProblems(registry: Registry, body: string, moduleName: string | undefined): string[] {
  const { paths } = compileSmsTemplate(body);
  const problems: string[] = [];
  for (const parts of paths) {
    const [head, next] = parts;
    if (BLOCK_HELPERS.has(head)) continue;
    if (!moduleName) {
      problems.push(`{{${parts.join('.')}}} needs a record to fill it, and this message has none`);
      continue;
    }
    const module = registry.module(moduleName);
    if (parts.length === 1) {
      if (!module.fields[head]) problems.push(`{{${head}}} is not a field of ${moduleName}`);
      continue;
    }
    const rel = relation(module, head);
    if (!rel) {
      problems.push(`{{${parts.join('.')}}}: ${head} is not a related record of ${moduleName}`);
      continue;
    }
    if (parts.length > 2 || !registry.modules.has(rel.module) || !registry.module(rel.module).fields[next]) problems.push(`{{${parts.join('.')}}}: ${next} is not a field of ${rel.module}`);
  }
  return [...new Set(problems)];
}

/** Renders a template for one record, loading only the related records the template uses, with the actor's access. */
export async function renderForRecord(registry: Registry, records: RecordService, actor: Actor, body: string, target: { module: string; record: Record<string, unknown> } | undefined): Promise<string> {
  return (await renderWithGaps(registry, records, actor, body, target)).text;
}

/**
 * renderForRecord, also naming the merge fields the record left empty (`{{title}}` → 'title'), so a
 * preview can say who would get a gap; fields given a `{{default …}}` fallback are not gaps.
 */
export async function renderWithGaps(registry: Registry, records: RecordService, actor: Actor, body: string, target: { module: string; record: Record<string, unknown> } | undefined): Promise<{ text: string; empty: string[] }> {
  const problems = templateFieldProblems(registry, body, target?.module);
  if (problems.length) throw new TemplateProblem(problems.join('; '));
  const compiled = compileSmsTemplate(body);
  if (!target) return { text: compiled.render({}), empty: [] };
  const data: Record<string, unknown> = { ...target.record };
  const module = registry.module(target.module);
  for (const head of new Set(compiled.paths.filter((p) => p.length > 1).map((p) => p[0]))) {
    const rel = relation(module, head)!;
    const id = target.record[rel.idField];
    data[head] = typeof id === 'string' && id ? await records.retrieve(actor, rel.module, id).catch(() => ({})) : {};
  }
  for (const [key, value] of Object.entries(data)) if (value === null) data[key] = '';
  const blank = (v: unknown) => v === undefined || v === null || String(v).trim() === '';
  const empty = compiled.paths
    .filter((p) => !BLOCK_HELPERS.has(p[0]) && !compiled.guarded.has(p.join('.')))
    .filter((p) => blank(p.length === 1 ? data[p[0]] : (data[p[0]] as Record<string, unknown> | undefined)?.[p[1]]))
    .map((p) => p.join('.'));
  return { text: compiled.render(data), empty: [...new Set(empty)] };
}
