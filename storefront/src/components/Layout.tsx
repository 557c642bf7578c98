import { Link, NavLink, Outlet, useLocation } from 'react-router';
import { useCart } from '../cart/cart';
import { signOut, useSession, useViewer } from '../session/use-session';

export function Layout() {
  return (
    <>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="site-header">
        <div className="site-header-inner">
          <Link to="/" className="brand">
            Federated Shop
          </Link>
          <nav aria-label="Main">
            <AccountLinks />
            <CartLink />
          </nav>
        </div>
      </header>
      <SessionEndedNotice />
      <main id="main" className="page">
        <Outlet />
      </main>
      <footer className="site-footer">A demo shop on a federated GraphQL API. Pay with test cards only.</footer>
    </>
  );
}

function AccountLinks() {
  const { viewer, loading } = useViewer();
  const location = useLocation();
  if (loading) return null;
  if (!viewer) {
    // Back to this page once signed in.
    return (
      <NavLink to="/sign-in" state={{ from: location.pathname + location.search }}>
        Sign in
      </NavLink>
    );
  }
  return (
    <>
      {viewer.role === 'ADMIN' && <NavLink to="/admin">Admin</NavLink>}
      <NavLink to="/orders">Orders</NavLink>
      <span className="viewer-name">{viewer.name}</span>
      <button type="button" className="button-link" onClick={() => void signOut()}>
        Sign out
      </button>
    </>
  );
}

/** Named "Cart" for everyone; the count is its description, and is announced when it changes. */
function CartLink() {
  const units = useCart().lines.reduce((sum, line) => sum + line.quantity, 0);
  return (
    <>
      <NavLink to="/cart" className="cart-link" aria-describedby="cart-count">
        Cart
        {units > 0 && (
          <span className="badge" aria-hidden="true">
            {units}
          </span>
        )}
      </NavLink>
      <span id="cart-count" className="visually-hidden" aria-live="polite">
        {units === 1 ? '1 item' : `${units} items`}
      </span>
    </>
  );
}

function SessionEndedNotice() {
  const { ended } = useSession();
  if (!ended) return null;
  return (
    <div className="notice notice-error banner" role="alert">
      Your session has ended. Please <Link to="/sign-in">sign in again</Link>.
    </div>
  );
}
