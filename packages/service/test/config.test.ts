import { describe, expect, it } from 'vitest';
import { ConfigError, isShippedSecret, loadConfig, serviceSettings, setting, z } from '../src/config.js';

const settings = serviceSettings.extend({
  TIMEOUT_MS: setting.integer(5_000, { min: 1 }),
  HOLD_MINUTES: setting.number(30, { min: 0 }),
  JWT_SECRET: setting.secret({ minLength: 32, requiredInProduction: true }),
  DATABASE_URL: setting.url(['postgres']).meta({ secret: true }),
  ENABLED: setting.boolean(false),
});

const problems = (env: NodeJS.ProcessEnv) => {
  try {
    loadConfig(settings, env);
    return '';
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
};

describe('loadConfig', () => {
  it('gives defaults for unset and empty variables, and typed values for set ones', () => {
    const config = loadConfig(settings, { TIMEOUT_MS: '', HOLD_MINUTES: '0.5', ENABLED: 'true', LOG_LEVEL: 'debug' });
    expect(config).toMatchObject({ TIMEOUT_MS: 5_000, HOLD_MINUTES: 0.5, ENABLED: true, LOG_LEVEL: 'debug' });
    expect(config.JWT_SECRET).toBeUndefined();
  });

  it('names every variable that is wrong, with its value and what it must be', () => {
    const message = problems({ TIMEOUT_MS: 'soon', LOG_LEVEL: 'loud', ENABLED: 'yes', DATABASE_URL: 'mysql://x', JWT_SECRET: 'short' });
    expect(message).toContain('TIMEOUT_MS="soon": must be a whole number from 1 to');
    expect(message).toContain('LOG_LEVEL="loud": must be one of fatal, error, warn, info, debug, trace, silent');
    expect(message).toContain('ENABLED="yes": must be true or false');
    expect(message).toContain('DATABASE_URL="mysql://x": must be a postgres URL');
    expect(message).toContain('JWT_SECRET="short": must be at least 32 characters');
  });

  it('requires production secrets, and refuses the ones that ship in the repository', () => {
    expect(problems({ NODE_ENV: 'production' })).toContain('JWT_SECRET: is required when NODE_ENV=production');
    expect(problems({ NODE_ENV: 'production', JWT_SECRET: 'local-only-jwt-secret-change-me-0123456789' })).toContain(
      'JWT_SECRET: holds a value that ships in this repository',
    );
    expect(problems({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), ROUTER_SECRET: 'REPLACE_ME_REPLACE_ME' })).toContain(
      'ROUTER_SECRET:',
    );
    expect(problems({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), DATABASE_URL: 'postgres://shop:change-me@db/shop' })).toContain(
      'DATABASE_URL:',
    );
    expect(problems({ NODE_ENV: 'production', JWT_SECRET: 'a real secret that nobody shipped 1234' })).toBe('');
    // The same values are fine outside production: a laptop uses them.
    expect(problems({ JWT_SECRET: 'local-only-jwt-secret-change-me-0123456789' })).toBe('');
  });
});

describe('isShippedSecret', () => {
  it.each([
    ['change-me', true],
    ['REPLACE_ME', true],
    ['admin-password', true],
    ['postgres://shop:shop-local-password@postgres:5432/shop_users', true],
    ['postgres://REPLACE_ME_USER:REPLACE_ME_PASSWORD@REPLACE_ME_HOST:5432/shop', true],
    ['postgres://shop:8f3kS9dQ2@db.internal:5432/shop', false],
    ['nats://nats:4222', false],
    ['f8a9c2e4b7d1', false],
  ])('%s: %s', (value, shipped) => {
    expect(isShippedSecret(value)).toBe(shipped);
  });
});

describe('settings types', () => {
  it('are what the schema says', () => {
    const config: z.output<typeof settings> = loadConfig(settings, {});
    expect(typeof config.TIMEOUT_MS).toBe('number');
  });
});
