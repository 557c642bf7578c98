import { listen, servicePort } from '@shop/kit';
import { buildServer } from './server.js';

const { app } = await buildServer();
await listen(app, servicePort('PRODUCTS_PORT', 4002));
