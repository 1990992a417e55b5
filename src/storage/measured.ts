import type { StorageTiming } from "../core/metrics.ts";
import type { Storage } from "./types.ts";

/**
 * Wraps a storage backend so that every store method call is timed (jackal's `measured` decorator). Stores
 * are found by shape, so a store someone adds to `Storage` later is measured without touching this file.
 * Calls keep their `this` (the real store) and their result; only the timing is added.
 */
export function measuredStorage(storage: Storage, report: (t: StorageTiming) => void): Storage {
  const stores = new Map<PropertyKey, object>();
  return new Proxy(storage, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value === "function") return value.bind(target);
      if (typeof value !== "object" || value === null || typeof prop !== "string") return value;
      let wrapped = stores.get(prop);
      if (!wrapped) {
        wrapped = measuredStore(prop, value, report);
        stores.set(prop, wrapped);
      }
      return wrapped;
    },
  });
}

function measuredStore(name: string, store: object, report: (t: StorageTiming) => void): object {
  const methods = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function" || typeof prop !== "string") return value;
      let fn = methods.get(prop);
      if (!fn) {
        fn = timed(name, prop, value as (...args: unknown[]) => unknown, target, report);
        methods.set(prop, fn);
      }
      return fn;
    },
  });
}

function timed(
  store: string,
  op: string,
  fn: (...args: unknown[]) => unknown,
  self: object,
  report: (t: StorageTiming) => void,
): (...args: unknown[]) => unknown {
  return (...args) => {
    const start = performance.now();
    const done = (ok: boolean) => report({ store, op, seconds: (performance.now() - start) / 1000, ok });
    let result: unknown;
    try {
      result = fn.apply(self, args);
    } catch (err) {
      done(false);
      throw err;
    }
    if (result instanceof Promise) {
      return result.then(
        (v) => {
          done(true);
          return v;
        },
        (err) => {
          done(false);
          throw err;
        },
      );
    }
    done(true);
    return result;
  };
}
