/** Twilio's default keywords, matched against the whole message, case-insensitively. */
const OPT_OUT = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT']);
const OPT_IN = new Set(['START', 'YES', 'UNSTOP']);

/** What an inbound message asks for; Twilio's OptOutType (Advanced Opt-Out) wins when present. */
export function keywordIntent(body: string, optOutType?: string): 'opt_out' | 'opt_in' | 'help' | undefined {
  const type = optOutType?.trim().toUpperCase();
  if (type === 'STOP') return 'opt_out';
  if (type === 'START') return 'opt_in';
  if (type === 'HELP') return 'help';
  const word = body.trim().replace(/[.!]+$/, '').toUpperCase();
  if (OPT_OUT.has(word)) return 'opt_out';
  if (OPT_IN.has(word)) return 'opt_in';
  if (word === 'HELP' || word === 'INFO') return 'help';
  return undefined;
}
