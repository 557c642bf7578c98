/**
 * The router's GraphQL URL, read at run time from index.html: the storefront's server writes ROUTER_URL into the
 * page, so one build runs against any router. `npm run dev` serves index.html as written, with the local default.
 */
export const ROUTER_URL = document.querySelector<HTMLMetaElement>('meta[name="router-url"]')!.content;
