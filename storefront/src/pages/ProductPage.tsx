import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useQuery, useSubscription } from '@apollo/client/react';
import { addToCart, MAX_QUANTITY } from '../cart/cart';
import { ErrorNotice } from '../components/ErrorNotice';
import { ProductArt } from '../components/ProductArt';
import { EmptyState, Loading } from '../components/Status';
import { ProductPageDocument, StockUpdatesDocument } from '../generated/graphql';
import { formatMoney } from '../lib/format';
import { useTitle } from '../lib/use-title';

export function ProductPage() {
  const { id = '' } = useParams();
  // Stock changes under the shopper's feet: show the cached product at once, then what the router says now.
  const { data, error, refetch } = useQuery(ProductPageDocument, { variables: { id }, fetchPolicy: 'cache-and-network' });
  // Then each change of its stock or price as it happens (another buyer's order, a restock): the event updates the
  // cached product, so the page shows it without a reload.
  useSubscription(StockUpdatesDocument, { variables: { ids: [id] }, skip: !id });
  const product = data?.product;
  useTitle(product?.name);
  const [quantity, setQuantity] = useState(1);
  const [added, setAdded] = useState(false);

  if (error && !product) return <ErrorNotice error={error} onRetry={() => void refetch()} />;
  if (!data) return <Loading label="Loading the product…" />;
  if (!product) {
    return (
      <EmptyState title="This product does not exist">
        <p>It may have been removed from the catalogue.</p>
        <Link to="/">Back to the catalogue</Link>
      </EmptyState>
    );
  }

  const { name, description, category, price, stock, inStock } = product;
  const add = () => {
    addToCart({ productId: id, name, price }, quantity);
    setAdded(true);
  };
  return (
    <article className="product">
      <ProductArt name={name} large />
      <div className="product-info">
        <p className="breadcrumb">
          <Link to="/">Catalogue</Link> / <Link to={`/?category=${encodeURIComponent(category)}`}>{category}</Link>
        </p>
        <h1>{name}</h1>
        <p className="price price-large">{formatMoney(price)}</p>
        <p className={inStock ? 'stock' : 'stock stock-out'}>{stock} in stock</p>
        <p className="description">{description}</p>
        <div className="buy">
          <label className="field-inline">
            Quantity
            <input
              type="number"
              min={1}
              max={Math.min(stock, MAX_QUANTITY)}
              value={quantity}
              disabled={!inStock}
              onChange={(event) => event.target.valueAsNumber >= 1 && setQuantity(Math.round(event.target.valueAsNumber))}
            />
          </label>
          <button type="button" disabled={!inStock || quantity > stock} onClick={add}>
            Add to cart
          </button>
        </div>
        <p role="status" className="added">
          {added && (
            <>
              Added to your cart. <Link to="/cart">Go to the cart</Link>
            </>
          )}
        </p>
        {error && <ErrorNotice error={error} onRetry={() => void refetch()} />}
        <p className="sku">SKU {product.sku}</p>
      </div>
    </article>
  );
}
