# Code4Py: the bot, with Python, pytest, coverage.py and bubblewrap for the sandbox.
#   docker build -t code4py .
#   docker run --env-file .env -p 3000:3000 \
#     --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
#     -v code4py-data:/data code4py
# The three --security-opt let bubblewrap make its sandbox inside the container (user namespaces, and a
# /proc of its own, which Docker's masked /proc paths forbid otherwise); docs/operations.md says why.
# compose.yaml runs it in Redis mode. The image serves no setup page (NODE_ENV=production): register the
# app first with `npm start` on a checkout, and give the container the .env it wrote.
FROM node:22-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund --ignore-scripts && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
COPY python ./python
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap python3 python3-pytest python3-coverage ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json app.yml ./
COPY python ./python
# Not root: the bot, and bubblewrap's sandbox under it, run as this user.
RUN useradd --create-home --uid 10001 code4py && mkdir -p /data && chown code4py /data
USER code4py
# HOST: every interface, so `-p 3000:3000` reaches the server (Probot's own default is localhost only).
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 CODE4PY_DB_PATH=/data/code4py.db
EXPOSE 3000
VOLUME /data
# /healthz: served by every role (a worker-only process has no /ping).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD curl -fsS "http://localhost:${PORT}/healthz" || exit 1
CMD ["node", "dist/src/main.js"]
