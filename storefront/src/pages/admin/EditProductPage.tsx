import { useState, type FormEvent } from 'react';
import { Link, useLocation, useParams } from 'react-router';
import { useMutation, useQuery } from '@apollo/client/react';
import { ErrorNotice } from '../../components/ErrorNotice';
import { EmptyState, Loading } from '../../components/Status';
import { ProductPageDocument, RestockProductDocument, UpdateProductDocument } from '../../generated/graphql';
import { useTitle } from '../../lib/use-title';
import { ProductForm, type ProductFields } from './ProductForm';

export function EditProductPage() {
  const { id = '' } = useParams();
  const location = useLocation();
  const { data, error, refetch } = useQuery(ProductPageDocument, { variables: { id }, fetchPolicy: 'cache-and-network' });
  const product = data?.product;
  useTitle(product ? `Edit ${product.name}` : 'Edit product');
  const [update, updating] = useMutation(UpdateProductDocument);
  // "Product created." comes along from the new-product page.
  const [saved, setSaved] = useState((location.state as { saved?: string } | null)?.saved);

  if (error && !product) return <ErrorNotice error={error} onRetry={() => void refetch()} />;
  if (!data) return <Loading label="Loading the product…" />;
  if (!product) return <EmptyState title="This product does not exist" />;

  async function submit(input: ProductFields) {
    setSaved(undefined);
    const result = await update({ variables: { id, input } }).catch(() => null);
    if (result?.data) setSaved('Changes saved.');
  }

  return (
    <section className="narrow">
      <p className="breadcrumb">
        <Link to="/admin">Sales report</Link> / <Link to={`/products/${id}`}>View in the shop</Link>
      </p>
      <h1>Edit {product.name}</h1>
      <p className="hint">SKU {product.sku}</p>
      {saved && (
        <p className="notice notice-success" role="status">
          {saved}
        </p>
      )}
      <ProductForm initial={product} submitLabel="Save changes" busy={updating.loading} onSubmit={(fields) => void submit(fields)}>
        {updating.error && <ErrorNotice error={updating.error} />}
      </ProductForm>
      <Restock productId={id} stock={product.stock} />
    </section>
  );
}

function Restock({ productId, stock }: { productId: string; stock: number }) {
  const [restock, { loading, error, data }] = useMutation(RestockProductDocument);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const quantity = Number(new FormData(form).get('quantity'));
    restock({ variables: { id: productId, quantity } }).then(
      () => form.reset(),
      () => {},
    );
  }

  return (
    <form className="form restock" onSubmit={submit}>
      <h2>Stock</h2>
      <p>{stock} in stock</p>
      <label>
        Units to add
        <input name="quantity" type="number" required min={1} step={1} />
      </label>
      {error && <ErrorNotice error={error} />}
      {data && !loading && (
        <p className="notice notice-success" role="status">
          Restocked.
        </p>
      )}
      <button type="submit" disabled={loading}>
        Restock
      </button>
    </form>
  );
}
