import type { FormEvent } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { useMutation } from '@apollo/client/react';
import { ErrorNotice } from '../components/ErrorNotice';
import { RegisterDocument } from '../generated/graphql';
import { useTitle } from '../lib/use-title';
import { signIn } from '../session/use-session';
import { useReturnTo } from './SignInPage';

export function RegisterPage() {
  useTitle('Create an account');
  const navigate = useNavigate();
  const location = useLocation();
  const returnTo = useReturnTo();
  const [register, { loading, error }] = useMutation(RegisterDocument);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const input = { name: String(form.get('name')), email: String(form.get('email')), password: String(form.get('password')) };
    const result = await register({ variables: { input } }).catch(() => null);
    if (!result?.data) return;
    await signIn(result.data.register.token);
    navigate(returnTo, { replace: true });
  }

  return (
    <section className="narrow">
      <h1>Create an account</h1>
      <form className="form" onSubmit={submit}>
        <label>
          Name
          <input name="name" autoComplete="name" required maxLength={200} />
        </label>
        <label>
          Email
          <input name="email" type="email" autoComplete="email" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="new-password" required minLength={8} aria-describedby="password-hint" />
        </label>
        <p id="password-hint" className="hint">
          At least 8 characters.
        </p>
        {error && <ErrorNotice error={error} />}
        <button type="submit" disabled={loading}>
          Create account
        </button>
      </form>
      <p>
        Have an account?{' '}
        <Link to="/sign-in" state={location.state}>
          Sign in
        </Link>
      </p>
    </section>
  );
}
