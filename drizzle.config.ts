import { defineConfig } from 'drizzle-kit';

// Used to generate SQL migrations from src/db/schema.ts (`npx drizzle-kit generate`).
// They are applied by drizzle's migrator from code (`npm run migrate`, and at start-up),
// because drizzle-kit's own migrate does not load pgvector into the embedded engine.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './migrations',
});
