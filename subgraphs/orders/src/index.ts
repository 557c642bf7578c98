import { listen, servicePort } from '@shop/kit';
import { buildServer } from './server.js';

const { app } = await buildServer();
await listen(app, servicePort('ORDERS_PORT', 4003));
