import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery } from '@apollo/client/react';
import { ErrorNotice } from '../components/ErrorNotice';
import { OrderStatus } from '../components/OrderStatus';
import { Loading } from '../components/Status';
import { CancelOrderDocument, OrderDetailDocument, PayOrderDocument, type OrderDetailQuery } from '../generated/graphql';
import { formatDate, formatMoney, shortId } from '../lib/format';
import { useTitle } from '../lib/use-title';

type Order = NonNullable<OrderDetailQuery['order']>;

export function OrderPage() {
  const { id = '' } = useParams();
  // errorPolicy all: while the products or users service is down, the order still shows, without those details.
  const { data, error, refetch } = useQuery(OrderDetailDocument, {
    variables: { id },
    fetchPolicy: 'cache-and-network',
    errorPolicy: 'all',
  });
  const order = data?.order;
  useTitle(order ? `Order ${shortId(order.id)}` : 'Order');

  if (error && !order) return <ErrorNotice error={error} onRetry={() => void refetch()} />;
  if (!order) return <Loading label="Loading your order…" />;

  return (
    <section className="order">
      <p className="breadcrumb">
        <Link to="/orders">Your orders</Link>
      </p>
      <h1>
        Order {shortId(order.id)} <OrderStatus status={order.status} />
      </h1>
      <p className="hint">
        Placed {formatDate(order.createdAt)}
        {order.paidAt && <>, paid {formatDate(order.paidAt)}</>}
      </p>
      <OrderItems order={order} />
      {order.status === 'PENDING' && <Payment order={order} />}
      {order.status === 'PAID' && <p className="notice notice-success">Thank you! Your order is paid and on its way.</p>}
      {order.status === 'CANCELLED' && <p className="notice">This order was cancelled; its items went back on the shelf.</p>}
    </section>
  );
}

function OrderItems({ order }: { order: Order }) {
  return (
    <table className="lines">
      <caption className="visually-hidden">What you ordered</caption>
      <thead>
        <tr>
          <th scope="col">Product</th>
          <th scope="col">Quantity</th>
          <th scope="col">Price</th>
        </tr>
      </thead>
      <tbody>
        {order.items.map(({ product, quantity, unitPrice }, line) => (
          <tr key={product?.id ?? `line-${line}`}>
            <td>{product ? <Link to={`/products/${product.id}`}>{product.name}</Link> : <ProductUnavailable />}</td>
            <td>{quantity}</td>
            <td>{formatMoney({ ...unitPrice, amount: unitPrice.amount * quantity })}</td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <th scope="row" colSpan={2}>
            Total
          </th>
          <td>{formatMoney(order.total)}</td>
        </tr>
      </tfoot>
    </table>
  );
}

/** A line whose product the products service could not supply just now (it is null, with SERVICE_UNAVAILABLE). */
function ProductUnavailable() {
  return <span className="hint">Product details are unavailable right now</span>;
}

/** The sandbox payment provider's test cards. */
const TEST_CARDS = [
  { token: 'tok_visa', label: 'Test Visa, approved' },
  { token: 'tok_chargeDeclined', label: 'Test card, declined' },
] as const;

function Payment({ order }: { order: Order }) {
  const [card, setCard] = useState<string>(TEST_CARDS[0].token);
  const [pay, payment] = useMutation(PayOrderDocument);
  const [cancel, cancellation] = useMutation(CancelOrderDocument);
  const busy = payment.loading || cancellation.loading;

  function submit(event: FormEvent) {
    event.preventDefault();
    // The outcome is shown from each mutation's state; the order's new status arrives in the cache.
    pay({ variables: { input: { orderId: order.id, paymentToken: card } } }).catch(() => {});
  }

  return (
    <form className="payment" onSubmit={submit}>
      <fieldset>
        <legend>Pay with a test card</legend>
        {TEST_CARDS.map(({ token, label }) => (
          <label key={token} className="radio">
            <input type="radio" name="card" value={token} checked={card === token} onChange={() => setCard(token)} />
            {label} <code>{token}</code>
          </label>
        ))}
      </fieldset>
      {payment.error && <ErrorNotice error={payment.error} />}
      {cancellation.error && <ErrorNotice error={cancellation.error} />}
      <div className="actions">
        <button type="submit" className="button-large" disabled={busy}>
          {payment.loading ? 'Paying…' : `Pay ${formatMoney(order.total)}`}
        </button>
        <button
          type="button"
          className="button-secondary"
          disabled={busy}
          onClick={() => void cancel({ variables: { id: order.id } }).catch(() => {})}
        >
          Cancel order
        </button>
      </div>
    </form>
  );
}
