import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { useViewer, type Viewer } from '../session/use-session';
import { EmptyState, Loading } from './Status';

/** Shows its page to a signed-in account (with `role`, to that role only); sends anyone else to sign in first. */
export function RequireViewer({ role, children }: { role?: Viewer['role']; children: ReactNode }) {
  const { viewer, loading } = useViewer();
  const location = useLocation();
  if (loading) return <Loading label="Checking your account…" />;
  if (!viewer) return <Navigate to="/sign-in" replace state={{ from: location.pathname + location.search }} />;
  if (role && viewer.role !== role) {
    return (
      <EmptyState title="This page is not for your account">
        <p>Sign in with an account that may see it.</p>
      </EmptyState>
    );
  }
  return children;
}
