import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What caused a change made by a plugin: the event it was handling and how deep the chain of
 * plugin-made changes goes. The bridge sets it around every host call; the record service copies it
 * onto the after-events of the changes made inside, so a plugin can tell a change it caused (and a
 * workflow engine can apply Sugar's depth-10 rule across events).
 */
export interface Cause {
  /** 1 for a change made while handling a user's change, 2 for one made while handling that, … */
  depth: number;
  /** The record whose event was being handled. */
  module: string;
  id: string;
}

const storage = new AsyncLocalStorage<Cause>();

export function withCause<T>(cause: Cause, work: () => Promise<T>): Promise<T> {
  return storage.run(cause, work);
}

/** The cause of the change being made now, if a plugin is making it. */
export function currentCause(): Cause | undefined {
  return storage.getStore();
}
