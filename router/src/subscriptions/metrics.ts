import { registry } from '@shop/service';
import { Gauge } from 'prom-client';

/** What the metrics read: every subscription server in the process (one, but tests build several routers). */
const sources = new Set<{ subscriptions: () => number; streams: () => number }>();

new Gauge({
  name: 'router_subscriptions_open',
  help: 'Client subscriptions the router holds open, both transports (SUBSCRIPTIONS_MAX caps them)',
  registers: [registry],
  collect() {
    this.set([...sources].reduce((sum, source) => sum + source.subscriptions(), 0));
  },
});

new Gauge({
  name: 'router_subscription_streams_open',
  help: 'Subscriptions the router holds open on subgraphs: one per client subscription, except shared anonymous ones',
  registers: [registry],
  collect() {
    this.set([...sources].reduce((sum, source) => sum + source.streams(), 0));
  },
});

/** Counts a subscription server in the metrics until `remove` is called (it closed). */
export function countInMetrics(source: { subscriptions: () => number; streams: () => number }): () => void {
  sources.add(source);
  return () => sources.delete(source);
}
