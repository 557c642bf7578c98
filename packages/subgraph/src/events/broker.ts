import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '@shop/service';
import type { CloudEvent } from './event.js';

/** The stream and subjects ../shared/contract/events.md fixes. */
export const STREAM = 'SHOP';
export const STREAM_SUBJECTS = ['shop.>'];
/** How long JetStream remembers a Nats-Msg-Id: a relay that republishes after a crash does so well within it. */
const DUPLICATE_WINDOW_NS = 2 * 60 * 1_000_000_000;

/**
 * NATS JetStream, at NATS_URL: the stream SHOP (created if missing), publishing with the event id as
 * Nats-Msg-Id, and following the stream from now on. Reconnects forever; while the broker is away the relay's
 * publishes fail and its rows wait in the outbox.
 */
export class Broker {
  private following = new Set<{ stop(): void }>();

  private constructor(
    readonly connection: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly logger: Logger,
  ) {}

  static async connect(url: string, name: string, logger: Logger): Promise<Broker> {
    const connection = await connect({
      servers: url.split(',').map((server) => server.trim()),
      name,
      maxReconnectAttempts: -1,
      waitOnFirstConnect: true,
    });
    const broker = new Broker(connection, jetstream(connection), logger);
    await broker.ensureStream();
    return broker;
  }

  /** Creates SHOP if it does not exist; an existing stream is left as its operators configured it. */
  async ensureStream(): Promise<void> {
    const manager = await jetstreamManager(this.connection);
    try {
      await manager.streams.info(STREAM);
    } catch {
      try {
        await manager.streams.add({ name: STREAM, subjects: STREAM_SUBJECTS, duplicate_window: DUPLICATE_WINDOW_NS });
        this.logger.info({ stream: STREAM }, 'created the JetStream stream');
      } catch (error) {
        // Another replica created it meanwhile.
        await manager.streams.info(STREAM).catch(() => {
          throw error;
        });
      }
    }
  }

  /**
   * Publishes events in order, each under its type as subject and its id as Nats-Msg-Id, and resolves when the
   * stream has stored every one. Sent back to back on one connection, so the stream stores them in this order.
   */
  async publish(events: CloudEvent[]): Promise<void> {
    await Promise.all(events.map((event) => this.js.publish(event.type, JSON.stringify(event), { msgID: event.id })));
  }

  /**
   * Hands every event published on `subjects` from now on to `onEvent`, in stream order, through an ordered
   * consumer (ephemeral, recreated by the client after a gap or a reconnect).
   */
  async follow(subjects: string, onEvent: (event: CloudEvent) => void): Promise<void> {
    const consumer = await this.js.consumers.get(STREAM, { filter_subjects: subjects, deliver_policy: DeliverPolicy.New });
    const messages = await consumer.consume();
    const handle = { stop: () => void messages.close() };
    this.following.add(handle);
    void (async () => {
      try {
        for await (const message of messages) {
          try {
            onEvent(message.json<CloudEvent>());
          } catch (error) {
            this.logger.warn({ err: error, subject: message.subject }, 'ignored a message that is not a CloudEvent');
          }
        }
      } catch (error) {
        this.logger.error({ err: error }, 'stopped following the event stream');
      } finally {
        this.following.delete(handle);
      }
    })();
  }

  /** Whether the connection is up: a readiness check. */
  ready(): true | string {
    if (this.connection.isClosed()) return 'the NATS connection is closed';
    return this.connection.info ? true : 'not connected to NATS';
  }

  async close(): Promise<void> {
    for (const handle of this.following) handle.stop();
    await this.connection.drain().catch(() => this.connection.close());
  }
}
