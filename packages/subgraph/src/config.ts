import { setting, z } from '@shop/service/config';

/** What every subgraph reads besides the service settings: its database pool and the token key. */
export const subgraphSettings = z.object({
  /** Embedded databases and the development token key live under it (`.data` where npm was run). */
  DATA_DIR: setting.text(undefined),
  /** NATS with JetStream (`nats://host:4222`): events are published to its stream SHOP. Unset: no broker. */
  NATS_URL: setting.url(['nats', 'tls']),
  /** Connections one process may open to PostgreSQL. */
  DB_POOL_MAX: setting.integer(10, { min: 1, max: 1_000 }),
  /** The HMAC key of login tokens: required in production; in development one is generated under DATA_DIR. */
  JWT_SECRET: setting.secret({ minLength: 32, requiredInProduction: true }),
  /** How long a login token lasts, in jose's notation (`12h`, `30m`, `7d`). */
  JWT_TTL: setting
    .text('12h')
    .refine(
      (value) =>
        /^\d+\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|week|weeks|y|yr|yrs|year|years)$/.test(
          value,
        ),
      'must be a duration such as 12h, 30m or 7d',
    ),
});

/** The one currency the shop prices in (ISO 4217), `SHOP_CURRENCY`: products and orders must agree on it. */
export const currencySetting = () =>
  setting.text('USD').refine((value) => /^[A-Z]{3}$/.test(value), 'must be an ISO 4217 code such as USD');

/** A subgraph's database: PostgreSQL when set (`<NAME>_DATABASE_URL`), embedded PGlite under DATA_DIR when not. */
export const databaseUrlSetting = () => setting.url(['postgres', 'postgresql']).meta({ secret: true, requiredInProduction: false });
