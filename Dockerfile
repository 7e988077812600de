# cmk-chatops: the built bot (node dist/main.js) with production dependencies only, as a non-root
# user. scripts/ci-production-start.sh runs the same steps without a container daemon (CI).
#   docker build -t cmk-chatops .
#   docker run -p 3978:3978 -e AZURE_MODE=azure -e AZURE_CLIENT_ID=… -e DATABASE_URL=… \
#     -e MicrosoftAppId=… -e MicrosoftAppTenantId=… -e MicrosoftAppPassword=… cmk-chatops
#   (Teams needs its app registration in production; a Slack-only bot sets TEAMS_ENABLED=false.)
# Configuration is the environment (.env.example lists every variable); see docs/operations.md.

# Node.js 24 LTS, supported until 2028-04-30 (Node 20 reached its end of life on 2026-04-30 and gets
# no more security fixes). scripts/ci-production-start.sh runs the production install on this major.
ARG NODE_MAJOR=24

# ---- build: all dependencies; compile src/ to dist/ (no simulator, no Slack stand-in) and create
# the empty database a new embedded-PGlite DATA_DIR starts from (initdb runs here, not in the bot) ----
FROM node:${NODE_MAJOR}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs scripts/build.mjs
COPY src src
RUN npm run build

# ---- production dependencies only ---------------------------------------------------------------
FROM node:${NODE_MAJOR}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime ------------------------------------------------------------------------------------
FROM node:${NODE_MAJOR}-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3978 \
    DATA_DIR=/app/.data
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
# Read at run time: the Adaptive Card templates and the policy (POLICY_FILE; mount your own).
COPY cards cards
COPY policy policy
# The image's `node` user (uid 1000), never root; it owns only DATA_DIR (embedded PGlite, if used).
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 3978
# Liveness: the process answers HTTP (node's own fetch: the slim image has no curl).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3978)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node as PID 1 receives SIGTERM itself: the bot finishes in-flight work and hands jobs back.
# V8's old generation is held to 256 MB, a quarter of the container's 1 GiB (what Node would derive
# from the cgroup limit, stated rather than inferred): without a bound V8 lets garbage pile up
# lazily, and a process on a large host grew past 350 MB RSS with a 60 MB live set. Its young
# generation's semi-spaces are held to 8 MB: Node 24's V8 sizes them far larger by default, and
# under load the heap stood at 220 MB against about 105 MB with 8 (docs/benchmarks.md).
# --liftoff-only keeps WebAssembly on V8's baseline compiler: with embedded PGlite, its optimizing
# compiler took the process to 600-780 MB for a moment at every start (218 MB with this flag), at the
# same latency; V8 lists the flag among its testing ones, and with PostgreSQL it changes nothing
# measurable (only Node's fetch parser is WebAssembly). The same flags are in `npm run start:prod`
# (test/unit/deploy-template.test.ts keeps the three in step; CI's production start runs them).
CMD ["node", "--max-old-space-size=256", "--max-semi-space-size=8", "--liftoff-only", "dist/main.js"]
