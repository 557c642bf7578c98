import { clientError } from '@shop/service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUIDs; anything else cannot name a row, so it is filtered out before it reaches SQL. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Trims a string and checks its length in characters; too short or too long is BAD_USER_INPUT. */
export function boundedText(field: string, value: string, min: number, max: number): string {
  const text = value.trim();
  if (text.length < min || text.length > max) {
    throw clientError('BAD_USER_INPUT', `${field} must be ${min} to ${max} characters`, { field });
  }
  return text;
}

export function positiveInt(field: string, value: number, max = 1_000_000): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw clientError('BAD_USER_INPUT', `${field} must be a whole number from 1 to ${max}`, { field });
  }
  return value;
}
