/**
 * The GraphQL metrics plugin on a real Apollo Server (in process): operations counted by name, and the names a
 * client invents bounded, so that a stream of made-up names cannot grow the metrics without end.
 */
import { ApolloServer } from '@apollo/server';
import { describe, expect, it } from 'vitest';
import { graphqlMetricsPlugin } from '../src/graphql-metrics.js';
import { registry } from '../src/metrics.js';

async function countOf(name: string): Promise<number> {
  const metric = await registry.getSingleMetric('graphql_requests_total')!.get();
  return metric.values.filter((v) => v.labels.operation_name === name).reduce((sum, v) => sum + v.value, 0);
}

describe('graphqlMetricsPlugin', () => {
  it('labels operations by name until the cap, then counts new names as "other"', async () => {
    const server = new ApolloServer({
      // Apollo Server builds the schema itself: graphql-js refuses one built by the test's own copy of it.
      typeDefs: 'type Query { ping: String }',
      plugins: [graphqlMetricsPlugin(3)],
    });
    await server.start();
    const run = (name: string) => server.executeOperation({ query: `query ${name} { ping }` });
    const before = await countOf('other');
    for (const name of ['CapFirst', 'CapSecond', 'CapThird', 'CapFourth', 'CapFifth', 'CapFirst']) await run(name);
    expect(await countOf('CapFirst')).toBe(2);
    expect(await countOf('CapThird')).toBe(1);
    expect(await countOf('CapFourth')).toBe(0);
    expect(await countOf('CapFifth')).toBe(0);
    expect((await countOf('other')) - before).toBe(2);
    await server.stop();
  });
});
