// Tracing patches modules as they load, so it starts before anything else is imported, and only when asked for.
const tracing = process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? (await import('@shop/service/tracing')).startTracing('products') : undefined;

const { listen, servicePort } = await import('@shop/service');
const { buildServer } = await import('./server.js');

const { app } = await buildServer();
// Once the last request has drained, its spans are exported before the process exits.
if (tracing) app.addHook('onClose', tracing.shutdown);
await listen(app, servicePort('PRODUCTS_PORT', 4002));
