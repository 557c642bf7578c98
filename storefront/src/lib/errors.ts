import { CombinedGraphQLErrors, ServerError } from '@apollo/client';

/** The first error code the router gave, or undefined for an error that never reached GraphQL. */
export function errorCode(error: unknown): string | undefined {
  if (!CombinedGraphQLErrors.is(error)) return undefined;
  const code = error.errors.map((e) => e.extensions?.code).find((c) => typeof c === 'string');
  return code as string | undefined;
}

/** What to tell the shopper: the router's codes are for programs, so each one gets a sentence of its own. */
export function describeError(error: unknown): string {
  if (CombinedGraphQLErrors.is(error)) {
    const [first] = error.errors;
    switch (errorCode(error)) {
      case 'UNAUTHENTICATED':
        return 'Your session has ended. Please sign in again.';
      case 'FORBIDDEN':
        return 'Your account is not allowed to see or do this.';
      case 'NOT_FOUND':
        return 'We could not find what you were looking for.';
      case 'BAD_USER_INPUT':
        // The router words these for people, naming the field that is wrong.
        return `Please check what you entered: ${first?.message ?? 'a value is not valid'}.`;
      case 'EMAIL_TAKEN':
        return 'An account with this email already exists. Sign in instead, or use another email.';
      case 'INVALID_CREDENTIALS':
        return 'That email and password do not match an account.';
      case 'INSUFFICIENT_STOCK':
        return 'Sorry, we do not have enough stock for everything in your cart. Lower a quantity and try again.';
      case 'PAYMENT_DECLINED':
        return 'Your card was declined. The order is still waiting for payment: try another card.';
      case 'INVALID_STATE':
        return 'This order can no longer be changed: it has already been paid or cancelled.';
      case 'RATE_LIMITED': {
        const seconds = Number(first?.extensions?.retryAfter);
        return Number.isFinite(seconds) && seconds > 0
          ? `Too many attempts. Please wait ${seconds} ${seconds === 1 ? 'second' : 'seconds'} and try again.`
          : 'Too many attempts. Please wait a little and try again.';
      }
      case 'SERVICE_UNAVAILABLE':
        return 'Part of the shop is not answering right now. Please try again in a moment.';
    }
    return 'Something went wrong on our side. Please try again.';
  }
  if (ServerError.is(error) && error.statusCode >= 500) return 'The shop is having trouble right now. Please try again in a moment.';
  if (error instanceof TypeError) return 'We cannot reach the shop. Check your connection and try again.';
  return 'Something went wrong. Please try again.';
}

/**
 * The request failed on the way or in a service that could not finish: trying again may work, and a mutation may
 * have been carried out although no answer says so, so a retry repeats its idempotency key.
 */
export function isTransient(error: unknown): boolean {
  if (CombinedGraphQLErrors.is(error)) return errorCode(error) === 'SERVICE_UNAVAILABLE';
  return true;
}
