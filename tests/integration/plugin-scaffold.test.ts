import assert from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { packageRoot } from '../../core/paths';
import { pluginTests, scaffoldPlugin } from '../../core/plugins/scaffold';
import { PluginTestKit } from '../../core/plugins/test-kit';

/**
 * The plugin API is documented twice: docs/plugins.md (the reference) and the README that
 * `cane plugin new` writes. These tests fail when the runner's ctx, its globals or the manifest
 * schema gain something the documentation does not mention, and they run the documented code.
 */

const root = packageRoot();
const runnerSource = fs.readFileSync(path.join(root, 'core', 'plugins', 'runner', 'runner.js'), 'utf8');

/** The BOOTSTRAP template literal of runner.js, evaluated as the runner evaluates it. */
function bootstrap(): string {
  const literal = /const BOOTSTRAP = (`[\s\S]*?`);\n/.exec(runnerSource);
  if (!literal) throw new Error('runner.js has no BOOTSTRAP template literal');
  return new vm.Script(literal[1]).runInNewContext() as string;
}

/**
 * Every member of the ctx the bootstrap builds ('ctx.event', 'ctx.log.warn', 'ctx.crm.records.find' …):
 * the bootstrap runs in a plain V8 context with stand-ins for the bridge and the digest, and a probe
 * plugin walks the ctx its handler receives.
 */
async function ctxMembers(): Promise<string[]> {
  const context = vm.createContext({
    __bridge: { apply: async () => JSON.stringify({ ok: true, result: null }) },
    __digest: () => '',
  });
  vm.runInContext(bootstrap(), context);
  vm.runInContext(`definePlugin({ hooks: { probe(ctx) {
    const found = [];
    const walk = (value, at) => {
      found.push(at);
      if (at === 'ctx.event' || at === 'ctx.settings') return;
      if ((value && typeof value === 'object') || typeof value === 'function') for (const key of Object.keys(value)) walk(value[key], at + '.' + key);
    };
    walk(ctx, 'ctx');
    return found;
  } } });`, context);
  const answer = JSON.parse(await (context.__invoke as (...args: unknown[]) => Promise<string>)('probe', 'probe', '{}', '{}', 0, 1000));
  expect(answer.outcome).toBe('ok');
  return (answer.value as string[]).filter((member) => member !== 'ctx');
}

/** The globals the bootstrap defines for plugin code (definePlugin, Veto). */
function bootstrapGlobals(): string[] {
  return [...bootstrap().matchAll(/Object\.defineProperty\(globalThis, '(\w+)'/g)].map((m) => m[1]);
}

/** Every property name the manifest schema declares, at any depth (hooks[], schedules[], limits). */
function manifestPropertyNames(): string[] {
  const schema = JSON.parse(fs.readFileSync(path.join(root, 'metadata', 'schemas', 'plugin-manifest.schema.json'), 'utf8'));
  const names = new Set<string>();
  const walk = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    const properties = (node as { properties?: Record<string, unknown> }).properties;
    if (properties && typeof properties === 'object') for (const name of Object.keys(properties)) names.add(name);
    for (const value of Object.values(node)) walk(value);
  };
  walk(schema);
  return [...names].sort();
}

function hookEvents(): string[] {
  const schema = JSON.parse(fs.readFileSync(path.join(root, 'metadata', 'schemas', 'plugin-manifest.schema.json'), 'utf8'));
  return schema.properties.hooks.items.properties.event.enum;
}

/** Runs a plugin folder's test/*.test.js as `cane plugin test` does: a fresh kit per case. */
async function runPluginTests(dir: string): Promise<{ passed: string[]; failed: string[] }> {
  const passed: string[] = [];
  const failed: string[] = [];
  for (const { cases } of pluginTests(dir)) {
    for (const c of cases) {
      const kit = await PluginTestKit.create(dir);
      try {
        await c.fn({ kit, assert });
        passed.push(c.name);
      } catch (err) {
        failed.push(`${c.name}: ${(err as Error).message}\n${(await kit.problems()).join('\n')}`);
      } finally {
        await kit.close();
      }
    }
  }
  return { passed, failed };
}

const missingFrom = (text: string, terms: string[]) => terms.filter((term) => !text.includes(term));

describe('the ctx the runner defines', () => {
  it('is found by walking the bootstrap, and agrees with the host calls named in its text', async () => {
    const members = await ctxMembers();
    for (const expected of ['ctx.event', 'ctx.settings', 'ctx.now', 'ctx.log', 'ctx.crypto.sha256', 'ctx.crm.records.find']) expect(members).toContain(expected);
    // Every host call the bootstrap makes (call('records.find', …), fire('log', …)) is a ctx member.
    const hostCalls = [...bootstrap().matchAll(/\b(?:call|fire)\('([\w.]+)'/g)].map((m) => m[1]);
    expect(hostCalls.length).toBeGreaterThan(5);
    for (const method of hostCalls) expect(members).toContain(method === 'log' ? 'ctx.log' : `ctx.crm.${method}`);
    expect(bootstrapGlobals().sort()).toEqual(['Veto', 'definePlugin']);
  });
});

describe('cane plugin new', () => {
  let parent: string;
  beforeAll(() => { parent = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-scaffold-')); });
  afterAll(() => { fs.rmSync(parent, { recursive: true, force: true }); });

  it('writes a plugin local.<name> with a README that documents every ctx member, and tests that pass', async () => {
    const dir = scaffoldPlugin(parent, 'hello-world');
    expect(fs.readdirSync(dir).sort()).toEqual(['README.md', 'index.js', 'plugin.json', 'test']);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'plugin.json'), 'utf8'));
    expect(manifest).toMatchObject({ id: 'local.hello-world', name: 'hello-world', apiVersion: 1, entry: 'index.js' });

    const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
    expect(readme).toMatch(/^# hello-world\n/);
    expect(readme).toContain('local.hello-world');
    expect(readme).toContain('cane plugin test');
    expect(missingFrom(readme, await ctxMembers())).toEqual([]);
    expect(missingFrom(readme, bootstrapGlobals())).toEqual([]);
    expect(missingFrom(readme, hookEvents())).toEqual([]);
    // It stands alone: no links to files around it.
    expect(readme).not.toMatch(/\]\((?!https?:)[^)]*\)/);

    const { passed, failed } = await runPluginTests(dir);
    expect(failed).toEqual([]);
    expect(passed.length).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('refuses a bad name and an existing folder', () => {
    expect(() => scaffoldPlugin(parent, 'Bad_Name')).toThrow('the plugin name must be lower-case letters, digits and dashes');
    scaffoldPlugin(parent, 'twice');
    expect(() => scaffoldPlugin(parent, 'twice')).toThrow(/already exists/);
  });
});

describe('docs/plugins.md', () => {
  const doc = fs.readFileSync(path.join(root, 'docs', 'plugins.md'), 'utf8');

  it('mentions every ctx member, the globals, every manifest property and every hook event', async () => {
    expect(missingFrom(doc, await ctxMembers())).toEqual([]);
    expect(missingFrom(doc, bootstrapGlobals().map((g) => `\`${g}\``))).toEqual([]);
    expect(missingFrom(doc, manifestPropertyNames().map((name) => `\`${name}\``))).toEqual([]);
    expect(missingFrom(doc, hookEvents().map((event) => `\`${event}\``))).toEqual([]);
  });

  it('links only to files inside the repository', () => {
    for (const [, target] of doc.matchAll(/\]\(([^)]+)\)/g)) {
      if (/^(https?:|#)/.test(target)) continue;
      const file = path.resolve(root, 'docs', target.split('#')[0]);
      expect(file.startsWith(root + path.sep)).toBe(true);
      expect(fs.existsSync(file)).toBe(true);
    }
  });

  it('has a worked example that loads and passes its own tests', async () => {
    const block = (name: string) => {
      const found = new RegExp(`<!-- example: ${name} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\\n\`\`\`\\n`).exec(doc);
      if (!found) throw new Error(`docs/plugins.md has no example block '${name}'`);
      return `${found[1]}\n`;
    };
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cane-doc-example-')), 'web-signups');
    fs.mkdirSync(path.join(dir, 'test'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'plugin.json'), block('plugin.json'));
    fs.writeFileSync(path.join(dir, 'index.js'), block('index.js'));
    fs.writeFileSync(path.join(dir, 'test', 'signups.test.js'), block('test'));
    try {
      const { passed, failed } = await runPluginTests(dir);
      expect(failed).toEqual([]);
      expect(passed).toHaveLength(4);
    } finally {
      fs.rmSync(path.dirname(dir), { recursive: true, force: true });
    }
  }, 120_000);
});
