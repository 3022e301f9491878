import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const cli = path.join(root, 'core', 'cli', 'main.ts');

/** An overlay whose Extension fragment adds a relationship to a misspelt module and a field whose label has no string. */
function overlay() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-metadata-cli-'));
  const ext = path.join(dir, 'custom', 'Extension', 'modules', 'Contacts', 'Ext');
  fs.mkdirSync(path.join(ext, 'Vardefs'), { recursive: true });
  fs.writeFileSync(path.join(ext, 'Vardefs', 'widgets.json'), JSON.stringify({
    fields: {
      widget_code_c: { type: 'varchar', len: 20, vname: 'LBL_WIDGET_CODE' },
      widgets: { type: 'link', relationship: 'contacts_widgets', vname: 'LBL_WIDGETS', source: 'non-db' },
    },
    relationships: {
      contacts_widgets: { lhs_module: 'Contacts', lhs_table: 'contacts', lhs_key: 'id', rhs_module: 'Widgetz', rhs_table: 'widgets', rhs_key: 'contact_id', relationship_type: 'one-to-many' },
    },
  }));
  fs.mkdirSync(path.join(ext, 'Language'), { recursive: true });
  fs.writeFileSync(path.join(ext, 'Language', 'en_us.widgets.json'), JSON.stringify({ LBL_WIDGETS: 'Widgets' }));
  return { ...process.env, DATABASE_URL: `sqlite:${path.join(dir, 'cane.sqlite')}`, CANE_CUSTOM_DIR: path.join(dir, 'custom'), LOG_LEVEL: 'warn' };
}

const run = (env: NodeJS.ProcessEnv, ...args: string[]) => spawnSync(tsx, [cli, ...args], { env, encoding: 'utf8' });

describe('cane metadata:check and metadata:show', () => {
  const env = overlay();

  it('warns about a relationship naming an unknown module and a label with no string; --strict makes them errors', () => {
    const lenient = run(env, 'metadata:check');
    expect(lenient.status).toBe(0);
    expect(lenient.stdout).toContain(`warning: relationship 'contacts_widgets' (${path.join(root, 'modules', 'Contacts', 'vardefs.json')} or its overlays) names rhs_module 'Widgetz', which is not a module; its links are disabled (unknown_module)`);
    expect(lenient.stdout).toContain("warning: Contacts: field 'widget_code_c' has no string (tried LBL_WIDGET_CODE, LBL_WIDGET_CODE_C); pages show 'Widget Code' (missing_label)");
    expect(lenient.stdout).toContain('2 warnings');
    const strict = run(env, 'metadata:check', '--strict');
    expect(strict.status).toBe(1);
    expect(strict.stdout).toContain("error: Contacts: field 'widget_code_c' has no string");
    expect(strict.stdout).toContain('2 errors');
  });

  it('shipped metadata alone passes --strict', () => {
    const clean = run({ ...env, CANE_CUSTOM_DIR: '/nonexistent' }, 'metadata:check', '--strict');
    expect(clean.status).toBe(0);
    expect(clean.stdout).not.toMatch(/^(error|warning):/m);
  });

  it('metadata:show prints the merged module as JSON', () => {
    const shown = run(env, 'metadata:show', 'Contacts');
    expect(shown.status).toBe(0);
    const module = JSON.parse(shown.stdout);
    expect(module).toMatchObject({ module: 'Contacts', table: 'contacts', customTable: 'contacts_cstm' });
    expect(module.fields.widget_code_c).toMatchObject({ type: 'varchar', len: 20, source: 'custom_fields' });
    expect(module.fields.last_name.type).toBe('varchar');
    expect(module.strings.LBL_WIDGETS).toBe('Widgets');
    expect(module.relationships.contacts_widgets.rhs_module).toBe('Widgetz');
    expect(module.views.edit.panels.lbl_contact_information.length).toBeGreaterThan(0);
    const unknown = run(env, 'metadata:show', 'Contactz');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('Unknown module: Contactz');
  });
});
