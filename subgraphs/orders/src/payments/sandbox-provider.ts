import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { envInt } from '@shop/service';
import { sandboxCharges } from '../db/schema.js';
import type { OrdersDatabase } from '../db/orders-repository.js';

export type ChargeResult =
  { status: 'succeeded'; chargeId: string; createdAt: Date } | { status: 'declined'; reason: string } | { status: 'invalid_token' };

export interface ChargeRequest {
  /** One key per payment attempt of an order: asking again with it never charges twice. */
  idempotencyKey: string;
  amount: number;
  currency: string;
  token: string;
}

/** What a payment provider offers: an idempotent charge, and a look-up of a charge by its idempotency key. */
export interface PaymentProvider {
  charge(request: ChargeRequest): Promise<ChargeResult>;
  retrieve(idempotencyKey: string): Promise<ChargeResult | null>;
}

/** Thrown when the provider did not answer in time: the charge may or may not exist. */
export class PaymentTimeoutError extends Error {}

/**
 * A sandbox provider with the test tokens of real ones: `tok_visa` is approved, `tok_chargeDeclined` is
 * declined, and `tok_timeout` is charged but the answer is lost, the case that recovery has to settle.
 * `PAYMENT_LATENCY_MS` adds latency to every charge.
 */
export class SandboxPaymentProvider implements PaymentProvider {
  constructor(
    private readonly db: OrdersDatabase,
    private readonly latencyMs = envInt('PAYMENT_LATENCY_MS', 0),
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
    return row.status === 'succeeded'
      ? { status: 'succeeded', chargeId: row.chargeId, createdAt: row.createdAt }
      : { status: 'declined', reason: 'card_declined' };
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
