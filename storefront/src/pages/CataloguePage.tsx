import { useEffect, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { NetworkStatus } from '@apollo/client';
import { useQuery } from '@apollo/client/react';
import { ErrorNotice } from '../components/ErrorNotice';
import { ProductCard } from '../components/ProductCard';
import { EmptyState } from '../components/Status';
import { CatalogueDocument, type ProductSort } from '../generated/graphql';
import { useTitle } from '../lib/use-title';

const PAGE_SIZE = 12;

const SORTS: Record<ProductSort, string> = {
  NEWEST: 'Newest',
  PRICE_ASC: 'Price: low to high',
  PRICE_DESC: 'Price: high to low',
  NAME: 'Name',
};
const isSort = (value: string | null): value is ProductSort => value !== null && value in SORTS;

/** The catalogue; what it shows lives in the URL (?search=&category=&sort=&inStock=), so it can be shared and go back. */
export function CataloguePage() {
  const [params, setParams] = useSearchParams();
  const search = params.get('search') ?? '';
  const category = params.get('category') ?? '';
  const sortParam = params.get('sort');
  const sort: ProductSort = isSort(sortParam) ? sortParam : 'NEWEST';
  const inStockOnly = params.get('inStock') === 'true';
  const heading = search ? `Results for “${search}”` : category ? capitalise(category) : 'All products';
  useTitle(heading);

  const filter = {
    ...(search && { search }),
    ...(category && { category }),
    ...(inStockOnly && { inStock: true }),
  };
  const { data, error, networkStatus, refetch, fetchMore } = useQuery(CatalogueDocument, {
    variables: { first: PAGE_SIZE, filter, sort },
    notifyOnNetworkStatusChange: true,
  });
  const products = data?.products;

  function update(changes: Record<string, string | null>) {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    setParams(next);
  }

  return (
    <>
      <SearchBar search={search} onSearch={(text) => update({ search: text.trim() || null })} />
      <div className="toolbar">
        <h1>{heading}</h1>
        <label className="field-inline">
          Sort by
          <select value={sort} onChange={(event) => update({ sort: event.target.value === 'NEWEST' ? null : event.target.value })}>
            {Object.entries(SORTS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label className="field-inline">
          <input type="checkbox" checked={inStockOnly} onChange={(event) => update({ inStock: event.target.checked ? 'true' : null })} />
          In stock only
        </label>
        {category && (
          <button
            type="button"
            className="chip"
            onClick={() => update({ category: null })}
            aria-label={`Remove the category filter ${category}`}
          >
            {category} <span aria-hidden="true">×</span>
          </button>
        )}
        {products && (
          <p className="result-count" role="status">
            {products.totalCount === 1 ? '1 product' : `${products.totalCount} products`}
          </p>
        )}
      </div>

      {error && <ErrorNotice error={error} onRetry={() => void refetch()} />}
      {!products && !error && <CatalogueSkeleton />}
      {products && products.edges.length === 0 && (
        <EmptyState title={search ? `Nothing matches “${search}”` : 'Nothing here yet'}>
          <p>Try other words, or look through everything we sell.</p>
          <Link to="/" className="button-secondary">
            Clear the filters
          </Link>
        </EmptyState>
      )}
      {products && products.edges.length > 0 && (
        <>
          <ul className="product-grid" aria-label="Products">
            {products.edges.map(({ node }) => (
              <li key={node.id}>
                <ProductCard product={node} />
              </li>
            ))}
          </ul>
          {products.pageInfo.hasNextPage && (
            <div className="more">
              <button
                type="button"
                className="button-secondary"
                disabled={networkStatus === NetworkStatus.fetchMore}
                onClick={() => void fetchMore({ variables: { after: products.pageInfo.endCursor } })}
              >
                {networkStatus === NetworkStatus.fetchMore ? 'Loading…' : 'Show more'}
              </button>
            </div>
          )}
        </>
      )}
    </>
  );
}

function SearchBar({ search, onSearch }: { search: string; onSearch: (text: string) => void }) {
  const [text, setText] = useState(search);
  useEffect(() => setText(search), [search]); // back and forward change the URL under the field
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSearch(text);
  };
  return (
    <form role="search" className="search" onSubmit={submit}>
      <label htmlFor="search">Search</label>
      <input
        id="search"
        type="text"
        enterKeyHint="search"
        placeholder="Search products"
        value={text}
        onChange={(event) => setText(event.target.value)}
        maxLength={100}
      />
      <button type="submit">Search</button>
    </form>
  );
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function CatalogueSkeleton() {
  return (
    <div role="status" aria-label="Loading products">
      <ul className="product-grid" aria-hidden="true">
        {Array.from({ length: 8 }, (_, i) => (
          <li key={i} className="card skeleton" />
        ))}
      </ul>
    </div>
  );
}
