import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

/** `DateTime`: ISO-8601 strings in UTC on the wire, `Date` in resolvers. */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime cannot represent an invalid date');
    return date.toISOString();
  },
  parseValue(value) {
    const date = typeof value === 'string' ? new Date(value) : new Date(NaN);
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string');
    return date;
  },
  parseLiteral(ast) {
    const date = ast.kind === Kind.STRING ? new Date(ast.value) : new Date(NaN);
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string');
    return date;
  },
});

/** `SafeInt`: whole numbers JSON and JavaScript represent exactly (up to 2^53-1 either way), as JSON numbers. */
export const SafeIntScalar = new GraphQLScalarType<number, number>({
  name: 'SafeInt',
  serialize(value) {
    const number = typeof value === 'bigint' ? Number(value) : typeof value === 'string' ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isSafeInteger(number)) throw new GraphQLError(`SafeInt cannot represent ${String(value)}`);
    return number;
  },
  parseValue(value) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value))
      throw new GraphQLError('SafeInt must be a whole number of at most 2^53-1');
    return value;
  },
  parseLiteral(ast) {
    const number = ast.kind === Kind.INT ? Number(ast.value) : NaN;
    if (!Number.isSafeInteger(number)) throw new GraphQLError('SafeInt must be a whole number of at most 2^53-1');
    return number;
  },
});
