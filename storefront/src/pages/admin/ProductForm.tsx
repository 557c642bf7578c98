import type { FormEvent, ReactNode } from 'react';
import { toMinorUnits, toUnits, type Money } from '../../lib/format';

export interface ProductFields {
  name: string;
  description: string;
  category: string;
  price: Money;
}

/** The fields a product's create and update share; `extra` adds the create-only ones (sku, stock). */
export function ProductForm({
  initial,
  submitLabel,
  busy,
  onSubmit,
  extra,
  children,
}: {
  initial?: ProductFields;
  submitLabel: string;
  busy: boolean;
  onSubmit: (fields: ProductFields, form: FormData) => void;
  extra?: ReactNode;
  children?: ReactNode;
}) {
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const currency = String(form.get('currency')).trim().toUpperCase();
    onSubmit(
      {
        name: String(form.get('name')).trim(),
        description: String(form.get('description')).trim(),
        category: String(form.get('category')).trim(),
        price: { amount: toMinorUnits(Number(form.get('price')), currency), currency },
      },
      form,
    );
  }

  return (
    <form className="form" onSubmit={submit}>
      {extra}
      <label>
        Name
        <input name="name" required maxLength={200} defaultValue={initial?.name} />
      </label>
      <label>
        Description
        <textarea name="description" rows={4} maxLength={5000} defaultValue={initial?.description} />
      </label>
      <label>
        Category
        <input name="category" required maxLength={64} defaultValue={initial?.category} />
      </label>
      <div className="field-row">
        <label>
          Price
          <input name="price" type="number" required min={0} step="any" defaultValue={initial && toUnits(initial.price)} />
        </label>
        <label>
          Currency
          <input name="currency" required pattern="[A-Za-z]{3}" maxLength={3} defaultValue={initial?.price.currency ?? 'USD'} />
        </label>
      </div>
      {children}
      <button type="submit" disabled={busy}>
        {submitLabel}
      </button>
    </form>
  );
}
