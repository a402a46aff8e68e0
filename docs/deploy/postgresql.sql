-- Coulisses on PostgreSQL with the least privileges (docs/operator-guide.md, "PostgreSQL").
--
-- Two roles:
--   coulisses_owner  owns the database and its schema; only `coulisses db upgrade` (and backups,
--                    restores) connect as it: it creates and alters the tables.
--   coulisses_app    the web workers, `coulisses worker` and the periodic tasks: it reads and writes
--                    rows, and cannot create, alter or drop a table.
--
-- Run once, as a superuser, on the database server:
--   sudo -u postgres psql -v owner_password='…' -v app_password='…' -f postgresql.sql
-- (generate each password with: python3 -c 'import secrets; print(secrets.token_urlsafe(24))')

\set ON_ERROR_STOP on

CREATE ROLE coulisses_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE coulisses_app LOGIN PASSWORD :'app_password';

CREATE DATABASE coulisses OWNER coulisses_owner ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE coulisses FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE coulisses TO coulisses_app;

\connect coulisses

-- Only the owner creates objects; the application uses what the migrations created.
ALTER SCHEMA public OWNER TO coulisses_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO coulisses_app;

-- Every table and sequence the migrations create (now and in later upgrades) is usable by the app.
ALTER DEFAULT PRIVILEGES FOR ROLE coulisses_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO coulisses_app;
ALTER DEFAULT PRIVILEGES FOR ROLE coulisses_owner IN SCHEMA public
    GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO coulisses_app;
