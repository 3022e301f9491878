/** A cookie-keeping form client: what a browser does, without the browser. */
export function session(base: string) {
  const jar = new Map<string, string>();
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const remember = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const [k, v] = pair.split('=');
      jar.set(k.trim(), v);
    }
  };
  const request = async (method: string, path: string, form?: Record<string, string | string[]>) => {
    let body: string | undefined;
    if (form) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(form)) for (const item of Array.isArray(v) ? v : [v]) params.append(k, item);
      body = params.toString();
    }
    const res = await fetch(`${base}${path}`, { method, body, redirect: 'manual', headers: { cookie: cookieHeader(), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) } });
    remember(res);
    return { status: res.status, location: res.headers.get('location') ?? '', text: await res.text() };
  };
  /** A JSON POST with the session's cookies, as ui.js sends it (previews). */
  const json = async (path: string, payload: unknown) => {
    const res = await fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify(payload), headers: { cookie: cookieHeader(), 'content-type': 'application/json' } });
    remember(res);
    const text = await res.text();
    let body: any = text;
    try { body = JSON.parse(text); } catch { /* an error page */ }
    return { status: res.status, body };
  };
  const csrfIn = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  return {
    request,
    json,
    csrfIn,
    async login(user: string, password: string) {
      const page = await request('GET', '/ui/login');
      const res = await request('POST', '/ui/login', { csrf: csrfIn(page.text), user_name: user, password });
      expect(res.status).toBe(302);
      return csrfIn((await request('GET', '/ui')).text);
    },
  };
}
