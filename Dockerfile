# Code4Py: the bot, with Python, pytest, coverage.py and bubblewrap for the sandbox.
# bubblewrap needs user namespaces inside the container:
#   docker run --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
#     -e APP_ID -e PRIVATE_KEY -e WEBHOOK_SECRET -e OPENAI_API_KEY -p 3000:3000 code4py
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
RUN useradd --create-home --uid 10001 code4py && mkdir -p /data && chown code4py /data
USER code4py
ENV NODE_ENV=production PORT=3000 CODE4PY_DB_PATH=/data/code4py.db
EXPOSE 3000
VOLUME /data
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD curl -fsS http://localhost:3000/ping || exit 1
CMD ["node", "dist/src/main.js"]
