import { checkSettingsAtStart, servicePorts } from '@shop/service/config';
import { ordersSettings } from './config.js';

// Every variable is checked before anything else runs: a bad one stops the service here, named.
const settings = checkSettingsAtStart('orders', ordersSettings);
// Tracing patches modules as they load, so it starts before anything else is imported, and only when asked for.
const tracing = settings.OTEL_EXPORTER_OTLP_ENDPOINT ? (await import('@shop/service/tracing')).startTracing('orders') : undefined;

const { listen } = await import('@shop/service');
const { buildServer } = await import('./server.js');

const service = await buildServer();
// Once the last request has drained, its spans are exported before the process exits.
if (tracing) service.app.addHook('onClose', tracing.shutdown);
await listen(service, servicePorts('orders', settings));
