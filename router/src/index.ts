// @apollo/gateway 2.14 reports usage to Apollo unless told not to; this router never phones home.
process.env.APOLLO_TELEMETRY_DISABLED ??= '1';
// Tracing patches modules as they load, so it starts before anything else is imported, and only when asked for.
const tracing = process.env.OTEL_EXPORTER_OTLP_ENDPOINT
  ? (await import('@shop/service/tracing')).startTracing('router', { traceNewRequests: true })
  : undefined;

const { listen, servicePort } = await import('@shop/service');
const { buildServer } = await import('./server.js');

const { app } = await buildServer();
// Once the last request has drained, its spans are exported before the process exits.
if (tracing) app.addHook('onClose', tracing.shutdown);
const address = await listen(app, servicePort('ROUTER_PORT', 4000));
app.log.info(`router ready at ${address.replace('0.0.0.0', 'localhost')}/graphql`);
