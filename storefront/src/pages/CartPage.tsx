import { Link, useNavigate } from 'react-router';
import { useMutation } from '@apollo/client/react';
import {
  checkoutAttemptKey,
  emptyCart,
  endCheckoutAttempt,
  MAX_QUANTITY,
  removeFromCart,
  setQuantity,
  useCart,
  type CartLine,
} from '../cart/cart';
import { ErrorNotice } from '../components/ErrorNotice';
import { ProductArt } from '../components/ProductArt';
import { EmptyState } from '../components/Status';
import { PlaceOrderDocument } from '../generated/graphql';
import { isTransient } from '../lib/errors';
import { formatMoney } from '../lib/format';
import { useTitle } from '../lib/use-title';
import { useViewer } from '../session/use-session';

export function CartPage() {
  useTitle('Cart');
  const { lines, attemptKey } = useCart();
  const { viewer, loading: viewerLoading } = useViewer();
  const navigate = useNavigate();
  const [placeOrder, { loading, error }] = useMutation(PlaceOrderDocument);

  if (lines.length === 0) {
    return (
      <EmptyState title="Your cart is empty">
        <p>Find something you like in the catalogue.</p>
        <Link to="/" className="button">
          Browse the catalogue
        </Link>
      </EmptyState>
    );
  }

  async function place() {
    if (!viewer) {
      navigate('/sign-in', { state: { from: '/cart' } });
      return;
    }
    const input = { items: lines.map(({ productId, quantity }) => ({ productId, quantity })), idempotencyKey: checkoutAttemptKey() };
    try {
      const { data } = await placeOrder({ variables: { input } });
      if (!data) return;
      emptyCart();
      navigate(`/orders/${data.placeOrder.order.id}`);
    } catch (failure) {
      // After a definite refusal the shopper changes something and tries anew; after an unknown outcome, placing
      // again repeats the key, so the router answers with the order it may already have placed.
      if (!isTransient(failure)) endCheckoutAttempt();
    }
  }

  const total = { amount: lines.reduce((sum, line) => sum + line.price.amount * line.quantity, 0), currency: lines[0]!.price.currency };
  return (
    <section>
      <h1>Cart</h1>
      <ul className="cart-lines" aria-label="Items in your cart">
        {lines.map((line) => (
          <CartItem key={line.productId} line={line} />
        ))}
      </ul>
      <div className="checkout">
        <p className="total">
          Estimated total <strong>{formatMoney(total)}</strong>
        </p>
        <p className="hint">Prices are confirmed when you place the order; you pay on the next page.</p>
        {error && <ErrorNotice error={error} />}
        {error && attemptKey && <p className="hint">Placing the order again is safe: it will not be placed twice.</p>}
        <button type="button" className="button-large" disabled={loading || viewerLoading} onClick={() => void place()}>
          {loading ? 'Placing your order…' : 'Place order'}
        </button>
        {!viewer && !viewerLoading && <p className="hint">You will be asked to sign in first.</p>}
      </div>
    </section>
  );
}

function CartItem({ line }: { line: CartLine }) {
  const { productId, name, price, quantity } = line;
  return (
    <li className="cart-line">
      <ProductArt name={name} />
      <div className="cart-line-name">
        <Link to={`/products/${productId}`}>{name}</Link>
        <span className="hint">{formatMoney(price)} each</span>
      </div>
      <label className="field-inline">
        <span className="visually-hidden">Quantity of {name}</span>
        <input
          type="number"
          min={1}
          max={MAX_QUANTITY}
          value={quantity}
          // A field being cleared to type a new number keeps the line as it is.
          onChange={(event) => event.target.valueAsNumber >= 1 && setQuantity(productId, event.target.valueAsNumber)}
        />
      </label>
      <span className="cart-line-total">{formatMoney({ ...price, amount: price.amount * quantity })}</span>
      <button type="button" className="button-link" onClick={() => removeFromCart(productId)} aria-label={`Remove ${name}`}>
        Remove
      </button>
    </li>
  );
}
