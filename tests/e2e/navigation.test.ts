import type { Browser, Page } from 'playwright-core';
import { SYSTEM } from '../../core/records/actor';
import { createUser } from '../../core/security/users';
import { browserAvailable, launchBrowser, screenshotPath, uiLogin } from '../helpers/browser';
import { describeEachServer } from '../helpers/crm';

const run = browserAvailable() ? describeEachServer : (title: string) => describe.skip(title, () => undefined);

/** Issue 16, item 7: the grouped header menu, the favicon and breadcrumbs, in Chromium, in both themes. */
run('navigation in Chromium', (get) => {
  let browser: Browser;
  let page: Page;
  let kind = '';

  beforeAll(async () => {
    browser = await launchBrowser();
    kind = get().crm.engine.db.dialect.name;
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await uiLogin(page, get().url, 'admin', 'secret-admin');
  });
  afterAll(async () => { await browser?.close(); });

  const url = (path: string) => `${get().url}/ui${path}`;
  const shot = (p: Page, name: string) => p.screenshot({ path: screenshotPath(kind, `navigation-${name}.png`) });
  const menu = (p: Page) => p.getByRole('navigation', { name: 'Modules' });
  const groupNames = (p: Page) => menu(p).locator('summary').allTextContents();
  const linksOf = (p: Page, group: string) => menu(p).locator('details', { has: p.locator('summary', { hasText: new RegExp(`^${group}$`) }) }).getByRole('link', { includeHidden: true }).allTextContents();

  it('groups the modules like SuiteCRM, admin modules only under Admin, on one row at 1280 px', async () => {
    await page.goto(url('/'));
    expect(await groupNames(page)).toEqual(['Sales', 'Marketing', 'Activities', 'Other', 'Admin']);
    expect(await linksOf(page, 'Sales')).toEqual(['Accounts', 'Contacts', 'Leads', 'Opportunities']);
    expect(await linksOf(page, 'Marketing')).toEqual(['Campaigns', 'Target Lists', 'Targets', 'SMS', 'SMS Templates', 'Campaign Log']);
    expect(await linksOf(page, 'Activities')).toEqual(['Calls', 'Meetings', 'Tasks', 'Notes']);
    expect(await linksOf(page, 'Admin')).toEqual(['Users', 'Roles', 'Schedulers', 'Scheduler Jobs', 'WorkFlow', 'Process Audit', 'Activity Log']);
    // Each module is in one group only; parts of a record (ACL actions, workflow conditions) in none.
    const all = await menu(page).getByRole('link', { includeHidden: true }).allTextContents();
    expect(new Set(all).size).toBe(all.length);
    expect(all).not.toContain('Actions');
    expect(all).not.toContain('WorkFlow Conditions');

    // One row: every group, the search box and the user menu share the header's single line.
    const header = await page.locator('header.topbar').boundingBox();
    const tops = await page.locator('header.topbar summary, header.topbar input[type=search], header.topbar .user-menu').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().top));
    const brand = await page.locator('header.topbar .brand').boundingBox();
    expect(header!.height).toBeLessThan(brand!.height * 2.5);
    expect(Math.max(...tops) - Math.min(...tops)).toBeLessThan(brand!.height);

    // A closed group shows nothing; opening it shows its modules, and opening another closes it.
    expect(await menu(page).getByRole('link', { name: 'Accounts' }).isVisible()).toBe(false);
    await menu(page).getByText('Sales', { exact: true }).click();
    await menu(page).getByRole('link', { name: 'Accounts' }).waitFor();
    await menu(page).getByText('Marketing', { exact: true }).click();
    await menu(page).getByRole('link', { name: 'Target Lists' }).waitFor();
    expect(await menu(page).getByRole('link', { name: 'Accounts' }).isVisible()).toBe(false);
    await shot(page, 'menu-open');
    await menu(page).getByRole('link', { name: 'Target Lists' }).click();
    await page.waitForURL(/\/ui\/ProspectLists$/);
    // The group of the page is marked, the module is the current page.
    expect(await menu(page).locator('summary.current').textContent()).toBe('Marketing');
    expect(await menu(page).locator('[aria-current="page"]').getAttribute('href')).toMatch(/\/ui\/ProspectLists$/);
  });

  it('closes an open group with Escape (focus back on its title) or a click elsewhere', async () => {
    await page.goto(url('/'));
    const sales = menu(page).getByText('Sales', { exact: true });
    await sales.click();
    await menu(page).getByRole('link', { name: 'Accounts' }).waitFor();
    await menu(page).getByRole('link', { name: 'Accounts' }).focus();
    await page.keyboard.press('Escape');
    await menu(page).getByRole('link', { name: 'Accounts' }).waitFor({ state: 'hidden' });
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } | null } }).document.activeElement?.textContent)).toBe('Sales');
    await sales.click();
    await menu(page).getByRole('link', { name: 'Accounts' }).waitFor();
    await page.locator('main').click({ position: { x: 5, y: 5 } });
    await menu(page).getByRole('link', { name: 'Accounts' }).waitFor({ state: 'hidden' });
  });

  it('opens every page the menu offers without an error', async () => {
    await page.goto(url('/'));
    const hrefs = await menu(page).getByRole('link', { includeHidden: true }).evaluateAll((links) => links.map((l) => l.getAttribute('href') ?? ''));
    expect(hrefs.length).toBeGreaterThan(20);
    for (const href of hrefs) {
      const res = await page.goto(`${get().url}${href}`);
      expect([href, res?.status()]).toEqual([href, 200]);
    }
  });

  it('shows a user who is not an admin no Admin group and no admin module anywhere', async () => {
    await createUser(get().crm.engine, { user_name: 'navplain', password: 'navplain-pass', last_name: 'Plain' });
    const other = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await uiLogin(other, get().url, 'navplain', 'navplain-pass');
    const groups = await groupNames(other);
    expect(groups).toContain('Sales');
    expect(groups).not.toContain('Admin');
    const all = await menu(other).getByRole('link', { includeHidden: true }).allTextContents();
    expect(all).toContain('Accounts');
    for (const admin of ['Users', 'Roles', 'Schedulers', 'WorkFlow', 'Plugins']) expect(all).not.toContain(admin);
    await other.context().close();
  });

  it('links a favicon that Cane serves itself as SVG', async () => {
    await page.goto(url('/'));
    const href = await page.locator('link[rel=icon]').getAttribute('href');
    expect(href).toMatch(/^\/ui\/assets\/default\/favicon\.svg$/);
    const res = await page.request.get(`${get().url}${href}`);
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toMatch(/^image\/svg\+xml/);
    expect(await res.text()).toContain('<svg');
  });

  it('shows breadcrumbs Group › Module › Record on list, detail and edit pages, in both themes', async () => {
    const account = await get().crm.engine.records.create(SYSTEM, 'Accounts', { name: 'Breadcrumb Bakery' });
    const crumbs = () => page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('listitem').allTextContents();
    const crumbLink = (name: string) => page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name, exact: true });

    await page.goto(url('/Accounts'));
    expect(await crumbs()).toEqual(['Sales', 'Accounts']);
    await page.goto(url(`/Accounts/${account.id}`));
    expect(await crumbs()).toEqual(['Sales', 'Accounts', 'Breadcrumb Bakery']);
    await page.goto(url(`/Accounts/${account.id}/edit`));
    expect(await crumbs()).toEqual(['Sales', 'Accounts', 'Breadcrumb Bakery', 'Edit']);
    await crumbLink('Breadcrumb Bakery').click();
    await page.waitForURL(new RegExp(`/ui/Accounts/${account.id}$`));
    await crumbLink('Accounts').click();
    await page.waitForURL(/\/ui\/Accounts$/);
    await page.goto(url('/Users'));
    expect(await crumbs()).toEqual(['Admin', 'Users']);

    await page.goto(url('/preferences'));
    await page.getByLabel('Theme').selectOption('dark');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    await page.goto(url(`/Accounts/${account.id}`));
    expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
    expect(await crumbs()).toEqual(['Sales', 'Accounts', 'Breadcrumb Bakery']);
    await menu(page).getByText('Sales', { exact: true }).click();
    await shot(page, 'dark');
    await page.goto(url('/preferences'));
    await page.getByLabel('Theme').selectOption('default');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
  });
});
