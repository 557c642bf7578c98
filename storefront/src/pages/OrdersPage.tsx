import { Link } from 'react-router';
import { NetworkStatus } from '@apollo/client';
import { useQuery } from '@apollo/client/react';
import { ErrorNotice } from '../components/ErrorNotice';
import { OrderStatus } from '../components/OrderStatus';
import { EmptyState, Loading } from '../components/Status';
import { OrderHistoryDocument } from '../generated/graphql';
import { formatDate, formatMoney, shortId } from '../lib/format';
import { useTitle } from '../lib/use-title';

const PAGE_SIZE = 10;

export function OrdersPage() {
  useTitle('Your orders');
  const { data, error, refetch, fetchMore, networkStatus } = useQuery(OrderHistoryDocument, {
    variables: { first: PAGE_SIZE },
    fetchPolicy: 'cache-and-network',
    // While the products service is down, the orders still show (their products are null, with an error).
    errorPolicy: 'all',
    notifyOnNetworkStatusChange: true,
  });
  const orders = data?.me?.orders;

  if (error && !orders) return <ErrorNotice error={error} onRetry={() => void refetch()} />;
  if (!orders) return <Loading label="Loading your orders…" />;
  if (orders.edges.length === 0) {
    return (
      <EmptyState title="No orders yet">
        <p>What you buy shows here, newest first.</p>
        <Link to="/" className="button">
          Start shopping
        </Link>
      </EmptyState>
    );
  }

  return (
    <section>
      <h1>Your orders</h1>
      <ul className="orders">
        {orders.edges.map(({ node: order }) => {
          const units = order.items.reduce((sum, item) => sum + item.quantity, 0);
          return (
            <li key={order.id} className="order-row">
              <Link to={`/orders/${order.id}`} className="order-link">
                Order {shortId(order.id)}
              </Link>
              <OrderStatus status={order.status} />
              <span className="hint">{formatDate(order.createdAt)}</span>
              <span className="hint">
                {units === 1 ? '1 item' : `${units} items`}:{' '}
                {order.items.map((item) => item.product?.name ?? 'a product whose details are unavailable').join(', ')}
              </span>
              <strong className="order-total">{formatMoney(order.total)}</strong>
            </li>
          );
        })}
      </ul>
      {orders.pageInfo.hasNextPage && (
        <div className="more">
          <button
            type="button"
            className="button-secondary"
            disabled={networkStatus === NetworkStatus.fetchMore}
            onClick={() => void fetchMore({ variables: { after: orders.pageInfo.endCursor } })}
          >
            {networkStatus === NetworkStatus.fetchMore ? 'Loading…' : 'Show more'}
          </button>
        </div>
      )}
      <p className="hint">{orders.totalCount === 1 ? '1 order' : `${orders.totalCount} orders`} in all.</p>
    </section>
  );
}
