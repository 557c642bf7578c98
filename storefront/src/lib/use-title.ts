import { useEffect } from 'react';

/** The page's title, so tabs, history and screen readers say where the shopper is. */
export function useTitle(title: string | undefined): void {
  useEffect(() => {
    document.title = title ? `${title} · Federated Shop` : 'Federated Shop';
  }, [title]);
}
