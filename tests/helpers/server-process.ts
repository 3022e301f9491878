import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const serverScript = path.join(root, 'tests', 'fixtures', 'cane-server.ts');

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

/** A Cane server process (tests/fixtures/cane-server.ts) on the database DATABASE_URL names; SIGKILL kills the server itself. */
export async function startServer(env: Record<string, string>): Promise<ServerProcess> {
  // tsx as a loader in one process, so SIGKILL kills the server itself.
  const child = spawn(process.execPath, ['--no-node-snapshot', '--import', 'tsx', serverScript], { cwd: root, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`server exited (${code}): ${out}`)));
  });
  return { child, url: `http://127.0.0.1:${port}`, exited };
}

