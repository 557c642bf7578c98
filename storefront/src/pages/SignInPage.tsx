import type { FormEvent } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { useMutation } from '@apollo/client/react';
import { ErrorNotice } from '../components/ErrorNotice';
import { LoginDocument } from '../generated/graphql';
import { useTitle } from '../lib/use-title';
import { signIn } from '../session/use-session';

/** Where to go once signed in: back to the page that asked for it, or the catalogue. */
export function useReturnTo(): string {
  const from = (useLocation().state as { from?: string } | null)?.from;
  return from?.startsWith('/') ? from : '/';
}

export function SignInPage() {
  useTitle('Sign in');
  const navigate = useNavigate();
  const location = useLocation();
  const returnTo = useReturnTo();
  const [login, { loading, error }] = useMutation(LoginDocument);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const input = { email: String(form.get('email')), password: String(form.get('password')) };
    // A refusal is shown from the mutation's error state.
    const result = await login({ variables: { input } }).catch(() => null);
    if (!result?.data) return;
    await signIn(result.data.login.token);
    navigate(returnTo, { replace: true });
  }

  return (
    <section className="narrow">
      <h1>Sign in</h1>
      <form className="form" onSubmit={submit}>
        <label>
          Email
          <input name="email" type="email" autoComplete="email" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        {error && <ErrorNotice error={error} />}
        <button type="submit" disabled={loading}>
          Sign in
        </button>
      </form>
      <p>
        New here?{' '}
        <Link to="/register" state={location.state}>
          Create an account
        </Link>
      </p>
    </section>
  );
}
