import { portSettings, readSettings, redisUrlSetting, serviceSettings, setting } from '@shop/service/config';
import { databaseUrlSetting, subgraphSettings } from '@shop/subgraph/config';

/** Every variable the users subgraph reads, checked as it starts. */
export const usersSettings = serviceSettings
  .extend(subgraphSettings.shape)
  .extend(portSettings('users').shape)
  .extend({
    USERS_DATABASE_URL: databaseUrlSetting(),
    /** With both set, this account exists, is an admin and has this password at every start. */
    ADMIN_EMAIL: setting.text(undefined),
    ADMIN_PASSWORD: setting.secret({ minLength: 8 }),
    /** A demo customer on start. */
    SEED_DEMO: setting.boolean(false),
    RATE_LIMIT_LOGIN_PER_EMAIL: setting.integer(10, { min: 1 }),
    RATE_LIMIT_LOGIN_PER_IP: setting.integer(50, { min: 1 }),
    RATE_LIMIT_LOGIN_WINDOW_SECONDS: setting.integer(900, { min: 1 }),
    RATE_LIMIT_REGISTER_PER_IP: setting.integer(30, { min: 1 }),
    RATE_LIMIT_REGISTER_WINDOW_SECONDS: setting.integer(3_600, { min: 1 }),
    /** Redis (redis:// or rediss://) for the rate-limit counters, shared by every replica; unset: each process counts alone. */
    REDIS_URL: redisUrlSetting(),
  });

export const settings = () => readSettings(usersSettings);
