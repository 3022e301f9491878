import http from 'node:http';

/** A benchmark's load generator side: keep-alive requests to a server process on 127.0.0.1. */
export interface Answer { status: number; body: any; headers: http.IncomingHttpHeaders }

export function httpClient(connections: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  return function request(port: number, method: string, pathname: string, options: { body?: unknown; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Answer> {
    const data = options.form ? new URLSearchParams(options.form).toString() : options.body === undefined ? undefined : JSON.stringify(options.body);
    const type = options.form ? 'application/x-www-form-urlencoded' : 'application/json';
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method, path: pathname, agent, headers: { ...(data ? { 'content-type': type, 'content-length': Buffer.byteLength(data) } : {}), ...options.headers } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let body: unknown = text;
          try { body = JSON.parse(text); } catch { /* not JSON */ }
          resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
        });
      });
      req.on('error', reject);
      req.end(data);
    });
  };
}

export const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : NaN);

/** `connections` loops calling `call` for `seconds`; throughput and latency percentiles. Throws on a non-2xx answer. */
export async function measure(connections: number, seconds: number, call: (i: number) => Promise<Answer>): Promise<{ rps: number; p50: number; p99: number; count: number }> {
  const latencies: number[] = [];
  const deadline = Date.now() + seconds * 1000;
  let n = 0;
  const started = Date.now();
  await Promise.all(Array.from({ length: connections }, async () => {
    while (Date.now() < deadline) {
      const i = n++;
      const start = process.hrtime.bigint();
      const answer = await call(i);
      if (answer.status < 200 || answer.status > 299 || (answer.body && typeof answer.body === 'object' && 'number' in answer.body && 'description' in answer.body)) {
        throw new Error(`request ${i} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`);
      }
      latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }));
  const elapsed = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / elapsed, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), count: latencies.length };
}
