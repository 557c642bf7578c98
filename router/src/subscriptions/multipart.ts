import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GraphQLError, type FormattedExecutionResult } from 'graphql';
import type { ErrorFormatter, SubscriptionExecutor } from './executor.js';
import type { SubscriptionQuota } from './quota.js';
import { serialized } from './results.js';
import type { SubscriptionPayload, SubscriptionValidator } from './validate.js';

export interface MultipartOptions {
  executor: SubscriptionExecutor;
  validator: SubscriptionValidator;
  quota: SubscriptionQuota;
  formatError: ErrorFormatter;
  heartbeatMs: number;
}

/** Apollo's multipart subscription format, which Apollo Client's HttpLink reads. */
export const MULTIPART_CONTENT_TYPE = 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"';
/**
 * Each part is followed by its delimiter as it is written: a client knows a part is whole only when the next
 * delimiter arrives, so a part written without one would wait for the next heartbeat. The body opens with a
 * delimiter and closes with `--` after the last one.
 */
const FIRST_DELIMITER = '\r\n--graphql';
const part = (json: string) => `\r\ncontent-type: application/json; charset=utf-8\r\n\r\n${json}\r\n--graphql`;
const HEARTBEAT = part('{}');
const CLOSE_DELIMITER = '--\r\n';

const wantsMultipart = (accept: string | undefined) => /multipart\/mixed/i.test(accept ?? '') && /subscriptionSpec/i.test(accept ?? '');

/**
 * Multipart HTTP subscriptions (`Accept: multipart/mixed;subscriptionSpec="1.0"`) on POST /graphql, with the usual
 * Authorization header: a fastify preHandler that takes subscription operations before Apollo Server sees them and
 * leaves everything else to it. Each event is a part `{"payload":{"data":…,"errors":…}}`; `{}` parts are heartbeats
 * every SUBSCRIPTION_KEEPALIVE_MS; the response ends with the closing boundary when the stream completes. A
 * subscription refused before it starts (validation, limits) is answered as Apollo Server answers a bad query, in
 * application/graphql-response+json, which Apollo Client reads as GraphQL errors.
 */
export function multipartSubscriptions(options: MultipartOptions) {
  const { executor, validator, quota, formatError } = options;
  const refuse = (reply: FastifyReply, status: number, errors: readonly GraphQLError[]) =>
    reply
      .code(status)
      .type('application/graphql-response+json; charset=utf-8')
      .send({ errors: errors.map((error) => formatError(error)) });

  return async function multipartSubscription(request: FastifyRequest, reply: FastifyReply) {
    if (request.method !== 'POST') return;
    const payload = request.body as SubscriptionPayload | undefined;
    // Cheap test first: most requests are queries and never reach the parser here.
    if (!payload || typeof payload.query !== 'string' || !/\bsubscription\b/.test(payload.query)) return;
    const checked = validator.check(executor.internals().schema, payload);
    if (!checked.ok && checked.notSubscription) return;
    if (!wantsMultipart(request.headers.accept)) {
      return refuse(reply, 400, [
        new GraphQLError(
          'Subscriptions are served over graphql-ws (graphql-transport-ws) at this address, or over HTTP with Accept: multipart/mixed;subscriptionSpec="1.0"',
          { extensions: { code: 'BAD_REQUEST' } },
        ),
      ]);
    }
    if (!checked.ok) return refuse(reply, 400, checked.errors);
    const lease = quota.acquire(request.ip, 0);
    if (lease instanceof GraphQLError) return refuse(reply, 429, [lease]);

    const body = new PassThrough();
    let ended = false;
    const heartbeat = setInterval(() => body.write(HEARTBEAT), options.heartbeatMs);
    const finish = () => {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      lease();
    };
    const stop = executor.subscribe(
      {
        query: checked.query,
        document: checked.document,
        ...(checked.operationName && { operationName: checked.operationName }),
        variables: checked.variables,
        context: {
          requestId: request.id,
          ...(request.ip && { clientIp: request.ip }),
          ...(request.headers.authorization && { authorization: request.headers.authorization }),
        },
        group: request.id,
      },
      {
        next: (result: FormattedExecutionResult) => {
          if (!ended) body.write(part(`{"payload":${serialized(result)}}`));
        },
        complete: () => {
          if (ended) return;
          finish();
          body.end(CLOSE_DELIMITER);
        },
      },
    );
    // The client went away (or the request was aborted): the subscription ends with it.
    reply.raw.once('close', () => {
      if (ended) return;
      finish();
      stop();
      // The response never ended: without this its socket would stay half-open, and hold the server's close.
      body.destroy();
      reply.raw.destroy();
    });
    // The first part at once: headers and a heartbeat reach the client before the first event.
    body.write(FIRST_DELIMITER + HEARTBEAT);
    return reply.code(200).header('content-type', MULTIPART_CONTENT_TYPE).header('cache-control', 'no-cache').send(body);
  };
}
