import { AsyncLocalStorage } from 'node:async_hooks';
import type { Bean, HookArguments, HookDefinition, HookHandler, RecordEvent } from './types';

/** Sugar's max_logic_depth: a hook that re-triggers its own event deeper than this is skipped. */
export const MAX_LOGIC_DEPTH = 10;

const APPLICATION = '*';

interface Registered {
  order: number;
  label: string;
  handler: HookHandler;
  sequence: number;
}

/**
 * Logic hooks by module and event. Module hooks run first, then application hooks (module '*'),
 * each sorted by order, as LogicHook::call_custom_logic does. before_* hooks may throw HookVeto
 * to stop the operation; what after_* hooks throw is logged by the caller and never undoes a commit.
 */
export class HookRegistry {
  private readonly hooks = new Map<string, Registered[]>();
  private readonly depth = new AsyncLocalStorage<Map<string, number>>();
  private sequence = 0;

  constructor(private readonly onSkipped: (message: string) => void = () => undefined) {}

  /** Registers a hook for a module ('*' for every module); returns a function that removes it. */
  register<E extends RecordEvent>(module: string, definition: HookDefinition<E>): () => void {
    const key = `${module}:${definition.event}`;
    const list = this.hooks.get(key) ?? [];
    const entry: Registered = { order: definition.order, label: definition.label, handler: definition.handler as HookHandler, sequence: this.sequence++ };
    list.push(entry);
    list.sort((a, b) => a.order - b.order || a.sequence - b.sequence);
    this.hooks.set(key, list);
    return () => {
      const current = this.hooks.get(key) ?? [];
      this.hooks.set(key, current.filter((e) => e !== entry));
    };
  }

  has(module: string, event: RecordEvent): boolean {
    return Boolean(this.hooks.get(`${module}:${event}`)?.length || this.hooks.get(`${APPLICATION}:${event}`)?.length);
  }

  /** Runs the hooks of one event on one record, guarding against runaway recursion. */
  async run<E extends RecordEvent>(module: string, event: E, bean: Bean, args: HookArguments[E]): Promise<void> {
    const list = [...(this.hooks.get(`${module}:${event}`) ?? []), ...(this.hooks.get(`${APPLICATION}:${event}`) ?? [])];
    if (!list.length) return;
    const key = `${module}:${event}:${String(bean.id ?? '')}`;
    const parent = this.depth.getStore();
    const level = (parent?.get(key) ?? 0) + 1;
    if (level > MAX_LOGIC_DEPTH) {
      this.onSkipped(`logic hook depth ${level} for ${event} on ${module} ${String(bean.id)} exceeds ${MAX_LOGIC_DEPTH}; hooks skipped`);
      return;
    }
    const scope = new Map(parent ?? []);
    scope.set(key, level);
    await this.depth.run(scope, async () => {
      for (const hook of list) await hook.handler(bean, event, args);
    });
  }
}

export function makeBean(module: string, objectName: string, values: Record<string, unknown>, fetchedRow: Record<string, unknown> | null): Bean {
  const bean = { ...values };
  Object.defineProperties(bean, {
    module_dir: { value: module, enumerable: false },
    object_name: { value: objectName, enumerable: false },
    fetched_row: { value: fetchedRow ? Object.freeze({ ...fetchedRow }) : null, enumerable: false },
  });
  return bean as Bean;
}
