/**
 * The router's GraphQL URL, read at run time from index.html: the storefront's server writes PUBLIC_ROUTER_URL into
 * the page, so one build runs against any router. Under `npm run dev` it is /graphql, which Vite proxies.
 */
export const ROUTER_URL = document.querySelector<HTMLMetaElement>('meta[name="router-url"]')!.content;
