import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { settings } from '../config.js';
import { sandboxCharges } from '../db/schema.js';
import type { OrdersDatabase } from '../db/orders-repository.js';

export type ChargeResult =
  | { status: 'succeeded'; chargeId: string; createdAt: Date }
  | { status: 'declined'; reason: string }
  | { status: 'invalid_token' }
  /** No charge was made under the key, and none can be any more (see `closeAttempt`). */
  | { status: 'voided' }
  /** A charge was made under the key and given back. */
  | { status: 'refunded'; chargeId: string };

export interface ChargeRequest {
  /** One key per payment attempt of an order: asking again with it never charges twice. */
  idempotencyKey: string;
  amount: number;
  currency: string;
  token: string;
}

/**
 * What a payment provider offers: an idempotent charge, a look-up of a charge by its idempotency key, closing an
 * attempt (voiding a payment intent) so that a request still on its way can no longer charge under its key, and
 * a refund.
 */
export interface PaymentProvider {
  charge(request: ChargeRequest): Promise<ChargeResult>;
  retrieve(idempotencyKey: string): Promise<ChargeResult | null>;
  /** The outcome under the key if there is one; otherwise records `voided`, so a later charge with the key is refused. */
  closeAttempt(idempotencyKey: string): Promise<ChargeResult>;
  /** Gives a succeeded charge back; idempotent. */
  refund(idempotencyKey: string): Promise<ChargeResult | null>;
}

/** Thrown when the provider did not answer in time: the charge may or may not exist. */
export class PaymentTimeoutError extends Error {}

/**
 * A sandbox provider with the test tokens of real ones: `tok_visa` is approved, `tok_chargeDeclined` is
 * declined, and `tok_timeout` is charged but the answer is lost, the case that recovery has to settle.
 * `PAYMENT_LATENCY_MS` adds latency to every charge; like a remote provider, a charge goes on after its caller
 * stopped waiting, and lands unless its attempt was closed first.
 */
export class SandboxPaymentProvider implements PaymentProvider {
  constructor(
    private readonly db: OrdersDatabase,
    private readonly latencyMs = settings().PAYMENT_LATENCY_MS,
  ) {}

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    const previous = await this.retrieve(request.idempotencyKey);
    if (previous) return previous;
    const outcome = SandboxPaymentProvider.outcomeOf(request.token);
    if (outcome === 'invalid_token') return { status: 'invalid_token' };
    const status = outcome === 'declined' ? 'declined' : 'succeeded';
    await this.db
      .insert(sandboxCharges)
      .values({
        idempotencyKey: request.idempotencyKey,
        chargeId: `ch_${randomUUID()}`,
        amount: request.amount,
        currency: request.currency,
        status,
      })
      .onConflictDoNothing();
    const recorded = (await this.retrieve(request.idempotencyKey))!;
    if (outcome === 'timeout') throw new PaymentTimeoutError('payment provider timed out');
    return recorded;
  }

  async retrieve(idempotencyKey: string): Promise<ChargeResult | null> {
    const [row] = await this.db.select().from(sandboxCharges).where(eq(sandboxCharges.idempotencyKey, idempotencyKey));
    if (!row) return null;
    switch (row.status) {
      case 'succeeded':
        return { status: 'succeeded', chargeId: row.chargeId, createdAt: row.createdAt };
      case 'voided':
        return { status: 'voided' };
      case 'refunded':
        return { status: 'refunded', chargeId: row.chargeId };
      default:
        return { status: 'declined', reason: 'card_declined' };
    }
  }

  async closeAttempt(idempotencyKey: string): Promise<ChargeResult> {
    // The same row a charge would write: whichever comes first wins the key, the other finds it taken.
    await this.db
      .insert(sandboxCharges)
      .values({ idempotencyKey, chargeId: `void_${randomUUID()}`, amount: 0, currency: '', status: 'voided' })
      .onConflictDoNothing();
    return (await this.retrieve(idempotencyKey))!;
  }

  async refund(idempotencyKey: string): Promise<ChargeResult | null> {
    await this.db
      .update(sandboxCharges)
      .set({ status: 'refunded' })
      .where(and(eq(sandboxCharges.idempotencyKey, idempotencyKey), eq(sandboxCharges.status, 'succeeded')));
    return this.retrieve(idempotencyKey);
  }

  private static outcomeOf(token: string): 'approved' | 'declined' | 'timeout' | 'invalid_token' {
    switch (token) {
      case 'tok_visa':
        return 'approved';
      case 'tok_chargeDeclined':
        return 'declined';
      case 'tok_timeout':
        return 'timeout';
      default:
        return 'invalid_token';
    }
  }
}
