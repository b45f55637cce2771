-- Only when missing: creating it takes a superuser, which an application role often is not
-- (src/db/migrate.ts checks first and says what a superuser must run).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') THEN
    CREATE EXTENSION vector;
  END IF;
END
$$;
