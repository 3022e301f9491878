/** How many failed logins are allowed, and for how long a lock lasts. */
export interface LoginPolicy {
  /** Failures count within this window, which starts at an account's or address's first failure; a lock ends with it. */
  windowSeconds: number;
  /** Failed logins per user name in a window (CANE_LOGIN_MAX_FAILURES). */
  maxAccountFailures: number;
  /** Failed logins per client address in a window, over all user names (CANE_LOGIN_MAX_ADDRESS_FAILURES); high, for offices behind one NAT. */
  maxAddressFailures: number;
}

export const DEFAULT_LOGIN_POLICY: LoginPolicy = { windowSeconds: 900, maxAccountFailures: 10, maxAddressFailures: 100 };

type Env = Record<string, string | undefined>;

/** createCrm's `loginPolicy` option, else the CANE_LOGIN_* variables, else the defaults. */
export function loginPolicyFrom(options: Partial<LoginPolicy> = {}, env: Env = process.env): LoginPolicy {
  return {
    windowSeconds: options.windowSeconds ?? wholeNumber(env.CANE_LOGIN_WINDOW_SECONDS, 'CANE_LOGIN_WINDOW_SECONDS', DEFAULT_LOGIN_POLICY.windowSeconds),
    maxAccountFailures: options.maxAccountFailures ?? wholeNumber(env.CANE_LOGIN_MAX_FAILURES, 'CANE_LOGIN_MAX_FAILURES', DEFAULT_LOGIN_POLICY.maxAccountFailures),
    maxAddressFailures: options.maxAddressFailures ?? wholeNumber(env.CANE_LOGIN_MAX_ADDRESS_FAILURES, 'CANE_LOGIN_MAX_ADDRESS_FAILURES', DEFAULT_LOGIN_POLICY.maxAddressFailures),
  };
}

function wholeNumber(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a whole number of at least 1, not '${raw}'`);
  return n;
}
