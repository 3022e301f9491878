import type { Browser, Page } from 'playwright-core';
import { SYSTEM } from '../../core/records/actor';
import { browserAvailable, launchBrowser, screenshotPath, uiLogin } from '../helpers/browser';
import { describeEachServer } from '../helpers/crm';

const run = browserAvailable() ? describeEachServer : (title: string) => describe.skip(title, () => undefined);

/** Issue 16, item 1: importing a CSV with a duplicate and a refused row from the Contacts list, in Chromium, in both themes. */
run('record import in Chromium', (get) => {
  let browser: Browser;
  let page: Page;
  let kind = '';

  beforeAll(async () => {
    browser = await launchBrowser();
    kind = get().crm.engine.db.dialect.name;
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true })).newPage();
    await uiLogin(page, get().url, 'admin', 'secret-admin');
    get().crm.engine.jobs.start(200, 1);
  });
  afterAll(async () => { await browser?.close(); });

  const shot = (name: string) => page.screenshot({ path: screenshotPath(kind, `record-import-${name}.png`), fullPage: true });
  const url = (path: string) => `${get().url}/ui${path}`;

  it('imports a file with a duplicate and an invalid row, shows the counts, the refused rows and undoes it', async () => {
    await get().crm.engine.records.create(SYSTEM, 'Contacts', { first_name: 'Kim', last_name: 'Existing-Import', email1: 'kim@example.com' });
    const csv = 'First Name;Last Name;Email Address;Title\nLena;Browser-Import;lena@example.com;"Buyer,\nNorth"\nKim;Existing-Import;kim@example.com;Dupe\nMo;Browser-Import;mo-at-example;Broken\n';
    await page.goto(url('/Contacts'));
    await page.getByRole('link', { name: 'Import', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Import Contacts' }).waitFor();
    await page.getByLabel('CSV file').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(`\uFEFF${csv}`) });
    // A function, not a string: the page's CSP forbids the eval a string predicate needs.
    await page.waitForFunction(() => (globalThis as unknown as { document: { querySelector(s: string): { value: string } | null } }).document.querySelector('[data-import-file-data]')?.value !== '');
    await page.getByRole('button', { name: 'Next: map the columns' }).click();

    await page.getByRole('heading', { level: 1, name: 'Import Contacts: map the columns' }).waitFor();
    expect(await page.getByLabel('First Name').inputValue()).toBe('first_name');
    expect(await page.getByLabel('Email Address', { exact: true }).inputValue()).toBe('email1');
    expect(await page.getByLabel(/Skip duplicates/).isChecked()).toBe(true);
    await shot('map');
    await page.getByRole('button', { name: 'Next: preview' }).click();

    await page.getByRole('heading', { level: 1, name: 'Import Contacts: preview' }).waitFor();
    await page.getByText("'mo-at-example' is not a valid e-mail address").waitFor();
    expect(await page.locator('[data-import-duplicate]').textContent()).toBe('skipped: duplicate of an existing record');
    await shot('preview');
    await page.getByRole('button', { name: 'Import', exact: true }).click();

    await page.getByRole('heading', { level: 1, name: 'Import Contacts: done' }).waitFor({ timeout: 20_000 });
    const counts = page.locator('[data-import-counts]');
    expect((await counts.textContent())?.replace(/\s+/g, ' ').trim()).toBe('3 rows read: 1 created, 0 updated, 1 duplicates skipped, 1 refused.');
    await shot('result');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download refused rows (CSV)' }).click()]);
    const text = await download.createReadStream().then(async (stream) => {
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    });
    expect(text).toContain('Mo,Browser-Import,mo-at-example,Broken,3,email1:');
    expect(await get().crm.engine.db.knex('contacts').where({ last_name: 'Browser-Import', deleted: 0 }).pluck('title')).toEqual(['Buyer,\nNorth']);

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Undo import' }).click();
    await page.getByText('Import undone: 1 created records deleted, 0 updated records restored.').waitFor();
    expect(await get().crm.engine.db.knex('contacts').where({ last_name: 'Browser-Import', deleted: 0 }).count({ n: '*' }).first()).toMatchObject({ n: 0 });
    await page.getByRole('link', { name: 'Back to Contacts' }).click();
    await page.waitForURL(/\/ui\/Contacts$/);
  });

  it('refuses a mapping without the last name in the dark theme, naming the field', async () => {
    await page.goto(url('/preferences'));
    await page.getByLabel('Theme').selectOption('dark');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    await page.goto(url('/Contacts/import'));
    expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
    await page.getByLabel('…or paste the rows').fill('Given,Family\nNia,Dark-Import\n');
    await page.getByRole('button', { name: 'Next: map the columns' }).click();
    await page.getByLabel('Given').selectOption('first_name');
    await page.getByRole('button', { name: 'Next: preview' }).click();
    await page.getByText('Last Name is required and no column is mapped to it').waitFor();
    await shot('mapping-refused-dark');
    expect(await get().crm.engine.db.knex('contacts').where({ last_name: 'Dark-Import' }).count({ n: '*' }).first()).toMatchObject({ n: 0 });
  });
});
