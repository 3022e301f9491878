import { barChart, campaignStatusChart, lineChart, niceScale } from '../../core/views/charts';

const attr = (svg: string, selector: RegExp) => [...svg.matchAll(selector)].map((m) => Number(m[1]));

describe('niceScale', () => {
  it('rounds the maximum up to a whole number of round steps', () => {
    expect(niceScale(8.5)).toEqual({ max: 10, step: 2.5 });
    expect(niceScale(45_000)).toEqual({ max: 60_000, step: 20_000 });
    expect(niceScale(3, 4, true)).toEqual({ max: 3, step: 1 });
  });
  it('gives a usable axis for no data', () => {
    expect(niceScale(0, 4, true)).toEqual({ max: 4, step: 1 });
    expect(niceScale(Number.NaN)).toEqual({ max: 1, step: 0.25 });
  });
});

describe('barChart', () => {
  const chart = barChart({
    id: 'pipe', title: 'Pipeline', description: 'Amount per stage',
    bars: [{ label: 'Prospecting', value: 5000 }, { label: 'Qualification', value: 10_000, text: '$10,000 · 2' }, { label: 'Lost?', value: -5 }],
  });

  it('is an accessible SVG image named by its title and description', () => {
    expect(chart).toMatch(/^<figure class="chart-figure"><svg xmlns="http:\/\/www.w3.org\/2000\/svg" class="chart chart-bars" role="img" aria-labelledby="pipe-title pipe-desc"/);
    expect(chart).toContain('<title id="pipe-title">Pipeline</title><desc id="pipe-desc">Amount per stage</desc>');
  });

  it('scales bars to the round maximum: half the plot for half the top value, none for a negative one', () => {
    const widths = attr(chart, /<rect class="chart-bar[^"]*" x="\d+" y="[\d.]+" width="([\d.]+)"/g);
    expect(widths).toHaveLength(3);
    expect(widths[0] * 2).toBeCloseTo(widths[1], 0);
    expect(widths[1]).toBe(330); // 10,000 of a 10,000 axis fills the 330-unit plot (640 - 170 labels - 140 numbers)
    expect(widths[2]).toBe(0);
  });

  it('writes each number beside its bar, in a tooltip and in a screen-reader table', () => {
    expect(chart).toContain('<text class="chart-value"');
    expect(chart).toContain('>$10,000 · 2</text>');
    expect(chart).toContain('<title>Prospecting: 5,000</title>');
    expect(chart).toContain('<table class="visually-hidden"><caption>Pipeline</caption>');
    expect(chart).toContain('<tr><th scope="row">Qualification</th><td>$10,000 · 2</td></tr>');
  });

  it('escapes labels, titles and ids everywhere', () => {
    const hostile = barChart({ id: 'x"><script>', title: '<b>T</b>', description: 'a & b', bars: [{ label: '<img src=x onerror=alert(1)>', value: 1, text: '"quoted"' }] });
    expect(hostile).not.toMatch(/<script|<img|<b>/);
    expect(hostile).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(hostile).toContain('&quot;quoted&quot;');
    expect(hostile).toContain('a &amp; b');
    expect(hostile).toContain('id="x&quot;&gt;&lt;script&gt;-title"');
  });

  it('shortens long labels on the axis but keeps them whole in the tooltip', () => {
    const long = 'A very long sales stage name that does not fit';
    const svg = barChart({ id: 'l', title: 't', description: 'd', bars: [{ label: long, value: 1 }] });
    expect(svg).toContain('>A very long sales stage…</text>');
    expect(svg).toContain(`<title>${long}: 1</title>`);
  });

  it('says so when there is nothing to draw', () => {
    const empty = barChart({ id: 'e', title: 'Empty', description: 'none', bars: [], emptyText: 'No open opportunities' });
    expect(empty).toContain('role="img"');
    expect(empty).toContain('>No open opportunities</text>');
    expect(empty).not.toContain('<rect');
  });

  it('uses theme classes for colour, never inline styles or colours', () => {
    const svg = barChart({ id: 's', title: 't', description: 'd', bars: [{ label: 'a', value: 1, series: 2 }, { label: 'b', value: 2, series: 7 }] });
    expect(svg).toContain('class="chart-bar chart-series-2"');
    expect(svg).toContain('class="chart-bar chart-series-1"');
    expect(svg).not.toMatch(/style=|fill="#|stroke="#/);
  });
});

describe('lineChart', () => {
  const labels = ['11-01', '11-02', '11-03', '11-04'];
  const chart = lineChart({ id: 'daily', title: 'SMS per day', description: 'sent and delivered', labels, series: [{ name: 'Sent', values: [0, 4, 2, 8] }, { name: 'Delivered', values: [0, 3, 2, 6] }] });

  it('draws one line per series with a legend, over the shared labels', () => {
    expect(chart).toContain('role="img" aria-labelledby="daily-title daily-desc"');
    expect(chart.match(/<polyline class="chart-line chart-series-\d"/g)).toHaveLength(2);
    expect(chart).toContain('<text class="chart-legend" x="66" y="18">Sent</text>');
    expect(chart).toContain('>Delivered</text>');
  });

  it('places the points: the first at the bottom left, the largest at the top of a round axis', () => {
    const points = /<polyline class="chart-line chart-series-0" points="([^"]+)"/.exec(chart)![1].split(' ').map((p) => p.split(',').map(Number));
    expect(points).toHaveLength(4);
    // Axis 0..8 over a 180-unit plot starting at y=32: 0 at y=212, 8 at y=32; x from 48 to 616.
    expect(points[0]).toEqual([48, 212]);
    expect(points[3]).toEqual([616, 32]);
    expect(points[1][1]).toBe(122);
  });

  it('puts every number in a point tooltip and in a screen-reader table', () => {
    expect(chart).toContain('<title>11-04: 8 sent</title>');
    expect(chart).toContain('<tr><th scope="row">11-02</th><td>4</td><td>3</td></tr>');
    expect(chart).toContain('<thead><tr><th scope="col"></th><th scope="col">Sent</th><th scope="col">Delivered</th></tr></thead>');
  });

  it('draws an all-zero month on a whole-number axis with flat lines', () => {
    const zero = lineChart({ id: 'z', title: 'z', description: 'z', labels, series: [{ name: 'Sent', values: [0, 0, 0, 0] }] });
    expect(zero).toContain('>4</text>');
    expect(zero).not.toContain('>0.3<');
    const ys = new Set(/points="([^"]+)"/.exec(zero)![1].split(' ').map((p) => p.split(',')[1]));
    expect([...ys]).toEqual(['212']);
  });

  it('labels every n-th day counted from the last, so the last day is always labelled and never crowded', () => {
    const days = Array.from({ length: 30 }, (_, i) => `d${i + 1}`);
    const svg = lineChart({ id: 'm', title: 'm', description: 'm', labels: days, series: [{ name: 'Sent', values: days.map(() => 1) }] });
    const shown = [...svg.matchAll(/<text class="chart-tick" x="[\d.]+" y="232" text-anchor="middle">(d\d+)<\/text>/g)].map((m) => m[1]);
    expect(shown).toEqual(['d2', 'd6', 'd10', 'd14', 'd18', 'd22', 'd26', 'd30']);
  });

  it('escapes series names and labels', () => {
    const svg = lineChart({ id: 'e', title: 't', description: 'd', labels: ['<x>'], series: [{ name: '</text><script>', values: [1] }] });
    expect(svg).not.toMatch(/<script|<x>/);
    expect(svg).toContain('&lt;/text&gt;&lt;script&gt;');
  });
});

describe('campaignStatusChart', () => {
  it('orders statuses by count, labels them and colours delivered and failed apart', () => {
    const svg = campaignStatusChart({ id: 'c', campaignName: 'Winter & more', status: { failed: 1, delivered: 3, sent: 1 }, statusLabels: { delivered: 'Delivered', failed: 'Failed' } });
    expect([...svg.matchAll(/<th scope="row">(.*?)<\/th>/g)].map((m) => m[1])).toEqual(['Delivered', 'Failed', 'sent']);
    expect(svg).toContain('<title id="c-title">Winter &amp; more: messages by status</title>');
    expect(svg).toContain('<desc id="c-desc">5 recipients messaged: Delivered 3, Failed 1, sent 1.</desc>');
    expect(svg).toMatch(/class="chart-bar chart-series-1"[^>]*><title>Delivered: 3<\/title>/);
    expect(svg).toMatch(/class="chart-bar chart-series-2"[^>]*><title>Failed: 1<\/title>/);
  });
  it('says the campaign was not sent yet when there are no messages', () => {
    expect(campaignStatusChart({ id: 'e', campaignName: 'New', status: {}, statusLabels: {} })).toContain('>Not sent yet</text>');
  });
});
