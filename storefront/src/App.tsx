import { Link, Route, Routes } from 'react-router';
import { Layout } from './components/Layout';
import { RequireViewer } from './components/RequireViewer';
import { EmptyState } from './components/Status';
import { EditProductPage } from './pages/admin/EditProductPage';
import { NewProductPage } from './pages/admin/NewProductPage';
import { SalesReportPage } from './pages/admin/SalesReportPage';
import { CartPage } from './pages/CartPage';
import { CataloguePage } from './pages/CataloguePage';
import { OrderPage } from './pages/OrderPage';
import { OrdersPage } from './pages/OrdersPage';
import { ProductPage } from './pages/ProductPage';
import { RegisterPage } from './pages/RegisterPage';
import { SignInPage } from './pages/SignInPage';

export function App() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<CataloguePage />} />
        <Route path="products/:id" element={<ProductPage />} />
        <Route path="sign-in" element={<SignInPage />} />
        <Route path="register" element={<RegisterPage />} />
        <Route path="cart" element={<CartPage />} />
        <Route
          path="orders"
          element={
            <RequireViewer>
              <OrdersPage />
            </RequireViewer>
          }
        />
        <Route
          path="orders/:id"
          element={
            <RequireViewer>
              <OrderPage />
            </RequireViewer>
          }
        />
        <Route
          path="admin"
          element={
            <RequireViewer role="ADMIN">
              <SalesReportPage />
            </RequireViewer>
          }
        />
        <Route
          path="admin/products/new"
          element={
            <RequireViewer role="ADMIN">
              <NewProductPage />
            </RequireViewer>
          }
        />
        <Route
          path="admin/products/:id"
          element={
            <RequireViewer role="ADMIN">
              <EditProductPage />
            </RequireViewer>
          }
        />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}

function NotFound() {
  return (
    <EmptyState title="There is no page here">
      <Link to="/">Back to the catalogue</Link>
    </EmptyState>
  );
}
