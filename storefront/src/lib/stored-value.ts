/**
 * A value kept in localStorage under one key, shared by every component that reads it and by the shop's other
 * tabs (the `storage` event), so a sign-out or a cart change shows everywhere at once.
 */
export interface StoredValue<T> {
  get(): T;
  set(value: T): void;
  subscribe(listener: () => void): () => void;
}

export function storedValue<T>(key: string, fallback: T, read: (raw: unknown) => T | undefined): StoredValue<T> {
  const listeners = new Set<() => void>();
  let cachedRaw: string | null | undefined;
  let cachedValue = fallback;

  function get(): T {
    const raw = localStorage.getItem(key);
    // The same text gives the same object, as useSyncExternalStore needs.
    if (raw !== cachedRaw) {
      cachedRaw = raw;
      cachedValue = parse(raw);
    }
    return cachedValue;
  }

  function parse(raw: string | null): T {
    if (raw === null) return fallback;
    try {
      return read(JSON.parse(raw)) ?? fallback;
    } catch {
      return fallback; // written by another version of the shop, or edited by hand
    }
  }

  function set(value: T): void {
    localStorage.setItem(key, JSON.stringify(value));
    listeners.forEach((listener) => listener());
  }

  function subscribe(listener: () => void): () => void {
    listeners.add(listener);
    const onStorage = (event: StorageEvent) => {
      if (event.key === key) listener();
    };
    window.addEventListener('storage', onStorage);
    return () => {
      listeners.delete(listener);
      window.removeEventListener('storage', onStorage);
    };
  }

  return { get, set, subscribe };
}
