import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

/** NATS for the event tests: TEST_NATS_URL, or the one these machines run (.ci/run starts it). */
export const TEST_NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

export interface StreamEvent {
  /** The stream sequence. */
  seq: number;
  subject: string;
  /** The Nats-Msg-Id header. */
  msgId: string | undefined;
  /** When the stream stored it (ms since the epoch). */
  storedAt: number;
  event: { id: string; type: string; subject: string; time: string; source: string; specversion: string; data: any };
}

/**
 * Reads stream SHOP without disturbing anyone: the events of a test are those after the sequence it recorded at
 * its start (`lastSequence`), filtered by its own order and product ids. The stream is never purged and the
 * subjects are the contract's.
 */
export class StreamReader {
  private constructor(private readonly connection: NatsConnection) {}

  static async open(): Promise<StreamReader> {
    return new StreamReader(await connect({ servers: TEST_NATS_URL }));
  }

  /** The stream's last sequence now (0 when it does not exist yet). */
  async lastSequence(): Promise<number> {
    const manager = await jetstreamManager(this.connection);
    try {
      return (await manager.streams.info('SHOP')).state.last_seq;
    } catch {
      return 0;
    }
  }

  /** Every message stored after `afterSeq`, in stream order, up to the last one stored now. */
  async eventsAfter(afterSeq: number): Promise<StreamEvent[]> {
    const last = await this.lastSequence();
    if (last <= afterSeq) return [];
    const consumer = await jetstream(this.connection).consumers.get('SHOP', {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: afterSeq + 1,
    });
    const events: StreamEvent[] = [];
    const messages = await consumer.consume();
    for await (const message of messages) {
      events.push({
        seq: message.seq,
        subject: message.subject,
        msgId: message.headers?.get('Nats-Msg-Id'),
        storedAt: Math.round(message.info.timestampNanos / 1_000_000),
        event: message.json(),
      });
      if (message.seq >= last) break;
    }
    await messages.close();
    return events;
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

/** Whether NATS answers at TEST_NATS_URL. */
export async function natsAnswers(): Promise<boolean> {
  try {
    const connection = await connect({ servers: TEST_NATS_URL, timeout: 2_000, reconnect: false });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

/** The p-th percentile (0..100) of some numbers. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
