/**
 * fastify's `trustProxy` from `TRUST_PROXY`: unset or `false` (the default) takes the socket's address and
 * ignores X-Forwarded-For; `true` trusts every proxy, a number trusts that many hops, anything else is a
 * comma-separated list of proxy addresses or CIDR ranges. Only the router faces clients, so only it reads this.
 */
export function trustProxySetting(raw = process.env.TRUST_PROXY): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    return (_address, hop) => hop < hops;
  }
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}
