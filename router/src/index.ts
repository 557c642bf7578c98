// @apollo/gateway 2.14 reports usage to Apollo unless told not to; this router never phones home.
process.env.APOLLO_TELEMETRY_DISABLED ??= '1';

const { listen, servicePort } = await import('@shop/kit');
const { buildServer } = await import('./server.js');

const { app } = await buildServer();
const address = await listen(app, servicePort('ROUTER_PORT', 4000));
app.log.info(`router ready at ${address.replace('0.0.0.0', 'localhost')}/graphql`);
