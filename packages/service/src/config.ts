import path from 'node:path';
import { z } from 'zod';
import { SERVICES, type ServiceName } from './services.js';

export { z };

/**
 * Configuration comes from environment variables, and each service declares every variable it reads in one zod
 * schema (its `src/config.ts`), built from the parts below. The schema is checked as the process starts, so a bad
 * value stops the service at once with a message naming the variable, instead of failing a request later.
 */

/** The environment does not fit a service's settings; the message names every variable that is wrong. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** compose passes `${X:-}` as an empty string: empty and unset mean the same. */
const raw = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

function numberSetting(fallback: number | undefined, { min = 0, max = Number.MAX_SAFE_INTEGER, whole = true } = {}) {
  return raw.transform((value, context) => {
    if (value === undefined) return fallback as number;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || (whole && !Number.isInteger(parsed)) || parsed < min || parsed > max) {
      context.addIssue({ code: 'custom', message: `must be ${whole ? 'a whole number' : 'a number'} from ${min} to ${max}` });
      return z.NEVER;
    }
    return parsed;
  });
}

/** Builders for the kinds of value the shop's variables take. */
export const setting = {
  /** A whole number within bounds, or `fallback` when unset. */
  integer: (fallback: number, bounds: { min?: number; max?: number } = {}) => numberSetting(fallback, bounds),
  /** A number (fractions allowed) within bounds. */
  number: (fallback: number, bounds: { min?: number; max?: number } = {}) => numberSetting(fallback, { ...bounds, whole: false }),
  /** A TCP port, or undefined when unset (the service then falls back to its default). */
  port: () => numberSetting(undefined, { min: 0, max: 65_535 }) as unknown as z.ZodType<number | undefined, string | undefined>,
  /** `true` or `false`, or `fallback` when unset. */
  boolean: (fallback: boolean) =>
    raw.transform((value, context) => {
      if (value === undefined) return fallback;
      if (value === 'true' || value === 'false') return value === 'true';
      context.addIssue({ code: 'custom', message: 'must be true or false' });
      return z.NEVER;
    }),
  /** Free text, or `fallback` when unset. */
  text: <T extends string | undefined>(fallback: T) => raw.transform((value) => (value ?? fallback) as string | T),
  /** One of a few words. */
  oneOf: <T extends string>(values: readonly [T, ...T[]], fallback: T) =>
    raw.transform((value, context) => {
      if (value === undefined) return fallback;
      if ((values as readonly string[]).includes(value)) return value as T;
      context.addIssue({ code: 'custom', message: `must be one of ${values.join(', ')}` });
      return z.NEVER;
    }),
  /** A URL with one of the given protocols, or undefined when unset. */
  url: (protocols: string[]) =>
    raw.transform((value, context) => {
      if (value === undefined) return undefined;
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        context.addIssue({ code: 'custom', message: 'must be a URL' });
        return z.NEVER;
      }
      if (!protocols.includes(url.protocol.replace(/:$/, ''))) {
        context.addIssue({ code: 'custom', message: `must be a ${protocols.join(' or ')} URL` });
        return z.NEVER;
      }
      return value;
    }),
  /**
   * A secret: at least `minLength` characters when set; in production, required when `requiredInProduction`,
   * and never one of the values that ship in this repository.
   */
  secret: ({ minLength = 1, requiredInProduction = false } = {}) =>
    raw
      .refine((value) => value === undefined || value.length >= minLength, `must be at least ${minLength} characters`)
      .meta({
        secret: true,
        requiredInProduction,
      }),
  /** A comma-separated list, empty when unset. */
  list: () =>
    raw.transform((value) =>
      (value ?? '')
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    ),
};

/** Redis (redis:// or rediss://), shared by a service's replicas; its URL may hold a password, so it is a secret. */
export const redisUrlSetting = () => setting.url(['redis', 'rediss']).meta({ secret: true, requiredInProduction: false });

/**
 * Secrets that ship in this repository (docker-compose's local-only defaults, the Kubernetes placeholders, the
 * demo accounts). Anything matching them is fine on a laptop and refused in production.
 */
const SHIPPED_SECRET = /change-me|replace[-_]?me|local-only|^(admin|demo)-password$|^shop-local-password$/i;

/** The secret inside a value: a URL's password, or the value itself. */
function secretIn(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) return decodeURIComponent(url.password);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return '';
  } catch {
    // not a URL: the whole value is the secret
  }
  return value;
}

/** The repository's shipped secrets, refused in production (exported for the deployment checks). */
export function isShippedSecret(value: string): boolean {
  const secret = secretIn(value);
  return secret !== '' && SHIPPED_SECRET.test(secret);
}

/**
 * Checks `env` against a service's settings. Throws ConfigError naming every variable that is wrong; in
 * production also every secret that still has a value shipped in the repository.
 */
export function loadConfig<T extends z.ZodObject>(schema: T, env: NodeJS.ProcessEnv = process.env): z.output<T> {
  const problems: string[] = [];
  const result = schema.safeParse(env);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const name = issue.path.join('.');
      problems.push(`${name}=${JSON.stringify(env[name] ?? '')}: ${issue.message}`);
    }
  }
  if (env.NODE_ENV === 'production') {
    for (const [name, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
      const meta = field.meta() as { secret?: boolean; requiredInProduction?: boolean } | undefined;
      if (!meta?.secret) continue;
      const value = env[name]?.trim();
      if (!value && meta.requiredInProduction) problems.push(`${name}: is required when NODE_ENV=production`);
      if (value && isShippedSecret(value)) {
        problems.push(`${name}: holds a value that ships in this repository; set a secret of your own for production`);
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  return result.data!;
}

/** What was read for a schema, and the values of its variables then: read again only if they changed. */
const loaded = new WeakMap<z.ZodObject, { values: string; settings: unknown }>();

/**
 * Checks a service's whole schema as its process starts: on a bad value it prints what is wrong, naming each
 * variable, and exits 1. What it returns is what `readSettings` gives every part of the service afterwards.
 */
export function checkSettingsAtStart<T extends z.ZodObject>(service: string, schema: T): z.output<T> {
  try {
    return readSettings(schema);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${service} cannot start. ${error.message}`);
    process.exit(1);
  }
}

/**
 * The settings of one part of the process, checked once and remembered (until one of its variables changes, which
 * only tests do). A service checks its whole schema at
 * start (`startService`), so by the time a part reads its own, the values are known to be good.
 */
export function readSettings<T extends z.ZodObject>(schema: T): z.output<T> {
  const values = JSON.stringify(Object.keys(schema.shape).map((name) => process.env[name]));
  let known = loaded.get(schema);
  if (known?.values !== values) loaded.set(schema, (known = { values, settings: loadConfig(schema) }));
  return known.settings as z.output<T>;
}

/**
 * What every service reads: how it runs, logs, is traced and is measured. Its ports are its own
 * (`<NAME>_PORT`, `<NAME>_OPS_PORT`), declared in its config next to these.
 */
export const serviceSettings = z.object({
  NODE_ENV: setting.text('development'),
  /** The interface both ports listen on. */
  HOST: setting.text('0.0.0.0'),
  /** A port for the one service a process runs, when `<NAME>_PORT` is unset (a container's convention). */
  PORT: setting.port(),
  OPS_PORT: setting.port(),
  LOG_LEVEL: setting.oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
  /** Introspection and "did you mean" hints: on unless NODE_ENV=production. */
  INTROSPECTION: raw.transform((value, context) => {
    if (value === undefined || value === 'true' || value === 'false') return value === undefined ? undefined : value === 'true';
    context.addIssue({ code: 'custom', message: 'must be true or false' });
    return z.NEVER;
  }),
  /** Shared by the router and the subgraphs; subgraphs refuse requests without it. */
  ROUTER_SECRET: setting.secret({ minLength: 16 }),
  OTEL_EXPORTER_OTLP_ENDPOINT: setting.url(['http', 'https']),
  METRICS_MAX_OPERATION_NAMES: setting.integer(200, { min: 1, max: 100_000 }),
  /** How long a /ready answer is reused, so that frequent probes do not each check every dependency. */
  READINESS_CACHE_MS: setting.integer(1_000, { min: 0, max: 60_000 }),
  /** On SIGTERM, how long new requests get 503 (and /ready 503) before the port closes: the router's cue that this is a restart. */
  SHUTDOWN_NOTICE_MS: setting.integer(500, { min: 0, max: 5_000 }),
});

export type ServiceSettings = z.output<typeof serviceSettings>;

/** A service's own port settings (`USERS_PORT`, `USERS_OPS_PORT`), to declare in its schema. */
export function portSettings<N extends ServiceName>(name: N) {
  const upper = name.toUpperCase() as Uppercase<N>;
  return z.object({ [`${upper}_PORT`]: setting.port(), [`${upper}_OPS_PORT`]: setting.port() } as Record<
    `${Uppercase<N>}_PORT` | `${Uppercase<N>}_OPS_PORT`,
    ReturnType<typeof setting.port>
  >);
}

/** Where a service listens: its own variables, then `PORT` / `OPS_PORT` (one service per container), then its defaults. */
export function servicePorts(
  name: ServiceName,
  settings: Partial<Record<string, unknown>> & ServiceSettings,
): { port: number; opsPort: number } {
  const upper = name.toUpperCase();
  return {
    port: (settings[`${upper}_PORT`] as number | undefined) ?? settings.PORT ?? SERVICES[name].port,
    opsPort: (settings[`${upper}_OPS_PORT`] as number | undefined) ?? settings.OPS_PORT ?? SERVICES[name].opsPort,
  };
}

/** Where embedded databases and development keys live: `DATA_DIR`, else `.data` where npm was invoked. */
export function dataDir(): string {
  return path.resolve(process.env.DATA_DIR || path.join(process.env.INIT_CWD ?? process.cwd(), '.data'));
}

export const isProduction = process.env.NODE_ENV === 'production';
