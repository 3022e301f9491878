import fs from 'node:fs';
import path from 'node:path';
import { SYSTEM } from '../../core/records/actor';
import { describeEachServer, loginWithRole } from '../helpers/crm';
import { session } from '../helpers/ui-session';
import { RESULTS_TTL_MS } from '../../core/http/ui/dashboard-data';

const demo = JSON.parse(fs.readFileSync(path.join(__dirname, '../../metadata/demo/demo-data.json'), 'utf8'));
const CLOSED = ['Closed Won', 'Closed Lost'];
const money = (n: number) => n.toLocaleString('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 });
const unescape = (s: string) => s.replace(/&amp;/g, '&').replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>');

/** The rows of a chart's screen-reader table, found by its caption: { rowLabel: [cells] }. */
function chartTable(html: string, caption: string): Record<string, string[]> {
  const start = html.indexOf(`<caption>${caption}</caption>`);
  if (start < 0) throw new Error(`no chart table "${caption}"`);
  const body = html.slice(start, html.indexOf('</table>', start));
  const rows: Record<string, string[]> = {};
  for (const m of body.matchAll(/<tr><th scope="row">(.*?)<\/th>(.*?)<\/tr>/g)) rows[unescape(m[1])] = [...m[2].matchAll(/<td>(.*?)<\/td>/g)].map((c) => unescape(c[1]));
  return rows;
}

/** The dashlet sections of the home page, in order. */
const dashletKeys = (html: string) => [...html.matchAll(/data-dashlet="([a-z_]+)"/g)].map((m) => m[1]);

/** Open opportunities per stage from a list of records: { label: [count, amount] }. */
function expectedPipeline(opps: Array<Record<string, any>>): Record<string, string[]> {
  const by: Record<string, { n: number; amount: number }> = {};
  for (const o of opps.filter((x) => !CLOSED.includes(x.sales_stage))) {
    by[o.sales_stage] ??= { n: 0, amount: 0 };
    by[o.sales_stage].n++;
    by[o.sales_stage].amount += Number(o.amount_usdollar ?? o.amount);
  }
  return Object.fromEntries(Object.entries(by).map(([stage, v]) => [stage, [String(v.n), money(v.amount)]]));
}

describeEachServer('home dashboard on the demo data', (get) => {
  let ui: ReturnType<typeof session>;
  let csrf = '';
  const olive: Array<Record<string, unknown>> = [
    { name: 'Olive first deal', amount: 1200, sales_stage: 'Prospecting', date_closed: '2026-12-01' },
    { name: 'Olive second deal', amount: 3400, sales_stage: 'Perception Analysis', date_closed: '2026-12-15' },
    { name: 'Olive lost deal', amount: 999, sales_stage: 'Closed Lost', date_closed: '2026-10-01' },
  ];

  // The demo's opportunities: those it declares and the one its lead conversion makes.
  const demoOpportunities = async () => {
    const converted = await get().crm.engine.db.knex('opportunities as o').join('leads as l', 'l.opportunity_id', 'o.id').where('l.id', 'demo-lead-09').select('o.sales_stage', 'o.amount', 'o.amount_usdollar');
    return [...demo.records.Opportunities, ...converted];
  };

  beforeAll(async () => {
    ui = session(get().url);
    csrf = await ui.login('admin', 'secret-admin');
  });

  it('shows the pipeline of every open opportunity to the admin, per stage with count and amount', async () => {
    const page = await ui.request('GET', '/ui');
    expect(page.status).toBe(200);
    expect(dashletKeys(page.text)).toEqual(['my_opportunities', 'pipeline', 'campaigns', 'sms_daily', 'records']);
    expect(chartTable(page.text, 'Pipeline by sales stage')).toEqual(expectedPipeline(await demoOpportunities()));
    expect(page.text).toMatch(/<svg[^>]*class="chart chart-bars" role="img" aria-labelledby="chart-pipeline-title chart-pipeline-desc"/);
  });

  it("lists the admin's own open opportunities and no one else's", async () => {
    const page = await ui.request('GET', '/ui');
    const section = page.text.slice(page.text.indexOf('data-dashlet="my_opportunities"'), page.text.indexOf('data-dashlet="pipeline"'));
    const mine = demo.records.Opportunities.filter((o: any) => o.assigned_user_id === '1' && !CLOSED.includes(o.sales_stage));
    expect(mine.length).toBeGreaterThan(0);
    for (const o of demo.records.Opportunities) {
      if (mine.includes(o)) expect(section).toContain(`>${o.name}</a>`);
      else expect(section).not.toContain(o.name);
    }
  });

  it("shows the demo campaign's results: messages by status, delivery rate, replies, opt-outs", async () => {
    const page = await ui.request('GET', '/ui');
    const winter = demo.records.SMS.filter((s: any) => s.campaign_id === 'demo-campaign-winter');
    const byStatus: Record<string, string[]> = {};
    for (const s of winter) byStatus[s.status[0].toUpperCase() + s.status.slice(1)] = [String(winter.filter((x: any) => x.status === s.status).length)];
    expect(chartTable(page.text, 'Winter service reminder: messages by status')).toEqual(byStatus);
    const delivered = winter.filter((s: any) => s.status === 'delivered').length;
    const failed = winter.filter((s: any) => s.status === 'failed' || s.status === 'undelivered').length;
    const section = page.text.slice(page.text.indexOf('>Winter service reminder</a>'));
    expect(section).toMatch(new RegExp(`<dt>Delivery rate</dt><dd>${Math.round((delivered / (delivered + failed)) * 1000) / 10} %</dd>`));
    expect(section).toMatch(new RegExp(`<dt>Replies</dt><dd>${demo.records.SMS.filter((s: any) => s.direction === 'inbound').length}</dd>`));
    // The demo's consent history has one recipient replying STOP after the campaign.
    const optedOut = new Set(demo.consent.filter((c: any) => c.state === 'opted_out' && winter.some((s: any) => s.to_number === c.phone)).map((c: any) => c.phone));
    expect(optedOut.size).toBeGreaterThan(0);
    expect(section).toMatch(new RegExp(`<dt>Opted out after</dt><dd>${optedOut.size}</dd>`));
  });

  it('counts outbound SMS sent and delivered per day, today included', async () => {
    const page = await ui.request('GET', '/ui');
    const rows = chartTable(page.text, 'SMS sent and delivered per day');
    expect(Object.keys(rows)).toHaveLength(30);
    const outbound = demo.records.SMS.filter((s: any) => s.direction === 'outbound');
    const today = new Date().toISOString().slice(5, 10);
    // The demo rows were written when the server started: today, in UTC.
    expect(rows[today]).toEqual([String(outbound.filter((s: any) => s.provider_message_id).length), String(outbound.filter((s: any) => s.status === 'delivered').length)]);
    const others = Object.entries(rows).filter(([day]) => day !== today);
    expect(others.every(([, v]) => v[0] === '0' && v[1] === '0')).toBe(true);
  });

  it("counts each message on the day of the user's time zone", async () => {
    // Yesterday 23:30 UTC is already the next day in Tokyo (UTC+9, no daylight saving).
    const instant = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() - 1, 23, 30));
    const sms = await get().crm.records.create(SYSTEM, 'SMS', { body: 'Late message', direction: 'outbound', status: 'delivered', to_number: '+14155552099', provider_message_id: 'SMlate', send_key: 'late-1' });
    await get().crm.engine.db.knex('sms').where({ id: sms.id }).update({ date_entered: instant.toISOString().slice(0, 19).replace('T', ' ') });
    const label = (zone: string) => new Intl.DateTimeFormat('en-CA', { timeZone: zone, month: '2-digit', day: '2-digit' }).format(instant);
    const utc = chartTable((await ui.request('GET', '/ui')).text, 'SMS sent and delivered per day');
    expect(utc[label('UTC')]).toEqual(['1', '1']);
    await ui.request('POST', '/ui/preferences', { csrf, timezone: 'Asia/Tokyo' });
    const page = (await ui.request('GET', '/ui')).text;
    expect(page).toContain('in the last 30 days (Asia/Tokyo)');
    const tokyo = chartTable(page, 'SMS sent and delivered per day');
    expect(label('Asia/Tokyo')).not.toBe(label('UTC'));
    expect(Number(tokyo[label('Asia/Tokyo')][0])).toBeGreaterThanOrEqual(1);
    expect(Object.values(tokyo).reduce((n, v) => n + Number(v[0]), 0)).toBe(Object.values(utc).reduce((n, v) => n + Number(v[0]), 0));
    await ui.request('POST', '/ui/preferences', { csrf, timezone: 'UTC' });
    await get().crm.engine.db.knex('sms').where({ id: sms.id }).delete();
  });

  it('keeps the strict CSP: no inline styles or scripts on the dashboard', async () => {
    const res = await fetch(`${get().url}/ui`, { headers: { cookie: '' }, redirect: 'manual' });
    expect(res.status).toBe(302);
    const page = await ui.request('GET', '/ui');
    expect(page.text).not.toMatch(/\sstyle=/);
    expect(page.text).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    const head = await fetch(`${get().url}/ui/login`);
    expect(head.headers.get('content-security-policy')).toContain("style-src 'self'");
  });

  it('shows an owner-only user the pipeline and opportunities they own, nothing else', async () => {
    await loginWithRole(get(), { name: 'olive', password: 'olive-pass' }, 'Owners only', [
      ['Opportunities', 'list', 'owner'], ['Opportunities', 'view', 'owner'], ['SMS', 'list', 'owner'], ['Campaigns', 'list', 'owner'],
    ]);
    const oliveId = (await get().crm.engine.db.knex('users').where({ user_name: 'olive' }).first('id')).id;
    for (const o of olive) await get().crm.records.create(SYSTEM, 'Opportunities', { ...o, assigned_user_id: oliveId });
    const own = session(get().url);
    await own.login('olive', 'olive-pass');
    const page = await own.request('GET', '/ui');
    expect(chartTable(page.text, 'Pipeline by sales stage')).toEqual({ Prospecting: ['1', money(1200)], 'Perception Analysis': ['1', money(3400)] });
    const section = page.text.slice(page.text.indexOf('data-dashlet="my_opportunities"'), page.text.indexOf('data-dashlet="pipeline"'));
    expect(section).toContain('>Olive first deal</a>');
    expect(section).toContain('>Olive second deal</a>');
    expect(section).not.toContain('Olive lost deal');
    // Campaigns and SMS owned by others are not hers: no campaign, no messages.
    expect(page.text).toContain('No SMS campaigns yet.');
    expect(Object.values(chartTable(page.text, 'SMS sent and delivered per day')).every((v) => v[0] === '0' && v[1] === '0')).toBe(true);
    // The admin's pipeline has hers too.
    const admin = chartTable((await ui.request('GET', '/ui')).text, 'Pipeline by sales stage');
    expect(admin).toEqual(expectedPipeline([...(await demoOpportunities()), ...olive]));
  });

  it('leaves out a dashlet whose module the user may not list', async () => {
    await loginWithRole(get(), { name: 'nosales', password: 'nosales-pass' }, 'No sales', [['Opportunities', 'list', 'none']]);
    const s = session(get().url);
    await s.login('nosales', 'nosales-pass');
    const page = await s.request('GET', '/ui');
    expect(page.status).toBe(200);
    expect(dashletKeys(page.text)).toEqual(['campaigns', 'sms_daily', 'records']);
  });

  it('keeps the chosen dashlets and their order per user', async () => {
    const form = await ui.request('GET', '/ui/dashboard/customise');
    expect(form.status).toBe(200);
    const res = await ui.request('POST', '/ui/dashboard/customise', {
      csrf, show: ['pipeline', 'sms_daily'], position_pipeline: '2', position_sms_daily: '1', position_my_opportunities: '3', position_campaigns: '4', position_records: '5',
    });
    expect(res.status).toBe(302);
    expect(dashletKeys((await ui.request('GET', '/ui')).text)).toEqual(['sms_daily', 'pipeline']);
    // Another user's dashboard is untouched.
    const s = session(get().url);
    await s.login('olive', 'olive-pass');
    expect(dashletKeys((await s.request('GET', '/ui')).text)).toEqual(['my_opportunities', 'pipeline', 'campaigns', 'sms_daily', 'records']);
    // The form shows the choice back: shown ones first, in order.
    const again = await ui.request('GET', '/ui/dashboard/customise');
    expect([...again.text.matchAll(/id="show-([a-z_]+)"[^>]*?( checked)?>/g)].map((m) => `${m[1]}${m[2] ? '*' : ''}`)).toEqual(['sms_daily*', 'pipeline*', 'my_opportunities', 'campaigns', 'records']);
  });

  it('refuses a bad customise form, naming the field, and changes nothing', async () => {
    const before = dashletKeys((await ui.request('GET', '/ui')).text);
    const bad = await ui.request('POST', '/ui/dashboard/customise', { csrf, show: ['pipeline'], position_pipeline: 'first' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('position_pipeline: the position must be a whole number from 1 to 5, got &quot;first&quot;; nothing was saved.');
    const unknown = await ui.request('POST', '/ui/dashboard/customise', { csrf, show: ['pipeline', 'weather'] });
    expect(unknown.status).toBe(422);
    expect(unknown.text).toContain('show: there is no dashlet called &quot;weather&quot;');
    const forged = await ui.request('POST', '/ui/dashboard/customise', { csrf: 'forged', show: ['pipeline'] });
    expect(forged.status).toBe(403);
    expect(dashletKeys((await ui.request('GET', '/ui')).text)).toEqual(before);
  });

  it('shows no dashlet when the user hides them all, with a way back', async () => {
    await ui.request('POST', '/ui/dashboard/customise', { csrf });
    const page = await ui.request('GET', '/ui');
    expect(dashletKeys(page.text)).toEqual([]);
    expect(page.text).toContain('No dashlets are shown.');
  });
}, { demo: true });

// The clock moves only when the test says so (sessions and tokens live by it too, so it starts now).
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);

describeEachServer("home dashboard: a campaign's results are read again after a short while", (get) => {
  it('shows the same numbers within RESULTS_TTL_MS and the new ones after it', async () => {
    const ui = session(get().url);
    await ui.login('admin', 'secret-admin');
    const delivered = async () => chartTable((await ui.request('GET', '/ui')).text, 'Winter service reminder: messages by status').Delivered;
    expect(await delivered()).toEqual(['3']);
    await get().crm.records.create(SYSTEM, 'SMS', {
      body: 'Late', direction: 'outbound', status: 'delivered', to_number: '+14155552098', provider_message_id: 'SMlate2', send_key: 'cmp:demo-winter-late', campaign_id: 'demo-campaign-winter', source: 'campaign',
    });
    expect(await delivered()).toEqual(['3']);
    offsetMs += RESULTS_TTL_MS + 1000;
    expect(await delivered()).toEqual(['4']);
  });
}, { demo: true, clock });

describeEachServer('home dashboard without SMS set up', (get) => {
  it('still shows the other dashlets and says SMS is not set up', async () => {
    const ui = session(get().url);
    await ui.login('admin', 'secret-admin');
    const page = await ui.request('GET', '/ui');
    expect(page.status).toBe(200);
    expect(dashletKeys(page.text)).toEqual(['my_opportunities', 'pipeline', 'campaigns', 'sms_daily', 'records']);
    expect(page.text).toContain('SMS is not set up.');
    expect(page.text).toContain('You have no open opportunities.');
    expect(page.text).toContain('>No open opportunities</text>');
  });
}, { sms: false });
