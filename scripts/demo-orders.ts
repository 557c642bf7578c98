/**
 * The demo customer's order history on a fresh start, placed through the router as a shopper would: one order
 * paid, one waiting for payment, one cancelled. Fixed idempotency keys make a second run place nothing new.
 */
export async function seedDemoOrders(routerUrl: string, customer: { email: string; password: string }): Promise<void> {
  const call = async <T>(query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> => {
    const response = await fetch(routerUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      body: JSON.stringify({ query, variables }),
    });
    const { data, errors } = (await response.json()) as { data?: T; errors?: { message: string }[] };
    if (errors?.length || !data) throw new Error(`demo orders: ${errors?.map((error) => error.message).join('; ') ?? response.status}`);
    return data;
  };
  const { login } = await call<{ login: { token: string } }>('mutation($input: LoginInput!) { login(input: $input) { token } }', {
    input: customer,
  });
  const { token } = login;
  const { me } = await call<{ me: { orders: { totalCount: number } } }>('{ me { orders(first: 1) { totalCount } } }', {}, token);
  if (me.orders.totalCount > 0) return;

  const { products } = await call<{ products: { edges: { node: { id: string } }[] } }>(
    '{ products(first: 3, filter: { inStock: true }, sort: PRICE_ASC) { edges { node { id } } } }',
  );
  const [first, second, third] = products.edges.map((edge) => edge.node.id);
  if (!first || !second || !third) return;
  const place = async (idempotencyKey: string, items: { productId: string; quantity: number }[]) =>
    (
      await call<{ placeOrder: { order: { id: string } } }>(
        'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id } } }',
        { input: { items, idempotencyKey } },
        token,
      )
    ).placeOrder.order.id;

  const paid = await place('demo-order-paid', [
    { productId: first, quantity: 1 },
    { productId: second, quantity: 2 },
  ]);
  await call(
    'mutation($input: PayOrderInput!) { payOrder(input: $input) { order { id } } }',
    { input: { orderId: paid, paymentToken: 'tok_visa' } },
    token,
  );
  const cancelled = await place('demo-order-cancelled', [{ productId: third, quantity: 1 }]);
  await call('mutation($id: ID!) { cancelOrder(id: $id) { order { id } } }', { id: cancelled }, token);
  await place('demo-order-pending', [{ productId: second, quantity: 1 }]);
}
