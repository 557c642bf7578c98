import { Link } from 'react-router';
import { addToCart } from '../cart/cart';
import type { CatalogueQuery } from '../generated/graphql';
import { formatMoney } from '../lib/format';
import { ProductArt } from './ProductArt';

type Product = CatalogueQuery['products']['edges'][number]['node'];

export function ProductCard({ product }: { product: Product }) {
  const { id, name, price, category, inStock } = product;
  return (
    <article className="card">
      <ProductArt name={name} />
      <div className="card-body">
        <h2 className="card-title">
          <Link to={`/products/${id}`}>{name}</Link>
        </h2>
        <p className="card-meta">
          <Link to={`/?category=${encodeURIComponent(category)}`} className="tag">
            {category}
          </Link>
          {!inStock && <span className="sold-out">Sold out</span>}
        </p>
        <p className="price">{formatMoney(price)}</p>
        <button type="button" disabled={!inStock} onClick={() => addToCart({ productId: id, name, price })}>
          Add to cart
        </button>
      </div>
    </article>
  );
}
