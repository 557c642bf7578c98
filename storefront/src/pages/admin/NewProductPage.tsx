import { Link, useNavigate } from 'react-router';
import { useMutation } from '@apollo/client/react';
import { ErrorNotice } from '../../components/ErrorNotice';
import { CreateProductDocument } from '../../generated/graphql';
import { useTitle } from '../../lib/use-title';
import { ProductForm, type ProductFields } from './ProductForm';

export function NewProductPage() {
  useTitle('New product');
  const navigate = useNavigate();
  const [create, { loading, error }] = useMutation(CreateProductDocument);

  async function submit(fields: ProductFields, form: FormData) {
    const input = { ...fields, sku: String(form.get('sku')).trim(), stock: Number(form.get('stock')) };
    const result = await create({ variables: { input } }).catch(() => null);
    if (result?.data) navigate(`/admin/products/${result.data.createProduct.product.id}`, { state: { saved: 'Product created.' } });
  }

  return (
    <section className="narrow">
      <p className="breadcrumb">
        <Link to="/admin">Sales report</Link>
      </p>
      <h1>New product</h1>
      <ProductForm
        submitLabel="Create product"
        busy={loading}
        onSubmit={(fields, form) => void submit(fields, form)}
        extra={
          <div className="field-row">
            <label>
              SKU
              <input name="sku" required maxLength={64} />
            </label>
            <label>
              Stock
              <input name="stock" type="number" required min={0} step={1} defaultValue={0} />
            </label>
          </div>
        }
      >
        {error && <ErrorNotice error={error} />}
      </ProductForm>
    </section>
  );
}
