/**
 * The kit's logger, in a process of its own (pino writes straight to file descriptor 1): JSON lines, the
 * request id on what the service logger writes while serving a request, and secrets redacted.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const KIT = fileURLToPath(new URL('..', import.meta.url));

/** Runs `body` (an ES module with `logger` and `runInRequestScope` in scope) and returns its log lines. */
function logsOf(body: string): Record<string, unknown>[] {
  const script = `
    import { createLogger } from './src/logger.ts';
    import { runInRequestScope } from './src/request-context.ts';
    const logger = createLogger('probe');
    ${body}
  `;
  const stdout = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: KIT,
    env: { ...process.env, LOG_LEVEL: 'debug' },
    encoding: 'utf8',
  });
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('the kit logger', () => {
  it('puts the request id on what the service logger writes while serving that request, and only then', () => {
    const lines = logsOf(`
      const request = { id: 'req-7', log: logger.child({ reqId: 'req-7' }) };
      runInRequestScope(request, () => {
        logger.warn('from the service logger');
        request.log.info('from the request logger');
        logger.child({ component: 'other' }).info('from another child');
      });
      logger.info('outside any request');
    `);
    const byMessage = Object.fromEntries(lines.map((line) => [line.msg, line]));
    expect(byMessage['from the service logger']).toMatchObject({ name: 'probe', level: 40, reqId: 'req-7' });
    expect(byMessage['from the request logger']).toMatchObject({ reqId: 'req-7' });
    // One reqId key per line: the request logger's binding is not repeated by the service logger's mixin.
    expect(lines.map((line) => JSON.stringify(line).split('"reqId"').length - 1)).toEqual([1, 1, 0, 0]);
    expect(byMessage['outside any request']!.reqId).toBeUndefined();
  });

  it('never writes passwords, tokens, authorization headers, the router secret or GraphQL variables', () => {
    const [line] = logsOf(`
      logger.info({
        password: 'pw-top',
        token: 'tok-top',
        input: { password: 'pw-nested', token: 'tok-nested' },
        headers: { authorization: 'Bearer tok-header', 'x-router-secret': 'shh-1' },
        req: { headers: { authorization: 'Bearer tok-req', 'x-router-secret': 'shh-2' } },
        variables: { input: { email: 'someone@test.shop' } },
        orderId: 'order-1',
      }, 'everything at once');
    `);
    const text = JSON.stringify(line);
    for (const secret of ['pw-top', 'tok-top', 'pw-nested', 'tok-nested', 'tok-header', 'shh-1', 'tok-req', 'shh-2', 'someone@test.shop']) {
      expect(text).not.toContain(secret);
    }
    expect(line).toMatchObject({ orderId: 'order-1', password: '[redacted]', variables: '[redacted]' });
  });
});
