import type { Browser, Page } from 'playwright-core';
import { browserAvailable, launchBrowser, screenshotPath, uiLogin } from '../helpers/browser';
import { describeEachServer } from '../helpers/crm';

const run = browserAvailable() ? describeEachServer : (title: string) => describe.skip(title, () => undefined);

/** Issue 16, item 4: the home dashboard's charts in Chromium, in both themes, on the demo data. */
run('home dashboard in Chromium', (get) => {
  let browser: Browser;
  let page: Page;
  let kind = '';
  const cspErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
    kind = get().crm.engine.db.dialect.name;
    page = await (await browser.newContext({ viewport: { width: 1280, height: 1000 } })).newPage();
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text()); });
    await uiLogin(page, get().url, 'admin', 'secret-admin');
  });
  afterAll(async () => { await browser?.close(); });

  const shot = (name: string) => page.screenshot({ path: screenshotPath(kind, `dashboard-${name}.png`), fullPage: true });
  const url = (path: string) => `${get().url}/ui${path}`;

  /** Chart text is drawn in the theme's text colour and bars in a chart colour that differs from the card. */
  async function chartColours() {
    // Computed colours, read in the page (the tests compile without the DOM library, hence `any`).
    const style = (selector: string, property: string) => page.locator(selector).first().evaluate((e: any, p: string) => e.ownerDocument.defaultView.getComputedStyle(e)[p] as string, property);
    return {
      text: await style('.dashlet-pipeline svg text.chart-label', 'fill'),
      bar: await style('.dashlet-pipeline rect.chart-bar', 'fill'),
      line: await style('.dashlet-sms_daily polyline.chart-line', 'stroke'),
      body: await style('body', 'color'),
      card: await style('.dashlet-pipeline', 'backgroundColor'),
    };
  }

  async function checkCharts() {
    for (const name of ['Pipeline by sales stage', 'Winter service reminder: messages by status', 'SMS sent and delivered per day']) {
      await page.getByRole('img', { name }).waitFor();
    }
    await page.getByRole('heading', { level: 2, name: 'My open opportunities' }).waitFor();
    await page.getByRole('link', { name: 'Riverside renewal' }).waitFor();
    const colours = await chartColours();
    expect(colours.text).toBe(colours.body);
    expect(colours.bar).not.toBe(colours.card);
    expect(colours.line).not.toBe(colours.card);
    // Bars have their width: the chart is drawn, not an empty box.
    const box = await page.locator('.dashlet-pipeline rect.chart-bar').first().boundingBox();
    expect(box!.width).toBeGreaterThan(10);
    expect(cspErrors).toEqual([]);
    return colours;
  }

  it('draws the pipeline, campaign results and SMS per day in the default theme', async () => {
    await page.goto(url(''));
    expect(await page.locator('html').getAttribute('data-theme')).toBe('default');
    const colours = await checkCharts();
    expect(colours.body).toBe('rgb(29, 35, 48)');
    await shot('default');
  });

  it('draws them readably in the dark theme', async () => {
    await page.goto(url('/preferences'));
    await page.getByLabel('Theme').selectOption('dark');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    await page.goto(url(''));
    expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
    const colours = await checkCharts();
    expect(colours.body).toBe('rgb(230, 233, 239)');
    expect(colours.bar).toBe('rgb(127, 176, 255)');
    await shot('dark');
  });

  it('lets the user choose and order the dashlets', async () => {
    await page.getByRole('link', { name: 'Customise' }).click();
    await page.getByRole('heading', { level: 1, name: 'Customise the dashboard' }).waitFor();
    await page.getByRole('checkbox', { name: 'My open opportunities' }).uncheck();
    await page.getByRole('checkbox', { name: 'Records' }).uncheck();
    await page.getByLabel('Position of SMS sent and delivered per day').selectOption('1');
    await shot('customise-dark');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    await page.getByRole('link', { name: 'Back to the dashboard' }).click();
    await page.waitForURL(/\/ui$/);
    const order = await page.locator('section[data-dashlet]').evaluateAll((s) => s.map((e) => e.getAttribute('data-dashlet')));
    expect(order).toEqual(['sms_daily', 'pipeline', 'campaigns']);
    await shot('customised-dark');
  });
}, { demo: true });
