# syntax=docker/dockerfile:1
#
# The cfpb-mcp server image: one static-ish Rust binary on distroless, no shell,
# running as a non-root user. Built and run by docker-compose.yml beside it;
# see docs/tunnel.md. Needs a Docker engine with BuildKit (Docker 23 or newer).
#
# What is in the final image: /usr/local/bin/cfpb-mcp and /app/fixtures/complaints.json
# (the synthetic offline dataset; the binary embeds its own copy, this one is
# only there so that anyone can inspect what `CFPB_MCP_DATA=fixtures` serves).

ARG RUST_VERSION=1.95

# ---- build -------------------------------------------------------------------
FROM rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src

# The build context is only what the workspace needs to resolve and build:
# .dockerignore is an allow-list (workspace manifests, every member crate,
# fixtures), so .env, secrets/, target/ and .git never reach it. A new
# workspace member must be added there; tests/deploy/check-build-context.sh
# catches a missing one.
COPY . .

# --locked: build exactly the dependency versions in Cargo.lock.
# The cache mounts keep the crate registry and target/ between builds; the
# binary is copied out of the cache mount in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p cfpb-mcp-server --bin cfpb-mcp \
 && install -D -m 0755 target/release/cfpb-mcp /out/cfpb-mcp

# ---- runtime -----------------------------------------------------------------
# distroless/cc: glibc + libgcc + CA certificates, no shell, no package manager.
# Same Debian release (12, bookworm) as the builder, so the glibc matches.
FROM gcr.io/distroless/cc-debian12:nonroot

COPY --from=build /out/cfpb-mcp /usr/local/bin/cfpb-mcp
COPY fixtures/complaints.json /app/fixtures/complaints.json

# Listen on all interfaces *of this container's own network namespace*.
# This does not contradict NET-1 ("binds 127.0.0.1 by default; the tunnel is
# the only ingress"): inside a container, 127.0.0.1 would be unreachable even
# for cloudflared. docker-compose.yml publishes no host port (`expose` only),
# so port 8000 is reachable only from containers on the project's private
# Compose network (i.e. cloudflared) and from the Docker host itself; nothing
# outside the machine can connect. Outside a container the binary keeps its
# 127.0.0.1:8000 default.
ENV CFPB_MCP_BIND=0.0.0.0:8000
# glibc's per-thread cache of freed blocks holds 7 of each size by default;
# a tool's answer is built from a few hundred small strings and values, so
# most of its allocations missed that cache and went to the slower arena
# path. 256 per size: stateless tools/call +13-17 % req/s in the bench
# (bench/run.sh applies this same line; docs/performance.md), for at most a
# few MiB kept per thread after a burst (docs/operations.md). The image is
# glibc (distroless/cc-debian12), so the tunable applies.
ENV GLIBC_TUNABLES=glibc.malloc.tcache_count=256
EXPOSE 8000

# distroless "nonroot" user, numeric so that orchestrators can verify non-root.
USER 65532:65532
WORKDIR /app

# Exec form, no shell: `cfpb-mcp health` GETs http://127.0.0.1:8000/health
# (its default URL) and exits 0 iff the answer is 200 {"status":"ok"}.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/cfpb-mcp", "health"]

# SIGTERM (docker stop) starts a graceful shutdown bounded by
# CFPB_MCP_SHUTDOWN_GRACE_SECS (default 10); SIGHUP re-reads the keys file.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/cfpb-mcp"]
# `serve` is the default; `docker compose run --rm --no-deps -T server keygen`
# prints a fresh key without any local Rust toolchain.
CMD ["serve"]
