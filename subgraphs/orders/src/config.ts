import { portSettings, readSettings, serviceSettings, setting } from '@shop/service/config';
import { SERVICES } from '@shop/service/services';
import { currencySetting, databaseUrlSetting, subgraphSettings } from '@shop/subgraph/config';

/** Every variable the orders subgraph reads, checked as it starts. */
export const ordersSettings = serviceSettings
  .extend(subgraphSettings.shape)
  .extend(portSettings('orders').shape)
  .extend({
    ORDERS_DATABASE_URL: databaseUrlSetting(),
    /** Where stock is reserved: the products subgraph, called directly with the router's secret. */
    PRODUCTS_URL: setting.url(['http', 'https']).transform((url) => url ?? `http://localhost:${SERVICES.products.port}/graphql`),
    PRODUCTS_TIMEOUT_MS: setting.integer(5_000, { min: 1 }),
    SHOP_CURRENCY: currencySetting(),
    /** Unpaid orders are cancelled this long after they were placed. */
    ORDER_HOLD_MINUTES: setting.number(30, { min: 0 }),
    RECOVERY_INTERVAL_MS: setting.integer(5_000, { min: 1 }),
    RESERVATION_TIMEOUT_MS: setting.integer(30_000, { min: 1 }),
    PAYMENT_TIMEOUT_MS: setting.integer(30_000, { min: 1 }),
    /** The sandbox payment provider's delay before it answers, for tests. */
    PAYMENT_LATENCY_MS: setting.integer(0),
  });

export const settings = () => readSettings(ordersSettings);
