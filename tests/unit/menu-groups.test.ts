import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildMenu, checkMenuGroups, groupOf, loadMenuGroups } from '../../core/http/ui/menu-groups';
import { packageRoot } from '../../core/paths';

const shipped = loadMenuGroups(packageRoot());
const options = (isAdmin: boolean) => ({ isAdmin, base: '/ui', label: (m: string) => m, services: { plugins: true } });
const names = (groups: ReturnType<typeof buildMenu>) => Object.fromEntries(groups.map((g) => [g.label, g.items.map((i) => i.name)]));

describe('menu groups (metadata/menu-groups.json)', () => {
  it('puts a module no group names (an imported or custom module) in the fallback group, by label', () => {
    const menu = buildMenu(shipped, ['Accounts', 'Zeppelins', 'Alerts', 'Boats', 'Users'], options(false));
    expect(names(menu)).toEqual({ Sales: ['Accounts'], Other: ['Alerts', 'Boats', 'Zeppelins'] });
  });

  it('shows admin groups and their pages only to administrators, and their modules nowhere else', () => {
    const config = checkMenuGroups({
      groups: [
        { id: 'all', label: 'All', fallback: true, modules: ['Users', 'Accounts'] },
        { id: 'admin', label: 'Admin', admin: true, modules: ['Users'], pages: [{ label: 'Plugins', path: 'plugins', requires: 'plugins' }] },
      ],
    }, 'test.json');
    expect(names(buildMenu(config, ['Users', 'Accounts'], options(true)))).toEqual({ All: ['Accounts'], Admin: ['Users', 'Plugins'] });
    expect(names(buildMenu(config, ['Users', 'Accounts'], options(false)))).toEqual({ All: ['Accounts'] });
    expect(names(buildMenu(config, ['Accounts'], { ...options(true), services: { plugins: false } }))).toEqual({ All: ['Accounts'] });
  });

  it('marks the group of the current module and finds it for breadcrumbs', () => {
    const menu = buildMenu(shipped, ['Accounts', 'Campaigns'], { ...options(false), current: 'Campaigns' });
    expect(menu.map((g) => [g.label, g.current])).toEqual([['Sales', false], ['Marketing', true]]);
    expect(groupOf(shipped, 'Campaigns')?.label).toBe('Marketing');
    expect(groupOf(shipped, 'Zeppelins')?.label).toBe('Other');
    expect(groupOf(shipped, 'Plugins')?.label).toBe('Admin');
    expect(groupOf(shipped, 'ACLActions')).toBeUndefined();
  });

  it('takes custom/metadata/menu-groups.json instead of the shipped file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-menu-'));
    fs.mkdirSync(path.join(dir, 'metadata'));
    fs.writeFileSync(path.join(dir, 'metadata', 'menu-groups.json'), JSON.stringify({ groups: [{ id: 'everything', label: 'Everything', fallback: true, modules: [] }] }));
    expect(loadMenuGroups(packageRoot(), dir).groups.map((g) => g.label)).toEqual(['Everything']);
    expect(loadMenuGroups(packageRoot(), path.join(dir, 'missing')).groups.map((g) => g.label)).toEqual(['Sales', 'Marketing', 'Activities', 'Other', 'Admin']);
  });

  it('refuses a file the menu cannot be built from, naming the entry and the problem', () => {
    expect(() => checkMenuGroups({ groups: [] }, 'm.json')).toThrow('m.json: groups must be a non-empty array');
    expect(() => checkMenuGroups({ groups: [{ id: 'a', label: 'A', modules: [] }] }, 'm.json')).toThrow('must mark exactly one group "fallback": true');
    expect(() => checkMenuGroups({ groups: [{ id: 'a b', label: 'A', fallback: true, modules: [] }] }, 'm.json')).toThrow('m.json: groups[0].id must be a word');
    expect(() => checkMenuGroups({ groups: [{ id: 'a', label: 'A', fallback: true, modules: 'Accounts' }] }, 'm.json')).toThrow('groups[0].modules must be an array of module names');
    expect(() => checkMenuGroups({ groups: [{ id: 'a', label: 'A', fallback: true, modules: [], pages: [{ label: 'X', path: '../x?' }] }] }, 'm.json')).toThrow('groups[0].pages[0] needs a label and a path');
  });
});
