import { Link } from 'react-router';
import { useQuery } from '@apollo/client/react';
import { ErrorNotice } from '../../components/ErrorNotice';
import { EmptyState, Loading } from '../../components/Status';
import { SalesReportDocument } from '../../generated/graphql';
import { formatMoney } from '../../lib/format';
import { useTitle } from '../../lib/use-title';

/** The contract's SalesReport has no cursors, so the report covers the newest products up to the API's cap. */
const REPORTED_PRODUCTS = 100;

export function SalesReportPage() {
  useTitle('Sales report');
  const { data, error, refetch } = useQuery(SalesReportDocument, {
    variables: { first: REPORTED_PRODUCTS },
    fetchPolicy: 'cache-and-network',
  });
  const edges = data?.products.edges;

  return (
    <section>
      <div className="heading-row">
        <h1>Sales report</h1>
        <Link to="/admin/products/new" className="button">
          New product
        </Link>
      </div>
      <p className="hint">Paid orders only, for the {REPORTED_PRODUCTS} newest products.</p>
      {error && <ErrorNotice error={error} onRetry={() => void refetch()} />}
      {!edges && !error && <Loading label="Loading the sales report…" />}
      {edges?.length === 0 && <EmptyState title="The catalogue is empty" />}
      {edges && edges.length > 0 && (
        <div className="table-scroll">
          <table className="report">
            <thead>
              <tr>
                <th scope="col">Product</th>
                <th scope="col">SKU</th>
                <th scope="col">Units sold</th>
                <th scope="col">Orders</th>
                <th scope="col">Revenue</th>
              </tr>
            </thead>
            <tbody>
              {edges.map(({ node: { id, name, sku, sales } }) => (
                <tr key={id}>
                  <td>
                    <Link to={`/admin/products/${id}`} aria-label={`Edit ${name}`}>
                      {name}
                    </Link>
                  </td>
                  <td>{sku}</td>
                  <td>{sales?.unitsSold ?? '–'}</td>
                  <td>{sales?.orderCount ?? '–'}</td>
                  <td>{sales ? formatMoney(sales.revenue) : '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
