-- Runs once, when the PostgreSQL container starts on an empty data volume
-- (docker-entrypoint-initdb.d), as POSTGRES_USER, which therefore owns these databases.
-- One database per subgraph: each subgraph owns its tables and applies its own migrations at start-up.
CREATE DATABASE shop_users;
CREATE DATABASE shop_products;
CREATE DATABASE shop_orders;
