import { barChart } from './bar-chart';

/** Status colours in the theme: delivered reads as good, failures as bad, the rest neutral. */
const STATUS_SERIES: Record<string, number> = { delivered: 1, sent: 0, accepted: 0, queued: 3, sending: 3, undelivered: 2, failed: 2, canceled: 4, unknown: 4 };

/**
 * An SMS campaign's recipients by the status of their latest message (the `status` of
 * SmsCampaigns.results()), largest first, as a bar chart.
 */
export function campaignStatusChart(input: { id: string; campaignName: string; status: Record<string, number>; statusLabels: Readonly<Record<string, string>> }): string {
  const bars = Object.entries(input.status).sort((a, b) => b[1] - a[1])
    .map(([s, n]) => ({ label: input.statusLabels[s] ?? s, value: n, series: STATUS_SERIES[s] ?? 5 }));
  const total = bars.reduce((sum, b) => sum + b.value, 0);
  return barChart({
    id: input.id, title: `${input.campaignName}: messages by status`,
    description: `${total.toLocaleString('en-US')} ${total === 1 ? 'recipient' : 'recipients'} messaged: ${bars.map((b) => `${b.label} ${b.value}`).join(', ') || 'none yet'}.`,
    bars, whole: true, table: { head: ['Status', 'Messages'], rows: bars.map((b) => [b.label, b.value.toLocaleString('en-US')]) }, emptyText: 'Not sent yet',
  });
}
