import { checkSettingsAtStart, servicePorts } from '@shop/service/config';
import { routerSettings } from './config.js';

// @apollo/gateway 2.14 reports usage to Apollo unless told not to; this router never phones home.
process.env.APOLLO_TELEMETRY_DISABLED ??= '1';
// Every variable is checked before anything else runs: a bad one stops the router here, named.
const settings = checkSettingsAtStart('router', routerSettings);
// Tracing patches modules as they load, so it starts before anything else is imported, and only when asked for.
const tracing = settings.OTEL_EXPORTER_OTLP_ENDPOINT
  ? (await import('@shop/service/tracing')).startTracing('router', { traceNewRequests: true })
  : undefined;

const { listen } = await import('@shop/service');
const { buildServer } = await import('./server.js');

const service = await buildServer();
// Once the last request has drained, its spans are exported before the process exits.
if (tracing) service.app.addHook('onClose', tracing.shutdown);
const address = await listen(service, servicePorts('router', settings));
// How long the start took, in wall time and in CPU time (which a busy machine does not inflate).
const cpu = process.cpuUsage();
service.logger.info(
  { startupMs: Math.round(performance.now()), startupCpuMs: Math.round((cpu.user + cpu.system) / 1000) },
  `router ready at ${address.replace('0.0.0.0', 'localhost')}/graphql`,
);
