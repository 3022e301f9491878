import type { Browser, Page } from 'playwright-core';
import { SYSTEM } from '../../core/records/actor';
import { browserAvailable, launchBrowser, screenshotPath, uiLogin } from '../helpers/browser';
import { describeEachServer } from '../helpers/crm';

const run = browserAvailable() ? describeEachServer : (title: string) => describe.skip(title, () => undefined);

run('global search in Chromium', (get) => {
  let browser: Browser;
  let page: Page;
  let kind = '';

  beforeAll(async () => {
    browser = await launchBrowser();
    kind = get().crm.engine.db.dialect.name;
    const { records } = get().crm.engine;
    await records.create(SYSTEM, 'Accounts', { name: 'Blue Finch Bank', phone_office: '+1 415 555 0100' });
    await records.create(SYSTEM, 'Accounts', { name: 'Finch Partners' });
    await records.create(SYSTEM, 'Contacts', { first_name: 'Ada', last_name: 'Finch', email1: 'ada@aviary.example' });
    await records.create(SYSTEM, 'Leads', { first_name: 'Otto', last_name: 'Finchley' });
    await records.create(SYSTEM, 'Accounts', { name: 'Unrelated Robin Ltd' });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    await uiLogin(page, get().url, 'admin', 'secret-admin');
  });
  afterAll(async () => { await browser?.close(); });

  const shot = (name: string) => page.screenshot({ path: screenshotPath(kind, `${name}.png`), fullPage: true });

  async function searchFromHeader(text: string) {
    const box = page.getByRole('search', { name: 'Global search' }).getByRole('searchbox', { name: 'Search all modules' });
    await box.fill(text);
    await box.press('Enter');
    await page.waitForURL(/\/ui\/search\?q=/);
  }

  async function groups(): Promise<string[]> {
    return page.locator('section.search-group h2').allTextContents().then((all) => all.map((t) => t.replace(/\s+/g, ' ').trim()));
  }

  it('types in the header search box and sees the matches grouped by module', async () => {
    await page.goto(`${get().url}/ui/Accounts`);
    await searchFromHeader('finch');
    await page.getByRole('heading', { level: 1, name: 'Search results for “finch”' }).waitFor();
    expect(await groups()).toEqual(['Accounts 2', 'Contacts 1', 'Leads 1']);
    const accounts = page.getByRole('region', { name: /Accounts/ });
    expect(await accounts.getByRole('link').allTextContents()).toEqual(expect.arrayContaining(['Blue Finch Bank', 'Finch Partners']));
    await expect(page.getByRole('link', { name: 'Unrelated Robin Ltd' }).count()).resolves.toBe(0);
    // The header box keeps the text, so the user can refine it.
    expect(await page.getByRole('searchbox', { name: 'Search all modules' }).inputValue()).toBe('finch');
    await shot('global-search');
    await page.getByRole('link', { name: 'Ada Finch' }).click();
    await page.getByRole('heading', { level: 1, name: 'Ada Finch' }).waitFor();
  });

  it('finds with a wildcard and by e-mail, and says when nothing matches', async () => {
    await searchFromHeader('%robin');
    expect(await groups()).toEqual(['Accounts 1']);
    await searchFromHeader('ada@avi');
    expect(await groups()).toEqual(['Contacts 1']);
    await searchFromHeader('no such thing');
    await page.getByText('Nothing matches “no such thing” in the modules you may see.').waitFor();
  });

  it('lets the advanced list search match names that contain the text', async () => {
    await page.goto(`${get().url}/ui/Accounts?advanced=1`);
    const form = page.getByRole('search', { name: 'Search Accounts' });
    await form.getByRole('textbox', { name: 'Name', exact: true }).fill('finch');
    await form.getByRole('combobox', { name: 'Name: match' }).selectOption('contains');
    await form.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/s_name_match=contains/);
    const names = await page.locator('table.list tbody a').allTextContents();
    expect(names.filter((n) => /Finch|Robin/.test(n)).sort()).toEqual(['Blue Finch Bank', 'Finch Partners']);
    await shot('list-search-contains');
  });

  it('reads well in the dark theme', async () => {
    await page.goto(`${get().url}/ui/preferences`);
    await page.getByLabel('Theme').selectOption('dark');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    await searchFromHeader('finch');
    expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
    expect(await groups()).toEqual(['Accounts 2', 'Contacts 1', 'Leads 1']);
    await page.waitForFunction(() => { const g = globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string }; document: { body: unknown } }; return g.getComputedStyle(g.document.body).backgroundColor === 'rgb(18, 21, 27)'; }, undefined, { timeout: 5000 }).catch(() => undefined);
    // Result links stay readable on the dark surface: the accent colour, not the light theme's blue.
    const color = await page.evaluate("getComputedStyle(document.querySelector('section.search-group a')).color");
    expect(color).toBe('rgb(127, 176, 255)');
    await shot('global-search-dark');
  });
});
