import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CANE_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts');

/**
 * Debian's Chromium, driven by playwright-core. Under CI a missing browser fails the run;
 * elsewhere the browser suites are skipped with a note (install it with `apt-get install chromium`).
 */
export function browserAvailable(): boolean {
  if (fs.existsSync(CHROMIUM)) return true;
  if (process.env.CI) throw new Error(`Chromium not found at ${CHROMIUM}; .ci/run installs the Debian package 'chromium'`);
  console.warn(`browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
  return false;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export function screenshotPath(...parts: string[]): string {
  const file = path.join(ARTIFACTS, 'screenshots', ...parts);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return file;
}

/** Signs in through the login form at `<base>/ui/login` and waits for the home page. */
export async function uiLogin(page: Page, base: string, user: string, password: string): Promise<void> {
  await page.goto(`${base}/ui/login`);
  await page.getByLabel('User Name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log In' }).click();
  await page.waitForURL(/\/ui$/);
}
