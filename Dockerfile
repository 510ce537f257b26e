# syntax=docker/dockerfile:1
# Compilers for native modules: better-sqlite3 downloads a prebuilt binary when it can and compiles
# SQLite from source when it cannot (no network to GitHub, another libc or architecture).
FROM node:20-bookworm-slim AS toolchain
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./

# Build stage: compile TypeScript with the dev dependencies.
FROM toolchain AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies alone, native modules built here so the runtime image needs no compiler.
FROM toolchain AS deps
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# Runtime stage: production dependencies and the compiled output only.
FROM node:20-bookworm-slim
# DATA_DIR holds the SQLite database of a single node (rosters, offline messages, accounts created at
# run time): mount a volume there, or it is lost with the container. Cluster nodes keep it in Redis.
ENV NODE_ENV=production HOST=0.0.0.0 PORT=5280 DATA_DIR=/app/data
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
# dist/ holds the compiled code (the schema migrations included) and the web client's page (npm run
# build copies src/web/static to dist/web/static); its Strophe.js bundle comes from node_modules
# (strophe.js is a runtime dependency).
COPY --from=build /app/dist ./dist
# The data directory belongs to the user the gateway runs as; declared after the chown so a new
# volume starts with that owner.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]
USER node
EXPOSE 5280
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||5280)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/main.js"]
