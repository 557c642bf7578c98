/** The admin account the test stack is started with (ADMIN_EMAIL / ADMIN_PASSWORD). */
export const TEST_ADMIN = { email: 'admin@test.shop', password: 'admin-test-password' };
