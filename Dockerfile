# udpvault daemon image.
#   docker build -t udpvault .
#   docker run -d --name udpvault -p 11000:11000/udp -v udpvault-data:/data udpvault
#   docker exec udpvault udpvault id          # the key peers pass to --key
#   docker exec udpvault udpvault peer add 192.0.2.7:11000 --key KEY --name alice
# The home (/data: identity key, peer store, control socket) is a volume; a bind-mounted
# directory must be owned by uid 10001 with mode 0700.

FROM node:20-slim AS build
# zstd-napi compiles libzstd at install time.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
# Only what the daemon needs (bench/ and scripts/ are not part of the image).
COPY src ./src
COPY bin ./bin
COPY config ./config
# npm ci runs "prepare" (the build) too; the explicit build keeps the step obvious.
RUN npm ci && npm run build && npm prune --omit=dev

FROM node:20-slim
ENV NODE_ENV=production \
    UDPVAULT_HOME=/data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/config ./config
COPY docs ./docs
RUN groupadd --system --gid 10001 udpvault \
 && useradd --system --uid 10001 --gid udpvault --home-dir /data --shell /usr/sbin/nologin udpvault \
 && mkdir -p /data && chown udpvault:udpvault /data && chmod 0700 /data \
 && ln -s /app/dist/bin/udpvault.js /usr/local/bin/udpvault
USER udpvault
VOLUME ["/data"]
EXPOSE 11000/udp
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s CMD ["udpvault", "status", "--home", "/data"]
# Extra flags are appended: docker run ... udpvault --log-level debug
ENTRYPOINT ["udpvault", "daemon", "--home", "/data"]
