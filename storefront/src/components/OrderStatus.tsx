import type { OrderStatus as Status } from '../generated/graphql';

const MEANING: Record<Status, string> = {
  PENDING: 'waiting for payment',
  PAID: 'paid',
  CANCELLED: 'cancelled',
};

/** The status as the router names it, which is what shoppers see on receipts and support tickets. */
export function OrderStatus({ status }: { status: Status }) {
  return (
    <span className={`status status-${status.toLowerCase()}`} title={MEANING[status]}>
      {status}
    </span>
  );
}
