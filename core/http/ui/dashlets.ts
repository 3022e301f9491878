/** The home page's dashlets, in their default order. */
export const DASHLETS = [
  { key: 'my_opportunities', title: 'My open opportunities' },
  { key: 'pipeline', title: 'Pipeline by sales stage' },
  { key: 'campaigns', title: 'SMS campaign results' },
  { key: 'sms_daily', title: 'SMS sent and delivered per day' },
  { key: 'records', title: 'Records' },
] as const;

export type DashletKey = typeof DASHLETS[number]['key'];

/** The user preference holding the shown dashlets, in order, comma-separated. */
export const DASHLETS_PREFERENCE = 'dashlets';

const KEYS = new Set<string>(DASHLETS.map((d) => d.key));

export function isDashlet(key: string): key is DashletKey {
  return KEYS.has(key);
}

/** The stored preference as dashlet keys (unknown ones dropped); all of them when nothing is stored. */
export function chosenDashlets(stored: string | undefined): DashletKey[] {
  if (stored === undefined) return DASHLETS.map((d) => d.key);
  return [...new Set(stored.split(',').map((k) => k.trim()).filter(isDashlet))];
}
