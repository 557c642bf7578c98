import { portSettings, readSettings, serviceSettings, setting } from '@shop/service/config';
import { currencySetting, databaseUrlSetting, subgraphSettings } from '@shop/subgraph/config';

/** Every variable the products subgraph reads, checked as it starts. */
export const productsSettings = serviceSettings
  .extend(subgraphSettings.shape)
  .extend(portSettings('products').shape)
  .extend({
    PRODUCTS_DATABASE_URL: databaseUrlSetting(),
    /** A demo catalogue on an empty database. */
    SEED_DEMO: setting.boolean(false),
    SHOP_CURRENCY: currencySetting(),
  });

export const settings = () => readSettings(productsSettings);
