# udpvault daemon image. No compiler anywhere: zstd comes from node:zlib (WebAssembly on Node 20).
#   docker build -t udpvault .
#   docker run -d --name udpvault -p 11000:11000/udp -v udpvault-data:/data udpvault
#   docker exec udpvault udpvault id          # the key peers pass to --key
#   docker exec udpvault udpvault peer add 192.0.2.7:11000 --key KEY --name alice
#   docker run ... udpvault --log-level debug  # extra daemon flags are appended
# Settings: UDPVAULT_* environment variables (e.g. -e UDPVAULT_PORT=12000), see config/default.json.
# The home (/data: identity key, peer store, control socket) is a volume; a bind-mounted
# directory must be owned by uid 10001 with mode 0700. compose.yaml runs two daemons that talk.
ARG NODE_IMAGE=node:26-slim

# Build once: dev dependencies, TypeScript build, then only production dependencies are kept.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
# --ignore-scripts: "prepare" would build before the sources are here; the only dependency
# install script (msgpackr-extract, an optional accelerator) just looks for its prebuilt binary,
# which is loaded at run time without it.
RUN npm ci --ignore-scripts
COPY src ./src
COPY bin ./bin
COPY config ./config
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts \
 && rm -rf dist/bench dist/scripts

FROM ${NODE_IMAGE}
# tini as PID 1: forwards SIGTERM/SIGINT/SIGHUP to the daemon and reaps zombies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 udpvault \
 && useradd --system --uid 10001 --gid udpvault --home-dir /data --shell /usr/sbin/nologin udpvault \
 && mkdir -p /data && chown udpvault:udpvault /data && chmod 0700 /data
# Fixed glibc trim/mmap thresholds (read at process start): freed memory of handshake bursts goes
# back to the system instead of staying in glibc's arenas (~0.75 KB per peer; see the systemd unit).
ENV NODE_ENV=production \
    UDPVAULT_HOME=/data \
    MALLOC_TRIM_THRESHOLD_=131072 \
    MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/config ./config
COPY LICENSE README.md ./
RUN ln -s /app/dist/bin/udpvault.js /usr/local/bin/udpvault
USER udpvault
VOLUME ["/data"]
EXPOSE 11000/udp
# Healthy once the daemon answers on its control socket (exit 3 after 5 s otherwise).
HEALTHCHECK --interval=30s --timeout=10s --start-period=10s --retries=3 \
  CMD ["udpvault", "wait", "--timeout", "5", "--home", "/data"]
ENTRYPOINT ["/usr/bin/tini", "--", "udpvault", "daemon", "--home", "/data"]
