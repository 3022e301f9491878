import fs from 'node:fs';
import path from 'node:path';

/** `cane plugin new <name>`: a working plugin with a test, to edit from. */
export function scaffoldPlugin(parent: string, name: string): string {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new Error('the plugin name must be lower-case letters, digits and dashes');
  const dir = path.join(parent, name);
  if (fs.existsSync(dir)) throw new Error(`${dir} already exists`);
  fs.mkdirSync(path.join(dir, 'test'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'plugin.json'), JSON.stringify({
    id: `local.${name}`,
    name,
    version: '0.1.0',
    apiVersion: 1,
    description: 'Trims contact names and refuses contacts without a last name.',
    entry: 'index.js',
    hooks: [{ module: 'Contacts', event: 'before_save', handler: 'tidy', onError: 'allow' }],
    permissions: ['write:Contacts#first_name', 'write:Contacts#last_name', 'log'],
  }, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'index.js'), `// Runs in a sandbox: no require, process, fetch or timers; everything goes through ctx.
definePlugin({
  hooks: {
    tidy(ctx) {
      const r = ctx.event.record;
      if (!r.last_name || !String(r.last_name).trim()) throw new Veto('A contact needs a last name', { field: 'last_name' });
      const patch = {};
      for (const field of ['first_name', 'last_name']) {
        if (typeof r[field] === 'string' && r[field] !== r[field].trim()) patch[field] = r[field].trim();
      }
      if (Object.keys(patch).length) return { patch };
    },
  },
});
`);
  fs.writeFileSync(path.join(dir, 'test', 'tidy.test.js'), `// Run with: cane plugin test ${name}
// Each exported function gets a fresh CRM (SQLite, fixed clock, SMS spy) with this plugin loaded.
module.exports = {
  'trims names': async ({ kit, assert }) => {
    const { record } = await kit.save('Contacts', { first_name: ' Ada ', last_name: ' Lovelace ' });
    assert.strictEqual(record.first_name, 'Ada');
    assert.strictEqual(record.last_name, 'Lovelace');
  },
  'vetoes a blank last name': async ({ kit, assert }) => {
    const { veto } = await kit.save('Contacts', { last_name: '   ' });
    assert.deepStrictEqual(veto, { message: 'A contact needs a last name', field: 'last_name' });
  },
};
`);
  return dir;
}

export interface PluginTestCase {
  name: string;
  fn: (args: { kit: import('./test-kit').PluginTestKit; assert: typeof import('node:assert') }) => Promise<void> | void;
}

/** The exported test functions of <plugin>/test/*.test.js. */
export function pluginTests(dir: string): Array<{ file: string; cases: PluginTestCase[] }> {
  const testDir = path.join(dir, 'test');
  if (!fs.existsSync(testDir)) return [];
  return fs.readdirSync(testDir).filter((f) => f.endsWith('.test.js')).sort().map((f) => {
    const file = path.resolve(testDir, f);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(file) as Record<string, PluginTestCase['fn']>;
    return { file, cases: Object.entries(mod).filter(([, fn]) => typeof fn === 'function').map(([name, fn]) => ({ name, fn })) };
  });
}
